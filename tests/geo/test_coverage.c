/* SPDX-License-Identifier: MIT */
/*
 * test_coverage.c: exact coverage (src/geo/coverage.c) against GEOS, the
 * independent reference used only here: every cell's fraction equals the GEOS
 * intersection area / cell area within 1e-9, and the covered area equals GEOS
 * polygon ∩ grid extent. Also ellipsoidal cell areas (grid.c, cellarea.c)
 * against the WGS84 total and a numerical integration.
 */
#include <geos_c.h>
#include <math.h>
#include <stdlib.h>

#include "af_test.h"
#include "agroflux/coverage.h"

static GEOSContextHandle_t gh;

static GEOSGeometry *ring_geos(const af_ring *r)
{
    size_t n = r->n;
    int closed = r->xy[0] == r->xy[2 * (n - 1)] && r->xy[1] == r->xy[2 * (n - 1) + 1];
    size_t m = closed ? n : n + 1;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(gh, (unsigned)m, 2);
    for (size_t i = 0; i < m; i++) {
        size_t k = i % n;
        GEOSCoordSeq_setXY_r(gh, cs, (unsigned)i, r->xy[2 * k], r->xy[2 * k + 1]);
    }
    return GEOSGeom_createLinearRing_r(gh, cs);
}

/* rings: each outer ring followed by its holes */
static GEOSGeometry *poly_geos(const af_polygon *p)
{
    GEOSGeometry *parts[64];
    unsigned np = 0;
    for (size_t i = 0; i < p->nrings;) {
        GEOSGeometry *shell = ring_geos(&p->rings[i]);
        GEOSGeometry *holes[64];
        unsigned nh = 0;
        for (i++; i < p->nrings && p->rings[i].hole; i++) holes[nh++] = ring_geos(&p->rings[i]);
        parts[np++] = GEOSGeom_createPolygon_r(gh, shell, holes, nh);
    }
    return GEOSGeom_createCollection_r(gh, GEOS_MULTIPOLYGON, parts, np);
}

static double rect_area(GEOSGeometry *g, double x0, double y0, double x1, double y1)
{
    GEOSGeometry *r = GEOSGeom_createRectangle_r(gh, x0, y0, x1, y1);
    GEOSGeometry *i = GEOSIntersection_r(gh, g, r);
    double a = 0;
    GEOSArea_r(gh, i, &a);
    GEOSGeom_destroy_r(gh, i);
    GEOSGeom_destroy_r(gh, r);
    return a;
}

/* Compare every cell of the grid's window around p with GEOS. */
static void check_poly(const af_grid *g, const af_polygon *p)
{
    af_coverage cov;
    AF_TEST_PASS(af_coverage_compute(g, p, &cov, err));
    GEOSGeometry *gp = poly_geos(p);
    double atot = 0;
    GEOSArea_r(gh, gp, &atot);
    AF_EXPECT_NEAR(cov.area_total, atot, 1e-9 * atot);
    double top = g->rows_up ? g->y0 + g->ny * g->dy : g->y0;
    double inside = rect_area(gp, g->x0, top - g->ny * g->dy, g->x0 + g->nx * g->dx, top);
    AF_EXPECT_NEAR(cov.area_inside, inside, 1e-9 * (atot > 1 ? atot : 1));
    double sum = 0;
    for (size_t k = 0; k < cov.n; k++) sum += cov.frac[k] * g->dx * g->dy;
    AF_EXPECT_NEAR(sum, inside, 1e-9 * (atot > 1 ? atot : 1));
    const GEOSGeometry *env = GEOSEnvelope_r(gh, gp);
    double bx0, by0, bx1, by1;
    GEOSGeom_getXMin_r(gh, env, &bx0);
    GEOSGeom_getYMin_r(gh, env, &by0);
    GEOSGeom_getXMax_r(gh, env, &bx1);
    GEOSGeom_getYMax_r(gh, env, &by1);
    GEOSGeom_destroy_r(gh, (GEOSGeometry *)env);
    size_t k = 0;
    int bad = 0;
    for (long r = 0; r < g->ny; r++) {
        double ylo, yhi;
        af_grid_row_bounds(g, r, &ylo, &yhi);
        for (long c = 0; c < g->nx; c++) {
            long j = r * g->nx + c;
            double f = 0;
            while (k < cov.n && cov.cell[k] < j) k++;
            if (k < cov.n && cov.cell[k] == j) f = cov.frac[k];
            double xlo = g->x0 + c * g->dx, xhi = g->x0 + (c + 1) * g->dx;
            double ref = 0;
            if (xhi >= bx0 && xlo <= bx1 && yhi >= by0 && ylo <= by1)
                ref = rect_area(gp, xlo, ylo, xhi, yhi) / (g->dx * g->dy);
            if (fabs(f - ref) > 1e-9 && bad++ < 5)
                fprintf(stderr, "cell r=%ld c=%ld: frac %.15g, GEOS %.15g\n", r, c, f, ref);
        }
    }
    AF_EXPECT(bad == 0);
    if (k > 0) AF_EXPECT(k <= cov.n);
    /* cells ascending, fractions in (0, 1], window holds every cell */
    for (size_t i = 0; i < cov.n; i++) {
        AF_EXPECT(cov.frac[i] > 0 && cov.frac[i] <= 1);
        if (i) AF_EXPECT(cov.cell[i] > cov.cell[i - 1]);
        long r = cov.cell[i] / g->nx, c = cov.cell[i] % g->nx;
        AF_EXPECT(r >= cov.window.row0 && r < cov.window.row0 + cov.window.nrows);
        AF_EXPECT(c >= cov.window.col0 && c < cov.window.col0 + cov.window.ncols);
    }
    GEOSGeom_destroy_r(gh, gp);
    af_coverage_dispose(&cov);
}

static af_grid grid10(void)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 0;
    g.y0 = 1.0;
    g.dx = 0.1;
    g.dy = 0.1;
    g.nx = 10;
    g.ny = 10;
    return g;
}

static void test_geo_coverage__square_on_lines(void)
{
    af_grid g = grid10();
    double sq[] = { 0.2, 0.3, 0.7, 0.3, 0.7, 0.8, 0.2, 0.8 };
    af_ring r = { sq, 4, 0 };
    af_polygon p = { &r, 1 };
    check_poly(&g, &p);
    af_coverage cov;
    AF_TEST_PASS(af_coverage_compute(&g, &p, &cov, err));
    AF_EXPECT(cov.n == 25);
    for (size_t i = 0; i < cov.n; i++) AF_EXPECT_NEAR(cov.frac[i], 1.0, 1e-12);
    AF_EXPECT(cov.window.col0 == 2 && cov.window.ncols == 5 && cov.window.row0 == 2 &&
              cov.window.nrows == 5);
    af_coverage_dispose(&cov);
    af_coverage_dispose(&cov); /* idempotent */
}

static void test_geo_coverage__concave_hole_multi(void)
{
    af_grid g = grid10();
    double star[20];
    for (int i = 0; i < 10; i++) {
        double a = i * 0.6283185307179586, rad = (i % 2) ? 0.12 : 0.3;
        star[2 * i] = 0.45 + rad * cos(a);
        star[2 * i + 1] = 0.5 + rad * sin(a);
    }
    af_ring r1 = { star, 10, 0 };
    af_polygon p1 = { &r1, 1 };
    check_poly(&g, &p1);
    /* L shape clockwise, with a hole, plus a second part with vertices on grid lines */
    double L[] = { 0.05, 0.05, 0.05, 0.63, 0.21, 0.63, 0.21, 0.22, 0.55, 0.22, 0.55, 0.05 };
    double hole[] = { 0.08, 0.1, 0.18, 0.1, 0.18, 0.5, 0.08, 0.5 };
    double part2[] = { 0.6, 0.6, 0.9, 0.6, 0.9, 0.9, 0.75, 0.95, 0.6, 0.9, 0.6, 0.6 };
    af_ring rs[] = { { L, 6, 0 }, { hole, 4, 1 }, { part2, 6, 0 } };
    af_polygon p2 = { rs, 3 };
    check_poly(&g, &p2);
}

static void test_geo_coverage__partly_outside_and_rows_up(void)
{
    af_grid g = grid10();
    double tri[] = { -0.35, 0.5, 0.42, 1.37, 0.43, 0.11 };
    af_ring r = { tri, 3, 0 };
    af_polygon p = { &r, 1 };
    check_poly(&g, &p);
    g.rows_up = 1;
    g.y0 = 0.0;
    check_poly(&g, &p);
    /* a polygon larger than the whole grid: every cell is 1 */
    double big[] = { -5, -5, 5, -5, 5, 5, -5, 5 };
    af_ring rb = { big, 4, 0 };
    af_polygon pb = { &rb, 1 };
    check_poly(&g, &pb);
    /* wholly outside: no cells, not an error */
    double far[] = { 3, 3, 4, 3, 4, 4 };
    af_ring rf = { far, 3, 0 };
    af_polygon pf = { &rf, 1 };
    af_coverage cov;
    AF_TEST_PASS(af_coverage_compute(&g, &pf, &cov, err));
    AF_EXPECT(cov.n == 0 && cov.area_inside == 0 && cov.window.ncols == 0);
    af_coverage_dispose(&cov);
    /* tiny polygon inside one cell, closing vertex repeated */
    double tiny[] = { 0.512, 0.515, 0.513, 0.515, 0.513, 0.5151, 0.512, 0.515 };
    af_ring rt = { tiny, 4, 0 };
    af_polygon pt = { &rt, 1 };
    check_poly(&g, &pt);
}

static void test_geo_coverage__random(void)
{
    srand(12345);
    for (int trial = 0; trial < 40; trial++) {
        af_grid g = AF_GRID_INIT;
        g.x0 = -100.0 + (rand() % 100) * 0.01;
        g.y0 = 45.0;
        g.dx = 0.04 + 0.01 * (trial % 3);
        g.dy = trial % 2 ? g.dx : 0.037;
        g.nx = 30;
        g.ny = 25;
        g.rows_up = trial % 4 == 3;
        if (g.rows_up) g.y0 = 45.0 - g.ny * g.dy;
        int n = 5 + rand() % 60;
        double xy[2 * 70];
        double cx = g.x0 + 0.3 + 0.9 * rand() / RAND_MAX, cy = 45.0 - 0.2 - 0.8 * rand() / RAND_MAX;
        for (int i = 0; i < n; i++) {
            double a = 6.283185307179586 * i / n, rad = 0.05 + 0.6 * rand() / RAND_MAX;
            xy[2 * i] = cx + rad * cos(a);
            xy[2 * i + 1] = cy + rad * sin(a);
            if (rand() % 3 == 0 && fabs(cos(a)) > 0.2) { /* move along the ray onto a grid line */
                double xl = g.x0 + lround((xy[2 * i] - g.x0) / g.dx) * g.dx;
                double r2 = (xl - cx) / cos(a);
                if (r2 > 0.01) {
                    xy[2 * i] = xl;
                    xy[2 * i + 1] = cy + r2 * sin(a);
                }
            }
        }
        af_ring r = { xy, (size_t)n, 0 };
        af_polygon p = { &r, 1 };
        check_poly(&g, &p);
    }
}

static void test_geo_coverage__errors(void)
{
    af_grid g = grid10();
    double line[] = { 0.1, 0.1, 0.5, 0.5, 0.9, 0.9 };
    af_ring r = { line, 3, 0 };
    af_polygon p = { &r, 1 };
    af_coverage cov;
    AF_TEST_FAILS_WITH(AF_EINVAL, "zero", af_coverage_compute(&g, &p, &cov, err));
    r.n = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "at least 3", af_coverage_compute(&g, &p, &cov, err));
    double nanxy[] = { 0.1, 0.1, NAN, 0.5, 0.9, 0.2 };
    af_ring rn = { nanxy, 3, 0 };
    af_polygon pn = { &rn, 1 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "not finite", af_coverage_compute(&g, &pn, &cov, err));
    double sq[] = { 0.2, 0.2, 0.4, 0.2, 0.4, 0.4 };
    af_ring rh[] = { { sq, 3, 0 }, { sq, 3, 1 } };
    af_polygon ph = { rh, 2 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "zero", af_coverage_compute(&g, &ph, &cov, err));
    g.dx = -1;
    AF_TEST_FAILS_WITH(AF_EINVAL, "dx", af_coverage_compute(&g, &ph, &cov, err));
    double gt[6] = { 0, 0.5, 0.1, 0, 0, -0.5 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "rotated", af_grid_from_geotransform(gt, 4, 4, 0, &g, err));
    gt[2] = 0;
    gt[5] = 0.5;
    AF_TEST_PASS(af_grid_from_geotransform(gt, 4, 4, 0, &g, err));
    AF_EXPECT(g.rows_up == 1 && g.dy == 0.5);
}

/* independent: integrate M(phi) N(phi) cos(phi) dphi by composite Simpson */
static double band_numeric(double a, double invf, double lat0, double lat1, double dlon)
{
    double f = 1 / invf, e2 = f * (2 - f), p0 = lat0 * M_PI / 180, p1 = lat1 * M_PI / 180;
    int n = 2000;
    double h = (p1 - p0) / n, s = 0;
    for (int i = 0; i <= n; i++) {
        double ph = p0 + i * h, w = sin(ph), q = 1 - e2 * w * w;
        double val = a * a * (1 - e2) / (q * q) * cos(ph);
        s += val * ((i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2));
    }
    return s * h / 3 * dlon * M_PI / 180;
}

static void test_geo_cellarea__ellipsoid(void)
{
    af_grid g = AF_GRID_INIT;
    g.geographic = 1;
    g.x0 = -180;
    g.y0 = 90;
    g.dx = 1;
    g.dy = 1;
    g.nx = 360;
    g.ny = 180;
    double total = 0;
    for (long r = 0; r < g.ny; r++) total += af_grid_cell_area(&g, r) * g.nx;
    AF_EXPECT_NEAR(total / 5.10065621724e14, 1.0, 1e-6);
    double rq = af_grid_authalic_radius(&g);
    AF_EXPECT_NEAR(4 * M_PI * rq * rq / total, 1.0, 1e-12);
    /* one row: lat 40..41 (row 49 north-up) */
    AF_EXPECT_NEAR(af_grid_cell_area(&g, 49) / band_numeric(AF_WGS84_A, AF_WGS84_INV_F, 40, 41, 1),
                   1.0, 1e-10);
    /* a 4 km-ish band near the pole and a south-up grid */
    g.rows_up = 1;
    g.y0 = -90;
    g.dy = 0.04;
    g.dx = 0.04;
    g.ny = 4500;
    AF_EXPECT_NEAR(af_grid_cell_area(&g, 4499) /
                       band_numeric(AF_WGS84_A, AF_WGS84_INV_F, 89.96, 90, 0.04), 1.0, 1e-6);
    AF_EXPECT_NEAR(af_grid_cell_area(&g, 1000) /
                       band_numeric(AF_WGS84_A, AF_WGS84_INV_F, -50, -49.96, 0.04), 1.0, 1e-9);
    /* sphere */
    g.inv_flattening = 0;
    double s = 0;
    for (long r = 0; r < g.ny; r++) s += af_grid_cell_area(&g, r);
    AF_EXPECT_NEAR(s * 9000 / (4 * M_PI * AF_WGS84_A * AF_WGS84_A), 1.0, 1e-9);
    g.geographic = 0;
    AF_EXPECT(af_grid_cell_area(&g, 3) == 0.04 * 0.04);
}

int main(void)
{
    gh = GEOS_init_r();
    AF_RUN(test_geo_coverage__square_on_lines);
    AF_RUN(test_geo_coverage__concave_hole_multi);
    AF_RUN(test_geo_coverage__partly_outside_and_rows_up);
    AF_RUN(test_geo_coverage__random);
    AF_RUN(test_geo_coverage__errors);
    AF_RUN(test_geo_cellarea__ellipsoid);
    GEOS_finish_r(gh);
    return AF_TEST_END();
}
