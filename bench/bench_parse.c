/* SPDX-License-Identifier: MIT */
/*
 * bench_parse.c: speed of the model-output parsers (af_ecosys_read,
 * af_daycent_read and the year-by-year reads the daycent source makes,
 * af__daycent_read_through) against a plain read of the same bytes in the
 * same run: a getline loop over the lines (the I/O a line reader cannot
 * avoid) and fread in 64 KiB chunks. Also the number conversion alone: every
 * value field of the Ecosys files through af_numparse (exact fast path) and
 * through af_numparse_strtod (the strtod path every field took before),
 * checking the doubles are bit-identical. Synthetic files in the Ecosys and
 * DayCent formats go to ./bench_parse.<pid> (or --dir) and are removed.
 * Prints medians over --repeat runs.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agroflux/models.h"
#include "ecosys_impl.h"
#include "numparse.h"

typedef struct opts {
    long files, cols, years, dcols, repeat;
    const char *dir;
} opts;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: steadier than wall time on a shared machine */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: bench_parse [--files F] [--cols C] [--years Y] [--dcols D] [--repeat R] [--dir DIR]\n"
                "  defaults: F = 20 Ecosys files (one year each) of C = 60 variables; one DayCent .out of\n"
                "  Y = 20 years x D = 12 columns; R = 5. Files go to DIR/bench_parse.<pid> (DIR = .).\n");
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){ 20, 60, 20, 12, 5, "." };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (i + 1 >= argc) { usage(stderr); return 1; }
        const char *v = argv[++i];
        if (!strcmp(a, "--dir")) { o->dir = v; continue; }
        long n = strtol(v, NULL, 10);
        if (n <= 0) { usage(stderr); return 1; }
        if (!strcmp(a, "--files")) o->files = n;
        else if (!strcmp(a, "--cols")) o->cols = n;
        else if (!strcmp(a, "--years")) o->years = n;
        else if (!strcmp(a, "--dcols")) o->dcols = n;
        else if (!strcmp(a, "--repeat")) o->repeat = n;
        else { usage(stderr); return 1; }
    }
    if (o->cols > AF_MODELS_MAX_COLS - 2 || o->dcols > AF_MODELS_MAX_COLS - 2) { usage(stderr); return 1; }
    return 0;
}

static unsigned long long rng_state = 88172645463325252ull;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Day d (1-based) of year y as DDMMYYYY. */
static void ddmmyyyy(int y, int d, char *out, size_t n)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int m = 0;
    while (d > mdays[m] + (m == 1 && is_leap(y))) d -= mdays[m] + (m == 1 && is_leap(y)), m++;
    snprintf(out, n, "%02d%02d%04d", d, m + 1, y);
}

/* Ecosys: `DOY DATE vars...`, values as Fortran E13.7 with 3-digit exponents, some -9999 (missing). */
static int write_ecosys(const char *path, int year, long cols)
{
    FILE *fp = fopen(path, "w");
    if (!fp) return 1;
    fprintf(fp, "DOY DATE");
    for (long c = 0; c < cols; c++) fprintf(fp, " V%ld", c);
    fputc('\n', fp);
    int nd = is_leap(year) ? 366 : 365;
    char date[16];
    for (int d = 1; d <= nd; d++) {
        ddmmyyyy(year, d, date, sizeof date);
        fprintf(fp, "%8d.000 %s", d, date);
        for (long c = 0; c < cols; c++) {
            double v = (urand() - 0.3) * 1000.0 * (double)(1 + c % 7);
            if (urand() < 0.01) { fprintf(fp, " -0.9999000E+004"); continue; }
            int e = 0;
            double a = v < 0 ? -v : v;
            while (a >= 1.0) { a /= 10.0; e++; }
            while (a > 0 && a < 0.1) { a *= 10.0; e--; }
            fprintf(fp, " %s0.%07.0fE%c%03d", v < 0 ? "-" : "", a * 1e7 >= 9999999.5 ? 9999999.0 : a * 1e7,
                    e < 0 ? '-' : '+', e < 0 ? -e : e);
        }
        fputc('\n', fp);
    }
    return fclose(fp) != 0;
}

/* DayCent .out: `time dayofyr names...`, values as %.4f / %.6g like DayCent's own writes. */
static int write_daycent(const char *path, int y0, long years, long cols)
{
    FILE *fp = fopen(path, "w");
    if (!fp) return 1;
    fprintf(fp, "time dayofyr");
    for (long c = 0; c < cols; c++) fprintf(fp, " col%ld", c);
    fputc('\n', fp);
    for (int y = y0; y < y0 + years; y++)
        for (int d = 1; d <= (is_leap(y) ? 366 : 365); d++) {
            fprintf(fp, "%d.%02d %d", y, (d - 1) * 100 / (is_leap(y) ? 366 : 365), d);
            for (long c = 0; c < cols; c++) {
                double v = (urand() - 0.2) * 50.0;
                fprintf(fp, c % 2 ? " %.6g" : " %.4f", v);
            }
            fputc('\n', fp);
        }
    return fclose(fp) != 0;
}

static long long read_getline(char **paths, long n)
{
    long long bytes = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    for (long i = 0; i < n; i++) {
        FILE *fp = fopen(paths[i], "r");
        if (!fp) continue;
        while ((len = getline(&line, &cap, fp)) >= 0) bytes += len + (unsigned char)line[0];
        fclose(fp);
    }
    free(line);
    return bytes;
}

static long long read_fread(char **paths, long n)
{
    static char buf[65536];
    long long bytes = 0;
    for (long i = 0; i < n; i++) {
        FILE *fp = fopen(paths[i], "r");
        if (!fp) continue;
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, fp)) > 0) bytes += (long long)k + (unsigned char)buf[0];
        fclose(fp);
    }
    return bytes;
}

static long long file_bytes(char **paths, long n)
{
    long long b = 0;
    struct stat st;
    for (long i = 0; i < n; i++)
        if (stat(paths[i], &st) == 0) b += st.st_size;
    return b;
}

/* Every whitespace field of the files' data lines after the first two (the values). */
typedef struct fields { char *text; size_t n, cap, tlen; size_t *off, *len; } fields;

static int collect_fields(char **paths, long n, fields *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    for (long i = 0; i < n; i++) {
        FILE *fp = fopen(paths[i], "r");
        if (!fp) return 1;
        long lineno = 0;
        while ((len = getline(&line, &cap, fp)) >= 0) {
            if (lineno++ == 0) continue;
            char *tok[AF_MODELS_MAX_COLS + 1];
            int k = af__models_split_ws(line, tok, AF_MODELS_MAX_COLS);
            for (int t = 2; t < k; t++) {
                size_t l = strlen(tok[t]);
                if (f->n == f->cap) {
                    f->cap = f->cap ? 2 * f->cap : 4096;
                    f->off = realloc(f->off, f->cap * sizeof *f->off);
                    f->len = realloc(f->len, f->cap * sizeof *f->len);
                    if (!f->off || !f->len) return 1;
                }
                char *nt = realloc(f->text, f->tlen + l + 2);
                if (!nt) return 1;
                f->text = nt;
                memcpy(f->text + f->tlen, tok[t], l + 1);
                f->off[f->n] = f->tlen;
                f->len[f->n++] = l;
                f->tlen += l + 1;
            }
        }
        fclose(fp);
    }
    free(line);
    return 0;
}

static double sum_numbers(const fields *f, int (*fn)(const char *, size_t, double *), long *bad)
{
    double s = 0, v;
    for (size_t i = 0; i < f->n; i++) {
        if (fn(f->text + f->off[i], f->len[i], &v)) s += v;
        else (*bad)++;
    }
    return s;
}

static int parse_ecosys_all(char **paths, long n, size_t *rows)
{
    for (long i = 0; i < n; i++) {
        af_model_table t;
        af_error err = AF_ERROR_INIT;
        if (af_ecosys_read(paths[i], &t, &err) != AF_OK) { fprintf(stderr, "bench_parse: %s\n", err.msg); return 1; }
        *rows += t.nrows;
        af_model_table_dispose(&t);
    }
    return 0;
}

/* The daycent source's reads of a multi-year file: one per year through a cursor, the last to the end. */
static int parse_daycent_years(const char *path, int y0, long years, size_t *rows)
{
    af_dc_cursor cur;
    memset(&cur, 0, sizeof cur);
    for (int y = y0; y < y0 + years; y++) {
        af_model_table t;
        af_error err = AF_ERROR_INIT;
        if (af__daycent_read_through(path, 0, &cur, y, y == y0 + years - 1 ? INT_MAX : y, &t, &err) != AF_OK) {
            fprintf(stderr, "bench_parse: %s\n", err.msg);
            return 1;
        }
        *rows += t.nrows;
        af_model_table_dispose(&t);
    }
    return 0;
}

enum { M_ECO_GETLINE, M_ECO_FREAD, M_ECO_PARSE, M_DC_GETLINE, M_DC_FREAD, M_DC_WHOLE, M_DC_YEARS, M_NUM_FAST,
       M_NUM_STRTOD, M_COUNT };

int main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o)) return 2;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/bench_parse.%ld", o.dir, (long)getpid());
    if (mkdir(dir, 0700) != 0) { perror(dir); return 1; }
    int rc = 1, y0 = 2001;
    char **eco = calloc((size_t)o.files, sizeof *eco), dc[4200];
    double *t[M_COUNT];
    fields f;
    memset(&f, 0, sizeof f);
    for (int m = 0; m < M_COUNT; m++) t[m] = calloc((size_t)o.repeat, sizeof **t);
    snprintf(dc, sizeof dc, "%s/nflux.out", dir);
    for (long i = 0; i < o.files; i++) {
        eco[i] = malloc(4200);
        snprintf(eco[i], 4200, "%s/0101%04ld0dc", dir, y0 + i);
        if (write_ecosys(eco[i], (int)(y0 + i), o.cols)) { perror(eco[i]); goto done; }
    }
    if (write_daycent(dc, y0, o.years, o.dcols)) { perror(dc); goto done; }
    char *dcs[1] = { dc };
    if (collect_fields(eco, o.files, &f)) goto done;
    long long eb = file_bytes(eco, o.files), db = file_bytes(dcs, 1), sink = 0;
    size_t rows = 0;
    long bad = 0;
    /* the doubles must be bit-identical to strtod's */
    for (size_t i = 0; i < f.n; i++) {
        double a = 0, b = 0;
        int ka = af_numparse(f.text + f.off[i], f.len[i], &a), kb = af_numparse_strtod(f.text + f.off[i], f.len[i], &b);
        if (ka != kb || memcmp(&a, &b, sizeof a)) {
            fprintf(stderr, "bench_parse: '%s' parses differently from strtod\n", f.text + f.off[i]);
            goto done;
        }
    }
    sink += read_getline(eco, o.files) + read_getline(dcs, 1); /* warm the page cache */
    for (long r = 0; r < o.repeat; r++) {
        double a = now();
        sink += read_getline(eco, o.files);
        double b = now();
        sink += read_fread(eco, o.files);
        double c = now();
        if (parse_ecosys_all(eco, o.files, &rows)) goto done;
        double d = now();
        sink += read_getline(dcs, 1);
        double e = now();
        sink += read_fread(dcs, 1);
        double g = now();
        af_model_table tw;
        af_error err = AF_ERROR_INIT;
        if (af_daycent_read(dc, 0, &tw, &err) != AF_OK) { fprintf(stderr, "bench_parse: %s\n", err.msg); goto done; }
        rows += tw.nrows;
        af_model_table_dispose(&tw);
        double h = now();
        if (parse_daycent_years(dc, y0, o.years, &rows)) goto done;
        double k = now();
        double s1 = sum_numbers(&f, af_numparse, &bad);
        double l = now();
        double s2 = sum_numbers(&f, af_numparse_strtod, &bad);
        double m = now();
        sink += (long long)(s1 != s2);
        t[M_ECO_GETLINE][r] = b - a; t[M_ECO_FREAD][r] = c - b; t[M_ECO_PARSE][r] = d - c;
        t[M_DC_GETLINE][r] = e - d; t[M_DC_FREAD][r] = g - e; t[M_DC_WHOLE][r] = h - g; t[M_DC_YEARS][r] = k - h;
        t[M_NUM_FAST][r] = l - k; t[M_NUM_STRTOD][r] = m - l;
        fprintf(stderr, "repeat %ld: ecosys getline %.4f fread %.4f parse %.4f | daycent getline %.4f fread %.4f "
                "whole %.4f by-year %.4f | numbers fast %.4f strtod %.4f s\n", r + 1, b - a, c - b, d - c, e - d,
                g - e, h - g, k - h, l - k, m - l);
    }
    double md[M_COUNT];
    for (int q = 0; q < M_COUNT; q++) md[q] = median(t[q], o.repeat);
    printf("bench_parse: %ld Ecosys files x %ld variables (%.1f MB), one DayCent .out of %ld years x %ld columns "
           "(%.1f MB); medians of %ld repeats (sink %lld, %zu rows, %ld rejects)\n", o.files, o.cols, eb / 1e6,
           o.years, o.dcols, db / 1e6, o.repeat, sink, rows, bad);
    printf("ecosys:  getline %.4f s (%.0f MB/s), fread %.4f s, af_ecosys_read %.4f s (%.0f MB/s)\n",
           md[M_ECO_GETLINE], eb / 1e6 / md[M_ECO_GETLINE], md[M_ECO_FREAD], md[M_ECO_PARSE], eb / 1e6 / md[M_ECO_PARSE]);
    printf("daycent: getline %.4f s, fread %.4f s, af_daycent_read %.4f s, year by year %.4f s\n", md[M_DC_GETLINE],
           md[M_DC_FREAD], md[M_DC_WHOLE], md[M_DC_YEARS]);
    printf("numbers: %zu fields, af_numparse %.4f s (%.1f ns/field), strtod path %.4f s (%.1f ns/field)\n", f.n,
           md[M_NUM_FAST], 1e9 * md[M_NUM_FAST] / (double)f.n, md[M_NUM_STRTOD], 1e9 * md[M_NUM_STRTOD] / (double)f.n);
    printf("RATIO ecosys parse/getline = %.2f  parse/fread = %.2f  (goal parse/read <= 3)\n",
           md[M_ECO_PARSE] / md[M_ECO_GETLINE], md[M_ECO_PARSE] / md[M_ECO_FREAD]);
    printf("RATIO daycent parse/getline = %.2f  by-year/getline = %.2f  parse/fread = %.2f\n",
           md[M_DC_WHOLE] / md[M_DC_GETLINE], md[M_DC_YEARS] / md[M_DC_GETLINE], md[M_DC_WHOLE] / md[M_DC_FREAD]);
    printf("RATIO numbers strtod/fast = %.2f\n", md[M_NUM_STRTOD] / md[M_NUM_FAST]);
    rc = 0;
done:
    for (long i = 0; i < o.files; i++) {
        if (eco[i]) unlink(eco[i]);
        free(eco[i]);
    }
    unlink(dc);
    rmdir(dir);
    free(eco);
    for (int m = 0; m < M_COUNT; m++) free(t[m]);
    free(f.text);
    free(f.off);
    free(f.len);
    return rc;
}
