/* SPDX-License-Identifier: MIT */
/*
 * cmd_synth.c: `agroflux synth` (write a synthetic raw-source tree and its
 * pipeline.ini) and `agroflux keys` (the pipeline-file key tables, the same
 * text docs/pipelines.md embeds). One process each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agroflux/config.h"
#include "agroflux/source.h"
#include "agroflux/synth.h"
#include "agroflux/units.h"
#include "agroflux/stats.h"
#include "cli.h"

enum { OPT_COUNTIES = 1, OPT_COUNTIES_FROM, OPT_SCENARIOS, OPT_SITES, OPT_YEARS, OPT_SEED, OPT_NO_PIPELINE, OPT_UNITS,
       OPT_BOUNDS };

static const cli_opt synth_opts[] = {
    { OPT_COUNTIES, "counties", "N", "number of counties, 1..499 (default 12; with --counties-from:\nits first N rows)" },
    { OPT_COUNTIES_FROM, "counties-from", "CSV", "take county FIPS (column fips) and names (column name) from\n"
      "CSV in its row order, e.g. site_lists/agroflux_ecosys_99_counties.csv\n(default: every row); polygons stay synthetic" },
    { OPT_SCENARIOS, "scenarios", "K", "management scenarios per county, 1..100 (default 2)" },
    { OPT_SITES, "sites", "S", "flux sites, 0..99 (default 3; leave-one-site-out needs 3)" },
    { OPT_YEARS, "years", "Y1-Y2", "the years to write (default 2002-2004)" },
    { OPT_SEED, "seed", "S", "random seed, 0..2147483647 (default 1)" },
    { OPT_NO_PIPELINE, "no-pipeline", NULL, "write the data only (for a hand-written pipeline)" },
    { 0, NULL, NULL, NULL }
};

static const cli_opt keys_opts[] = {
    { OPT_UNITS, "units", NULL, "print the unit-conversion table instead" },
    { OPT_BOUNDS, "bounds", NULL, "print the physical bounds `inspect --stats` checks instead" },
    { 0, NULL, NULL, NULL }
};

static int synth_main(const cli_command *cmd, const cli_args *a);
static int keys_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_synth = {
    .name = "synth",
    .synopsis = "DIR [--counties N] [--counties-from CSV] [--scenarios K] [--sites S]\n"
                "    [--years Y1-Y2] [--seed S] [--no-pipeline]",
    .summary = "write a synthetic raw-source tree + DIR/pipeline.ini",
    .description =
        "Writes a synthetic region in real formats under DIR: county polygons (counties.geojson,\n"
        "EPSG:4269), site_lists/, tables/, gridMET (gridmet/) and Daymet (daymet/) weather, soil/\n"
        "and cdl/ rasters, management (mgmt/), towers/, fluxnet/, chambers/, Ecosys (ecosys/) and\n"
        "DayCent (daycent/) runs, and three pipelines: DIR/pipeline.ini (the AgroFlux benchmark:\n"
        "11 inputs + RADN, 20 Ecosys targets for counties, tower and chamber targets for sites,\n"
        "[splits]), DIR/pipeline-daycent.ini (DayCent targets, Daymet weather) and\n"
        "DIR/pipeline-tables.ini (daily tables only). Values follow documented functions\n"
        "(docs/formats.md, \"Synth values\"), so every output cell can be checked. One process.\n",
    .opts = synth_opts,
    .operands = "DIR",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_NONE,
    .run = synth_main,
};

const cli_command cli_cmd_keys = {
    .name = "keys",
    .synopsis = "[--units | --bounds]",
    .summary = "print every pipeline-file key, or the units table (Markdown)",
    .description =
        "Prints every pipeline-file section and key, with type, default and meaning (Markdown,\n"
        "the text docs/pipelines.md embeds); with --units, the unit-conversion table instead; with\n"
        "--bounds, the physical bounds of `inspect --stats` (both embedded in docs/formats.md).\n",
    .opts = keys_opts,
    .operands = NULL,
    .min_operands = 0, .max_operands = 0,
    .mpi = CLI_MPI_NONE,
    .run = keys_main,
};

static int synth_main(const cli_command *cmd, const cli_args *a)
{
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    const char *dir = a->operand[0];
    long v;
    int counties_set = 0;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *opt = a->opt[i].opt;
        const char *val = a->opt[i].value;
        switch (opt->id) {
        case OPT_COUNTIES: if (!cli_value_long(cmd, opt, val, 1, 499, &v)) return AF_EXIT_USAGE; o.ncounties = (int)v; counties_set = 1; break;
        case OPT_COUNTIES_FROM: o.counties_from = val; break;
        case OPT_SCENARIOS: if (!cli_value_long(cmd, opt, val, 1, 100, &v)) return AF_EXIT_USAGE; o.nscenarios = (int)v; break;
        case OPT_SITES: if (!cli_value_long(cmd, opt, val, 0, 99, &v)) return AF_EXIT_USAGE; o.nsites = (int)v; break;
        case OPT_SEED: if (!cli_value_long(cmd, opt, val, 0, 2147483647L, &v)) return AF_EXIT_USAGE; o.seed = (unsigned long)v; break;
        case OPT_NO_PIPELINE: o.write_pipeline = 0; break;
        case OPT_YEARS: {
            int y0, y1;
            char tail;
            if (sscanf(val, "%d-%d%c", &y0, &y1, &tail) != 2)
                return cli_usage_error(cmd, "--years '%s': expected Y1-Y2, e.g. 2003-2004", val);
            o.year0 = y0;
            o.year1 = y1;
            break;
        }
        }
    }
    if (o.counties_from && !counties_set) o.ncounties = 0; /* every row of the list */
    af_error err = AF_ERROR_INIT;
    int rc = af_synth_write(dir, &o, &err);
    if (rc != AF_OK) { cli_report("synth", &err, 0); return cli_exit_code(rc); }
    char nc[64];
    if (o.ncounties) snprintf(nc, sizeof nc, "%d", o.ncounties);
    else snprintf(nc, sizeof nc, "all listed");
    printf("agroflux synth: wrote %s counties x %d scenarios, %d sites, %d-%d to %s; run: agroflux run %s/pipeline.ini\n",
           nc, o.nscenarios, o.nsites, o.year0, o.year1, dir, dir);
    return AF_EXIT_OK;
}

static int keys_main(const cli_command *cmd, const cli_args *a)
{
    int units = 0, bounds = 0;
    for (size_t i = 0; i < a->nopts; i++) {
        units |= a->opt[i].opt->id == OPT_UNITS;
        bounds |= a->opt[i].opt->id == OPT_BOUNDS;
    }
    if (units && bounds) return cli_usage_error(cmd, "--units and --bounds exclude each other");
    if (units) af_units_print_markdown(stdout);
    else if (bounds) af_stats_print_bounds_markdown(stdout);
    else {
        af_config_print_keys_markdown(stdout);
        af_source_print_keys_markdown(stdout);
    }
    return AF_EXIT_OK;
}
