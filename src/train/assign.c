/* SPDX-License-Identifier: MIT */
/*
 * assign.c: draws the split assignments of [splits]: counties, in county
 * list order (af_sample.county_rank: the selection-list row, as AgroFlux's
 * county file), to spatial folds, either in contiguous blocks (county at list
 * position c of n in fold floor(c*k/n), so every county is in some fold,
 * unlike AgroFlux's 19-county folds that leave 4 of 99 always in training) or
 * by a seeded splitmix64 Fisher-Yates shuffle of the list positions; and
 * sites, in global order, to leave-one-site-out folds. Pure computation, not collective; every rank
 * draws the same assignment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "train_impl.h"

uint64_t af__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void af__assign_dispose(af_assign *a)
{
    if (!a) return;
    free(a->county_fips);
    free(a->county_fold);
    free(a->sample_county);
    free(a->site_sample);
    free(a->sample_site);
    memset(a, 0, sizeof *a);
}

/* Counties in county list order (scenarios of a county share its index); sites in global order. */
static int collect_units(const af_sample *samples, size_t n, af_assign *a, af_error *err)
{
    int rc = AF_OK;
    a->county_fips = calloc(n + 1, sizeof *a->county_fips);
    a->sample_county = calloc(n + 1, sizeof *a->sample_county);
    a->site_sample = calloc(n + 1, sizeof *a->site_sample);
    a->sample_site = calloc(n + 1, sizeof *a->sample_site);
    AF_CHECK_ALLOC(a->county_fips);
    AF_CHECK_ALLOC(a->sample_county);
    AF_CHECK_ALLOC(a->site_sample);
    AF_CHECK_ALLOC(a->sample_site);
    AF_CHECK(af__county_list(samples, n, &a->ncounties, a->sample_county, err));
    for (size_t i = 0; i < n; i++) {
        a->sample_site[i] = SIZE_MAX;
        if (samples[i].kind == AF_SAMPLE_SITE) {
            a->sample_site[i] = a->nsites;
            a->site_sample[a->nsites++] = i;
        } else {
            memcpy(a->county_fips[a->sample_county[i]], samples[i].fips, sizeof a->county_fips[0]);
        }
    }
cleanup:
    return rc;
}

static int draw_spatial(const af_splits_cfg *cfg, af_assign *a, af_error *err)
{
    int rc = AF_OK;
    size_t nc = a->ncounties, k = (size_t)cfg->spatial_folds, *perm = NULL;
    a->county_fold = malloc((nc + 1) * sizeof *a->county_fold);
    AF_CHECK_ALLOC(a->county_fold);
    for (size_t c = 0; c < nc; c++) a->county_fold[c] = -1;
    if (k == 0) goto cleanup;
    if (nc < k)
        AF_FAIL(AF_ECONFIG, "[splits] spatial_folds = %zu but the output has only %zu counties", k, nc);
    perm = malloc(nc * sizeof *perm);
    AF_CHECK_ALLOC(perm);
    for (size_t c = 0; c < nc; c++) perm[c] = c;
    if (cfg->spatial_random) {
        uint64_t st = (uint64_t)cfg->spatial_seed;
        for (size_t i = nc - 1; i > 0; i--) {
            size_t j = (size_t)(af__splitmix64(&st) % (uint64_t)(i + 1));
            size_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
    }
    for (size_t p = 0; p < nc; p++) a->county_fold[perm[p]] = (int)(p * k / nc);
cleanup:
    free(perm);
    return rc;
}

int af__assign_draw(const af_splits_cfg *cfg, const af_sample *samples, size_t n, af_assign *a,
                    af_error *err)
{
    int rc = AF_OK;
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    AF_CHECK(collect_units(samples, n, a, err));
    AF_CHECK(draw_spatial(cfg, a, err));
    if (cfg->loso == 1 && a->nsites < 3)
        AF_FAIL(AF_ECONFIG, "[splits] loso = yes needs at least 3 sites (validation, test, training); the output has %zu",
                a->nsites);
    a->loso = cfg->loso != 0 && a->nsites >= 3;
cleanup:
    if (rc != AF_OK) af__assign_dispose(a);
    return rc;
}
