/* SPDX-License-Identifier: MIT */
/*
 * raster_plain.c: the plain means of af__rz_zonal (no mask, no log10, no
 * classes: soil, the common case). Each polygon's coverage on the strip
 * comes from af_coverage_sweep_runs as runs per row: wholly covered runs
 * (the interior, fraction exactly 1) add their values alone, without a
 * fraction or a multiply; runs of boundary or partly covered cells take the
 * fraction-weighted path; uncovered cells cost nothing. The runs are kept
 * for the polygon's rows and the values summed block column by block column
 * (tile mode: each block read as first needed and summed while in cache).
 *
 * Order: each row has its own lane sums (wholly covered cells in lane
 * raster column % RZ_VLANES, the others in lane raster column % RZ_LANES,
 * ascending within a lane), carried from one block column to the next; the
 * rows add up in the coverage sweep's order. Every order is fixed by the
 * polygon and the raster's rows and columns, never by the rank count or the
 * block layout (tile and strip modes give the same bits).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define RZ_AVX2 1 /* an AVX2 body chosen at run time (target attribute; the build stays baseline x86-64) */
#include <immintrin.h>
#else
#define RZ_AVX2 0
#endif

#include "af_check.h"
#include "af_util.h"
#include "raster_zonal_impl.h"

#if defined(__GNUC__)
#define RZ_INLINE static inline __attribute__((always_inline))
#else
#define RZ_INLINE static inline
#endif

#define RZ_LANES 4  /* cells with a fraction: lane = raster column % RZ_LANES */
#define RZ_VLANES 8 /* wholly covered cells: lane = raster column % RZ_VLANES */

/* One row of a polygon: lane sums of its cells with fractions and of its wholly covered cells. */
typedef struct rz_row {
    double f[RZ_LANES], fv[RZ_LANES], fx[RZ_LANES]; /* fraction, fraction of valid cells, fraction x value */
    double vs[RZ_VLANES];                           /* wholly covered valid cells: values */
    long long cnt;                                  /* cells with a fraction > 0 */
    long long nfull, nvalid;                        /* wholly covered cells; of them valid */
} rz_row;

/* A polygon's sums so far, per raster. */
typedef struct rz_lanes {
    double inside, acov, wv, wx;
    long long cnt;
} rz_lanes;

/* A run in raster columns; foff: its first cell's fraction in fr, or -1 when wholly covered. */
typedef struct rz_run {
    long c0, c1, foff;
} rz_run;

struct rz_plain {
    rz_row *rows;           /* [nr][h] */
    rz_lanes *lanes;        /* [nr] */
    size_t *rstart, *rcount, *cur; /* [h]: the runs of window row i, and a cursor over them */
    rz_run *runs;
    size_t nruns, runs_cap;
    double *fr;             /* fractions of the runs that are not wholly covered */
    size_t nfr, fr_cap;
    long col0;              /* raster column of the sweep's sub-grid column 0 */
    int oom;
    int avx2;               /* the CPU has AVX2 (full_sums' body) */
};

int af__rz_plain_create(zonal_ctx *z, af_error *err)
{
    int rc = AF_OK;
    struct rz_plain *P = calloc(1, sizeof *P);
    AF_CHECK_ALLOC(P);
    z->plain = P;
#if RZ_AVX2
    __builtin_cpu_init();
    P->avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
    P->rows = calloc(z->nr * (size_t)z->h, sizeof *P->rows);
    P->lanes = calloc(z->nr, sizeof *P->lanes);
    P->rstart = calloc((size_t)z->h, sizeof *P->rstart);
    P->rcount = calloc((size_t)z->h, sizeof *P->rcount);
    P->cur = calloc((size_t)z->h, sizeof *P->cur);
    AF_CHECK_ALLOC(P->rows);
    AF_CHECK_ALLOC(P->lanes);
    AF_CHECK_ALLOC(P->rstart);
    AF_CHECK_ALLOC(P->rcount);
    AF_CHECK_ALLOC(P->cur);
cleanup:
    return rc;
}

void af__rz_plain_destroy(zonal_ctx *z)
{
    struct rz_plain *P = z->plain;
    if (!P) return;
    free(P->rows);
    free(P->lanes);
    free(P->rstart);
    free(P->rcount);
    free(P->cur);
    free(P->runs);
    free(P->fr);
    free(P);
    z->plain = NULL;
}

/* ------------------------------------------------------------ runs */

static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* af_coverage_runs_fn: one row's runs kept (raster columns), with the fractions of those not full. */
static void keep_row(void *user, const af_window *win, long row, const af_coverage_run *runs, size_t nruns,
                     const double *frac)
{
    struct rz_plain *P = user;
    size_t i = (size_t)(win->row0 + row), nf = 0;
    for (size_t k = 0; k < nruns; k++) nf += runs[k].full ? 0 : (size_t)(runs[k].c1 - runs[k].c0);
    if (grow((void **)&P->runs, &P->runs_cap, P->nruns + nruns, sizeof *P->runs) ||
        grow((void **)&P->fr, &P->fr_cap, P->nfr + nf, sizeof *P->fr)) {
        P->oom = 1;
        return;
    }
    P->rstart[i] = P->nruns;
    P->rcount[i] = nruns;
    long c0 = P->col0 + win->col0;
    for (size_t k = 0; k < nruns; k++) {
        rz_run *u = &P->runs[P->nruns++];
        u->c0 = c0 + runs[k].c0;
        u->c1 = c0 + runs[k].c1;
        u->foff = -1;
        if (runs[k].full) continue;
        u->foff = (long)P->nfr;
        size_t n = (size_t)(runs[k].c1 - runs[k].c0);
        memcpy(P->fr + P->nfr, frac + runs[k].c0, n * sizeof *P->fr);
        P->nfr += n;
    }
}

/* ------------------------------------------------------------ sums */

/* Whether a value counts: finite and not nodata (nd NaN: no nodata, every finite value counts). Tile
 * buffers hold the file's values as read, strip buffers have nodata as NaN already (nd = NaN). */
RZ_INLINE int valid(float x, float nd)
{
    return isfinite(x) && x != nd;
}

/* One cell with fraction f into lane j of a row (the reference form; the vector loop does the same). */
RZ_INLINE void cell_sums(double f, float x, float nd, int j, rz_row *R)
{
    int ok = valid(x, nd);
    R->f[j] += f;
    R->fv[j] += ok ? f : 0.0;
    R->fx[j] += ok ? f * (double)x : 0.0;
    R->cnt += f > 0;
}

#if defined(__GNUC__)
typedef double rz_v2 __attribute__((vector_size(2 * sizeof(double))));
typedef long long rz_m2 __attribute__((vector_size(2 * sizeof(long long))));
typedef float rz_f2 __attribute__((vector_size(2 * sizeof(float))));

typedef struct rz_acc2 { rz_v2 f, fv, fx; rz_m2 cnt; } rz_acc2;

/* Cells c, c+1 into the two lanes of acc. */
RZ_INLINE void pair_sums(const double *fr, const float *val, rz_v2 nd, rz_acc2 *acc)
{
    rz_v2 f, zero = { 0, 0 };
    rz_f2 vf;
    memcpy(&f, fr, sizeof f);
    memcpy(&vf, val, sizeof vf);
    rz_v2 v = __builtin_convertvector(vf, rz_v2);
    rz_m2 ok = ((v - v) == zero) & (v != nd); /* all ones where finite and not nodata */
    acc->f += f;
    acc->fv += (rz_v2)((rz_m2)f & ok);
    acc->fx += (rz_v2)((rz_m2)(f * v) & ok);
    acc->cnt -= f > zero;
}

static void acc2_load(rz_acc2 *a, const rz_row *R, int j)
{
    memcpy(&a->f, R->f + j, sizeof a->f);
    memcpy(&a->fv, R->fv + j, sizeof a->fv);
    memcpy(&a->fx, R->fx + j, sizeof a->fx);
    memset(&a->cnt, 0, sizeof a->cnt);
}

static void acc2_store(const rz_acc2 *a, rz_row *R, int j)
{
    memcpy(R->f + j, &a->f, sizeof a->f);
    memcpy(R->fv + j, &a->fv, sizeof a->fv);
    memcpy(R->fx + j, &a->fx, sizeof a->fx);
    R->cnt += a->cnt[0] + a->cnt[1];
}
#endif

/* n cells with fractions fr and values val, the first in raster column col, into R's lanes. */
static void frac_sums(const double *restrict fr, const float *restrict val, float nd, long n, long col,
                      rz_row *restrict R)
{
    long c = 0;
    for (; c < n && (col + c) % RZ_LANES; c++) cell_sums(fr[c], val[c], nd, (int)((col + c) % RZ_LANES), R);
#if defined(__GNUC__)
    if (c + RZ_LANES <= n) {
        rz_v2 ndv = { (double)nd, (double)nd };
        rz_acc2 lo, hi;
        acc2_load(&lo, R, 0);
        acc2_load(&hi, R, 2);
        for (; c + RZ_LANES <= n; c += RZ_LANES) {
            pair_sums(fr + c, val + c, ndv, &lo);
            pair_sums(fr + c + 2, val + c + 2, ndv, &hi);
        }
        acc2_store(&lo, R, 0);
        acc2_store(&hi, R, 2);
    }
#endif
    for (; c < n; c++) cell_sums(fr[c], val[c], nd, (int)((col + c) % RZ_LANES), R);
}

/* One wholly covered cell into lane j: its value when valid (+0.0 otherwise, as the vector loop adds). */
RZ_INLINE void full_cell(float x, float nd, int j, rz_row *R, long long *nv)
{
    int ok = valid(x, nd);
    R->vs[j] += ok ? (double)x : 0.0;
    *nv += ok;
}

#if defined(__SSE2__)
/* n8 (a multiple of 8) wholly covered cells, the first in lane 0, into the lanes vs[8]: two vectors of
 * four valid-cell counts, four of two lane sums. */
static void full_body(const float *restrict val, float nd, long n8, double *restrict vs, long long *nv)
{
    __m128d a0 = _mm_loadu_pd(vs), a1 = _mm_loadu_pd(vs + 2), a2 = _mm_loadu_pd(vs + 4), a3 = _mm_loadu_pd(vs + 6);
    __m128i cnt = _mm_setzero_si128();
    __m128 ndv = _mm_set1_ps(nd), zero = _mm_setzero_ps();
    for (long c = 0; c < n8; c += RZ_VLANES) {
        __m128 x0 = _mm_loadu_ps(val + c), x1 = _mm_loadu_ps(val + c + 4);
        /* all ones where valid: x - x is 0 for finite x (NaN otherwise), and x is not nodata */
        __m128 m0 = _mm_and_ps(_mm_cmpeq_ps(_mm_sub_ps(x0, x0), zero), _mm_cmpneq_ps(x0, ndv));
        __m128 m1 = _mm_and_ps(_mm_cmpeq_ps(_mm_sub_ps(x1, x1), zero), _mm_cmpneq_ps(x1, ndv));
        x0 = _mm_and_ps(x0, m0);
        x1 = _mm_and_ps(x1, m1);
        cnt = _mm_sub_epi32(cnt, _mm_castps_si128(m0));
        cnt = _mm_sub_epi32(cnt, _mm_castps_si128(m1));
        a0 = _mm_add_pd(a0, _mm_cvtps_pd(x0));
        a1 = _mm_add_pd(a1, _mm_cvtps_pd(_mm_movehl_ps(x0, x0)));
        a2 = _mm_add_pd(a2, _mm_cvtps_pd(x1));
        a3 = _mm_add_pd(a3, _mm_cvtps_pd(_mm_movehl_ps(x1, x1)));
    }
    _mm_storeu_pd(vs, a0);
    _mm_storeu_pd(vs + 2, a1);
    _mm_storeu_pd(vs + 4, a2);
    _mm_storeu_pd(vs + 6, a3);
    int k[4];
    _mm_storeu_si128((__m128i *)k, cnt);
    *nv += (long long)k[0] + k[1] + k[2] + k[3];
}
#else
static void full_body(const float *restrict val, float nd, long n8, double *restrict vs, long long *nv)
{
    for (long c = 0; c < n8; c++) {
        int ok = valid(val[c], nd);
        vs[c % RZ_VLANES] += ok ? (double)val[c] : 0.0;
        *nv += ok;
    }
}
#endif

#if RZ_AVX2
/* The same with AVX2 (same lanes, same adds, same bits): eight counts, two vectors of four lane sums. */
__attribute__((target("avx2"))) static void full_body_avx2(const float *restrict val, float nd, long n8,
                                                           double *restrict vs, long long *nv)
{
    __m256d a0 = _mm256_loadu_pd(vs), a1 = _mm256_loadu_pd(vs + 4);
    __m256i cnt = _mm256_setzero_si256();
    __m256 ndv = _mm256_set1_ps(nd), zero = _mm256_setzero_ps();
    for (long c = 0; c < n8; c += RZ_VLANES) {
        __m256 x = _mm256_loadu_ps(val + c);
        __m256 m = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(x, x), zero, _CMP_EQ_OQ),
                                 _mm256_cmp_ps(x, ndv, _CMP_NEQ_UQ));
        x = _mm256_and_ps(x, m);
        cnt = _mm256_sub_epi32(cnt, _mm256_castps_si256(m));
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    }
    _mm256_storeu_pd(vs, a0);
    _mm256_storeu_pd(vs + 4, a1);
    int k[8];
    _mm256_storeu_si256((__m256i *)k, cnt);
    for (int j = 0; j < 8; j++) *nv += k[j];
}
#endif

/* n wholly covered cells with values val, the first in raster column col: values summed in R's lanes,
 * valid cells counted. Eight lanes keep the adds independent; the body runs in AVX2 where the CPU has it
 * (avx2 = 1), else SSE2, else a scalar loop: the same lanes in the same order, the same bits. */
static void full_sums(const float *restrict val, float nd, long n, long col, int avx2, rz_row *restrict R)
{
    long c = 0;
    long long nv = 0;
    for (; c < n && (col + c) % RZ_VLANES; c++) full_cell(val[c], nd, (int)((col + c) % RZ_VLANES), R, &nv);
    long n8 = (n - c) / RZ_VLANES * RZ_VLANES;
    (void)avx2;
    if (n8 > 0) {
#if RZ_AVX2
        if (avx2) full_body_avx2(val + c, nd, n8, R->vs, &nv);
        else
#endif
            full_body(val + c, nd, n8, R->vs, &nv);
        c += n8;
    }
    for (; c < n; c++) full_cell(val[c], nd, (int)((col + c) % RZ_VLANES), R, &nv);
    R->nfull += n;
    R->nvalid += nv;
}

void af__rz_full_lanes(const float *val, float nd, long n, long col, int avx2, double vs[8], long long *nvalid)
{
    rz_row R;
    memset(&R, 0, sizeof R);
    memcpy(R.vs, vs, sizeof R.vs);
#if RZ_AVX2
    __builtin_cpu_init();
    avx2 = avx2 && __builtin_cpu_supports("avx2");
#endif
    full_sums(val, nd, n, col, avx2, &R);
    memcpy(vs, R.vs, sizeof R.vs);
    *nvalid = R.nvalid;
}

static double lanes_sum(const double *l) { return (l[0] + l[1]) + (l[2] + l[3]); }

/* A finished row R of cell area ra into the polygon's sums L. */
static void row_add(const rz_row *R, double ra, rz_lanes *L)
{
    double f = (double)R->nfull + lanes_sum(R->f);
    double fv = (double)R->nvalid + lanes_sum(R->fv);
    double fx = (lanes_sum(R->vs) + lanes_sum(R->vs + 4)) + lanes_sum(R->fx);
    L->inside += f;
    L->acov += f * ra;
    L->wv += fv * ra;
    L->wx += fx * ra;
    L->cnt += R->cnt + R->nfull;
}

/* A block of values: cell (raster row r, column c) at blk[(r - row0) * stride + c - col0]; nd: its
 * nodata value as stored (NaN when none or already NaN). */
typedef struct rz_block {
    const float *blk;
    long row0, col0, stride;
    float nd;
} rz_block;

/* Raster j's values under the runs of window rows i0..i1-1 in columns c0..c1-1 (all inside b), each row's
 * cursor moved past the runs that end there. */
static void sum_block(const zonal_ctx *z, size_t j, const af_window *w, long i0, long i1, long c0, long c1,
                      const rz_block *b)
{
    struct rz_plain *P = z->plain;
    for (long i = i0; i < i1; i++) {
        size_t k = P->cur[i], end = P->rstart[i] + P->rcount[i];
        long row = w->row0 + i;
        rz_row *R = &P->rows[j * (size_t)z->h + (size_t)(row - z->strip.row0)];
        const float *vrow = b->blk + (size_t)(row - b->row0) * (size_t)b->stride; /* column b->col0 */
        for (; k < end; k++) {
            const rz_run *u = &P->runs[k];
            if (u->c0 >= c1) break;
            long a = u->c0 > c0 ? u->c0 : c0, e = u->c1 < c1 ? u->c1 : c1;
            const float *v = vrow + (a - b->col0);
            if (u->foff < 0) full_sums(v, b->nd, e - a, a, P->avx2, R);
            else frac_sums(P->fr + u->foff + (a - u->c0), v, b->nd, e - a, a, R);
            if (u->c1 > c1) break; /* continues in the next block column */
        }
        P->cur[i] = k;
    }
}

/* Whether any of window rows i0..i1-1 has a run in columns before c1 (cursors: past earlier columns). */
static int block_needed(const struct rz_plain *P, long i0, long i1, long c1)
{
    for (long i = i0; i < i1; i++)
        if (P->cur[i] < P->rstart[i] + P->rcount[i] && P->runs[P->cur[i]].c0 < c1) return 1;
    return 0;
}

/* Tile mode: block (tx, ty) of raster j as stored in the file (nodata is tested in the sums), read now
 * unless read earlier in this strip. */
static int tile(const zonal_ctx *z, size_t j, long tx, long ty, const float **out, af_error *err)
{
    int rc = AF_OK;
    const rz_raster *r = z->rs[j];
    long bx = r->blk_x, by = r->blk_y;
    size_t tcells = (size_t)bx * (size_t)by, ntr = z->scells / tcells / (size_t)z->ntc;
    size_t t = (j * ntr + (size_t)(ty - z->trow0 / by)) * (size_t)z->ntc + (size_t)(tx - z->tc0);
    float *buf = z->tbuf + t * tcells;
    *out = buf;
    if (z->have[t]) goto cleanup;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    CPLErr e = GDALReadBlock(r->band, (int)tx, (int)ty, buf);
    CPLPopErrorHandler();
    if (e != CE_None)
        AF_FAIL(AF_EGDAL, "%s: reading block %ld of rows %ld..%ld: %s", r->path, tx, ty * by, ty * by + by - 1,
                af_gdal_why());
    z->have[t] = 1;
cleanup:
    return rc;
}

/* Raster j under the kept runs of window w: one block for a strip buffer; in tile mode block column by
 * block column, tile row by tile row, each block read just before its first run is summed. */
static int sum_raster(const zonal_ctx *z, size_t j, const af_window *w, af_error *err)
{
    int rc = AF_OK;
    struct rz_plain *P = z->plain;
    for (long i = 0; i < w->nrows; i++) P->cur[i] = P->rstart[i];
    if (!z->tiled) {
        rz_block b = { z->val + j * z->scells, z->strip.row0, z->strip.col0, z->strip.ncols, NAN };
        sum_block(z, j, w, 0, w->nrows, w->col0, w->col0 + w->ncols, &b);
        goto cleanup;
    }
    long bx = z->rs[j]->blk_x, by = z->rs[j]->blk_y, cend = w->col0 + w->ncols, rend = w->row0 + w->nrows;
    for (long tx = w->col0 / bx; tx * bx < cend; tx++) {
        long c0 = tx * bx > w->col0 ? tx * bx : w->col0, c1 = (tx + 1) * bx < cend ? (tx + 1) * bx : cend;
        for (long ty = w->row0 / by; ty * by < rend; ty++) {
            long i0 = (ty * by > w->row0 ? ty * by : w->row0) - w->row0;
            long i1 = ((ty + 1) * by < rend ? (ty + 1) * by : rend) - w->row0;
            if (!block_needed(P, i0, i1, c1)) continue;
            const rz_raster *r = z->rs[j];
            rz_block b = { NULL, ty * by, tx * bx, bx, r->has_nodata ? (float)r->nodata : NAN };
            AF_CHECK(tile(z, j, tx, ty, &b.blk, err));
            sum_block(z, j, w, i0, i1, c0, c1, &b);
        }
    }
cleanup:
    return rc;
}

int af__rz_plain_poly(const zonal_ctx *z, const af_grid *sg, const af_polygon *poly, const af_window *w, size_t p,
                      rz_result *res, rz_stats *st, af_error *err)
{
    int rc = AF_OK;
    struct rz_plain *P = z->plain;
    af_coverage_dense cov;
    long r0 = w->row0 - z->strip.row0;
    memset(P->rcount, 0, (size_t)w->nrows * sizeof *P->rcount);
    P->nruns = P->nfr = 0;
    P->oom = 0;
    P->col0 = w->col0;
    AF_CHECK(af_coverage_sweep_runs(z->ws, sg, poly, keep_row, P, &cov, err));
    if (P->oom) AF_FAIL(AF_ENOMEM, "out of memory for the coverage runs of %ld rows", w->nrows);
    memset(P->lanes, 0, z->nr * sizeof *P->lanes);
    int up = z->rs[0]->grid.rows_up;
    for (size_t j = 0; j < z->nr; j++) {
        memset(P->rows + j * (size_t)z->h + (size_t)r0, 0, (size_t)w->nrows * sizeof *P->rows);
        AF_CHECK(sum_raster(z, j, w, err));
        for (long k = 0; k < w->nrows; k++) { /* the sweep's order: south to north */
            long i = up ? k : w->nrows - 1 - k;
            if (P->rcount[i]) row_add(&P->rows[j * (size_t)z->h + (size_t)(r0 + i)], z->rowarea[r0 + i], &P->lanes[j]);
        }
        const rz_lanes *L = &P->lanes[j];
        res[j].area_cov[p] += L->acov;
        res[j].sum_wall[p] += L->acov; /* no mask: every covered cell weighs its area */
        res[j].sum_wv[p] += L->wv;
        res[j].sum_wx[p] += L->wx;
        res[j].inside[p] += L->inside * sg->dx * sg->dy;
    }
    st->cells += P->lanes[0].cnt;
cleanup:
    return rc;
}
