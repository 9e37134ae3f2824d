/* SPDX-License-Identifier: MIT */
/*
 * coverage_runs.c: af_coverage_sweep_runs of agroflux/coverage.h, the row
 * sweep of coverage.c (the same fragments, running column sums and
 * fractions, bit for bit) handing each row over as runs instead of a dense
 * row. A cell no fragment of its row touches has the fraction of its
 * column's running sum, which changes only in the columns the row below
 * touched; so the sweep keeps each column's class (0 uncovered, 1 wholly
 * covered, 2 partly covered) and a bitmap of the columns where the class
 * changes, both updated only where a running sum changes. A row's runs come
 * from walking that bitmap plus the row's boundary cells: the interior is
 * reported as wholly covered runs, without a pass over its cells, and
 * uncovered cells not at all. Not collective.
 */
#include <stdint.h>
#include <string.h>

#include "af_check.h"
#include "geo_impl.h"

/* The class of a running sum, as the clamp of coverage.c sees it: >= 1 gives exactly 1, <= 1e-12 (or
 * NaN) gives 0, anything between is itself. */
static unsigned char run_class(double run)
{
    return run >= 1 ? 1 : run > 1e-12 ? 2 : 0;
}

static void put_bit(uint64_t *w, size_t i, int on)
{
    uint64_t b = (uint64_t)1 << (i & 63);
    if (on) w[i >> 6] |= b;
    else w[i >> 6] &= ~b;
}

/* Bits c and c + 1 of chg after column c's class changed (class -1 and nc are 0). */
static void chg_update(uint64_t *chg, const unsigned char *cls, size_t c, size_t nc)
{
    put_bit(chg, c, cls[c] != (c ? cls[c - 1] : 0));
    put_bit(chg, c + 1, (c + 1 < nc ? cls[c + 1] : 0) != cls[c]);
}

/* Append cells a..b-1 as a run of kind full, merged with the previous run when they touch. */
static void push_run(af_coverage_run *runs, size_t *n, long a, long b, int full)
{
    if (*n && runs[*n - 1].c1 == a && runs[*n - 1].full == full) {
        runs[*n - 1].c1 = b;
        return;
    }
    runs[(*n)++] = (af_coverage_run){ a, b, full };
}

/* Columns a..b-1 of one row: a boundary cell (a alone, o[a] already written), or cells of one class. */
static void emit(const af_coverage_ws *ws, double *o, size_t a, size_t b, af_coverage_run *runs, size_t *n)
{
    if (ws->mark[a]) {
        push_run(runs, n, (long)a, (long)b, 0);
        return;
    }
    unsigned char k = ws->cls[a];
    if (k == 0) return;
    if (k == 1) {
        push_run(runs, n, (long)a, (long)b, 1);
        return;
    }
    for (size_t c = a; c < b; c++) { /* partly covered columns: the clamp of coverage.c, a no-op here */
        double f = ws->run[c];
        f = f > 1 ? 1 : f;
        o[c] = f > 1e-12 ? f : 0;
    }
    push_run(runs, n, (long)a, (long)b, 0);
}

/* Walk the set bits of ev (positions 0..nc): each gap between two is one emit. */
static size_t walk(const af_coverage_ws *ws, double *o, size_t nc, size_t nw)
{
    size_t n = 0, pos = 0;
    for (size_t w = 0; w < nw; w++)
        for (uint64_t bits = ws->ev[w]; bits; bits &= bits - 1) {
            size_t b = w * 64 + (size_t)__builtin_ctzll(bits);
            if (b > pos) emit(ws, o, pos, b, ws->runs, &n);
            pos = b;
        }
    if (pos < nc) emit(ws, o, pos, nc, ws->runs, &n);
    return n;
}

/* The running sums after the fill of bucket k (the row below), classes and change bits with them. */
static void fill_row(af_coverage_ws *ws, long k, size_t nc)
{
    size_t i0, i1, m = 0;
    af__coverage_bucket_range(ws, k, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        long c = ws->sorted[i].col;
        ws->fillrow[c] -= ws->sorted[i].full;
        if (!ws->mark[c]) { ws->mark[c] = 1; ws->touched[m++] = c; }
    }
    for (size_t j = 0; j < m; j++) {
        long c = ws->touched[j];
        ws->run[c] += ws->fillrow[c];
        ws->fillrow[c] = 0;
        ws->mark[c] = 0;
        ws->cls[c] = run_class(ws->run[c]);
    }
    for (size_t j = 0; j < m; j++) chg_update(ws->chg, ws->cls, (size_t)ws->touched[j], nc);
}

/* The boundary cells of bucket k (this row): fractions into o, marked, and bits c, c + 1 set in ev.
 * A cell whose fraction is what its column's class gives anyway (an edge along a grid line adds 0) is
 * left to its class's run. Returns how many were touched (ws->touched[0..]); the caller clears their
 * marks. */
static size_t boundary_row(af_coverage_ws *ws, long k, double *o)
{
    size_t i0, i1, m = 0;
    af__coverage_bucket_range(ws, k, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        long c = ws->sorted[i].col;
        ws->partrow[c] -= ws->sorted[i].part;
        if (!ws->mark[c]) { ws->mark[c] = 1; ws->touched[m++] = c; }
    }
    for (size_t j = 0; j < m; j++) {
        long c = ws->touched[j];
        double f = ws->partrow[c] + ws->run[c];
        f = f > 1 ? 1 : f;
        o[c] = f > 1e-12 ? f : 0;
        ws->partrow[c] = 0;
        unsigned char cls = ws->cls[c];
        if ((cls == 0 && o[c] == 0) || (cls == 1 && o[c] == 1)) {
            ws->mark[c] = 0;
            continue;
        }
        put_bit(ws->ev, (size_t)c, 1);
        put_bit(ws->ev, (size_t)c + 1, 1);
    }
    return m;
}

int af_coverage_sweep_runs(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_runs_fn fn,
                           void *user, af_coverage_dense *out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(ws != NULL && out != NULL && fn != NULL);
    memset(out, 0, sizeof *out);
    AF_CHECK(af__coverage_fragments(ws, g, p, &out->area_total, err));
    const af_cov_frags *a = &ws->fr;
    if (a->nc == 0 || a->nr == 0) goto cleanup;
    size_t nc = (size_t)a->nc, nw = nc / 64 + 1;
    if (af__coverage_bucket_rows(ws) || af__coverage_reserve((void **)&ws->run, &ws->row_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->fillrow, &ws->fill_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->partrow, &ws->part_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->touched, &ws->touched_cap, nc, sizeof(long)) ||
        af__coverage_reserve((void **)&ws->mark, &ws->mark_cap, nc, 1) ||
        af__coverage_reserve((void **)&ws->frac, &ws->frac_cap, nc, sizeof(double)) ||
        af__coverage_reserve((void **)&ws->cls, &ws->cls_cap, nc, 1) ||
        af__coverage_reserve((void **)&ws->chg, &ws->chg_cap, nw, sizeof(uint64_t)) ||
        af__coverage_reserve((void **)&ws->ev, &ws->ev_cap, nw, sizeof(uint64_t)) ||
        af__coverage_reserve((void **)&ws->runs, &ws->runs_cap, nc, sizeof(af_coverage_run)))
        AF_FAIL(AF_ENOMEM, "out of memory for a coverage window of %zu columns", nc);
    double *o = ws->frac;
    for (size_t c = 0; c < nc; c++) { ws->run[c] = 0; ws->fillrow[c] = 0; ws->partrow[c] = 0; ws->mark[c] = 0; ws->cls[c] = 0; }
    memset(ws->chg, 0, nw * sizeof *ws->chg);
    long s0 = g->rows_up ? af__grid_flip_row(g, a->r0 + a->nr - 1) : a->r0;
    af_window win = { a->c0, s0, a->nc, a->nr };
    for (long r = a->nr - 1; r >= 0; r--) {
        fill_row(ws, r + 1, nc);
        memcpy(ws->ev, ws->chg, nw * sizeof *ws->ev);
        size_t m = boundary_row(ws, r, o);
        size_t nruns = walk(ws, o, nc, nw);
        for (size_t j = 0; j < m; j++) ws->mark[ws->touched[j]] = 0;
        fn(user, &win, af__grid_flip_row(g, a->r0 + r) - s0, ws->runs, nruns, o);
    }
    out->window = win;
cleanup:
    return rc;
}
