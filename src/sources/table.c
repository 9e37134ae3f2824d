/* SPDX-License-Identifier: MIT */
/*
 * table.c: the generic daily table source ("source = table"). A CSV with
 * columns id, date (YYYY-MM-DD) and value columns, one file or one per year
 * ({year} in path) or per sample ({id}). Units are declared (source_units) and
 * converted through the units table; a declared marker (default -9999) or an
 * empty field is missing. Files are read a block of days at a time: at open, a
 * prepass checks every file, its columns, and whether its rows are in date
 * order, remembering where each date starts; a block then reads only its rows.
 * Unsorted files are rescanned per block (correct, slower; logged once).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "agroflux/opts.h"
#include "sources_impl.h"
#include "af_util.h"
#include "agroflux/source.h"
#include "agroflux/units.h"
#include "log.h"

static const af_key_spec table_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "CSV path relative to the pipeline file; may contain {year} (one file per year) or {id} (one per sample key)." },
    { "column", AF_KEY_STRING, 0, "", NULL, "Value column; default the feature name." },
    { "source_units", AF_KEY_STRING, 1, NULL, NULL, "Units of the values in the file (see the units table)." },
    { "missing", AF_KEY_STRING, 0, "-9999", NULL, "Missing-value marker (an empty field is always missing)." },
    { "match", AF_KEY_CHOICE, 0, "sample", "sample|county",
      "What the id column holds for county samples: the sample id (FIPS:SCENARIO) or the county FIPS (shared by all scenarios). Sites always match by site id." },
    { "id_column", AF_KEY_STRING, 0, "id", NULL, "Name of the id column." },
    { "date_column", AF_KEY_STRING, 0, "date", NULL, "Name of the date column (YYYY-MM-DD)." },
    { "qc_column", AF_KEY_STRING, 0, "", NULL, "Optional QC fraction column (0..1), stored in y_qc for targets." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

typedef struct key_entry {
    char key[AF_ID_MAX];
    size_t local;          /* local sample index */
} key_entry;

typedef struct day_mark {
    long epoch;
    long offset, line;     /* where the first row of this date starts */
} day_mark;

typedef struct table_file {
    char path[4096];
    int year;              /* for {year} files, else 0 */
    int sorted;
    day_mark *marks;       /* sorted files: first row of each date */
    size_t nmarks;
    long data_offset, data_line; /* first data row */
    int cid, cdate;        /* id and date columns, found by the prepass */
    int *cols, *qcols;     /* per feature: value column, QC column or -1 */
} table_file;

typedef struct feat_cols {
    const af_feature_cfg *f;
    char column[128];
    char qc_column[128];
    af_unit_conv conv;
} feat_cols;

typedef struct table_state {
    const af_source_ctx *ctx;
    size_t nfeat;
    feat_cols *feats;
    char missing[64];
    char id_column[128], date_column[128];
    int match_county;
    key_entry *keys;       /* sorted by key; several locals may share a key */
    size_t nkeys;
    table_file *files;
    size_t nfiles;
    const char **paths;    /* for provenance */
    int per_id;
    size_t nlocal;
    int warned_unsorted;
} table_state;

static int cmp_key(const void *a, const void *b)
{
    const key_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->local < y->local ? -1 : x->local > y->local;
}

/* First index in keys with this key, or -1. */
static long find_key(const table_state *st, const char *key)
{
    size_t lo = 0, hi = st->nkeys;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(st->keys[mid].key, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return (lo < st->nkeys && !strcmp(st->keys[lo].key, key)) ? (long)lo : -1;
}

/* The id a table row must carry for local sample i. */
static const char *sample_key(const table_state *st, const af_sample *s)
{
    return (s->kind == AF_SAMPLE_COUNTY && st->match_county) ? s->fips : s->id;
}

/* Replace the first `field` ({year} or {id}) in tmpl by value and resolve the path. */
static int expand_path(const af_config *cfg, const char *tmpl, const char *field, const char *value,
                       char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    char buf[4096];
    char v[256];
    snprintf(v, sizeof v, "%s", value);
    for (char *c = v; *c; c++)
        if (*c == ':') *c = '_'; /* {id} FIPS:SCENARIO names FIPS_SCENARIO files, as in every template */
    const char *p = strstr(tmpl, field);
    if (p) snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - tmpl), tmpl, v, p + strlen(field));
    else snprintf(buf, sizeof buf, "%s", tmpl);
    AF_CHECK(af_config_resolve(cfg, buf, out, n, err));
cleanup:
    return rc;
}

/* Check header columns of one file and record date order and date starts. */
static int prepass(table_state *st, table_file *tf, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    AF_CHECK(af_csv_open(tf->path, &csv, err));
    AF_CHECK(af_csv_read_header(&csv, err));
    AF_CHECK(af_csv_require_column(&csv, st->id_column, &tf->cid, err));
    AF_CHECK(af_csv_require_column(&csv, st->date_column, &tf->cdate, err));
    int cdate = tf->cdate;
    tf->cols = malloc(st->nfeat * sizeof *tf->cols);
    tf->qcols = malloc(st->nfeat * sizeof *tf->qcols);
    AF_CHECK_ALLOC(tf->cols);
    AF_CHECK_ALLOC(tf->qcols);
    for (size_t k = 0; k < st->nfeat; k++) {
        AF_CHECK(af_csv_require_column(&csv, st->feats[k].column, &tf->cols[k], err));
        tf->qcols[k] = -1;
        if (st->feats[k].qc_column[0]) AF_CHECK(af_csv_require_column(&csv, st->feats[k].qc_column, &tf->qcols[k], err));
    }
    tf->data_offset = af_csv_tell(&csv);
    tf->data_line = csv.line;
    tf->sorted = 1;
    long prev = LONG_MIN;
    for (;;) {
        long off = af_csv_tell(&csv), line = csv.line;
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; goto cleanup; }
        if (got == 0) break;
        /* a short row (or a file cut in the middle of one) would leave its last columns missing silently */
        if (csv.nfields != csv.nheader)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, the header has %d%s", tf->path, csv.line, csv.nfields, csv.nheader,
                    csv.unterminated ? " (the file ends in the middle of this row: was it cut?)" : "");
        if (csv.unterminated)
            af_log(AF_LOG_WARN, "table", "%s:%ld: the file ends without a line end after its last row; if it was cut, "
                   "that row's last value is incomplete", tf->path, csv.line);
        af_date d;
        if (af_date_parse(csv.fields[cdate], &d, err) != AF_OK)
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad date '%s'", tf->path, csv.line, st->date_column, csv.fields[cdate]);
        long e = af_date_to_epoch(d);
        if (e < prev) tf->sorted = 0;
        if (tf->sorted && e != prev) {
            day_mark *nm = realloc(tf->marks, sizeof *nm * (tf->nmarks + 1));
            AF_CHECK_ALLOC(nm);
            tf->marks = nm;
            nm[tf->nmarks].epoch = e;
            nm[tf->nmarks].offset = off;
            nm[tf->nmarks].line = line;
            tf->nmarks++;
        }
        if (e > prev) prev = e;
    }
    if (!tf->sorted) {
        free(tf->marks);
        tf->marks = NULL;
        tf->nmarks = 0;
        if (!st->warned_unsorted)
            af_log(AF_LOG_WARN, "table", "%s: rows are not in date order; each block rescans the file", tf->path);
        st->warned_unsorted = 1;
    }
cleanup:
    af_csv_close(&csv);
    return rc;
}

static int add_file(table_state *st, const char *path, int year, af_error *err)
{
    int rc = AF_OK;
    table_file *nf = realloc(st->files, sizeof *nf * (st->nfiles + 1));
    AF_CHECK_ALLOC(nf);
    st->files = nf;
    memset(&nf[st->nfiles], 0, sizeof nf[0]);
    snprintf(nf[st->nfiles].path, sizeof nf[0].path, "%s", path);
    nf[st->nfiles].year = year;
    st->nfiles++;
    AF_CHECK(prepass(st, &st->files[st->nfiles - 1], err));
cleanup:
    return rc;
}

static void table_close(void *vst)
{
    table_state *st = vst;
    if (!st) return;
    for (size_t i = 0; i < st->nfiles; i++) {
        free(st->files[i].marks);
        free(st->files[i].cols);
        free(st->files[i].qcols);
    }
    free(st->files);
    free(st->paths);
    free(st->keys);
    free(st->feats);
    free(st);
}

static int table_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat,
                      void **out, af_error *err)
{
    int rc = AF_OK;
    table_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nfeat = nfeat;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    const char *tmpl = af_config_get(sec, "path");
    const char *v;
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, table_keys, "missing", &v, err));
    snprintf(st->missing, sizeof st->missing, "%s", v);
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, table_keys, "id_column", &v, err));
    snprintf(st->id_column, sizeof st->id_column, "%s", v);
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, table_keys, "date_column", &v, err));
    snprintf(st->date_column, sizeof st->date_column, "%s", v);
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, table_keys, "match", &st->match_county, err)); /* sample|county */
    /* Features grouped together must agree on everything but the column. */
    static const char *const shared[] = { "missing", "match", "id_column", "date_column" };
    AF_CHECK(af__group_keys_agree(ctx->cfg, feats, nfeat, shared, sizeof shared / sizeof shared[0], err));
    st->feats = calloc(nfeat, sizeof *st->feats);
    AF_CHECK_ALLOC(st->feats);
    for (size_t k = 0; k < nfeat; k++) {
        const af_config_section *fs = feats[k]->section;
        st->feats[k].f = feats[k];
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, table_keys, "column", &v, err));
        snprintf(st->feats[k].column, sizeof st->feats[k].column, "%s", v[0] ? v : feats[k]->name); /* empty: the feature's name */
        AF_CHECK(af_opts_get_string(ctx->cfg, fs, table_keys, "qc_column", &v, err));
        snprintf(st->feats[k].qc_column, sizeof st->feats[k].qc_column, "%s", v);
        af_error uerr = AF_ERROR_INIT;
        if (af_units_conversion(af_config_get(fs, "source_units"), feats[k]->units, &st->feats[k].conv, &uerr) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", ctx->cfg->path, af_config_line(fs, "source_units"), fs->name, uerr.msg);
    }
    /* Keys of the local samples. */
    st->keys = calloc(st->nlocal ? st->nlocal : 1, sizeof *st->keys);
    AF_CHECK_ALLOC(st->keys);
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->range.begin + i);
        snprintf(st->keys[i].key, sizeof st->keys[i].key, "%s", sample_key(st, s));
        st->keys[i].local = i;
    }
    st->nkeys = st->nlocal;
    qsort(st->keys, st->nkeys, sizeof *st->keys, cmp_key);
    /* Files: per year, per id, or one. */
    char path[4096];
    AF_CHECK(af__template_check(ctx->cfg, sec, "path", tmpl, "year id", err));
    st->per_id = strstr(tmpl, "{id}") != NULL;
    if (strstr(tmpl, "{year}")) {
        af_date a = af_calendar_start(ctx->cal), b = af_calendar_end(ctx->cal);
        for (int y = a.year; y <= b.year; y++) {
            char ys[16];
            snprintf(ys, sizeof ys, "%04d", y);
            AF_CHECK(expand_path(ctx->cfg, tmpl, "{year}", ys, path, sizeof path, err));
            if (!af_file_readable(path))
                AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: cannot read '%s' (year %d)", ctx->cfg->path,
                        af_config_line(sec, "path"), sec->name, path, y);
            AF_CHECK(add_file(st, path, y, err));
        }
    } else if (st->per_id) {
        for (size_t i = 0; i < st->nkeys; i++) {
            if (i > 0 && !strcmp(st->keys[i].key, st->keys[i - 1].key)) continue;
            AF_CHECK(expand_path(ctx->cfg, tmpl, "{id}", st->keys[i].key, path, sizeof path, err));
            if (!af_file_readable(path)) continue; /* no file: the sample's values are missing */
            AF_CHECK(add_file(st, path, 0, err));
        }
    } else {
        AF_CHECK(af_config_resolve(ctx->cfg, tmpl, path, sizeof path, err));
        if (!af_file_readable(path))
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: cannot read '%s'", ctx->cfg->path,
                    af_config_line(sec, "path"), sec->name, path);
        AF_CHECK(add_file(st, path, 0, err));
    }
    st->paths = calloc(st->nfiles ? st->nfiles : 1, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t i = 0; i < st->nfiles; i++) st->paths[i] = st->files[i].path;
    *out = st;
    st = NULL;
cleanup:
    table_close(st);
    return rc;
}

static int parse_value(const table_state *st, const af_csv *csv, const table_file *tf, int col,
                       const char *colname, double *out, int *present, af_error *err)
{
    int rc = AF_OK;
    const char *txt = col < csv->nfields ? csv->fields[col] : "";
    *present = 0;
    if (!txt[0] || !strcmp(txt, st->missing)) goto cleanup;
    if (!af_parse_double(txt, out))
        AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': '%s' is not a number", tf->path, csv->line, colname, txt);
    if (af_missing_value(*out)) goto cleanup; /* NaN, -9999, -6999 in any spelling */
    *present = 1;
cleanup:
    return rc;
}

/* Read rows of one file that fall in [e0, e1] into the block arrays. */
static int read_block(table_state *st, table_file *tf, long e0, long e1, int t0, int nt, float *val,
                      unsigned char *valid, float *qc, unsigned char *seen, af_error *err)
{
    int rc = AF_OK;
    af_csv csv;
    memset(&csv, 0, sizeof csv);
    long start = tf->data_offset, line = tf->data_line;
    if (tf->sorted) {
        size_t lo = 0, hi = tf->nmarks;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tf->marks[mid].epoch < e0) lo = mid + 1;
            else hi = mid;
        }
        if (lo == tf->nmarks || tf->marks[lo].epoch > e1) goto cleanup; /* nothing in this block */
        start = tf->marks[lo].offset;
        line = tf->marks[lo].line;
    }
    AF_CHECK(af_csv_open(tf->path, &csv, err));
    AF_CHECK(af_csv_seek(&csv, start, line, err)); /* the prepass checked the header and found the columns */
    const int cid = tf->cid, cdate = tf->cdate, *cols = tf->cols, *qcols = tf->qcols;
    size_t nf = st->nfeat;
    for (;;) {
        int got = af_csv_next(&csv, err);
        if (got < 0) { rc = got; goto cleanup; }
        if (got == 0) break;
        if (cid >= csv.nfields || cdate >= csv.nfields)
            AF_FAIL(AF_EFORMAT, "%s:%ld: %d fields, expected at least %d", tf->path, csv.line, csv.nfields,
                    (cid > cdate ? cid : cdate) + 1);
        af_date d;
        if (af_date_parse(csv.fields[cdate], &d, err) != AF_OK)
            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': bad date '%s'", tf->path, csv.line, st->date_column, csv.fields[cdate]);
        long e = af_date_to_epoch(d);
        if (tf->sorted && e > e1) break;
        if (e < e0 || e > e1) continue;
        int t = af_calendar_index_epoch(st->ctx->cal, e);
        if (t < 0) continue; /* a day the calendar policy drops */
        long k0 = find_key(st, csv.fields[cid]);
        if (k0 < 0) continue; /* not one of this rank's samples */
        int tt = t - t0;
        if (tt < 0 || tt >= nt) continue;
        for (size_t k = (size_t)k0; k < st->nkeys && !strcmp(st->keys[k].key, csv.fields[cid]); k++) {
            size_t li = st->keys[k].local;
            size_t cell = ((size_t)li * (size_t)nt + (size_t)tt);
            if (seen[cell])
                AF_FAIL(AF_EFORMAT, "%s:%ld: duplicate row for id '%s' date %s", tf->path, csv.line,
                        csv.fields[cid], csv.fields[cdate]);
            seen[cell] = 1;
            const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + li);
            for (size_t j = 0; j < nf; j++) {
                if (!af__kind_applies(st->feats[j].f, s)) continue;
                double v;
                int present;
                AF_CHECK(parse_value(st, &csv, tf, cols[j], st->feats[j].column, &v, &present, err));
                size_t o = cell * nf + j;
                if (present) {
                    val[o] = (float)af_units_apply(st->feats[j].conv, v);
                    valid[o] = 1;
                }
                if (qcols[j] >= 0) {
                    double q;
                    AF_CHECK(parse_value(st, &csv, tf, qcols[j], st->feats[j].qc_column, &q, &present, err));
                    if (present) {
                        if (q < 0 || q > 1)
                            AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': QC %g outside 0..1", tf->path, csv.line, st->feats[j].qc_column, q);
                        qc[o] = (float)q;
                    }
                }
            }
        }
    }
cleanup:
    af_csv_close(&csv);
    return rc;
}

static int table_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    table_state *st = vst;
    unsigned char *seen = NULL;
    size_t n = st->nlocal * (size_t)nt * st->nfeat;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (st->nlocal == 0) goto cleanup;
    seen = calloc(st->nlocal * (size_t)nt, 1);
    AF_CHECK_ALLOC(seen);
    long e0 = af_calendar_epoch(st->ctx->cal, t0), e1 = af_calendar_epoch(st->ctx->cal, t0 + nt - 1);
    for (size_t i = 0; i < st->nfiles; i++) {
        table_file *tf = &st->files[i];
        if (tf->year && (tf->year < af_date_from_epoch(e0).year || tf->year > af_date_from_epoch(e1).year)) continue;
        AF_CHECK(read_block(st, tf, e0, e1, t0, nt, val, valid, qc, seen, err));
    }
cleanup:
    free(seen);
    return rc;
}

AF_SOURCE_FILES_FN(table_files, table_state, paths, nfiles)

const af_source_kind af__source_table = {
    .name = "table",
    .help = "generic daily table (CSV id,date,values...)",
    .keys = table_keys,
    .open = table_open,
    .fill = table_fill,
    .files = table_files,
    .close = table_close,
};
