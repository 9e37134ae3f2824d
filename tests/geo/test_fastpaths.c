/* SPDX-License-Identifier: MIT */
/*
 * test_fastpaths.c: the fast paths of src/geo against straightforward
 * references written here. (1) Coverage: the row sweep of
 * af_coverage_compute_dense (and af_coverage_compute, built on it) against the
 * former accumulation of the same edge fragments into column arrays with one
 * sweep per column, on random polygons with holes and multipolygons, grids
 * north-up and south-up, partly outside: every cell must agree to 1e-12 (the
 * sums are the same, so they agree bit for bit, which is asserted too); a
 * reused workspace gives what a fresh one gives. (2) Aggregation: the chunked,
 * four-days-at-a-time af_aggregator_days and the 16-bit af_aggregator_days_u16
 * (lookup table, rows reversed) against a plain loop over each polygon's CSR
 * row per day (same sums in the same order: identical bits), with NaN and
 * nodata cells, min, max and std.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/coverage.h"
#include "geo_impl.h"

static uint64_t rng = 88172645463325252ull;

static double urand(void) /* [0, 1) */
{
    return (double)(af_test_xorshift(&rng) >> 11) / 9007199254740992.0;
}

/* ----------------------------------------------------------- coverage */

/* The former accumulation: part[nc][nr] and fill[nc][nr+1] over the window, one sweep per column,
 * cells listed in storage order. Returns the dense window [nr][nc] in storage rows. */
static double *reference_dense(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_window *win,
                               double *inside)
{
    double atot;
    af_error e = AF_ERROR_INIT;
    if (af__coverage_fragments(ws, g, p, &atot, &e) != AF_OK) return NULL;
    const af_cov_frags *a = &ws->fr;
    size_t nc = (size_t)a->nc, nr = (size_t)a->nr;
    double *part = calloc(nc * nr + 1, sizeof *part), *fill = calloc(nc * (nr + 1) + 1, sizeof *fill);
    double *out = calloc(nc * nr + 1, sizeof *out);
    for (size_t i = 0; i < a->n; i++) {
        const af_cov_frag *f = &a->f[i];
        fill[(size_t)f->col * (nr + 1) + (size_t)f->k] -= f->full;
        if ((size_t)f->k < nr) part[(size_t)f->col * nr + (size_t)f->k] -= f->part;
    }
    for (size_t c = 0; c < nc; c++) {
        double run = 0;
        for (long r = (long)nr - 1; r >= 0; r--) {
            run += fill[c * (nr + 1) + (size_t)r + 1];
            double f = part[c * nr + (size_t)r] + run;
            f = f > 1 ? 1 : f;
            part[c * nr + (size_t)r] = f > 1e-12 ? f : 0;
        }
    }
    long s0 = g->rows_up ? g->ny - a->r0 - a->nr : a->r0;
    *inside = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t r = g->rows_up ? nr - 1 - i : i; /* storage order */
        for (size_t c = 0; c < nc; c++) {
            out[i * nc + c] = part[c * nr + r];
            if (out[i * nc + c] > 0) *inside += out[i * nc + c];
        }
    }
    *win = (af_window){ a->c0, s0, a->nc, a->nr };
    free(part);
    free(fill);
    return out;
}

/* A star-shaped ring around (cx, cy), radii in [r0, r1], n vertices, some moved onto grid lines. */
static void star(const af_grid *g, double cx, double cy, double r0, double r1, int n, double *xy)
{
    for (int i = 0; i < n; i++) {
        double a = 6.283185307179586 * i / n, rad = r0 + (r1 - r0) * urand();
        xy[2 * i] = cx + rad * cos(a);
        xy[2 * i + 1] = cy + rad * sin(a);
        if (urand() < 0.25) xy[2 * i] = g->x0 + (double)lround((xy[2 * i] - g->x0) / g->dx) * g->dx;
        if (urand() < 0.25) xy[2 * i + 1] = g->y0 + (double)lround((xy[2 * i + 1] - g->y0) / g->dy) * g->dy;
    }
}

/* af_coverage_sweep_rows' rows collected: copies into frac, visiting order in order[]. */
typedef struct rows_seen {
    double *frac;
    long *order, n, cap, ncols, bad_window;
    af_window win;
} rows_seen;

static void collect_row(void *user, const af_window *win, long row, const double *frac)
{
    rows_seen *r = user;
    if (win->col0 != r->win.col0 || win->row0 != r->win.row0 || win->ncols != r->ncols || row < 0 ||
        row >= win->nrows || r->n >= r->cap) {
        r->bad_window++;
        return;
    }
    memcpy(r->frac + (size_t)row * (size_t)r->ncols, frac, (size_t)r->ncols * sizeof *frac);
    r->order[r->n++] = row;
}

/* The row sweep hands every row once, bit for bit the dense fractions, in the documented order. */
static int compare_rows(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, const double *ref,
                        const af_window *rw)
{
    size_t cells = (size_t)rw->ncols * (size_t)rw->nrows;
    rows_seen r = { calloc(cells + 1, sizeof(double)), calloc((size_t)rw->nrows + 1, sizeof(long)), 0,
                    rw->nrows, rw->ncols, 0, *rw };
    af_coverage_dense d;
    int bad = 0;
    AF_EXPECT(r.frac && r.order);
    if (!r.frac || !r.order) return 1;
    AF_TEST_PASS(af_coverage_sweep_rows(ws, g, p, collect_row, &r, &d, err));
    AF_EXPECT(d.frac == NULL);
    AF_EXPECT(d.window.col0 == rw->col0 && d.window.row0 == rw->row0 && d.window.ncols == rw->ncols &&
              d.window.nrows == rw->nrows);
    bad += r.bad_window > 0 || r.n != rw->nrows;
    for (long i = 0; i < r.n; i++) /* north-up: storage rows from the bottom (last) up; rows_up: ascending */
        bad += r.order[i] != (g->rows_up ? i : rw->nrows - 1 - i);
    for (size_t i = 0; i < cells; i++) bad += r.frac[i] != ref[i];
    free(r.frac);
    free(r.order);
    return bad;
}

/* af_coverage_sweep_runs' rows made dense again (full runs as 1, partial runs copied), with what was seen. */
typedef struct runs_seen {
    double *frac;
    long n, ncols, nrows, bad, full_cells, part_cells, multi_full_rows, part_only_rows, mixed_rows;
    int rows_up;
    af_window win;
} runs_seen;

static void collect_runs(void *user, const af_window *win, long row, const af_coverage_run *runs, size_t nruns,
                         const double *frac)
{
    runs_seen *r = user;
    if (win->col0 != r->win.col0 || win->row0 != r->win.row0 || win->ncols != r->ncols || row < 0 ||
        row >= r->nrows || r->n >= r->nrows || row != (r->rows_up ? r->n : r->nrows - 1 - r->n)) {
        r->bad++;
        return;
    }
    double *o = r->frac + (size_t)row * (size_t)r->ncols;
    long prev = 0, nfull = 0, npart = 0;
    for (size_t i = 0; i < nruns; i++) {
        const af_coverage_run *u = &runs[i];
        if (u->c0 < prev || u->c1 <= u->c0 || u->c1 > r->ncols) { r->bad++; return; }
        prev = u->c1;
        for (long c = u->c0; c < u->c1; c++) o[c] = u->full ? 1.0 : frac[c];
        if (u->full) { nfull++; r->full_cells += u->c1 - u->c0; }
        else { npart++; r->part_cells += u->c1 - u->c0; }
    }
    r->multi_full_rows += nfull > 1;
    r->part_only_rows += nfull == 0 && npart > 0;
    r->mixed_rows += nfull > 0 && npart > 0;
    r->n++;
}

/* The runs sweep gives the dense fractions bit for bit; every row once, in the rows sweep's order. */
static int compare_runs(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, const double *ref,
                        const af_window *rw, runs_seen *seen)
{
    size_t cells = (size_t)rw->ncols * (size_t)rw->nrows;
    runs_seen r;
    memset(&r, 0, sizeof r);
    r.frac = calloc(cells + 1, sizeof(double));
    r.ncols = rw->ncols;
    r.nrows = rw->nrows;
    r.win = *rw;
    r.rows_up = g->rows_up;
    AF_EXPECT(r.frac != NULL);
    if (!r.frac) return 1;
    af_coverage_dense d;
    AF_TEST_PASS(af_coverage_sweep_runs(ws, g, p, collect_runs, &r, &d, err));
    AF_EXPECT(d.frac == NULL);
    AF_EXPECT(d.window.col0 == rw->col0 && d.window.row0 == rw->row0 && d.window.ncols == rw->ncols &&
              d.window.nrows == rw->nrows);
    int bad = (int)r.bad + (r.n != rw->nrows);
    for (size_t i = 0; i < cells; i++) bad += r.frac[i] != ref[i];
    free(r.frac);
    r.frac = NULL;
    if (seen) {
        seen->full_cells += r.full_cells;
        seen->part_cells += r.part_cells;
        seen->multi_full_rows += r.multi_full_rows;
        seen->part_only_rows += r.part_only_rows;
        seen->mixed_rows += r.mixed_rows;
    }
    return bad;
}

static runs_seen random_seen; /* what the random polygons' runs held, over all trials */

static int compare_one(af_coverage_ws *ws, af_coverage_ws *ref_ws, const af_grid *g, const af_polygon *p)
{
    af_window rw;
    double rin;
    double *ref = reference_dense(ref_ws, g, p, &rw, &rin);
    AF_EXPECT(ref != NULL);
    if (!ref) return 1;
    af_coverage_dense d;
    AF_TEST_PASS(af_coverage_compute_dense(ws, g, p, &d, err));
    AF_EXPECT(d.window.col0 == rw.col0 && d.window.row0 == rw.row0 && d.window.ncols == rw.ncols &&
              d.window.nrows == rw.nrows);
    int bad = 0, notbits = 0;
    size_t cells = (size_t)rw.ncols * (size_t)rw.nrows;
    for (size_t i = 0; i < cells && d.window.ncols == rw.ncols && d.window.nrows == rw.nrows; i++) {
        if (fabs(d.frac[i] - ref[i]) > 1e-12) bad++;
        if (d.frac[i] != ref[i]) notbits++;
    }
    AF_EXPECT(bad == 0);
    AF_EXPECT(notbits == 0);
    if (d.window.ncols == rw.ncols && d.window.nrows == rw.nrows) {
        int rows_bad = compare_rows(ws, g, p, ref, &rw);
        AF_EXPECT(rows_bad == 0);
        bad += rows_bad;
        int runs_bad = compare_runs(ws, g, p, ref, &rw, &random_seen);
        AF_EXPECT(runs_bad == 0);
        bad += runs_bad;
    }
    /* af_coverage_compute: the same cells, in order, and area_inside from the same sum */
    af_coverage cov;
    AF_TEST_PASS(af_coverage_compute(g, p, &cov, err));
    size_t k = 0;
    for (long i = 0; i < rw.nrows; i++)
        for (long c = 0; c < rw.ncols; c++) {
            double f = ref[(size_t)i * (size_t)rw.ncols + (size_t)c];
            if (f <= 0) continue;
            long cell = (rw.row0 + i) * g->nx + rw.col0 + c;
            if (k >= cov.n || cov.cell[k] != cell || cov.frac[k] != f) bad++;
            k++;
        }
    AF_EXPECT(k == cov.n);
    AF_EXPECT(cov.area_inside == rin * g->dx * g->dy);
    af_coverage_dispose(&cov);
    free(ref);
    return bad + notbits;
}

static void test_geo_fastpath__coverage_sweep_random(void)
{
    af_coverage_ws *ws = NULL, *ref_ws = NULL;
    AF_TEST_PASS(af_coverage_ws_create(&ws, err));
    AF_TEST_PASS(af_coverage_ws_create(&ref_ws, err));
    int fails = 0;
    for (int trial = 0; trial < 300; trial++) {
        af_grid g = AF_GRID_INIT;
        g.x0 = -95.0 + urand();
        g.y0 = 42.0;
        g.dx = 0.01 + 0.05 * urand();
        g.dy = trial % 2 ? g.dx : 0.01 + 0.05 * urand();
        g.nx = 20 + (long)(60 * urand());
        g.ny = 20 + (long)(60 * urand());
        g.rows_up = trial % 3 == 2;
        double top = g.y0, w = (double)g.nx * g.dx, h = (double)g.ny * g.dy;
        if (g.rows_up) g.y0 = top - h;
        double xy[4][2 * 80];
        af_ring rings[4];
        size_t nr = 0;
        int kind = trial % 4; /* 0 simple, 1 with hole(s), 2 two parts, 3 two parts, one with a hole */
        int parts = kind >= 2 ? 2 : 1;
        for (int q = 0; q < parts; q++) {
            /* parts in separate halves so they do not overlap; some stick out of the grid */
            double cx = g.x0 + w * (parts == 1 ? 0.2 + 0.6 * urand() : (q ? 0.75 : 0.25)) + (urand() - 0.5) * 0.3 * w;
            double cy = top - h * (0.2 + 0.6 * urand());
            double rmax = (parts == 1 ? 0.45 : 0.22) * (w < h ? w : h) * (0.5 + urand());
            int n = 4 + (int)(70 * urand());
            star(&g, cx, cy, 0.6 * rmax, rmax, n, xy[nr]);
            rings[nr] = (af_ring){ xy[nr], (size_t)n, 0 };
            nr++;
            if (kind == 1 || (kind == 3 && q == 0)) { /* a hole well inside the outer ring's inner radius */
                int m = 3 + (int)(30 * urand());
                star(&g, cx, cy, 0.15 * rmax, 0.45 * rmax, m, xy[nr]);
                rings[nr] = (af_ring){ xy[nr], (size_t)m, 1 };
                nr++;
            }
        }
        af_polygon p = { rings, nr };
        fails += compare_one(ws, ref_ws, &g, &p);
    }
    AF_EXPECT(fails == 0);
    /* the runs of the random polygons held every kind of row */
    AF_EXPECT(random_seen.full_cells > 0 && random_seen.part_cells > 0);
    AF_EXPECT(random_seen.multi_full_rows > 0 && random_seen.part_only_rows > 0 && random_seen.mixed_rows > 0);
    af_coverage_ws_destroy(&ws);
    af_coverage_ws_destroy(&ref_ws);
    af_coverage_ws_destroy(&ws); /* idempotent */
}

/* Overlap of [a0, a1) with the unit interval [c, c + 1). */
static double overlap(double a0, double a1, long c)
{
    double lo = a0 > (double)c ? a0 : (double)c, hi = a1 < (double)(c + 1) ? a1 : (double)(c + 1);
    return hi > lo ? hi - lo : 0;
}

/* Axis-aligned rectangles in grid units (u0, v0, u1, v1; v down), sign +1 outer, -1 hole. */
typedef struct urect { double u0, v0, u1, v1, sign; } urect;

/* The runs of rectangles (outer parts and holes) on a 30 x 30 grid of unit cells, against the analytic
 * fractions (products of overlaps) and the dense sweep: expected wholly covered cells, rows with two
 * interior runs (hole or two parts) and rows of boundary cells only. */
static void check_rects(const urect *rc, size_t n, int rows_up, long want_multi, long want_part_only)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 0;
    g.y0 = rows_up ? -30 : 0; /* top edge y = 0 either way: v = -y */
    g.nx = 30;
    g.ny = 30;
    g.rows_up = rows_up;
    double xy[8][8];
    af_ring rings[8];
    for (size_t i = 0; i < n; i++) {
        double q[8] = { rc[i].u0, -rc[i].v0, rc[i].u1, -rc[i].v0, rc[i].u1, -rc[i].v1, rc[i].u0, -rc[i].v1 };
        memcpy(xy[i], q, sizeof q);
        rings[i] = (af_ring){ xy[i], 4, rc[i].sign < 0 };
    }
    af_polygon p = { rings, n };
    af_coverage_ws *ws = NULL;
    AF_TEST_PASS(af_coverage_ws_create(&ws, err));
    af_coverage_dense d;
    AF_TEST_PASS(af_coverage_compute_dense(ws, &g, &p, &d, err));
    size_t cells = (size_t)d.window.ncols * (size_t)d.window.nrows;
    double *dense = malloc((cells + 1) * sizeof *dense);
    AF_EXPECT(dense != NULL);
    if (!dense) return;
    memcpy(dense, d.frac, cells * sizeof *dense);
    af_window w = d.window;
    long bad = 0, full = 0;
    for (long i = 0; i < w.nrows; i++) {
        long vr = rows_up ? g.ny - 1 - (w.row0 + i) : w.row0 + i; /* canonical row: v from vr to vr + 1 */
        for (long c = 0; c < w.ncols; c++) {
            double f = 0;
            for (size_t k = 0; k < n; k++)
                f += rc[k].sign * overlap(rc[k].u0, rc[k].u1, w.col0 + c) * overlap(rc[k].v0, rc[k].v1, vr);
            bad += fabs(dense[(size_t)i * (size_t)w.ncols + (size_t)c] - f) > 1e-12;
            full += f == 1.0;
        }
    }
    AF_EXPECT(bad == 0);
    runs_seen seen;
    memset(&seen, 0, sizeof seen);
    AF_EXPECT(compare_runs(ws, &g, &p, dense, &w, &seen) == 0);
    AF_EXPECT(seen.full_cells == full); /* every wholly covered cell comes in a full run */
    AF_EXPECT(seen.multi_full_rows == want_multi);
    AF_EXPECT(seen.part_only_rows == want_part_only);
    free(dense);
    af_coverage_ws_destroy(&ws);
}

static void test_geo_fastpath__coverage_runs_rects(void)
{
    /* on grid lines: all interior, no partial run */
    urect aligned = { 2, 3, 8, 7, 1 };
    check_rects(&aligned, 1, 0, 0, 0);
    check_rects(&aligned, 1, 1, 0, 0);
    /* edges inside cells: partly covered columns 2 and 7 in every row, partial rows 3 and 6 */
    urect off = { 2.25, 3.5, 7.5, 6.75, 1 };
    check_rects(&off, 1, 0, 0, 2);
    check_rects(&off, 1, 1, 0, 2);
    /* a hole: rows 8..11 split in two interior runs; hole edges on and off grid lines */
    urect holed[] = { { 1.5, 4.5, 20.5, 15.25, 1 }, { 6, 8, 12.5, 12, -1 } };
    check_rects(holed, 2, 0, 4, 2);
    /* two parts side by side (a multipolygon), one thinner than a row: rows 2..9 two interior runs,
     * the thin part's row 20 has boundary cells only */
    urect parts[] = { { 1, 2, 5, 10, 1 }, { 8.5, 2, 14, 10, 1 }, { 3.2, 20.1, 25.7, 20.6, 1 } };
    check_rects(parts, 3, 0, 8, 1);
    check_rects(parts, 3, 1, 8, 1);
}

/* A workspace grown by a large polygon gives a small one the same result as a fresh one. */
static void test_geo_fastpath__coverage_ws_reuse_and_errors(void)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 0;
    g.y0 = 100;
    g.nx = 100;
    g.ny = 100;
    double big[] = { 0.5, 0.5, 99.5, 0.7, 99.2, 99.9, 0.3, 99.1 };
    double small[] = { 10.2, 80.3, 14.9, 80.1, 12.5, 85.7 };
    af_ring rb = { big, 4, 0 }, rs = { small, 3, 0 };
    af_polygon pb = { &rb, 1 }, ps = { &rs, 1 };
    af_coverage_ws *ws = NULL, *fresh = NULL;
    AF_TEST_PASS(af_coverage_ws_create(&ws, err));
    AF_TEST_PASS(af_coverage_ws_create(&fresh, err));
    af_coverage_dense d1, d2;
    AF_TEST_PASS(af_coverage_compute_dense(ws, &g, &pb, &d1, err));
    AF_EXPECT(d1.window.ncols == 100 && d1.window.nrows == 100);
    AF_EXPECT(d1.frac[50 * 100 + 50] == 1.0); /* an interior cell */
    AF_TEST_PASS(af_coverage_compute_dense(ws, &g, &ps, &d1, err));
    AF_TEST_PASS(af_coverage_compute_dense(fresh, &g, &ps, &d2, err));
    AF_EXPECT(d1.window.ncols == d2.window.ncols && d1.window.nrows == d2.window.nrows &&
              d1.window.col0 == d2.window.col0 && d1.window.row0 == d2.window.row0);
    size_t n = (size_t)d1.window.ncols * (size_t)d1.window.nrows;
    AF_EXPECT(n > 0 && memcmp(d1.frac, d2.frac, n * sizeof(double)) == 0);
    AF_EXPECT_NEAR(d1.area_total, 0.5 * fabs((14.9 - 10.2) * (85.7 - 80.3) - (12.5 - 10.2) * (80.1 - 80.3)), 1e-9);
    /* errors: the same as af_coverage_compute, and a missing workspace */
    double line[] = { 1, 1, 5, 5, 9, 9 };
    af_ring rl = { line, 3, 0 };
    af_polygon pl = { &rl, 1 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "zero", af_coverage_compute_dense(ws, &g, &pl, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "zero", af_coverage_sweep_rows(ws, &g, &pl, collect_row, NULL, &d1, err));
    rl.n = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "at least 3", af_coverage_compute_dense(ws, &g, &pl, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "ws != NULL", af_coverage_compute_dense(NULL, &g, &ps, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "fn != NULL", af_coverage_sweep_rows(ws, &g, &ps, NULL, NULL, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "at least 3", af_coverage_sweep_runs(ws, &g, &pl, collect_runs, NULL, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "fn != NULL", af_coverage_sweep_runs(ws, &g, &ps, NULL, NULL, &d1, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "out != NULL", af_coverage_ws_create(NULL, err));
    /* wholly outside: empty window, not an error */
    double far[] = { 300, 300, 310, 300, 310, 310 };
    af_ring rf = { far, 3, 0 };
    af_polygon pf = { &rf, 1 };
    AF_TEST_PASS(af_coverage_compute_dense(ws, &g, &pf, &d1, err));
    AF_EXPECT(d1.window.ncols == 0 && d1.window.nrows == 0 && d1.area_total > 0);
    af_coverage_ws_destroy(&ws);
    af_coverage_ws_destroy(&fresh);
}

/* ---------------------------------------------------------- aggregation */

/* Plain reference: each (polygon, day) over its CSR row, in order. */
static void reference_aggregate(const af_weights *w, const float *v, const af_window *win, long nt, int has_nodata,
                                float nodata, double minvf, double *mean, double *vf, double *mn, double *mx,
                                double *sd)
{
    const af_grid *g = af_weights_grid_ref(w);
    size_t plane = (size_t)win->ncols * (size_t)win->nrows;
    for (size_t p = 0; p < af_weights_npoly(w); p++) {
        size_t n;
        const long *cell;
        const double *wt;
        af_weights_row_ref(w, p, &n, &cell, NULL, &wt);
        for (long t = 0; t < nt; t++) {
            double swv = 0, swx = 0, lo = INFINITY, hi = -INFINITY;
            int any = 0;
            for (size_t k = 0; k < n; k++) {
                size_t o = (size_t)t * plane + (size_t)(cell[k] / g->nx - win->row0) * (size_t)win->ncols +
                           (size_t)(cell[k] % g->nx - win->col0);
                float x = v[o];
                if (isnan(x) || (has_nodata && x == nodata)) continue;
                any = 1;
                swv += wt[k];
                swx += wt[k] * (double)x;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
            double wall = af_weights_total(w, p), f = wall > 0 ? swv / wall : 0;
            double m = (swv > 0 && f >= minvf) ? swx / swv : NAN, ss = 0;
            for (size_t k = 0; k < n && !isnan(m); k++) {
                size_t o = (size_t)t * plane + (size_t)(cell[k] / g->nx - win->row0) * (size_t)win->ncols +
                           (size_t)(cell[k] % g->nx - win->col0);
                float x = v[o];
                if (isnan(x) || (has_nodata && x == nodata)) continue;
                ss += wt[k] * ((double)x - m) * ((double)x - m);
            }
            size_t o = p * (size_t)nt + (size_t)t;
            mean[o] = m;
            vf[o] = f;
            mn[o] = any ? lo : NAN;
            mx[o] = any ? hi : NAN;
            sd[o] = isnan(m) ? NAN : sqrt(ss / swv);
        }
    }
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void test_geo_fastpath__aggregator_days(void)
{
    af_grid g = AF_GRID_INIT;
    g.x0 = 0;
    g.y0 = 60;
    g.nx = 80;
    g.ny = 60;
    enum { NP = 150, NT = 11 };
    double xy[NP][8];
    af_ring rings[NP];
    af_polygon polys[NP];
    for (int p = 0; p < NP; p++) { /* overlapping jittered quads of a few to ~60 cells */
        double cx = 5 + 70 * urand(), cy = 5 + 50 * urand(), s = 0.7 + 4 * urand();
        double q[8] = { cx - s, cy - s, cx + s, cy - s * 0.8, cx + s * 1.1, cy + s, cx - s * 0.9, cy + s * 1.2 };
        memcpy(xy[p], q, sizeof q);
        rings[p] = (af_ring){ xy[p], 4, 0 };
        polys[p] = (af_polygon){ &rings[p], 1 };
    }
    af_weights *w = NULL;
    AF_TEST_PASS(af_weights_build(&g, polys, NP, NULL, &w, err));
    af_window win;
    AF_TEST_PASS(af_weights_union_window(w, NULL, 0, &win, err));
    size_t plane = (size_t)win.ncols * (size_t)win.nrows, no = (size_t)NP * NT;
    /* 16-bit stored values; the table maps 0 (fill) to NaN and 7 to the nodata value */
    uint16_t *raw = malloc(plane * NT * sizeof *raw), *rev = malloc(plane * NT * sizeof *rev);
    float *lut = malloc(65536 * sizeof *lut), *v = malloc(plane * NT * sizeof *v);
    for (int i = 0; i < 65536; i++) lut[i] = i == 0 ? NAN : i == 7 ? -9999.0f : (float)(i * 0.01 + 200.0);
    for (size_t i = 0; i < plane * NT; i++) {
        double u = urand();
        raw[i] = u < 0.03 ? 0 : u < 0.05 ? 7 : (uint16_t)(1000 + 9000 * urand());
        v[i] = lut[raw[i]];
    }
    for (long t = 0; t < NT; t++) /* the same planes with rows in reverse order */
        for (long r = 0; r < win.nrows; r++)
            memcpy(rev + (size_t)t * plane + (size_t)(win.nrows - 1 - r) * (size_t)win.ncols,
                   raw + (size_t)t * plane + (size_t)r * (size_t)win.ncols, (size_t)win.ncols * sizeof *raw);
    double *ref = malloc(5 * no * sizeof *ref), *got = malloc(5 * no * sizeof *got);
    af_aggregate_out out = { got, got + no, got + 2 * no, got + 3 * no, got + 4 * no };
    for (int pass = 0; pass < 4; pass++) {
        int hn = pass >= 2;
        double minvf = pass % 2 ? 0.9 : 0.0;
        reference_aggregate(w, v, &win, NT, hn, -9999.0f, minvf, ref, ref + no, ref + 2 * no, ref + 3 * no,
                            ref + 4 * no);
        af_aggregate_opts o = AF_AGGREGATE_OPTS_INIT;
        o.has_nodata = hn;
        o.nodata = -9999.0f;
        o.min_valid_fraction = minvf;
        af_aggregator *a = NULL;
        AF_TEST_PASS(af_aggregator_create(w, NULL, NP, &win, &o, &a, err));
        for (int path = 0; path < 4; path++) {
            for (size_t i = 0; i < 5 * no; i++) got[i] = 12345.0;
            if (path == 0) { /* days in uneven groups: 4-day passes and single days */
                af_aggregator_days(a, v, 0, 6, NT, &out);
                af_aggregator_days(a, v + 6 * plane, 6, 1, NT, &out);
                af_aggregator_days(a, v + 7 * plane, 7, 4, NT, &out);
            } else if (path == 1) {
                for (long t = 0; t < NT; t++) af_aggregator_day(a, v + (size_t)t * plane, t, NT, &out);
            } else if (path == 2) {
                af_aggregator_days_u16(a, raw, lut, 0, 0, 5, NT, &out);
                af_aggregator_days_u16(a, raw + 5 * plane, lut, 0, 5, NT - 5, NT, &out);
            } else {
                af_aggregator_days_u16(a, rev, lut, 1, 0, NT, NT, &out);
            }
            int bad = 0;
            for (size_t i = 0; i < 5 * no; i++) bad += !same(got[i], ref[i]);
            if (bad) fprintf(stderr, "pass %d path %d: %d values differ\n", pass, path, bad);
            AF_EXPECT(bad == 0);
        }
        /* mean and valid fraction only: the other arrays untouched */
        af_aggregate_out mo = { got, got + no, NULL, NULL, NULL };
        for (size_t i = 0; i < 5 * no; i++) got[i] = 12345.0;
        af_aggregator_days(a, v, 0, NT, NT, &mo);
        int bad = 0;
        for (size_t i = 0; i < 2 * no; i++) bad += !same(got[i], ref[i]);
        for (size_t i = 2 * no; i < 5 * no; i++) bad += got[i] != 12345.0;
        AF_EXPECT(bad == 0);
        af_aggregator_destroy(&a);
        af_aggregator_destroy(&a); /* idempotent */
    }
    /* errors of create: as af_aggregate_apply */
    af_aggregator *a = NULL;
    af_aggregate_opts o = AF_AGGREGATE_OPTS_INIT;
    af_window small = { win.col0 + 1, win.row0, win.ncols - 1, win.nrows };
    AF_TEST_FAILS_WITH(AF_EINVAL, "outside window", af_aggregator_create(w, NULL, NP, &small, &o, &a, err));
    size_t bad_idx = NP;
    AF_TEST_FAILS_WITH(AF_EINVAL, ">= 150 polygons", af_aggregator_create(w, &bad_idx, 1, &win, &o, &a, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "npoly_sel", af_aggregator_create(w, NULL, 3, &win, &o, &a, err));
    o.version = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "version", af_aggregator_create(w, NULL, NP, &win, &o, &a, err));
    AF_EXPECT(a == NULL);
    free(raw);
    free(rev);
    free(lut);
    free(v);
    free(ref);
    free(got);
    af_weights_destroy(&w);
}

int main(void)
{
    AF_RUN(test_geo_fastpath__coverage_sweep_random);
    AF_RUN(test_geo_fastpath__coverage_runs_rects);
    AF_RUN(test_geo_fastpath__coverage_ws_reuse_and_errors);
    AF_RUN(test_geo_fastpath__aggregator_days);
    return AF_TEST_END();
}
