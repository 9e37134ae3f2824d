/* SPDX-License-Identifier: MIT */
/*
 * mgmt_prep.c: writes the input tree of the management end-to-end test
 * (test_mgmt_e2e.py): the synth counties, sites and tables from af_synth_write
 * (write_pipeline = 0), the synth management files (synth_mgmt.h), and a
 * pipeline.ini whose scenarios come from [scenario.N%03d] sections and whose
 * inputs include every management variable. Usage: mgmt_prep DIR NCOUNTIES NSCENARIOS NSITES
 */
#include <stdio.h>
#include <stdlib.h>

#include "agroflux/synth.h"
#include "synth_mgmt.h"

static const char features[] =
    "[input.TMAX_AIR]\nsource = table\npath = tables/weather_{year}.csv\ncolumn = tmax\nsource_units = K\n"
    "units = degC\nmatch = county\n\n"
    "[input.FERTZR_N]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\npath = mgmt/planting_{year}.csv\n"
    "events = mgmt/fertilizer_sites.csv\n\n"
    "[input.PDOY]\nsource = management\nvariable = planting_flag\nunits = flag\npath = mgmt/planting_{year}.csv\n\n"
    "[input.HARV]\nsource = management\nvariable = harvest_flag\nunits = flag\npath = mgmt/planting_{year}.csv\n\n"
    "[input.PLANTT]\nsource = management\nvariable = crop\nunits = class\npath = mgmt/planting_{year}.csv\n\n"
    "[input.PDOY_STATE]\nsource = management\nvariable = planting_flag\nunits = flag\n"
    "path = mgmt/state_planting_{year}.csv\nmatch = state\napplies_to = counties\n\n"
    "[target.GPP]\nsource = table\npath = tables/targets.csv\ncolumn = gpp\nsource_units = g C m-2 d-1\n"
    "units = g C m-2 d-1\nmissing =\n";

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: mgmt_prep DIR NCOUNTIES NSCENARIOS NSITES\n");
        return 2;
    }
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    o.ncounties = atoi(argv[2]);
    o.nscenarios = atoi(argv[3]);
    o.nsites = atoi(argv[4]);
    o.year0 = 2003;
    o.year1 = 2004;
    o.write_pipeline = 0;
    o.parts = AF_SYNTH_PART_TABLES | AF_SYNTH_PART_MGMT;
    af_synth_region r;
    af_error err = AF_ERROR_INIT;
    char path[4096];
    FILE *fp = NULL;
    int rc;
    if (af_synth_write(argv[1], &o, &err) != AF_OK || af__synth_region_make(&o, &r, &err) != AF_OK) goto fail;
    snprintf(path, sizeof path, "%s/pipeline.ini", argv[1]);
    fp = fopen(path, "w");
    if (!fp) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    fprintf(fp, "[pipeline]\nname = mgmt\nstart = %04d-01-01\nend = %04d-12-31\ncalendar = noleap\noutput = output\n"
                "shard_samples = 5\nblock_days = 150\n\n"
                "[counties]\nlayer = counties.geojson\nid_field = GEOID\nselect = site_lists/counties.csv\n\n"
                "[sites]\nlist = site_lists/sites.csv\n\n", o.year0, o.year1);
    rc = af__synth_mgmt_scenarios(fp, &r, &err);
    af__synth_region_dispose(&r);
    if (rc != AF_OK) goto fail;
    fputs(features, fp);
    if (fclose(fp) != 0) { fprintf(stderr, "cannot close %s\n", path); return 1; }
    return 0;
fail:
    if (fp) fclose(fp);
    fprintf(stderr, "mgmt_prep: %s\n", err.msg);
    return 1;
}
