/* SPDX-License-Identifier: MIT */
/*
 * synth_grid_main.c: test driver of the synthetic gridded writers
 * (src/synth/synth_grid.h). With no argument: their error paths. With
 * `DIR YEAR0 YEAR1 SPACING_M`: writes under DIR the synth counties, lists and
 * tables (af_synth_write, no pipeline.ini), gridMET tmmx/pr/srad and Daymet
 * tmax/prcp/srad/dayl for every year, for test_gridded_synth.py and the benchmark docs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_test.h"
#include "agroflux/synth.h"
#include "synth/synth_grid.h"

static void test_synth_grid__errors(void)
{
    af_synth_box empty = { -90, -91, 40, 41 }, west = { -130, -125, 40, 41 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "unknown variable 'tmax'", af__synth_gridmet_write("/tmp", "tmax", 2004, NULL, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "unknown variable 'tmmx'", af__synth_daymet_write("/tmp", "tmmx", 2004, 4000, NULL, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "year 1850", af__synth_gridmet_write("/tmp", "tmmx", 1850, NULL, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "spacing 1500", af__synth_daymet_write("/tmp", "tmax", 2004, 1500, NULL, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "empty or invalid box", af__synth_gridmet_write("/tmp", "tmmx", 2004, &empty, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "no cell centre of the CONUS lattice",
                       af__synth_gridmet_write("/tmp", "tmmx", 2004, &west, err));
    af_synth_box arctic = { -179, -170, 80, 85 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "reaches west or north of the Daymet grid",
                       af__synth_daymet_write("/tmp", "tmax", 2004, 10000, &arctic, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "year 2101", af__synth_daymet_write("/tmp", "tmax", 2101, 10000, NULL, err));
    AF_TEST_FAILS_WITH(AF_EIO, "cannot create directory",
                       af__synth_gridmet_write("/proc/nonexistent-dir-af/x", "tmmx", 2004, NULL, err));
    /* netCDF-C cannot create the temporary file (a directory of that name): the error names it and no
     * file appears under the final name. */
    char dir[64] = "/tmp/af-synth-grid-XXXXXX", p[128];
    AF_EXPECT(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/pr_2004.nc.partial", dir);
    AF_EXPECT(mkdir(p, 0755) == 0);
    AF_TEST_FAILS_WITH(AF_EIO, "pr_2004.nc.partial: nc_create", af__synth_gridmet_write(dir, "pr", 2004, NULL, err));
    snprintf(p, sizeof p, "%s/pr_2004.nc", dir);
    AF_EXPECT(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "%s/daymet_v4_daily_na_vp_2004.nc.partial", dir);
    AF_EXPECT(mkdir(p, 0755) == 0);
    AF_TEST_FAILS_WITH(AF_EIO, "daymet_v4_daily_na_vp_2004.nc.partial: nc_create",
                       af__synth_daymet_write(dir, "vp", 2004, 20000, NULL, err));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    AF_EXPECT(system(cmd) == 0);
}

static int write_tree(const char *dir, int y0, int y1, double spacing)
{
    af_error e = AF_ERROR_INIT;
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    o.year0 = y0;
    o.year1 = y1;
    o.write_pipeline = 0;
    o.parts = AF_SYNTH_PART_TABLES;
    static const char *gm[] = { "tmmx", "pr", "srad" }, *dm[] = { "tmax", "prcp", "srad", "dayl" };
    int rc = af_synth_write(dir, &o, &e);
    for (int y = y0; y <= y1 && rc == AF_OK; y++) {
        for (int i = 0; i < 3 && rc == AF_OK; i++) rc = af__synth_gridmet_write(dir, gm[i], y, NULL, &e);
        for (int i = 0; i < 4 && rc == AF_OK; i++) rc = af__synth_daymet_write(dir, dm[i], y, spacing, NULL, &e);
    }
    if (rc != AF_OK) fprintf(stderr, "synth_grid_main: %s\n", e.msg);
    return rc == AF_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5) return write_tree(argv[1], atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    if (argc != 1) {
        fprintf(stderr, "usage: synth_grid_main [DIR YEAR0 YEAR1 SPACING_M]\n");
        return 2;
    }
    AF_RUN(test_synth_grid__errors);
    return AF_TEST_END();
}
