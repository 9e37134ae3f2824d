/* SPDX-License-Identifier: MIT */
/*
 * coverage.c: implements af_coverage_compute of agroflux/coverage.h, exact
 * fractional coverage of a polygon over grid cells. Green's theorem per cell:
 * area(P ∩ [c,c+1]x[r,r+1]) = -∮ 1[c,c+1](u) F_r(v) du, F_r(v) = clamp(v,r,r+1)-r,
 * in grid units (u right, v down). Each edge is cut at integer u and v into
 * fragments that lie in one cell; a fragment adds its partial term to its cell
 * and a "full" term to every cell above it in the column, accumulated through a
 * difference array and one sweep per column. Cost O(vertices + boundary cells +
 * bounding-box cells). Not collective.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "geo_impl.h"

/* dense accumulators over the polygon's window, canonical rows */
typedef struct cov_acc {
    long c0, r0, nc, nr;
    double *part; /* [nc][nr]: partial terms of fragments in the cell */
    double *fill; /* [nc][nr+1]: fill[k] adds to every row < r0+k */
} cov_acc;

static double snap(double u)
{
    double n = nearbyint(u);
    return fabs(u - n) <= 1e-12 * fmax(1.0, fabs(u)) ? n : u;
}

static void add_fragment(cov_acc *a, double s, double pu, double pv, double qu, double qv)
{
    double du = qu - pu;
    if (du == 0) return;
    double mu = 0.5 * (pu + qu), mv = 0.5 * (pv + qv);
    long col = (long)floor(mu) - a->c0;
    if (col < 0) col = 0;
    if (col >= a->nc) col = a->nc - 1;
    double kf = floor(mv);
    if (kf < (double)a->r0) return;
    double *fill = a->fill + (size_t)col * (size_t)(a->nr + 1);
    if (kf >= (double)(a->r0 + a->nr)) {
        fill[a->nr] -= s * du;
        return;
    }
    long k = (long)kf - a->r0;
    a->part[(size_t)col * (size_t)a->nr + (size_t)k] -= s * du * (mv - kf);
    fill[k] -= s * du;
}

/* One edge (u1,v1)->(u2,v2) with ring factor s (+1 or -1). */
static void add_edge(cov_acc *a, double s, double u1, double v1, double u2, double v2)
{
    if (u1 == u2) return; /* vertical: no contribution */
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

int af_coverage_compute(const af_grid *g, const af_polygon *p, af_coverage *out, af_error *err)
{
    int rc = AF_OK;
    double *uv = NULL, *area2 = NULL;
    size_t *start = NULL;
    cov_acc a = { 0, 0, 0, 0, NULL, NULL };
    af_coverage res;
    memset(&res, 0, sizeof res);
    AF_CHECK_ARG(g != NULL && p != NULL && out != NULL);
    AF_CHECK(af_grid_validate(g, err));
    if (p->nrings == 0 || p->rings == NULL) AF_FAIL(AF_EINVAL, "polygon has no rings");

    /* grid coordinates of every vertex */
    size_t nv = 0;
    for (size_t i = 0; i < p->nrings; i++) {
        if (p->rings[i].n < 3 || p->rings[i].xy == NULL)
            AF_FAIL(AF_EINVAL, "ring %zu has %zu vertices, need at least 3", i, p->rings[i].n);
        nv += p->rings[i].n;
    }
    uv = malloc(sizeof(double) * 2 * nv);
    start = malloc(sizeof(size_t) * (p->nrings + 1));
    AF_CHECK_ALLOC(uv);
    AF_CHECK_ALLOC(start);
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
    area2 = malloc(sizeof(double) * p->nrings);
    AF_CHECK_ALLOC(area2);
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
    res.area_total = total * g->dx * g->dy;

    /* window: bounding box clipped to the grid, canonical rows */
    double fc0 = fmax(0.0, floor(umin)), fc1 = fmin((double)g->nx, ceil(umax));
    double fr0 = fmax(0.0, floor(vmin)), fr1 = fmin((double)g->ny, ceil(vmax));
    if (fc1 > fc0 && fr1 > fr0) {
        a.c0 = (long)fc0;
        a.nc = (long)fc1 - a.c0;
        a.r0 = (long)fr0;
        a.nr = (long)fr1 - a.r0;
        a.part = calloc((size_t)a.nc * (size_t)a.nr, sizeof(double));
        a.fill = calloc((size_t)a.nc * (size_t)(a.nr + 1), sizeof(double));
        AF_CHECK_ALLOC(a.part);
        AF_CHECK_ALLOC(a.fill);
        for (size_t i = 0; i < p->nrings; i++) {
            const double *r = uv + 2 * start[i];
            size_t n = start[i + 1] - start[i];
            if (area2[i] == 0) continue;
            double s = (area2[i] > 0 ? 1.0 : -1.0) * (p->rings[i].hole ? -1.0 : 1.0);
            for (size_t j = 0; j < n; j++) {
                size_t k = (j + 1) % n;
                add_edge(&a, s, r[2 * j], r[2 * j + 1], r[2 * k], r[2 * k + 1]);
            }
        }
        /* column sweeps: cell = partial + sum of fills of the fragments below it */
        size_t cnt = 0;
        for (long c = 0; c < a.nc; c++) {
            double run = 0, *part = a.part + (size_t)c * (size_t)a.nr;
            const double *fill = a.fill + (size_t)c * (size_t)(a.nr + 1);
            for (long r = a.nr - 1; r >= 0; r--) {
                run += fill[r + 1];
                double f = part[r] + run;
                f = f > 1 ? 1 : f;
                part[r] = f > 1e-12 ? f : 0;
                cnt += part[r] > 0;
            }
        }
        if (cnt > 0) {
            res.cell = malloc(sizeof(long) * cnt);
            res.frac = malloc(sizeof(double) * cnt);
            AF_CHECK_ALLOC(res.cell);
            AF_CHECK_ALLOC(res.frac);
        }
        long smin = g->ny, smax = -1, cmin = g->nx, cmax = -1;
        double inside = 0;
        for (long i = 0; i < a.nr; i++) {
            long r = g->rows_up ? a.nr - 1 - i : i; /* storage order */
            long srow = af__grid_flip_row(g, a.r0 + r);
            for (long c = 0; c < a.nc; c++) {
                double f = a.part[(size_t)c * (size_t)a.nr + (size_t)r];
                if (f <= 0) continue;
                long col = a.c0 + c;
                res.cell[res.n] = srow * g->nx + col;
                res.frac[res.n++] = f;
                inside += f;
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
    }
    *out = res;
    memset(&res, 0, sizeof res);
cleanup:
    af_coverage_dispose(&res);
    free(a.part);
    free(a.fill);
    free(start);
    free(uv);
    free(area2);
    return rc;
}
