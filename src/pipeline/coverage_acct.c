/* SPDX-License-Identifier: MIT */
/*
 * coverage_acct.c: coverage accounting of a run, computed generically from the
 * block buffers' valid masks (an input is valid where x is not NaN, a target
 * where y_valid is 1), so no source kind reports anything itself.
 *
 * Every rank counts, per local sample, per feature section ([input.X],
 * [target.Y], each half of a scoped pair) and per calendar year, the valid
 * sample-days and the sample-days the feature is read for (its applies_to and
 * scope, and a path template the sample can fill: a {site} template reads no
 * file for a county). Rank 0 gathers the integer table one feature at a time in
 * global sample order (MPI_Gatherv in rank order: the same table for any rank
 * count; rank 0 holds one feature's table, not every feature's), names the file
 * of each (feature, sample, year) by expanding the feature's `path` template
 * ({year}, {id}, {fips}, {state}, {scenario}, {site}; others such as {layer} stay
 * as written, so the soil layers of a feature share one name) and derives:
 *   - a file that contributes no valid day,
 *   - a year of a file with no valid day while the file has valid days in other years,
 *   - a (file, year) whose valid fraction is below [pipeline] coverage_min_fraction,
 *   - a sample (county or site) with no valid value of a feature in the whole run
 *     while some of its files do have valid days (a county outside a raster, or
 *     with only nodata cells under it: gridded, soil and cdl alike),
 * each a warning naming the feature, file, year and county or site; under
 * --strict any of them fails the run before anything is published. Rank 0
 * writes the table as OUTDIR/coverage.json (atomically, before the index, which
 * references it by size and SHA-256 and carries the warning counts).
 * A resumed run first counts the days already written from the .partial shards
 * (af__cov_count_written), so its accounting equals an uninterrupted run's.
 */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"

/* Warnings logged one by one; the rest are counted and listed in coverage.json. */
#define COV_LOG_MAX 50

typedef struct cov_feat {
    const af_feature_cfg *f;
    size_t var;                /* slot in inputs, or ninputs + slot in targets */
} cov_feat;

typedef struct cov_year {
    int year;
    long long valid, days;
} cov_year;

typedef struct cov_file {
    char *path;
    long long valid, days;
    cov_year *years;           /* in the order met */
    size_t nyears;
    size_t sample0;            /* the first sample that reads it */
    int shared;                /* read by more than one sample */
    int warned;                /* feature_files gave it a warning (coverage.json lists it) */
} cov_file;

struct af_cov_acct {
    size_t nfeat, nlocal, begin, nsamples;
    cov_feat *feat;
    int year0, nyears, ndays;
    int *yidx;                 /* [ndays]: year of each axis day, from year0 */
    unsigned char *reads;      /* [nlocal][nfeat]: the feature reads a file for the sample */
    int *cnt;                  /* [nlocal][nfeat][nyears][2]: valid, read sample-days */
    int *all;                  /* rank 0: [nsamples][nyears][2] of the feature being reported */
    double min_fraction;
    char **msgs;
    size_t nmsgs, capmsgs;
    long long nwarn[AF_COV_NWARN];
};

/* Placeholders filled here; the others ({layer}, {root} until resolved) stay as written. */
static int is_filled_field(const char *name)
{
    static const char *const f[] = { "year", "id", "fips", "state", "scenario", "site", NULL };
    for (int i = 0; f[i]; i++)
        if (!strcmp(name, f[i])) return 1;
    return 0;
}

/*
 * The file feature f reads for sample s in year: its `path` with the sample and year placeholders
 * filled, resolved like the sources resolve it. Returns 1, or 0 when the sample cannot fill a
 * placeholder (it reads no file), or a negative status. No `path` key: "(no file)".
 */
static int file_of(const af_config *cfg, const af_feature_cfg *f, const af_sample *s, int year, char *out, size_t n,
                   af_error *err)
{
    int rc = AF_OK;
    const char *tmpl = af_config_get(f->section, "path");
    char buf[4096], val[256], name[32];
    size_t o = 0;
    if (!tmpl || !tmpl[0]) {
        snprintf(out, n, "(no file)");
        return 1;
    }
    for (const char *p = tmpl; *p; p++) {
        const char *v = NULL;
        size_t vl = 1;
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close && (size_t)(close - p - 1) < sizeof name) {
            memcpy(name, p + 1, (size_t)(close - p - 1));
            name[close - p - 1] = '\0';
            if (is_filled_field(name)) {
                v = af_sample_field(name, s, year, val, sizeof val);
                if (!v) return 0;
                vl = strlen(v);
                p = close;
            }
        }
        if (!v) v = p;
        if (o + vl >= sizeof buf) /* the sources refuse such a path first, at open */
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] path: expanded path longer than %zu bytes", cfg->path,
                    af_config_line(f->section, "path"), f->section->name, sizeof buf - 1);
        memcpy(buf + o, v, vl);
        o += vl;
    }
    buf[o] = '\0';
    AF_CHECK(af_config_resolve(cfg, buf, out, n, err));
    return 1;
cleanup:
    return rc;
}

int af__cov_create(const af_ctx *ctx, af_range range, double min_fraction, af_cov_acct **out, af_error *err)
{
    int rc = AF_OK;
    af_cov_acct *a = calloc(1, sizeof *a);
    char path[4200];
    AF_CHECK_ALLOC(a);
    a->min_fraction = min_fraction;
    a->begin = range.begin;
    a->nlocal = range.end - range.begin;
    a->nsamples = af_sampleset_count(ctx->set);
    for (size_t j = 0; j < ctx->ngroups; j++) a->nfeat += ctx->groups[j].nfeat;
    a->feat = calloc(a->nfeat + 1, sizeof *a->feat);
    AF_CHECK_ALLOC(a->feat);
    size_t fi = 0;
    for (size_t j = 0; j < ctx->ngroups; j++)
        for (size_t k = 0; k < ctx->groups[j].nfeat; k++, fi++) {
            a->feat[fi].f = ctx->groups[j].feats[k];
            a->feat[fi].var = (size_t)ctx->groups[j].slot[k] +
                              (ctx->groups[j].feats[k]->role == AF_ROLE_INPUT ? 0 : ctx->ninputs);
        }
    a->ndays = af_calendar_ndays(ctx->cal);
    a->year0 = af_calendar_start(ctx->cal).year;
    a->nyears = af_calendar_end(ctx->cal).year - a->year0 + 1;
    a->yidx = calloc((size_t)a->ndays + 1, sizeof *a->yidx);
    AF_CHECK_ALLOC(a->yidx);
    for (int t = 0; t < a->ndays; t++) a->yidx[t] = af_calendar_date(ctx->cal, t).year - a->year0;
    /* rank 0 gathers one feature at a time: MPI's int counts bound a feature's table */
    if ((double)a->nsamples * a->nyears * 2 > INT_MAX)
        AF_FAIL(AF_EINVAL, "coverage accounting: %zu samples x %d years is too large a table", a->nsamples,
                a->nyears);
    a->reads = calloc(a->nlocal * a->nfeat + 1, 1);
    a->cnt = calloc(a->nlocal * a->nfeat * (size_t)a->nyears * 2 + 1, sizeof *a->cnt);
    AF_CHECK_ALLOC(a->reads);
    AF_CHECK_ALLOC(a->cnt);
    for (size_t s = 0; s < a->nlocal; s++) {
        const af_sample *sm = af_sampleset_get_ref(ctx->set, a->begin + s);
        for (fi = 0; fi < a->nfeat; fi++) {
            af_applies ap = a->feat[fi].f->applies;
            if ((ap == AF_APPLIES_COUNTIES && sm->kind != AF_SAMPLE_COUNTY) ||
                (ap == AF_APPLIES_SITES && sm->kind != AF_SAMPLE_SITE))
                continue;
            int r = file_of(ctx->cfg, a->feat[fi].f, sm, a->year0, path, sizeof path, err);
            AF_CHECK(r < 0 ? r : AF_OK);
            a->reads[s * a->nfeat + fi] = (unsigned char)r;
        }
    }
    *out = a;
    a = NULL;
cleanup:
    af__cov_destroy(&a);
    return rc;
}

void af__cov_count_block(af_cov_acct *a, const af_ctx *ctx, int t0, int nt, const float *x,
                         const unsigned char *yvalid)
{
    size_t ni = ctx->ninputs, ntg = ctx->ntargets, ny = (size_t)a->nyears;
    for (size_t s = 0; s < a->nlocal; s++)
        for (size_t fi = 0; fi < a->nfeat; fi++) {
            if (!a->reads[s * a->nfeat + fi]) continue;
            size_t v = a->feat[fi].var;
            int *row = a->cnt + (s * a->nfeat + fi) * ny * 2;
            for (int t = 0; t < nt; t++) {
                size_t c = s * (size_t)nt + (size_t)t;
                int ok = v < ni ? !isnan(x[c * ni + v]) : yvalid[c * ntg + (v - ni)] != 0;
                int y = a->yidx[t0 + t];
                row[2 * y] += ok;
                row[2 * y + 1]++;
            }
        }
}

int af__cov_count_written(af_cov_acct *a, const af_ctx *ctx, const char *outdir, const char *suffix,
                          size_t shard_samples, int days_done, int block, af_error *err)
{
    int rc = AF_OK;
    size_t ni = ctx->ninputs, ntg = ctx->ntargets, cells = a->nlocal * (size_t)block;
    float *x = malloc((cells * ni + 1) * sizeof *x), *y = malloc((cells * ntg + 1) * sizeof *y);
    float *xs = malloc((shard_samples * (size_t)block * ni + 1) * sizeof *xs);
    float *ys = malloc((shard_samples * (size_t)block * ntg + 1) * sizeof *ys);
    unsigned char *yv = malloc(cells * ntg + 1);
    char name[64], path[4400];
    AF_CHECK_ALLOC(x);
    AF_CHECK_ALLOC(y);
    AF_CHECK_ALLOC(xs);
    AF_CHECK_ALLOC(ys);
    AF_CHECK_ALLOC(yv);
    for (int t0 = 0; t0 < days_done && a->nlocal > 0; t0 += block) {
        int nt = t0 + block <= days_done ? block : days_done - t0;
        size_t b = a->begin, e = a->begin + a->nlocal;
        for (size_t k = b / shard_samples; k * shard_samples < e; k++) {
            size_t s0 = k * shard_samples > b ? k * shard_samples : b;
            size_t s1 = (k + 1) * shard_samples < e ? (k + 1) * shard_samples : e;
            snprintf(name, sizeof name, "shard-%05zu.nc%s", k, suffix);
            AF_CHECK(af_path_join(outdir, name, path, sizeof path, err));
            AF_CHECK(af_shard_read_block(path, s0 - k * shard_samples, s1 - s0, t0, nt, xs, ys, err));
            /* rows [s0, s1) of this rank, days [t0, t0+nt): the block buffers' layout */
            memcpy(x + (s0 - b) * (size_t)nt * ni, xs, (s1 - s0) * (size_t)nt * ni * sizeof *x);
            memcpy(y + (s0 - b) * (size_t)nt * ntg, ys, (s1 - s0) * (size_t)nt * ntg * sizeof *y);
        }
        /* y is NaN exactly where y_valid is 0 (run.c's fill_block writes both from the source's valid) */
        for (size_t i = 0; i < a->nlocal * (size_t)nt * ntg; i++) yv[i] = isnan(y[i]) ? 0 : 1;
        af__cov_count_block(a, ctx, t0, nt, x, yv);
    }
cleanup:
    free(x);
    free(y);
    free(xs);
    free(ys);
    free(yv);
    return rc;
}

static int add_msg(af_cov_acct *a, int kind, af_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Count a warning of kind, log it (the first COV_LOG_MAX), keep its text for coverage.json. */
static int add_msg(af_cov_acct *a, int kind, af_error *err, const char *fmt, ...)
{
    int rc = AF_OK;
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a->nwarn[kind]++;
    if (a->nmsgs < COV_LOG_MAX) af_log(AF_LOG_WARN, "coverage", "%s", buf);
    if (a->nmsgs == a->capmsgs) {
        size_t nc = a->capmsgs ? 2 * a->capmsgs : 16;
        char **nm = realloc(a->msgs, nc * sizeof *nm);
        AF_CHECK_ALLOC(nm);
        a->msgs = nm;
        a->capmsgs = nc;
    }
    a->msgs[a->nmsgs] = af_strdup(buf);
    AF_CHECK_ALLOC(a->msgs[a->nmsgs]);
    a->nmsgs++;
cleanup:
    return rc;
}

/* Sample s's [nyears][2] counts of the feature being reported (gathered on rank 0). */
static const int *cell(const af_cov_acct *a, size_t s)
{
    return a->all + s * (size_t)a->nyears * 2;
}

/* One feature's files in first-met order, found by path through an open-addressing table (a
 * feature may read a file per sample and year: hundreds of thousands). */
typedef struct cov_files {
    cov_file *f;
    size_t n, cap;
    size_t *slot;              /* [nslot]: file index + 1, 0 = empty */
    size_t nslot;
} cov_files;

static void files_free(cov_files *fs)
{
    for (size_t i = 0; fs->f && i < fs->n; i++) {
        free(fs->f[i].path);
        free(fs->f[i].years);
    }
    free(fs->f);
    free(fs->slot);
    memset(fs, 0, sizeof *fs);
}

static size_t path_hash(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

/* Slot of path in the table: its file's slot, or the empty slot where it goes. */
static size_t find_slot(const cov_files *fs, const char *path)
{
    size_t k = path_hash(path) & (fs->nslot - 1);
    while (fs->slot[k] && strcmp(fs->f[fs->slot[k] - 1].path, path) != 0) k = (k + 1) & (fs->nslot - 1);
    return k;
}

/* Keep the table at most half full. */
static int grow_slots(cov_files *fs, af_error *err)
{
    int rc = AF_OK;
    if (2 * (fs->n + 1) <= fs->nslot) goto cleanup;
    size_t ns = fs->nslot ? 2 * fs->nslot : 64;
    size_t *old = fs->slot, nold = fs->nslot;
    fs->slot = calloc(ns, sizeof *fs->slot);
    if (!fs->slot) {
        fs->slot = old;
        AF_FAIL(AF_ENOMEM, "out of memory");
    }
    fs->nslot = ns;
    for (size_t k = 0; k < nold; k++)
        if (old[k]) fs->slot[find_slot(fs, fs->f[old[k] - 1].path)] = old[k];
    free(old);
cleanup:
    return rc;
}

/* Add sample s's (path, year, valid, days) to the feature's files. */
static int file_add(cov_files *fs, const char *path, size_t s, int year, long long valid, long long days,
                    af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(grow_slots(fs, err));
    size_t k = find_slot(fs, path);
    if (!fs->slot[k]) {
        AF_CHECK(af_array_grow((void **)&fs->f, &fs->cap, fs->n, sizeof *fs->f, 16, err));
        memset(&fs->f[fs->n], 0, sizeof *fs->f);
        fs->f[fs->n].path = af_strdup(path);
        AF_CHECK_ALLOC(fs->f[fs->n].path);
        fs->f[fs->n].sample0 = s;
        fs->slot[k] = ++fs->n;
    }
    size_t i = fs->slot[k] - 1;
    cov_file *fl = &fs->f[i];
    if (fl->sample0 != s) fl->shared = 1;
    size_t y = 0;
    while (y < fl->nyears && fl->years[y].year != year) y++;
    if (y == fl->nyears) {
        cov_year *ny = realloc(fl->years, (fl->nyears + 1) * sizeof *ny);
        AF_CHECK_ALLOC(ny);
        fl->years = ny;
        fl->years[y] = (cov_year){ year, 0, 0 };
        fl->nyears++;
    }
    fl->years[y].valid += valid;
    fl->years[y].days += days;
    fl->valid += valid;
    fl->days += days;
cleanup:
    return rc;
}

/* One feature's files: the files, their years and warnings. Fills *fs. */
static int feature_files(af_cov_acct *a, const af_ctx *ctx, size_t fi, cov_files *fs, af_error *err)
{
    int rc = AF_OK;
    char path[4200];
    const af_feature_cfg *f = a->feat[fi].f;
    const char *sec = f->section->name;
    for (size_t s = 0; s < a->nsamples; s++) {
        const int *c = cell(a, s);
        const af_sample *sm = af_sampleset_get_ref(ctx->set, s);
        for (int y = 0; y < a->nyears; y++) {
            if (c[2 * y + 1] == 0) continue;
            int r = file_of(ctx->cfg, f, sm, a->year0 + y, path, sizeof path, err);
            AF_CHECK(r < 0 ? r : AF_OK);
            AF_CHECK(file_add(fs, path, s, a->year0 + y, c[2 * y], c[2 * y + 1], err));
        }
    }
    for (size_t i = 0; i < fs->n; i++) {
        cov_file *fl = &fs->f[i];
        size_t before = a->nmsgs;
        if (fl->valid == 0) {
            AF_CHECK(add_msg(a, AF_COV_FILE_EMPTY, err, "[%s] %s: contributes no valid day (%lld sample-days read "
                             "from it, all missing)", sec, fl->path, fl->days));
            fl->warned = 1;
            continue;
        }
        for (size_t y = 0; y < fl->nyears; y++) {
            const cov_year *cy = &fl->years[y];
            double frac = (double)cy->valid / (double)cy->days;
            if (cy->valid == 0)
                AF_CHECK(add_msg(a, AF_COV_YEAR_MISSING, err, "[%s] %s: year %d is missing (no valid day in its %lld "
                                 "sample-days; other years have some)", sec, fl->path, cy->year, cy->days));
            else if (frac < a->min_fraction)
                AF_CHECK(add_msg(a, AF_COV_BELOW, err, "[%s] %s: year %d: valid fraction %.4f (%lld of %lld "
                                 "sample-days) is below [pipeline] coverage_min_fraction %g", sec, fl->path,
                                 cy->year, frac, cy->valid, cy->days, a->min_fraction));
        }
        fl->warned = a->nmsgs > before;
    }
cleanup:
    return rc;
}

/* Samples with no valid value of feature fi in the whole run, whose files have valid days elsewhere. */
static int feature_samples(af_cov_acct *a, const af_ctx *ctx, size_t fi, const cov_files *fs, af_error *err)
{
    int rc = AF_OK;
    char path[4200];
    const af_feature_cfg *f = a->feat[fi].f;
    const char *sec = f->section->name;
    for (size_t s = 0; s < a->nsamples; s++) {
        const int *c = cell(a, s);
        const af_sample *sm = af_sampleset_get_ref(ctx->set, s);
        const cov_file *with = NULL;
        long long v = 0, d = 0;
        for (int y = 0; y < a->nyears; y++) { v += c[2 * y]; d += c[2 * y + 1]; }
        if (d == 0 || v > 0) continue;
        /* a file of the sample with valid days for other samples; none: its files are reported already */
        for (int y = 0; y < a->nyears && !with; y++) {
            if (c[2 * y + 1] == 0) continue;
            int r = file_of(ctx->cfg, f, sm, a->year0 + y, path, sizeof path, err);
            AF_CHECK(r < 0 ? r : AF_OK);
            size_t k = find_slot(fs, path);
            if (fs->slot[k] && fs->f[fs->slot[k] - 1].valid > 0) with = &fs->f[fs->slot[k] - 1];
        }
        if (!with) continue;
        if (sm->kind == AF_SAMPLE_COUNTY)
            AF_CHECK(add_msg(a, AF_COV_SAMPLE, err, "[%s] county %s (sample %s): no valid value on any of its %lld "
                             "days, e.g. in %s (outside the raster, or only nodata under it)", sec, sm->fips, sm->id,
                             d, with->path));
        else
            AF_CHECK(add_msg(a, AF_COV_SAMPLE, err, "[%s] site %s: no valid value on any of its %lld days, e.g. in %s",
                             sec, sm->id, d, with->path));
    }
cleanup:
    return rc;
}

static void jset(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v) != 0) *bad = 1;
}

static void jpush(json_t *a, json_t *v, int *bad)
{
    if (!v || json_array_append_new(a, v) != 0) *bad = 1;
}

static json_t *year_obj(int year, long long valid, long long days, int *bad)
{
    json_t *o = json_object();
    jset(o, "year", json_integer(year), bad);
    jset(o, "valid", json_integer(valid), bad);
    jset(o, "sample_days", json_integer(days), bad);
    return o;
}

/* Text appended to a growing buffer (bad set on out of memory). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int bad;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->bad) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap + n + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) { b->bad = 1; return; }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* Put head (n bytes) before b's text in place: the features' text can be hundreds of MB at CONUS
 * size, so it is not copied into a second buffer. */
static void sb_prepend(sbuf *b, const char *head, size_t n)
{
    if (b->bad) return;
    size_t len = b->len;
    sb_add(b, head, n); /* room for n more bytes */
    if (b->bad) return;
    memmove(b->p + n, b->p, len);
    memcpy(b->p, head, n);
}

/* Compact JSON of o less its closing brace (more members follow); consumes o. */
static void sb_open_object(sbuf *b, json_t *o, int bad)
{
    char *t = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!t) { b->bad = 1; return; }
    sb_add(b, t, strlen(t) - 1);
    free(t);
}

/* "NAME":[[per year] per sample] of count k (0 valid, 1 sample-days); ints written here: the table
 * can hold millions of cells, too many for one JSON object each. */
static void sb_table(sbuf *b, const af_cov_acct *a, const char *name, int k)
{
    char t[32];
    sb_str(b, "\"");
    sb_str(b, name);
    sb_str(b, "\":[");
    for (size_t s = 0; s < a->nsamples; s++) {
        sb_str(b, s ? ",[" : "[");
        for (int y = 0; y < a->nyears; y++) {
            int n = snprintf(t, sizeof t, "%s%d", y ? "," : "", cell(a, s)[2 * y + k]);
            sb_add(b, t, (size_t)n);
        }
        sb_str(b, "]");
    }
    sb_str(b, "]");
}

/* One feature's entry of coverage.json, appended to b. "files" lists the files read by more than
 * one sample and the files with a warning: a file of one sample only (an Ecosys year file, a
 * DayCent run, a tower file) is that sample's row of per_sample, so listing every one would only
 * repeat the table (millions of entries at CONUS size); "nfiles" counts them all. */
static void feature_text(sbuf *b, const af_cov_acct *a, size_t fi, const cov_files *fs)
{
    const af_feature_cfg *f = a->feat[fi].f;
    const cov_file *files = fs->f;
    size_t nfiles = fs->n;
    int bad0 = 0, *bad = &bad0;
    json_t *o = json_object(), *py = json_array(), *jf = json_array();
    long long tv = 0, td = 0;
    jset(o, "section", json_string(f->section->name), bad);
    jset(o, "name", json_string(f->name), bad);
    jset(o, "role", json_string(f->role == AF_ROLE_INPUT ? "input" : "target"), bad);
    jset(o, "source", json_string(f->source), bad);
    for (int y = 0; y < a->nyears; y++) {
        long long v = 0, d = 0;
        for (size_t s = 0; s < a->nsamples; s++) { v += cell(a, s)[2 * y]; d += cell(a, s)[2 * y + 1]; }
        jpush(py, year_obj(a->year0 + y, v, d, bad), bad);
        tv += v;
        td += d;
    }
    jset(o, "valid", json_integer(tv), bad);
    jset(o, "sample_days", json_integer(td), bad);
    jset(o, "years", py, bad);
    jset(o, "nfiles", json_integer((json_int_t)nfiles), bad);
    for (size_t i = 0; i < nfiles; i++) {
        if (!files[i].shared && !files[i].warned) continue;
        json_t *e = json_object(), *ys = json_array();
        jset(e, "path", json_string(files[i].path), bad);
        jset(e, "valid", json_integer(files[i].valid), bad);
        jset(e, "sample_days", json_integer(files[i].days), bad);
        for (size_t y = 0; y < files[i].nyears; y++)
            jpush(ys, year_obj(files[i].years[y].year, files[i].years[y].valid, files[i].years[y].days, bad), bad);
        jset(e, "years", ys, bad);
        jpush(jf, e, bad);
    }
    jset(o, "files", jf, bad);
    sb_open_object(b, o, bad0);
    sb_str(b, ",\"per_sample\":{");
    sb_table(b, a, "valid", 0);
    sb_str(b, ",");
    sb_table(b, a, "sample_days", 1);
    sb_str(b, "}}");
}

int af__cov_report(MPI_Comm comm, af_cov_acct *a, const af_ctx *ctx, const af_range *ranges, int strict,
                   char **json_text, af_error *err)
{
    int rc = AF_OK, rank, size, bad = 0;
    int *counts = NULL, *displs = NULL, *send = NULL;
    cov_files fs;
    sbuf feats = { NULL, 0, 0, 0 }, out = { NULL, 0, 0, 0 };
    memset(&fs, 0, sizeof fs);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t row = (size_t)a->nyears * 2; /* one sample's counts of one feature */
    *json_text = NULL;
    send = malloc((a->nlocal * row + 1) * sizeof *send);
    if (!send) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        displs = calloc((size_t)size, sizeof *displs);
        a->all = calloc(a->nsamples * row + 1, sizeof *a->all);
        if (!counts || !displs || !a->all) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int r = 0; counts && displs && r < size; r++) {
            counts[r] = (int)((ranges[r].end - ranges[r].begin) * row);
            displs[r] = (int)(ranges[r].begin * row);
        }
    }
    if (af_error_sync(comm, err) != AF_OK) { rc = err->code; goto cleanup; }
    /* One feature at a time, in sample order (Gatherv in rank order: the same table for any rank
     * count): rank 0 holds one feature's table, not every feature's. Rank 0 keeps gathering after
     * an error of its own so every rank makes the same calls; the error is agreed after the loop. */
    for (size_t fi = 0; fi < a->nfeat; fi++) {
        for (size_t s = 0; s < a->nlocal; s++)
            memcpy(send + s * row, a->cnt + (s * a->nfeat + fi) * row, row * sizeof *send);
        MPI_Request req; /* the other ranks wait for rank 0's text sleeping (af_mpi_wait_idle), not polling */
        AF_CHECK_MPI(MPI_Igatherv(send, (int)(a->nlocal * row), MPI_INT, a->all, counts, displs, MPI_INT, 0, comm,
                                  &req));
        AF_CHECK_MPI(af_mpi_wait_idle(&req));
        if (rank != 0 || err->code != AF_OK) continue;
        if (feature_files(a, ctx, fi, &fs, err) == AF_OK && feature_samples(a, ctx, fi, &fs, err) == AF_OK) {
            if (fi > 0) sb_str(&feats, ",");
            feature_text(&feats, a, fi, &fs);
        }
        files_free(&fs);
    }
    if (rank == 0) {
        if (a->nmsgs > COV_LOG_MAX)
            af_log(AF_LOG_WARN, "coverage", "%zu more coverage warnings (all listed in %s)", a->nmsgs - COV_LOG_MAX,
                   AF_COVERAGE_NAME);
    }
    if (af_error_sync(comm, err) != AF_OK) { rc = err->code; goto cleanup; }
    AF_CHECK_MPI(MPI_Bcast(a->nwarn, AF_COV_NWARN, MPI_LONG_LONG, 0, comm));
    long long total = 0;
    for (int k = 0; k < AF_COV_NWARN; k++) total += a->nwarn[k];
    if (strict && total > 0) {
        /* the same text on every rank: the counts are broadcast; the first warning is rank 0's */
        if (rank == 0)
            af_error_set(err, AF_EFORMAT, __FILE__, __LINE__, __func__,
                         "--strict: %lld coverage warnings (%lld files with no valid day, %lld missing years, %lld "
                         "below coverage_min_fraction, %lld counties or sites with no coverage); the first: %s; "
                         "nothing is published", total, a->nwarn[AF_COV_FILE_EMPTY], a->nwarn[AF_COV_YEAR_MISSING],
                         a->nwarn[AF_COV_BELOW], a->nwarn[AF_COV_SAMPLE], a->msgs[0]);
        if (af_error_sync(comm, err) != AF_OK) { rc = err->code; goto cleanup; }
    }
    if (rank == 0) {
        json_t *root = json_object(), *w = json_object(), *ms = json_array(), *yrs = json_array();
        for (int k = 0; k < AF_COV_NWARN; k++) jset(w, af_index_coverage_warning_name(k), json_integer(a->nwarn[k]), &bad);
        for (size_t i = 0; i < a->nmsgs; i++) jpush(ms, json_string(a->msgs[i]), &bad);
        for (int y = 0; y < a->nyears; y++) jpush(yrs, json_integer(a->year0 + y), &bad);
        jset(root, "coverage_min_fraction", json_real(a->min_fraction), &bad);
        jset(root, "years", yrs, &bad);
        jset(root, "warnings", w, &bad);
        jset(root, "messages", ms, &bad);
        sb_open_object(&out, root, bad);
        sb_str(&out, ",\"features\":[");
        if (!out.bad) sb_prepend(&feats, out.p, out.len);
        sb_str(&feats, "]}");
        if (out.bad || feats.bad) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        *json_text = feats.p;
        feats.p = NULL;
    }
    if (af_error_sync(comm, err) != AF_OK) { rc = err->code; goto cleanup; }
cleanup:
    if (rc != AF_OK && json_text) {
        free(*json_text);
        *json_text = NULL;
    }
    files_free(&fs);
    free(feats.p);
    free(out.p);
    free(counts);
    free(displs);
    free(send);
    return rc;
}

void af__cov_counts(const af_cov_acct *a, long long out[AF_COV_NWARN])
{
    for (int k = 0; k < AF_COV_NWARN; k++) out[k] = a ? a->nwarn[k] : 0;
}

int af__cov_write(const char *outdir, const char *text, size_t nfeat, af_prov_ref *ref, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    memset(ref, 0, sizeof *ref);
    AF_CHECK(af_path_join(outdir, AF_COVERAGE_NAME, path, sizeof path, err));
    AF_CHECK(af_write_atomic(path, text, strlen(text), err));
    snprintf(ref->path, sizeof ref->path, "%s", AF_COVERAGE_NAME);
    ref->bytes = (long long)strlen(text);
    af_sha256_hex(text, strlen(text), ref->sha256);
    ref->count = (long long)nfeat;
cleanup:
    return rc;
}

size_t af__cov_nfeat(const af_cov_acct *a) { return a ? a->nfeat : 0; }

void af__cov_destroy(af_cov_acct **pa)
{
    if (!pa || !*pa) return;
    af_cov_acct *a = *pa;
    for (size_t i = 0; i < a->nmsgs; i++) free(a->msgs[i]);
    free(a->msgs);
    free(a->feat);
    free(a->yidx);
    free(a->reads);
    free(a->cnt);
    free(a->all);
    free(a);
    *pa = NULL;
}
