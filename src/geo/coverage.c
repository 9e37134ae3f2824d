/* SPDX-License-Identifier: MIT */
/*
 * coverage.c: implements af_coverage_compute of agroflux/coverage.h, exact
 * fractional coverage of a polygon over grid cells. Green's theorem per cell:
 * area(P ∩ [c,c+1]x[r,r+1]) = -∮ 1[c,c+1](u) F_r(v) du, F_r(v) = clamp(v,r,r+1)-r,
 * in grid units (u right, v down). Each edge is cut at integer u and v into
 * fragments that lie in one cell; a fragment adds its partial term to its cell
 * and a "full" term to every cell above it in the column. The fragments are
 * bucketed by row and one sweep from the bottom row up keeps the running column
 * sums in one row of doubles: a cell no fragment touches (the interior of the
 * polygon, or outside it) is just its column's running sum, so only boundary
 * cells do any clipping work, and nothing of the bounding box's size is
 * allocated but the output. The scratch lives in a reusable workspace
 * (af_coverage_ws). tests/geo keeps the former column-array accumulation of
 * the same fragments and checks that both give the same bits. Cost
 * O(vertices + boundary cells + bounding-box cells). Not collective.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "geo_impl.h"

static double snap(double u)
{
    double n = nearbyint(u);
    return fabs(u - n) <= 1e-12 * fmax(1.0, fabs(u)) ? n : u;
}

/* One fragment (pu,pv)->(qu,qv) inside one cell: pushed with its column and row bucket (rows past
 * the window's bottom share bucket nr: only their full term counts; rows above it are dropped). */
static void add_fragment(af_cov_frags *a, double s, double pu, double pv, double qu, double qv)
{
    double du = qu - pu;
    if (du == 0) return;
    double mu = 0.5 * (pu + qu), mv = 0.5 * (pv + qv);
    long col = (long)floor(mu) - a->c0;
    if (col < 0) col = 0;
    if (col >= a->nc) col = a->nc - 1;
    double kf = floor(mv);
    if (kf < (double)a->r0) return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 1024;
        af_cov_frag *f = realloc(a->f, cap * sizeof *f);
        if (!f) { a->oom = 1; return; }
        a->f = f;
        a->cap = cap;
    }
    af_cov_frag *f = &a->f[a->n++];
    f->col = col;
    f->full = s * du;
    if (kf >= (double)(a->r0 + a->nr)) {
        f->k = a->nr;
        f->part = 0;
        return;
    }
    f->k = (long)kf - a->r0;
    f->part = s * du * (mv - kf);
}

/* One edge (u1,v1)->(u2,v2) with ring factor s (+1 or -1). */
static void add_edge(af_cov_frags *a, double s, double u1, double v1, double u2, double v2)
{
    if (u1 == u2) return; /* vertical: no contribution */
    if (v1 < (double)a->r0 && v2 < (double)a->r0) return; /* above the window: add_fragment drops every piece */
    double ulo = (double)a->c0, uhi = (double)(a->c0 + a->nc);
    double t0 = 0, t1 = 1, du = u2 - u1, dv = v2 - v1;
    /* clip to the window's columns */
    double ta = (ulo - u1) / du, tb = (uhi - u1) / du;
    if (ta > tb) { double t = ta; ta = tb; tb = t; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
    if (!(t0 < t1)) return;
    double pu = t0 == 0 ? u1 : snap(u1 + t0 * du), pv = t0 == 0 ? v1 : v1 + t0 * dv;
    double eu = t1 == 1 ? u2 : snap(u1 + t1 * du), ev = t1 == 1 ? v2 : v1 + t1 * dv;
    if (t0 > 0) pu = du > 0 ? ulo : uhi;
    if (t1 < 1) eu = du > 0 ? uhi : ulo;
    /* integer crossings strictly inside (pu..eu) and (pv..ev); v limited to window rows */
    double su = du > 0 ? 1 : -1, sv = dv > 0 ? 1 : (dv < 0 ? -1 : 0);
    double nu = du > 0 ? floor(pu) + 1 : ceil(pu) - 1; /* next u integer */
    double nv = 0, vend = ev;
    double vlo = (double)a->r0, vhi = (double)(a->r0 + a->nr);
    if (sv != 0) {
        nv = sv > 0 ? floor(pv) + 1 : ceil(pv) - 1;
        if (sv > 0 && nv < vlo) nv = vlo;
        if (sv < 0 && nv > vhi) nv = vhi;
        if (sv > 0 && vend > vhi) vend = vhi + 0.5; /* crossings past vhi are not needed */
        if (sv < 0 && vend < vlo) vend = vlo - 0.5;
    }
    for (;;) {
        int have_u = su > 0 ? nu < eu : nu > eu;
        int have_v = sv != 0 && (sv > 0 ? nv < vend && nv < ev : nv > vend && nv > ev);
        if (!have_u && !have_v) break;
        double tu = have_u ? (nu - u1) / du : 2, tv = have_v ? (nv - v1) / dv : 2;
        double qu, qv;
        if (tu <= tv) {
            qu = nu;
            qv = tu == tv ? nv : v1 + tu * dv;
            if (tu == tv) nv += sv;
            nu += su;
        } else {
            qv = nv;
            qu = u1 + tv * du;
            nv += sv;
        }
        add_fragment(a, s, pu, pv, qu, qv);
        pu = qu;
        pv = qv;
    }
    add_fragment(a, s, pu, pv, eu, ev);
}

void af_coverage_dispose(af_coverage *cov)
{
    if (!cov) return;
    free(cov->cell);
    free(cov->frac);
    memset(cov, 0, sizeof *cov);
}

int af_coverage_ws_create(af_coverage_ws **out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(out != NULL);
    *out = calloc(1, sizeof **out);
    AF_CHECK_ALLOC(*out);
cleanup:
    return rc;
}

void af_coverage_ws_destroy(af_coverage_ws **ws)
{
    if (!ws || !*ws) return;
    af_coverage_ws *w = *ws;
    free(w->fr.f);
    free(w->sorted);
    free(w->bucket);
    free(w->uv);
    free(w->start);
    free(w->area2);
    free(w->run);
    free(w->fillrow);
    free(w->partrow);
    free(w->touched);
    free(w->mark);
    free(w->frac);
    free(w->cls);
    free(w->chg);
    free(w->ev);
    free(w->runs);
    free(w);
    *ws = NULL;
}

int af__coverage_reserve(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < n) c *= 2;
    void *q = malloc(c * sz);
    if (!q) return -1;
    free(*p);
    *p = q;
    *cap = c;
    return 0;
}

int af__coverage_fragments(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, double *area_total,
                           af_error *err)
{
    int rc = AF_OK;
    af_cov_frags *a = &ws->fr;
    a->n = 0;
    a->oom = 0;
    a->c0 = a->r0 = a->nc = a->nr = 0;
    AF_CHECK_ARG(g != NULL && p != NULL);
    AF_CHECK(af_grid_validate(g, err));
    if (p->nrings == 0 || p->rings == NULL) AF_FAIL(AF_EINVAL, "polygon has no rings");

    /* grid coordinates of every vertex */
    size_t nv = 0;
    for (size_t i = 0; i < p->nrings; i++) {
        if (p->rings[i].n < 3 || p->rings[i].xy == NULL)
            AF_FAIL(AF_EINVAL, "ring %zu has %zu vertices, need at least 3", i, p->rings[i].n);
        nv += p->rings[i].n;
    }
    if (af__coverage_reserve((void **)&ws->uv, &ws->uv_cap, 2 * nv, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->start, &ws->start_cap, p->nrings + 1, sizeof(size_t)) ||
        af__coverage_reserve((void **)&ws->area2, &ws->area2_cap, p->nrings, sizeof(double)))
        AF_FAIL(AF_ENOMEM, "out of memory for %zu vertices", nv);
    double *uv = ws->uv, *area2 = ws->area2;
    size_t *start = ws->start;
    double top = af__grid_top(g);
    double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    size_t off = 0;
    for (size_t i = 0; i < p->nrings; i++) {
        start[i] = off;
        for (size_t j = 0; j < p->rings[i].n; j++, off++) {
            double x = p->rings[i].xy[2 * j], y = p->rings[i].xy[2 * j + 1];
            if (!isfinite(x) || !isfinite(y))
                AF_FAIL(AF_EINVAL, "ring %zu vertex %zu (%g, %g) is not finite", i, j, x, y);
            double u = snap((x - g->x0) / g->dx), v = snap((top - y) / g->dy);
            uv[2 * off] = u;
            uv[2 * off + 1] = v;
            umin = fmin(umin, u); umax = fmax(umax, u);
            vmin = fmin(vmin, v); vmax = fmax(vmax, v);
        }
    }
    start[p->nrings] = off;

    /* twice each ring's signed area (its orientation) and the polygon area */
    double total = 0;
    for (size_t i = 0; i < p->nrings; i++) {
        const double *r = uv + 2 * start[i];
        size_t n = start[i + 1] - start[i];
        double s2 = 0;
        for (size_t j = 0; j < n; j++) {
            size_t k = (j + 1) % n;
            s2 += (r[2 * j] - r[0]) * (r[2 * k + 1] - r[1]) - (r[2 * k] - r[0]) * (r[2 * j + 1] - r[1]);
        }
        area2[i] = s2;
        total += (p->rings[i].hole ? -0.5 : 0.5) * fabs(s2);
    }
    double bbox_area = (umax - umin) * (vmax - vmin);
    if (!(total > 1e-12 * bbox_area) || !(total > 0))
        AF_FAIL(AF_EINVAL, "polygon has zero or negative area (%g grid cells; bbox %g)", total,
                bbox_area);
    *area_total = total * g->dx * g->dy;

    /* window: bounding box clipped to the grid, canonical rows; then every edge's fragments */
    double fc0 = fmax(0.0, floor(umin)), fc1 = fmin((double)g->nx, ceil(umax));
    double fr0 = fmax(0.0, floor(vmin)), fr1 = fmin((double)g->ny, ceil(vmax));
    if (!(fc1 > fc0 && fr1 > fr0)) goto cleanup;
    a->c0 = (long)fc0;
    a->nc = (long)fc1 - a->c0;
    a->r0 = (long)fr0;
    a->nr = (long)fr1 - a->r0;
    for (size_t i = 0; i < p->nrings; i++) {
        const double *r = uv + 2 * start[i];
        size_t n = start[i + 1] - start[i];
        if (area2[i] == 0) continue;
        double s = (area2[i] > 0 ? 1.0 : -1.0) * (p->rings[i].hole ? -1.0 : 1.0);
        for (size_t j = 0; j < n; j++) {
            size_t k = (j + 1) % n;
            add_edge(a, s, r[2 * j], r[2 * j + 1], r[2 * k], r[2 * k + 1]);
        }
    }
    if (a->oom) AF_FAIL(AF_ENOMEM, "out of memory for %zu edge fragments", a->n);
cleanup:
    return rc;
}

/* o[c] = run[c] clamped to 1, 0 at or below 1e-12 (the interior and outside cells of a row); in blocks
 * of 8 the compiler vectorises. */
static void clamp_row(double *restrict o, const double *restrict run, size_t n)
{
    size_t c = 0;
    for (; c + 8 <= n; c += 8)
        for (int j = 0; j < 8; j++) {
            double f = run[c + (size_t)j];
            f = f > 1 ? 1 : f;
            o[c + (size_t)j] = f > 1e-12 ? f : 0;
        }
    for (; c < n; c++) {
        double f = run[c];
        f = f > 1 ? 1 : f;
        o[c] = f > 1e-12 ? f : 0;
    }
}

int af__coverage_bucket_rows(af_coverage_ws *ws)
{
    af_cov_frags *a = &ws->fr;
    size_t nb = (size_t)a->nr + 2;
    if (af__coverage_reserve((void **)&ws->bucket, &ws->bucket_cap, nb, sizeof(size_t)) ||
        af__coverage_reserve((void **)&ws->sorted, &ws->sorted_cap, a->n ? a->n : 1, sizeof(af_cov_frag)))
        return -1;
    size_t *b = ws->bucket;
    memset(b, 0, nb * sizeof *b);
    for (size_t i = 0; i < a->n; i++) b[a->f[i].k + 1]++;
    for (size_t k = 1; k < nb; k++) b[k] += b[k - 1];
    for (size_t i = 0; i < a->n; i++) ws->sorted[b[a->f[i].k]++] = a->f[i];
    /* b[k] is now the end of bucket k; its start is b[k-1] (0 for k = 0) */
    return 0;
}

/* The row sweep. Without fn each row's fractions go into the dense window ws->frac; with fn into
 * one row buffer, handed to fn(user, storage row index in the window, fractions) once complete. */
static int sweep(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_dense *out,
                 af_coverage_row_fn fn, void *user, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(ws != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    AF_CHECK(af__coverage_fragments(ws, g, p, &out->area_total, err));
    const af_cov_frags *a = &ws->fr;
    if (a->nc == 0 || a->nr == 0) goto cleanup;
    size_t nc = (size_t)a->nc, nr = (size_t)a->nr;
    if (af__coverage_bucket_rows(ws) || af__coverage_reserve((void **)&ws->run, &ws->row_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->fillrow, &ws->fill_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->partrow, &ws->part_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->touched, &ws->touched_cap, nc, sizeof(long)) ||
        af__coverage_reserve((void **)&ws->mark, &ws->mark_cap, nc, 1) ||
        af__coverage_reserve((void **)&ws->frac, &ws->frac_cap, fn ? nc : nc * nr, sizeof(double)))
        AF_FAIL(AF_ENOMEM, "out of memory for a coverage window of %zu x %zu cells", nc, nr);
    double *run = ws->run, *fill = ws->fillrow, *part = ws->partrow;
    long *touched = ws->touched;
    unsigned char *mark = ws->mark;
    for (size_t c = 0; c < nc; c++) { run[c] = 0; fill[c] = 0; part[c] = 0; mark[c] = 0; }
    /* storage rows of the window: canonical r0..r0+nr-1 */
    long s0 = g->rows_up ? af__grid_flip_row(g, a->r0 + a->nr - 1) : a->r0;
    af_window win = { a->c0, s0, a->nc, a->nr };
    for (long r = a->nr - 1; r >= 0; r--) {
        size_t i0, i1, m = 0;
        /* run += fill of the row below (bucket r+1; bucket nr: below the window) */
        af__coverage_bucket_range(ws, r + 1, &i0, &i1);
        for (size_t i = i0; i < i1; i++) {
            long c = ws->sorted[i].col;
            fill[c] -= ws->sorted[i].full;
            if (!mark[c]) { mark[c] = 1; touched[m++] = c; }
        }
        for (size_t j = 0; j < m; j++) {
            long c = touched[j];
            run[c] += fill[c];
            fill[c] = 0;
            mark[c] = 0;
        }
        /* cell = partial terms of its own fragments + run (interior and outside cells: run alone) */
        long srow = af__grid_flip_row(g, a->r0 + r) - s0;
        double *o = fn ? ws->frac : ws->frac + (size_t)srow * nc;
        clamp_row(o, run, nc);
        af__coverage_bucket_range(ws, r, &i0, &i1);
        m = 0;
        for (size_t i = i0; i < i1; i++) {
            long c = ws->sorted[i].col;
            part[c] -= ws->sorted[i].part;
            if (!mark[c]) { mark[c] = 1; touched[m++] = c; }
        }
        for (size_t j = 0; j < m; j++) {
            long c = touched[j];
            double f = part[c] + run[c];
            f = f > 1 ? 1 : f;
            o[c] = f > 1e-12 ? f : 0;
            part[c] = 0;
            mark[c] = 0;
        }
        if (fn) fn(user, &win, srow, o);
    }
    out->window = win;
    out->frac = fn ? NULL : ws->frac;
cleanup:
    return rc;
}

int af_coverage_compute_dense(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_dense *out,
                              af_error *err)
{
    return sweep(ws, g, p, out, NULL, NULL, err);
}

int af_coverage_sweep_rows(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_row_fn fn,
                           void *user, af_coverage_dense *out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(fn != NULL);
    rc = sweep(ws, g, p, out, fn, user, err);
cleanup:
    return rc;
}

int af_coverage_compute(const af_grid *g, const af_polygon *p, af_coverage *out, af_error *err)
{
    int rc = AF_OK;
    af_coverage_ws *ws = NULL;
    af_coverage res;
    memset(&res, 0, sizeof res);
    AF_CHECK_ARG(g != NULL && p != NULL && out != NULL);
    AF_CHECK(af_coverage_ws_create(&ws, err));
    af_coverage_dense d;
    AF_CHECK(af_coverage_compute_dense(ws, g, p, &d, err));
    res.area_total = d.area_total;
    size_t cells = (size_t)d.window.ncols * (size_t)d.window.nrows, cnt = 0;
    for (size_t i = 0; i < cells; i++) cnt += d.frac[i] > 0;
    if (cnt > 0) {
        res.cell = malloc(sizeof(long) * cnt);
        res.frac = malloc(sizeof(double) * cnt);
        AF_CHECK_ALLOC(res.cell);
        AF_CHECK_ALLOC(res.frac);
    }
    long smin = g->ny, smax = -1, cmin = g->nx, cmax = -1;
    double inside = 0;
    for (long i = 0; i < d.window.nrows; i++) {
        long srow = d.window.row0 + i;
        const double *row = d.frac + (size_t)i * (size_t)d.window.ncols;
        for (long c = 0; c < d.window.ncols; c++) {
            if (row[c] <= 0) continue;
            long col = d.window.col0 + c;
            res.cell[res.n] = srow * g->nx + col;
            res.frac[res.n++] = row[c];
            inside += row[c];
            if (srow < smin) smin = srow;
            if (srow > smax) smax = srow;
            if (col < cmin) cmin = col;
            if (col > cmax) cmax = col;
        }
    }
    res.area_inside = inside * g->dx * g->dy;
    if (res.n > 0) {
        res.window.col0 = cmin;
        res.window.ncols = cmax - cmin + 1;
        res.window.row0 = smin;
        res.window.nrows = smax - smin + 1;
    }
    *out = res;
    memset(&res, 0, sizeof res);
cleanup:
    af_coverage_dispose(&res);
    af_coverage_ws_destroy(&ws);
    return rc;
}
