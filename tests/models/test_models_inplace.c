/* SPDX-License-Identifier: MIT */
/*
 * test_models_inplace.c: the model readers' in-place block parsing
 * (src/sources/model_buf.c and the fast row paths of ecosys.c and daycent.c)
 * on generated files of many read blocks. Rows mix what the fast paths
 * take and what they hand to the tokenising path: NaN text, -9999/-6999,
 * tabs and runs of blanks, CRLF, exponents beyond Clinger's case, D and
 * crowded exponents, %.17g, a line longer than a block, a blank line, a last
 * line without '\n'. Every cell must hold the value strtod gives the C
 * spelling of the text written (computed here, independently of the
 * parsers), missing values as NaN. Errors in rows past a block boundary must
 * name their line; the year-by-year cursor reads of a multi-year DayCent file
 * must give the rows of the whole-file read; a read error is AF_EIO.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/models.h"
#include "ecosys_impl.h"

static char tmpdir[] = "/tmp/af_inplace_XXXXXX";

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng(void) { return af_test_xorshift(&rng_state); }
static double urand(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

/* A growing text buffer. */
typedef struct sbuf { char *s; size_t n, cap; } sbuf;
static void put(sbuf *b, const char *t)
{
    size_t k = strlen(t);
    if (b->n + k + 1 > b->cap) {
        b->cap = 2 * (b->n + k + 1);
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, t, k + 1);
    b->n += k;
}

static const char *write_file(const char *name, const sbuf *b)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    fwrite(b->s, 1, b->n, fp);
    fclose(fp);
    return path;
}

/* The expected value of a cell: strtod of its C spelling; -9999, -6999, non-finite and NaN text are NaN. */
static double expected(const char *c_text)
{
    if (!strcmp(c_text, "NaN")) return NAN;
    char *end;
    double v = strtod(c_text, &end);
    if (*end) fprintf(stderr, "bad reference text '%s'\n", c_text);
    return !isfinite(v) || v == -9999.0 || v == -6999.0 ? NAN : v;
}

/* Ecosys' E14.7 spelling of v with the exponent e10 shifted by `shift` (to reach tiny or huge values). */
static void fortran_e(double v, int shift, char letter, int crowd, char *f, char *c, size_t n)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6e", fabs(v)); /* d.dddddde+XX */
    int e = atoi(strchr(tmp, 'e') + 1) + 1 + shift;
    char mant[8] = { tmp[0], tmp[2], tmp[3], tmp[4], tmp[5], tmp[6], tmp[7], 0 };
    if (v == 0) { memcpy(mant, "0000000", 8); e = 0; }
    const char *sign = v < 0 || (v == 0 && signbit(v)) ? "-" : "";
    if (crowd) /* Fortran drops the letter when a 3-digit exponent needs its place */
        snprintf(f, n, "%s0.%s%c%03d", sign, mant, e < 0 ? '-' : '+', abs(e));
    else
        snprintf(f, n, "%s0.%s%c%c%03d", sign, mant, letter, e < 0 ? '-' : '+', abs(e));
    snprintf(c, n, "%s0.%se%c%03d", sign, mant, e < 0 ? '-' : '+', abs(e));
}

/* One Ecosys cell: the text written (f) and its C spelling (c). */
static void ecosys_cell(char *f, char *c, size_t n)
{
    int k = (int)(rng() % 100);
    double v = (urand() - 0.3) * pow(10.0, (double)(rng() % 9) - 4.0);
    if (k < 70) fortran_e(v, 0, 'E', 0, f, c, n);
    else if (k < 73) { snprintf(f, n, "-0.9999000E+004"); snprintf(c, n, "-9999"); }
    else if (k < 74) { snprintf(f, n, "-0.6999000E+004"); snprintf(c, n, "-6999"); }
    else if (k < 76) { snprintf(f, n, "NaN"); snprintf(c, n, "NaN"); }
    else if (k < 79) fortran_e(v, -(int)(rng() % 40) - 10, 'E', 0, f, c, n); /* E-015 .. E-050: strtod */
    else if (k < 80) fortran_e(v, 20 + (int)(rng() % 20), 'E', 0, f, c, n);   /* E+025 ..: past 2^53 * 1e22 */
    else if (k < 82) fortran_e(v, 0, "DdeE"[rng() % 4], 0, f, c, n);
    else if (k < 83) fortran_e(v, rng() % 2 ? 100 : -100, 'E', 1, f, c, n); /* 0.1234567-100 */
    else if (k < 86) { snprintf(f, n, "%.17g", v * 1e3); snprintf(c, n, "%s", f); }
    else if (k < 92) { snprintf(f, n, "%.4f", v); snprintf(c, n, "%s", f); }
    else if (k < 98) { snprintf(f, n, "%.6g", v); snprintf(c, n, "%s", f); }
    else fortran_e(rng() % 2 ? 0.0 : -0.0, 0, 'E', 0, f, c, n);
}

/* Blanks between fields: mostly one space, sometimes runs and tabs. */
static const char *blank(void)
{
    int k = (int)(rng() % 50);
    return k == 0 ? "\t" : k == 1 ? "   " : k == 2 ? " \t " : " ";
}

static int same_value(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static void ddmmyyyy(int y, int d, char *out, size_t n)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int m = 0;
    while (d > mdays[m] + (m == 1 && is_leap(y))) d -= mdays[m] + (m == 1 && is_leap(y)), m++;
    snprintf(out, n, "%02d%02d%04d", d, m + 1, y);
}

enum { ECO_COLS = 200, ECO_ROWS = 366 };

/* An Ecosys file of 2004 (1.1 MB of values and one row with 1.1 MB of blanks: many 64 KiB blocks, and a
 * line that grows the buffer past 1 MiB);
 * expect[r * ECO_COLS + c] gets each cell's value. Row bad_row (if >= 0) gets `bad` in value column 6. */
static void ecosys_file(sbuf *b, double *expect, int bad_row, const char *bad)
{
    char f[64], c[64], date[32];
    put(b, "DOY DATE");
    for (int i = 0; i < ECO_COLS; i++) {
        snprintf(f, sizeof f, " V%d", i);
        put(b, f);
    }
    put(b, "\n");
    for (int r = 0; r < ECO_ROWS; r++) {
        ddmmyyyy(2004, r + 1, date, sizeof date);
        snprintf(f, sizeof f, "%8d.000 %s", r + 1, date);
        put(b, f);
        for (int i = 0; i < ECO_COLS; i++) {
            ecosys_cell(f, c, sizeof f);
            if (r == bad_row && i == 6) snprintf(f, sizeof f, "%s", bad);
            put(b, blank());
            if (r == 200 && i == 100) /* a row longer than a block */
                for (int k = 0; k < 11000; k++) put(b, "                                                                                                        ");
            put(b, f);
            if (expect) expect[r * ECO_COLS + i] = expected(c);
        }
        if (r == 150) put(b, "\n"); /* a blank line: skipped */
        if (r < ECO_ROWS - 1) put(b, rng() % 20 == 0 ? "\r\n" : rng() % 20 == 0 ? "  \n" : "\n");
    }
}

static void test_ecosys_blocks(void)
{
    sbuf b = { 0 };
    double *expect = malloc(ECO_ROWS * ECO_COLS * sizeof *expect);
    af_model_table t;
    memset(&t, 0, sizeof t);
    ecosys_file(&b, expect, -1, NULL);
    AF_EXPECT(b.n > (size_t)2 << 20); /* the reader's block is 64 KiB */
    AF_TEST_PASS(af_ecosys_read(write_file("0101002004dc", &b), &t, err));
    AF_EXPECT(t.nrows == ECO_ROWS && t.ncols == ECO_COLS);
    int bad = 0;
    for (size_t r = 0; r < t.nrows && r < ECO_ROWS && t.ncols == ECO_COLS; r++) {
        if (t.year[r] != 2004 || t.doy[r] != (int)r + 1) bad++;
        for (int i = 0; i < ECO_COLS; i++)
            if (!same_value(af_model_table_at(&t, r, (size_t)i), expect[r * ECO_COLS + i])) {
                if (bad++ < 5)
                    fprintf(stderr, "row %zu V%d: got %a, expected %a\n", r, i, af_model_table_at(&t, r, (size_t)i),
                            expect[r * ECO_COLS + i]);
            }
    }
    AF_EXPECT(bad == 0);
    af_model_table_dispose(&t);
    free(expect);
    free(b.s);
}

/* Errors in rows past a block boundary name their file line (row r is line r + 2; the blank line after
 * row 150 shifts later rows by one) and column. */
static void test_ecosys_block_errors(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    sbuf b = { 0 };
    ecosys_file(&b, NULL, 300, "0.12x4567E+003");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "eco:303: column 9 (V6): '0.12x4567E+003' is not a number",
                       af_ecosys_read(write_file("eco", &b), &t, err));
    free(b.s);
    memset(&b, 0, sizeof b);
    ecosys_file(&b, NULL, -1, NULL);
    size_t pos = 0;
    for (long line = 1; line < 343; pos++) line += b.s[pos] == '\n'; /* row 340: line 343 */
    b.s[pos + 40] = '\0';
    AF_TEST_FAILS_WITH(AF_EFORMAT, "eco:343: NUL byte at byte 41 of the line",
                       af_ecosys_read(write_file("eco", &b), &t, err));
    free(b.s);
    /* a directory opens but cannot be read: AF_EIO, not "empty file" */
    AF_TEST_FAILS_WITH(AF_EIO, "read error on", af_ecosys_read(tmpdir, &t, err));
    AF_TEST_FAILS_WITH(AF_EIO, "read error on", af_daycent_read(tmpdir, 0, &t, err));
}

enum { DC_COLS = 30, DC_Y0 = 2001, DC_YEARS = 20 };

/* A DayCent nflux.out-like file, DC_YEARS years x DC_COLS columns (about 1.9 MB); expect gets the values
 * (rows in order). Column 5 holds a text cell "x" once (row xrow); some rows carry extra trailing values. */
static size_t daycent_file(sbuf *b, double *expect, size_t xrow)
{
    char f[64], c[64];
    size_t row = 0;
    put(b, "time dayofyr");
    for (int i = 0; i < DC_COLS; i++) {
        snprintf(f, sizeof f, " c%d", i);
        put(b, f);
    }
    put(b, "\n");
    for (int y = DC_Y0; y < DC_Y0 + DC_YEARS; y++)
        for (int d = 1; d <= (is_leap(y) ? 366 : 365); d++, row++) {
            snprintf(f, sizeof f, "%d.%02d%s%d", y, (d - 1) * 100 / 366, blank(), d);
            put(b, f);
            for (int i = 0; i < DC_COLS; i++) {
                double v = (urand() - 0.2) * 50.0 * pow(10.0, (double)(rng() % 7) - 3.0);
                int k = (int)(rng() % 100);
                if (k < 45) snprintf(f, sizeof f, "%.4f", v);
                else if (k < 90) snprintf(f, sizeof f, "%.6g", v);
                else if (k < 93) snprintf(f, sizeof f, "-9999");
                else if (k < 95) snprintf(f, sizeof f, "NaN");
                else if (k < 98) snprintf(f, sizeof f, "%.17g", v);
                else snprintf(f, sizeof f, "%.3E", v);
                if (row == xrow && i == 5) snprintf(f, sizeof f, "x");
                put(b, blank());
                if (row == 3000 && i == 10) /* a row longer than the 64 KiB blocks */
                    for (int k2 = 0; k2 < 800; k2++) put(b, "                                                                                                    ");
                put(b, f);
                snprintf(c, sizeof c, "%s", f);
                expect[row * DC_COLS + i] = !strcmp(f, "x") ? NAN : expected(c);
            }
            if (rng() % 40 == 0) put(b, " 7 8"); /* extra trailing values: ignored */
            put(b, rng() % 30 == 0 ? "\r\n" : "\n");
        }
    return row;
}

static int same_rows(const af_model_table *a, size_t a0, const af_model_table *b, size_t b0, size_t n)
{
    if (a->ncols != b->ncols || a0 + n > a->nrows || b0 + n > b->nrows) return 0;
    for (size_t r = 0; r < n; r++) {
        if (a->year[a0 + r] != b->year[b0 + r] || a->doy[a0 + r] != b->doy[b0 + r]) return 0;
        for (size_t c = 0; c < a->ncols; c++)
            if (!same_value(af_model_table_at(a, a0 + r, c), af_model_table_at(b, b0 + r, c))) return 0;
    }
    return 1;
}

static void test_daycent_blocks(void)
{
    sbuf b = { 0 };
    size_t maxrows = (size_t)DC_YEARS * 366;
    double *expect = malloc(maxrows * DC_COLS * sizeof *expect);
    af_model_table whole, t;
    af_dc_cursor cur;
    memset(&whole, 0, sizeof whole);
    memset(&cur, 0, sizeof cur);
    size_t nrows = daycent_file(&b, expect, 5000);
    AF_EXPECT(b.n > (size_t)1 << 20);
    const char *path = write_file("nflux.out", &b);
    AF_TEST_PASS(af_daycent_read(path, 0, &whole, err));
    AF_EXPECT(whole.nrows == nrows && whole.ncols == DC_COLS);
    int bad = 0;
    for (size_t r = 0; r < whole.nrows && r < nrows && whole.ncols == DC_COLS; r++)
        for (int i = 0; i < DC_COLS; i++)
            if (!same_value(af_model_table_at(&whole, r, (size_t)i), expect[r * DC_COLS + i]) && bad++ < 5)
                fprintf(stderr, "row %zu c%d: got %a, expected %a\n", r, i, af_model_table_at(&whole, r, (size_t)i),
                        expect[r * DC_COLS + i]);
    AF_EXPECT(bad == 0);
    AF_EXPECT(whole.bad_line[5] == 5002 && !strcmp(whole.bad_text[5], "x")); /* row 5000 is line 5002 */
    /* year by year through the cursor: 64 KiB blocks, together the whole file's rows */
    size_t at = 0;
    for (int y = DC_Y0; y < DC_Y0 + DC_YEARS; y++) {
        memset(&t, 0, sizeof t);
        AF_TEST_PASS(af__daycent_read_through(path, 0, &cur, y, y == DC_Y0 + DC_YEARS - 1 ? INT_MAX : y, &t, err));
        AF_EXPECT(t.nrows == (size_t)(is_leap(y) ? 366 : 365) && same_rows(&t, 0, &whole, at, t.nrows));
        at += t.nrows;
        af_model_table_dispose(&t);
    }
    AF_EXPECT(at == nrows);
    af_model_table_dispose(&whole);
    /* a short row in 2015 fails when that year is read, with its line; the years before read fine */
    free(b.s);
    memset(&b, 0, sizeof b);
    daycent_file(&b, expect, 0);
    char *row = strchr(strstr(b.s, "\n2015.00") + 1, '\n'); /* before the second row of 2015: the first
                                                              * is read with 2014 (it ends that read) */
    char *eol = strchr(row + 1, '\n');
    long line = 1;
    for (const char *q = b.s; q <= row; q++) line += *q == '\n';
    memmove(row + 20, eol, strlen(eol) + 1); /* the second row of 2015 cut short */
    b.n = strlen(b.s);
    path = write_file("nflux.out", &b);
    memset(&cur, 0, sizeof cur);
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af__daycent_read_through(path, 0, &cur, DC_Y0, 2014, &t, err));
    af_model_table_dispose(&t);
    char needle[64];
    snprintf(needle, sizeof needle, "nflux.out:%ld: ", line);
    AF_TEST_FAILS_WITH(AF_EFORMAT, needle, af__daycent_read_through(path, 0, &cur, 2015, 2015, &t, err));
    free(b.s);
    free(expect);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    AF_RUN(test_ecosys_blocks);
    AF_RUN(test_ecosys_block_errors);
    AF_RUN(test_daycent_blocks);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return AF_TEST_END();
}
