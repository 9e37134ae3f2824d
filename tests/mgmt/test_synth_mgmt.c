/* SPDX-License-Identifier: MIT */
/*
 * test_synth_mgmt.c: the synth management writers (src/synth/synth_mgmt.h).
 * The [scenario.*] sections they write load back through af_config_load with
 * the names `agroflux synth` uses (N%03d of floor(336k/(K-1))) and rates
 * 336k/(K-1) kg N ha-1 recomputed here; the planting table rows match the
 * documented formulas; and the error paths (bad counts, an unwritable
 * directory) fail with their messages.
 */
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/config.h"
#include "fixture_files.h"
#include "synth_mgmt.h"

/* The synth region of ncounties, nscenarios, nsites (2003-2004); 0 on success. */
static int region(int nc, int nk, int ns, af_synth_region *r, af_error *err)
{
    af_synth_opts o = AF_SYNTH_OPTS_INIT;
    o.ncounties = nc;
    o.nscenarios = nk;
    o.nsites = ns;
    return af__synth_region_make(&o, r, err);
}

static void test_scenario_sections(void)
{
    for (int n = 1; n <= 20; n += 19) {
        char name[64];
        snprintf(name, sizeof name, "scen%d.ini", n);
        FILE *fp = fopen(fx_path(name), "w");
        fprintf(fp, "[pipeline]\nname = s\nstart = 2003-01-01\nend = 2003-12-31\n"
                    "[counties]\nlayer = counties.geojson\nid_field = GEOID\n");
        af_synth_region r;
        AF_TEST_PASS(region(1, n, 0, &r, err));
        AF_TEST_PASS(af__synth_mgmt_scenarios(fp, &r, err));
        af__synth_region_dispose(&r);
        fclose(fp);
        af_config *cfg = NULL;
        AF_TEST_PASS(af_config_load(fx_path(name), &cfg, err));
        if (!cfg) continue;
        AF_EXPECT(cfg->nscenario_defs == (size_t)n && cfg->nscenarios == (size_t)n);
        for (int k = 0; k < n && (size_t)k < cfg->nscenario_defs; k++) {
            char want[16];
            int r = n > 1 ? (336 * k) / (n - 1) : 0;
            snprintf(want, sizeof want, "N%03d", r);
            const af_scenario_cfg *sc = &cfg->scenario_defs[k];
            AF_EXPECT(!strcmp(sc->name, want) && !strcmp(cfg->scenarios[k], want));
            AF_EXPECT_NEAR(sc->n_rate, n > 1 ? 336.0 * k / (n - 1) : 0.0, 5e-5);
            AF_EXPECT(!strcmp(sc->n_units, "kg N ha-1") && sc->napps == 1 && sc->apps[0].timing == AF_N_PLANTING);
        }
        if (n == 20) AF_EXPECT(!strcmp(cfg->scenarios[19], "N336") && cfg->scenario_defs[19].n_rate == 336.0);
        af_config_destroy(&cfg);
    }
}

static void test_planting_rows(void)
{
    af_synth_region r;
    AF_TEST_PASS(region(3, 2, 1, &r, err));
    AF_TEST_PASS(af__synth_mgmt_write(fx_tmp, &r, err));
    af__synth_region_dispose(&r);
    FILE *fp = fopen(fx_path("mgmt/planting_2004.csv"), "r");
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    char line[256];
    AF_EXPECT(fgets(line, sizeof line, fp) && !strcmp(line, "key,year,crop,plant_date,harvest_date\n"));
    /* county 2 (FIPS 19003), 2004: crop (2+2004) even -> 1; plant doy 100 + (14 + 12) % 36 = 126 = May 5
     * in a leap year; harvest doy 260 + (22 + 4) % 50 = 286 = Oct 12 */
    AF_EXPECT(fgets(line, sizeof line, fp));
    AF_EXPECT(fgets(line, sizeof line, fp) && !strcmp(line, "19003,2004,1,2004-05-05,2004-10-12\n"));
    fclose(fp);
    AF_EXPECT(af__synth_mgmt_plant_doy(2, 2004) == 126 && af__synth_mgmt_harvest_doy(2, 2004) == 286);
    AF_EXPECT(af__synth_mgmt_crop(2, 2004) == 1 && af__synth_mgmt_crop(501, 2004) == 5);
}

static void test_errors(void)
{
    af_synth_region r;
    AF_TEST_FAILS_WITH(AF_EINVAL, "--counties 0", region(0, 2, 1, &r, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "--sites 100", region(2, 2, 100, &r, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "--scenarios 0", region(2, 0, 1, &r, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "--scenarios 101", region(2, 101, 1, &r, err));
    AF_TEST_PASS(region(2, 2, 1, &r, err));
    fx_write("afile", "x");
    AF_TEST_FAILS_WITH(AF_EIO, "afile", af__synth_mgmt_write(fx_path("afile"), &r, err));
    af__synth_region_dispose(&r);
}

int main(void)
{
    if (fx_setup("synthmgmt") != 0) return 1;
    AF_RUN(test_scenario_sections);
    AF_RUN(test_planting_rows);
    AF_RUN(test_errors);
    fx_rmtree(fx_tmp);
    return AF_TEST_END();
}
