/* SPDX-License-Identifier: MIT */
/*
 * grid.c: implements the grid part of agroflux/coverage.h: validation,
 * geotransform normalisation (rows_up flag instead of a negative dy), row
 * bounds, and point sampling (nearest, bilinear with renormalisation over
 * valid neighbours). Not collective.
 */
#include <math.h>
#include <stddef.h>

#include "af_check.h"
#include "geo_impl.h"

int af_grid_validate(const af_grid *g, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(g != NULL);
    if (!isfinite(g->x0) || !isfinite(g->y0))
        AF_FAIL(AF_EINVAL, "grid origin (%g, %g) is not finite", g->x0, g->y0);
    if (!(g->dx > 0) || !isfinite(g->dx)) AF_FAIL(AF_EINVAL, "grid dx = %g must be > 0", g->dx);
    if (!(g->dy > 0) || !isfinite(g->dy))
        AF_FAIL(AF_EINVAL, "grid dy = %g must be > 0 (use rows_up for south-up grids)", g->dy);
    if (g->nx <= 0 || g->ny <= 0)
        AF_FAIL(AF_EINVAL, "grid size %ld x %ld must be positive", g->nx, g->ny);
    if (g->rows_up != 0 && g->rows_up != 1)
        AF_FAIL(AF_EINVAL, "grid rows_up = %d must be 0 or 1", g->rows_up);
    if (g->geographic) {
        if (!(g->semi_major > 0) || !isfinite(g->semi_major))
            AF_FAIL(AF_EINVAL, "grid semi_major = %g must be > 0", g->semi_major);
        if (!(g->inv_flattening == 0 || g->inv_flattening > 1) || !isfinite(g->inv_flattening))
            AF_FAIL(AF_EINVAL, "grid inv_flattening = %g must be 0 (sphere) or > 1",
                    g->inv_flattening);
    }
cleanup:
    return rc;
}

int af_grid_from_geotransform(const double gt[6], long nx, long ny, int geographic, af_grid *out,
                              af_error *err)
{
    int rc = AF_OK;
    af_grid g = AF_GRID_INIT;
    AF_CHECK_ARG(gt != NULL && out != NULL);
    if (gt[2] != 0 || gt[4] != 0)
        AF_FAIL(AF_EINVAL, "rotated geotransform (%g, %g) is not supported", gt[2], gt[4]);
    if (gt[5] == 0) AF_FAIL(AF_EINVAL, "geotransform row height is 0");
    g.x0 = gt[0];
    g.dx = gt[1];
    g.y0 = gt[3];
    g.dy = fabs(gt[5]);
    g.rows_up = gt[5] > 0;
    g.nx = nx;
    g.ny = ny;
    g.geographic = geographic ? 1 : 0;
    AF_CHECK(af_grid_validate(&g, err));
    *out = g;
cleanup:
    return rc;
}

void af_grid_row_bounds(const af_grid *g, long row, double *ymin, double *ymax)
{
    if (g->rows_up) {
        *ymin = g->y0 + (double)row * g->dy;
        *ymax = g->y0 + (double)(row + 1) * g->dy;
    } else {
        *ymin = g->y0 - (double)(row + 1) * g->dy;
        *ymax = g->y0 - (double)row * g->dy;
    }
}

/* Value at (storage row, col) or NaN if outside grid/window or missing. */
static double cell_value(const af_grid *g, const float *values, const af_window *win,
                         const float *nodata, long row, long col)
{
    if (row < 0 || row >= g->ny || col < 0 || col >= g->nx) return NAN;
    long wr = row - win->row0, wc = col - win->col0;
    if (wr < 0 || wr >= win->nrows || wc < 0 || wc >= win->ncols) return NAN;
    float v = values[(size_t)wr * (size_t)win->ncols + (size_t)wc];
    if (isnan(v) || (nodata && v == *nodata)) return NAN;
    return (double)v;
}

double af_grid_sample_point(const af_grid *g, const float *values, const af_window *win,
                            const float *nodata, double x, double y, af_grid_interp method)
{
    if (!g || !values || !win || !isfinite(x) || !isfinite(y)) return NAN;
    /* canonical grid coordinates: u to the right, v downwards, cell (c, r) = [c,c+1]x[r,r+1] */
    double u = (x - g->x0) / g->dx;
    double v = (af__grid_top(g) - y) / g->dy;
    if (!(u >= 0 && u <= (double)g->nx && v >= 0 && v <= (double)g->ny)) return NAN;
    if (method == AF_GRID_NEAREST) {
        long c = (long)floor(u), r = (long)floor(v);
        if (c == g->nx) c--;
        if (r == g->ny) r--;
        return cell_value(g, values, win, nodata, af__grid_flip_row(g, r), c);
    }
    if (method != AF_GRID_BILINEAR) return NAN;
    double uc = u - 0.5, vc = v - 0.5; /* relative to cell centres */
    long c0 = (long)floor(uc), r0 = (long)floor(vc);
    double fu = uc - (double)c0, fv = vc - (double)r0;
    double sw = 0, swx = 0;
    for (int k = 0; k < 4; k++) {
        long c = c0 + (k & 1), r = r0 + (k >> 1);
        double wgt = ((k & 1) ? fu : 1 - fu) * ((k >> 1) ? fv : 1 - fv);
        if (wgt == 0) continue;
        double val = cell_value(g, values, win, nodata, af__grid_flip_row(g, r), c);
        if (r < 0 || r >= g->ny || isnan(val)) continue;
        sw += wgt;
        swx += wgt * val;
    }
    return sw > 0 ? swx / sw : NAN;
}
