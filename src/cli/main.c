/* SPDX-License-Identifier: MIT */
/*
 * main.c: `agroflux` entry point. Reads the global options before the command
 * name, finds the command (the list below), parses its options (usage errors
 * never start MPI), initialises MPI only for the commands that need it (run
 * and export always; verify and inspect when they
 * read shards with PnetCDF; keys, plan, synth and help never, so they start
 * without forking the MPI runtime), installs the log sink (stderr; rank 0 only
 * below warnings), runs the command and turns its status into a documented
 * exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#include <mpi.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "agroflux/log.h"
#include "cli.h"

int cli_debug = 0;
int cli_quiet = 0;
static int g_rank = 0;
static int g_mpi = 0; /* 1 once this process called MPI_Init */
static af_log_level g_level = AF_LOG_INFO;

/* Every command, in the order `agroflux --help` lists them. A new command: one line here. */
static const cli_command *const commands[] = {
    &cli_cmd_run, &cli_cmd_plan, &cli_cmd_fetch, &cli_cmd_verify, &cli_cmd_inspect, &cli_cmd_synth, &cli_cmd_export,
    &cli_cmd_keys, &cli_cmd_report, NULL
};

static void print_usage(FILE *fp)
{
    fputs("usage: agroflux [-v|-q|--debug] <command> [options]\n"
          "       agroflux help <command>   (or agroflux <command> --help)\n"
          "\n"
          "Regenerates the AgroFlux benchmark (daily C and N fluxes, US Corn Belt) from raw sources.\n"
          "\ncommands:\n", fp);
    for (const cli_command *const *c = commands; *c; c++)
        fprintf(fp, "  %-8s %-26s %s\n", (*c)->name, (*c)->operands ? (*c)->operands : "", (*c)->summary);
    fputs("  help     [COMMAND]                  this text, or a command's --help\n"
          "\n"
          "global options: -v/--verbose (more log), -q/--quiet (errors only), --debug (error frames),\n"
          "                --version, -h/--help\n"
          "exit codes: 0 ok, 1 failure, 2 usage or pipeline-file error, 3 verify mismatch,\n"
          "            4 interrupted (resumable)\n"
          "`agroflux help <command>` describes each command and all its options.\n", fp);
}

static void sink(af_log_level level, const char *module, const char *msg, void *payload)
{
    (void)payload;
    static const char *names[] = { "error", "warning", "info", "debug" };
    if (level > g_level || (level >= AF_LOG_INFO && g_rank != 0)) return;
    fprintf(stderr, "agroflux[%d] %s: %s: %s\n", g_rank, names[level], module, msg);
}

/* GDAL reports through CPLError; route it into our sink so ranks do not each print raw GDAL text.
 * Failures still reach the user through af_error (modules read CPLGetLastErrorMsg). */
static void gdal_handler(CPLErr cls, CPLErrorNum num, const char *msg)
{
    (void)num;
    sink(cls >= CE_Failure ? AF_LOG_DEBUG : cls == CE_Warning ? AF_LOG_WARN : AF_LOG_DEBUG, "gdal", msg, NULL);
}

void cli_set_verbosity(int verbose, int quiet)
{
    if (verbose) g_level = AF_LOG_DEBUG;
    if (quiet) { g_level = AF_LOG_ERROR; cli_quiet = 1; }
    af_log_set_sink(sink, g_level, NULL);
}

int cli_rank(void) { return g_rank; }

int cli_mpi_start(void)
{
    if (g_mpi) return 0;
    af_mpi_init_defaults(); /* before MPI_Init: no lock-test file beside every shard (error.h) */
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return -1;
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return 0;
}

int cli_exit_code(int status)
{
    switch (status) {
    case AF_OK: return AF_EXIT_OK;
    case AF_ECONFIG: case AF_EINVAL: return AF_EXIT_USAGE;
    case AF_EVERIFY: return AF_EXIT_VERIFY;
    case AF_EINTERRUPTED: return AF_EXIT_INTERRUPTED;
    default: return AF_EXIT_FAILURE;
    }
}

int cli_pipeline_exit_code(int status, const af_error *err, const char *pipeline)
{
    size_t n = strlen(pipeline);
    const char *m = err->msg;
    int located = !strncmp(m, "--set '", 7);
    if (!strncmp(m, pipeline, n) && m[n] == ':' && m[n + 1] >= '0' && m[n + 1] <= '9') located = 1;
    int named = status == AF_ENOTFOUND || status == AF_EUNITS || status == AF_EIO || status == AF_EGDAL;
    return located && named ? AF_EXIT_USAGE : cli_exit_code(status);
}

void cli_report(const char *cmd, const af_error *err, int rank)
{
    if (rank != 0) return;
    char buf[8192];
    af_error_format(err, cli_debug, buf, sizeof buf);
    if (err->rank > 0) fprintf(stderr, "agroflux %s: %s (on rank %d)\n", cmd, buf, err->rank);
    else fprintf(stderr, "agroflux %s: %s\n", cmd, buf);
}

static const cli_command *find_command(const char *name)
{
    for (const cli_command *const *c = commands; *c; c++)
        if (!strcmp((*c)->name, name)) return *c;
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "agroflux: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return AF_EXIT_USAGE;
}

/* `agroflux help [COMMAND]` */
static int help_command(int argc, char **argv)
{
    if (argc < 3) { print_usage(stdout); return AF_EXIT_OK; }
    if (argc > 3) { fprintf(stderr, "agroflux help: unexpected argument '%s'\n", argv[3]); return AF_EXIT_USAGE; }
    const cli_command *cmd = find_command(argv[2]);
    if (!cmd) return unknown_command(argv[2]);
    cli_print_help(cmd, stdout);
    return AF_EXIT_OK;
}

/* 1 if a launcher (mpirun, srun) started this process as part of an MPI job. */
static int under_launcher(void)
{
    static const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", NULL };
    for (const char **v = vars; *v; v++)
        if (getenv(*v)) return 1;
    return 0;
}

static int run_command(const cli_command *cmd, int argc, char **argv)
{
    cli_args *args = malloc(sizeof *args);
    if (!args) { fprintf(stderr, "agroflux: out of memory\n"); return AF_EXIT_FAILURE; }
    /* Under a launcher, a collective command starts MPI first, so that only rank 0 reports a
     * usage error and every rank leaves through MPI_Finalize; alone, it parses first, and a
     * usage error costs no MPI start. */
    int collective = cmd->mpi == CLI_MPI_ALWAYS;
    int code = -1, mpi_failed = 0;
    if (collective && under_launcher()) mpi_failed = cli_mpi_start() != 0;
    if (!mpi_failed) code = cli_parse(cmd, argc, argv, args);
    if (code < 0 && collective) mpi_failed = cli_mpi_start() != 0;
    if (mpi_failed) {
        fprintf(stderr, "agroflux %s: MPI_Init failed\n", cmd->name);
        code = AF_EXIT_FAILURE;
    }
    if (code < 0) code = cmd->run(cmd, args);
    free(args);
    return code;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* glibc raises its mmap threshold to the size of each large block freed, after which blocks of
     * that size (netCDF chunks being decoded, pieces of a block) come from the heap and fragment
     * it: peak RSS grew ~2 MiB per simulated year (bench_scale). A fixed threshold (glibc's initial
     * 128 KiB) keeps them mapped and returned at free: 1.23x -> 1.09x from 1 to 16 years. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    af_log_set_sink(sink, g_level, NULL);
    CPLSetErrorHandler(gdal_handler);
    /* global options before the command name */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) cli_set_verbosity(1, 0);
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) cli_set_verbosity(0, 1);
        else if (!strcmp(a, "--debug")) cli_debug = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { print_usage(stdout); return AF_EXIT_OK; }
        else if (!strcmp(a, "--version")) { printf("agroflux %s\n", AF_VERSION); return AF_EXIT_OK; }
        else {
            fprintf(stderr, "agroflux: unknown option '%s' (global options: -v, -q, --debug, --version, --help)\n", a);
            return AF_EXIT_USAGE;
        }
    }
    if (i >= argc) { print_usage(stderr); return AF_EXIT_USAGE; }
    argc -= i - 1;
    argv += i - 1; /* argv[1] is the command name */
    if (!strcmp(argv[1], "help")) return help_command(argc, argv);
    const cli_command *cmd = find_command(argv[1]);
    if (!cmd) return unknown_command(argv[1]);
    int code = run_command(cmd, argc - 1, argv + 1);
    if (g_mpi) MPI_Finalize();
    return code;
}
