/* SPDX-License-Identifier: MIT */
/*
 * test_weights.c: weights (src/geo/weights.c), aggregation (aggregate.c) and
 * point sampling (grid.c): linear fields average to their value at the
 * centroid, nodata renormalisation, threshold, min/max/std against brute
 * force, serialisation round trip and corruption, windows, nearest/bilinear.
 */
#include <math.h>
#include <stdlib.h>

#include "af_test.h"
#include "agroflux/coverage.h"

static af_grid fine_grid(void)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 0;
    g.y0 = 2;
    g.dx = 0.01;
    g.dy = 0.01;
    g.nx = 200;
    g.ny = 200;
    return g;
}

/* centroid of one ring (shoelace), signed area out */
static void centroid(const double *xy, size_t n, double *cx, double *cy, double *area)
{
    double a = 0, sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = (i + 1) % n;
        double cr = xy[2 * i] * xy[2 * k + 1] - xy[2 * k] * xy[2 * i + 1];
        a += cr;
        sx += (xy[2 * i] + xy[2 * k]) * cr;
        sy += (xy[2 * i + 1] + xy[2 * k + 1]) * cr;
    }
    *area = a / 2;
    *cx = sx / (3 * a);
    *cy = sy / (3 * a);
}

static float *linear_field(const af_grid *g, af_window *win, double a, double b)
{
    float *v = malloc(sizeof(float) * (size_t)(win->ncols * win->nrows));
    for (long r = 0; r < win->nrows; r++)
        for (long c = 0; c < win->ncols; c++) {
            double ylo, yhi, x = g->x0 + (win->col0 + c + 0.5) * g->dx;
            af_grid_row_bounds(g, win->row0 + r, &ylo, &yhi);
            v[r * win->ncols + c] = (float)(a * x + b * 0.5 * (ylo + yhi));
        }
    return v;
}

static void test_geo_aggregate__linear_field(void)
{
    af_grid g = fine_grid();
    /* rectilinear on grid lines (exact) with a hole; then a general quadrilateral */
    double outer[] = { 0.3, 0.2, 1.5, 0.2, 1.5, 0.9, 0.8, 0.9, 0.8, 1.7, 0.3, 1.7 };
    double hole[] = { 0.4, 0.3, 0.4, 0.6, 0.7, 0.6, 0.7, 0.3 };
    double quad[] = { 0.213, 0.151, 1.817, 0.433, 1.502, 1.901, 0.377, 1.2 };
    af_ring rp[] = { { outer, 6, 0 }, { hole, 4, 1 } };
    af_ring rq = { quad, 4, 0 };
    af_polygon polys[] = { { rp, 2 }, { &rq, 1 } };
    af_weights *w = NULL;
    AF_TEST_PASS(af_weights_build(&g, polys, 2, NULL, &w, err));
    if (!w) return;
    af_window win;
    AF_TEST_PASS(af_weights_union_window(w, NULL, 0, &win, err));
    double a = 3.0, b = -2.0;
    float *v = linear_field(&g, &win, a, b);
    double mean[2], vf[2];
    af_aggregate_out out = { mean, vf, NULL, NULL, NULL };
    af_aggregate_opts o = AF_AGGREGATE_OPTS_INIT;
    AF_TEST_PASS(af_aggregate_apply(w, NULL, 2, v, 1, &win, &o, &out, err));
    double c1x, c1y, a1, c2x, c2y, a2, cx, cy;
    centroid(outer, 6, &c1x, &c1y, &a1);
    centroid(hole, 4, &c2x, &c2y, &a2);
    a1 = fabs(a1);
    a2 = fabs(a2);
    cx = (c1x * a1 - c2x * a2) / (a1 - a2);
    cy = (c1y * a1 - c2y * a2) / (a1 - a2);
    AF_EXPECT_NEAR(mean[0], a * cx + b * cy, 1e-5);
    AF_EXPECT_NEAR(vf[0], 1.0, 1e-15);
    AF_EXPECT_NEAR(af_weights_total(w, 0), a1 - a2, 1e-9);
    centroid(quad, 4, &cx, &cy, &a1);
    /* partial cells use their centre value: error bounded by boundary cells * dx */
    AF_EXPECT_NEAR(mean[1], a * cx + b * cy, 2e-3);
    free(v);
    af_weights_destroy(&w);
    af_weights_destroy(&w);
}

/* 4x4 grid, one polygon covering cells partially, external weights */
static void test_geo_aggregate__nodata_threshold_stats(void)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 10;
    g.y0 = 50;
    g.dx = 1;
    g.dy = 1;
    g.nx = 4;
    g.ny = 4;
    g.geographic = 1;
    double poly[] = { 10.5, 46.2, 13.7, 46.5, 13.2, 49.9, 10.1, 49.5 };
    af_ring r = { poly, 4, 0 };
    af_polygon p = { &r, 1 };
    double cw[16];
    for (int j = 0; j < 16; j++) cw[j] = (j % 5) * 0.25;
    cw[6] = NAN;
    af_weights *w = NULL;
    AF_TEST_PASS(af_weights_build(&g, &p, 1, cw, &w, err));
    if (!w) return;
    size_t n;
    const long *cell;
    const double *frac, *wt;
    af_weights_row_ref(w, 0, &n, &cell, &frac, &wt);
    AF_EXPECT(n == 16);
    for (size_t k = 0; k < n; k++) {
        double c = isnan(cw[cell[k]]) ? 0 : cw[cell[k]];
        AF_EXPECT_NEAR(wt[k], frac[k] * af_grid_cell_area(&g, cell[k] / 4) * c, 1e-6);
    }
    enum { NT = 3 };
    float v[NT * 16];
    for (int i = 0; i < NT * 16; i++) v[i] = (float)((i * 37) % 11) - 3.0f;
    v[16 + 5] = NAN;
    v[16 + 9] = -999.0f;
    for (int j = 0; j < 16; j++) v[32 + j] = (j == 0 || j == 7) ? 1.0f : NAN;
    af_window win = { 0, 0, 4, 4 };
    double mean[NT], vf[NT], mn[NT], mx[NT], sd[NT];
    af_aggregate_out out = { mean, vf, mn, mx, sd };
    af_aggregate_opts o = AF_AGGREGATE_OPTS_INIT;
    o.has_nodata = 1;
    o.nodata = -999.0f;
    o.min_valid_fraction = 0.5;
    AF_TEST_PASS(af_aggregate_apply(w, NULL, 1, v, NT, &win, &o, &out, err));
    for (int t = 0; t < NT; t++) {
        double sw = 0, swv = 0, swx = 0, lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < n; k++) {
            float x = v[t * 16 + cell[k]];
            sw += wt[k];
            if (isnan(x) || x == -999.0f) continue;
            swv += wt[k];
            swx += wt[k] * x;
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
        double m = swx / swv, ss = 0;
        for (size_t k = 0; k < n; k++) {
            float x = v[t * 16 + cell[k]];
            if (!(isnan(x) || x == -999.0f)) ss += wt[k] * (x - m) * (x - m);
        }
        AF_EXPECT_NEAR(vf[t], swv / sw, 1e-12);
        AF_EXPECT_NEAR(mn[t], lo, 0);
        AF_EXPECT_NEAR(mx[t], hi, 0);
        if (swv / sw >= 0.5) {
            AF_EXPECT_NEAR(mean[t], m, 1e-9);
            AF_EXPECT_NEAR(sd[t], sqrt(ss / swv), 1e-9);
        } else {
            AF_EXPECT(isnan(mean[t]) && isnan(sd[t]));
        }
    }
    AF_EXPECT(vf[1] < 1 && vf[1] > 0.5 && !isnan(mean[1]));
    AF_EXPECT(vf[2] < 0.5 && isnan(mean[2]));
    /* window that misses cells; bad index; bad opts */
    af_window small = { 1, 1, 3, 3 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "outside window",
                       af_aggregate_apply(w, NULL, 1, v, 1, &small, &o, &out, err));
    size_t bad = 3;
    AF_TEST_FAILS_WITH(AF_EINVAL, "polygon index",
                       af_aggregate_apply(w, &bad, 1, v, 1, &win, &o, &out, err));
    o.min_valid_fraction = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "min_valid_fraction",
                       af_aggregate_apply(w, NULL, 1, v, 1, &win, &o, &out, err));
    cw[3] = -1;
    af_weights *w2 = NULL;
    AF_TEST_FAILS_WITH(AF_EINVAL, "cell_weight[3]", af_weights_build(&g, &p, 1, cw, &w2, err));
    AF_EXPECT(w2 == NULL);
    af_weights_destroy(&w);
}

static void test_geo_weights__serialize_windows(void)
{
    af_grid g = fine_grid();
    g.rows_up = 1;
    g.y0 = 0;
    double p1[] = { 0.05, 0.05, 0.33, 0.07, 0.2, 0.4 };
    double p2[] = { 1.2, 1.3, 1.9, 1.3, 1.9, 2.5, 1.2, 2.5 };
    double p3[] = { 5, 5, 6, 5, 6, 6 }; /* outside */
    af_ring rr[] = { { p1, 3, 0 }, { p2, 4, 0 }, { p3, 3, 0 } };
    af_polygon polys[] = { { &rr[0], 1 }, { &rr[1], 1 }, { &rr[2], 1 } };
    af_weights *w = NULL, *w2 = NULL;
    unsigned char *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    AF_TEST_PASS(af_weights_build(&g, polys, 3, NULL, &w, err));
    if (!w) return;
    af_window a = af_weights_window(w, 0), b = af_weights_window(w, 1), c = af_weights_window(w, 2);
    AF_EXPECT(a.col0 == 5 && a.ncols == 28 && a.row0 == 5 && a.nrows == 35);
    AF_EXPECT(b.col0 == 120 && b.ncols == 70 && b.row0 == 130 && b.nrows == 70);
    AF_EXPECT(c.ncols == 0 && af_weights_area_inside(w, 2) == 0);
    AF_EXPECT_NEAR(af_weights_area_inside(w, 1) / af_weights_area_total(w, 1), 0.7 / 1.2, 1e-12);
    af_window u;
    size_t sel[] = { 2, 0 };
    AF_TEST_PASS(af_weights_union_window(w, sel, 2, &u, err));
    AF_EXPECT(u.col0 == a.col0 && u.ncols == a.ncols && u.row0 == a.row0 && u.nrows == a.nrows);
    AF_TEST_PASS(af_weights_union_window(w, NULL, 0, &u, err));
    AF_EXPECT(u.col0 == 5 && u.ncols == 185 && u.row0 == 5 && u.nrows == 195);
    size_t badsel[] = { 7 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "7", af_weights_union_window(w, badsel, 1, &u, err));

    AF_TEST_PASS(af_weights_serialize(w, &buf, &len, err));
    AF_TEST_PASS(af_weights_deserialize(buf, len, &w2, err));
    if (!w2) goto done;
    AF_TEST_PASS(af_weights_serialize(w2, &buf2, &len2, err));
    AF_EXPECT(len == len2 && memcmp(buf, buf2, len) == 0);
    AF_EXPECT(af_weights_nnz(w2) == af_weights_nnz(w) && af_weights_npoly(w2) == 3);
    AF_EXPECT(af_weights_grid_ref(w2)->rows_up == 1);
    AF_EXPECT(af_weights_total(w2, 1) == af_weights_total(w, 1));
    b = af_weights_window(w2, 1);
    AF_EXPECT(b.col0 == 120 && b.ncols == 70 && b.row0 == 130 && b.nrows == 70);
    af_weights_destroy(&w2);
    buf[200] ^= 1;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "checksum", af_weights_deserialize(buf, len, &w2, err));
    buf[200] ^= 1;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "bytes", af_weights_deserialize(buf, 50, &w2, err));
    buf[8] = 9;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "version", af_weights_deserialize(buf, len, &w2, err));
    AF_EXPECT(w2 == NULL);
    /* cache key: deterministic, sensitive to the inputs */
    char k1[65], k2[65], k3[65];
    AF_TEST_PASS(af_weights_key(&g, polys, 3, NULL, k1, err));
    AF_TEST_PASS(af_weights_key(&g, polys, 3, NULL, k2, err));
    p1[0] = 0.0500001;
    AF_TEST_PASS(af_weights_key(&g, polys, 3, NULL, k3, err));
    AF_EXPECT(strcmp(k1, k2) == 0 && strcmp(k1, k3) != 0 && strlen(k1) == 64);
    /* error of one polygon names it */
    double line[] = { 0, 0, 1, 1, 2, 2 };
    af_ring rl = { line, 3, 0 };
    af_polygon pl[] = { polys[0], { &rl, 1 } };
    AF_TEST_FAILS_WITH(AF_EINVAL, "polygon 1:", af_weights_build(&g, pl, 2, NULL, &w2, err));
done:
    free(buf);
    free(buf2);
    af_weights_destroy(&w);
    af_weights_destroy(&w2);
}

static void test_geo_sample__nearest_bilinear(void)
{
    af_grid g = AF_GRID_INIT; /* 3x3, cells 10 wide, north-up, top at 30 */
    g.x0 = 0;
    g.y0 = 30;
    g.dx = 10;
    g.dy = 10;
    g.nx = 3;
    g.ny = 3;
    float v[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    af_window win = { 0, 0, 3, 3 };
    AF_EXPECT(af_grid_sample_point(&g, v, &win, NULL, 12, 27, AF_GRID_NEAREST) == 2);
    AF_EXPECT(af_grid_sample_point(&g, v, &win, NULL, 29.9, 0.1, AF_GRID_NEAREST) == 9);
    AF_EXPECT(af_grid_sample_point(&g, v, &win, NULL, 30, 0, AF_GRID_NEAREST) == 9);
    AF_EXPECT(isnan(af_grid_sample_point(&g, v, &win, NULL, 31, 5, AF_GRID_NEAREST)));
    /* centres at x = 5, 15, 25; y = 25, 15, 5. (10, 20): mean of 1, 2, 4, 5 */
    AF_EXPECT_NEAR(af_grid_sample_point(&g, v, &win, NULL, 10, 20, AF_GRID_BILINEAR), 3.0, 1e-12);
    /* (7.5, 22.5): weights .75*.75 (1), .25*.75 (2), .75*.25 (4), .25*.25 (5) */
    AF_EXPECT_NEAR(af_grid_sample_point(&g, v, &win, NULL, 7.5, 22.5, AF_GRID_BILINEAR),
                   0.5625 * 1 + 0.1875 * 2 + 0.1875 * 4 + 0.0625 * 5, 1e-12);
    /* nodata neighbour (5) renormalised out */
    float nd = 5;
    AF_EXPECT_NEAR(af_grid_sample_point(&g, v, &win, &nd, 7.5, 22.5, AF_GRID_BILINEAR),
                   (0.5625 * 1 + 0.1875 * 2 + 0.1875 * 4) / 0.9375, 1e-12);
    /* corner outside the centres: only the corner cell */
    AF_EXPECT_NEAR(af_grid_sample_point(&g, v, &win, NULL, 1, 29, AF_GRID_BILINEAR), 1.0, 1e-12);
    /* window offset: a 2x2 window at col 1, row 1 holds 5 6 / 8 9 */
    float wv[4] = { 5, 6, 8, 9 };
    af_window w2 = { 1, 1, 2, 2 };
    AF_EXPECT(af_grid_sample_point(&g, wv, &w2, NULL, 25, 5, AF_GRID_NEAREST) == 9);
    AF_EXPECT(isnan(af_grid_sample_point(&g, wv, &w2, NULL, 5, 5, AF_GRID_NEAREST)));
    AF_EXPECT_NEAR(af_grid_sample_point(&g, wv, &w2, NULL, 20, 10, AF_GRID_BILINEAR), 7.0, 1e-12);
    /* rows up: storage row 0 is the bottom (y 0..10) */
    g.rows_up = 1;
    g.y0 = 0;
    AF_EXPECT(af_grid_sample_point(&g, v, &win, NULL, 12, 27, AF_GRID_NEAREST) == 8);
    AF_EXPECT(af_grid_sample_point(&g, v, &win, NULL, 12, 3, AF_GRID_NEAREST) == 2);
    AF_EXPECT_NEAR(af_grid_sample_point(&g, v, &win, NULL, 7.5, 7.5, AF_GRID_BILINEAR),
                   0.5625 * 1 + 0.1875 * 2 + 0.1875 * 4 + 0.0625 * 5, 1e-12);
}

int main(void)
{
    AF_RUN(test_geo_aggregate__linear_field);
    AF_RUN(test_geo_aggregate__nodata_threshold_stats);
    AF_RUN(test_geo_weights__serialize_windows);
    AF_RUN(test_geo_sample__nearest_bilinear);
    return AF_TEST_END();
}
