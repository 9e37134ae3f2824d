/* SPDX-License-Identifier: MIT */
/*
 * test_models_scan.c: the mask-based row parser of the DayCent reader
 * (src/sources/model_scan.h), one field at a time and in SSE2 pairs, and the
 * year-by-year cursor's sized reads.
 * The byte classes of af__scan64 (SSE2 where built so) and of the portable
 * af__scan64_swar must both equal a byte-by-byte classification written
 * here, over every byte value and at every alignment. Rows given to
 * af__models_row_scan must give, bit for bit, the value strtod gives each
 * field's text (computed here from the text, independently of the parser;
 * -9999/-6999 and NaN text as NaN), including fields across the 64-byte
 * steps, signs, points first and last, `0.` plus 8 digits, and shapes the
 * short path hands on (exponents, '+', 9 digits); and must decline (0)
 * short rows, extra fields, text cells, a stray '\r', NUL or control byte,
 * a field of 64 bytes, a row without its '\n'. Comma-separated rows likewise
 * (blanks around commas, one trailing comma; empty fields, a leading comma or
 * two trailing ones declined), and a 20-year dc_sip.csv read whole and year by
 * year against strtod of every cell. Through af_daycent_read the
 * declined rows must still fail with their line (malformed number, short
 * row, bad day of year). A multi-year file whose years differ in size must
 * read year by year into the whole-file rows.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/models.h"
#include "model_scan.h"

static char tmpdir[] = "/tmp/af_mscan_XXXXXX";

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) { return af_test_xorshift(&rng_state); }

/* The classes byte by byte: the definition the masks must meet. */
static void classify_ref(const char *p, af_scan_masks *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)p[i];
        uint64_t bit = UINT64_C(1) << i;
        if (c > ' ') m->tok |= bit;
        if (c == ' ' || c == '\t') m->blank |= bit;
        if (c >= '0' && c <= '9') m->digit |= bit;
        if (c == '.') m->dot |= bit;
        if (c == '-') m->minus |= bit;
        if (c == ',') m->comma |= bit;
    }
}

static int same_masks(const af_scan_masks *a, const af_scan_masks *b)
{
    return a->tok == b->tok && a->blank == b->blank && a->digit == b->digit && a->dot == b->dot &&
           a->minus == b->minus && a->comma == b->comma;
}

static void test_masks(void)
{
    static char buf[4096 + 64];
    for (int i = 0; i < 4096; i++) buf[i] = (char)(i % 256); /* every byte value at every position mod 64 */
    int bad = 0;
    for (int round = 0; round < 2; round++) {
        for (int off = 0; off < 4096; off += round ? 1 : 7) {
            af_scan_masks want, sse, swar;
            classify_ref(buf + off, &want);
            af__scan64(buf + off, &sse, 1);
            af__scan64_swar(buf + off, &swar, 1);
            if ((!same_masks(&want, &sse) || !same_masks(&want, &swar)) && bad++ < 3)
                fprintf(stderr, "masks differ at offset %d\n", off);
        }
        for (int i = 0; i < 4096; i++) buf[i] = " \t\r\n0123456789.-+eE\x80\xff\x01x"[rng() % 23];
    }
    AF_EXPECT(bad == 0);
    /* the bits land where the bytes are */
    af_scan_masks m;
    const char *row = "2003.00 -1\t5\r\n";
    memset(buf, 0, 128);
    memcpy(buf, row, strlen(row));
    af__scan64_swar(buf, &m, 1);
    AF_EXPECT(m.tok == UINT64_C(0x0B7F) && m.blank == UINT64_C(0x0480) && m.dot == UINT64_C(0x10) &&
              m.minus == UINT64_C(0x100) && m.digit == UINT64_C(0x0A6F));
}

/* The fields of row: blank-separated, or (csv) comma-separated with blanks around them trimmed and one
 * trailing empty field dropped; returns how many, pointing into copy. */
static int split_ref(char *copy, int csv, char **tok)
{
    int n = 0;
    if (!csv) {
        for (char *t = strtok(copy, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) tok[n++] = t;
        return n;
    }
    copy[strcspn(copy, "\r\n")] = '\0';
    for (char *t = copy;;) {
        char *comma = strchr(t, ',');
        if (comma) *comma = '\0';
        while (*t == ' ' || *t == '\t') t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        tok[n++] = t;
        if (!comma) break;
        t = comma + 1;
    }
    if (n > 1 && !tok[n - 1][0]) n--;
    return n;
}

/* strtod of each field of row (the reference), -9999/-6999/NaN text as NaN; returns n. */
static int reference(const char *row, int csv, double *want)
{
    char copy[8192], *tok[1024];
    snprintf(copy, sizeof copy, "%s", row);
    int n = split_ref(copy, csv, tok);
    for (int f = 0; f < n; f++) {
        const char *t = tok[f];
        char c_text[256], *end;
        size_t j = 0;
        for (size_t i = 0; t[i] && j + 2 < sizeof c_text; i++) { /* the C spelling: D as e, `1.5-3` as 1.5e-3 */
            char c = t[i];
            if (c == 'D' || c == 'd') c = 'e';
            if ((c == '+' || c == '-') && i > 0 && strchr("0123456789.", t[i - 1])) c_text[j++] = 'e';
            c_text[j++] = c;
        }
        c_text[j] = '\0';
        double v = strcmp(t, "NaN") ? strtod(c_text, &end) : NAN;
        if (strcmp(t, "NaN") && *end) fprintf(stderr, "bad reference text '%s'\n", c_text);
        want[f] = v == -9999.0 || v == -6999.0 || !isfinite(v) ? NAN : v;
    }
    return n;
}

static int same_bits(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

/* Parse row (which ends in '\n') with nh head fields; 1 if it was taken and every value is strtod's. */
static int scan_matches_sep(const char *row, int nh, int csv)
{
    static char buf[8192];
    double want[1024], head[1024], rest[1024];
    int n = reference(row, csv, want);
    size_t len = strlen(row);
    memset(buf, 0, sizeof buf);
    memcpy(buf, row, len);
    int ok = 1;
    for (int pairs = 0; pairs < 2; pairs++) { /* one field at a time, and in SSE2 pairs */
        const char *end = NULL;
        for (int k = 0; k < 1024; k++) head[k] = rest[k] = 12345.0; /* every place must be written */
        if (!(pairs ? af__models_row_scan2 : af__models_row_scan)(buf, n, nh, head, rest, csv, &end)) {
            fprintf(stderr, "declined (pairs %d): '%s'\n", pairs, row);
            return 0;
        }
        ok &= end == buf + len;
        for (int k = 0; k < n; k++) {
            double got = k < nh ? head[k] : rest[k - nh];
            if (!same_bits(got, want[k])) {
                fprintf(stderr, "field %d of '%s' (pairs %d): got %a, expected %a\n", k, row, pairs, got, want[k]);
                ok = 0;
            }
        }
    }
    return ok;
}
static int scan_matches(const char *row, int nh) { return scan_matches_sep(row, nh, 0); }

/* 1 if the row is declined when n fields are expected. */
static int declined_sep(const char *row, size_t len, int n, int csv)
{
    static char buf[8192];
    double f[1024];
    const char *end;
    memset(buf, 0, sizeof buf);
    memcpy(buf, row, len);
    return !af__models_row_scan(buf, n, n, f, NULL, csv, &end) && !af__models_row_scan2(buf, n, n, f, NULL, csv, &end);
}
static int declined(const char *row, size_t len, int n) { return declined_sep(row, len, n, 0); }

static void test_rows(void)
{
    AF_EXPECT(scan_matches("2003.00 1 12.3456 -3.4567 0.5 -0.5 366 0 -0 -0.0000 5.\n", 2));
    AF_EXPECT(scan_matches("2003.00 1 .5 -.5 12345678 -12345678 1234567.8 -1.234567\n", 2));
    AF_EXPECT(scan_matches("2003.00 1 0.0123456 -0.0123456 0.00123456 -0.00123456 0.1 0.12345678\n", 2));
    /* shapes the short path hands on: exponents, '+', 9 or more digits, NaN text, sentinels */
    AF_EXPECT(scan_matches("2003.00 1 1e-05 -1.23456e+07 +7 +0.25 123456789 -0.000012345678 1.0D+2\n", 2));
    AF_EXPECT(scan_matches("2003.00 1 NaN -9999 -9999.0000 -6999 -0.9999000E+004 0.1234567E+003 1.5-3\n", 2));
    AF_EXPECT(scan_matches("  \t2003.00\t\t1   7 8  \r\r\n", 2));          /* blanks around and CR before LF */
    AF_EXPECT(scan_matches("2003.00 1 0.123456789012345678 3.14159265358979\n", 2)); /* 17+ digits */
    /* rows over several 64-byte steps, fields cut by a step's end in every position */
    for (int shift = 0; shift < 70; shift++) {
        char row[1024];
        int n = snprintf(row, sizeof row, "%*s2010.50 200", shift, "");
        for (int c = 0; c < 40; c++) {
            double v = ((double)(rng() % 2000000) - 400000.0) / 10000.0;
            n += snprintf(row + n, sizeof row - (size_t)n, c % 3 ? " %.4f" : c % 5 ? "  %.6g" : "\t%.17g", v);
        }
        snprintf(row + n, sizeof row - (size_t)n, "\n");
        if (!scan_matches(row, 2)) AF_EXPECT(0);
    }
    /* head only; an odd count; a head of odd length (the pairs straddle head and rest) */
    AF_EXPECT(scan_matches("1 2 3\n", 3));
    AF_EXPECT(scan_matches("-7\n", 1));
    AF_EXPECT(scan_matches("2003.00 1 5 -0.25 7 8.5 -9999\n", 3));
    AF_EXPECT(scan_matches("2003.00 1 NaN 1e3 -6999 0.5 +2\n", 1)); /* converted at once, placed after the pairs */
    {
        char wide[8192]; /* more fields than the pairs take (256): one at a time */
        int n = snprintf(wide, sizeof wide, "2003.00 1");
        for (int c = 0; c < 300; c++) n += snprintf(wide + n, sizeof wide - (size_t)n, " %d.%02d", c - 150, c % 100);
        snprintf(wide + n, sizeof wide - (size_t)n, "\n");
        AF_EXPECT(scan_matches(wide, 2));
    }
    /* declined: the tokenising path takes these rows and words their errors */
    AF_EXPECT(declined("2003.00 1 5\n", 12, 4));             /* short */
    AF_EXPECT(declined("2003.00 1 5 6 7\n", 16, 4));         /* extra trailing value */
    AF_EXPECT(declined("2003.00 1 5 x\n", 14, 4));           /* text cell */
    AF_EXPECT(declined("2003.00 1 5 1.2.3\n", 18, 4));       /* two points */
    AF_EXPECT(declined("2003.00 1 5 12-\n", 16, 4));         /* no exponent digits */
    AF_EXPECT(declined("2003.00 1 - 6\n", 14, 4));           /* a sign alone */
    AF_EXPECT(declined("2003.00 1 5\r6\n", 14, 4));          /* CR inside the row */
    AF_EXPECT(declined("2003.00 1 5 6\x01\n", 15, 4));       /* control byte */
    AF_EXPECT(declined("2003.00 1 5\0 6\n", 15, 4));         /* NUL */
    AF_EXPECT(declined("2003.00 1 5 6", 13, 4));             /* no '\n' before the buffer's end */
    AF_EXPECT(declined("\n", 1, 4));                         /* blank line */
    char longf[160];
    memset(longf, '1', 70);
    snprintf(longf + 70, sizeof longf - 70, " 2\n");
    AF_EXPECT(declined(longf, strlen(longf), 2));           /* a field of 64 bytes or more */
}

static const char *put(const char *name, const char *text);

/* Comma-separated rows (dc_sip.csv, harvest.csv): the same values; the rows the tokenising path must
 * word declined. */
static void test_csv_rows(void)
{
    AF_EXPECT(scan_matches_sep("2003.00,1,12.3456,-0.5,\n", 2, 1));
    AF_EXPECT(scan_matches_sep("2003.00,1,12.3456,-0.5\n", 2, 1));                /* no trailing comma */
    AF_EXPECT(scan_matches_sep(" 2003.00 , 1\t,NaN,-9999, 1e3 ,+2,0.0123456 , \r\n", 2, 1));
    for (int shift = 0; shift < 70; shift++) { /* commas and fields across the 64-byte steps */
        char row[1024];
        int n = snprintf(row, sizeof row, "%*s2010.50,200", shift, "");
        for (int c = 0; c < 30; c++) {
            double v = ((double)(rng() % 2000000) - 400000.0) / 10000.0;
            n += snprintf(row + n, sizeof row - (size_t)n, c % 3 ? ",%.4f" : c % 5 ? ", %.6g" : " ,%.17g", v);
        }
        snprintf(row + n, sizeof row - (size_t)n, shift % 2 ? ",\n" : "\n");
        if (!scan_matches_sep(row, 2, 1)) AF_EXPECT(0);
    }
    AF_EXPECT(declined_sep(",2003.00,1,5\n", 13, 3, 1));     /* a comma before the first field */
    AF_EXPECT(declined_sep("2003.00,,1,5\n", 13, 3, 1));     /* an empty field */
    AF_EXPECT(declined_sep("2003.00,1,5,,\n", 14, 3, 1));    /* two trailing commas */
    AF_EXPECT(declined_sep("2003.00 1,5\n", 12, 3, 1));      /* blanks, no comma, between two fields */
    AF_EXPECT(declined_sep("2003.00,1,5;6\n", 14, 3, 1));    /* not a number */
    AF_EXPECT(declined_sep("2003.00,1,\"5\"\n", 14, 3, 1)); /* quoted */
    AF_EXPECT(declined_sep("2003.00,1,5,6,\n", 15, 3, 1));   /* one field too many */
    AF_EXPECT(declined_sep("2003.00,1,\n", 11, 3, 1));       /* one too few */
}

/* A dc_sip.csv of many blocks through af_daycent_read and the cursor: every cell strtod's value; a text
 * cell and a short row past a block with their lines. */
static void test_csv_reader(void)
{
    size_t cap = 1 << 22, n = 0;
    char *text = malloc(cap);
    double *want = malloc(20 * 366 * 6 * sizeof *want);
    long rows = 0;
    n += (size_t)snprintf(text + n, cap - n, "time,dayofyr,NPP,NEE,evapdly,stemp,aglivc,totsysc,\n");
    for (int y = 2001; y <= 2020; y++)
        for (int d = 1; d <= (y % 4 == 0 ? 366 : 365); d++, rows++) {
            n += (size_t)snprintf(text + n, cap - n, "%d.%02d,%d", y, (d - 1) * 100 / 366, d);
            for (int c = 0; c < 6; c++) {
                char cell[64];
                double v = ((double)(rng() % 4000000) - 800000.0) / (c % 2 ? 1e4 : 1e6);
                int k = (int)(rng() % 50);
                if (k == 0) snprintf(cell, sizeof cell, "-9999");
                else if (k == 1) snprintf(cell, sizeof cell, "%.3E", v);
                else snprintf(cell, sizeof cell, c % 2 ? "%.4f" : "%.6g", v);
                n += (size_t)snprintf(text + n, cap - n, k == 2 ? ", %s" : ",%s", cell);
                want[rows * 6 + c] = k == 0 ? NAN : strtod(cell, NULL);
            }
            n += (size_t)snprintf(text + n, cap - n, rng() % 10 ? ",\n" : "\n");
        }
    const char *path = put("dc_sip.csv", text);
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_daycent_read(path, 0, &t, err));
    int bad = 0;
    AF_EXPECT(t.nrows == (size_t)rows && t.ncols == 6);
    for (size_t r = 0; r < t.nrows && t.ncols == 6; r++)
        for (size_t c = 0; c < 6; c++)
            if (!same_bits(af_model_table_at(&t, r, c), want[r * 6 + c]) && bad++ < 3)
                fprintf(stderr, "dc_sip row %zu col %zu: got %a, expected %a\n", r, c, af_model_table_at(&t, r, c),
                        want[r * 6 + c]);
    AF_EXPECT(bad == 0);
    af_model_table_dispose(&t);
    af_dc_cursor cur;
    memset(&cur, 0, sizeof cur);
    size_t at = 0;
    for (int y = 2001; y <= 2020; y++) {
        AF_TEST_PASS(af__daycent_read_through(path, 0, &cur, y, y, &t, err));
        for (size_t r = 0; r < t.nrows && t.ncols == 6; r++)
            for (size_t c = 0; c < 6; c++) bad += !same_bits(af_model_table_at(&t, r, c), want[(at + r) * 6 + c]);
        at += t.nrows;
        af_model_table_dispose(&t);
    }
    AF_EXPECT(at == (size_t)rows && bad == 0);
    /* a text cell in row 4000 (line 4002; row r is line r + 2): noted with its line, the cell NaN, the row kept */
    char *row = text;
    for (int line = 1; line < 4002; line++) row = strchr(row, '\n') + 1;
    char *npp = strchr(strchr(row, ',') + 1, ',') + 1, *after = strchr(npp, ',');
    memmove(npp + 1, after, strlen(after) + 1);
    *npp = 'x';
    AF_TEST_PASS(af_daycent_read(put("dc_sip.csv", text), 0, &t, err));
    AF_EXPECT(t.nrows == (size_t)rows && t.bad_line[0] == 4002 && t.bad_text[0] && !strcmp(t.bad_text[0], "x") &&
              isnan(af_model_table_at(&t, 4000, 0)) && same_bits(af_model_table_at(&t, 4000, 1), want[4000 * 6 + 1]));
    af_model_table_dispose(&t);
    /* row 5000 (line 5002) cut after NPP: the error names its line */
    row = text;
    for (int line = 1; line < 5002; line++) row = strchr(row, '\n') + 1;
    char *comma = strchr(strchr(strchr(row, ',') + 1, ',') + 1, ',');
    memmove(comma, strchr(row, '\n'), strlen(strchr(row, '\n')) + 1);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dc_sip.csv:5002: 3 fields, expected 8", af_daycent_read(put("dc_sip.csv", text), 0, &t, err));
    free(want);
    free(text);
}

static const char *put(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Rows the fast path declines still fail (or are noted) with their file line through af_daycent_read. */
static void test_errors_through_reader(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_daycent_read(put("summary.out", "time dayofyr a b\n2003.00 1 5 6\n2003.00 2 1.2.3 0.25\n"), 0,
                                 &t, err));
    AF_EXPECT(t.nrows == 2 && t.bad_line[0] == 3 && !strcmp(t.bad_text[0], "1.2.3") && isnan(af_model_table_at(&t, 1, 0)) &&
              af_model_table_at(&t, 1, 1) == 0.25);
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: 3 fields, expected 4",
                       af_daycent_read(put("summary.out", "time dayofyr a b\n2003.00 1 5 6\n2003.00 2 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: column 2 (dayofyr): '366' is not a day of year 2003",
                       af_daycent_read(put("summary.out", "time dayofyr a\n2003.00 1 5\n2003.99 366 6\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:2: column 2 (dayofyr): '1.5' is not a day of year 2003",
                       af_daycent_read(put("summary.out", "time dayofyr a\n2003.00 1.5 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:2: column 1 (time): '-9999' is not a year 0..9999",
                       af_daycent_read(put("summary.out", "time dayofyr a\n-9999 1 5\n"), 0, &t, err));
    /* day 366 of a leap year is a day */
    AF_TEST_PASS(af_daycent_read(put("summary.out", "time dayofyr a\n2004.99 366 -9999\n"), 0, &t, err));
    AF_EXPECT(t.nrows == 1 && t.year[0] == 2004 && t.doy[0] == 366 && isnan(af_model_table_at(&t, 0, 0)));
    af_model_table_dispose(&t);
}

/* Years of very different sizes (1, 365 and 366 rows; short and long rows): the sized reads of the cursor
 * must read past a too-small estimate and give the whole file's rows; the whole-file read, its table sized
 * from a first row far longer than the others, must grow it and keep every row. */
static void test_cursor_sizes(void)
{
    size_t cap = 1 << 22, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, "time dayofyr a b\n");
    long rows = 0;
    for (int y = 2001; y <= 2008; y++) {
        int days = y == 2002 ? 1 : y % 4 == 0 ? 366 : 365;
        for (int d = 1; d <= days; d++, rows++) {
            n += (size_t)snprintf(text + n, cap - n, "%d.00 %d %.4f", y, d, (double)(rng() % 100000) / 1000.0);
            if (y == 2003 || y == 2007 || rows == 0) /* wide rows: far more bytes than the year before; a */
                for (int k = 0; k < 40; k++)          /* wide first row: the whole read's room, sized from */
                    n += (size_t)snprintf(text + n, cap - n, rows ? "     " : "                    "); /* it, grows */
            n += (size_t)snprintf(text + n, cap - n, " %.6g\n", (double)(rng() % 100000) / 7.0);
        }
    }
    const char *path = put("nflux.out", text);
    af_model_table whole, t;
    af_dc_cursor cur;
    memset(&whole, 0, sizeof whole);
    memset(&cur, 0, sizeof cur);
    AF_TEST_PASS(af_daycent_read(path, 0, &whole, err));
    AF_EXPECT(whole.nrows == (size_t)rows);
    size_t at = 0;
    for (int y = 2001; y <= 2008; y++) {
        memset(&t, 0, sizeof t);
        AF_TEST_PASS(af__daycent_read_through(path, 0, &cur, y, y, &t, err));
        int ok = t.ncols == whole.ncols && at + t.nrows <= whole.nrows;
        for (size_t r = 0; ok && r < t.nrows; r++) {
            ok = t.year[r] == y && whole.year[at + r] == y && t.doy[r] == whole.doy[at + r];
            for (size_t c = 0; ok && c < t.ncols; c++)
                ok = same_bits(af_model_table_at(&t, r, c), af_model_table_at(&whole, at + r, c));
        }
        AF_EXPECT(ok && t.nrows == (size_t)(y == 2002 ? 1 : y % 4 == 0 ? 366 : 365));
        at += t.nrows;
        af_model_table_dispose(&t);
    }
    AF_EXPECT(at == whole.nrows);
    af_model_table_dispose(&whole);
    free(text);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    AF_RUN(test_masks);
    AF_RUN(test_rows);
    AF_RUN(test_csv_rows);
    AF_RUN(test_csv_reader);
    AF_RUN(test_errors_through_reader);
    AF_RUN(test_cursor_sizes);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return AF_TEST_END();
}
