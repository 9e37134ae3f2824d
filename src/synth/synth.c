/* SPDX-License-Identifier: MIT */
/*
 * synth.c: `agroflux synth`. Builds the region once (synth_region.c), then
 * writes county polygons (synth_geo.c), a county selection list, a site list,
 * daily weather tables (one CSV per year) and a target table, every other part
 * through its writer (gridded, soil/CDL, management, observations, model runs)
 * and the pipelines (synth_pipeline.c). Every table value is an integer number
 * of hundredths, so its decimal text is exact and a test can recompute it:
 *   u  = county tag: its position 1..N in site_lists/counties.csv, or 500 + site number s
 *   h  = 100*A + 10*u + 7*k + 3*(doy mod 50) + (year mod 100), value = h / 100
 *   k  = scenario index for targets of county samples, 0 otherwise
 *   A  = tmax 288 K, tmin 276 K, prcp 1 mm; gpp 5, nee -2 g C m-2 d-1,
 *        n2o 20 g N ha-1 d-1
 *   missing where (u + doy + 7*v + year) mod 37 == 0 (v = variable number
 *   1..6 in the order above): -9999 in weather, an empty field in targets
 *   nee_qc = ((u + doy) mod 5) / 4
 * The same rules are in docs/formats.md; tests/pylib/synth_tables.py re-derives them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "agroflux/synth.h"
#include "synth_grid.h"
#include "synth_io.h"
#include "synth_mgmt.h"
#include "synth_models.h"
#include "synth_obs.h"
#include "synth_pipeline.h"
#include "synth_region.h"
#include "synth_soil.h"

enum { V_TMAX = 1, V_TMIN, V_PRCP, V_GPP, V_NEE, V_N2O };
static const int base_a[7] = { 0, 288, 276, 1, 5, -2, 20 };

static long hundredths(int v, int u, int k, af_date d)
{
    return 100L * base_a[v] + 10L * u + 7L * k + 3L * (af_date_doy(d) % 50) + d.year % 100;
}

static int is_missing(int v, int u, af_date d)
{
    return (u + af_date_doy(d) + 7 * v + d.year) % 37 == 0;
}

static void put_value(FILE *fp, int v, int u, int k, af_date d, const char *missing)
{
    if (is_missing(v, u, d)) { fprintf(fp, ",%s", missing); return; }
    fputc(',', fp);
    af__synth_put_hundredths(fp, hundredths(v, u, k, d));
}

static int write_lists(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    AF_CHECK(af__synth_open(dir, "site_lists/counties.csv", &f, err));
    fprintf(f.fp, "fips,name\n");
    for (int i = 0; i < r->ncounties; i++) fprintf(f.fp, "%s,%s\n", r->county[i].fips, r->county[i].name);
    AF_CHECK(af__synth_close(&f, err));
    AF_CHECK(af__synth_open(dir, "site_lists/sites.csv", &f, err));
    fprintf(f.fp, "site_id,name,lat,lon\n");
    for (int i = 0; i < r->nsites; i++)
        fprintf(f.fp, "%s,Synthetic tower %d,%.4f,%.4f\n", r->site[i].id, i + 1, r->site[i].lat, r->site[i].lon);
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_weather(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char rel[64], ds[11];
    int nc = r->ncounties, ns = r->nsites;
    for (int y = r->year0; y <= r->year1; y++) {
        snprintf(rel, sizeof rel, "tables/weather_%04d.csv", y);
        AF_CHECK(af__synth_open(dir, rel, &f, err));
        fprintf(f.fp, "id,date,tmax,tmin,prcp\n");
        af_date d = { y, 1, 1 };
        for (long e = af_date_to_epoch(d); af_date_from_epoch(e).year == y; e++) {
            d = af_date_from_epoch(e);
            af_date_format(d, ds);
            for (int i = 0; i < nc + ns; i++) {
                int u = i < nc ? af__synth_county_tag(i) : r->site[i - nc].tag;
                fprintf(f.fp, "%s,%s", i < nc ? r->county[i].fips : r->site[i - nc].id, ds);
                for (int v = V_TMAX; v <= V_PRCP; v++) put_value(f.fp, v, u, 0, d, "-9999");
                fputc('\n', f.fp);
            }
        }
        AF_CHECK(af__synth_close(&f, err));
    }
cleanup:
    af__synth_abort(&f);
    return rc;
}

/* One target-table row: id, date, gpp, nee, nee_qc, n2o for tag u and scenario k. */
static void put_target_row(FILE *fp, const char *id, int u, int k, af_date d, const char *ds)
{
    fprintf(fp, "%s,%s", id, ds);
    put_value(fp, V_GPP, u, k, d, "");
    put_value(fp, V_NEE, u, k, d, "");
    fprintf(fp, ",%.2f", ((u + af_date_doy(d)) % 5) / 4.0);
    put_value(fp, V_N2O, u, k, d, "");
    fputc('\n', fp);
}

static int write_targets(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char ds[11], id[32];
    AF_CHECK(af__synth_open(dir, "tables/targets.csv", &f, err));
    fprintf(f.fp, "id,date,gpp,nee,nee_qc,n2o\n");
    af_date d0 = { r->year0, 1, 1 }, d1 = { r->year1, 12, 31 };
    for (long e = af_date_to_epoch(d0); e <= af_date_to_epoch(d1); e++) {
        af_date d = af_date_from_epoch(e);
        af_date_format(d, ds);
        for (int i = 0; i < r->ncounties; i++) {
            for (int k = 0; k < r->nscenarios; k++) {
                snprintf(id, sizeof id, "%s:%s", r->county[i].fips, r->scenario[k].name);
                put_target_row(f.fp, id, af__synth_county_tag(i), k, d, ds);
            }
        }
        for (int j = 0; j < r->nsites; j++) put_target_row(f.fp, r->site[j].id, r->site[j].tag, 0, d, ds);
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_gridded(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    static const char *const gm[] = { "tmmx", "tmmn", "pr", "srad" }, *const dm[] = { "tmax", "tmin", "prcp", "srad", "dayl" };
    char sub[4096];
    for (int y = o->year0; y <= o->year1; y++) {
        AF_CHECK(af_path_join(dir, "gridmet", sub, sizeof sub, err));
        for (int i = 0; i < 4; i++) AF_CHECK(af__synth_gridmet_write(sub, gm[i], y, NULL, err));
        AF_CHECK(af_path_join(dir, "daymet", sub, sizeof sub, err));
        for (int i = 0; i < 5; i++) AF_CHECK(af__synth_daymet_write(sub, dm[i], y, o->daymet_spacing_m, NULL, err));
    }
cleanup:
    return rc;
}

static int write_models(const char *dir, const af_synth_region *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_models_opts mo = { r->fips, r->ncounties, r->scenario_names, r->nscenarios,
                                r->site_ids, r->nsites, r->year0, r->year1 };
    AF_CHECK(af__synth_ecosys_write(dir, &mo, err));
    AF_CHECK(af__synth_daycent_write(dir, &mo, err));
cleanup:
    return rc;
}

int af_synth_write(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    af_synth_region r;
    char path[4096];
    memset(&r, 0, sizeof r);
    AF_CHECK_ARG(dir && o);
    AF_CHECK(af__synth_region_make(o, &r, err));
    AF_CHECK(af_mkdirs(dir, err));
    AF_CHECK(af_path_join(dir, "counties.geojson", path, sizeof path, err));
    remove(path); /* the GeoJSON driver will not overwrite */
    AF_CHECK(af_synth_counties_write(path, r.county, r.ncounties, err));
    AF_CHECK(write_lists(dir, &r, err));
    AF_CHECK(write_weather(dir, &r, err));
    AF_CHECK(write_targets(dir, &r, err));
    if (o->parts & AF_SYNTH_PART_GRIDDED) AF_CHECK(write_gridded(dir, o, err));
    if (o->parts & AF_SYNTH_PART_SOIL) {
        AF_CHECK(af_synth_soil_write(dir, o->raster_res_m, o->raster_tile, err));
        AF_CHECK(af_synth_cdl_write(dir, o->year0, o->year1, o->raster_res_m, o->raster_tile, err));
    }
    if (o->parts & AF_SYNTH_PART_MGMT) AF_CHECK(af__synth_mgmt_write(dir, &r, err));
    if (o->parts & AF_SYNTH_PART_OBS) AF_CHECK(af__synth_obs_write(dir, &r, err));
    if (o->parts & AF_SYNTH_PART_MODELS) AF_CHECK(write_models(dir, &r, err));
    if (o->write_pipeline) AF_CHECK(af__synth_pipelines_write(dir, &r, o->parts, err));
cleanup:
    af__synth_region_dispose(&r);
    return rc;
}
