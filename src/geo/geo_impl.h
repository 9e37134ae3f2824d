/* SPDX-License-Identifier: MIT */
/*
 * geo_impl.h: private helpers shared by the geo files (coverage.c, weights.c,
 * aggregate.c, grid.c). Internally every computation uses the "canonical"
 * north-up row order (row 0 at the top); these helpers map canonical rows to
 * storage rows for grids flagged rows_up. Not collective.
 */
#ifndef AF_GEO_IMPL_H
#define AF_GEO_IMPL_H

#include "agroflux/coverage.h"

/** y of the top edge of the grid (canonical row 0). */
static inline double af__grid_top(const af_grid *g)
{
    return g->rows_up ? g->y0 + (double)g->ny * g->dy : g->y0;
}

/** Canonical row <-> storage row (the map is its own inverse). */
static inline long af__grid_flip_row(const af_grid *g, long r)
{
    return g->rows_up ? g->ny - 1 - r : r;
}

#endif
