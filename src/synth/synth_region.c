/* SPDX-License-Identifier: MIT */
/*
 * synth_region.c: builds the synth region (synth_region.h) once for
 * af_synth_write: options checked, polygons made, county FIPS and names either
 * synthetic (19001, 19003, ...) or read in row order from a CSV (--counties-from),
 * site ids and locations, scenario names and rates.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "synth_region.h"

static int check_opts(const af_synth_opts *o, af_error *err)
{
    int rc = AF_OK;
    if (o->ncounties < 0 || o->ncounties > 499 || (o->ncounties == 0 && !o->counties_from))
        AF_FAIL(AF_EINVAL, "--counties %d: expected 1..499", o->ncounties);
    if (o->nscenarios < 1 || o->nscenarios > 100) AF_FAIL(AF_EINVAL, "--scenarios %d: expected 1..100", o->nscenarios);
    if (o->nsites < 0 || o->nsites > 99) AF_FAIL(AF_EINVAL, "--sites %d: expected 0..99", o->nsites);
    if (o->year0 < 1900 || o->year1 > 2100 || o->year1 < o->year0)
        AF_FAIL(AF_EINVAL, "--years %d-%d: expected Y1-Y2 with 1900 <= Y1 <= Y2 <= 2100", o->year0, o->year1);
cleanup:
    return rc;
}

/* Count the data rows of the county CSV (column fips required). */
static int count_rows(const char *path, int *n, af_error *err)
{
    int rc = AF_OK, col, got;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    *n = 0;
    AF_CHECK(af_csv_open(path, &csv, err));
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, "fips", &col, err));
    while ((got = af_csv_next(&csv, err)) == 1) (*n)++;
    if (got < 0) { rc = got; goto cleanup; }
    if (*n == 0) AF_FAIL(AF_EFORMAT, "'%s': no county rows", path);
cleanup:
    af_csv_close(&csv);
    return rc;
}

/* FIPS (5 digits, unique) and names of the first n rows of path, into c[0..n-1]. */
static int read_counties(const char *path, af_synth_county *c, int n, af_error *err)
{
    int rc = AF_OK, col, ncol, got;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    AF_CHECK(af_csv_open(path, &csv, err));
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, "fips", &col, err));
    ncol = af_csv_column(&csv, "name");
    for (int i = 0; i < n; i++) {
        got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; goto cleanup; }
        if (got == 0) AF_FAIL(AF_EFORMAT, "'%s': %d county rows, %d asked for", path, i, n);
        const char *f = col < csv.nfields ? af_strtrim(csv.fields[col]) : "";
        if (strlen(f) != 5 || strspn(f, "0123456789") != 5)
            AF_FAIL(AF_EFORMAT, "'%s' line %ld, column fips: '%s' is not a 5-digit county FIPS", path, csv.line, f);
        for (int j = 0; j < i; j++)
            if (!strcmp(c[j].fips, f)) AF_FAIL(AF_EFORMAT, "'%s' line %ld, column fips: '%s' repeated", path, csv.line, f);
        memcpy(c[i].fips, f, 6);
        const char *nm = ncol >= 0 && ncol < csv.nfields ? af_strtrim(csv.fields[ncol]) : f;
        snprintf(c[i].name, sizeof c[i].name, "%.31s", nm);
        for (char *p = c[i].name; *p; p++)
            if (*p == ',' || *p == '"') *p = ' ';
    }
cleanup:
    af_csv_close(&csv);
    return rc;
}

static void make_sites(af_synth_region *r)
{
    for (int j = 0; j < r->nsites; j++) {
        /* Tower j sits at the mean of county j's ring vertices: inside, since the synthetic
         * counties are jittered cells (or two merged neighbours) that stay nearly convex. */
        const af_synth_county *cj = &r->county[j % r->ncounties];
        double lon = 0, lat = 0;
        for (int v = 0; v < cj->nvert - 1; v++) { lon += cj->lon[v]; lat += cj->lat[v]; }
        snprintf(r->site[j].id, sizeof r->site[j].id, "US-Sx%d", j + 1);
        r->site[j].tag = af__synth_site_tag(j);
        r->site[j].lon = lon / (cj->nvert - 1);
        r->site[j].lat = lat / (cj->nvert - 1);
    }
}

static void make_scenarios(af_synth_region *r)
{
    int nk = r->nscenarios;
    for (int k = 0; k < nk; k++) {
        r->scenario[k].rate = nk > 1 ? 336.0 * k / (nk - 1) : 0.0; /* kg N ha-1, AgroFlux's 0..336 span */
        snprintf(r->scenario[k].name, sizeof r->scenario[k].name, "N%03d", nk > 1 ? (336 * k) / (nk - 1) : 0);
    }
}

int af__synth_region_make(const af_synth_opts *o, af_synth_region *r, af_error *err)
{
    int rc = AF_OK, n;
    memset(r, 0, sizeof *r);
    AF_CHECK_ARG(o);
    AF_CHECK(check_opts(o, err));
    n = o->ncounties;
    if (o->counties_from) {
        int rows;
        AF_CHECK(count_rows(o->counties_from, &rows, err));
        if (n == 0) n = rows;
        if (n > rows) AF_FAIL(AF_EINVAL, "--counties %d: '%s' lists only %d counties", n, o->counties_from, rows);
        if (n > 499) AF_FAIL(AF_EINVAL, "'%s': %d counties, at most 499", o->counties_from, n);
    }
    AF_CHECK(af_synth_counties_make(n, o->seed, &r->county, err));
    r->ncounties = n;
    if (o->counties_from) AF_CHECK(read_counties(o->counties_from, r->county, n, err));
    r->nsites = o->nsites;
    r->nscenarios = o->nscenarios;
    r->year0 = o->year0;
    r->year1 = o->year1;
    r->site = calloc((size_t)r->nsites + 1, sizeof *r->site);
    r->scenario = calloc((size_t)r->nscenarios, sizeof *r->scenario);
    r->fips = calloc((size_t)n, sizeof *r->fips);
    r->site_ids = calloc((size_t)r->nsites + 1, sizeof *r->site_ids);
    r->scenario_names = calloc((size_t)r->nscenarios, sizeof *r->scenario_names);
    if (!r->site || !r->scenario || !r->fips || !r->site_ids || !r->scenario_names) AF_FAIL(AF_ENOMEM, "synth region: out of memory");
    make_sites(r);
    make_scenarios(r);
    for (int i = 0; i < n; i++) r->fips[i] = r->county[i].fips;
    for (int j = 0; j < r->nsites; j++) r->site_ids[j] = r->site[j].id;
    for (int k = 0; k < r->nscenarios; k++) r->scenario_names[k] = r->scenario[k].name;
cleanup:
    if (rc != AF_OK) af__synth_region_dispose(r);
    return rc;
}

void af__synth_region_dispose(af_synth_region *r)
{
    if (!r) return;
    if (r->county) af_synth_counties_free(r->county, r->ncounties);
    free(r->site);
    free(r->scenario);
    free((void *)r->fips);
    free((void *)r->site_ids);
    free((void *)r->scenario_names);
    memset(r, 0, sizeof *r);
}
