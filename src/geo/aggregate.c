/* SPDX-License-Identifier: MIT */
/*
 * aggregate.c: implements af_aggregate_apply of agroflux/coverage.h: the
 * weighted mean, valid-weight fraction, min, max and weighted std of each
 * polygon for each day of a block of rasters, day by day (one day's plane
 * stays in cache for all polygons), and the prepared form behind it
 * (af_aggregator: cell offsets computed once, then calls per few day planes,
 * as floats or as 16-bit stored values with an unpacking table, so a caller
 * never holds a block of floats). Polygons are taken in chunks of a few
 * thousand cells whose offsets and weights stay in cache while every day of the
 * call gathers from them, four days at a time (four independent sums per cell).
 * Sums run in CSR order with double accumulators, so results do not depend on
 * threads, ranks, loop order or how the days are handed over. Not collective.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "geo_impl.h"

struct af_aggregator {
    const af_weights *w;
    size_t *sel;                 /* [npoly_sel] polygon indices */
    size_t npoly_sel;
    size_t *offs;                /* [tot] offset of every selected cell in the window plane */
    size_t *offs_flip;           /* [tot] the same with the window's rows in reverse order */
    size_t tot;
    size_t plane;                /* cells of one day plane of the window */
    af_aggregate_opts opts;
};

#define AGG_CHUNK_CELLS 8192     /* cells per chunk of polygons: offsets + weights = 128 KiB */

static inline int is_missing(float v, const af_aggregate_opts *o)
{
    return isnan(v) || (o->has_nodata && v == o->nodata);
}

void af_aggregator_destroy(af_aggregator **a)
{
    if (!a || !*a) return;
    free((*a)->sel);
    free((*a)->offs);
    free((*a)->offs_flip);
    free(*a);
    *a = NULL;
}

static int check_opts(const af_aggregate_opts *opts, const af_window *win, af_error *err)
{
    int rc = AF_OK;
    if (opts->version != 1) AF_FAIL(AF_EINVAL, "aggregate opts version %d, expected 1", opts->version);
    if (!(opts->min_valid_fraction >= 0 && opts->min_valid_fraction <= 1))
        AF_FAIL(AF_EINVAL, "min_valid_fraction = %g outside [0, 1]", opts->min_valid_fraction);
    if (win->ncols < 0 || win->nrows < 0)
        AF_FAIL(AF_EINVAL, "window %ld x %ld has a negative size", win->ncols, win->nrows);
cleanup:
    return rc;
}

static int check_selection(af_aggregator *a, const size_t *idx, const af_window *win, af_error *err)
{
    int rc = AF_OK;
    size_t npoly = af_weights_npoly(a->w);
    for (size_t s = 0; s < a->npoly_sel; s++) {
        size_t i = idx ? idx[s] : s, n;
        if (i >= npoly) AF_FAIL(AF_EINVAL, "polygon index %zu >= %zu polygons", i, npoly);
        a->sel[s] = i;
        af_weights_row_ref(a->w, i, &n, NULL, NULL, NULL);
        af_window p = af_weights_window(a->w, i);
        if (n > 0 && (p.col0 < win->col0 || p.row0 < win->row0 ||
                      p.col0 + p.ncols > win->col0 + win->ncols ||
                      p.row0 + p.nrows > win->row0 + win->nrows))
            AF_FAIL(AF_EINVAL,
                    "polygon %zu needs cells cols %ld..%ld rows %ld..%ld, outside window cols "
                    "%ld..%ld rows %ld..%ld", i, p.col0, p.col0 + p.ncols - 1, p.row0,
                    p.row0 + p.nrows - 1, win->col0, win->col0 + win->ncols - 1, win->row0,
                    win->row0 + win->nrows - 1);
        a->tot += n;
    }
cleanup:
    return rc;
}

int af_aggregator_create(const af_weights *w, const size_t *idx, size_t npoly_sel, const af_window *win,
                         const af_aggregate_opts *opts, af_aggregator **out, af_error *err)
{
    int rc = AF_OK;
    af_aggregator *a = NULL;
    AF_CHECK_ARG(w != NULL && win != NULL && opts != NULL && out != NULL);
    AF_CHECK(check_opts(opts, win, err));
    if (!idx && npoly_sel != af_weights_npoly(w))
        AF_FAIL(AF_EINVAL, "npoly_sel = %zu but weights have %zu polygons", npoly_sel, af_weights_npoly(w));
    a = calloc(1, sizeof *a);
    AF_CHECK_ALLOC(a);
    a->w = w;
    a->opts = *opts;
    a->npoly_sel = npoly_sel;
    a->plane = (size_t)win->nrows * (size_t)win->ncols;
    a->sel = malloc(sizeof(size_t) * (npoly_sel ? npoly_sel : 1));
    AF_CHECK_ALLOC(a->sel);
    AF_CHECK(check_selection(a, idx, win, err));
    /* Offsets of every selected polygon's cells in the window plane (rows as given and reversed), once. */
    const af_grid *g = af_weights_grid_ref(w);
    a->offs = malloc(sizeof(size_t) * (a->tot ? a->tot : 1));
    a->offs_flip = malloc(sizeof(size_t) * (a->tot ? a->tot : 1));
    AF_CHECK_ALLOC(a->offs);
    AF_CHECK_ALLOC(a->offs_flip);
    for (size_t s = 0, o0 = 0; s < npoly_sel; s++) {
        size_t n;
        const long *cell;
        af_weights_row_ref(w, a->sel[s], &n, &cell, NULL, NULL);
        for (size_t k = 0; k < n; k++) {
            long r = cell[k] / g->nx - win->row0, c = cell[k] % g->nx - win->col0;
            a->offs[o0 + k] = (size_t)r * (size_t)win->ncols + (size_t)c;
            a->offs_flip[o0 + k] = (size_t)(win->nrows - 1 - r) * (size_t)win->ncols + (size_t)c;
        }
        o0 += n;
    }
    *out = a;
    a = NULL;
cleanup:
    af_aggregator_destroy(&a);
    return rc;
}

/* Running sums of one (polygon, day), cells in CSR order. */
typedef struct agg_acc {
    double swv, swx, vmin, vmax;
    int any;
} agg_acc;

/* Where the day planes come from: floats, or 16-bit stored values through an unpacking table. */
typedef struct agg_src {
    const float *f;
    const uint16_t *u;
    const float *lut;
    const size_t *offs;          /* a->offs or a->offs_flip */
} agg_src;

/* The kernels are specialised on the constant flags pk (packed source) and mm (min/max wanted). */
#if defined(__GNUC__)
#define AGG_INLINE static inline __attribute__((always_inline))
#else
#define AGG_INLINE static inline
#endif

AGG_INLINE float src_value(const agg_src *src, size_t i, int pk)
{
    return pk ? src->lut[src->u[i]] : src->f[i];
}

/* One cell into the local sums of day g (mm: track min and max). */
#define ACC_CELL(g, x, w)                                      \
    do {                                                       \
        float x_ = (x);                                        \
        if (!is_missing(x_, o)) {                              \
            double w_ = (w);                                   \
            any##g = 1;                                        \
            swv##g += w_;                                      \
            swx##g += w_ * (double)x_;                         \
            if (mm) {                                          \
                if (x_ < mn##g) mn##g = x_;                    \
                if (x_ > mx##g) mx##g = x_;                    \
            }                                                  \
        }                                                      \
    } while (0)

/* Four consecutive days (planes `plane` cells apart, from base) of one polygon: each cell's offset
 * and weight are loaded once for the four days, whose sums are independent chains the CPU overlaps
 * (each (polygon, day) still sums its cells in CSR order, so its bits do not change). */
AGG_INLINE void acc_days4(const agg_src *src, size_t base, size_t plane, const size_t *po, const double *wt,
                          size_t n, const af_aggregate_opts *o, int mm, int pk, agg_acc *a)
{
    double swv0 = 0, swx0 = 0, mn0 = INFINITY, mx0 = -INFINITY, swv1 = 0, swx1 = 0, mn1 = INFINITY, mx1 = -INFINITY;
    double swv2 = 0, swx2 = 0, mn2 = INFINITY, mx2 = -INFINITY, swv3 = 0, swx3 = 0, mn3 = INFINITY, mx3 = -INFINITY;
    int any0 = 0, any1 = 0, any2 = 0, any3 = 0;
    for (size_t k = 0; k < n; k++) {
        size_t q = base + po[k];
        double w = wt[k];
        ACC_CELL(0, src_value(src, q, pk), w);
        ACC_CELL(1, src_value(src, q + plane, pk), w);
        ACC_CELL(2, src_value(src, q + 2 * plane, pk), w);
        ACC_CELL(3, src_value(src, q + 3 * plane, pk), w);
    }
    a[0] = (agg_acc){ swv0, swx0, mn0, mx0, any0 };
    a[1] = (agg_acc){ swv1, swx1, mn1, mx1, any1 };
    a[2] = (agg_acc){ swv2, swx2, mn2, mx2, any2 };
    a[3] = (agg_acc){ swv3, swx3, mn3, mx3, any3 };
}

/* One day of one polygon. */
AGG_INLINE void acc_day1(const agg_src *src, size_t base, const size_t *po, const double *wt, size_t n,
                         const af_aggregate_opts *o, int mm, int pk, agg_acc *a)
{
    double swv0 = 0, swx0 = 0, mn0 = INFINITY, mx0 = -INFINITY;
    int any0 = 0;
    for (size_t k = 0; k < n; k++) ACC_CELL(0, src_value(src, base + po[k], pk), wt[k]);
    *a = (agg_acc){ swv0, swx0, mn0, mx0, any0 };
}

/* The outputs of selected polygon s on day t from its sums (and the std pass over its cells). */
static void finish_poly(const af_aggregator *a, size_t s, const agg_acc *acc, const agg_src *src, size_t base,
                        const size_t *po, const double *wt, size_t n, long t, long nt, const af_aggregate_out *out)
{
    const af_aggregate_opts *opts = &a->opts;
    double wall = af_weights_total(a->w, a->sel[s]);
    double vf = wall > 0 ? acc->swv / wall : 0;
    double mean = (acc->swv > 0 && vf >= opts->min_valid_fraction) ? acc->swx / acc->swv : NAN;
    size_t o = s * (size_t)nt + (size_t)t;
    out->mean[o] = mean;
    out->valid_fraction[o] = vf;
    if (out->min) out->min[o] = acc->any ? acc->vmin : NAN;
    if (out->max) out->max[o] = acc->any ? acc->vmax : NAN;
    if (out->std) {
        double ss = 0;
        if (!isnan(mean)) {
            for (size_t k = 0; k < n; k++) {
                float x = src->u ? src->lut[src->u[base + po[k]]] : src->f[base + po[k]];
                if (is_missing(x, opts)) continue;
                double d = (double)x - mean;
                ss += wt[k] * d * d;
            }
        }
        out->std[o] = isnan(mean) ? NAN : sqrt(ss / acc->swv);
    }
}

/* Polygons s0..s1-1 (cells from offset o0) over days t..t+nd-1. */
AGG_INLINE void chunk_days(const af_aggregator *a, const agg_src *src, size_t s0, size_t s1, size_t o0, long t, long nd,
                           long nt, const af_aggregate_out *out, int mm, int pk)
{
    const af_aggregate_opts *o = &a->opts;
    long d = 0;
    for (; d + 4 <= nd; d += 4) {
        size_t base = (size_t)d * a->plane;
        for (size_t s = s0, oo = o0; s < s1; s++) {
            size_t n;
            const double *wt;
            af_weights_row_ref(a->w, a->sel[s], &n, NULL, NULL, &wt);
            const size_t *po = src->offs + oo;
            oo += n;
            agg_acc acc[4];
            acc_days4(src, base, a->plane, po, wt, n, o, mm, pk, acc);
            for (long j = 0; j < 4; j++)
                finish_poly(a, s, &acc[j], src, base + (size_t)j * a->plane, po, wt, n, t + d + j, nt, out);
        }
    }
    for (; d < nd; d++) {
        size_t base = (size_t)d * a->plane;
        for (size_t s = s0, oo = o0; s < s1; s++) {
            size_t n;
            const double *wt;
            af_weights_row_ref(a->w, a->sel[s], &n, NULL, NULL, &wt);
            const size_t *po = src->offs + oo;
            oo += n;
            agg_acc acc;
            acc_day1(src, base, po, wt, n, o, mm, pk, &acc);
            finish_poly(a, s, &acc, src, base, po, wt, n, t + d, nt, out);
        }
    }
}

static void run_days(const af_aggregator *a, const agg_src *src, long t, long nd, long nt, const af_aggregate_out *out)
{
    int mm = out->min || out->max;
    for (size_t s0 = 0, o0 = 0; s0 < a->npoly_sel;) {
        size_t s1 = s0, cells = 0;
        while (s1 < a->npoly_sel && (s1 == s0 || cells < AGG_CHUNK_CELLS)) {
            size_t n;
            af_weights_row_ref(a->w, a->sel[s1], &n, NULL, NULL, NULL);
            cells += n;
            s1++;
        }
        if (src->u) {
            if (mm) chunk_days(a, src, s0, s1, o0, t, nd, nt, out, 1, 1);
            else chunk_days(a, src, s0, s1, o0, t, nd, nt, out, 0, 1);
        } else {
            if (mm) chunk_days(a, src, s0, s1, o0, t, nd, nt, out, 1, 0);
            else chunk_days(a, src, s0, s1, o0, t, nd, nt, out, 0, 0);
        }
        s0 = s1;
        o0 += cells;
    }
}

void af_aggregator_days(const af_aggregator *a, const float *planes, long t, long nd, long nt,
                        const af_aggregate_out *out)
{
    agg_src src = { planes, NULL, NULL, a->offs };
    run_days(a, &src, t, nd, nt, out);
}

void af_aggregator_days_u16(const af_aggregator *a, const uint16_t *planes, const float *lut, int rows_reversed,
                            long t, long nd, long nt, const af_aggregate_out *out)
{
    agg_src src = { NULL, planes, lut, rows_reversed ? a->offs_flip : a->offs };
    run_days(a, &src, t, nd, nt, out);
}

void af_aggregator_day(const af_aggregator *a, const float *v, long t, long nt, const af_aggregate_out *out)
{
    af_aggregator_days(a, v, t, 1, nt, out);
}

int af_aggregate_apply(const af_weights *w, const size_t *idx, size_t npoly_sel,
                       const float *values, long nt, const af_window *win,
                       const af_aggregate_opts *opts, af_aggregate_out *out, af_error *err)
{
    int rc = AF_OK;
    af_aggregator *a = NULL;
    AF_CHECK_ARG(w != NULL && win != NULL && opts != NULL && out != NULL);
    AF_CHECK_ARG(out->mean != NULL && out->valid_fraction != NULL);
    AF_CHECK_ARG(nt >= 0 && (values != NULL || nt == 0));
    AF_CHECK(af_aggregator_create(w, idx, npoly_sel, win, opts, &a, err));
    af_aggregator_days(a, values, 0, nt, nt, out);
cleanup:
    af_aggregator_destroy(&a);
    return rc;
}
