/* SPDX-License-Identifier: MIT */
/*
 * partition.c: implements the ordering and splitting half of agroflux/samples.h:
 * the Hilbert curve index used for the global order, and af_sampleset_partition,
 * which cuts the global order into one contiguous slice per rank. Cuts fall only
 * between units (a county with all its scenarios, or a site), at the unit boundary
 * whose prefix work is closest to r*W/P; a sample's work is its estimated cost (a
 * county sample 1, a site af_sample_opts.site_work: AF_SITE_WORK_OBS when tower or
 * chamber files are read for it). Pure functions, not collective; the result
 * depends only on the set and the rank count.
 */
#include <stdlib.h>

#include "af_check.h"
#include "samples_impl.h"

unsigned long long af_hilbert_index(unsigned order, unsigned long x, unsigned long y)
{
    if (order == 0) return 0;
    if (order > 32) order = 32;
    unsigned long long n = 1ull << order;
    unsigned long long xx = (unsigned long long)x & (n - 1), yy = (unsigned long long)y & (n - 1);
    unsigned long long d = 0;
    for (unsigned long long s = n >> 1; s > 0; s >>= 1) {
        unsigned rx = (xx & s) != 0, ry = (yy & s) != 0;
        d += s * s * (unsigned long long)((3u * rx) ^ ry);
        /* rotate the quadrant so the sub-curve starts at its origin */
        if (ry == 0) {
            if (rx == 1) {
                xx = n - 1 - xx;
                yy = n - 1 - yy;
            }
            unsigned long long t = xx;
            xx = yy;
            yy = t;
        }
    }
    return d;
}

static int same_unit(const af_sample *a, const af_sample *b)
{
    return a->kind == b->kind && a->unit == b->unit;
}

int af_sampleset_partition(const af_sampleset *set, int nranks, af_range *ranges, af_error *err)
{
    int rc = AF_OK;
    size_t *bound = NULL; /* sample index where unit u starts; bound[nunits] = n */
    double *pre = NULL;   /* work of units before u */

    AF_CHECK_ARG(set != NULL);
    AF_CHECK_ARG(ranges != NULL);
    if (nranks < 1) AF_FAIL(AF_EINVAL, "cannot partition samples over %d ranks", nranks);
    size_t n = set->n, nunits = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || !same_unit(&set->samples[i], &set->samples[i - 1])) nunits++;
    bound = malloc((nunits + 1) * sizeof *bound);
    pre = malloc((nunits + 1) * sizeof *pre);
    AF_CHECK_ALLOC(bound);
    AF_CHECK_ALLOC(pre);
    size_t u = 0;
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !same_unit(&set->samples[i], &set->samples[i - 1])) {
            bound[u] = i;
            pre[u] = w;
            u++;
        }
        double sw = set->samples[i].work;
        if (sw < 0.0 || sw != sw) AF_FAIL(AF_EINTERNAL, "sample '%s' has work %g", set->samples[i].id, sw);
        w += sw;
    }
    bound[nunits] = n;
    pre[nunits] = w;

    /* Cut r (1 <= r < P) at the unit boundary k whose prefix work is closest to
     * r*W/P, ties to the earlier boundary. Compare pre*P with r*W to avoid a
     * division; the targets increase, so k only moves forward (O(units + P)). */
    double P = (double)nranks;
    size_t k = 0;
    ranges[0].begin = 0;
    for (int r = 1; r < nranks; r++) {
        double t = (double)r * w;
        while (k < nunits && pre[k + 1] * P <= t) k++;
        size_t cut = k;
        if (k < nunits && pre[k + 1] * P - t < t - pre[k] * P) cut = k + 1;
        ranges[r - 1].end = bound[cut];
        ranges[r].begin = bound[cut];
    }
    ranges[nranks - 1].end = n;
cleanup:
    free(bound);
    free(pre);
    return rc;
}
