/* SPDX-License-Identifier: MIT */
/*
 * synth_mgmt.c: management files of the synthetic region (planting tables per
 * county and per state and year, site fertilizer events) and the
 * [scenario.N%03d] sections; the formulas are in synth_mgmt.h.
 */
#include <stdio.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "synth_io.h"
#include "synth_mgmt.h"

int af__synth_mgmt_plant_doy(int u, int y) { return 100 + (7 * u + 3 * (y % 10)) % 36; }
int af__synth_mgmt_harvest_doy(int u, int y) { return 260 + (11 * u + y % 10) % 50; }
int af__synth_mgmt_crop(int u, int y) { return (u + y) % 2 == 0 ? 1 : 5; }

static void doy_text(int y, int doy, char ds[11])
{
    af_date_format(af_date_from_epoch(af_date_to_epoch((af_date){ y, 1, 1 }) + doy - 1), ds);
}

static void planting_row(FILE *fp, const char *key, int u, int y)
{
    char p[11], h[11];
    doy_text(y, af__synth_mgmt_plant_doy(u, y), p);
    doy_text(y, af__synth_mgmt_harvest_doy(u, y), h);
    fprintf(fp, "%s,%d,%d,%s,%s\n", key, y, af__synth_mgmt_crop(u, y), p, h);
}

static int write_planting(const char *dir, const af_synth_region *r, int y, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char rel[64], p[11], h[11];
    snprintf(rel, sizeof rel, "mgmt/planting_%04d.csv", y);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fprintf(f.fp, "key,year,crop,plant_date,harvest_date\n");
    for (int c = 0; c < r->ncounties; c++) planting_row(f.fp, r->county[c].fips, af__synth_county_tag(c), y);
    for (int s = 0; s < r->nsites; s++) planting_row(f.fp, r->site[s].id, r->site[s].tag, y);
    AF_CHECK(af__synth_close(&f, err));
    snprintf(rel, sizeof rel, "mgmt/state_planting_%04d.csv", y);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    doy_text(y, 120 + y % 10, p);
    doy_text(y, 280 + y % 10, h);
    fprintf(f.fp, "key,year,crop,plant_date,harvest_date\n19,%d,1,%s,%s\n", y, p, h);
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_site_events(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char ds[11];
    AF_CHECK(af__synth_open(dir, "mgmt/fertilizer_sites.csv", &f, err));
    FILE *fp = f.fp;
    fprintf(fp, "site,date,amount,units\n");
    for (int s = 1; s <= r->nsites; s++) {
        const char *id = r->site[s - 1].id;
        for (int y = r->year0; y <= r->year1; y++) {
            doy_text(y, af__synth_mgmt_plant_doy(r->site[s - 1].tag, y), ds);
            fprintf(fp, "%s,%s,%d,kg N ha-1\n", id, ds, 10 * s + y % 100);
            doy_text(y, 170 + s, ds);
            fprintf(fp, "%s,%s,2.5,g N m-2\n", id, ds);
            if (s == 1 && af_date_is_leap(y)) {
                doy_text(y, 365, ds);
                fprintf(fp, "%s,%s,2,kg N ha-1\n", id, ds);
                doy_text(y, 366, ds);
                fprintf(fp, "%s,%s,3,kg N ha-1\n", id, ds);
            }
        }
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

int af__synth_mgmt_write(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(dir && r);
    for (int y = r->year0; y <= r->year1; y++) AF_CHECK(write_planting(dir, r, y, err));
    AF_CHECK(write_site_events(dir, r, err));
cleanup:
    return rc;
}

int af__synth_mgmt_scenarios(FILE *fp, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(fp && r);
    for (int k = 0; k < r->nscenarios; k++)
        fprintf(fp, "[scenario.%s]\nn_rate = %.4f\nn_units = kg N ha-1\nn_timing = planting\n\n",
                r->scenario[k].name, r->scenario[k].rate);
    if (ferror(fp)) AF_FAIL(AF_EIO, "write error on the scenario sections");
cleanup:
    return rc;
}
