/* SPDX-License-Identifier: MIT */
/*
 * raster_zonal_impl.h (private to raster_zonal.c and raster_plain.c): the
 * state of one af__rz_zonal call shared by the strip driver and general sums
 * (raster_zonal.c) and the plain-mean sums over coverage runs
 * (raster_plain.c).
 */
#ifndef AF_RASTER_ZONAL_IMPL_H
#define AF_RASTER_ZONAL_IMPL_H

#include "raster_zonal.h"

struct rz_plain;

typedef struct zonal_ctx {
    const rz_raster *const *rs;
    size_t nr;
    const rz_mask *mask;
    int is_mask[RZ_NCLASS];
    rz_mode mode;
    int log10v;
    af_window strip;        /* rows read, columns of the union window */
    const float *val, *msk; /* strip buffers: val[nr][strip cells] */
    size_t scells;          /* cells per strip buffer */
    const double *rowarea;  /* [strip.nrows] */
    af_coverage_ws *ws;     /* coverage scratch, reused for every polygon and strip */
    int tiled;              /* val holds whole blocks: tile rows from trow0, tile columns tc0 .. tc0 + ntc - 1 */
    long trow0, tc0, ntc;
    float *tbuf;            /* tile mode: the blocks, filled as polygons first need them */
    unsigned char *have;    /* tile mode: [nr][tile rows][ntc] block read in this strip */
    long h;                 /* strip rows (the buffers' height) */
    struct rz_plain *plain; /* plain means: runs and row sums of the current polygon (raster_plain.c) */
} zonal_ctx;

/** Non-finite values and nodata to NaN (branch-free). */
void af__rz_nodata_to_nan(float *buf, size_t n, int has_nodata, float nd);

/** Plain means (no mask, log10 or classes): the scratch of z for strips of h rows, and its release. */
int af__rz_plain_create(zonal_ctx *z, af_error *err);
void af__rz_plain_destroy(zonal_ctx *z);

/**
 * Plain means of polygon p over the strip's window w (sub-grid sg) into res[0..z->nr-1] and st: its
 * coverage runs, then the values under them (tile mode: block column by block column, each block read
 * as first needed).
 */
int af__rz_plain_poly(const zonal_ctx *z, const af_grid *sg, const af_polygon *poly, const af_window *w, size_t p,
                      rz_result *res, rz_stats *st, af_error *err);

/**
 * The sums of n wholly covered cells val[0..n-1] (the first in raster column col) added to the eight
 * lanes vs (lane = column % 8) and their valid count (finite, not nd) into *nvalid: the kernel of the
 * plain means, exposed for its test. avx2 = 1 runs the AVX2 body where the CPU has it.
 */
void af__rz_full_lanes(const float *val, float nd, long n, long col, int avx2, double vs[8], long long *nvalid);

#endif
