/* SPDX-License-Identifier: MIT */
/*
 * cellarea.c: implements af_grid_cell_area and af_grid_authalic_radius of
 * agroflux/coverage.h. For geographic grids the area of a cell is the exact
 * area of its latitude band on the ellipsoid of revolution times dlon/360,
 * from the closed form of the area between the equator and latitude phi
 * (equivalently 2 pi Rq^2 sin(beta), beta the authalic latitude). Not collective.
 */
#include <math.h>

#include "geo_impl.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Area between the equator and latitude phi (radians), whole circle of longitude. */
static double zone_area(double a, double inv_f, double phi)
{
    double s = sin(phi);
    if (inv_f == 0) return 2.0 * M_PI * a * a * s;
    double f = 1.0 / inv_f;
    double e2 = f * (2.0 - f);
    double e = sqrt(e2);
    double b2 = a * a * (1.0 - e2);
    return M_PI * b2 * (s / (1.0 - e2 * s * s) + atanh(e * s) / e);
}

double af_grid_authalic_radius(const af_grid *g)
{
    return sqrt(zone_area(g->semi_major, g->inv_flattening, M_PI / 2) / (2.0 * M_PI));
}

double af_grid_cell_area(const af_grid *g, long row)
{
    if (!g->geographic) return g->dx * g->dy;
    double ymin, ymax;
    af_grid_row_bounds(g, row, &ymin, &ymax);
    if (ymin < -90) ymin = -90;
    if (ymax > 90) ymax = 90;
    if (ymax <= ymin) return 0.0;
    double d2r = M_PI / 180.0;
    double band = zone_area(g->semi_major, g->inv_flattening, ymax * d2r) -
                  zone_area(g->semi_major, g->inv_flattening, ymin * d2r);
    return band * (g->dx / 360.0);
}
