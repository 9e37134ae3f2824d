/* SPDX-License-Identifier: MIT */
/*
 * export_scalers.c: the scalers of each experiment of an AgroFlux export.
 * Index splits ("temporal", "spatial") take the leak-free scalers recorded in
 * the index "extra". The official splits are AgroFlux's own folds, which the
 * index does not hold, so they are fitted here (af__scalers_fit) on the
 * fold's training part only:
 *   official-temporal: the first int(0.8 * nyears) years (AgroFlux's
 *     train/val/test years int(0.8 n), int(0.1 n), rest: 14/1/3 for 18 years,
 *     16/2/3 for 21), every county sample;
 *   official-spatial fold f: fold size fs = ncounties // 5 (19 for 99);
 *     validation = counties at list positions [f fs, f fs + fs), test =
 *     [((f + 1) mod 5) fs, + fs), the rest (including the ncounties mod 5
 *     last ones, always) train; every year.
 * Site scalers (observations = site) are the index's LOSO fold. Means are
 * then put in the export's sign; with --missing fill a variable without
 * training data gets mean 0 and std 1 so the scaler files stay finite.
 * Collective.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "export_impl.h"

int af__official_train_years(int nyears)
{
    return (int)((double)nyears * 0.8);
}

int af__official_val_years(int nyears)
{
    return (int)((double)nyears * 0.1);
}

int af__official_block(size_t ncounties, int fold, size_t c)
{
    size_t fs = ncounties / 5, v0 = (size_t)fold * fs, t0 = (size_t)((fold + 1) % 5) * fs;
    if (c >= v0 && c < v0 + fs) return 1;   /* validation */
    if (c >= t0 && c < t0 + fs) return 2;   /* test */
    return 0;
}

typedef struct fit_ctx {
    const af_export *e;
    const int *which;      /* experiment of each fitted set */
} fit_ctx;

static int in_train(const void *ctx, int k, size_t i, int yr)
{
    const fit_ctx *c = ctx;
    const af_export_exp *x = &c->e->exp[c->which[k]];
    if (!strcmp(x->split, "official-temporal")) return yr < af__official_train_years(c->e->nyears);
    return af__official_block(c->e->ncounties, x->fold, c->e->sample_county[i]) == 0;
}

/* Record what fitted an official experiment's scalers: its training counties (list order) and years. */
static int record_part(af_export *e, af_export_exp *x, af_error *err)
{
    int rc = AF_OK, temporal = !strcmp(x->split, "official-temporal");
    x->train_fips = calloc(e->ncounties + 1, sizeof *x->train_fips);
    AF_CHECK_ALLOC(x->train_fips);
    x->ntrain_fips = 0;
    for (size_t p = 0; p < e->ncounties; p++) {
        if (!temporal && af__official_block(e->ncounties, x->fold, p) != 0) continue;
        /* the FIPS of the county at list position p: its first scenario's sample */
        for (size_t i = 0; i < e->ncounty; i++)
            if (e->sample_county[i] == p) {
                memcpy(x->train_fips[x->ntrain_fips++], e->idx.samples[i].fips, sizeof x->train_fips[0]);
                break;
            }
    }
    x->train_years[0] = e->idx.start.year;
    x->train_years[1] = temporal ? e->idx.start.year + af__official_train_years(e->nyears) - 1 : e->idx.end.year;
cleanup:
    return rc;
}

static int fit_official(af_export *e, af_error *err)
{
    int rc = AF_OK, nset = 0, which[64];
    size_t nv = e->idx.ninputs + e->idx.ntargets;
    double *m = NULL, *s = NULL;
    for (int k = 0; k < e->nexp && nset < 64; k++)
        if (!strncmp(e->exp[k].split, "official-", 9)) which[nset++] = k;
    if (nset == 0) goto cleanup;
    for (int k = 0; k < nset; k++) {
        const af_export_exp *x = &e->exp[which[k]];
        if (!strcmp(x->split, "official-spatial") && (x->fold < 0 || x->fold > 4))
            AF_FAIL(AF_EINVAL, "--split official-spatial: fold %d (AgroFlux has folds 0-4)", x->fold);
        if (!strcmp(x->split, "official-spatial") && e->ncounties < 5)
            AF_FAIL(AF_EINVAL, "--split official-spatial: AgroFlux's folds are blocks of ncounties // 5 counties; the "
                    "output has %zu counties (at least 5 needed)", e->ncounties);
        if (!strcmp(x->split, "official-temporal") && af__official_train_years(e->nyears) < 1)
            AF_FAIL(AF_EINVAL, "--split official-temporal: %d years give no training year (int(0.8 n))", e->nyears);
    }
    m = malloc(((size_t)nset * nv + 1) * sizeof *m);
    s = malloc(((size_t)nset * nv + 1) * sizeof *s);
    AF_CHECK_ALLOC(m);
    AF_CHECK_ALLOC(s);
    fit_ctx c = { e, which };
    AF_CHECK(af__scalers_fit(e->comm, &e->view, e->ncounty, nset, in_train, &c, m, s, err));
    for (int k = 0; k < nset; k++) {
        memcpy(e->exp[which[k]].mean, m + (size_t)k * nv, nv * sizeof *m);
        memcpy(e->exp[which[k]].std, s + (size_t)k * nv, nv * sizeof *s);
        AF_CHECK(record_part(e, &e->exp[which[k]], err));
    }
cleanup:
    free(m);
    free(s);
    return rc;
}

static int any_site(const af_export *e)
{
    for (size_t s = 0; s < e->idx.nsamples - e->ncounty; s++)
        if (e->co2[s] || e->n2o_site[s]) return 1;
    return 0;
}

int af__export_scalers(af_export *e, af_error *err)
{
    int rc = AF_OK;
    size_t nv = e->idx.ninputs + e->idx.ntargets;
    for (int k = 0; k < e->nexp; k++) {
        af_export_exp *x = &e->exp[k];
        x->mean = calloc(nv + 1, sizeof(double));
        x->std = calloc(nv + 1, sizeof(double));
        x->t1_mean = calloc(nv + 1, sizeof(double));
        x->t1_std = calloc(nv + 1, sizeof(double));
        AF_CHECK_ALLOC(x->mean);
        AF_CHECK_ALLOC(x->std);
        AF_CHECK_ALLOC(x->t1_mean);
        AF_CHECK_ALLOC(x->t1_std);
        if (e->ncounty > 0 && strncmp(x->split, "official-", 9) != 0)
            AF_CHECK(af_train_scalers(e->idx.extra_json, x->split, x->fold, nv, x->mean, x->std, NULL, err));
        if (any_site(e) && !e->official_obs)
            AF_CHECK(af_train_scalers(e->idx.extra_json, "loso", e->opts->site_fold, nv, x->t1_mean, x->t1_std, NULL, err));
    }
    if (e->ncounty > 0) AF_CHECK(fit_official(e, err));
    for (int k = 0; k < e->nexp; k++)
        for (size_t j = 0; j < nv; j++) {
            af_export_exp *x = &e->exp[k];
            /* negating the value and the mean flips z exactly: (-v) - (-mean) = -(v - mean) */
            if (e->negate[j]) x->mean[j] = -x->mean[j];
            if (e->missing != AF_MISS_FILL) continue;
            if (!isfinite(x->mean[j])) x->mean[j] = 0.0;
            if (!isfinite(x->std[j])) x->std[j] = 1.0;
        }
cleanup:
    return rc;
}
