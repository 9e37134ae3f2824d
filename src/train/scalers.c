/* SPDX-License-Identifier: MIT */
/*
 * scalers.c: af_train_extra. Each rank reads its samples back from the
 * finished shards a year at a time and keeps, per (sample, year, variable),
 * a Welford partial (count, mean, M2) over the valid (finite) days in day
 * order. Rank 0 gathers the partials in global sample order and merges them
 * with Chan's formula in that fixed order (sample, then year) for each split
 * definition's training part, so the result does not depend on the rank
 * count. Population std = sqrt(M2 / count). The splits and scalers become
 * the index "extra" JSON (built with jansson), broadcast to every rank.
 * af__scalers_fit does the same pass for training parts chosen by a
 * predicate (the export's official folds) and returns plain arrays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "train_impl.h"

typedef struct part { double n, mean, m2; } part;

static void welford(part *p, double v)
{
    p->n += 1.0;
    double d = v - p->mean;
    p->mean += d / p->n;
    p->m2 += d * (v - p->mean);
}

static void chan(part *a, const part *b)
{
    if (b->n == 0.0) return;
    if (a->n == 0.0) { *a = *b; return; }
    double n = a->n + b->n, d = b->mean - a->mean;
    a->mean += d * (b->n / n);
    a->m2 += b->m2 + d * d * (a->n * b->n / n);
    a->n = n;
}

/* This rank's partials [ns][nyears][nvars] over samples [s0, s0+ns). */
static int local_partials(const af_train_view *v, size_t s0, size_t ns, int y0, int nyears, part *out,
                          af_error *err)
{
    int rc = AF_OK, ndays = af_calendar_ndays(v->cal);
    size_t ni = v->ninputs, nt = v->ntargets, nv = ni + nt;
    float *x = NULL, *y = NULL;
    memset(out, 0, ns * (size_t)nyears * nv * sizeof *out);
    for (int t0 = 0; t0 < ndays && ns > 0;) {
        int year = af_calendar_date(v->cal, t0).year, t1 = t0;
        while (t1 < ndays && af_calendar_date(v->cal, t1).year == year) t1++;
        int len = t1 - t0;
        x = malloc((ns * (size_t)len * ni + 1) * sizeof *x);
        y = malloc((ns * (size_t)len * nt + 1) * sizeof *y);
        AF_CHECK_ALLOC(x);
        AF_CHECK_ALLOC(y);
        AF_CHECK(af__train_read(v, s0, ns, t0, len, x, y, err));
        for (size_t s = 0; s < ns; s++) {
            part *p = out + (s * (size_t)nyears + (size_t)(year - y0)) * nv;
            for (int d = 0; d < len; d++) {
                const float *xr = x + (s * (size_t)len + (size_t)d) * ni;
                const float *yr = y + (s * (size_t)len + (size_t)d) * nt;
                for (size_t j = 0; j < ni; j++) if (isfinite(xr[j])) welford(&p[j], xr[j]);
                for (size_t j = 0; j < nt; j++) if (isfinite(yr[j])) welford(&p[ni + j], yr[j]);
            }
        }
        free(x); x = NULL;
        free(y); y = NULL;
        t0 = t1;
    }
cleanup:
    free(x);
    free(y);
    return rc;
}

struct af_train_partials {
    size_t s0, ns, ni, nt;
    int y0, nyears, ndays, days_done;
    int *year_of; /* [ndays] year - y0 of each day */
    part *p;      /* [ns][nyears][ni + nt], as local_partials */
};

int af_train_partials_create(const af_config *cfg, size_t s0, size_t ns, size_t ninputs, size_t ntargets,
                             af_train_partials **out, af_error *err)
{
    int rc = AF_OK;
    af_calendar *cal = NULL;
    af_train_partials *q = NULL;
    AF_CHECK_ARG(cfg != NULL && out != NULL);
    *out = NULL;
    if (!cfg->splits.present) goto cleanup;
    AF_CHECK(af_calendar_create(cfg->start, cfg->end, cfg->calendar, &cal, err));
    q = calloc(1, sizeof *q);
    AF_CHECK_ALLOC(q);
    *q = (af_train_partials){ s0, ns, ninputs, ntargets, cfg->start.year, cfg->end.year - cfg->start.year + 1,
                              af_calendar_ndays(cal), 0, NULL, NULL };
    q->year_of = malloc(((size_t)q->ndays + 1) * sizeof *q->year_of);
    q->p = calloc(ns * (size_t)q->nyears * (ninputs + ntargets) + 1, sizeof *q->p);
    AF_CHECK_ALLOC(q->year_of);
    AF_CHECK_ALLOC(q->p);
    for (int t = 0; t < q->ndays; t++) q->year_of[t] = af_calendar_date(cal, t).year - q->y0;
    *out = q;
    q = NULL;
cleanup:
    af_train_partials_destroy(&q);
    af_calendar_destroy(&cal);
    return rc;
}

int af_train_partials_add(af_train_partials *p, int t0, int nt, const float *x, const float *y, af_error *err)
{
    int rc = AF_OK;
    if (!p) goto cleanup;
    if (t0 != p->days_done || nt < 0 || t0 + nt > p->ndays)
        AF_FAIL(AF_EINVAL, "scaler partials: days %d..%d after %d of %d days (blocks must follow in day order)",
                t0, t0 + nt, p->days_done, p->ndays);
    AF_CHECK_ARG(nt == 0 || p->ns == 0 || ((p->ni == 0 || x != NULL) && (p->nt == 0 || y != NULL)));
    size_t ni = p->ni, ntg = p->nt, nv = ni + ntg;
    for (size_t s = 0; s < p->ns; s++)
        for (int d = 0; d < nt; d++) { /* the same order as local_partials: sample, day, variable */
            part *q = p->p + (s * (size_t)p->nyears + (size_t)p->year_of[t0 + d]) * nv;
            const float *xr = x + (s * (size_t)nt + (size_t)d) * ni;
            const float *yr = y + (s * (size_t)nt + (size_t)d) * ntg;
            for (size_t j = 0; j < ni; j++) if (isfinite(xr[j])) welford(&q[j], xr[j]);
            for (size_t j = 0; j < ntg; j++) if (isfinite(yr[j])) welford(&q[ni + j], yr[j]);
        }
    p->days_done += nt;
cleanup:
    return rc;
}

void af_train_partials_destroy(af_train_partials **p)
{
    if (!p || !*p) return;
    free((*p)->year_of);
    free((*p)->p);
    free(*p);
    *p = NULL;
}

/* {"count": [...], "mean": [...], "std": [...]} for vars [j0, j0+n) of acc. */
static json_t *stats_json(const part *acc, size_t j0, size_t n)
{
    json_t *o = json_object(), *c = json_array(), *m = json_array(), *s = json_array();
    for (size_t j = j0; j < j0 + n; j++) {
        json_array_append_new(c, json_integer((json_int_t)acc[j].n));
        json_array_append_new(m, acc[j].n > 0 ? json_real(acc[j].mean) : json_null());
        json_array_append_new(s, acc[j].n > 0 ? json_real(sqrt(acc[j].m2 / acc[j].n)) : json_null());
    }
    json_object_set_new(o, "count", c);
    json_object_set_new(o, "mean", m);
    json_object_set_new(o, "std", s);
    return o;
}

typedef struct merge_ctx {
    const af_train_view *v;
    const af_assign *a;
    const part *all;        /* [nsamples][nyears][nvars] */
    int y0, nyears;
    size_t nv;
} merge_ctx;

/* Which samples are in the training part: 1 = train. */
typedef int (*train_pred)(const merge_ctx *m, size_t sample, int fold);

static int temporal_sample(const merge_ctx *m, size_t i, int fold)
{
    (void)fold;
    af_applies w = m->a->cfg->temporal_samples;
    af_sample_kind k = m->v->samples[i].kind;
    return w == AF_APPLIES_ALL || (w == AF_APPLIES_COUNTIES && k == AF_SAMPLE_COUNTY) ||
           (w == AF_APPLIES_SITES && k == AF_SAMPLE_SITE);
}

static int spatial_train(const merge_ctx *m, size_t i, int fold)
{
    size_t c = m->a->sample_county[i];
    if (c == SIZE_MAX) return 0;
    int f = m->a->county_fold[c], k = m->a->cfg->spatial_folds;
    return f != fold && f != (fold + 1) % k;
}

static int loso_train(const merge_ctx *m, size_t i, int fold)
{
    size_t s = m->a->sample_site[i], n = m->a->nsites;
    return s != SIZE_MAX && s != (size_t)fold && s != ((size_t)fold + 1) % n;
}

/* Merge in global sample order, then year order; years restricted to [ya, yb]. */
static json_t *merge_set(const merge_ctx *m, train_pred pred, int fold, int ya, int yb, int with_fold)
{
    part *acc = calloc(m->nv + 1, sizeof *acc);
    if (!acc) return NULL;
    for (size_t i = 0; i < m->v->nsamples; i++) {
        if (!pred(m, i, fold)) continue;
        for (int yr = ya; yr <= yb; yr++) {
            const part *p = m->all + (i * (size_t)m->nyears + (size_t)(yr - m->y0)) * m->nv;
            for (size_t j = 0; j < m->nv; j++) chan(&acc[j], &p[j]);
        }
    }
    json_t *o = json_object();
    if (with_fold) json_object_set_new(o, "fold", json_integer(fold));
    json_object_set_new(o, "inputs", stats_json(acc, 0, m->v->ninputs));
    json_object_set_new(o, "targets", stats_json(acc, m->v->ninputs, m->v->ntargets));
    free(acc);
    return o;
}

static json_t *year_pair(int a, int b)
{
    json_t *r = json_array();
    json_array_append_new(r, json_integer(a));
    json_array_append_new(r, json_integer(b));
    return r;
}

static json_t *splits_json(const af_assign *a)
{
    const af_splits_cfg *c = a->cfg;
    json_t *o = json_object();
    if (c->temporal) {
        json_t *t = json_object();
        json_object_set_new(t, "samples", json_string(c->temporal_samples == AF_APPLIES_ALL ? "all"
                                                      : c->temporal_samples == AF_APPLIES_SITES ? "sites" : "counties"));
        json_object_set_new(t, "train", year_pair(c->train_y0, c->train_y1));
        json_object_set_new(t, "val", year_pair(c->val_y0, c->val_y1));
        json_object_set_new(t, "test", year_pair(c->test_y0, c->test_y1));
        json_object_set_new(o, "temporal", t);
    }
    if (c->spatial_folds) {
        json_t *s = json_object(), *ids = json_array(), *folds = json_array();
        json_object_set_new(s, "folds", json_integer(c->spatial_folds));
        json_object_set_new(s, "assign", json_string(c->spatial_random ? "random" : "blocks"));
        json_object_set_new(s, "seed", c->spatial_random ? json_integer((json_int_t)c->spatial_seed) : json_null());
        for (size_t i = 0; i < a->ncounties; i++) {
            json_array_append_new(ids, json_string(a->county_fips[i]));
            json_array_append_new(folds, json_integer(a->county_fold[i]));
        }
        json_object_set_new(s, "counties", ids);
        json_object_set_new(s, "county_fold", folds);
        json_object_set_new(o, "spatial", s);
    }
    if (a->loso) {
        json_t *l = json_object(), *ids = json_array();
        json_object_set_new(l, "folds", json_integer((json_int_t)a->nsites));
        json_object_set_new(l, "sites", ids);
        json_object_set_new(o, "loso", l);
    }
    return o;
}

static int build_json(const merge_ctx *m, char **out, af_error *err)
{
    int rc = AF_OK;
    const af_splits_cfg *c = m->a->cfg;
    json_t *root = json_object(), *sc = json_object();
    json_t *splits = splits_json(m->a);
    AF_CHECK_ALLOC(root);
    AF_CHECK_ALLOC(sc);
    AF_CHECK_ALLOC(splits);
    if (m->a->loso) {
        json_t *ids = json_object_get(json_object_get(splits, "loso"), "sites");
        for (size_t s = 0; s < m->a->nsites; s++)
            json_array_append_new(ids, json_string(m->v->samples[m->a->site_sample[s]].id));
    }
    json_object_set_new(sc, "method", json_string(
        "mean and population std (ddof 0) over the training part only; valid (finite) cells; "
        "Welford per (sample, year), Chan merge in global sample order then year order"));
    if (c->temporal) json_object_set_new(sc, "temporal", merge_set(m, temporal_sample, 0, c->train_y0, c->train_y1, 0));
    int yb = m->y0 + m->nyears - 1;
    if (c->spatial_folds) {
        json_t *arr = json_array();
        for (int f = 0; f < c->spatial_folds; f++) json_array_append_new(arr, merge_set(m, spatial_train, f, m->y0, yb, 1));
        json_object_set_new(sc, "spatial", arr);
    }
    if (m->a->loso) {
        json_t *arr = json_array();
        for (size_t f = 0; f < m->a->nsites; f++) json_array_append_new(arr, merge_set(m, loso_train, (int)f, m->y0, yb, 1));
        json_object_set_new(sc, "loso", arr);
    }
    json_object_set_new(root, "splits", splits);
    splits = NULL;
    json_object_set_new(root, "scalers", sc);
    sc = NULL;
    *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    AF_CHECK_ALLOC(*out);
cleanup:
    json_decref(splits);
    json_decref(sc);
    json_decref(root);
    return rc;
}

/* Gather every rank's partials to rank 0 in global order (ranks own contiguous slices in order). */
static int gather(MPI_Comm comm, const part *mine, size_t nmine, size_t per_sample, part *all, af_error *err)
{
    int rc = AF_OK, size, rank;
    int *counts = NULL, *displs = NULL;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    int n = (int)(nmine * per_sample * 3);
    counts = calloc((size_t)size, sizeof *counts);
    displs = calloc((size_t)size, sizeof *displs);
    AF_CHECK_ALLOC(counts);
    AF_CHECK_ALLOC(displs);
    AF_CHECK_MPI(MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
    for (int r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    AF_CHECK_MPI(MPI_Gatherv(mine, n, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, comm));
cleanup:
    free(counts);
    free(displs);
    return rc;
}

int af_train_extra(MPI_Comm comm, const af_config *cfg, const char *outdir, const af_sample *samples,
                   size_t nsamples, const af_shard_info *shards, size_t nshards, size_t ninputs,
                   size_t ntargets, af_range mine, char **extra_json, af_error *err)
{
    return af_train_extra_from(comm, cfg, outdir, samples, nsamples, shards, nshards, ninputs, ntargets, mine,
                               NULL, extra_json, err);
}

int af_train_extra_from(MPI_Comm comm, const af_config *cfg, const char *outdir, const af_sample *samples,
                        size_t nsamples, const af_shard_info *shards, size_t nshards, size_t ninputs,
                        size_t ntargets, af_range mine, const af_train_partials *pre, char **extra_json,
                        af_error *err)
{
    int rc = AF_OK, rank;
    af_calendar *cal = NULL;
    af_assign a;
    part *loc = NULL, *all = NULL;
    char *text = NULL;
    memset(&a, 0, sizeof a);
    MPI_Comm_rank(comm, &rank);
    AF_CHECK_ARG(cfg != NULL && extra_json != NULL);
    *extra_json = NULL;
    if (!cfg->splits.present) return AF_OK;
    /* same inputs on every rank, so a failure here is the same everywhere */
    AF_CHECK(af_calendar_create(cfg->start, cfg->end, cfg->calendar, &cal, err));
    AF_CHECK(af__assign_draw(&cfg->splits, samples, nsamples, &a, err));
    af_train_view v = { outdir, samples, nsamples, cfg->shard_samples, shards, nshards, ninputs, ntargets, cal };
    int y0 = cfg->start.year, nyears = cfg->end.year - cfg->start.year + 1;
    size_t nv = ninputs + ntargets, per = (size_t)nyears * nv, ns = mine.end - mine.begin;
    if (pre && (pre->s0 != mine.begin || pre->ns != ns || pre->ni != ninputs || pre->nt != ntargets ||
                pre->days_done != af_calendar_ndays(cal)))
        af_error_set(err, AF_EINVAL, __FILE__, __LINE__, __func__, "scaler partials of samples %zu..%zu, %d days, "
                     "do not match samples %zu..%zu, %d days", pre->s0, pre->s0 + pre->ns, pre->days_done,
                     mine.begin, mine.end, af_calendar_ndays(cal));
    else if (pre)
        loc = pre->p; /* borrowed: fed from the written blocks, nothing to read back */
    else if (!(loc = malloc((ns * per + 1) * sizeof *loc)))
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for scaler partials");
    else
        local_partials(&v, mine.begin, ns, y0, nyears, loc, err);
    if (rank == 0) {
        all = malloc((nsamples * per + 1) * sizeof *all);
        if (!all) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for scaler partials");
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK(gather(comm, loc, ns, per, all, err));
    if (rank == 0) {
        merge_ctx m = { &v, &a, all, y0, nyears, nv };
        build_json(&m, &text, err);
    }
    AF_CHECK(af_error_sync(comm, err));
    unsigned long long len = rank == 0 ? strlen(text) + 1 : 0;
    AF_CHECK_MPI(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
    if (rank != 0) {
        text = malloc(len);
        if (!text) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm));
    *extra_json = text;
    text = NULL;
cleanup:
    free(text);
    if (!pre || loc != pre->p) free(loc);
    free(all);
    af__assign_dispose(&a);
    af_calendar_destroy(&cal);
    return rc;
}

int af__scalers_fit(MPI_Comm comm, const af_train_view *v, size_t n, int nsets, af_train_part_fn in_train, const void *ctx,
                    double *mean, double *std, af_error *err)
{
    int rc = AF_OK, rank, size;
    int y0 = af_calendar_date(v->cal, 0).year;
    int nyears = af_calendar_date(v->cal, af_calendar_ndays(v->cal) - 1).year - y0 + 1;
    size_t nv = v->ninputs + v->ntargets, per = (size_t)nyears * nv;
    part *loc = NULL, *all = NULL, *acc = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t s0 = n * (size_t)rank / (size_t)size, ns = n * (size_t)(rank + 1) / (size_t)size - s0;
    loc = malloc((ns * per + 1) * sizeof *loc);
    if (!loc) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for scaler partials");
    else local_partials(v, s0, ns, y0, nyears, loc, err);
    if (rank == 0) {
        all = malloc((n * per + 1) * sizeof *all);
        acc = malloc((nv + 1) * sizeof *acc);
        if (!all || !acc) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for scaler partials");
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK(gather(comm, loc, ns, per, all, err));
    if (rank == 0)
        for (int k = 0; k < nsets; k++) {
            memset(acc, 0, nv * sizeof *acc);
            for (size_t i = 0; i < n; i++)
                for (int yr = 0; yr < nyears; yr++) {
                    if (!in_train(ctx, k, i, yr)) continue;
                    const part *p = all + (i * (size_t)nyears + (size_t)yr) * nv;
                    for (size_t j = 0; j < nv; j++) chan(&acc[j], &p[j]);
                }
            for (size_t j = 0; j < nv; j++) {
                mean[(size_t)k * nv + j] = acc[j].n > 0 ? acc[j].mean : NAN;
                std[(size_t)k * nv + j] = acc[j].n > 0 ? sqrt(acc[j].m2 / acc[j].n) : NAN;
            }
        }
    AF_CHECK_MPI(MPI_Bcast(mean, (int)((size_t)nsets * nv), MPI_DOUBLE, 0, comm));
    AF_CHECK_MPI(MPI_Bcast(std, (int)((size_t)nsets * nv), MPI_DOUBLE, 0, comm));
cleanup:
    free(loc);
    free(all);
    free(acc);
    return rc;
}
