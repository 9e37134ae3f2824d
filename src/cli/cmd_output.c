/* SPDX-License-Identifier: MIT */
/*
 * cmd_output.c: the commands that read a finished output directory:
 * `agroflux verify` (index against shards) and `agroflux inspect` (a summary,
 * one sample's daily series, or --stats (cmd_stats.c), optionally as CSV).
 * One process each.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_util.h"
#include "agroflux/index.h"
#include "cli.h"

enum { OPT_SAMPLE = 1, OPT_CSV, OPT_STATS };

static const cli_opt inspect_opts[] = {
    { OPT_SAMPLE, "sample", "ID", "print that sample's daily series (e.g. 19001:base or a site id)" },
    { OPT_STATS, "stats", NULL, "per variable x sample kind x year: valid %, valid and missing\n"
      "cells, min, mean, max and values outside the documented physical\n"
      "bounds (docs/formats.md, \"Physical bounds\")" },
    { OPT_CSV, "csv", NULL, "with --sample: CSV, a header date,<inputs...>,<targets...> and one\n"
      "row per day (ISO dates; empty field = missing); with --stats: the\n"
      "statistics as CSV (one row per variable, kind and year)" },
    { 0, NULL, NULL, NULL }
};

static int verify_main(const cli_command *cmd, const cli_args *a);
static int inspect_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_verify = {
    .name = "verify",
    .synopsis = "OUTDIR",
    .summary = "re-check index.json against the shards",
    .description =
        "Re-checks index.json against every shard: presence, byte size, SHA-256, NetCDF\n"
        "dimensions and sample ids. Exit 0 if all match, 3 with a precise message if not.\n"
        "One process.\n",
    .opts = NULL,
    .operands = "OUTDIR",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_ON_DEMAND,
    .run = verify_main,
};

const cli_command cli_cmd_inspect = {
    .name = "inspect",
    .synopsis = "OUTDIR [--sample ID | --stats] [--csv]",
    .summary = "a summary of an output, one sample's daily series, or statistics",
    .description =
        "Without --sample: a summary of the output (pipeline, calendar, inputs, targets, shards).\n"
        "With --sample ID: that sample's daily series (full variable names). With --stats:\n"
        "statistics per variable x sample kind x year. One process.\n",
    .opts = inspect_opts,
    .operands = "OUTDIR",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_ON_DEMAND,
    .run = inspect_main,
};

static int verify_main(const cli_command *cmd, const cli_args *a)
{
    (void)cmd;
    const char *dir = a->operand[0];
    af_error err = AF_ERROR_INIT;
    af_index idx;
    memset(&idx, 0, sizeof idx);
    size_t n = 0;
    int rc = af_index_read(dir, &idx, &err);
    /* the shards are read with PnetCDF (MPI_COMM_SELF) */
    if (rc == AF_OK && cli_mpi_start() != 0)
        rc = af_error_set(&err, AF_EIO, __FILE__, __LINE__, __func__, "MPI_Init failed");
    if (rc == AF_OK) rc = af_index_verify(dir, &idx, &n, &err);
    if (rc != AF_OK) {
        cli_report("verify", &err, 0);
        af_index_dispose(&idx);
        return cli_exit_code(rc);
    }
    printf("agroflux verify: %s: OK (%zu shards, %zu samples, %d days, %zu inputs, %zu targets)\n", dir, n,
           idx.nsamples, idx.ndays, idx.ninputs, idx.ntargets);
    af_index_dispose(&idx);
    return AF_EXIT_OK;
}

static void print_summary(const char *dir, const af_index *idx)
{
    char a[11], b[11];
    af_date_format(idx->start, a);
    af_date_format(idx->end, b);
    size_t ncounty = 0;
    for (size_t i = 0; i < idx->nsamples; i++) ncounty += idx->samples[i].kind == AF_SAMPLE_COUNTY;
    printf("output %s: pipeline %s (%s)\n", dir, idx->pipeline_name, idx->software);
    printf("  days: %s to %s, calendar %s: %d days\n", a, b, idx->calendar, idx->ndays);
    printf("  samples: %zu (%zu county x scenario, %zu site) in %zu shards (%s)\n", idx->nsamples, ncounty,
           idx->nsamples - ncounty, idx->nshards, idx->format);
    for (size_t i = 0; i < idx->ninputs; i++)
        printf("  input  %-16s %-16s from %s (%s)\n", idx->inputs[i].name, idx->inputs[i].units, idx->inputs[i].source,
               idx->inputs[i].source_units);
    for (size_t i = 0; i < idx->ntargets; i++)
        printf("  target %-16s %-16s from %s (%s)%s%s\n", idx->targets[i].name, idx->targets[i].units,
               idx->targets[i].source, idx->targets[i].source_units, idx->targets[i].sign[0] ? "; sign: " : "",
               idx->targets[i].sign);
    printf("  first samples:");
    for (size_t i = 0; i < idx->nsamples && i < 6; i++) printf(" %s", idx->samples[i].id);
    printf("%s\n", idx->nsamples > 6 ? " ..." : "");
    if (idx->has_coverage_warnings)
        printf("  coverage warnings: %lld files with no valid day, %lld missing years, %lld below "
               "coverage_min_fraction, %lld counties or sites with no coverage%s%s%s\n",
               idx->coverage_warnings[AF_COV_FILE_EMPTY], idx->coverage_warnings[AF_COV_YEAR_MISSING],
               idx->coverage_warnings[AF_COV_BELOW], idx->coverage_warnings[AF_COV_SAMPLE],
               idx->coverage_ref.path[0] ? " (" : "", idx->coverage_ref.path, idx->coverage_ref.path[0] ? ")" : "");
}

/* One value; in the table right-aligned to the column's width (its name, at least 8). */
static void put_cell(float v, int csv, int width)
{
    char buf[32];
    if (width < 8) width = 8;
    if (csv) {
        if (!isnan(v)) {
            af_format_float(v, buf, sizeof buf);
            fputs(buf, stdout);
        }
        return;
    }
    if (isnan(v)) snprintf(buf, sizeof buf, "-");
    else af_format_float(v, buf, sizeof buf);
    printf("%*s", width, buf);
}

static int inspect_main(const cli_command *cmd, const cli_args *a)
{
    const char *dir = a->operand[0], *sample = NULL;
    int csv = 0, stats = 0;
    for (size_t i = 0; i < a->nopts; i++) {
        switch (a->opt[i].opt->id) {
        case OPT_SAMPLE: sample = a->opt[i].value; break;
        case OPT_CSV: csv = 1; break;
        case OPT_STATS: stats = 1; break;
        }
    }
    if (stats && sample) return cli_usage_error(cmd, "--stats and --sample exclude each other");
    if (csv && !sample && !stats) return cli_usage_error(cmd, "--csv needs --sample ID or --stats");
    af_error err = AF_ERROR_INIT;
    af_index idx;
    memset(&idx, 0, sizeof idx);
    float *x = NULL, *y = NULL;
    int rc = af_index_read(dir, &idx, &err);
    if (rc != AF_OK) goto done;
    if (stats) {
        /* the shards are read with PnetCDF (MPI_COMM_SELF) */
        if (cli_mpi_start() != 0) { rc = af_error_set(&err, AF_EIO, __FILE__, __LINE__, __func__, "MPI_Init failed"); goto done; }
        rc = cli_print_stats(dir, &idx, csv, &err);
        goto done;
    }
    if (!sample) { print_summary(dir, &idx); goto done; }
    long s = af_index_find_sample(&idx, sample);
    if (s < 0) {
        rc = af_error_set(&err, AF_ENOTFOUND, __FILE__, __LINE__, __func__, "no sample '%s' in %s/index.json (e.g. '%s')",
                          sample, dir, idx.nsamples ? idx.samples[0].id : "");
        goto done;
    }
    size_t shard = (size_t)s / idx.shard_samples, row = (size_t)s % idx.shard_samples;
    char path[4600];
    snprintf(path, sizeof path, "%s/%s", dir, idx.shards[shard].path);
    size_t nd = (size_t)idx.ndays;
    x = malloc((nd * idx.ninputs + 1) * sizeof *x);
    y = malloc((nd * idx.ntargets + 1) * sizeof *y);
    if (!x || !y) { rc = af_error_set(&err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory"); goto done; }
    /* the shard is read with PnetCDF (MPI_COMM_SELF) */
    if (cli_mpi_start() != 0) { rc = af_error_set(&err, AF_EIO, __FILE__, __LINE__, __func__, "MPI_Init failed"); goto done; }
    rc = af_shard_read_row(path, row, x, NULL, y, NULL, NULL, &err);
    if (rc != AF_OK) goto done;
    const char *sep = csv ? "," : " ";
    printf(csv ? "date" : "%-10s", csv ? "" : "date");
    /* full names: a column is as wide as its name (at least 8) */
    for (size_t i = 0; i < idx.ninputs; i++) printf(csv ? "%s%s" : "%s%8s", sep, idx.inputs[i].name);
    for (size_t i = 0; i < idx.ntargets; i++) printf(csv ? "%s%s" : "%s%8s", sep, idx.targets[i].name);
    putchar('\n');
    af_calendar *cal = NULL;
    if (af_calendar_create(idx.start, idx.end, strcmp(idx.calendar, "noleap") ? AF_CAL_STANDARD : AF_CAL_NOLEAP, &cal, &err) != AF_OK) {
        rc = err.code;
        goto done;
    }
    for (size_t t = 0; t < nd; t++) {
        char ds[11];
        af_date_format(af_calendar_date(cal, (int)t), ds);
        fputs(ds, stdout);
        for (size_t i = 0; i < idx.ninputs; i++) {
            fputs(sep, stdout);
            put_cell(x[t * idx.ninputs + i], csv, (int)strlen(idx.inputs[i].name));
        }
        for (size_t i = 0; i < idx.ntargets; i++) {
            fputs(sep, stdout);
            put_cell(y[t * idx.ntargets + i], csv, (int)strlen(idx.targets[i].name));
        }
        putchar('\n');
    }
    af_calendar_destroy(&cal);
done:
    if (rc != AF_OK) cli_report("inspect", &err, 0);
    free(x);
    free(y);
    af_index_dispose(&idx);
    return cli_exit_code(rc);
}
