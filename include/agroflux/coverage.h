/* SPDX-License-Identifier: MIT */
/*
 * agroflux/coverage.h: the geometry core. Regular grids, exact fractional
 * coverage of polygons over grid cells, ellipsoidal cell areas, sparse
 * polygon x cell weights (CSR, serialisable for caching), deterministic
 * weighted aggregation of daily raster blocks, and point sampling.
 * Pure computation: no I/O, no GDAL/PROJ. Polygons must already be in the
 * grid's CRS. Not collective: every entry point is rank-local.
 */
#ifndef AGROFLUX_COVERAGE_H
#define AGROFLUX_COVERAGE_H

#include <stddef.h>
#include <stdint.h>
#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ grid */

/**
 * A regular, axis-aligned grid of nx columns by ny rows.
 * Column c spans x0 + c*dx .. x0 + (c+1)*dx (dx > 0).
 * Rows: dy is always > 0 and the direction is a flag (negative dy is NOT
 * accepted here; af_grid_from_geotransform normalises a GDAL geotransform):
 *   rows_up == 0 (north-up, the GDAL default): y0 is the TOP edge of row 0 and
 *                row r spans y0 - (r+1)*dy .. y0 - r*dy;
 *   rows_up == 1 (south-up, e.g. NetCDF lat ascending): y0 is the BOTTOM edge
 *                of row 0 and row r spans y0 + r*dy .. y0 + (r+1)*dy.
 * Cell index j = r*nx + c with r the storage row (as laid out in memory).
 * geographic == 1: x is longitude and y latitude in degrees, cell areas are
 * ellipsoidal (semi_major in metres, inv_flattening; 0 means a sphere).
 */
typedef struct af_grid {
    double x0, y0;
    double dx, dy;
    long nx, ny;
    int rows_up;
    int geographic;
    double semi_major;
    double inv_flattening;
} af_grid;

/** WGS84 ellipsoid. */
#define AF_WGS84_A 6378137.0
#define AF_WGS84_INV_F 298.257223563
#define AF_GRID_INIT { 0.0, 0.0, 1.0, 1.0, 0, 0, 0, 0, AF_WGS84_A, AF_WGS84_INV_F }

/** A rectangle of cells in storage rows: columns col0..col0+ncols-1, rows row0..row0+nrows-1. */
typedef struct af_window {
    long col0, row0, ncols, nrows;
} af_window;

/** Not collective. AF_EINVAL (naming the field and value) unless the grid is usable. */
int af_grid_validate(const af_grid *g, af_error *err);

/**
 * Not collective. Build a grid from a GDAL geotransform (gt[1] = dx > 0; gt[5] < 0 gives
 * rows_up = 0, gt[5] > 0 gives rows_up = 1; y0 = gt[3] either way, which is the edge of
 * storage row 0). AF_EINVAL if rotated (gt[2], gt[4] != 0) or sizes are not positive.
 * Ellipsoid set to WGS84; change it after the call if needed.
 */
int af_grid_from_geotransform(const double gt[6], long nx, long ny, int geographic, af_grid *out,
                              af_error *err);

/** Not collective. y extent of storage row r: *ymin < *ymax. */
void af_grid_row_bounds(const af_grid *g, long row, double *ymin, double *ymax);

/**
 * Not collective. Area of one cell of storage row `row`: dx*dy for projected grids; for
 * geographic grids the exact area on the ellipsoid of revolution (m^2) of the band between
 * the row's latitudes (clamped to [-90, 90]) times dx/360, from the authalic-latitude closed
 * form S(phi) = pi b^2 [sin(phi)/(1 - e^2 sin^2 phi) + atanh(e sin phi)/e] = 2 pi Rq^2 sin(beta).
 */
double af_grid_cell_area(const af_grid *g, long row);

/** Not collective. Authalic radius Rq (sphere of equal area) of the grid's ellipsoid. */
double af_grid_authalic_radius(const af_grid *g);

/* --------------------------------------------------------------- polygons */

/** One closed ring: n vertices as interleaved x,y pairs; the closing vertex may or may not be repeated. */
typedef struct af_ring {
    const double *xy;
    size_t n;
    int hole;                  /**< 1 for an interior ring (hole), 0 for an outer ring */
} af_ring;

/**
 * A polygon or multipolygon: all rings of all parts, each flagged outer or hole. Ring
 * orientation is ignored (each ring's own signed area decides). As in OGC validity,
 * outer rings must not overlap each other and holes must lie inside outer rings; the
 * result is sum(outer areas) - sum(hole areas), cell by cell.
 */
typedef struct af_polygon {
    const af_ring *rings;
    size_t nrings;
} af_polygon;

/* --------------------------------------------------------------- coverage */

/**
 * Exact coverage of one polygon: the cells it touches with the covered fraction of each
 * (planar, in grid coordinates), cell indices ascending. Caller-owned: dispose with
 * af_coverage_dispose. Fractions <= 1e-12 are dropped and values are clamped to [0, 1].
 */
typedef struct af_coverage {
    size_t n;                  /**< number of cells */
    long *cell;                /**< cell index r*nx + c, ascending */
    double *frac;              /**< covered fraction of the cell, (0, 1] */
    double area_total;         /**< planar polygon area in CRS units^2 */
    double area_inside;        /**< planar area of polygon ∩ grid extent, CRS units^2 */
    af_window window;          /**< bounding window of the cells (ncols = nrows = 0 if none) */
} af_coverage;

/**
 * Not collective. Compute the coverage of p over g. Polygons partly or wholly outside
 * the grid are fine (cells outside are skipped; n = 0 if none). Cost is
 * O(vertices + boundary cells + bounding-box cells). AF_EINVAL for an invalid grid, a ring
 * with fewer than 3 vertices, non-finite coordinates, or a zero/negative-area polygon;
 * AF_ENOMEM.
 */
int af_coverage_compute(const af_grid *g, const af_polygon *p, af_coverage *out, af_error *err);

/** Not collective. Free the arrays of a coverage (NULL-safe) and zero it. */
void af_coverage_dispose(af_coverage *cov);

/**
 * Reusable scratch of af_coverage_compute_dense (vertices, edge fragments, one row of running sums,
 * the dense result), grown as needed and kept between calls: no allocation per polygon once warm.
 * One workspace per thread.
 */
typedef struct af_coverage_ws af_coverage_ws;

/** Not collective. AF_ENOMEM. */
int af_coverage_ws_create(af_coverage_ws **out, af_error *err);
/** Not collective. NULL-safe, idempotent; sets *ws = NULL. */
void af_coverage_ws_destroy(af_coverage_ws **ws);

/** Dense coverage of a polygon over the cells of its bounding window (clipped to the grid). */
typedef struct af_coverage_dense {
    af_window window;          /**< bounding window, storage rows (ncols = nrows = 0 if outside the grid) */
    const double *frac;        /**< [window.nrows][window.ncols] storage order; 0 = not covered. Borrowed
                                    from the workspace: valid until its next use or destroy */
    double area_total;         /**< as af_coverage */
} af_coverage_dense;

/**
 * Not collective. The coverage of af_coverage_compute (the same fractions, bit for bit, and the
 * same errors; its area_inside is the sum of the fractions in storage order times dx*dy) as a dense window, without per-call allocation: cells no edge crosses (the interior)
 * cost one copy of their column's running sum. Cost O(vertices + boundary cells + window cells).
 */
int af_coverage_compute_dense(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_dense *out,
                              af_error *err);

/** Called by af_coverage_sweep_rows with one complete row: win = the window (as out->window),
 * row = storage row index in it, frac[win->ncols] (borrowed, valid during the call only). */
typedef void (*af_coverage_row_fn)(void *user, const af_window *win, long row, const double *frac);

/**
 * Not collective. The fractions of af_coverage_compute_dense, row by row, each handed to fn as soon
 * as it is complete (while it is still in cache) instead of stored: rows come in the sweep's order
 * (from the window's southern row north: storage rows descending on north-up grids,
 * ascending on rows_up ones), every row of the window once. out gets the window
 * and area_total; out->frac is NULL. The same errors as af_coverage_compute_dense.
 */
int af_coverage_sweep_rows(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_row_fn fn,
                           void *user, af_coverage_dense *out, af_error *err);

/**
 * A run of cells in one row of a polygon's coverage, columns c0..c1-1 of the window (c0 < c1).
 * full = 1: every cell is wholly covered (its fraction is exactly 1; frac is not written there);
 * full = 0: the cells' fractions are in frac[c0..c1-1] (boundary cells and partly covered columns,
 * 0 where not covered). Cells in no run are not covered (fraction 0).
 */
typedef struct af_coverage_run {
    long c0, c1;
    int full;
} af_coverage_run;

/** Called by af_coverage_sweep_runs with one row: win and row as af_coverage_row_fn, runs[0..nruns-1]
 * ascending and disjoint (none when the row is not covered), frac[win->ncols] written in the runs
 * with full = 0 only. All borrowed, valid during the call only. */
typedef void (*af_coverage_runs_fn)(void *user, const af_window *win, long row, const af_coverage_run *runs,
                                    size_t nruns, const double *frac);

/**
 * Not collective. The fractions of af_coverage_compute_dense, bit for bit, row by row in the order
 * of af_coverage_sweep_rows, each row as runs: wholly covered runs (the interior), runs of cells with
 * their fractions, and nothing for the uncovered cells. A row costs the boundary cells it holds and
 * the partly covered columns, plus one pass over a bitmap of the window's columns, never a pass over
 * the covered cells. out as af_coverage_sweep_rows; the same errors.
 */
int af_coverage_sweep_runs(af_coverage_ws *ws, const af_grid *g, const af_polygon *p, af_coverage_runs_fn fn,
                           void *user, af_coverage_dense *out, af_error *err);

/* ---------------------------------------------------------------- weights */

/**
 * Sparse weights, npoly rows x (nx*ny) columns, CSR with ascending columns:
 * w_ij = frac_ij * area_j * c_j (c_j the optional external cell weight, 1 if none).
 * Entries are kept for every covered cell, also where w_ij = 0 (c_j = 0).
 */
typedef struct af_weights af_weights;

/**
 * Not collective. Build weights for npoly polygons over g. cell_weight: NULL, or nx*ny
 * values in storage order (e.g. cropland fraction); NaN counts as 0; negative or infinite
 * values are AF_EINVAL. Errors of af_coverage_compute are reported with the polygon's index.
 */
int af_weights_build(const af_grid *g, const af_polygon *polys, size_t npoly,
                     const double *cell_weight, af_weights **out, af_error *err);

/** Not collective. NULL-safe, idempotent; sets *w = NULL. */
void af_weights_destroy(af_weights **w);

/** Not collective. Accessors (borrowed pointers valid until destroy). */
size_t af_weights_npoly(const af_weights *w);
size_t af_weights_nnz(const af_weights *w);
const af_grid *af_weights_grid_ref(const af_weights *w);
/** Row i: *n entries of cells (ascending), fractions and weights. i must be < npoly. */
void af_weights_row_ref(const af_weights *w, size_t i, size_t *n, const long **cell,
                        const double **frac, const double **weight);
/** Sum of the weights of polygon i (all covered cells inside the grid). */
double af_weights_total(const af_weights *w, size_t i);
/** Planar area of polygon i and of its part inside the grid extent (CRS units^2). */
double af_weights_area_total(const af_weights *w, size_t i);
double af_weights_area_inside(const af_weights *w, size_t i);
/** Bounding window of polygon i's cells (ncols = nrows = 0 if it touches no cell). */
af_window af_weights_window(const af_weights *w, size_t i);

/**
 * Not collective. Union of the windows of polygons idx[0..n-1] (all polygons if idx is
 * NULL), empty (all zero) if none touches the grid. AF_EINVAL for an index >= npoly.
 */
int af_weights_union_window(const af_weights *w, const size_t *idx, size_t n, af_window *out,
                            af_error *err);

/**
 * Not collective. Canonical little-endian byte form (format version 1): same weights give
 * the same bytes, so its SHA-256 identifies the content. Ends with the SHA-256 (64 hex
 * chars) of everything before it. *buf is malloc'd; free() it. AF_ENOMEM.
 */
int af_weights_serialize(const af_weights *w, unsigned char **buf, size_t *len, af_error *err);

/** Not collective. Inverse of serialize. AF_EFORMAT for a bad magic, version, size or checksum. */
int af_weights_deserialize(const unsigned char *buf, size_t len, af_weights **out, af_error *err);

/**
 * Not collective. Cache key: SHA-256 (hex) of a canonical encoding of the inputs of
 * af_weights_build (grid, every ring's flag and coordinates, cell_weight or its absence).
 */
int af_weights_key(const af_grid *g, const af_polygon *polys, size_t npoly,
                   const double *cell_weight, char hex[65], af_error *err);

/* -------------------------------------------------------------- aggregate */

typedef struct af_aggregate_opts {
    int version;                 /**< 1 */
    int has_nodata;              /**< 1: values equal to nodata are missing (NaN always is) */
    float nodata;
    double min_valid_fraction;   /**< mean (and std) NaN when valid fraction < this; in [0, 1] */
} af_aggregate_opts;

#define AF_AGGREGATE_OPTS_INIT { 1, 0, 0.0f, 0.0 }

/**
 * Caller-allocated outputs, each [npoly_sel * nt] laid out p*nt + t (p in selection
 * order). mean and valid_fraction are required; min, max, std may be NULL.
 *   mean            sum(w x) / sum(w) over valid cells (renormalised), NaN if the valid
 *                   fraction < min_valid_fraction or no valid weight;
 *   valid_fraction  sum(w, valid cells) / sum(w, all covered cells inside the grid);
 *                   0 if the polygon has no weight. The part of the polygon outside the
 *                   grid is NOT counted here: see af_weights_area_inside/area_total;
 *   min, max        over valid covered cells (frac > 0, whatever c_j), NaN if none;
 *   std             weighted population std sqrt(sum w (x-mean)^2 / sum w) with the mean's
 *                   weights, NaN when mean is NaN.
 * Sums run in CSR (ascending cell) order with double accumulators: deterministic.
 */
typedef struct af_aggregate_out {
    double *mean;
    double *valid_fraction;
    double *min;
    double *max;
    double *std;
} af_aggregate_out;

/**
 * Not collective. Aggregate nt days of values float[nt][win->nrows][win->ncols] (storage
 * rows) for polygons idx[0..npoly_sel-1] (all, in order, if idx is NULL; npoly_sel must then
 * equal npoly). AF_EINVAL if a selected polygon has a cell outside win, an index is out of
 * range, or opts are invalid.
 */
int af_aggregate_apply(const af_weights *w, const size_t *idx, size_t npoly_sel,
                       const float *values, long nt, const af_window *win,
                       const af_aggregate_opts *opts, af_aggregate_out *out, af_error *err);

/**
 * The prepared form of af_aggregate_apply (which is create, one day call per plane, destroy):
 * the selection is checked and every selected cell's offset in the window computed once, then
 * each day plane float[win->nrows][win->ncols] is handed over on its own, so a caller can unpack
 * one day at a time. Same sums in the same order, so the same bits as af_aggregate_apply.
 * Borrows w (must outlive the aggregator). Not collective.
 */
typedef struct af_aggregator af_aggregator;

/** Not collective. Errors as af_aggregate_apply (selection, window, opts); AF_ENOMEM. */
int af_aggregator_create(const af_weights *w, const size_t *idx, size_t npoly_sel, const af_window *win,
                         const af_aggregate_opts *opts, af_aggregator **out, af_error *err);

/**
 * Not collective. Day t of nt: writes entry s*nt + t of every non-NULL array of out (mean and
 * valid_fraction required), s in selection order. Cannot fail.
 */
void af_aggregator_day(const af_aggregator *a, const float *plane, long t, long nt, const af_aggregate_out *out);

/**
 * Not collective. Days t..t+nd-1 of nt from nd consecutive planes (planes + d * plane cells): the
 * same as nd af_aggregator_day calls, bit for bit, but faster (several days share each cell's
 * offset and weight). Cannot fail.
 */
void af_aggregator_days(const af_aggregator *a, const float *planes, long t, long nd, long nt,
                        const af_aggregate_out *out);

/**
 * Not collective. As af_aggregator_days for nd consecutive planes of 16-bit stored values (packed
 * NetCDF): cell value = lut[stored] (65536 entries indexed by the stored bits, NaN for fill values),
 * rows_reversed = 1 when the planes' rows run in the reverse order of the window's rows. Same bits
 * as unpacking each plane through lut and calling af_aggregator_day. Cannot fail.
 */
void af_aggregator_days_u16(const af_aggregator *a, const uint16_t *planes, const float *lut, int rows_reversed,
                            long t, long nd, long nt, const af_aggregate_out *out);

/** Not collective. NULL-safe, idempotent; sets *a = NULL. */
void af_aggregator_destroy(af_aggregator **a);

/* ----------------------------------------------------------------- sample */

typedef enum af_grid_interp { AF_GRID_NEAREST = 0, AF_GRID_BILINEAR = 1 } af_grid_interp;

/**
 * Not collective. Value of the raster at (x, y) (grid CRS). values is one day,
 * float[win->nrows][win->ncols]; nodata NULL means only NaN is missing.
 *   NEAREST   the cell containing the point; a point on a cell edge goes to the cell east
 *             of a vertical edge and south of a horizontal edge (points on the grid's outer
 *             edge to the adjacent cell inside); NaN if missing or outside grid or window.
 *   BILINEAR  between the four nearest cell centres; neighbours that are missing, outside
 *             the grid or outside the window are dropped and the weights of the others
 *             renormalised; NaN if all are dropped or the point is outside the grid.
 */
double af_grid_sample_point(const af_grid *g, const float *values, const af_window *win,
                            const float *nodata, double x, double y, af_grid_interp method);

#ifdef __cplusplus
}
#endif
#endif
