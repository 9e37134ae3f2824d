/* SPDX-License-Identifier: MIT */
/*
 * synth.c: `agroflux synth`. Writes county polygons (synth_geo.c), a county
 * selection list, a site list, daily weather tables (one CSV per year) and a
 * target table, plus pipeline.ini. Every value is an integer number of
 * hundredths, so its decimal text is exact and a test can recompute it:
 *   u  = county number c (1-based in FIPS order) or 500 + site number s
 *   h  = 100*A + 10*u + 7*k + 3*(doy mod 50) + (year mod 100), value = h / 100
 *   k  = scenario index for targets of county samples, 0 otherwise
 *   A  = tmax 288 K, tmin 276 K, prcp 1 mm; gpp 5, nee -2 g C m-2 d-1,
 *        n2o 20 g N ha-1 d-1
 *   missing where (u + doy + 7*v + year) mod 37 == 0 (v = variable number
 *   1..6 in the order above): -9999 in weather, an empty field in targets
 *   nee_qc = ((u + doy) mod 5) / 4
 * The same rules are in docs/formats.md; tests/mpi/check_synth.py re-derives them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "agroflux/synth.h"
#include "synth_geo.h"

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
    long h = hundredths(v, u, k, d);
    long a = h < 0 ? -h : h;
    fprintf(fp, ",%s%ld.%02ld", h < 0 ? "-" : "", a / 100, a % 100);
}

typedef struct synth_site {
    char id[16];
    double lat, lon;
} synth_site;

static int open_out(const char *dir, const char *rel, FILE **fp, char *path, size_t n, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af_path_join(dir, rel, path, n, err));
    char d[4096];
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
    if (ferror(fp)) { fclose(fp); AF_FAIL(AF_EIO, "write error on '%s'", path); }
    if (fclose(fp) != 0) AF_FAIL(AF_EIO, "cannot close '%s'", path);
cleanup:
    return rc;
}

static int write_lists(const char *dir, const af_synth_county *c, int nc, const synth_site *s, int ns, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096];
    AF_CHECK(open_out(dir, "site_lists/counties.csv", &fp, path, sizeof path, err));
    fprintf(fp, "fips,name\n");
    for (int i = 0; i < nc; i++) fprintf(fp, "%s,%s\n", c[i].fips, c[i].name);
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
    AF_CHECK(open_out(dir, "site_lists/sites.csv", &fp, path, sizeof path, err));
    fprintf(fp, "site_id,name,lat,lon\n");
    for (int i = 0; i < ns; i++) fprintf(fp, "%s,Synthetic tower %d,%.4f,%.4f\n", s[i].id, i + 1, s[i].lat, s[i].lon);
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

static int write_weather(const char *dir, const af_synth_county *c, int nc, const synth_site *s, int ns,
                         const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096], rel[64], ds[11];
    for (int y = o->year0; y <= o->year1; y++) {
        snprintf(rel, sizeof rel, "tables/weather_%04d.csv", y);
        AF_CHECK(open_out(dir, rel, &fp, path, sizeof path, err));
        fprintf(fp, "id,date,tmax,tmin,prcp\n");
        af_date d = { y, 1, 1 };
        for (long e = af_date_to_epoch(d); af_date_from_epoch(e).year == y; e++) {
            d = af_date_from_epoch(e);
            af_date_format(d, ds);
            for (int i = 0; i < nc + ns; i++) {
                int u = i < nc ? i + 1 : 500 + (i - nc + 1);
                fprintf(fp, "%s,%s", i < nc ? c[i].fips : s[i - nc].id, ds);
                for (int v = V_TMAX; v <= V_PRCP; v++) put_value(fp, v, u, 0, d, "-9999");
                fputc('\n', fp);
            }
        }
        AF_CHECK(close_out(fp, path, err));
        fp = NULL;
    }
cleanup:
    if (fp) fclose(fp);
    return rc;
}

static void scenario_name(int k, int nk, char *buf, size_t n)
{
    int rate = nk > 1 ? (336 * k) / (nk - 1) : 0; /* kg N ha-1, AgroFlux's 0..336 span */
    snprintf(buf, n, "N%03d", rate);
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

static int write_targets(const char *dir, const af_synth_county *c, int nc, const synth_site *s, int ns,
                         const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096], ds[11], sc[16], id[32];
    AF_CHECK(open_out(dir, "tables/targets.csv", &fp, path, sizeof path, err));
    fprintf(fp, "id,date,gpp,nee,nee_qc,n2o\n");
    af_date d0 = { o->year0, 1, 1 }, d1 = { o->year1, 12, 31 };
    for (long e = af_date_to_epoch(d0); e <= af_date_to_epoch(d1); e++) {
        af_date d = af_date_from_epoch(e);
        af_date_format(d, ds);
        for (int i = 0; i < nc; i++) {
            for (int k = 0; k < o->nscenarios; k++) {
                scenario_name(k, o->nscenarios, sc, sizeof sc);
                snprintf(id, sizeof id, "%s:%s", c[i].fips, sc);
                put_target_row(fp, id, i + 1, k, d, ds);
            }
        }
        for (int j = 0; j < ns; j++) put_target_row(fp, s[j].id, 500 + j + 1, 0, d, ds);
    }
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

static const char *feature_block =
    "[input.TMAX_AIR]\nsource = table\npath = tables/weather_{year}.csv\ncolumn = tmax\nsource_units = K\n"
    "units = degC\nmatch = county\nlong_name = daily maximum air temperature\n\n"
    "[input.TMIN_AIR]\nsource = table\npath = tables/weather_{year}.csv\ncolumn = tmin\nsource_units = K\n"
    "units = degC\nmatch = county\nlong_name = daily minimum air temperature\n\n"
    "[input.PRECN]\nsource = table\npath = tables/weather_{year}.csv\ncolumn = prcp\nsource_units = kg m-2\n"
    "units = mm d-1\nmatch = county\nlong_name = daily precipitation\n\n"
    "[target.GPP]\nsource = table\npath = tables/targets.csv\ncolumn = gpp\nsource_units = g C m-2 d-1\n"
    "units = g C m-2 d-1\nmissing =\nlong_name = gross primary production\nsign = positive = uptake by the ecosystem\n\n"
    "[target.NEE]\nsource = table\npath = tables/targets.csv\ncolumn = nee\nqc_column = nee_qc\n"
    "source_units = g C m-2 d-1\nunits = g C m-2 d-1\nmissing =\nlong_name = net ecosystem exchange\n"
    "sign = negative = uptake by the ecosystem\n\n"
    "[target.N2O_FLUX]\nsource = table\npath = tables/targets.csv\ncolumn = n2o\nsource_units = g N ha-1 d-1\n"
    "units = g N m-2 d-1\nmissing =\nlong_name = soil N2O flux\nsign = positive = emission to the atmosphere\n";

static int write_pipeline(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char path[4096], sc[16];
    AF_CHECK(open_out(dir, "pipeline.ini", &fp, path, sizeof path, err));
    fprintf(fp, "; Written by `agroflux synth`: a synthetic region in real formats.\n"
                "; Values follow the documented function in docs/formats.md (\"synth values\").\n\n"
                "[pipeline]\nname = synth\nstart = %04d-01-01\nend = %04d-12-31\ncalendar = noleap\n"
                "output = output\nshard_samples = 8\nblock_days = 200\n\n"
                "[counties]\nlayer = counties.geojson\nid_field = GEOID\nselect = site_lists/counties.csv\nscenarios = ",
            o->year0, o->year1);
    for (int k = 0; k < o->nscenarios; k++) {
        scenario_name(k, o->nscenarios, sc, sizeof sc);
        fprintf(fp, "%s%s", k ? ", " : "", sc);
    }
    fprintf(fp, "\n\n");
    if (o->nsites > 0) fprintf(fp, "[sites]\nlist = site_lists/sites.csv\n\n");
    fputs(feature_block, fp);
    AF_CHECK(close_out(fp, path, err));
    fp = NULL;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

int af_synth_write(const char *dir, const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    af_synth_county *c = NULL;
    synth_site *s = NULL;
    int nc = 0;
    char path[4096];
    AF_CHECK_ARG(dir && o);
    if (o->ncounties < 1 || o->ncounties > 499) AF_FAIL(AF_EINVAL, "--counties %d: expected 1..499", o->ncounties);
    if (o->nscenarios < 1 || o->nscenarios > 100) AF_FAIL(AF_EINVAL, "--scenarios %d: expected 1..100", o->nscenarios);
    if (o->nsites < 0 || o->nsites > 99) AF_FAIL(AF_EINVAL, "--sites %d: expected 0..99", o->nsites);
    if (o->year0 < 1900 || o->year1 > 2100 || o->year1 < o->year0)
        AF_FAIL(AF_EINVAL, "--years %d-%d: expected Y1-Y2 with 1900 <= Y1 <= Y2 <= 2100", o->year0, o->year1);
    AF_CHECK(af_mkdirs(dir, err));
    AF_CHECK(af_synth_counties_make(o->ncounties, o->seed, &c, err));
    nc = o->ncounties;
    AF_CHECK(af_path_join(dir, "counties.geojson", path, sizeof path, err));
    remove(path); /* the GeoJSON driver will not overwrite */
    AF_CHECK(af_synth_counties_write(path, c, nc, err));
    s = calloc((size_t)(o->nsites > 0 ? o->nsites : 1), sizeof *s);
    AF_CHECK_ALLOC(s);
    for (int j = 0; j < o->nsites; j++) {
        /* Tower j sits at the mean of county j's ring vertices: inside, since the synthetic
         * counties are jittered cells (or two merged neighbours) that stay nearly convex. */
        const af_synth_county *cj = &c[j % nc];
        double lon = 0, lat = 0;
        for (int v = 0; v < cj->nvert - 1; v++) { lon += cj->lon[v]; lat += cj->lat[v]; }
        snprintf(s[j].id, sizeof s[j].id, "US-Sx%d", j + 1);
        s[j].lon = lon / (cj->nvert - 1);
        s[j].lat = lat / (cj->nvert - 1);
    }
    AF_CHECK(write_lists(dir, c, nc, s, o->nsites, err));
    AF_CHECK(write_weather(dir, c, nc, s, o->nsites, o, err));
    AF_CHECK(write_targets(dir, c, nc, s, o->nsites, o, err));
    if (o->write_pipeline) AF_CHECK(write_pipeline(dir, o, err));
cleanup:
    if (c) af_synth_counties_free(c, nc);
    free(s);
    return rc;
}
