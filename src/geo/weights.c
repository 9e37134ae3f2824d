/* SPDX-License-Identifier: MIT */
/*
 * weights.c: implements the af_weights part of agroflux/coverage.h: building
 * the CSR polygon x cell matrix (w = fraction * cell area * external weight),
 * per-polygon windows, and the canonical little-endian byte form used to cache
 * weights on disk (format version 1, trailing SHA-256 of the content), plus
 * the cache key of the inputs. Not collective.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "geo_impl.h"

#define WEIGHTS_MAGIC "AFWEIGHT"
#define WEIGHTS_VERSION 1u

struct af_weights {
    af_grid grid;
    size_t npoly, nnz, cap;
    size_t *rowptr;       /* npoly + 1 */
    long *cell;           /* nnz, ascending within a row */
    double *frac, *w;     /* nnz */
    double *total;        /* npoly: sum of w over the row, CSR order */
    double *area_total;   /* npoly */
    double *area_inside;  /* npoly */
    af_window *win;       /* npoly */
};

void af_weights_destroy(af_weights **w)
{
    if (!w || !*w) return;
    af_weights *x = *w;
    free(x->rowptr);
    free(x->cell);
    free(x->frac);
    free(x->w);
    free(x->total);
    free(x->area_total);
    free(x->area_inside);
    free(x->win);
    free(x);
    *w = NULL;
}

/* allocate the per-polygon arrays */
static int weights_alloc(const af_grid *g, size_t npoly, size_t nnz, af_weights **out,
                         af_error *err)
{
    int rc = AF_OK;
    af_weights *w = calloc(1, sizeof *w);
    AF_CHECK_ALLOC(w);
    w->grid = *g;
    w->npoly = npoly;
    w->rowptr = calloc(npoly + 1, sizeof(size_t));
    w->total = calloc(npoly + 1, sizeof(double));
    w->area_total = calloc(npoly + 1, sizeof(double));
    w->area_inside = calloc(npoly + 1, sizeof(double));
    w->win = calloc(npoly + 1, sizeof(af_window));
    AF_CHECK_ALLOC(w->rowptr);
    AF_CHECK_ALLOC(w->total);
    AF_CHECK_ALLOC(w->area_total);
    AF_CHECK_ALLOC(w->area_inside);
    AF_CHECK_ALLOC(w->win);
    if (nnz > 0) {
        w->cell = malloc(nnz * sizeof(long));
        w->frac = malloc(nnz * sizeof(double));
        w->w = malloc(nnz * sizeof(double));
        AF_CHECK_ALLOC(w->cell);
        AF_CHECK_ALLOC(w->frac);
        AF_CHECK_ALLOC(w->w);
        w->cap = nnz;
    }
    *out = w;
    w = NULL;
cleanup:
    af_weights_destroy(&w);
    return rc;
}

static int weights_grow(af_weights *w, size_t need, af_error *err)
{
    int rc = AF_OK;
    if (need <= w->cap) goto cleanup;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < need) cap *= 2;
    long *c = realloc(w->cell, cap * sizeof(long));
    AF_CHECK_ALLOC(c);
    w->cell = c;
    double *f = realloc(w->frac, cap * sizeof(double));
    AF_CHECK_ALLOC(f);
    w->frac = f;
    double *x = realloc(w->w, cap * sizeof(double));
    AF_CHECK_ALLOC(x);
    w->w = x;
    w->cap = cap;
cleanup:
    return rc;
}

/* totals and windows from the CSR arrays (after build or deserialize) */
static void weights_finish(af_weights *w)
{
    long nx = w->grid.nx;
    for (size_t i = 0; i < w->npoly; i++) {
        double s = 0;
        long cmin = nx, cmax = -1, rmin = w->grid.ny, rmax = -1;
        for (size_t k = w->rowptr[i]; k < w->rowptr[i + 1]; k++) {
            s += w->w[k];
            long r = w->cell[k] / nx, c = w->cell[k] % nx;
            if (r < rmin) rmin = r;
            if (r > rmax) rmax = r;
            if (c < cmin) cmin = c;
            if (c > cmax) cmax = c;
        }
        w->total[i] = s;
        af_window win = { 0, 0, 0, 0 };
        if (rmax >= 0) {
            win.col0 = cmin;
            win.ncols = cmax - cmin + 1;
            win.row0 = rmin;
            win.nrows = rmax - rmin + 1;
        }
        w->win[i] = win;
    }
}

int af_weights_build(const af_grid *g, const af_polygon *polys, size_t npoly,
                     const double *cell_weight, af_weights **out, af_error *err)
{
    int rc = AF_OK;
    af_weights *w = NULL;
    double *rowarea = NULL;
    af_coverage cov;
    memset(&cov, 0, sizeof cov);
    AF_CHECK_ARG(g != NULL && out != NULL && (polys != NULL || npoly == 0));
    AF_CHECK(af_grid_validate(g, err));
    AF_CHECK(weights_alloc(g, npoly, 0, &w, err));
    rowarea = malloc(sizeof(double) * (size_t)g->ny);
    AF_CHECK_ALLOC(rowarea);
    for (long r = 0; r < g->ny; r++) rowarea[r] = af_grid_cell_area(g, r);
    for (size_t i = 0; i < npoly; i++) {
        rc = af_coverage_compute(g, &polys[i], &cov, err);
        if (rc != AF_OK) {
            char msg[AF_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            af_error_set(err, rc, __FILE__, __LINE__, __func__, "polygon %zu: %s", i, msg);
            goto cleanup;
        }
        AF_CHECK(weights_grow(w, w->nnz + cov.n, err));
        for (size_t k = 0; k < cov.n; k++) {
            long j = cov.cell[k];
            double c = 1.0;
            if (cell_weight) {
                c = cell_weight[j];
                if (isnan(c)) c = 0;
                if (c < 0 || isinf(c))
                    AF_FAIL(AF_EINVAL, "cell_weight[%ld] = %g must be finite and >= 0", j, c);
            }
            w->cell[w->nnz] = j;
            w->frac[w->nnz] = cov.frac[k];
            w->w[w->nnz] = cov.frac[k] * rowarea[j / g->nx] * c;
            w->nnz++;
        }
        w->rowptr[i + 1] = w->nnz;
        w->area_total[i] = cov.area_total;
        w->area_inside[i] = cov.area_inside;
        af_coverage_dispose(&cov);
    }
    weights_finish(w);
    *out = w;
    w = NULL;
cleanup:
    af_coverage_dispose(&cov);
    free(rowarea);
    af_weights_destroy(&w);
    return rc;
}

size_t af_weights_npoly(const af_weights *w) { return w->npoly; }
size_t af_weights_nnz(const af_weights *w) { return w->nnz; }
const af_grid *af_weights_grid_ref(const af_weights *w) { return &w->grid; }
double af_weights_total(const af_weights *w, size_t i) { return w->total[i]; }
double af_weights_area_total(const af_weights *w, size_t i) { return w->area_total[i]; }
double af_weights_area_inside(const af_weights *w, size_t i) { return w->area_inside[i]; }
af_window af_weights_window(const af_weights *w, size_t i) { return w->win[i]; }

void af_weights_row_ref(const af_weights *w, size_t i, size_t *n, const long **cell,
                        const double **frac, const double **weight)
{
    size_t k = w->rowptr[i];
    *n = w->rowptr[i + 1] - k;
    if (cell) *cell = w->cell ? w->cell + k : NULL;
    if (frac) *frac = w->frac ? w->frac + k : NULL;
    if (weight) *weight = w->w ? w->w + k : NULL;
}

int af_weights_union_window(const af_weights *w, const size_t *idx, size_t n, af_window *out,
                            af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(w != NULL && out != NULL);
    if (!idx) n = w->npoly;
    long c0 = 0, c1 = 0, r0 = 0, r1 = 0;
    int any = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = idx ? idx[k] : k;
        if (i >= w->npoly) AF_FAIL(AF_EINVAL, "polygon index %zu >= %zu polygons", i, w->npoly);
        af_window p = w->win[i];
        if (p.ncols == 0) continue;
        if (!any || p.col0 < c0) c0 = p.col0;
        if (!any || p.row0 < r0) r0 = p.row0;
        if (!any || p.col0 + p.ncols > c1) c1 = p.col0 + p.ncols;
        if (!any || p.row0 + p.nrows > r1) r1 = p.row0 + p.nrows;
        any = 1;
    }
    af_window u = { c0, r0, c1 - c0, r1 - r0 };
    *out = u;
cleanup:
    return rc;
}

/* ---- canonical byte form ---- */

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    if (d == 0) d = 0.0; /* one zero: -0.0 and 0.0 encode alike */
    memcpy(&v, &d, 8);
    put_u64(p, v);
}
static double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#define HEADER_BYTES 112 /* magic, version, grid (80), npoly, nnz */

static void put_grid(unsigned char *p, const af_grid *g)
{
    put_f64(p, g->x0);
    put_f64(p + 8, g->y0);
    put_f64(p + 16, g->dx);
    put_f64(p + 24, g->dy);
    put_u64(p + 32, (uint64_t)g->nx);
    put_u64(p + 40, (uint64_t)g->ny);
    put_u64(p + 48, (uint64_t)g->rows_up);
    put_u64(p + 56, (uint64_t)(g->geographic != 0));
    put_f64(p + 64, g->semi_major);
    put_f64(p + 72, g->inv_flattening);
}

int af_weights_serialize(const af_weights *w, unsigned char **buf, size_t *len, af_error *err)
{
    int rc = AF_OK;
    unsigned char *b = NULL;
    AF_CHECK_ARG(w != NULL && buf != NULL && len != NULL);
    size_t n = HEADER_BYTES + w->npoly * 16 + (w->npoly + 1) * 8 + w->nnz * 24;
    b = malloc(n + 64);
    AF_CHECK_ALLOC(b);
    unsigned char *p = b;
    memcpy(p, WEIGHTS_MAGIC, 8);
    put_u64(p + 8, WEIGHTS_VERSION);
    put_grid(p + 16, &w->grid);
    put_u64(p + 96, (uint64_t)w->npoly);
    put_u64(p + 104, (uint64_t)w->nnz);
    p += HEADER_BYTES;
    for (size_t i = 0; i < w->npoly; i++, p += 16) {
        put_f64(p, w->area_total[i]);
        put_f64(p + 8, w->area_inside[i]);
    }
    for (size_t i = 0; i <= w->npoly; i++, p += 8) put_u64(p, (uint64_t)w->rowptr[i]);
    for (size_t k = 0; k < w->nnz; k++, p += 8) put_u64(p, (uint64_t)w->cell[k]);
    for (size_t k = 0; k < w->nnz; k++, p += 8) put_f64(p, w->frac[k]);
    for (size_t k = 0; k < w->nnz; k++, p += 8) put_f64(p, w->w[k]);
    char hex[65];
    af_sha256_hex(b, n, hex);
    memcpy(p, hex, 64);
    *buf = b;
    *len = n + 64;
    b = NULL;
cleanup:
    free(b);
    return rc;
}

int af_weights_deserialize(const unsigned char *buf, size_t len, af_weights **out, af_error *err)
{
    int rc = AF_OK;
    af_weights *w = NULL;
    AF_CHECK_ARG(buf != NULL && out != NULL);
    if (len < HEADER_BYTES + 64 || memcmp(buf, WEIGHTS_MAGIC, 8) != 0)
        AF_FAIL(AF_EFORMAT, "not an agroflux weights buffer (%zu bytes)", len);
    uint64_t ver = get_u64(buf + 8);
    if (ver != WEIGHTS_VERSION)
        AF_FAIL(AF_EFORMAT, "weights format version %llu, expected %u", (unsigned long long)ver,
                WEIGHTS_VERSION);
    char hex[65];
    af_sha256_hex(buf, len - 64, hex);
    if (memcmp(hex, buf + len - 64, 64) != 0) AF_FAIL(AF_EFORMAT, "weights checksum mismatch");
    const unsigned char *p = buf + 16;
    af_grid g = AF_GRID_INIT;
    g.x0 = get_f64(p);
    g.y0 = get_f64(p + 8);
    g.dx = get_f64(p + 16);
    g.dy = get_f64(p + 24);
    g.nx = (long)get_u64(p + 32);
    g.ny = (long)get_u64(p + 40);
    g.rows_up = (int)get_u64(p + 48);
    g.geographic = (int)get_u64(p + 56);
    g.semi_major = get_f64(p + 64);
    g.inv_flattening = get_f64(p + 72);
    AF_CHECK(af_grid_validate(&g, err));
    uint64_t npoly = get_u64(buf + 96), nnz = get_u64(buf + 104);
    if (npoly > len / 24 || nnz > len / 24 ||
        len != HEADER_BYTES + npoly * 16 + (npoly + 1) * 8 + nnz * 24 + 64)
        AF_FAIL(AF_EFORMAT, "weights buffer of %zu bytes does not match %llu polygons, %llu entries",
                len, (unsigned long long)npoly, (unsigned long long)nnz);
    AF_CHECK(weights_alloc(&g, (size_t)npoly, (size_t)nnz, &w, err));
    w->nnz = (size_t)nnz;
    p = buf + HEADER_BYTES;
    for (size_t i = 0; i < w->npoly; i++, p += 16) {
        w->area_total[i] = get_f64(p);
        w->area_inside[i] = get_f64(p + 8);
    }
    for (size_t i = 0; i <= w->npoly; i++, p += 8) {
        w->rowptr[i] = (size_t)get_u64(p);
        if ((i == 0 && w->rowptr[0] != 0) || (i > 0 && w->rowptr[i] < w->rowptr[i - 1]) ||
            w->rowptr[i] > w->nnz)
            AF_FAIL(AF_EFORMAT, "weights row pointer %zu = %zu is inconsistent", i, w->rowptr[i]);
    }
    if (w->rowptr[w->npoly] != w->nnz) AF_FAIL(AF_EFORMAT, "weights row pointers do not end at nnz");
    long ncell = g.nx * g.ny;
    for (size_t k = 0; k < w->nnz; k++, p += 8) {
        w->cell[k] = (long)get_u64(p);
        if (w->cell[k] < 0 || w->cell[k] >= ncell)
            AF_FAIL(AF_EFORMAT, "weights cell %ld outside 0..%ld", w->cell[k], ncell - 1);
    }
    for (size_t k = 0; k < w->nnz; k++, p += 8) w->frac[k] = get_f64(p);
    for (size_t k = 0; k < w->nnz; k++, p += 8) w->w[k] = get_f64(p);
    weights_finish(w);
    *out = w;
    w = NULL;
cleanup:
    af_weights_destroy(&w);
    return rc;
}

int af_weights_key(const af_grid *g, const af_polygon *polys, size_t npoly,
                   const double *cell_weight, char hex[65], af_error *err)
{
    int rc = AF_OK;
    unsigned char *b = NULL;
    AF_CHECK_ARG(g != NULL && hex != NULL && (polys != NULL || npoly == 0));
    AF_CHECK(af_grid_validate(g, err));
    size_t n = 8 + 80 + 8 + 8;
    for (size_t i = 0; i < npoly; i++) {
        n += 8;
        for (size_t r = 0; r < polys[i].nrings; r++) n += 16 + 16 * polys[i].rings[r].n;
    }
    if (cell_weight) n += 8 * (size_t)g->nx * (size_t)g->ny;
    b = malloc(n);
    AF_CHECK_ALLOC(b);
    unsigned char *p = b;
    memcpy(p, "AFWKEY01", 8);
    put_grid(p + 8, g);
    put_u64(p + 88, (uint64_t)npoly);
    put_u64(p + 96, cell_weight != NULL);
    p += 104;
    for (size_t i = 0; i < npoly; i++) {
        put_u64(p, (uint64_t)polys[i].nrings);
        p += 8;
        for (size_t r = 0; r < polys[i].nrings; r++) {
            const af_ring *ring = &polys[i].rings[r];
            put_u64(p, (uint64_t)(ring->hole != 0));
            put_u64(p + 8, (uint64_t)ring->n);
            p += 16;
            for (size_t k = 0; k < 2 * ring->n; k++, p += 8) put_f64(p, ring->xy[k]);
        }
    }
    if (cell_weight)
        for (long j = 0; j < g->nx * g->ny; j++, p += 8) put_f64(p, cell_weight[j]);
    af_sha256_hex(b, n, hex);
cleanup:
    free(b);
    return rc;
}
