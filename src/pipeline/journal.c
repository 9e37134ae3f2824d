/* SPDX-License-Identifier: MIT */
/*
 * journal.c: the resumable state of a run, OUTDIR/journal.json, written by rank 0
 * with af_write_atomic (temp, fsync, rename) after every checkpoint:
 *   {"schema": "agroflux-journal", "version": 1, "config_sha256": hex, "layout_sha256": hex,
 *    "ndays": int, "days_done": int, "state": "writing"|"sealed",
 *    "shards": [{"path", "sample_start", "sample_count", "bytes", "sha256"}] (sealed only),
 *    "checks": {"days": [day_end, ...], "shards": [{"path", "bytes", "static_sha256",
 *               "days_sha256": [hex per segment]}]}}
 * "checks" grows by one segment per checkpoint: the days written since the previous
 * checkpoint, digested in every .partial shard after the collective flush
 * (af_shard_digest_file), plus the shard's size and the digest of its header and
 * static variables. --resume trusts the .partial files only as far as they match.
 * "writing": the .partial shards hold every day before days_done for every sample,
 * flushed collectively before the journal was written. "sealed": the .partial
 * shards are complete, closed and hashed; only renaming and the index remain.
 * The layout hash covers everything that fixes the bytes of a shard except data
 * values: samples (ids, order, coordinates), variables, calendar, shard size, format.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "pipeline_impl.h"

#define JOURNAL_SCHEMA "agroflux-journal"
#define JOURNAL_VERSION 2

/* Append printf text to a growing buffer. */
static int buf_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int buf_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0) return -1;
        if ((size_t)n < *cap - *len) { *len += (size_t)n; return 0; }
        size_t ncap = (*cap + (size_t)n + 1) * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) return -1;
        *buf = nb;
        *cap = ncap;
    }
}

int af__layout_sha256(const af_layout *l, char hex[65], af_error *err)
{
    int rc = AF_OK;
    size_t len = 0, cap = 4096;
    char *b = malloc(cap);
    AF_CHECK_ALLOC(b);
    b[0] = '\0';
    int nd = af_calendar_ndays(l->cal);
    int bad = buf_add(&b, &len, &cap, "n=%zu S=%zu days=%d first=%ld last=%ld cal=%s cdf5=%d\n",
                      l->nsamples, l->shard_samples, nd, nd ? af_calendar_epoch(l->cal, 0) : 0L,
                      nd ? af_calendar_epoch(l->cal, nd - 1) : 0L,
                      af_calendar_kind_name(af_calendar_kind_of(l->cal)), l->cdf5);
    for (int w = 0; w < 2; w++) {
        const af_var_desc *v = w ? l->targets : l->inputs;
        size_t n = w ? l->ntargets : l->ninputs;
        for (size_t i = 0; i < n && !bad; i++)
            bad = buf_add(&b, &len, &cap, "%s|%s|%s|%s|%s|%s|%s\n", w ? "target" : "input", v[i].name,
                          v[i].units, v[i].long_name, v[i].source, v[i].source_units, v[i].sign);
    }
    for (size_t i = 0; i < l->nsamples && !bad; i++) {
        const af_sample *s = &l->samples[i];
        bad = buf_add(&b, &len, &cap, "%s|%d|%s|%s|%.17g|%.17g\n", s->id, (int)s->kind, s->fips, s->scenario,
                      s->lat, s->lon);
    }
    if (bad) AF_FAIL(AF_ENOMEM, "out of memory describing the output layout");
    af_sha256_hex(b, len, hex);
cleanup:
    free(b);
    return rc;
}

void af__journal_dispose(af_journal *j)
{
    if (!j) return;
    free(j->shards);
    j->shards = NULL;
    j->nshards = 0;
    free(j->settings);
    j->settings = NULL;
    af__journal_keep_checks(j, 0);
}

void af__journal_keep_checks(af_journal *j, int nseg)
{
    if (!j) return;
    if (nseg > 0) {
        if (nseg < j->nseg) j->nseg = nseg;
        return;
    }
    j->nseg = 0;
    free(j->seg_end);
    free(j->check_bytes);
    free(j->check_static);
    free(j->check_seg);
    j->seg_end = NULL;
    j->check_bytes = NULL;
    j->check_static = NULL;
    j->check_seg = NULL;
    j->ncheck = 0;
}

int af__journal_add_checks(af_journal *j, int day_end, const af_shard_digest *d, size_t n, af_error *err)
{
    int rc = AF_OK;
    if (j->ncheck == 0) {
        af__journal_keep_checks(j, 0);
        j->check_bytes = calloc(n ? n : 1, sizeof *j->check_bytes);
        j->check_static = calloc(n ? n : 1, sizeof *j->check_static);
        AF_CHECK_ALLOC(j->check_bytes);
        AF_CHECK_ALLOC(j->check_static);
        for (size_t k = 0; k < n; k++) memcpy(j->check_static[k], d[k].static_sha256, 65);
        j->ncheck = n;
    }
    if (n != j->ncheck) AF_FAIL(AF_EINTERNAL, "checkpoint of %zu shards, the journal has %zu", n, j->ncheck);
    int *ne = realloc(j->seg_end, (size_t)(j->nseg + 1) * sizeof *ne);
    AF_CHECK_ALLOC(ne);
    j->seg_end = ne;
    char(*ns)[65] = realloc(j->check_seg, (size_t)(j->nseg + 1) * (n ? n : 1) * sizeof *ns);
    AF_CHECK_ALLOC(ns);
    j->check_seg = ns;
    j->seg_end[j->nseg] = day_end;
    for (size_t k = 0; k < n; k++) {
        memcpy(j->check_seg[(size_t)j->nseg * n + k], d[k].days_sha256, 65);
        j->check_bytes[k] = d[k].bytes;
    }
    j->nseg++;
cleanup:
    return rc;
}

/* The "checks" object of the journal (NULL when there are none). */
static json_t *checks_json(const af_journal *j)
{
    if (j->ncheck == 0 || j->nseg == 0) return NULL;
    json_t *o = json_object(), *days = json_array(), *sh = json_array();
    if (!o || !days || !sh) goto fail;
    json_object_set_new(o, "days", days);
    json_object_set_new(o, "shards", sh);
    for (int i = 0; i < j->nseg; i++)
        if (json_array_append_new(days, json_integer(j->seg_end[i])) != 0) goto fail_inner;
    for (size_t k = 0; k < j->ncheck; k++) {
        char name[64];
        snprintf(name, sizeof name, "shard-%05zu.nc.partial", k);
        json_t *segs = json_array();
        json_t *e = json_pack("{s:s, s:I, s:s, s:o*}", "path", name, "bytes", (json_int_t)j->check_bytes[k],
                              "static_sha256", j->check_static[k], "days_sha256", segs);
        if (!e) goto fail_inner;
        json_array_append_new(sh, e);
        for (int i = 0; i < j->nseg; i++)
            json_array_append_new(segs, json_string(j->check_seg[(size_t)i * j->ncheck + k]));
    }
    return o;
fail:
    json_decref(days);
    json_decref(sh);
fail_inner:
    json_decref(o);
    return NULL;
}

int af__journal_path(const char *outdir, char *out, size_t n, af_error *err)
{
    return af_path_join(outdir, AF_JOURNAL_NAME, out, n, err);
}

int af__journal_write(const char *outdir, const af_journal *j, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    char *text = NULL;
    json_t *root = json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:s}", "schema", JOURNAL_SCHEMA, "version",
                             JOURNAL_VERSION, "config_sha256", j->config_sha256, "layout_sha256",
                             j->layout_sha256, "ndays", j->ndays, "days_done", j->days_done, "state",
                             j->sealed ? "sealed" : "writing");
    AF_CHECK_ALLOC(root);
    if (j->output_sha256[0] && j->settings) { /* issue 16: what fixes the output, for --resume */
        json_object_set_new(root, "output_sha256", json_string(j->output_sha256));
        json_object_set_new(root, "settings", json_string(j->settings));
    }
    if (j->sealed) {
        json_t *a = json_array();
        AF_CHECK_ALLOC(a);
        json_object_set_new(root, "shards", a);
        for (size_t k = 0; k < j->nshards; k++) {
            const af_shard_info *s = &j->shards[k];
            json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s}", "path", s->path, "sample_start",
                                  (json_int_t)s->sample_start, "sample_count", (json_int_t)s->sample_count,
                                  "bytes", (json_int_t)s->bytes, "sha256", s->sha256);
            AF_CHECK_ALLOC(o);
            json_array_append_new(a, o);
        }
    }
    if (j->ncheck > 0 && j->nseg > 0) {
        json_t *c = checks_json(j);
        AF_CHECK_ALLOC(c);
        json_object_set_new(root, "checks", c);
    }
    text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    AF_CHECK_ALLOC(text);
    AF_CHECK(af__journal_path(outdir, path, sizeof path, err));
    AF_CHECK(af_write_atomic(path, text, strlen(text), err));
cleanup:
    free(text);
    json_decref(root);
    return rc;
}

/* A string member copied into dst, or AF_EFORMAT naming the field. */
static int jstr(json_t *o, const char *key, char *dst, size_t n, const char *path, af_error *err)
{
    int rc = AF_OK;
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) >= n)
        AF_FAIL(AF_EFORMAT, "'%s': field '%s' is missing or not a short string", path, key);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
cleanup:
    return rc;
}

/* A count in 0..max: a hostile or damaged journal must not wrap when it is narrowed to int. */
static int jcount(json_t *o, const char *key, long long max, long long *out, const char *path, af_error *err)
{
    int rc = AF_OK;
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        AF_FAIL(AF_EFORMAT, "'%s': field '%s' is missing or not an integer", path, key);
    if (json_integer_value(v) < 0 || json_integer_value(v) > max)
        AF_FAIL(AF_EFORMAT, "'%s': field '%s' is %lld, out of range 0..%lld", path, key,
                (long long)json_integer_value(v), max);
    *out = (long long)json_integer_value(v);
cleanup:
    return rc;
}

static int jint(json_t *o, const char *key, long long *out, const char *path, af_error *err)
{
    return jcount(o, key, LLONG_MAX, out, path, err);
}

static int read_shards(json_t *root, af_journal *j, const char *path, af_error *err)
{
    int rc = AF_OK;
    json_t *a = json_object_get(root, "shards");
    if (!json_is_array(a)) AF_FAIL(AF_EFORMAT, "'%s': a sealed journal needs a 'shards' array", path);
    j->nshards = json_array_size(a);
    j->shards = calloc(j->nshards ? j->nshards : 1, sizeof *j->shards);
    AF_CHECK_ALLOC(j->shards);
    for (size_t k = 0; k < j->nshards; k++) {
        json_t *o = json_array_get(a, k);
        af_shard_info *s = &j->shards[k];
        long long v;
        AF_CHECK(jstr(o, "path", s->path, sizeof s->path, path, err));
        AF_CHECK(jstr(o, "sha256", s->sha256, sizeof s->sha256, path, err));
        AF_CHECK(jint(o, "sample_start", &v, path, err));
        s->sample_start = (size_t)v;
        AF_CHECK(jint(o, "sample_count", &v, path, err));
        s->sample_count = (size_t)v;
        AF_CHECK(jint(o, "bytes", &s->bytes, path, err));
    }
cleanup:
    return rc;
}

/* The optional "checks" object: segments and per-shard digests. */
static int read_checks(json_t *root, af_journal *j, const char *path, af_error *err)
{
    int rc = AF_OK;
    json_t *c = json_object_get(root, "checks");
    if (!c) goto cleanup;
    json_t *days = json_object_get(c, "days"), *sh = json_object_get(c, "shards");
    if (!json_is_array(days) || !json_is_array(sh) || json_array_size(days) == 0 || json_array_size(sh) == 0)
        AF_FAIL(AF_EFORMAT, "'%s': 'checks' needs non-empty 'days' and 'shards' arrays", path);
    size_t nseg = json_array_size(days), n = json_array_size(sh);
    j->seg_end = calloc(nseg, sizeof *j->seg_end);
    j->check_bytes = calloc(n, sizeof *j->check_bytes);
    j->check_static = calloc(n, sizeof *j->check_static);
    j->check_seg = calloc(nseg * n, sizeof *j->check_seg);
    AF_CHECK_ALLOC(j->seg_end);
    AF_CHECK_ALLOC(j->check_bytes);
    AF_CHECK_ALLOC(j->check_static);
    AF_CHECK_ALLOC(j->check_seg);
    j->nseg = (int)nseg;
    j->ncheck = n;
    for (size_t i = 0; i < nseg; i++) {
        json_t *v = json_array_get(days, i);
        int prev = i ? j->seg_end[i - 1] : 0;
        if (!json_is_integer(v) || json_integer_value(v) <= prev || json_integer_value(v) > j->ndays)
            AF_FAIL(AF_EFORMAT, "'%s': checks.days[%zu] is not a day after %d and up to %d", path, i, prev, j->ndays);
        j->seg_end[i] = (int)json_integer_value(v);
    }
    for (size_t k = 0; k < n; k++) {
        json_t *o = json_array_get(sh, k), *segs = json_object_get(o, "days_sha256");
        AF_CHECK(jint(o, "bytes", &j->check_bytes[k], path, err));
        AF_CHECK(jstr(o, "static_sha256", j->check_static[k], sizeof j->check_static[k], path, err));
        if (!json_is_array(segs) || json_array_size(segs) != nseg)
            AF_FAIL(AF_EFORMAT, "'%s': checks.shards[%zu].days_sha256 needs %zu digests", path, k, nseg);
        for (size_t i = 0; i < nseg; i++) {
            json_t *v = json_array_get(segs, i);
            if (!json_is_string(v) || json_string_length(v) != 64)
                AF_FAIL(AF_EFORMAT, "'%s': checks.shards[%zu].days_sha256[%zu] is not a SHA-256", path, k, i);
            memcpy(j->check_seg[i * n + k], json_string_value(v), 65);
        }
    }
cleanup:
    return rc;
}

int af__journal_parse(const char *text, const char *path, af_journal *j, af_error *err)
{
    int rc = AF_OK;
    char schema[32], state[16];
    json_t *root = NULL;
    json_error_t jerr;
    long long v;
    memset(j, 0, sizeof *j);
    root = json_loads(text, 0, &jerr);
    if (!root) AF_FAIL(AF_EFORMAT, "'%s': line %d: %s", path, jerr.line, jerr.text);
    AF_CHECK(jstr(root, "schema", schema, sizeof schema, path, err));
    AF_CHECK(jint(root, "version", &v, path, err));
    if (strcmp(schema, JOURNAL_SCHEMA) != 0 || v != JOURNAL_VERSION)
        AF_FAIL(AF_EFORMAT, "'%s': not an agroflux journal of version %d", path, JOURNAL_VERSION);
    AF_CHECK(jstr(root, "config_sha256", j->config_sha256, sizeof j->config_sha256, path, err));
    AF_CHECK(jstr(root, "layout_sha256", j->layout_sha256, sizeof j->layout_sha256, path, err));
    if (json_object_get(root, "output_sha256")) {
        json_t *st = json_object_get(root, "settings");
        AF_CHECK(jstr(root, "output_sha256", j->output_sha256, sizeof j->output_sha256, path, err));
        if (!json_is_string(st)) AF_FAIL(AF_EFORMAT, "'%s': settings is not a string", path);
        j->settings = af_strdup(json_string_value(st));
        AF_CHECK_ALLOC(j->settings);
    }
    AF_CHECK(jcount(root, "ndays", INT_MAX, &v, path, err));
    j->ndays = (int)v;
    AF_CHECK(jcount(root, "days_done", INT_MAX, &v, path, err));
    j->days_done = (int)v;
    if (j->days_done > j->ndays) AF_FAIL(AF_EFORMAT, "'%s': days_done %d > ndays %d", path, j->days_done, j->ndays);
    AF_CHECK(jstr(root, "state", state, sizeof state, path, err));
    if (!strcmp(state, "sealed")) j->sealed = 1;
    else if (strcmp(state, "writing") != 0) AF_FAIL(AF_EFORMAT, "'%s': unknown state '%s'", path, state);
    if (j->sealed) AF_CHECK(read_shards(root, j, path, err));
    AF_CHECK(read_checks(root, j, path, err));
cleanup:
    if (rc != AF_OK) af__journal_dispose(j);
    json_decref(root);
    return rc;
}

int af__journal_read(const char *outdir, af_journal *j, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    char *text = NULL;
    size_t len = 0;
    memset(j, 0, sizeof *j);
    AF_CHECK(af__journal_path(outdir, path, sizeof path, err));
    if (access(path, F_OK) != 0) AF_FAIL(AF_ENOTFOUND, "no journal '%s'", path);
    AF_CHECK(af_read_file(path, &text, &len, err));
    if (strlen(text) != len) AF_FAIL(AF_EFORMAT, "'%s': NUL byte at offset %zu: not a JSON text", path, strlen(text));
    AF_CHECK(af__journal_parse(text, path, j, err));
cleanup:
    free(text);
    return rc;
}

int af__journal_remove(const char *outdir, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    AF_CHECK(af__journal_path(outdir, path, sizeof path, err));
    if (unlink(path) == 0) AF_CHECK(af_fsync_path(outdir, err));
    else if (errno != ENOENT) AF_FAIL(AF_EIO, "cannot remove '%s': %s", path, strerror(errno));
cleanup:
    return rc;
}
