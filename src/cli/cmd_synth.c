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
#include "agroflux/synth.h"
#include "agroflux/units.h"
#include "agroflux/stats.h"
#include "cli.h"

static const char *synth_help =
    "usage: agroflux synth DIR [--counties N] [--counties-from CSV] [--scenarios K] [--sites S]\n"
    "                      [--years Y1-Y2] [--seed S] [--no-pipeline]\n"
    "\n"
    "Writes a synthetic region in real formats under DIR: county polygons (counties.geojson,\n"
    "EPSG:4269), site_lists/, tables/, gridMET (gridmet/) and Daymet (daymet/) weather, soil/\n"
    "and cdl/ rasters, management (mgmt/), towers/, fluxnet/, chambers/, Ecosys (ecosys/) and\n"
    "DayCent (daycent/) runs, and three pipelines: DIR/pipeline.ini (the AgroFlux benchmark:\n"
    "11 inputs + RADN, 20 Ecosys targets for counties, tower and chamber targets for sites,\n"
    "[splits]), DIR/pipeline-daycent.ini (DayCent targets, Daymet weather) and\n"
    "DIR/pipeline-tables.ini (daily tables only). Values follow documented functions\n"
    "(docs/formats.md, \"Synth values\"), so every output cell can be checked.\n"
    "Defaults: 12 counties, 2 scenarios, 3 sites (leave-one-site-out needs 3), years 2002-2004, seed 1.\n"
    "--counties-from CSV takes county FIPS (column fips) and names (column name) from CSV in\n"
    "its row order, e.g. site_lists/agroflux_ecosys_99_counties.csv; with --counties N only\n"
    "its first N rows (default: every row). Polygons stay synthetic.\n"
    "--no-pipeline writes the data only (for a hand-written pipeline).\n";

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "agroflux synth: %s '%s': expected an integer in %ld..%ld\n", opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cmd_synth(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) { fputs(synth_help, stdout); return AF_EXIT_OK; }
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    const char *dir = NULL;
    long v;
    int counties_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && !strcmp(a, "--counties")) { if (!parse_int(a, argv[++i], 1, 499, &v)) return AF_EXIT_USAGE; o.ncounties = (int)v; counties_set = 1; }
        else if (i + 1 < argc && !strcmp(a, "--counties-from")) o.counties_from = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--scenarios")) { if (!parse_int(a, argv[++i], 1, 100, &v)) return AF_EXIT_USAGE; o.nscenarios = (int)v; }
        else if (i + 1 < argc && !strcmp(a, "--sites")) { if (!parse_int(a, argv[++i], 0, 99, &v)) return AF_EXIT_USAGE; o.nsites = (int)v; }
        else if (i + 1 < argc && !strcmp(a, "--seed")) { if (!parse_int(a, argv[++i], 0, 2147483647L, &v)) return AF_EXIT_USAGE; o.seed = (unsigned long)v; }
        else if (i + 1 < argc && !strcmp(a, "--years")) {
            int y0, y1;
            char tail;
            if (sscanf(argv[++i], "%d-%d%c", &y0, &y1, &tail) != 2) {
                fprintf(stderr, "agroflux synth: --years '%s': expected Y1-Y2, e.g. 2003-2004\n", argv[i]);
                return AF_EXIT_USAGE;
            }
            o.year0 = y0;
            o.year1 = y1;
        } else if (!strcmp(a, "--no-pipeline")) o.write_pipeline = 0;
        else if (a[0] != '-' && !dir) dir = a;
        else { fprintf(stderr, "agroflux synth: unexpected argument '%s'\n%s", a, synth_help); return AF_EXIT_USAGE; }
    }
    if (!dir) { fputs(synth_help, stderr); return AF_EXIT_USAGE; }
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

int cmd_keys(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs("usage: agroflux keys [--units | --bounds]\n\nPrints every pipeline-file section and key, with type, default and meaning (Markdown);\nwith --units, the unit-conversion table instead; with --bounds, the physical bounds that\n`inspect --stats` checks.\n", stdout);
        return AF_EXIT_OK;
    }
    if (argc > 1 && !strcmp(argv[1], "--units")) af_units_print_markdown(stdout);
    else if (argc > 1 && !strcmp(argv[1], "--bounds")) af_stats_print_bounds_markdown(stdout);
    else af_config_print_keys_markdown(stdout);
    return AF_EXIT_OK;
}
