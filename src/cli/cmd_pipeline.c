/* SPDX-License-Identifier: MIT */
/*
 * cmd_pipeline.c: `agroflux run` (collective: every rank runs the pipeline;
 * rank 0 shows progress and prints the summary, the per-stage timing table and
 * every rank's peak memory; SIGTERM/SIGINT/SIGUSR1 ask for a clean, resumable stop) and `agroflux
 * plan` (one process; prints what a run on N ranks would do).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <mpi.h>

#include "af_util.h"
#include "agroflux/pipeline.h"
#include "cli.h"

enum { OPT_SET = 1, OPT_OUTPUT, OPT_RESUME, OPT_PROGRESS, OPT_CHECKPOINT, OPT_RANKS, OPT_FORCE, OPT_LIST_FILES, OPT_STRICT };

#define SET_HELP "override or add one key of the pipeline file (repeatable),\n" \
                 "e.g. --set pipeline.data_root=/scratch/raw --set pipeline.end=2002-12-31;\n" \
                 "checked like the file, recorded in index.json and the config hash"

static const cli_opt run_opts[] = {
    { OPT_SET, "set", "SECTION.KEY=VALUE", SET_HELP },
    { OPT_OUTPUT, "output", "DIR", "write here instead of [pipeline] output" },
    { OPT_RESUME, "resume", NULL, "continue an interrupted run from DIR/journal.json (same\n"
      "pipeline file, any rank count); starts over, saying why,\nwhen the journal does not match" },
    { OPT_PROGRESS, "progress-interval", "SECONDS", "seconds between progress reports (default: 1 on a\n"
      "terminal, 10 otherwise; 0 = every block); also DIR/progress.json" },
    { OPT_CHECKPOINT, "checkpoint-interval", "SECONDS", "at most one checkpoint (flush + journal) per SECONDS\n"
      "(default 60; 0 = after every block); a stop always\ncheckpoints" },
    { OPT_FORCE, "force", NULL, "write into a non-empty DIR that agroflux did not create" },
    { OPT_STRICT, "strict", NULL, "a coverage warning (a file with no valid day, a missing year,\n"
      "a county or site with no coverage, a file-year below\n[pipeline] coverage_min_fraction) fails the run: "
      "nothing\nis published" },
    { 0, NULL, NULL, NULL }
};

static const cli_opt plan_opts[] = {
    { OPT_SET, "set", "SECTION.KEY=VALUE", "as for run (repeatable)" },
    { OPT_RANKS, "ranks", "N", "partition over N ranks (default: the size of the MPI job\n"
      "this process was started in by mpirun/srun, else 1)" },
    { OPT_LIST_FILES, "list-files", NULL, "instead, list every file the pipeline reads (present,\n"
      "missing or remote, with sizes and the URL it is fetched from),\nall at once; exit 1 when any is "
      "missing (`agroflux fetch`\ndownloads those with a URL)" },
    { 0, NULL, NULL, NULL }
};

static int run_main(const cli_command *cmd, const cli_args *a);
static int plan_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_run = {
    .name = "run",
    .synopsis = "PIPELINE.ini [--set SECTION.KEY=VALUE]... [--output DIR] [--resume]\n"
                "    [--progress-interval SECONDS] [--checkpoint-interval SECONDS] [--force] [--strict]",
    .summary = "run a pipeline (under mpirun/srun or as one process)",
    .description =
        "Runs the pipeline: samples are partitioned over the MPI ranks (mpirun -n K, srun),\n"
        "sources are read a block of days at a time, shards are written collectively and\n"
        "index.json is published last. A failed or interrupted run publishes no index.\n"
        "After every block the shards are flushed and DIR/journal.json records the days done.\n"
        "A rerun into a DIR holding a complete output writes DIR.agroflux-next and swaps it in\n"
        "only once its index is written: a failed rerun leaves the previous output published.\n"
        "SIGTERM, SIGINT or SIGUSR1 stop the run cleanly at the next block boundary: exit code 4,\n"
        "no index, resumable with --resume; a second SIGTERM or SIGINT kills it at once.\n"
        "Coverage accounting: DIR/coverage.json holds the valid sample-days per feature, source\n"
        "file, sample and year; files, years, counties or sites without valid data and file-years\n"
        "below [pipeline] coverage_min_fraction are warnings (errors with --strict).\n"
        "Ends with a per-stage timing and memory table.\n",
    .opts = run_opts,
    .operands = "PIPELINE.ini",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_ALWAYS,
    .run = run_main,
};

const cli_command cli_cmd_plan = {
    .name = "plan",
    .synopsis = "PIPELINE.ini [--set SECTION.KEY=VALUE]... [--ranks N] [--list-files]",
    .summary = "check everything, write nothing, show the partition",
    .description =
        "Checks the pipeline file and every input it names without writing anything, and\n"
        "prints the samples, the partition over N ranks, the shard count and the estimated\n"
        "output size. One process; needs no MPI.\n",
    .opts = plan_opts,
    .operands = "PIPELINE.ini",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_NONE,
    .run = plan_main,
};

static void human_bytes(long long b, char *buf, size_t n)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* Set by SIGTERM/SIGINT/SIGUSR1; the run stops at the next block boundary. */
static volatile sig_atomic_t g_stop = 0;

static void on_stop_signal(int sig)
{
    g_stop = 1;
    /* A second Ctrl-C or SIGTERM kills as usual: the flag is only read between blocks, and a block
     * spends its time inside GDAL/netCDF reads that cannot be interrupted (published names stay whole). */
    if (sig == SIGINT || sig == SIGTERM) signal(sig, SIG_DFL);
}

static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    /* A file size limit (ulimit -f, a batch system's RLIMIT_FSIZE) is a write error with a message
     * (EFBIG, then the lost-write check of the shards), not a kill that leaves no word of why. */
    signal(SIGXFSZ, SIG_IGN);
}

static void format_hms(double s, char *buf, size_t n)
{
    if (s < 0) { snprintf(buf, n, "?"); return; }
    long v = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

/* Rank 0's progress: a live \r line on a terminal, plain lines in a batch log. */
static void show_progress(const af_progress *p, void *payload)
{
    int tty = *(const int *)payload;
    char eta[32], el[32];
    format_hms(p->eta, eta, sizeof eta);
    format_hms(p->elapsed, el, sizeof el);
    double pct = p->ndays > 0 ? 100.0 * p->days_done / p->ndays : 0.0;
    char line[320];
    snprintf(line, sizeof line, "agroflux: %s %-7s days %d/%d x %zu samples (%.1f%%), %.3g sample-days/s, elapsed %s, ETA %s",
             p->state, p->stage, p->days_done, p->ndays, p->nsamples, pct, p->rate, el, eta);
    if (tty) {
        int end = strcmp(p->state, "running") != 0;
        fprintf(stderr, "\r%-110s%s", line, end ? "\n" : "");
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

/* Test-only hooks from the environment (documented in docs/hpc.md). */
static int read_test_hooks(af_run_opts *o)
{
    const char *f = getenv("AGROFLUX_TEST_FAIL_AT");
    const char *d = getenv("AGROFLUX_TEST_BLOCK_DELAY_MS");
    int b;
    char tail;
    if (f && *f) {
        if (sscanf(f, "write:block:%d%c", &b, &tail) == 1 && b >= 0) { o->test_fail = AF_TEST_FAIL_WRITE_BLOCK; o->test_fail_block = b; }
        else if (!strcmp(f, "sealed")) o->test_fail = AF_TEST_FAIL_SEALED;
        else return -1;
    }
    if (d && *d) o->test_block_delay_ms = atoi(d);
    return 0;
}

static void print_summary(const af_run_summary *s)
{
    char bytes[32], rss[32];
    human_bytes(s->bytes, bytes, sizeof bytes);
    human_bytes(s->peak_rss_bytes, rss, sizeof rss);
    printf("agroflux run: %s: %zu samples (%zu county x scenario, %zu site) x %d days, %zu inputs, %zu targets\n",
           s->name, s->nsamples, s->ncounty_samples, s->nsite_samples, s->ndays, s->ninputs, s->ntargets);
    printf("  output: %s/index.json (%zu shards, %s)\n", s->outdir, s->nshards, bytes);
    if (s->resumed_from_day > 0) printf("  resumed with %d of %d days already written\n", s->resumed_from_day, s->ndays);
    printf("  coverage warnings: %lld files with no valid day, %lld missing years, %lld below coverage_min_fraction, "
           "%lld counties or sites with no coverage (%s/%s)\n", s->coverage_warnings[AF_COV_FILE_EMPTY],
           s->coverage_warnings[AF_COV_YEAR_MISSING], s->coverage_warnings[AF_COV_BELOW],
           s->coverage_warnings[AF_COV_SAMPLE], s->outdir, AF_COVERAGE_NAME);
    printf("  ranks: %d, wall %.2f s, peak memory %s per rank (max)\n", s->ranks, s->seconds, rss);
    /* wall times end in an agreement, so they match over ranks; the CPU seconds show which rank
     * worked and which waited (max/min of CPU: the imbalance) */
    printf("  %-10s %10s %10s %10s %7s %10s %10s %8s\n", "stage", "min s", "mean s", "max s", "%wall", "CPU min s",
           "CPU max s", "max/min");
    for (size_t i = 0; i < s->nstages; i++) {
        const af_stage_time *t = &s->stages[i];
        printf("  %-10s %10.4f %10.4f %10.4f %6.1f%% %10.4f %10.4f %8.2f\n", t->stage, t->min, t->mean, t->max,
               s->seconds > 0 ? 100.0 * t->mean / s->seconds : 0.0, t->cpu_min, t->cpu_max,
               t->cpu_min > 0 ? t->cpu_max / t->cpu_min : 1.0);
    }
    if (!s->rank_peak_rss) return;
    printf("  %-10s %12s\n", "rank", "peak RSS");
    for (int r = 0; r < s->ranks; r++) {
        /* many ranks: the first 8, then only the largest */
        long long big = 0;
        int rbig = 0;
        if (r == 8 && s->ranks > 9) {
            for (int q = 8; q < s->ranks; q++) if (s->rank_peak_rss[q] > big) { big = s->rank_peak_rss[q]; rbig = q; }
            human_bytes(big, rss, sizeof rss);
            printf("  %-10s %12s  (largest of ranks 8..%d, rank %d)\n", "...", rss, s->ranks - 1, rbig);
            break;
        }
        human_bytes(s->rank_peak_rss[r], rss, sizeof rss);
        printf("  %-10d %12s\n", r, rss);
    }
}

/* The size of the MPI job this process belongs to, from the launcher's environment
 * (plan does not initialise MPI); 1 when not started by a launcher. */
static int launcher_size(void)
{
    static const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", NULL };
    for (const char **v = vars; *v; v++) {
        const char *s = getenv(*v);
        long n;
        if (s && af_parse_long(s, &n) && n >= 1 && n <= 1000000) return (int)n;
    }
    return 1;
}

static int run_main(const cli_command *cmd, const cli_args *a)
{
    int rank = cli_rank();
    af_run_opts opts = AF_RUN_OPTS_INIT;
    const char *sets[CLI_MAX_ARGS];
    size_t nsets = 0;
    int tty = isatty(2);
    opts.progress_interval = tty ? 1.0 : 10.0;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *o = a->opt[i].opt;
        const char *v = a->opt[i].value;
        switch (o->id) {
        case OPT_SET: sets[nsets++] = v; break;
        case OPT_OUTPUT: opts.output = v; break;
        case OPT_RESUME: opts.resume = 1; break;
        case OPT_FORCE: opts.force = 1; break;
        case OPT_STRICT: opts.strict = 1; break;
        case OPT_PROGRESS: if (!cli_value_double(cmd, o, v, 0, 1e9, &opts.progress_interval)) return AF_EXIT_USAGE; break;
        case OPT_CHECKPOINT: if (!cli_value_double(cmd, o, v, 0, 1e9, &opts.checkpoint_interval)) return AF_EXIT_USAGE; break;
        }
    }
    const char *pipeline = a->operand[0];
    if (read_test_hooks(&opts) != 0) {
        return cli_usage_error(cmd, "AGROFLUX_TEST_FAIL_AT: expected write:block:N or sealed");
    }
    install_stop_handlers();
    opts.stop_flag = &g_stop;
    opts.sets = sets;
    opts.nsets = nsets;
    if (rank == 0 && !cli_quiet) {
        opts.progress = show_progress;
        opts.progress_payload = &tty;
    }
    af_error err = AF_ERROR_INIT;
    af_run_summary s;
    int rc = af_pipeline_run(MPI_COMM_WORLD, pipeline, &opts, &s, &err);
    if (rc != AF_OK) cli_report("run", &err, rank);
    else if (rank == 0 && !cli_quiet) print_summary(&s);
    af_run_summary_dispose(&s);
    return rc != AF_OK ? cli_pipeline_exit_code(rc, &err, pipeline) : AF_EXIT_OK;
}

/* The per-rank memory estimate, with a --mem-per-cpu value (MiB, rounded up, 25% headroom) that
 * also covers rank 0's extra (Slurm gives every task the same limit). */
static void print_plan_memory(const af_plan *p)
{
    double mib = 1024.0 * 1024.0;
    printf("  memory per rank: about %.0f MiB (base %.0f, block buffers %.0f, %zu open shards %.0f, sources %.0f); "
           "sbatch --mem-per-cpu=%.0fM; rank 0 about %.0f MiB more (coverage.json)\n", p->mem_per_rank / mib,
           p->mem_base / mib, p->mem_block / mib, p->max_shards_per_rank, p->mem_shards / mib, p->mem_sources / mib,
           ceil((p->mem_per_rank + p->mem_rank0) * 1.25 / mib), p->mem_rank0 / mib);
}

static int plan_main(const cli_command *cmd, const cli_args *a)
{
    int nranks = launcher_size(), list_files = 0;
    const char *sets[CLI_MAX_ARGS];
    size_t nsets = 0;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *o = a->opt[i].opt;
        long v;
        switch (o->id) {
        case OPT_SET: sets[nsets++] = a->opt[i].value; break;
        case OPT_RANKS: if (!cli_value_long(cmd, o, a->opt[i].value, 1, 1000000, &v)) return AF_EXIT_USAGE; nranks = (int)v; break;
        case OPT_LIST_FILES: list_files = 1; break;
        }
    }
    const char *pipeline = a->operand[0];
    if (list_files) return cli_list_files(pipeline, sets, nsets);
    af_error err = AF_ERROR_INIT;
    af_plan p;
    int rc = af_pipeline_plan_sets(pipeline, sets, nsets, nranks, &p, &err);
    if (rc != AF_OK) { cli_report("plan", &err, 0); return cli_pipeline_exit_code(rc, &err, pipeline); }
    char d0[11], d1[11], bytes[32];
    af_date_format(p.start, d0);
    af_date_format(p.end, d1);
    human_bytes(p.est_bytes, bytes, sizeof bytes);
    printf("pipeline %s: OK\n", p.name);
    printf("  days: %s to %s, calendar %s: %d days\n", d0, d1, p.calendar, p.ndays);
    printf("  samples: %zu (%zu counties -> %zu county x scenario samples, %zu sites)\n", p.nsamples, p.ncounties,
           p.ncounty_samples, p.nsites);
    for (size_t i = 0; i < p.nfeatures; i++)
        printf("  %-6s %-16s source %-8s units %-16s files found: %zu\n", p.features[i].is_target ? "target" : "input",
               p.features[i].name, p.features[i].source, p.features[i].units, p.features[i].nfiles);
    printf("  partition over %d ranks:\n", p.nranks);
    for (int r = 0; r < p.nranks; r++)
        printf("    rank %d: samples [%zu, %zu) = %zu\n", r, p.ranges[r].begin, p.ranges[r].end, p.ranges[r].end - p.ranges[r].begin);
    printf("  shards: %zu of up to %zu samples\n", p.nshards, p.shard_samples);
    printf("  output: %s, about %s\n", p.outdir, bytes);
    print_plan_memory(&p);
    af_plan_dispose(&p);
    return AF_EXIT_OK;
}
