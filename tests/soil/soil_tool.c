/* SPDX-License-Identifier: MIT */
/*
 * soil_tool.c: writes the synthetic inputs of the soil/CDL tests into a
 * directory: counties.geojson (synth_geo.c), soil rasters and the cropland
 * fraction (synth_soil.c), yearly CDL rasters and their class table.
 * usage: soil_tool DIR NCOUNTIES RES_M TILE YEAR0 YEAR1
 */
#include <stdio.h>
#include <stdlib.h>

#include "agroflux/error.h"
#include "synth_geo.h"
#include "synth_soil.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s DIR NCOUNTIES RES_M TILE YEAR0 YEAR1\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int n = atoi(argv[2]), tile = atoi(argv[4]), y0 = atoi(argv[5]), y1 = atoi(argv[6]);
    double res = atof(argv[3]);
    af_error err = AF_ERROR_INIT;
    af_synth_county *c = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/counties.geojson", dir);
    int rc = af_synth_counties_make(n, 7, &c, &err);
    if (rc == AF_OK) rc = af_synth_counties_write(path, c, n, &err);
    if (rc == AF_OK) rc = af_synth_soil_write(dir, res, tile, &err);
    if (rc == AF_OK) rc = af_synth_cdl_write(dir, y0, y1, res, tile, &err);
    af_synth_counties_free(c, n);
    if (rc != AF_OK) {
        fprintf(stderr, "soil_tool: %s\n", err.msg);
        return 1;
    }
    return 0;
}
