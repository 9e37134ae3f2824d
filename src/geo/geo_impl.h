/* SPDX-License-Identifier: MIT */
/*
 * geo_impl.h: private helpers shared by the geo files (coverage.c, weights.c,
 * aggregate.c, grid.c). Internally every computation uses the "canonical"
 * north-up row order (row 0 at the top); these helpers map canonical rows to
 * storage rows for grids flagged rows_up. Not collective.
 */
#ifndef AF_GEO_IMPL_H
#define AF_GEO_IMPL_H

#include "agroflux/coverage.h"

/** y of the top edge of the grid (canonical row 0). */
static inline double af__grid_top(const af_grid *g)
{
    return g->rows_up ? g->y0 + (double)g->ny * g->dy : g->y0;
}

/** Canonical row <-> storage row (the map is its own inverse). */
static inline long af__grid_flip_row(const af_grid *g, long r)
{
    return g->rows_up ? g->ny - 1 - r : r;
}

/* ------------------------------------------------------ coverage internals */

/** One edge fragment inside one cell: column and row bucket in the window (k = nr: below it). */
typedef struct af_cov_frag {
    long col, k;
    double part;               /* partial term s*du*(v_mid - row), subtracted from the cell */
    double full;               /* full term s*du, subtracted from every cell above in the column */
} af_cov_frag;

/** The fragments of one polygon over its window (canonical rows r0.., columns c0..). */
typedef struct af_cov_frags {
    long c0, r0, nc, nr;
    af_cov_frag *f;
    size_t n, cap;
    int oom;
} af_cov_frags;

struct af_coverage_ws {
    af_cov_frags fr;
    af_cov_frag *sorted;       /* fragments bucketed by row */
    size_t sorted_cap;
    size_t *bucket;            /* bucket ends */
    size_t bucket_cap;
    double *uv, *area2;
    size_t *start;
    size_t uv_cap, area2_cap, start_cap;
    double *run, *fillrow, *partrow; /* one window row each */
    size_t row_cap, fill_cap, part_cap;
    long *touched;
    size_t touched_cap;
    unsigned char *mark;
    size_t mark_cap;
    double *frac;              /* the dense result */
    size_t frac_cap;
    unsigned char *cls;        /* runs sweep: class of each column's running sum (0 out, 1 full, 2 partial) */
    size_t cls_cap;
    uint64_t *chg, *ev;        /* runs sweep: bit c = class change between columns c-1 and c; a row's events */
    size_t chg_cap, ev_cap;
    af_coverage_run *runs;     /* runs sweep: one row's runs */
    size_t runs_cap;
};

/**
 * Validation, vertices in grid units, the polygon's area (CRS units^2) and window, and every edge's
 * fragments into ws->fr (ws->fr.nc = nr = 0 when the window is empty). Both accumulations (the row
 * sweep of af_coverage_compute_dense, the tests' column arrays) start from these.
 */
int af__coverage_fragments(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, double *area_total,
                           af_error *err);

/** Grow *p to at least n elements of size sz (contents not kept); -1 when out of memory. */
int af__coverage_reserve(void **p, size_t *cap, size_t n, size_t sz);

/** The fragments of ws->fr bucketed by row into ws->sorted (stable: each bucket keeps edge order),
 * buckets 0..nr (nr: below the window); -1 when out of memory. */
int af__coverage_bucket_rows(af_coverage_ws *ws);

/** The fragments of bucket k in ws->sorted, [*i0, *i1). */
static inline void af__coverage_bucket_range(const af_coverage_ws *ws, long k, size_t *i0, size_t *i1)
{
    *i0 = k > 0 ? ws->bucket[k - 1] : 0;
    *i1 = ws->bucket[k];
}

#endif
