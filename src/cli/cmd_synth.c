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
#include "cli.h"

static const char *synth_help =
    "usage: agroflux synth DIR [--counties N] [--scenarios K] [--sites S] [--years Y1-Y2] [--seed S]\n"
    "                      [--no-pipeline]\n"
    "\n"
    "Writes a synthetic region in real formats under DIR: county polygons (GeoJSON,\n"
    "EPSG:4269), site_lists/, daily tables, and DIR/pipeline.ini that runs on them.\n"
    "Values follow the documented function in docs/formats.md, so every output cell can\n"
    "be checked. Defaults: 12 counties, 2 scenarios, 2 sites, years 2003-2004, seed 1.\n"
    "--no-pipeline writes the data only (for a hand-written pipeline such as pipelines/demo.ini).\n";

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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && !strcmp(a, "--counties")) { if (!parse_int(a, argv[++i], 1, 499, &v)) return AF_EXIT_USAGE; o.ncounties = (int)v; }
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
    af_error err = AF_ERROR_INIT;
    int rc = af_synth_write(dir, &o, &err);
    if (rc != AF_OK) { cli_report("synth", &err, 0); return cli_exit_code(rc); }
    printf("agroflux synth: wrote %d counties x %d scenarios, %d sites, %d-%d to %s; run: agroflux run %s/pipeline.ini\n",
           o.ncounties, o.nscenarios, o.nsites, o.year0, o.year1, dir, dir);
    return AF_EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs("usage: agroflux keys [--units]\n\nPrints every pipeline-file section and key, with type, default and meaning (Markdown);\nwith --units, the unit-conversion table instead.\n", stdout);
        return AF_EXIT_OK;
    }
    if (argc > 1 && !strcmp(argv[1], "--units")) af_units_print_markdown(stdout);
    else af_config_print_keys_markdown(stdout);
    return AF_EXIT_OK;
}
