/* SPDX-License-Identifier: MIT */
/*
 * synth_models_tool.c: test helper for models-e2e. Writes the synth region
 * (af_synth_write without pipeline.ini: counties.geojson, site lists) and then
 * the Ecosys and DayCent run trees for its counties (FIPS from
 * site_lists/counties.csv), the given scenarios, its sites and years.
 * usage: synth_models_tool DIR YEAR0 YEAR1 NCOUNTIES NSITES SCENARIO...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_util.h"
#include "agroflux/synth.h"
#include "synth_models.h"

/* First column of a list CSV (after its header) into ids[]. */
static int read_ids(const char *dir, const char *rel, char ids[][32], int max)
{
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    int n = -1;
    while (fgets(line, sizeof line, fp) && n < max) {
        if (n >= 0) {
            line[strcspn(line, ",\r\n")] = '\0';
            snprintf(ids[n], 32, "%.31s", line);
        }
        n++;
    }
    fclose(fp);
    return n < 0 ? 0 : n;
}

int main(int argc, char **argv)
{
    static char fips[500][32], sites[100][32];
    const char *fp_[500], *sp_[100];
    if (argc < 7) {
        fprintf(stderr, "usage: %s DIR YEAR0 YEAR1 NCOUNTIES NSITES SCENARIO...\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    af_synth_opts so = AF_SYNTH_OPTS_INIT;
    so.year0 = atoi(argv[2]);
    so.year1 = atoi(argv[3]);
    so.ncounties = atoi(argv[4]);
    so.nsites = atoi(argv[5]);
    so.nscenarios = argc - 6;
    so.write_pipeline = 0;
    so.parts = AF_SYNTH_PART_TABLES;
    af_error err = AF_ERROR_INIT;
    char msg[4096];
    if (af_synth_write(dir, &so, &err) != AF_OK) goto fail;
    int nc = read_ids(dir, "site_lists/counties.csv", fips, 500);
    int ns = read_ids(dir, "site_lists/sites.csv", sites, 100);
    if (nc != so.ncounties || ns != so.nsites) {
        fprintf(stderr, "list files: %d counties, %d sites\n", nc, ns);
        return 1;
    }
    for (int i = 0; i < nc; i++) fp_[i] = fips[i];
    for (int i = 0; i < ns; i++) sp_[i] = sites[i];
    af_synth_models_opts mo = { fp_, nc, (const char *const *)(argv + 6), argc - 6, sp_, ns, so.year0, so.year1 };
    if (af__synth_ecosys_write(dir, &mo, &err) != AF_OK) goto fail;
    if (af__synth_daycent_write(dir, &mo, &err) != AF_OK) goto fail;
    return 0;
fail:
    af_error_format(&err, 1, msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return 1;
}
