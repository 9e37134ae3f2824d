/* SPDX-License-Identifier: MIT */
/*
 * aggregate.c: implements af_aggregate_apply of agroflux/coverage.h: the
 * weighted mean, valid-weight fraction, min, max and weighted std of each
 * polygon for each day of a block of rasters, day by day (one day's plane
 * stays in cache for all polygons). Sums run in CSR order with double
 * accumulators, so results do not depend on threads, ranks or loop order.
 * Not collective.
 */
#include <math.h>
#include <stdlib.h>

#include "af_check.h"
#include "geo_impl.h"

/* The day plane is usually not in cache (a block is larger than the caches), and the gather is
 * latency-bound: prefetch the cell AF_PREFETCH_AHEAD entries ahead in the flattened offsets. */
#if defined(__GNUC__)
#define AF_PREFETCH(p) __builtin_prefetch((p), 0, 0)
#else
#define AF_PREFETCH(p) ((void)(p))
#endif
#define AF_PREFETCH_AHEAD 48

static int is_missing(float v, const af_aggregate_opts *o)
{
    return isnan(v) || (o->has_nodata && v == o->nodata);
}

int af_aggregate_apply(const af_weights *w, const size_t *idx, size_t npoly_sel,
                       const float *values, long nt, const af_window *win,
                       const af_aggregate_opts *opts, af_aggregate_out *out, af_error *err)
{
    int rc = AF_OK;
    size_t *offs = NULL;
    AF_CHECK_ARG(w != NULL && win != NULL && opts != NULL && out != NULL);
    AF_CHECK_ARG(out->mean != NULL && out->valid_fraction != NULL);
    AF_CHECK_ARG(nt >= 0 && (values != NULL || nt == 0));
    if (opts->version != 1) AF_FAIL(AF_EINVAL, "aggregate opts version %d, expected 1", opts->version);
    if (!(opts->min_valid_fraction >= 0 && opts->min_valid_fraction <= 1))
        AF_FAIL(AF_EINVAL, "min_valid_fraction = %g outside [0, 1]", opts->min_valid_fraction);
    if (win->ncols < 0 || win->nrows < 0)
        AF_FAIL(AF_EINVAL, "window %ld x %ld has a negative size", win->ncols, win->nrows);
    size_t npoly = af_weights_npoly(w);
    if (!idx && npoly_sel != npoly)
        AF_FAIL(AF_EINVAL, "npoly_sel = %zu but weights have %zu polygons", npoly_sel, npoly);
    const af_grid *g = af_weights_grid_ref(w);
    size_t plane = (size_t)win->nrows * (size_t)win->ncols;
    for (size_t s = 0; s < npoly_sel; s++) {
        size_t i = idx ? idx[s] : s, n;
        if (i >= npoly) AF_FAIL(AF_EINVAL, "polygon index %zu >= %zu polygons", i, npoly);
        af_weights_row_ref(w, i, &n, NULL, NULL, NULL);
        af_window p = af_weights_window(w, i);
        if (n > 0 && (p.col0 < win->col0 || p.row0 < win->row0 ||
                      p.col0 + p.ncols > win->col0 + win->ncols ||
                      p.row0 + p.nrows > win->row0 + win->nrows))
            AF_FAIL(AF_EINVAL,
                    "polygon %zu needs cells cols %ld..%ld rows %ld..%ld, outside window cols "
                    "%ld..%ld rows %ld..%ld", i, p.col0, p.col0 + p.ncols - 1, p.row0,
                    p.row0 + p.nrows - 1, win->col0, win->col0 + win->ncols - 1, win->row0,
                    win->row0 + win->nrows - 1);
    }
    /* Offsets of every selected polygon's cells in the window, once; then day by day, so one day's
     * plane stays in cache while every polygon gathers from it (polygon-major order re-fetched the
     * whole block from memory for each polygon). Each (polygon, day) still sums in CSR order. */
    size_t tot = 0;
    for (size_t s = 0; s < npoly_sel; s++) {
        size_t n;
        af_weights_row_ref(w, idx ? idx[s] : s, &n, NULL, NULL, NULL);
        tot += n;
    }
    offs = malloc(sizeof(size_t) * (tot ? tot : 1));
    AF_CHECK_ALLOC(offs);
    for (size_t s = 0, o0 = 0; s < npoly_sel; s++) {
        size_t n;
        const long *cell;
        af_weights_row_ref(w, idx ? idx[s] : s, &n, &cell, NULL, NULL);
        for (size_t k = 0; k < n; k++) {
            long r = cell[k] / g->nx - win->row0, c = cell[k] % g->nx - win->col0;
            offs[o0 + k] = (size_t)r * (size_t)win->ncols + (size_t)c;
        }
        o0 += n;
    }
    for (long t = 0; t < nt; t++) {
        const float *v = values + (size_t)t * plane;
        for (size_t s = 0, o0 = 0; s < npoly_sel; s++) {
            size_t i = idx ? idx[s] : s, n;
            const double *wt;
            af_weights_row_ref(w, i, &n, NULL, NULL, &wt);
            const size_t *po = offs + o0;
            o0 += n;
            double wall = af_weights_total(w, i);
            double swv = 0, swx = 0, vmin = INFINITY, vmax = -INFINITY;
            int any = 0;
            for (size_t k = 0; k < n; k++) {
                AF_PREFETCH(v + offs[o0 - n + k + AF_PREFETCH_AHEAD < tot ? o0 - n + k + AF_PREFETCH_AHEAD : tot - 1]);
                float x = v[po[k]];
                if (is_missing(x, opts)) continue;
                any = 1;
                swv += wt[k];
                swx += wt[k] * (double)x;
                if (x < vmin) vmin = x;
                if (x > vmax) vmax = x;
            }
            double vf = wall > 0 ? swv / wall : 0;
            double mean = (swv > 0 && vf >= opts->min_valid_fraction) ? swx / swv : NAN;
            size_t o = s * (size_t)nt + (size_t)t;
            out->mean[o] = mean;
            out->valid_fraction[o] = vf;
            if (out->min) out->min[o] = any ? vmin : NAN;
            if (out->max) out->max[o] = any ? vmax : NAN;
            if (out->std) {
                double ss = 0;
                if (!isnan(mean)) {
                    for (size_t k = 0; k < n; k++) {
                        float x = v[po[k]];
                        if (is_missing(x, opts)) continue;
                        double d = (double)x - mean;
                        ss += wt[k] * d * d;
                    }
                }
                out->std[o] = isnan(mean) ? NAN : sqrt(ss / swv);
            }
        }
    }
cleanup:
    free(offs);
    return rc;
}
