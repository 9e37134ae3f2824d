/* SPDX-License-Identifier: MIT */
/*
 * raster_zonal.h (private): raster pieces shared by the gridded, soil and cdl
 * source kinds. raster_geom.c: the rank's counties as polygons in a raster's
 * CRS (OGR/PROJ, traditional GIS axis order), sites as points, and window
 * arithmetic. raster_zonal.c: one GDAL band opened with its grid and CRS, and
 * streaming zonal statistics over exact cell coverage (src/geo), reading the
 * raster in strips of rows so memory is bounded by a strip, never the raster.
 */
#ifndef AF_RASTER_ZONAL_H
#define AF_RASTER_ZONAL_H

#include <stddef.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "agroflux/coverage.h"
#include "agroflux/source.h"

/* ------------------------------------------------------------ geometry */

/** The rank's samples in a raster CRS: one polygon per distinct county, sites as points. */
typedef struct rz_geom {
    size_t nlocal;
    long *sample_poly;      /* [nlocal]: polygon index, -1 for sites */
    size_t npoly;
    size_t *poly_unit;      /* [npoly]: county unit (af_sampleset_county_*) */
    af_polygon *polys;      /* [npoly], coordinates in the raster CRS */
    double *site_x, *site_y;/* [nlocal]: site position in the raster CRS, NaN for counties */
    struct rz_pbuf *pbs;    /* storage of polys */
} rz_geom;

/** Build g for the samples ctx->range of ctx->set: county polygons and site points in raster_wkt. */
int af__rz_geom_build(const af_source_ctx *ctx, const char *raster_wkt, rz_geom *g, af_error *err);
void af__rz_geom_dispose(rz_geom *g);
/**
 * The CRS of an open raster: the file's own when it has one, else crs_key (the pipeline's `crs`);
 * neither is AF_ECRS naming path and suggesting `crs = <example>`. Never a silent guess.
 * *out is the caller's to OSRDestroySpatialReference.
 */
int af__raster_crs(GDALDatasetH ds, const char *path, const char *crs_key, const char *example,
                   OGRSpatialReferenceH *out, af_error *err);
/** Open-time check: the county layer's and sites' CRSs transform into raster_wkt. */
int af__rz_check_crs(const af_source_ctx *ctx, const char *raster_wkt, af_error *err);

void af__rz_window_union(af_window *a, const af_window *b);
/** Cells of a polygon's envelope, clipped to the grid (empty if outside). */
af_window af__rz_envelope_window(const af_grid *g, const af_polygon *p);
/** 3x3 cells around a point (nearest and bilinear neighbourhood), clipped to the grid. */
af_window af__rz_site_window(const af_grid *g, double x, double y);
/** The sub-grid of g covering window w. */
af_grid af__rz_sub_grid(const af_grid *g, const af_window *w);

/* -------------------------------------------------------------- raster */

/** One band of a GDAL raster, with its grid, CRS, packing and nodata. */
typedef struct rz_raster {
    char path[4096];
    GDALDatasetH ds;
    GDALRasterBandH band;
    af_grid grid;
    double gt[6];
    char *wkt;              /* CPLMalloc'd */
    int has_nodata;
    double nodata, scale, offset;
    int blk_x, blk_y;       /* block size (strips are multiples of blk_y) */
    GDALDataType type;      /* the band's native type */
} rz_raster;

/** Open band 1 of path. crs_key: CRS to use when the file declares none ("" = error). */
int af__rz_raster_open(rz_raster *r, const char *path, const char *crs_key, af_error *err);
void af__rz_raster_close(rz_raster *r);
/** Same size, geotransform (1e-9 relative) and CRS. */
int af__rz_raster_same_grid(const rz_raster *a, const rz_raster *b);
/** Read window w into buf (float, storage rows); nodata and non-finite -> NaN, unpacked. */
int af__rz_raster_read(const rz_raster *r, const af_window *w, float *buf, af_error *err);
/** Value at (x, y) in the raster CRS (nearest or bilinear); NaN outside or missing. log10: 10^v first. */
int af__rz_raster_sample(const rz_raster *r, double x, double y, af_grid_interp m, int log10v, double *out,
                         af_error *err);

/**
 * Parse a comma list of class codes (integers 0..255, duplicates dropped) into out[0..*n-1].
 * AF_EINVAL naming the item for anything else; empty list is an error.
 */
int af__rz_parse_classes(const char *list, int *out, size_t cap, size_t *n, af_error *err);
/** A VRT over band 1 of src (path for the XML) with 1 where the class is in classes, else 0 (Float32). */
int af__rz_class_mask_vrt(GDALDatasetH src, const char *path, const int *classes, size_t n, GDALDatasetH *out,
                          af_error *err);

/**
 * Average band 1 of src onto the cells of grid g (CRS wkt) with gdalwarp -r average (any source
 * grid and CRS; memory: g's cells). out: g's cells in storage order (rows_up honoured), of type
 * Float32 or Float64; NaN where no source data. label names src in errors.
 */
int af__rz_warp_average(GDALDatasetH src, const char *label, const af_grid *g, const char *wkt, GDALDataType type,
                        void *out, af_error *err);

/* ------------------------------------------------------ zonal statistics */

typedef enum rz_mode { RZ_MEAN = 0, RZ_CLASSES = 1 } rz_mode;
#define RZ_NCLASS 256       /* class codes 0..255 (CDL) */

/**
 * Optional cell weights: a fraction 0..1 (NaN or nodata = 0), or, with classes != NULL, 1 where
 * the cell's class is in classes[0..nclasses-1], else 0. On the value raster's grid r is read
 * cell for cell; on any other grid or CRS (warp = 1) each strip is averaged from src (the
 * raster, or its class-mask VRT, af__rz_class_mask_vrt) onto the strip's cells.
 */
typedef struct rz_mask {
    const rz_raster *r;
    const int *classes;
    size_t nclasses;
    int warp;
    GDALDatasetH src;
} rz_mask;

/**
 * Per polygon results. RZ_MEAN: sum_wx, sum_wv (valid weight) and sum_wall (all covered cells
 * inside the grid), w = covered fraction x cell area x mask weight; log10: x = 10^value.
 * RZ_CLASSES: hist[p*RZ_NCLASS + code] = covered area of cells of that class (nodata dropped).
 * Both: area_cov[p] = covered area inside the grid (unmasked), area_frac_inside[p] = inside/total.
 * All arrays caller-allocated and zeroed here.
 */
typedef struct rz_result {
    double *sum_wx, *sum_wv, *sum_wall;
    double *hist;
    double *area_cov;
    double *inside;
} rz_result;

typedef struct rz_stats {
    long long cells;        /* covered cells visited (bench) */
    long long cells_read;   /* cells read from the raster */
    long strips;
} rz_stats;

/**
 * Stream rasters rs[0..nr-1] (one grid: e.g. the depth layers of a property) over the polygons'
 * cells in strips of about strip_cells cells in all (0 = default), each strip's coverage computed
 * once for all of them; res[j] gets raster j's sums. AF_EINVAL if the grids differ.
 */
int af__rz_zonal(const rz_raster *const *rs, size_t nr, const rz_mask *mask, const af_polygon *polys, size_t npoly,
                 rz_mode mode, int log10v, long strip_cells, rz_result *res, rz_stats *stats, af_error *err);

#endif
