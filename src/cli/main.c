/* SPDX-License-Identifier: MIT */
/*
 * main.c: `agroflux` entry point. Initialises MPI (every subcommand works as a
 * single process; run is meant for mpirun/srun), installs the log sink
 * (stderr; rank 0 only below warnings), dispatches to a subcommand, and turns
 * its status into a documented exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>

#include "agroflux/log.h"
#include "cli.h"

int cli_debug = 0;
int cli_quiet = 0;
static int g_rank = 0;
static af_log_level g_level = AF_LOG_INFO;

static const char *usage =
    "usage: agroflux <command> [options]\n"
    "\n"
    "Regenerates the AgroFlux benchmark (daily C and N fluxes, US Corn Belt) from raw sources.\n"
    "\n"
    "commands:\n"
    "  run PIPELINE.ini [--set S.K=V]... [--output DIR] [--resume] [--progress-interval S]\n"
    "                                    run a pipeline (under mpirun/srun or as one process)\n"
    "  plan PIPELINE.ini [--set S.K=V]... [--ranks N] [--list-files]\n"
    "                                    check everything, write nothing, show the partition\n"
    "  fetch PIPELINE.ini [--set S.K=V]... [--dry-run] [--jobs N]\n"
    "                                    download the pipeline's missing raw files from its url keys\n"
    "  verify OUTDIR                     re-check index.json against the shards\n"
    "  inspect OUTDIR [--sample ID] [--csv]  one sample's daily series, or a summary\n"
    "  synth DIR [--counties N] [--counties-from CSV] [--scenarios K] [--sites S] [--years Y1-Y2]\n"
    "                                    write a synthetic raw-source tree + DIR/pipeline.ini\n"
    "  export OUTDIR --layout agroflux DEST  write the AgroFlux training arrays (.npy), scaled leak-free\n"
    "  keys [--units]                    print every pipeline-file key, or the units table (Markdown)\n"
    "\n"
    "global options: -v (more log), -q (errors only), --debug (error frames)\n"
    "exit codes: 0 ok, 1 failure, 2 usage or pipeline-file error, 3 verify mismatch,\n"
    "            4 interrupted (resumable)\n"
    "`agroflux <command> --help` describes each command.\n";

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

void cli_report(const char *cmd, const af_error *err, int rank)
{
    if (rank != 0) return;
    char buf[8192];
    af_error_format(err, cli_debug, buf, sizeof buf);
    if (err->rank > 0) fprintf(stderr, "agroflux %s: %s (on rank %d)\n", cmd, buf, err->rank);
    else fprintf(stderr, "agroflux %s: %s\n", cmd, buf);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    af_log_level level = AF_LOG_INFO;
    /* Strip global options wherever they appear. */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) level = AF_LOG_DEBUG;
        else if (!strcmp(argv[i], "-q")) { level = AF_LOG_ERROR; cli_quiet = 1; }
        else if (!strcmp(argv[i], "--debug")) cli_debug = 1;
        else argv[n++] = argv[i];
    }
    argc = n;
    argv[argc] = NULL;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? AF_EXIT_USAGE : AF_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) { printf("agroflux %s\n", AF_VERSION); return 0; }
    static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
        { "run", cmd_run }, { "plan", cmd_plan }, { "verify", cmd_verify },
        { "inspect", cmd_inspect }, { "synth", cmd_synth }, { "keys", cmd_keys },
        { "export", cmd_export }, { "fetch", cmd_fetch },
    };
    int (*fn)(int, char **) = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) fn = cmds[i].fn;
    if (!fn) {
        fprintf(stderr, "agroflux: unknown command '%s'\n\n%s", argv[1], usage);
        return AF_EXIT_USAGE;
    }
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    af_log_set_sink(sink, level, NULL);
    g_level = level;
    CPLSetErrorHandler(gdal_handler);
    int code = fn(argc - 1, argv + 1);
    MPI_Finalize();
    return code;
}
