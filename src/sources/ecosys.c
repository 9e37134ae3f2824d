/* SPDX-License-Identifier: MIT */
/*
 * ecosys.c: the Ecosys daily output parser (agroflux/models.h) and the
 * af_model_table helpers both model parsers share: Fortran numbers (exact,
 * through src/util/numparse.c), tokenising in place with token lengths (no
 * allocation per field), the NUL-byte check, the `DOY DATE vars...` layout
 * with DDMMYYYY dates checked against DOY, and the differencing of
 * year-to-date running totals into daily values. Rows are parsed in place
 * in the reader's block buffer (model_buf.c) by a fast path that converts
 * each field as it walks the row; a row it declines (odd spacing, text,
 * any error) takes the tokenising path, which words the error messages.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "agroflux/models.h"
#include "ecosys_impl.h"
#include "numparse.h"

void af_model_table_dispose(af_model_table *t)
{
    if (!t) return;
    for (size_t i = 0; t->names && i < t->ncols; i++) free(t->names[i]);
    free(t->names);
    for (size_t i = 0; t->bad_text && i < t->ncols; i++) free(t->bad_text[i]);
    free(t->bad_text);
    free(t->bad_line);
    free(t->year);
    free(t->doy);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int af_model_table_column(const af_model_table *t, const char *name)
{
    for (size_t i = 0; name && i < t->ncols; i++)
        if (!strcmp(t->names[i], name)) return (int)i;
    return -1;
}

int af_model_table_require(const af_model_table *t, int col, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(t && col >= 0 && (size_t)col < t->ncols);
    if (t->bad_line[col])
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': '%s' is not a number", t->path, t->bad_line[col], t->names[col],
                t->bad_text[col]);
cleanup:
    return rc;
}

void af_model_decumulate(const double *cum, int ndays, double *daily)
{
    daily[0] = NAN;
    for (int d = 1; d <= ndays; d++) daily[d] = d == 1 ? cum[1] : cum[d] - cum[d - 1];
}

int af_ecosys_parse_number(const char *text, double *out)
{
    return text ? af_numparse(text, strlen(text), out) : 0;
}

/* Split line (modified in place) on whitespace into at most max tokens; returns the count (max+1 if more). */
int af__models_split_ws(char *line, char **tok, int max)
{
    return af__models_split_ws_len(line, tok, NULL, max);
}

const unsigned char af__models_ws_class[256] = { [0] = 2, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1 };
#define ws_class af__models_ws_class

int af__models_split_ws_len(char *line, char **tok, size_t *len, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (ws_class[(unsigned char)*p] == 1) p++;
        if (!*p) return n;
        if (n == max) return max + 1;
        char *t = p;
        while (!ws_class[(unsigned char)*p]) p++;
        if (len) len[n] = (size_t)(p - t);
        tok[n++] = t;
        if (!*p) return n;
        *p++ = '\0';
    }
}

int af__models_check_nul(const char *path, long lineno, const char *line, size_t len, af_error *err)
{
    int rc = AF_OK;
    const char *z = memchr(line, '\0', len);
    if (z)
        AF_FAIL(AF_EFORMAT, "%s:%ld: NUL byte at byte %zu of the line (not a text model output)", path, lineno,
                (size_t)(z - line) + 1);
cleanup:
    return rc;
}

/* "NaN" or "nan": a missing value as Ecosys and DayCent write it. */
int af__models_is_nan_text(const char *s)
{
    return (s[0] == 'N' || s[0] == 'n') && s[1] == 'a' && (s[2] == 'N' || s[2] == 'n') && !s[3] &&
           (s[0] == 'N') == (s[2] == 'N');
}

int af__models_is_nan_n(const char *s, size_t n)
{
    return n == 3 && (!strncmp(s, "NaN", 3) || !strncmp(s, "nan", 3));
}

int af__models_field_slow(const char *p, const char **end, double *v)
{
    const char *e = p;
    while (!ws_class[(unsigned char)*e]) e++;
    *end = e;
    if (e == p || ws_class[(unsigned char)*e] != 1) return 0;
    if (af__models_is_nan_n(p, (size_t)(e - p))) {
        *v = NAN;
        return 1;
    }
    if (!af_numparse(p, (size_t)(e - p), v)) return 0;
    if (!isfinite(*v)) *v = NAN; /* 1e400: missing, as af_missing_value says */
    return 1;
}

int af__models_table_init(af_model_table *t, const char *path, char *const *names, size_t ncols, af_error *err)
{
    int rc = AF_OK;
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->names = calloc(ncols ? ncols : 1, sizeof *t->names);
    AF_CHECK_ALLOC(t->names);
    t->ncols = ncols;
    t->bad_line = calloc(ncols ? ncols : 1, sizeof *t->bad_line);
    t->bad_text = calloc(ncols ? ncols : 1, sizeof *t->bad_text);
    AF_CHECK_ALLOC(t->bad_line);
    AF_CHECK_ALLOC(t->bad_text);
    for (size_t i = 0; i < ncols; i++) {
        t->names[i] = strdup(names[i]);
        AF_CHECK_ALLOC(t->names[i]);
    }
cleanup:
    return rc;
}

int af__models_table_grow(af_model_table *t, size_t *cap, size_t rows, af_error *err)
{
    int rc = AF_OK;
    size_t nc = *cap ? *cap * 2 : 400;
    if (nc < rows) nc = rows;
    int *y = realloc(t->year, nc * sizeof *y);
    if (y) t->year = y;
    int *d = realloc(t->doy, nc * sizeof *d);
    if (d) t->doy = d;
    double *v = realloc(t->v, nc * (t->ncols ? t->ncols : 1) * sizeof *v);
    if (v) t->v = v;
    AF_CHECK_ALLOC(y && d && v ? t : NULL);
    *cap = nc;
cleanup:
    return rc;
}

int af__models_table_add_row(af_model_table *t, size_t *cap, int year, int doy, double **row, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af__models_table_reserve(t, cap, row, err));
    for (size_t c = 0; c < t->ncols; c++) (*row)[c] = NAN;
    af__models_table_commit(t, year, doy);
cleanup:
    return rc;
}

/* -9999 and -6999 in any spelling, and non-finite values, are missing (af_missing_value). */
static double ecosys_value(double v) { return af_missing_value(v) ? NAN : v; }

/* DATE as DDMMYYYY (7 digits when an integer write dropped the leading zero). */
static int parse_ddmmyyyy(const char *s, af_date *d)
{
    long v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n == 8 || s[n] < '0' || s[n] > '9') return 0;
        v = v * 10 + (s[n] - '0');
    }
    if (n != 7 && n != 8) return 0;
    d->year = (int)(v % 10000);
    d->month = (int)(v / 10000 % 100);
    d->day = (int)(v / 1000000);
    return af_date_valid(*d);
}

static int ecosys_header(const char *path, char *line, char **tok, int *ntok, af_error *err)
{
    int rc = AF_OK;
    *ntok = af__models_split_ws(line, tok, AF_MODELS_MAX_COLS);
    if (*ntok > AF_MODELS_MAX_COLS) AF_FAIL(AF_EFORMAT, "%s:1: more than %d columns", path, AF_MODELS_MAX_COLS);
    if (*ntok < 2 || strcmp(tok[0], "DOY") || strcmp(tok[1], "DATE"))
        AF_FAIL(AF_EFORMAT, "%s:1: column 1: expected header 'DOY DATE <variables>', got '%s'", path,
                *ntok ? tok[0] : "");
cleanup:
    return rc;
}

/* Check one data row's DOY and DATE; fills year and doy. */
static int ecosys_row_date(const char *path, long line, char **tok, int prev_doy, int *year, int *doy, af_error *err)
{
    int rc = AF_OK;
    double dv;
    af_date d;
    if (!af_ecosys_parse_number(tok[0], &dv) || dv != floor(dv) || dv < 1 || dv > 366)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column 1 (DOY): '%s' is not a day of year", path, line, tok[0]);
    if (!parse_ddmmyyyy(tok[1], &d))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column 2 (DATE): '%s' is not a DDMMYYYY date", path, line, tok[1]);
    if (af_date_doy(d) != (int)dv)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column 2 (DATE): '%s' is day %d of %d, but DOY says '%s'", path, line,
                tok[1], af_date_doy(d), d.year, tok[0]);
    if (*year && d.year != *year)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column 2 (DATE): '%s' is in %d, earlier rows in %d (one year per file)",
                path, line, tok[1], d.year, *year);
    if ((int)dv <= prev_doy)
        AF_FAIL(AF_EFORMAT, "%s:%ld: column 1 (DOY): '%s' does not follow day %d", path, line, tok[0], prev_doy);
    *year = d.year;
    *doy = (int)dv;
cleanup:
    return rc;
}

/* One data row parsed in place at p (AF_MBUF_PAD readable bytes past its end): DOY, DATE (7-8 digits) and
 * ncols values into vals (missing as NaN; vals is the table's reserved next row). Returns 1 with *end
 * past the row's '\n', or 0 for anything else (the row then takes the tokenising path, which words the
 * error). */
static int ecosys_row_fast(const char *p, size_t ncols, double *doy, long *date, double *vals, const char **end)
{
    const char *e;
    uint64_t dv;
    while (*p == ' ' || *p == '\t') p++;
    if (!af__models_field(p, &e, doy)) return 0;
    for (p = e; *p == ' ' || *p == '\t';) p++;
    int n = af__np_digits8(p, &dv);
    if ((n != 7 && n != 8) || ws_class[(unsigned char)p[n]] != 1) return 0;
    *date = (long)dv;
    p += n;
    while (*p == ' ' || *p == '\t') p++;
    for (size_t c = 0; c < ncols; c++) {
        double v;
        if (!af__models_next(&p, &v)) return 0;
        vals[c] = af__models_sentinel(v);
    }
    while (*p == '\r') p++;
    if (*p != '\n') return 0;
    *end = p + 1;
    return 1;
}

/* The checks of ecosys_row_date on a row from ecosys_row_fast, without messages: 1 if they all hold. */
static int ecosys_date_fast(double dv, long v, int prev_doy, int *year, int *doy)
{
    af_date d = { .year = (int)(v % 10000), .month = (int)(v / 10000 % 100), .day = (int)(v / 1000000) };
    if (!(dv >= 1 && dv <= 366) || dv != (double)(int)dv || !af_date_valid(d) || af_date_doy(d) != (int)dv ||
        (*year && d.year != *year) || (int)dv <= prev_doy)
        return 0;
    *year = d.year;
    *doy = (int)dv;
    return 1;
}

int af_ecosys_read(const char *path, af_model_table *out, af_error *err)
{
    int rc = AF_OK;
    af_mbuf b;
    char *line = NULL, *tok[AF_MODELS_MAX_COLS + 1];
    size_t len = 0, tl = 0, rowcap = 0, tlen[AF_MODELS_MAX_COLS + 1];
    long lineno = 0;
    int ntok = 0, year = 0, prev = 0;
    af_model_table t;
    memset(&b, 0, sizeof b);
    memset(&t, 0, sizeof t);
    AF_CHECK_ARG(path && out);
    int oe = af__mbuf_open(&b, path, AF_MBUF_BLOCK);
    if (oe) AF_FAIL(AF_ENOTFOUND, "cannot open Ecosys file '%s': %s", path, strerror(oe));
    AF_CHECK(af__mbuf_line(&b, path, &line, &len, &tl, err));
    if (!line) AF_FAIL(AF_EFORMAT, "%s:1: empty file (expected header 'DOY DATE ...')", path);
    lineno = 1;
    AF_CHECK(af__models_check_nul(path, lineno, line, tl, err));
    if (!strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* UTF-8 BOM */
    AF_CHECK(ecosys_header(path, line, tok, &ntok, err));
    AF_CHECK(af__models_table_init(&t, path, tok + 2, (size_t)(ntok - 2), err));
    for (;;) {
        const char *end;
        double dv;
        long date;
        int doy = 0;
        double *row;
        AF_CHECK(af__mbuf_start(&b, path, err));
        AF_CHECK(af__models_table_reserve(&t, &rowcap, &row, err));
        if (ecosys_row_fast(b.buf + b.beg, t.ncols, &dv, &date, row, &end) &&
            ecosys_date_fast(dv, date, prev, &year, &doy)) {
            lineno++;
            af__mbuf_skip(&b, (size_t)(end - (b.buf + b.beg)));
            af__models_table_commit(&t, year, doy);
            prev = doy;
            continue;
        }
        int more;
        AF_CHECK(af__mbuf_more(&b, path, &more, err)); /* a row cut by the block's end: read on, retry */
        if (more) continue;
        AF_CHECK(af__mbuf_line(&b, path, &line, &len, &tl, err));
        if (!line) break;
        lineno++;
        AF_CHECK(af__models_check_nul(path, lineno, line, tl, err));
        int n = af__models_split_ws_len(line, tok, tlen, AF_MODELS_MAX_COLS);
        if (n == 0) continue;
        if (n != ntok)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected %d (DOY DATE and %zu variables)", path, lineno,
                    n, ntok, t.ncols);
        AF_CHECK(ecosys_row_date(path, lineno, tok, prev, &year, &doy, err));
        prev = doy;
        AF_CHECK(af__models_table_add_row(&t, &rowcap, year, doy, &row, err));
        for (size_t c = 0; c < t.ncols; c++) {
            double v;
            const char *txt = tok[c + 2];
            if (af__models_is_nan_text(txt)) continue;
            if (!af_numparse(txt, tlen[c + 2], &v))
                AF_FAIL(AF_EFORMAT, "%s:%ld: column %zu (%s): '%s' is not a number", path, lineno, c + 3,
                        t.names[c], txt);
            row[c] = ecosys_value(v);
        }
    }
    *out = t;
    memset(&t, 0, sizeof t);
cleanup:
    af__mbuf_close(&b);
    af_model_table_dispose(&t);
    return rc;
}

/* Units fixed by the Ecosys output format; NH4/NO3 are unresolved (declare source_units). */
const char *af_ecosys_units(const char *name)
{
    static const struct { const char *prefix; const char *units; } rows[] = {
        { "ECO_GPP", "g C m-2" }, { "ECO_RA", "g C m-2" }, { "ECO_NPP", "g C m-2" }, { "ECO_RH", "g C m-2" },
        { "CO2_FLUX", "g C m-2" }, { "NBP", "g C m-2" }, { "SOC_", "g C m-2" }, { "ECO_HVST_C", "g C m-2" },
        { "N2O_FLUX", "g N m-2" }, { "FERTZR_N", "g N m-2" },
        { "ET", "mm" }, { "RUNOFF", "mm" }, { "PRECN", "mm" }, { "WTR_", "m3 m-3" },
        { "TMAX_SOIL_", "degC" }, { "TMIN_SOIL_", "degC" }, { "TMAX_AIR", "degC" }, { "TMIN_AIR", "degC" },
        { "RADN", "MJ m-2 d-1" }, { "HMAX_AIR", "kPa" }, { "HMIN_AIR", "kPa" }, { "WIND", "m s-1" },
    };
    for (size_t i = 0; name && i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = strlen(rows[i].prefix);
        int layered = rows[i].prefix[n - 1] == '_';
        if (layered ? !strncmp(name, rows[i].prefix, n) : !strcmp(name, rows[i].prefix)) return rows[i].units;
    }
    return NULL;
}
