/* SPDX-License-Identifier: MIT */
/*
 * tower_file.c: AmeriFlux BASE and FLUXNET FULLSET CSV files (agroflux/tower.h):
 * header detection past '#' lines, timestamp scan with resolution detection and
 * order/step checks, column lookup by name (with the _H_V_R position-suffix
 * fallback) and one-pass reads of the requested columns. Only the timestamps
 * and the requested columns are ever held in memory. Not collective.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "af_util.h"
#include "tower_impl.h"

/* Parse an all-digit timestamp of 4 (YYYY), 6 (YYYYMM), 8 (YYYYMMDD) or 12
 * (YYYYMMDDHHMM) characters into epoch minutes; *width gets the length.
 * Returns 1 on success, 0 if malformed or not a real date/time. */
static int parse_stamp(const char *s, long long *minutes, int *width)
{
    int n = 0;
    int dig[12];
    for (; s[n]; n++) {
        if (n >= 12 || !isdigit((unsigned char)s[n])) return 0;
        dig[n] = s[n] - '0';
    }
    if (n != 4 && n != 6 && n != 8 && n != 12) return 0;
    af_date d = { dig[0] * 1000 + dig[1] * 100 + dig[2] * 10 + dig[3], 1, 1 };
    int hh = 0, mm = 0;
    if (n >= 6) d.month = dig[4] * 10 + dig[5];
    if (n >= 8) d.day = dig[6] * 10 + dig[7];
    if (n == 12) {
        hh = dig[8] * 10 + dig[9];
        mm = dig[10] * 10 + dig[11];
        if (hh > 23 || mm > 59) return 0;
    }
    if (!af_date_valid(d)) return 0;
    *minutes = (long long)af_date_to_epoch(d) * 1440 + hh * 60 + mm;
    *width = n;
    return 1;
}

/* Resolution token of the file name (_HH_, _HR_, ...), or -1 if none. */
static int name_resolution(const char *path)
{
    static const char *tok[] = { "_HH_", "_HR_", "_DD_", "_WW_", "_MM_", "_YY_" };
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < 6; i++)
        if (strstr(base, tok[i])) return i;
    return -1;
}

static const char *res_name(int res)
{
    static const char *names[] = { "HH", "HR", "DD", "WW", "MM", "YY" };
    return res >= 0 && res < 6 ? names[res] : "?";
}

/* AF_EFORMAT for old-Mac CR-only line endings (the CSV reader splits on LF only, so
 * such a file would read as one huge line; the FR-Pue YY fixture is one). */
static int check_line_endings(const af_csv *csv, af_error *err)
{
    int rc = AF_OK;
    int c;
    while ((c = getc_unlocked(csv->fp)) != EOF && c != '\r' && c != '\n') {}
    int cr_only = c == '\r' && (c = getc_unlocked(csv->fp)) != '\n' && c != EOF;
    rewind(csv->fp);
    if (cr_only)
        AF_FAIL(AF_EFORMAT, "%s: CR-only line endings are not supported (convert with tr '\\r' '\\n')",
                csv->path);
cleanup:
    return rc;
}

/* Read the header and locate the timestamp columns. */
static int read_header(af_tower_file *tf, af_error *err)
{
    int rc = AF_OK;
    af_csv *csv = &tf->csv;
    AF_CHECK(af_csv_read_header(csv, err));
    char *h0 = csv->header[0];
    if (!strcmp(h0, "TIMESTAMP_START")) {
        tf->ts_col = 0;
        tf->te_col = af_csv_column(csv, "TIMESTAMP_END");
    } else if (tf->kind == AF_TOWER_FULLSET && !strcmp(h0, "TIMESTAMP")) {
        tf->ts_col = 0;
        tf->te_col = -1;
    } else {
        AF_FAIL(AF_EFORMAT, "%s:%ld: header must start with %s, found '%s'", csv->path, csv->line,
                tf->kind == AF_TOWER_BASE ? "TIMESTAMP_START" : "TIMESTAMP_START or TIMESTAMP", h0);
    }
cleanup:
    return rc;
}

/* Scan every data record: parse and check timestamps, detect the resolution. */
static int scan_records(af_tower_file *tf, af_error *err)
{
    int rc = AF_OK;
    af_csv *csv = &tf->csv;
    long cap = 0;
    int width0 = 0;
    const char *ts_name = csv->header[tf->ts_col];
    for (;;) {
        int got = af_csv_next(csv, err);
        if (got < 0) { rc = got; af_error_push(err, __FILE__, __LINE__, __func__); goto cleanup; }
        if (got == 0) break;
        if (csv->nfields != csv->nheader)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, header has %d", csv->path, csv->line, csv->nfields,
                    csv->nheader);
        const char *ts = csv->fields[tf->ts_col];
        long long t = 0, te = 0;
        int width = 0, wend = 0;
        if (!parse_stamp(ts, &t, &width))
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad timestamp '%s'", csv->path, csv->line, ts_name, ts);
        if (tf->nrec == 0) {
            width0 = width;
            if (width == 12 && tf->te_col < 0)
                AF_FAIL(AF_EFORMAT, "%s:%ld: YYYYMMDDHHMM timestamps need a TIMESTAMP_END column",
                        csv->path, csv->line);
            if (tf->te_col < 0 && width == 8) tf->res = AF_TOWER_RES_DD;
            else if (tf->te_col < 0 && width == 6) tf->res = AF_TOWER_RES_MM;
            else if (tf->te_col < 0 && width == 4) tf->res = AF_TOWER_RES_YY;
            else if (tf->te_col >= 0 && width == 8) tf->res = AF_TOWER_RES_WW;
            else if (width != 12)
                AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': timestamp '%s' has an unsupported width",
                        csv->path, csv->line, ts_name, ts);
            tf->step = tf->res == AF_TOWER_RES_DD ? 1440 : 0;
        } else if (width != width0) {
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': timestamp '%s' differs in width from the first record",
                    csv->path, csv->line, ts_name, ts);
        }
        if (tf->te_col >= 0) {
            const char *tes = csv->fields[tf->te_col];
            if (!parse_stamp(tes, &te, &wend) || wend != width || te <= t)
                AF_FAIL(AF_EFORMAT, "%s:%ld: column 'TIMESTAMP_END': bad timestamp '%s' (start '%s')",
                        csv->path, csv->line, tes, ts);
            if (width == 12) {
                if (tf->nrec == 0) {
                    tf->step = (int)(te - t);
                    if (tf->step == 30) tf->res = AF_TOWER_RES_HH;
                    else if (tf->step == 60) tf->res = AF_TOWER_RES_HR;
                    else
                        AF_FAIL(AF_EFORMAT, "%s:%ld: record length %d min ('%s' to '%s'), expected 30 or 60",
                                csv->path, csv->line, tf->step, ts, tes);
                } else if (te - t != tf->step) {
                    AF_FAIL(AF_EFORMAT, "%s:%ld: step change: record '%s' to '%s' is %lld min, file step %d min",
                            csv->path, csv->line, ts, tes, te - t, tf->step);
                }
            }
        }
        if (tf->nrec > 0) {
            long long prev = tf->start[tf->nrec - 1];
            if (t <= prev)
                AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': timestamp '%s' %s the previous record",
                        csv->path, csv->line, ts_name, ts, t == prev ? "duplicates" : "is before");
            if (tf->step > 0 && (t - prev) % tf->step != 0)
                AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': timestamp '%s' is off the %d-min step of the "
                        "previous record", csv->path, csv->line, ts_name, ts, tf->step);
        }
        if (tf->nrec == cap) {
            long ncap = cap ? cap * 2 : 1024;
            long long *ns = realloc(tf->start, (size_t)ncap * sizeof *ns);
            AF_CHECK_ALLOC(ns);
            tf->start = ns;
            cap = ncap;
        }
        tf->start[tf->nrec++] = t;
    }
    if (tf->nrec == 0) AF_FAIL(AF_EFORMAT, "%s:%ld: no data records after the header", csv->path, csv->line);
    int nres = name_resolution(csv->path);
    if (nres >= 0 && nres != (int)tf->res)
        AF_FAIL(AF_EFORMAT, "%s: file name says %s but the timestamps are %s", csv->path, res_name(nres),
                res_name((int)tf->res));
cleanup:
    return rc;
}

int af_tower_file_open(const char *path, af_tower_kind kind, af_tower_file **out, af_error *err)
{
    int rc = AF_OK;
    af_tower_file *tf = NULL;
    AF_CHECK_ARG(path != NULL && out != NULL);
    AF_CHECK_ARG(kind == AF_TOWER_BASE || kind == AF_TOWER_FULLSET);
    *out = NULL;
    tf = calloc(1, sizeof *tf);
    AF_CHECK_ALLOC(tf);
    tf->kind = kind;
    tf->te_col = -1;
    AF_CHECK(af_csv_open(path, &tf->csv, err));
    tf->csv.skip_comments = kind == AF_TOWER_BASE;
    AF_CHECK(check_line_endings(&tf->csv, err));
    AF_CHECK(read_header(tf, err));
    tf->data_offset = af_csv_tell(&tf->csv);
    tf->data_line = tf->csv.line;
    if (tf->data_offset < 0) AF_FAIL(AF_EIO, "cannot tell position in '%s': %s", path, strerror(errno));
    AF_CHECK(scan_records(tf, err));
    *out = tf;
    tf = NULL;
cleanup:
    af_tower_file_destroy(&tf);
    return rc;
}

void af_tower_file_destroy(af_tower_file **tf)
{
    if (!tf || !*tf) return;
    af_csv_close(&(*tf)->csv);
    free((*tf)->start);
    free(*tf);
    *tf = NULL;
}

af_tower_kind af_tower_file_kind(const af_tower_file *tf) { return tf->kind; }
af_tower_res af_tower_resolution(const af_tower_file *tf) { return tf->res; }
int af_tower_step_minutes(const af_tower_file *tf) { return tf->step; }
long af_tower_nrecords(const af_tower_file *tf) { return tf->nrec; }
int af_tower_ncolumns(const af_tower_file *tf) { return tf->csv.nheader; }

const char *af_tower_column_name_ref(const af_tower_file *tf, int i)
{
    if (!tf || i < 0 || i >= tf->csv.nheader) return NULL;
    return tf->csv.header[i];
}

long long af_tower_record_start(const af_tower_file *tf, long i)
{
    return (tf && i >= 0 && i < tf->nrec) ? tf->start[i] : 0;
}

void af_tower_span(const af_tower_file *tf, long *epoch_first, int *ndays)
{
    long first = (long)af__tower_floordiv(tf->start[0], 1440);
    long last = (long)af__tower_floordiv(tf->start[tf->nrec - 1], 1440);
    if (epoch_first) *epoch_first = first;
    if (ndays) *ndays = (int)(last - first + 1);
}

/* 1 if name is base followed by "_N" or "_N_N_N" (digits only). */
static int is_position_variant(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncasecmp(name, base, n) != 0) return 0;
    const char *p = name + n;
    int groups = 0;
    while (*p == '_') {
        p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
        groups++;
    }
    return *p == '\0' && (groups == 1 || groups == 3);
}

int af_tower_column(const af_tower_file *tf, const char *name, int *col, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(tf != NULL && name != NULL && col != NULL);
    *col = af_csv_column(&tf->csv, name);
    if (*col >= 0) goto cleanup;
    for (int i = 0; i < tf->csv.nheader; i++)
        if (is_position_variant(tf->csv.header[i], name)) { *col = i; goto cleanup; }
    AF_FAIL(AF_ENOTFOUND, "%s:%ld: no column '%s' (nor '%s_<H>_<V>_<R>') in the header", tf->csv.path,
            tf->data_line, name, name);
cleanup:
    return rc;
}

/* Parse one data cell: empty, NaN and the sentinels (af_missing_value: -9999, -6999) read as NaN. */
static int parse_cell(const af_csv *csv, int col, double *v, af_error *err)
{
    int rc = AF_OK;
    const char *s = csv->fields[col];
    double x = 0.0;
    if (*s == '\0') { *v = NAN; goto cleanup; }
    if (!af_parse_double(s, &x) || isinf(x))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad number '%s'", csv->path, csv->line, csv->header[col], s);
    *v = af_missing_value(x) ? NAN : x;
cleanup:
    return rc;
}

int af_tower_read_columns(af_tower_file *tf, const int *cols, int ncols, double *out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(tf != NULL && ncols > 0 && cols != NULL && out != NULL);
    for (int j = 0; j < ncols; j++)
        if (cols[j] < 0 || cols[j] >= tf->csv.nheader)
            AF_FAIL(AF_EINVAL, "column index %d outside 0..%d of '%s'", cols[j], tf->csv.nheader - 1,
                    tf->csv.path);
    AF_CHECK(af_csv_seek(&tf->csv, tf->data_offset, tf->data_line, err));
    for (long r = 0; r < tf->nrec; r++) {
        int got = af_csv_next(&tf->csv, err);
        if (got < 0) { rc = got; af_error_push(err, __FILE__, __LINE__, __func__); goto cleanup; }
        if (got == 0 || tf->csv.nfields != tf->csv.nheader)
            AF_FAIL(AF_EIO, "%s:%ld: file changed since it was opened", tf->csv.path, tf->csv.line);
        for (int j = 0; j < ncols; j++) AF_CHECK(parse_cell(&tf->csv, cols[j], &out[r * ncols + j], err));
    }
cleanup:
    return rc;
}
