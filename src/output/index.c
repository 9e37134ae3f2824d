/* SPDX-License-Identifier: MIT */
/*
 * index.c: implements index.json of agroflux/index.h with jansson: write (rank 0,
 * atomic publish, fixed key order, deterministic number formatting), read with
 * strict validation (AF_EFORMAT naming the offending field), and sample lookup.
 * Not collective.
 *
 * Schema (schema_version 1); every key is required unless marked optional:
 * {
 *   "schema": "agroflux-index",
 *   "schema_version": 1,
 *   "pipeline": {"name": str, "config_sha256": str,
 *                "sets": [str] (optional: the run's --set overrides, in order)},
 *   "calendar": {"policy": "standard"|"noleap", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD",
 *                "ndays": int, "time_units": "days since 1970-01-01", "note": str (optional)},
 *   "format": "cdf2"|"cdf5",
 *   "shard_samples": int >= 1,
 *   "inputs":  [{"name", "units", "long_name", "source", "source_units", "sign"}: str],
 *   "targets": [same as inputs],
 *   "shards":  [{"path": relative str, "sample_start": int, "sample_count": int,
 *                "bytes": int, "sha256": 64 lower-case hex}],
 *   "samples": [{"id": str, "kind": "county"|"site", "shard": int, "row": int,
 *                "fips": str ("" for sites), "scenario": str ("" for sites),
 *                "lat": number, "lon": number,
 *                "county_rank": int >= 0 (optional; counties only: county list position)}],
 *   "provenance": {"software": str, "created": UTC ISO-8601 str, "ranks": int,
 *                  "peak_rss_bytes": int (max over ranks),
 *                  "peak_rss_bytes_per_rank": [int, one per rank] (optional),
 *                  "open_files_max_per_rank": [int, one per rank] (optional),
 *                  "coverage": [{"name", "valid": int, "sample_days": int}] (optional: per input then
 *                              target, valid of the applicable sample-days this run wrote),
 *                  "coverage_warnings": {"file_no_valid_day", "year_missing", "below_threshold",
 *                                        "sample_no_coverage": int} (optional),
 *                  "coverage_file": {"path", "bytes", "sha256", "count": features} (optional:
 *                                   coverage.json, per feature, file, sample and year),
 *                  "resumed_from_day": int (optional; 0 = not resumed),
 *                  "inputs": [{"path", "bytes", "sha256"}],
 *                  "timings": [{"stage": str, "min", "mean", "max": seconds,
 *                               "cpu_min", "cpu_max": CPU seconds (optional)}]},
 *   "extra": object (optional; splits, scalers, ...)
 * }
 * Samples are in global order; sample i lives in shard i / shard_samples at row
 * i % shard_samples (read checks "shard" and "row" against that). Reals are
 * printed with 10 significant digits. Keys appear in the order above.
 */
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agroflux/index.h"
#include "af_check.h"
#include "af_util.h"

const char *af_index_coverage_warning_name(int kind)
{
    static const char *const names[AF_COV_NWARN] = { "file_no_valid_day", "year_missing", "below_threshold",
                                                      "sample_no_coverage" };
    return kind >= 0 && kind < AF_COV_NWARN ? names[kind] : "?";
}

void af_index_dispose(af_index *idx)
{
    if (!idx) return;
    free(idx->inputs);
    free(idx->targets);
    free(idx->shards);
    free(idx->samples);
    free(idx->prov_inputs);
    free(idx->timings);
    free(idx->extra_json);
    free(idx->rank_peak_rss);
    idx->rank_peak_rss = NULL;
    idx->nrank_peak_rss = 0;
    free(idx->rank_max_fds);
    idx->rank_max_fds = NULL;
    idx->nrank_max_fds = 0;
    free(idx->coverage);
    idx->coverage = NULL;
    idx->ncoverage = 0;
    idx->inputs = idx->targets = NULL;
    idx->shards = NULL;
    idx->samples = NULL;
    idx->prov_inputs = NULL;
    idx->timings = NULL;
    idx->extra_json = NULL;
    idx->ninputs = idx->ntargets = idx->nshards = idx->nsamples = 0;
    idx->nprov_inputs = idx->ntimings = 0;
}

long af_index_find_sample(const af_index *idx, const char *id)
{
    if (!idx || !id) return -1;
    for (size_t i = 0; i < idx->nsamples; i++)
        if (strcmp(idx->samples[i].id, id) == 0) return (long)i;
    return -1;
}

/* ---------------------------------------------------------------- write */

/* Builders: any NULL value (allocation failure) marks the document bad. */
static void jset(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o || json_object_set_new(o, key, v) != 0) *bad = 1;
}

static void jappend(json_t *a, json_t *v, int *bad)
{
    if (!a || json_array_append_new(a, v) != 0) *bad = 1;
}

static json_t *var_list(const af_var_desc *v, size_t n, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        jset(o, "name", json_string(v[i].name), bad);
        jset(o, "units", json_string(v[i].units), bad);
        jset(o, "long_name", json_string(v[i].long_name), bad);
        jset(o, "source", json_string(v[i].source), bad);
        jset(o, "source_units", json_string(v[i].source_units), bad);
        jset(o, "sign", json_string(v[i].sign), bad);
        jappend(a, o, bad);
    }
    return a;
}

static int check_finite(const af_index *idx, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < idx->nsamples; i++)
        if (!isfinite(idx->samples[i].lat) || !isfinite(idx->samples[i].lon))
            AF_FAIL(AF_EINVAL, "sample '%s': non-finite lat/lon", idx->samples[i].id);
    for (size_t i = 0; i < idx->ntimings; i++)
        if (!isfinite(idx->timings[i].min) || !isfinite(idx->timings[i].mean) ||
            !isfinite(idx->timings[i].max) || !isfinite(idx->timings[i].cpu_min) ||
            !isfinite(idx->timings[i].cpu_max))
            AF_FAIL(AF_EINVAL, "timing '%s': non-finite value", idx->timings[i].stage);
    if (idx->shard_samples == 0) AF_FAIL(AF_EINVAL, "shard_samples is 0");
cleanup:
    return rc;
}

int af_index_write(const char *outdir, const af_index *idx, af_error *err)
{
    int rc = AF_OK, bad = 0;
    json_t *root = NULL, *extra = NULL;
    char *text = NULL, path[4200], date[11];
    AF_CHECK_ARG(outdir != NULL && idx != NULL);
    AF_CHECK(check_finite(idx, err));
    if (idx->extra_json && idx->extra_json[0]) {
        json_error_t jerr;
        extra = json_loads(idx->extra_json, 0, &jerr);
        if (!extra) AF_FAIL(AF_EINVAL, "extra_json is not valid JSON: %s", jerr.text);
        if (!json_is_object(extra)) AF_FAIL(AF_EINVAL, "extra_json is not a JSON object");
    }
    root = json_object();
    AF_CHECK_ALLOC(root);
    jset(root, "schema", json_string("agroflux-index"), &bad);
    jset(root, "schema_version", json_integer(AF_INDEX_SCHEMA_VERSION), &bad);
    json_t *o = json_object();
    jset(o, "name", json_string(idx->pipeline_name), &bad);
    jset(o, "config_sha256", json_string(idx->config_sha256), &bad);
    if (idx->nconfig_sets > 0) {
        json_t *sets = json_array();
        for (size_t i = 0; i < idx->nconfig_sets; i++)
            if (!sets || json_array_append_new(sets, json_string(idx->config_sets[i])) != 0) bad = 1;
        jset(o, "sets", sets, &bad);
    }
    jset(root, "pipeline", o, &bad);

    o = json_object();
    jset(o, "policy", json_string(idx->calendar), &bad);
    af_date_format(idx->start, date);
    jset(o, "start", json_string(date), &bad);
    af_date_format(idx->end, date);
    jset(o, "end", json_string(date), &bad);
    jset(o, "ndays", json_integer(idx->ndays), &bad);
    jset(o, "time_units", json_string("days since 1970-01-01"), &bad);
    jset(o, "note", json_string(strcmp(idx->calendar, "noleap") == 0
                                    ? "noleap: Dec 31 of leap years is dropped (Feb 29 kept); "
                                      "time values are real dates in the standard calendar"
                                    : "standard: every real day"), &bad);
    jset(root, "calendar", o, &bad);
    jset(root, "format", json_string(idx->format), &bad);
    jset(root, "shard_samples", json_integer((json_int_t)idx->shard_samples), &bad);
    jset(root, "inputs", var_list(idx->inputs, idx->ninputs, &bad), &bad);
    jset(root, "targets", var_list(idx->targets, idx->ntargets, &bad), &bad);

    json_t *a = json_array();
    for (size_t k = 0; k < idx->nshards; k++) {
        const af_shard_info *s = &idx->shards[k];
        o = json_object();
        jset(o, "path", json_string(s->path), &bad);
        jset(o, "sample_start", json_integer((json_int_t)s->sample_start), &bad);
        jset(o, "sample_count", json_integer((json_int_t)s->sample_count), &bad);
        jset(o, "bytes", json_integer(s->bytes), &bad);
        jset(o, "sha256", json_string(s->sha256), &bad);
        jappend(a, o, &bad);
    }
    jset(root, "shards", a, &bad);

    a = json_array();
    for (size_t i = 0; i < idx->nsamples; i++) {
        const af_sample *s = &idx->samples[i];
        o = json_object();
        jset(o, "id", json_string(s->id), &bad);
        jset(o, "kind", json_string(s->kind == AF_SAMPLE_SITE ? "site" : "county"), &bad);
        jset(o, "shard", json_integer((json_int_t)(i / idx->shard_samples)), &bad);
        jset(o, "row", json_integer((json_int_t)(i % idx->shard_samples)), &bad);
        jset(o, "fips", json_string(s->fips), &bad);
        jset(o, "scenario", json_string(s->scenario), &bad);
        jset(o, "lat", json_real(s->lat), &bad);
        jset(o, "lon", json_real(s->lon), &bad);
        if (s->kind == AF_SAMPLE_COUNTY && s->county_rank >= 0)
            jset(o, "county_rank", json_integer((json_int_t)s->county_rank), &bad);
        jappend(a, o, &bad);
    }
    jset(root, "samples", a, &bad);

    json_t *prov = json_object();
    jset(prov, "software", json_string(idx->software), &bad);
    jset(prov, "created", json_string(idx->created), &bad);
    jset(prov, "ranks", json_integer(idx->ranks), &bad);
    jset(prov, "peak_rss_bytes", json_integer(idx->peak_rss_bytes), &bad);
    if (idx->nrank_peak_rss > 0) {
        a = json_array();
        for (size_t i = 0; i < idx->nrank_peak_rss; i++) jappend(a, json_integer(idx->rank_peak_rss[i]), &bad);
        jset(prov, "peak_rss_bytes_per_rank", a, &bad);
    }
    if (idx->nrank_max_fds > 0) {
        a = json_array();
        for (size_t i = 0; i < idx->nrank_max_fds; i++) jappend(a, json_integer(idx->rank_max_fds[i]), &bad);
        jset(prov, "open_files_max_per_rank", a, &bad);
    }
    jset(prov, "resumed_from_day", json_integer(idx->resumed_from_day), &bad);
    if (idx->ncoverage > 0 && idx->ncoverage == idx->ninputs + idx->ntargets) {
        a = json_array();
        for (size_t i = 0; i < idx->ncoverage; i++) {
            const af_var_desc *d = i < idx->ninputs ? &idx->inputs[i] : &idx->targets[i - idx->ninputs];
            json_t *c = json_object();
            jset(c, "name", json_string(d->name), &bad);
            jset(c, "valid", json_integer(idx->coverage[2 * i]), &bad);
            jset(c, "sample_days", json_integer(idx->coverage[2 * i + 1]), &bad);
            jappend(a, c, &bad);
        }
        jset(prov, "coverage", a, &bad);
    }
    if (idx->has_coverage_warnings) {
        o = json_object();
        for (int k = 0; k < AF_COV_NWARN; k++)
            jset(o, af_index_coverage_warning_name(k), json_integer(idx->coverage_warnings[k]), &bad);
        jset(prov, "coverage_warnings", o, &bad);
    }
    if (idx->coverage_ref.path[0]) {
        o = json_object();
        jset(o, "path", json_string(idx->coverage_ref.path), &bad);
        jset(o, "bytes", json_integer(idx->coverage_ref.bytes), &bad);
        jset(o, "sha256", json_string(idx->coverage_ref.sha256), &bad);
        jset(o, "count", json_integer(idx->coverage_ref.count), &bad);
        jset(prov, "coverage_file", o, &bad);
    }
    if (idx->prov_ref.path[0]) {
        o = json_object();
        jset(o, "path", json_string(idx->prov_ref.path), &bad);
        jset(o, "bytes", json_integer(idx->prov_ref.bytes), &bad);
        jset(o, "sha256", json_string(idx->prov_ref.sha256), &bad);
        jset(o, "count", json_integer(idx->prov_ref.count), &bad);
        jset(prov, "inputs_file", o, &bad);
    }
    if (!idx->prov_ref.path[0] || idx->nprov_inputs > 0) {
        a = json_array();
        for (size_t i = 0; i < idx->nprov_inputs; i++) {
            o = json_object();
            jset(o, "path", json_string(idx->prov_inputs[i].path), &bad);
            jset(o, "bytes", json_integer(idx->prov_inputs[i].bytes), &bad);
            jset(o, "sha256", json_string(idx->prov_inputs[i].sha256), &bad);
            jappend(a, o, &bad);
        }
        jset(prov, "inputs", a, &bad);
    }
    a = json_array();
    for (size_t i = 0; i < idx->ntimings; i++) {
        o = json_object();
        jset(o, "stage", json_string(idx->timings[i].stage), &bad);
        jset(o, "min", json_real(idx->timings[i].min), &bad);
        jset(o, "mean", json_real(idx->timings[i].mean), &bad);
        jset(o, "max", json_real(idx->timings[i].max), &bad);
        if (idx->timings[i].cpu_min >= 0 && idx->timings[i].cpu_max >= 0) {
            jset(o, "cpu_min", json_real(idx->timings[i].cpu_min), &bad);
            jset(o, "cpu_max", json_real(idx->timings[i].cpu_max), &bad);
        }
        jappend(a, o, &bad);
    }
    jset(prov, "timings", a, &bad);
    jset(root, "provenance", prov, &bad);
    if (extra) {
        jset(root, "extra", extra, &bad);
        extra = NULL; /* reference stolen by jset */
    }
    /* json_string returns NULL for invalid UTF-8 as well as on allocation failure */
    if (bad) AF_FAIL(AF_EINVAL, "cannot build index.json: out of memory or a string is not UTF-8");

    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    AF_CHECK_ALLOC(text);
    size_t len = strlen(text);
    char *t2 = realloc(text, len + 2);
    AF_CHECK_ALLOC(t2);
    text = t2;
    text[len] = '\n';
    text[len + 1] = '\0';
    AF_CHECK(af_path_join(outdir, AF_INDEX_NAME, path, sizeof path, err));
    AF_CHECK(af_write_atomic(path, text, len + 1, err));
cleanup:
    free(text);
    json_decref(extra);
    json_decref(root);
    return rc;
}

/* ----------------------------------------------------------------- read */

typedef struct reader {
    const char *file;
    af_error *err;
} reader;

static void field_name(const char *pre, const char *key, char *buf, size_t n)
{
    if (pre && pre[0]) snprintf(buf, n, "%s.%s", pre, key);
    else snprintf(buf, n, "%s", key);
}

static int r_fail(const reader *r, const char *pre, const char *key, const char *what)
{
    char name[160];
    af_error *err = r->err;
    field_name(pre, key, name, sizeof name);
    return af_error_set(err, AF_EFORMAT, __FILE__, __LINE__, __func__, "'%s': field '%s' %s", r->file,
                        name, what);
}

static int r_get(const reader *r, json_t *o, const char *pre, const char *key, json_t **out)
{
    *out = json_object_get(o, key);
    return *out ? AF_OK : r_fail(r, pre, key, "is missing");
}

static int r_str(const reader *r, json_t *o, const char *pre, const char *key, char *dst, size_t n)
{
    json_t *v;
    int rc = r_get(r, o, pre, key, &v);
    if (rc != AF_OK) return rc;
    if (!json_is_string(v)) return r_fail(r, pre, key, "is not a string");
    if (json_string_length(v) >= n) return r_fail(r, pre, key, "is too long");
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return AF_OK;
}

static int r_int(const reader *r, json_t *o, const char *pre, const char *key, long long min,
                 long long *out)
{
    json_t *v;
    int rc = r_get(r, o, pre, key, &v);
    if (rc != AF_OK) return rc;
    if (!json_is_integer(v)) return r_fail(r, pre, key, "is not an integer");
    *out = (long long)json_integer_value(v);
    if (*out < min) {
        char what[96];
        snprintf(what, sizeof what, "is %lld, out of range (below %lld)", *out, min);
        return r_fail(r, pre, key, what);
    }
    return AF_OK;
}

/* An integer narrowed to int: out-of-range values are an error, never a wrapped count. */
static int r_int32(const reader *r, json_t *o, const char *pre, const char *key, long long min, int *out)
{
    long long v;
    int rc = r_int(r, o, pre, key, min, &v);
    if (rc != AF_OK) return rc;
    if (v > INT_MAX) {
        char what[96];
        snprintf(what, sizeof what, "is %lld, out of range (above %d)", v, INT_MAX);
        return r_fail(r, pre, key, what);
    }
    *out = (int)v;
    return AF_OK;
}

static int r_real(const reader *r, json_t *o, const char *pre, const char *key, double *out)
{
    json_t *v;
    int rc = r_get(r, o, pre, key, &v);
    if (rc != AF_OK) return rc;
    if (!json_is_number(v)) return r_fail(r, pre, key, "is not a number");
    *out = json_number_value(v);
    return AF_OK;
}

static int r_type(const reader *r, json_t *o, const char *pre, const char *key, int array,
                  json_t **out)
{
    int rc = r_get(r, o, pre, key, out);
    if (rc != AF_OK) return rc;
    if (array ? !json_is_array(*out) : !json_is_object(*out))
        return r_fail(r, pre, key, array ? "is not an array" : "is not an object");
    return AF_OK;
}

/* Array of objects at o[key]: allocate n elements of size sz into *mem. */
static int r_array(const reader *r, json_t *o, const char *pre, const char *key, size_t sz,
                   json_t **arr, void **mem, size_t *n)
{
    int rc = r_type(r, o, pre, key, 1, arr);
    if (rc != AF_OK) return rc;
    *n = json_array_size(*arr);
    *mem = calloc(*n ? *n : 1, sz);
    if (!*mem) return af_error_set(r->err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        if (!json_is_object(json_array_get(*arr, i))) {
            char name[64];
            snprintf(name, sizeof name, "%s[%zu]", key, i);
            return r_fail(r, pre, name, "is not an object");
        }
    }
    return AF_OK;
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* Optional "county_rank" (indexes written before it existed lack it: -1). */
static int read_county_rank(const reader *r, json_t *o, const char *pre, af_sample *s)
{
    long long v;
    s->county_rank = -1;
    if (!json_object_get(o, "county_rank")) return AF_OK;
    if (s->kind != AF_SAMPLE_COUNTY) return r_fail(r, pre, "county_rank", "is set on a site");
    int rc = r_int(r, o, pre, "county_rank", 0, &v);
    if (rc == AF_OK) s->county_rank = (long)v;
    return rc;
}

static int read_vars(const reader *r, json_t *root, const char *key, af_var_desc **out, size_t *n)
{
    json_t *arr;
    int rc = r_array(r, root, "", key, sizeof **out, &arr, (void **)out, n);
    for (size_t i = 0; rc == AF_OK && i < *n; i++) {
        json_t *o = json_array_get(arr, i);
        af_var_desc *v = &(*out)[i];
        char pre[64];
        snprintf(pre, sizeof pre, "%s[%zu]", key, i);
        if ((rc = r_str(r, o, pre, "name", v->name, sizeof v->name)) != AF_OK) break;
        if ((rc = r_str(r, o, pre, "units", v->units, sizeof v->units)) != AF_OK) break;
        if ((rc = r_str(r, o, pre, "long_name", v->long_name, sizeof v->long_name)) != AF_OK) break;
        if ((rc = r_str(r, o, pre, "source", v->source, sizeof v->source)) != AF_OK) break;
        if ((rc = r_str(r, o, pre, "source_units", v->source_units, sizeof v->source_units)) != AF_OK) break;
        rc = r_str(r, o, pre, "sign", v->sign, sizeof v->sign);
    }
    return rc;
}

static int read_header(const reader *r, json_t *root, af_index *x, af_error *err)
{
    int rc = AF_OK;
    json_t *o, *c;
    char buf[128];
    long long v;
    af_calendar_kind kind = AF_CAL_STANDARD;
    af_calendar *cal = NULL;
    AF_CHECK(r_str(r, root, "", "schema", buf, sizeof buf));
    if (strcmp(buf, "agroflux-index") != 0) AF_CHECK(r_fail(r, "", "schema", "is not \"agroflux-index\""));
    AF_CHECK(r_int(r, root, "", "schema_version", 0, &v));
    if (v != AF_INDEX_SCHEMA_VERSION)
        AF_FAIL(AF_EFORMAT, "'%s': field 'schema_version' is %lld, this agroflux reads %d", r->file, v,
                AF_INDEX_SCHEMA_VERSION);
    x->schema_version = (int)v;
    AF_CHECK(r_type(r, root, "", "pipeline", 0, &o));
    AF_CHECK(r_str(r, o, "pipeline", "name", x->pipeline_name, sizeof x->pipeline_name));
    AF_CHECK(r_str(r, o, "pipeline", "config_sha256", x->config_sha256, sizeof x->config_sha256));

    AF_CHECK(r_type(r, root, "", "calendar", 0, &c));
    AF_CHECK(r_str(r, c, "calendar", "policy", x->calendar, sizeof x->calendar));
    if (strcmp(x->calendar, "standard") == 0) kind = AF_CAL_STANDARD;
    else if (strcmp(x->calendar, "noleap") == 0) kind = AF_CAL_NOLEAP;
    else AF_CHECK(r_fail(r, "calendar", "policy", "is not \"standard\" or \"noleap\""));
    AF_CHECK(r_str(r, c, "calendar", "start", buf, sizeof buf));
    if (af_date_parse(buf, &x->start, err) != AF_OK) AF_CHECK(r_fail(r, "calendar", "start", "is not a date"));
    AF_CHECK(r_str(r, c, "calendar", "end", buf, sizeof buf));
    if (af_date_parse(buf, &x->end, err) != AF_OK) AF_CHECK(r_fail(r, "calendar", "end", "is not a date"));
    AF_CHECK(r_int32(r, c, "calendar", "ndays", 1, &x->ndays));
    AF_CHECK(r_str(r, c, "calendar", "time_units", buf, sizeof buf));
    if (strcmp(buf, "days since 1970-01-01") != 0)
        AF_CHECK(r_fail(r, "calendar", "time_units", "is not \"days since 1970-01-01\""));
    if (af_calendar_create(x->start, x->end, kind, &cal, err) != AF_OK)
        AF_CHECK(r_fail(r, "calendar", "end", "is before calendar.start"));
    if (af_calendar_ndays(cal) != x->ndays)
        AF_FAIL(AF_EFORMAT, "'%s': field 'calendar.ndays' is %d, but the %s axis %d-%02d-%02d..%d-%02d-%02d "
                "has %d days", r->file, x->ndays, x->calendar, x->start.year, x->start.month,
                x->start.day, x->end.year, x->end.month, x->end.day, af_calendar_ndays(cal));

    AF_CHECK(r_str(r, root, "", "format", x->format, sizeof x->format));
    if (strcmp(x->format, "cdf2") != 0 && strcmp(x->format, "cdf5") != 0)
        AF_CHECK(r_fail(r, "", "format", "is not \"cdf2\" or \"cdf5\""));
    AF_CHECK(r_int(r, root, "", "shard_samples", 1, &v));
    x->shard_samples = (size_t)v;
cleanup:
    af_calendar_destroy(&cal);
    return rc;
}

static int read_shards_samples(const reader *r, json_t *root, af_index *x, af_error *err)
{
    int rc = AF_OK;
    json_t *arr;
    long long v;
    char pre[64], kind[16];
    AF_CHECK(r_array(r, root, "", "shards", sizeof *x->shards, &arr, (void **)&x->shards, &x->nshards));
    for (size_t k = 0; k < x->nshards; k++) {
        json_t *o = json_array_get(arr, k);
        af_shard_info *s = &x->shards[k];
        snprintf(pre, sizeof pre, "shards[%zu]", k);
        AF_CHECK(r_str(r, o, pre, "path", s->path, sizeof s->path));
        if (s->path[0] == '\0' || s->path[0] == '/' || strstr(s->path, ".."))
            AF_CHECK(r_fail(r, pre, "path", "is not a relative path inside the output directory"));
        AF_CHECK(r_int(r, o, pre, "sample_start", 0, &v));
        s->sample_start = (size_t)v;
        AF_CHECK(r_int(r, o, pre, "sample_count", 0, &v));
        s->sample_count = (size_t)v;
        AF_CHECK(r_int(r, o, pre, "bytes", 0, &s->bytes));
        AF_CHECK(r_str(r, o, pre, "sha256", s->sha256, sizeof s->sha256));
        if (!is_hex64(s->sha256)) AF_CHECK(r_fail(r, pre, "sha256", "is not 64 lower-case hex digits"));
    }
    AF_CHECK(r_array(r, root, "", "samples", sizeof *x->samples, &arr, (void **)&x->samples, &x->nsamples));
    for (size_t i = 0; i < x->nsamples; i++) {
        json_t *o = json_array_get(arr, i);
        af_sample *s = &x->samples[i];
        snprintf(pre, sizeof pre, "samples[%zu]", i);
        AF_CHECK(r_str(r, o, pre, "id", s->id, sizeof s->id));
        if (s->id[0] == '\0') AF_CHECK(r_fail(r, pre, "id", "is empty"));
        AF_CHECK(r_str(r, o, pre, "kind", kind, sizeof kind));
        if (strcmp(kind, "county") == 0) s->kind = AF_SAMPLE_COUNTY;
        else if (strcmp(kind, "site") == 0) s->kind = AF_SAMPLE_SITE;
        else AF_CHECK(r_fail(r, pre, "kind", "is not \"county\" or \"site\""));
        AF_CHECK(r_int(r, o, pre, "shard", 0, &v));
        if ((size_t)v != i / x->shard_samples)
            AF_CHECK(r_fail(r, pre, "shard", "does not match its position and shard_samples"));
        AF_CHECK(r_int(r, o, pre, "row", 0, &v));
        if ((size_t)v != i % x->shard_samples)
            AF_CHECK(r_fail(r, pre, "row", "does not match its position and shard_samples"));
        AF_CHECK(r_str(r, o, pre, "fips", s->fips, sizeof s->fips));
        AF_CHECK(r_str(r, o, pre, "scenario", s->scenario, sizeof s->scenario));
        AF_CHECK(r_real(r, o, pre, "lat", &s->lat));
        AF_CHECK(r_real(r, o, pre, "lon", &s->lon));
        AF_CHECK(read_county_rank(r, o, pre, s));
        /* not stored in the index */
        s->scenario_index = -1;
        s->unit = 0;
        s->work = 0.0;
    }
cleanup:
    return rc;
}

static int read_provenance(const reader *r, json_t *root, af_index *x, af_error *err)
{
    int rc = AF_OK;
    json_t *p, *arr;
    char pre[64];
    AF_CHECK(r_type(r, root, "", "provenance", 0, &p));
    AF_CHECK(r_str(r, p, "provenance", "software", x->software, sizeof x->software));
    AF_CHECK(r_str(r, p, "provenance", "created", x->created, sizeof x->created));
    AF_CHECK(r_int32(r, p, "provenance", "ranks", 1, &x->ranks));
    AF_CHECK(r_int(r, p, "provenance", "peak_rss_bytes", 0, &x->peak_rss_bytes));
    json_t *pr = json_object_get(p, "peak_rss_bytes_per_rank");
    if (pr) {
        if (!json_is_array(pr)) AF_CHECK(r_fail(r, "provenance", "peak_rss_bytes_per_rank", "is not an array"));
        x->nrank_peak_rss = json_array_size(pr);
        x->rank_peak_rss = calloc(x->nrank_peak_rss ? x->nrank_peak_rss : 1, sizeof *x->rank_peak_rss);
        AF_CHECK_ALLOC(x->rank_peak_rss);
        for (size_t i = 0; i < x->nrank_peak_rss; i++) {
            json_t *e = json_array_get(pr, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0)
                AF_CHECK(r_fail(r, "provenance", "peak_rss_bytes_per_rank", "holds a value that is not a byte count"));
            x->rank_peak_rss[i] = (long long)json_integer_value(e);
        }
    }
    json_t *pf = json_object_get(p, "open_files_max_per_rank");
    if (pf) {
        if (!json_is_array(pf)) AF_CHECK(r_fail(r, "provenance", "open_files_max_per_rank", "is not an array"));
        x->nrank_max_fds = json_array_size(pf);
        x->rank_max_fds = calloc(x->nrank_max_fds ? x->nrank_max_fds : 1, sizeof *x->rank_max_fds);
        AF_CHECK_ALLOC(x->rank_max_fds);
        for (size_t i = 0; i < x->nrank_max_fds; i++) {
            json_t *e = json_array_get(pf, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT_MAX)
                AF_CHECK(r_fail(r, "provenance", "open_files_max_per_rank", "holds a value that is not a count"));
            x->rank_max_fds[i] = (int)json_integer_value(e);
        }
    }
    if (json_object_get(p, "resumed_from_day")) {
        AF_CHECK(r_int32(r, p, "provenance", "resumed_from_day", 0, &x->resumed_from_day));
    }
    json_t *pc = json_object_get(p, "coverage");
    if (pc) {
        if (!json_is_array(pc) || json_array_size(pc) != x->ninputs + x->ntargets)
            AF_CHECK(r_fail(r, "provenance", "coverage", "is not an array of one entry per input and target"));
        x->ncoverage = json_array_size(pc);
        x->coverage = calloc(2 * x->ncoverage + 1, sizeof *x->coverage);
        AF_CHECK_ALLOC(x->coverage);
        for (size_t i = 0; i < x->ncoverage; i++) {
            json_t *c = json_array_get(pc, i);
            AF_CHECK(r_int(r, c, "provenance.coverage", "valid", 0, &x->coverage[2 * i]));
            AF_CHECK(r_int(r, c, "provenance.coverage", "sample_days", 0, &x->coverage[2 * i + 1]));
        }
    }
    json_t *pcw = json_object_get(p, "coverage_warnings");
    if (pcw) {
        if (!json_is_object(pcw)) AF_CHECK(r_fail(r, "provenance", "coverage_warnings", "is not an object"));
        x->has_coverage_warnings = 1;
        for (int k = 0; k < AF_COV_NWARN; k++)
            AF_CHECK(r_int(r, pcw, "provenance.coverage_warnings", af_index_coverage_warning_name(k), 0,
                           &x->coverage_warnings[k]));
    }
    json_t *pcf = json_object_get(p, "coverage_file");
    if (pcf) {
        af_prov_ref *f = &x->coverage_ref;
        if (!json_is_object(pcf)) AF_CHECK(r_fail(r, "provenance", "coverage_file", "is not an object"));
        AF_CHECK(r_str(r, pcf, "provenance.coverage_file", "path", f->path, sizeof f->path));
        AF_CHECK(r_int(r, pcf, "provenance.coverage_file", "bytes", 0, &f->bytes));
        AF_CHECK(r_str(r, pcf, "provenance.coverage_file", "sha256", f->sha256, sizeof f->sha256));
        AF_CHECK(r_int(r, pcf, "provenance.coverage_file", "count", 0, &f->count));
        if (!is_hex64(f->sha256) || strchr(f->path, '/') || !f->path[0])
            AF_CHECK(r_fail(r, "provenance", "coverage_file", "needs a file name in the output directory and "
                            "a 64-hex sha256"));
    }
    json_t *pif = json_object_get(p, "inputs_file");
    if (pif) {
        if (!json_is_object(pif)) AF_CHECK(r_fail(r, "provenance", "inputs_file", "is not an object"));
        af_prov_ref *f = &x->prov_ref;
        AF_CHECK(r_str(r, pif, "provenance.inputs_file", "path", f->path, sizeof f->path));
        AF_CHECK(r_int(r, pif, "provenance.inputs_file", "bytes", 0, &f->bytes));
        AF_CHECK(r_str(r, pif, "provenance.inputs_file", "sha256", f->sha256, sizeof f->sha256));
        AF_CHECK(r_int(r, pif, "provenance.inputs_file", "count", 0, &f->count));
        if (!is_hex64(f->sha256) || strchr(f->path, '/') || !f->path[0])
            AF_CHECK(r_fail(r, "provenance", "inputs_file", "needs a file name in the output directory and "
                            "a 64-hex sha256"));
    }
    if (!pif || json_object_get(p, "inputs"))
        AF_CHECK(r_array(r, p, "provenance", "inputs", sizeof *x->prov_inputs, &arr,
                         (void **)&x->prov_inputs, &x->nprov_inputs));
    for (size_t i = 0; i < x->nprov_inputs; i++) {
        json_t *o = json_array_get(arr, i);
        af_prov_file *f = &x->prov_inputs[i];
        snprintf(pre, sizeof pre, "provenance.inputs[%zu]", i);
        AF_CHECK(r_str(r, o, pre, "path", f->path, sizeof f->path));
        AF_CHECK(r_int(r, o, pre, "bytes", 0, &f->bytes));
        AF_CHECK(r_str(r, o, pre, "sha256", f->sha256, sizeof f->sha256));
    }
    AF_CHECK(r_array(r, p, "provenance", "timings", sizeof *x->timings, &arr, (void **)&x->timings,
                     &x->ntimings));
    for (size_t i = 0; i < x->ntimings; i++) {
        json_t *o = json_array_get(arr, i);
        af_stage_time *t = &x->timings[i];
        snprintf(pre, sizeof pre, "provenance.timings[%zu]", i);
        AF_CHECK(r_str(r, o, pre, "stage", t->stage, sizeof t->stage));
        AF_CHECK(r_real(r, o, pre, "min", &t->min));
        AF_CHECK(r_real(r, o, pre, "mean", &t->mean));
        AF_CHECK(r_real(r, o, pre, "max", &t->max));
        t->cpu_min = t->cpu_max = -1; /* written since 2026-12 */
        if (json_object_get(o, "cpu_min") || json_object_get(o, "cpu_max")) {
            AF_CHECK(r_real(r, o, pre, "cpu_min", &t->cpu_min));
            AF_CHECK(r_real(r, o, pre, "cpu_max", &t->cpu_max));
            if (t->cpu_min < 0) AF_CHECK(r_fail(r, pre, "cpu_min", "is negative"));
            if (t->cpu_max < 0) AF_CHECK(r_fail(r, pre, "cpu_max", "is negative"));
        }
    }
cleanup:
    return rc;
}

/* No index.json in outdir: AF_ENOTFOUND saying whether an interrupted or failed run left it. */
static int explain_missing(const char *outdir, const char *path, af_error *err)
{
    int rc = AF_OK;
    char jpath[4200], ppath[4200];
    json_error_t jerr;
    snprintf(jpath, sizeof jpath, "%s/journal.json", outdir);
    snprintf(ppath, sizeof ppath, "%s/progress.json", outdir);
    json_t *j = json_load_file(jpath, 0, &jerr);
    if (j) {
        json_int_t done = json_integer_value(json_object_get(j, "days_done"));
        json_int_t nd = json_integer_value(json_object_get(j, "ndays"));
        const char *state = json_string_value(json_object_get(j, "state"));
        int sealed = state && !strcmp(state, "sealed"); /* state lives in j */
        json_decref(j);
        AF_FAIL(AF_ENOTFOUND, "'%s' is incomplete: an interrupted run (journal.json: %lld of %lld days written%s) "
                "has not published its index yet; finish it with `agroflux run PIPELINE.ini --output %s --resume` "
                "(the same pipeline file, any rank count)", outdir, (long long)done, (long long)nd,
                sealed ? ", shards sealed" : "", outdir);
    }
    json_t *p = json_load_file(ppath, 0, &jerr);
    if (p) {
        const char *state = json_string_value(json_object_get(p, "state"));
        char st[32];
        snprintf(st, sizeof st, "%s", state ? state : "?");
        json_decref(p);
        AF_FAIL(AF_ENOTFOUND, "'%s' is incomplete: the run that wrote it did not publish an index (progress.json: "
                "state '%s', no journal to resume from); run it again", outdir, st);
    }
    AF_FAIL(AF_ENOTFOUND, "no '%s': '%s' is not an agroflux output (or not yet written)", path, outdir);
cleanup:
    return rc;
}

int af_index_read(const char *outdir, af_index *out, af_error *err)
{
    int rc = AF_OK;
    char path[4200];
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    json_error_t jerr;
    AF_CHECK_ARG(outdir != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    AF_CHECK(af_path_join(outdir, AF_INDEX_NAME, path, sizeof path, err));
    if (access(path, F_OK) != 0) AF_CHECK(explain_missing(outdir, path, err));
    AF_CHECK(af_read_file(path, &text, &len, err));
    if (strlen(text) != len) AF_FAIL(AF_EFORMAT, "'%s': NUL byte at offset %zu: not a JSON text", path, strlen(text));
    root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) AF_FAIL(AF_EFORMAT, "'%s': line %d column %d: %s", path, jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) AF_FAIL(AF_EFORMAT, "'%s': the document is not a JSON object", path);
    reader r = { path, err };
    AF_CHECK(read_header(&r, root, out, err));
    AF_CHECK(read_vars(&r, root, "inputs", &out->inputs, &out->ninputs));
    AF_CHECK(read_vars(&r, root, "targets", &out->targets, &out->ntargets));
    AF_CHECK(read_shards_samples(&r, root, out, err));
    AF_CHECK(read_provenance(&r, root, out, err));
    json_t *extra = json_object_get(root, "extra");
    if (extra) {
        if (!json_is_object(extra)) AF_CHECK(r_fail(&r, "", "extra", "is not an object"));
        out->extra_json = json_dumps(extra, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        AF_CHECK_ALLOC(out->extra_json);
    }
cleanup:
    if (rc != AF_OK && out) af_index_dispose(out);
    json_decref(root);
    free(text);
    return rc;
}
