/* SPDX-License-Identifier: MIT */
/*
 * order.c: the county list order of the train module. Counties are taken in
 * their county list position (af_sample.county_rank: the selection-list row,
 * or FIPS order without a list), not in the global (Hilbert) order of the
 * shards. af__county_list numbers the counties of a sample array in that
 * order (used by the spatial split blocks); af__export_order gives the
 * AgroFlux array order of the county samples, (county list position,
 * scenario index) = AgroFlux's county*nscen + rate. Pure, not collective.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "train_impl.h"

typedef struct county_key {
    long rank;
    size_t first;   /* first global index of the county's samples */
    size_t num;     /* number of the county in order of first appearance */
} county_key;

static int cmp_key(const void *a, const void *b)
{
    const county_key *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Counties in order of first appearance: per sample its county (SIZE_MAX for sites). */
static int first_appearance(const af_sample *s, size_t n, county_key *keys, size_t *nc, size_t *sc, af_error *err)
{
    int rc = AF_OK;
    *nc = 0;
    for (size_t i = 0; i < n; i++) {
        sc[i] = SIZE_MAX;
        if (s[i].kind != AF_SAMPLE_COUNTY) continue;
        if (s[i].county_rank < 0)
            AF_FAIL(AF_EINVAL, "county sample '%s' has no county list position (county_rank): the index was written "
                    "by an agroflux without it; rerun the pipeline", s[i].id);
        size_t c = *nc;
        while (c > 0 && strcmp(s[keys[c - 1].first].fips, s[i].fips) != 0) c--;
        if (c == 0) {
            keys[*nc].rank = s[i].county_rank;
            keys[*nc].first = i;
            keys[*nc].num = *nc;
            c = ++*nc;
        } else if (keys[c - 1].rank != s[i].county_rank) {
            AF_FAIL(AF_EINVAL, "county sample '%s' has county_rank %ld but '%s' of the same county has %ld", s[i].id,
                    s[i].county_rank, s[keys[c - 1].first].id, keys[c - 1].rank);
        }
        sc[i] = c - 1;
    }
cleanup:
    return rc;
}

int af__county_list(const af_sample *samples, size_t n, size_t *ncounties, size_t *sample_county, af_error *err)
{
    int rc = AF_OK;
    size_t nc = 0, *to_list = NULL;
    county_key *keys = calloc(n + 1, sizeof *keys), *sorted = calloc(n + 1, sizeof *sorted);
    AF_CHECK_ALLOC(keys);
    AF_CHECK_ALLOC(sorted);
    AF_CHECK(first_appearance(samples, n, keys, &nc, sample_county, err));
    memcpy(sorted, keys, nc * sizeof *keys);
    qsort(sorted, nc, sizeof *sorted, cmp_key);
    for (size_t p = 1; p < nc; p++)
        if (sorted[p].rank == sorted[p - 1].rank)
            AF_FAIL(AF_EINVAL, "counties %s and %s share county list position %ld", samples[sorted[p - 1].first].fips,
                    samples[sorted[p].first].fips, sorted[p].rank);
    /* first-appearance number -> list position */
    to_list = calloc(nc + 1, sizeof *to_list);
    AF_CHECK_ALLOC(to_list);
    for (size_t p = 0; p < nc; p++) to_list[sorted[p].num] = p;
    for (size_t i = 0; i < n; i++)
        if (sample_county[i] != SIZE_MAX) sample_county[i] = to_list[sample_county[i]];
    *ncounties = nc;
cleanup:
    free(keys);
    free(sorted);
    free(to_list);
    return rc;
}

/* Every county must hold the same scenarios in the same order (AgroFlux's rate axis); *per = how many.
 * within[i] = index of sample i among its county's samples in global order (declared scenario order). */
static int same_scenarios(const af_sample *s, size_t n, const size_t *sc, size_t nc, size_t *within, size_t *per,
                          af_error *err)
{
    int rc = AF_OK;
    size_t *cnt = calloc(nc + 1, sizeof *cnt), *ref = calloc(n + 1, sizeof *ref), first0 = SIZE_MAX;
    AF_CHECK_ALLOC(cnt);
    AF_CHECK_ALLOC(ref);
    for (size_t i = 0; i < n; i++) {
        if (sc[i] == SIZE_MAX) continue;
        within[i] = cnt[sc[i]]++;
        if (sc[i] == 0) ref[within[i]] = i;
        if (sc[i] == 0 && first0 == SIZE_MAX) first0 = i;
    }
    *per = nc ? cnt[0] : 0;
    for (size_t i = 0; i < n; i++) {
        if (sc[i] == SIZE_MAX) continue;
        if (cnt[sc[i]] != *per)
            AF_FAIL(AF_EINVAL, "county %s has %zu scenarios, county %s has %zu: the AgroFlux layout needs every county "
                    "with the same scenarios", s[i].fips, cnt[sc[i]], s[first0].fips, *per);
        if (strcmp(s[ref[within[i]]].scenario, s[i].scenario) != 0)
            AF_FAIL(AF_EINVAL, "sample '%s': scenario %zu of county %s is '%s', of county %s '%s': the AgroFlux layout "
                    "needs every county with the same scenarios in the same order", s[i].id, within[i], s[i].fips,
                    s[i].scenario, s[first0].fips, s[ref[within[i]]].scenario);
    }
cleanup:
    free(cnt);
    free(ref);
    return rc;
}

int af__export_order(const af_sample *samples, size_t n, size_t *order, af_error *err)
{
    int rc = AF_OK;
    size_t nc = 0, per = 0, *sc = calloc(n + 1, sizeof *sc), *within = calloc(n + 1, sizeof *within);
    AF_CHECK_ALLOC(sc);
    AF_CHECK_ALLOC(within);
    AF_CHECK(af__county_list(samples, n, &nc, sc, err));
    AF_CHECK(same_scenarios(samples, n, sc, nc, within, &per, err));
    /* within a county, samples are in declared scenario order in the global order */
    for (size_t i = 0; i < n; i++)
        if (sc[i] != SIZE_MAX) order[sc[i] * per + within[i]] = i;
cleanup:
    free(sc);
    free(within);
    return rc;
}
