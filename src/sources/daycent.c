/* SPDX-License-Identifier: MIT */
/*
 * daycent.c: DayCent native output parsers (agroflux/models.h): whitespace
 * `.out` files with or without a header, comma-separated dc_sip.csv and
 * harvest.csv (trailing comma), soils.in layer counts, the column alias table
 * across DayCent builds, and the units DayCent writes per file and column.
 * A multi-year file can also be read year by year through a cursor (byte
 * offset of the next unread row, af__daycent_read_through), so the daycent
 * source parses each row once per run (see ecosys_source.c); such a read
 * asks for about the bytes of a year, not a whole block. Rows (whitespace
 * and comma-separated) are parsed in place in the reader's block buffer
 * (model_buf.c) through the byte-class masks of model_scan.h; a row the fast
 * path declines takes the tokenising path, which words the errors.
 */
#include <ctype.h>
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
#include "model_scan.h"
#include "numparse.h"

/* Names one quantity has across DayCent builds; the first is the one docs use. */
static const char *const aliases[][3] = {
    { "NEP", "NEE", NULL },        /* dc_sip.csv: NEE in DayCent 2017 */
    { "CH4_oxid", "CH4", NULL },   /* summary.out */
};

int af_daycent_column(const af_model_table *t, const char *name)
{
    int c = af_model_table_column(t, name);
    if (c >= 0 || !name) return c;
    for (size_t g = 0; g < sizeof aliases / sizeof aliases[0]; g++) {
        int member = 0;
        for (int i = 0; i < 3 && aliases[g][i]; i++) member |= !strcmp(aliases[g][i], name);
        if (!member) continue;
        for (int i = 0; i < 3 && aliases[g][i]; i++)
            if ((c = af_model_table_column(t, aliases[g][i])) >= 0) return c;
    }
    return -1;
}

const char *af_daycent_units(const char *file, const char *name)
{
    static const struct { const char *file, *cols, *units; } rows[] = {
        { "nflux.out", "|nit_N2O-N|dnit_N2O-N|dnit_N2-N|NO-N|CUM-N2O(gN/ha)|CUM-NO(gN/ha)|", "g N ha-1 d-1" },
        { "summary.out", "|tmax|tmin|", "degC" },
        { "summary.out", "|ppt|", "cm" },
        { "summary.out", "|N2Oflux|NOflux|NIT|", "g N ha-1 d-1" },
        { "summary.out", "|CO2resp|ntCO2resp|", "g C ha-1 d-1" },
        { "dc_sip.csv", "|trandly|evapdly|intrcpt|sublim|drain|runoff|ppt|petdly|", "cm" },
        { "dc_sip.csv", "|stemp|", "degC" },
        { "dc_sip.csv", "|CO2resp|NPP|NEP|NEE|aglivc|totsysc|", "g C m-2" },
        { "psyn.out", "|crpGrPsn|", "g C m-2 d-1" },
        { "harvest.csv", "|cgrain|", "g C m-2" },
        { "soiltavg.out", "*", "degC" },
        { "soiltmax.out", "*", "degC" },
        { "soiltmin.out", "*", "degC" },
        { "vswc.out", "*", "m3 m-3" },
        { "wfps.out", "*", "1" },
    };
    if (!file || !name) return NULL;
    char pat[160];
    snprintf(pat, sizeof pat, "|%s|", name);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].file, file)) continue;
        if (!strcmp(rows[i].cols, "*") || strstr(rows[i].cols, pat)) return rows[i].units;
    }
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Split a CSV line in place; one trailing empty field (the trailing comma) is dropped. */
static int split_csv(char *line, char **tok, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) return 0;
    char *p = line;
    for (;;) {
        if (n == max) return max + 1;
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (isspace((unsigned char)*p)) p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1])) *--e = '\0';
        tok[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    if (n > 1 && !tok[n - 1][0]) n--;
    return n;
}

typedef struct dc_reader {
    const char *path;
    int csv;
    int ncols;           /* expected tokens per row (header or 2 + nlayers) */
    int ctime, cday;     /* date columns */
    int lead;            /* ctime 0, cday 1, then value columns 0.. in order (dc_row_fast's short cut) */
    int *map;            /* token -> value column or -1 */
    long *rowline;       /* file line of each table row */
    size_t linecap;
} dc_reader;

/* A row's day key and file line, sorted to find duplicate days. */
typedef struct dc_key { long day, line; } dc_key;
static int cmp_key(const void *a, const void *b)
{
    const dc_key *x = a, *y = b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Two rows for the same day are an error naming both lines (DayCent writes one row per day). */
static int dc_check_duplicates(const dc_reader *r, const af_model_table *t, af_error *err)
{
    int rc = AF_OK;
    dc_key *k = NULL;
    size_t i = 1;
    while (i < t->nrows && t->year[i] * 1000L + t->doy[i] > t->year[i - 1] * 1000L + t->doy[i - 1]) i++;
    if (i >= t->nrows) goto cleanup; /* dates strictly increasing (as DayCent writes them): no day twice */
    k = malloc((t->nrows ? t->nrows : 1) * sizeof *k);
    AF_CHECK_ALLOC(k);
    for (size_t i = 0; i < t->nrows; i++) k[i] = (dc_key){ t->year[i] * 1000L + t->doy[i], r->rowline[i] };
    qsort(k, t->nrows, sizeof *k, cmp_key);
    for (size_t i = 1; i < t->nrows; i++)
        if (k[i].day == k[i - 1].day)
            AF_FAIL(AF_EFORMAT, "%s:%ld: duplicate day %ld of %ld: line %ld has the same time and dayofyr "
                    "(one row per day)", r->path, k[i].line, k[i].day % 1000, k[i].day / 1000, k[i - 1].line);
cleanup:
    free(k);
    return rc;
}

static int is_number(const char *s)
{
    double v;
    return af_ecosys_parse_number(s, &v);
}

static int dc_header(dc_reader *r, char **tok, int n, int nlayers, af_model_table *t, int *headerless, af_error *err)
{
    int rc = AF_OK;
    char **names = NULL;
    char buf[32];
    *headerless = !r->csv && n > 0 && is_number(tok[0]);
    r->ctime = r->cday = -1;
    if (*headerless) {
        if (nlayers <= 0)
            AF_FAIL(AF_EFORMAT, "%s:1: no header and no layer count (header-less layer files need soils.in)", r->path);
        r->ncols = 2 + nlayers;
        r->ctime = 0;
        r->cday = 1;
        names = calloc((size_t)nlayers, sizeof *names);
        AF_CHECK_ALLOC(names);
        for (int i = 0; i < nlayers; i++) {
            snprintf(buf, sizeof buf, "layer%d", i + 1);
            names[i] = strdup(buf);
            AF_CHECK_ALLOC(names[i]);
        }
        AF_CHECK(af__models_table_init(t, r->path, names, (size_t)nlayers, err));
        r->map = malloc((size_t)r->ncols * sizeof *r->map);
        AF_CHECK_ALLOC(r->map);
        for (int i = 0; i < r->ncols; i++) r->map[i] = i - 2;
        r->lead = 1;
        goto cleanup;
    }
    r->ncols = n;
    r->map = malloc((size_t)(n ? n : 1) * sizeof *r->map);
    names = calloc((size_t)(n ? n : 1), sizeof *names);
    AF_CHECK_ALLOC(r->map);
    AF_CHECK_ALLOC(names);
    int nv = 0;
    for (int i = 0; i < n; i++) {
        r->map[i] = -1;
        if (!strcmp(tok[i], "time")) r->ctime = i;
        else if (!strcmp(tok[i], "dayofyr")) r->cday = i;
        else { r->map[i] = nv; names[nv++] = tok[i]; }
    }
    if (r->ctime < 0 || r->cday < 0)
        AF_FAIL(AF_EFORMAT, "%s:1: header lacks column '%s' (header starts '%s')", r->path,
                r->ctime < 0 ? "time" : "dayofyr", n ? tok[0] : "");
    r->lead = r->ctime == 0 && r->cday == 1;
    AF_CHECK(af__models_table_init(t, r->path, names, (size_t)nv, err));
    free(names);
    names = NULL;
cleanup:
    if (names && *headerless)
        for (int i = 0; i < nlayers; i++) free(names[i]);
    free(names);
    return rc;
}

/* A row's date: time (year 0..9999) and dayofyr (1..365/366 of that year). */
static int dc_row_date(const dc_reader *r, long lineno, char **tok, int n, int *year, int *doy, af_error *err)
{
    int rc = AF_OK;
    if (n < r->ncols || (r->csv && n > r->ncols))
        AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected %d", r->path, lineno, n, r->ncols);
    double tv, dv;
    if (!af_ecosys_parse_number(tok[r->ctime], &tv))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column %d (time): '%s' is not a number", r->path, lineno, r->ctime + 1, tok[r->ctime]);
    /* found by tests/fuzz: a huge time overflowed the conversion to int */
    if (!(tv >= 0.0 && tv < 10000.0))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column %d (time): '%s' is not a year 0..9999", r->path, lineno, r->ctime + 1,
                tok[r->ctime]);
    *year = (int)floor(tv + 1e-6);
    if (!af_ecosys_parse_number(tok[r->cday], &dv) || dv != floor(dv) || dv < 1 ||
        dv > (af_date_is_leap(*year) ? 366 : 365))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column %d (dayofyr): '%s' is not a day of year %d", r->path, lineno,
                r->cday + 1, tok[r->cday], *year);
    *doy = (int)dv;
cleanup:
    return rc;
}

/* Double the room for the file lines of rows, or make it `rows` if that is more. */
static int dc_rowline_grow(dc_reader *r, size_t rows, af_error *err)
{
    int rc = AF_OK;
    size_t nc = r->linecap ? r->linecap * 2 : 400;
    if (nc < rows) nc = rows;
    long *nl = realloc(r->rowline, nc * sizeof *nl);
    AF_CHECK_ALLOC(nl);
    r->rowline = nl;
    r->linecap = nc;
cleanup:
    return rc;
}

/* Note the file line of table row `row` (for the duplicate-day message); inline: once per row. */
static inline int dc_rowline(dc_reader *r, size_t row, long lineno, af_error *err)
{
    if (row == r->linecap) {
        int rc = dc_rowline_grow(r, 0, err);
        if (rc != AF_OK) return rc;
    }
    r->rowline[row] = lineno;
    return AF_OK;
}

/* Size the table and the row lines once for about the rows the read will hold: the bytes it will read
 * (a year's for a cursor read, at most a block, else the rest of the file) over the length of the row at the buffer's
 * start, and some more; 400 rows at least (the first growth). Only the room is estimated: a wrong guess
 * costs a regrowth or some unused room, never a row. */
static int dc_presize(dc_reader *r, const af_mbuf *b, int chunked, af_model_table *t, size_t *rowcap,
                      af_error *err)
{
    int rc = AF_OK;
    const char *p = b->buf + b->beg, *nl = memchr(p, '\n', b->end - b->beg);
    long long left = b->want ? (long long)b->want : b->size - b->off;
    if (chunked && left > (long long)b->cap) left = (long long)b->cap; /* a year or so, not the file */
    size_t rows = 400;
    if (nl && left > 0) {
        long long est = left / (long long)(nl - p + 1);
        est += est / 16 + 16;
        if (est > (long long)rows && est < (1LL << 26)) rows = (size_t)est;
    }
    AF_CHECK(af__models_table_grow(t, rowcap, rows, err));
    AF_CHECK(dc_rowline_grow(r, rows, err));
cleanup:
    return rc;
}

/* The checks of dc_row_date on the numbers of a row from dc_row_fast, without messages: 1 if they hold. */
static int dc_date_fast(double tv, double dv, int *year, int *doy)
{
    if (!(tv >= 0.0 && tv < 10000.0) || !(dv >= 1 && dv <= 366)) return 0;
    int y = (int)(tv + 1e-6), d = (int)dv; /* truncation is floor here: both are positive */
    if (dv != (double)d || (d == 366 && !af_date_is_leap(y))) return 0; /* d <= 366 here */
    *year = y;
    *doy = d;
    return 1;
}

/* One row of a whitespace file parsed in place at p (AF_MBUF_PAD readable bytes past its end): time and
 * dayofyr into *tv and *dv, the value columns into vals (the table's reserved next row; missing as NaN).
 * Returns 1 with *end past the row's '\n', or 0 for anything else: extra trailing values, text cells,
 * a short row (the tokenising path then takes the row and words any error). */
static int dc_row_fast(const dc_reader *r, const char *p, double *tv, double *dv, double *vals, const char **end)
{
    if (r->lead) { /* time, dayofyr, then every value column in order: straight into the row */
        double head[2];
        if (!af__models_row_scan2(p, r->ncols, 2, head, vals, r->csv, end)) return 0;
        *tv = head[0];
        *dv = head[1];
        return 1;
    }
    double f[AF_MODELS_MAX_COLS];
    if (!af__models_row_scan2(p, r->ncols, r->ncols, f, NULL, r->csv, end)) return 0;
    for (int i = 0; i < r->ncols; i++) {
        int c = r->map[i];
        if (c >= 0) vals[c] = f[i];
        else if (i == r->ctime) *tv = f[i];
        else if (i == r->cday) *dv = f[i];
    }
    return 1;
}

static int dc_row(dc_reader *r, long lineno, char **tok, const size_t *tlen, int year, int doy, af_model_table *t,
                  size_t *cap, af_error *err)
{
    int rc = AF_OK;
    double *row;
    AF_CHECK(dc_rowline(r, t->nrows, lineno, err));
    AF_CHECK(af__models_table_add_row(t, cap, year, doy, &row, err));
    for (int i = 0; i < r->ncols; i++) {
        int c = r->map[i];
        if (c < 0) continue;
        double v;
        if (af__models_is_nan_text(tok[i])) continue;
        if (tlen ? af_numparse(tok[i], tlen[i], &v) : af_ecosys_parse_number(tok[i], &v)) {
            row[c] = af_missing_value(v) ? NAN : v; /* -9999, -6999: missing, as in every reader */
        } else if (!t->bad_line[c]) {
            t->bad_line[c] = lineno;
            t->bad_text[c] = strdup(tok[i]);
            AF_CHECK_ALLOC(t->bad_text[c]);
        }
    }
cleanup:
    return rc;
}

/* Read the file (cur NULL or cur->whole), or its rows from the cursor up to the first row of a year after
 * year_hi (the cursor then points at that row). Returns 1 in *unordered when a chunked read meets a row
 * dated before the row above it: the caller falls back to whole-file reads. */
static int dc_read(const char *path, int nlayers, af_dc_cursor *cur, int year_hi, af_model_table *out,
                   int *unordered, af_error *err)
{
    int rc = AF_OK;
    af_mbuf b;
    char *line = NULL, *tok[AF_MODELS_MAX_COLS + 1];
    size_t len = 0, tl = 0, rowcap = 0, tlen[AF_MODELS_MAX_COLS + 1];
    long lineno = 0;
    long long off = 0, rows_at = 0; /* rows_at: the offset of the first row read */
    int have_header = 0, prev_year = -1, chunked = cur && !cur->whole;
    dc_reader r;
    af_model_table t;
    memset(&b, 0, sizeof b);
    memset(&r, 0, sizeof r);
    memset(&t, 0, sizeof t);
    *unordered = 0;
    AF_CHECK_ARG(path && out);
    r.path = path;
    r.csv = ends_with(path, ".csv");
    int oe = af__mbuf_open(&b, path, AF_MBUF_BLOCK);
    if (oe) AF_FAIL(AF_ENOTFOUND, "cannot open DayCent file '%s': %s", path, strerror(oe));
    if (chunked && cur->offset > 0) b.want = 1024; /* the header first (a longer one reads on), then the rows */
    for (;;) {
        long long start = b.off; /* file offset of the next line */
        int year = 0, doy = 0;
        if (have_header) {
            double *row, tv = 0, dv = 0;
            const char *end;
            AF_CHECK(af__mbuf_ready(&b, path, err));
            if (rowcap == 0) AF_CHECK(dc_presize(&r, &b, chunked, &t, &rowcap, err));
            AF_CHECK(af__models_table_reserve(&t, &rowcap, &row, err));
            if (dc_row_fast(&r, b.buf + b.beg, &tv, &dv, row, &end) && dc_date_fast(tv, dv, &year, &doy)) {
                if (chunked && year < prev_year) {
                    *unordered = 1;
                    goto cleanup;
                }
                if (chunked && year > year_hi) break; /* the cursor stays at this row */
                prev_year = year;
                AF_CHECK(dc_rowline(&r, t.nrows, ++lineno, err));
                af__mbuf_skip(&b, (size_t)(end - (b.buf + b.beg)));
                af__models_table_commit(&t, year, doy);
                continue;
            }
            int more;
            AF_CHECK(af__mbuf_more(&b, path, &more, err)); /* a row cut by the block's end: read on, retry */
            if (more) continue;
        }
        AF_CHECK(af__mbuf_line(&b, path, &line, &len, &tl, err));
        if (!line) break;
        lineno++;
        AF_CHECK(af__models_check_nul(path, lineno, line, tl, err));
        if (lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* BOM */
        int n = r.csv ? split_csv(line, tok, AF_MODELS_MAX_COLS) : af__models_split_ws_len(line, tok, tlen, AF_MODELS_MAX_COLS);
        if (n > AF_MODELS_MAX_COLS) AF_FAIL(AF_EFORMAT, "%s:%ld: more than %d columns", path, lineno, AF_MODELS_MAX_COLS);
        if (n == 0) continue;
        if (!have_header) {
            int headerless = 0;
            AF_CHECK(dc_header(&r, tok, n, nlayers, &t, &headerless, err));
            have_header = 1;
            rows_at = chunked && cur->offset > 0 ? cur->offset : headerless ? start : b.off;
            if (chunked && cur->offset > 0) { /* resume after the header, at the cursor's row */
                AF_CHECK(af__mbuf_seek(&b, cur->offset, path, err));
                lineno = cur->lineno;
                /* about as many bytes as the last read took (a year of rows) and a little more, so that
                 * one read holds the year and the row after it; more are read as needed */
                b.want = cur->last_bytes > 0 ? (size_t)cur->last_bytes + cur->last_bytes / 64 + 1024 : 0;
                continue;
            }
            if (!headerless) continue;
        }
        AF_CHECK(dc_row_date(&r, lineno, tok, n, &year, &doy, err));
        if (chunked && year < prev_year) {
            *unordered = 1;
            goto cleanup;
        }
        if (chunked && year > year_hi) {
            b.off = start; /* the cursor stays at this row */
            lineno--;
            break;
        }
        prev_year = year;
        AF_CHECK(dc_row(&r, lineno, tok, r.csv ? NULL : tlen, year, doy, &t, &rowcap, err));
    }
    off = b.off;
    if (!have_header) AF_FAIL(AF_EFORMAT, "%s:1: empty file", path);
    if (!ends_with(path, "harvest.csv")) AF_CHECK(dc_check_duplicates(&r, &t, err));
    if (chunked) {
        cur->last_bytes = off - rows_at;
        cur->offset = off;
        cur->lineno = lineno;
        cur->done_year = year_hi;
    }
    *out = t;
    memset(&t, 0, sizeof t);
cleanup:
    free(r.map);
    free(r.rowline);
    af__mbuf_close(&b);
    af_model_table_dispose(&t);
    return rc;
}

int af_daycent_read(const char *path, int nlayers, af_model_table *out, af_error *err)
{
    int unordered;
    return dc_read(path, nlayers, NULL, 0, out, &unordered, err);
}

int af__daycent_read_through(const char *path, int nlayers, af_dc_cursor *cur, int year, int year_hi,
                             af_model_table *out, af_error *err)
{
    int rc = AF_OK, unordered = 0;
    AF_CHECK_ARG(cur && year <= year_hi);
    if (!cur->whole && year <= cur->done_year) { /* those rows were read already: start over */
        cur->offset = 0;
        cur->lineno = 0;
        cur->done_year = 0;
        cur->last_bytes = 0;
    }
    AF_CHECK(dc_read(path, nlayers, cur, year_hi, out, &unordered, err));
    if (unordered) {
        cur->whole = 1;
        AF_CHECK(dc_read(path, nlayers, cur, year_hi, out, &unordered, err));
    }
cleanup:
    return rc;
}

int af_daycent_soils_layers(const char *path, int *nlayers, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char *line = NULL, *tok[64];
    size_t cap = 0;
    long lineno = 0;
    int n = 0;
    AF_CHECK_ARG(path && nlayers);
    fp = fopen(path, "r");
    if (!fp) AF_FAIL(AF_ENOTFOUND, "cannot open DayCent soils file '%s': %s", path, strerror(errno));
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        AF_CHECK(af__models_check_nul(path, lineno, line, (size_t)len, err));
        int k = af__models_split_ws(line, tok, 63);
        if (k == 0) continue;
        if (k < 13)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected 13 (dpthmn dpthmx bulkd ... pH)", path, lineno, k);
        for (int i = 0; i < 13; i++)
            if (!is_number(tok[i]))
                AF_FAIL(AF_EFORMAT, "%s:%ld: column %d: '%s' is not a number", path, lineno, i + 1, tok[i]);
        n++;
    }
    if (n == 0) AF_FAIL(AF_EFORMAT, "%s: no soil layers", path);
    *nlayers = n;
cleanup:
    free(line);
    if (fp) fclose(fp);
    return rc;
}
