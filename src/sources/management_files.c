/* SPDX-License-Identifier: MIT */
/*
 * management_files.c: reads the two file kinds of the management source.
 * Planting table: CSV with columns key, year, crop (CDL code or C/S), plant_date
 * and optionally harvest_date (names configurable); one row per key, year and
 * crop. Site fertilizer events: CSV with columns site, date, amount and
 * optionally units. Errors are AF_EFORMAT naming file:line, column and value.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "management_impl.h"

static int cmp_row(const void *a, const void *b)
{
    const mg_row *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    if (x->year != y->year) return x->year < y->year ? -1 : 1;
    if (x->crop != y->crop) return x->crop < y->crop ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static const char *field(const af_csv *csv, int col) { return col >= 0 && col < csv->nfields ? csv->fields[col] : ""; }

/* Parse a date field that must lie in `year` (year <= 0: any year). */
static int date_in_year(const af_csv *csv, int col, const char *name, int year, long *out, af_error *err)
{
    int rc = AF_OK;
    af_date d;
    af_error tmp = AF_ERROR_INIT;
    const char *v = field(csv, col);
    if (af_date_parse(v, &d, &tmp) != AF_OK)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad date '%s' (expected YYYY-MM-DD)", csv->path, csv->line, name, v);
    if (year > 0 && d.year != year)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': %s is outside year %d of the row", csv->path, csv->line, name, v, year);
    *out = af_date_to_epoch(d);
cleanup:
    return rc;
}

static int parse_row(const af_csv *csv, const mg_columns *c, const int *col, mg_row *r, af_error *err)
{
    int rc = AF_OK;
    long y;
    const char *v = field(csv, col[0]);
    if (!v[0] || strlen(v) >= sizeof r->key)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': empty or too long key '%s'", csv->path, csv->line, c->key, v);
    snprintf(r->key, sizeof r->key, "%s", v);
    v = field(csv, col[1]);
    if (!af_parse_long(v, &y) || y < 1 || y > 9999)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': '%s' is not a year", csv->path, csv->line, c->year, v);
    r->year = (int)y;
    v = field(csv, col[2]);
    if (!af_crop_parse(v, &r->crop))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': '%s' is not a crop (CDL code, C or S)", csv->path, csv->line, c->crop, v);
    AF_CHECK(date_in_year(csv, col[3], c->plant, r->year, &r->plant, err));
    r->harvest = -1;
    if (col[4] >= 0 && field(csv, col[4])[0]) {
        AF_CHECK(date_in_year(csv, col[4], c->harvest, r->year, &r->harvest, err));
        if (r->harvest < r->plant)
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': %s is before the planting date %s", csv->path, csv->line,
                    c->harvest, field(csv, col[4]), field(csv, col[3]));
    }
    r->line = csv->line;
cleanup:
    return rc;
}

int af__mg_read_planting(const char *path, const mg_columns *c, mg_file *out, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    int col[5];
    AF_CHECK(af_csv_open(path, &csv, err));
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, c->key, &col[0], err));
    AF_CHECK(af_csv_require_column(&csv, c->year, &col[1], err));
    AF_CHECK(af_csv_require_column(&csv, c->crop, &col[2], err));
    AF_CHECK(af_csv_require_column(&csv, c->plant, &col[3], err));
    col[4] = af_csv_column(&csv, c->harvest);
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; goto cleanup; }
        if (got == 0) break;
        mg_row *nr = realloc(out->rows, sizeof *nr * (out->nrows + 1));
        AF_CHECK_ALLOC(nr);
        out->rows = nr;
        AF_CHECK(parse_row(&csv, c, col, &nr[out->nrows], err));
        out->nrows++;
    }
    if (out->nrows) qsort(out->rows, out->nrows, sizeof *out->rows, cmp_row);
    for (size_t i = 1; i < out->nrows; i++) {
        const mg_row *a = &out->rows[i - 1], *b = &out->rows[i];
        if (!strcmp(a->key, b->key) && a->year == b->year && a->crop == b->crop)
            AF_FAIL(AF_EFORMAT, "%s:%ld: duplicate row for key '%s' year %d crop %d (first at line %ld)", path,
                    b->line, b->key, b->year, b->crop, a->line);
    }
cleanup:
    af_csv_close(&csv);
    if (rc != AF_OK) af__mg_file_dispose(out);
    return rc;
}

int af__mg_read_events(const char *path, const char *declared_units, mg_file *out, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    int cs, cd, ca, cu;
    AF_CHECK(af_csv_open(path, &csv, err));
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, "site", &cs, err));
    AF_CHECK(af_csv_require_column(&csv, "date", &cd, err));
    AF_CHECK(af_csv_require_column(&csv, "amount", &ca, err));
    cu = af_csv_column(&csv, "units");
    if (cu < 0 && !declared_units[0])
        AF_FAIL(AF_ECONFIG, "%s:%ld: no 'units' column and no events_units declared: the amounts' units are unknown",
                path, csv.header_line);
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; goto cleanup; }
        if (got == 0) break;
        mg_fert *nf = realloc(out->ferts, sizeof *nf * (out->nferts + 1));
        AF_CHECK_ALLOC(nf);
        out->ferts = nf;
        mg_fert *f = &nf[out->nferts];
        memset(f, 0, sizeof *f);
        snprintf(f->site, sizeof f->site, "%s", field(&csv, cs));
        AF_CHECK(date_in_year(&csv, cd, "date", 0, &f->epoch, err));
        const char *v = field(&csv, ca);
        if (!af_parse_double(v, &f->amount) || !(f->amount >= 0))
            AF_FAIL(AF_EFORMAT, "%s:%ld: column 'amount': '%s' is not a non-negative number", path, csv.line, v);
        v = cu >= 0 ? field(&csv, cu) : "";
        if (!v[0]) v = declared_units;
        if (!v[0]) AF_FAIL(AF_EFORMAT, "%s:%ld: column 'units': empty and no events_units declared", path, csv.line);
        snprintf(f->units, sizeof f->units, "%s", v);
        f->line = csv.line;
        out->nferts++;
    }
cleanup:
    af_csv_close(&csv);
    if (rc != AF_OK) af__mg_file_dispose(out);
    return rc;
}

size_t af__mg_find(const mg_file *f, const char *key, int year, size_t *first)
{
    size_t lo = 0, hi = f->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const mg_row *r = &f->rows[mid];
        int c = strcmp(r->key, key);
        if (c < 0 || (c == 0 && r->year < year)) lo = mid + 1;
        else hi = mid;
    }
    *first = lo;
    size_t n = 0;
    while (lo + n < f->nrows && !strcmp(f->rows[lo + n].key, key) && f->rows[lo + n].year == year) n++;
    return n;
}

void af__mg_file_dispose(mg_file *f)
{
    if (!f) return;
    free(f->rows);
    free(f->ferts);
    f->rows = NULL;
    f->ferts = NULL;
    f->nrows = f->nferts = 0;
}
