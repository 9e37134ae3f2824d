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
#include "synth_mgmt.h"

int af__synth_mgmt_plant_doy(int u, int y) { return 100 + (7 * u + 3 * (y % 10)) % 36; }
int af__synth_mgmt_harvest_doy(int u, int y) { return 260 + (11 * u + y % 10) % 50; }
int af__synth_mgmt_crop(int u, int y) { return (u + y) % 2 == 0 ? 1 : 5; }

static void doy_text(int y, int doy, char ds[11])
{
    af_date_format(af_date_from_epoch(af_date_to_epoch((af_date){ y, 1, 1 }) + doy - 1), ds);
}

static int open_out(const char *dir, const char *rel, FILE **fp, char *path, size_t n, af_error *err)
{
    int rc = AF_OK;
    char d[4096];
    AF_CHECK(af_path_join(dir, rel, path, n, err));
    af_path_dirname(path, d, sizeof d);
    AF_CHECK(af_mkdirs(d, err));
    *fp = fopen(path, "w");
    if (!*fp) AF_FAIL(AF_EIO, "cannot create '%s'", path);
cleanup:
    return rc;
}

static int close_out(FILE *fp, const char *path, af_error *err)
{
    int rc = AF_OK;
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad) AF_FAIL(AF_EIO, "write error on '%s'", path);
cleanup:
    return rc;
}

static void planting_row(FILE *fp, const char *key, int u, int y)
{
    char p[11], h[11];
    doy_text(y, af__synth_mgmt_plant_doy(u, y), p);
    doy_text(y, af__synth_mgmt_harvest_doy(u, y), h);
    fprintf(fp, "%s,%d,%d,%s,%s\n", key, y, af__synth_mgmt_crop(u, y), p, h);
}

static int write_planting(const char *dir, const af_synth_opts *o, int y, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096], rel[64], key[32], p[11], h[11];
    snprintf(rel, sizeof rel, "mgmt/planting_%04d.csv", y);
    AF_CHECK(open_out(dir, rel, &fp, path, sizeof path, err));
    fprintf(fp, "key,year,crop,plant_date,harvest_date\n");
    for (int c = 1; c <= o->ncounties; c++) {
        snprintf(key, sizeof key, "%05d", 19000 + 2 * c - 1);
        planting_row(fp, key, c, y);
    }
    for (int s = 1; s <= o->nsites; s++) {
        snprintf(key, sizeof key, "US-Sx%d", s);
        planting_row(fp, key, 500 + s, y);
    }
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
    snprintf(rel, sizeof rel, "mgmt/state_planting_%04d.csv", y);
    AF_CHECK(open_out(dir, rel, &fp, path, sizeof path, err));
    doy_text(y, 120 + y % 10, p);
    doy_text(y, 280 + y % 10, h);
    fprintf(fp, "key,year,crop,plant_date,harvest_date\n19,%d,1,%s,%s\n", y, p, h);
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

static int write_site_events(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096], ds[11];
    AF_CHECK(open_out(dir, "mgmt/fertilizer_sites.csv", &fp, path, sizeof path, err));
    fprintf(fp, "site,date,amount,units\n");
    for (int s = 1; s <= o->nsites; s++) {
        for (int y = o->year0; y <= o->year1; y++) {
            doy_text(y, af__synth_mgmt_plant_doy(500 + s, y), ds);
            fprintf(fp, "US-Sx%d,%s,%d,kg N ha-1\n", s, ds, 10 * s + y % 100);
            doy_text(y, 170 + s, ds);
            fprintf(fp, "US-Sx%d,%s,2.5,g N m-2\n", s, ds);
            if (s == 1 && af_date_is_leap(y)) {
                doy_text(y, 365, ds);
                fprintf(fp, "US-Sx1,%s,2,kg N ha-1\n", ds);
                doy_text(y, 366, ds);
                fprintf(fp, "US-Sx1,%s,3,kg N ha-1\n", ds);
            }
        }
    }
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

int af__synth_mgmt_write(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(dir && o);
    if (o->ncounties < 1 || o->ncounties > 499) AF_FAIL(AF_EINVAL, "synth management: %d counties: expected 1..499", o->ncounties);
    if (o->nsites < 0 || o->nsites > 99) AF_FAIL(AF_EINVAL, "synth management: %d sites: expected 0..99", o->nsites);
    for (int y = o->year0; y <= o->year1; y++) AF_CHECK(write_planting(dir, o, y, err));
    AF_CHECK(write_site_events(dir, o, err));
cleanup:
    return rc;
}

int af__synth_mgmt_scenarios(FILE *fp, int n, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(fp);
    if (n < 1 || n > 100) AF_FAIL(AF_EINVAL, "synth management: %d scenarios: expected 1..100", n);
    for (int k = 0; k < n; k++) {
        int name_rate = n > 1 ? (336 * k) / (n - 1) : 0; /* as synth.c names them */
        double rate = n > 1 ? 336.0 * k / (n - 1) : 0.0;
        fprintf(fp, "[scenario.N%03d]\nn_rate = %.4f\nn_units = kg N ha-1\nn_timing = planting\n\n", name_rate, rate);
    }
    if (ferror(fp)) AF_FAIL(AF_EIO, "write error on the scenario sections");
cleanup:
    return rc;
}
