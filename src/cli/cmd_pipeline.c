/* SPDX-License-Identifier: MIT */
/*
 * cmd_pipeline.c: `agroflux run` (collective: every rank runs the pipeline;
 * rank 0 prints the summary and the per-stage timing table) and `agroflux
 * plan` (one process; prints what a run on N ranks would do).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agroflux/pipeline.h"
#include "cli.h"

static const char *run_help =
    "usage: agroflux run PIPELINE.ini [--output DIR]\n"
    "\n"
    "Runs the pipeline: samples are partitioned over the MPI ranks (mpirun -n K, srun),\n"
    "sources are read a block of days at a time, shards are written collectively and\n"
    "index.json is published last. A failed run publishes no index.\n"
    "  --output DIR   write here instead of [pipeline] output\n";

static const char *plan_help =
    "usage: agroflux plan PIPELINE.ini [--ranks N]\n"
    "\n"
    "Checks the pipeline file and every input it names without writing anything, and\n"
    "prints the samples, the partition over N ranks (default: this job's size), the\n"
    "shard count and the estimated output size.\n";

static void human_bytes(long long b, char *buf, size_t n)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int cmd_run(int argc, char **argv)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (cli_wants_help(argc, argv)) { if (rank == 0) fputs(run_help, stdout); return AF_EXIT_OK; }
    const char *pipeline = NULL;
    af_run_opts opts = { NULL };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--output") && i + 1 < argc) opts.output = argv[++i];
        else if (argv[i][0] != '-' && !pipeline) pipeline = argv[i];
        else {
            if (rank == 0) fprintf(stderr, "agroflux run: unexpected argument '%s'\n%s", argv[i], run_help);
            return AF_EXIT_USAGE;
        }
    }
    if (!pipeline) { if (rank == 0) fputs(run_help, stderr); return AF_EXIT_USAGE; }
    af_error err = AF_ERROR_INIT;
    af_run_summary s;
    int rc = af_pipeline_run(MPI_COMM_WORLD, pipeline, &opts, &s, &err);
    if (rc != AF_OK) { cli_report("run", &err, rank); return cli_exit_code(rc); }
    if (rank == 0) {
        char bytes[32], rss[32];
        human_bytes(s.bytes, bytes, sizeof bytes);
        human_bytes(s.peak_rss_bytes, rss, sizeof rss);
        printf("agroflux run: %s: %zu samples (%zu county x scenario, %zu site) x %d days, %zu inputs, %zu targets\n",
               s.name, s.nsamples, s.ncounty_samples, s.nsite_samples, s.ndays, s.ninputs, s.ntargets);
        printf("  output: %s/index.json (%zu shards, %s)\n", s.outdir, s.nshards, bytes);
        printf("  ranks: %d, wall %.2f s, peak memory %s per rank (max)\n", s.ranks, s.seconds, rss);
        printf("  %-10s %10s %10s %10s %8s\n", "stage", "min s", "mean s", "max s", "max/min");
        for (size_t i = 0; i < s.nstages; i++)
            printf("  %-10s %10.4f %10.4f %10.4f %8.2f\n", s.stages[i].stage, s.stages[i].min, s.stages[i].mean,
                   s.stages[i].max, s.stages[i].min > 0 ? s.stages[i].max / s.stages[i].min : 1.0);
    }
    return AF_EXIT_OK;
}

int cmd_plan(int argc, char **argv)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (cli_wants_help(argc, argv)) { fputs(plan_help, stdout); return AF_EXIT_OK; }
    const char *pipeline = NULL;
    int nranks = size;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ranks") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) { fprintf(stderr, "agroflux plan: --ranks '%s': expected a positive integer\n", argv[i]); return AF_EXIT_USAGE; }
            nranks = (int)v;
        } else if (argv[i][0] != '-' && !pipeline) pipeline = argv[i];
        else { fprintf(stderr, "agroflux plan: unexpected argument '%s'\n%s", argv[i], plan_help); return AF_EXIT_USAGE; }
    }
    if (!pipeline) { fputs(plan_help, stderr); return AF_EXIT_USAGE; }
    af_error err = AF_ERROR_INIT;
    af_plan p;
    int rc = af_pipeline_plan(pipeline, nranks, &p, &err);
    if (rc != AF_OK) { cli_report("plan", &err, 0); return cli_exit_code(rc); }
    char a[11], b[11], bytes[32];
    af_date_format(p.start, a);
    af_date_format(p.end, b);
    human_bytes(p.est_bytes, bytes, sizeof bytes);
    printf("pipeline %s: OK\n", p.name);
    printf("  days: %s to %s, calendar %s: %d days\n", a, b, p.calendar, p.ndays);
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
    af_plan_dispose(&p);
    return AF_EXIT_OK;
}
