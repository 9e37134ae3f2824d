/* SPDX-License-Identifier: MIT */
/*
 * synth_soil.h (private): synthetic soil property and Cropland Data Layer
 * GeoTIFFs for the synth region (synth_geo.h, -94..-88 E, 40..43 N), in
 * EPSG:5070 (Albers) like gSSURGO and the CDL. Values are constant on square
 * tiles of `tile` cells (tile (ti, tj) = cells ti*tile.. of columns, tj*tile..
 * of rows), so county means are computable independently from tile polygons.
 * Not collective.
 */
#ifndef AF_SYNTH_SOIL_H
#define AF_SYNTH_SOIL_H

#include "agroflux/error.h"

/** Soil properties written by af_synth_soil_write, as soil/<name>_<layer>.tif. */
#define AF_SYNTH_SOIL_NPROP 7
#define AF_SYNTH_SOIL_NLAYER 3
/** Nodata of the soil rasters (Float32). The CDL rasters are Byte with nodata 0. */
#define AF_SYNTH_SOIL_NODATA (-9999.0)

typedef struct af_synth_soil_prop {
    const char *name;   /**< file prefix: bd, sand, silt, ph, cec, soc, om */
    const char *units;  /**< units of the stored (linear) value */
    int log10;          /**< 1: the raster stores log10 of the value (om) */
} af_synth_soil_prop;

/** The properties, layer names ("0-5", "5-15", "15-30") and their depths in cm. */
const af_synth_soil_prop *af_synth_soil_props(void);
const char *af_synth_soil_layer(int layer);

/**
 * Stored value of property p, layer l on tile (ti, tj): NAN where the tile is nodata
 * ((ti + 2 tj + l + p) % 13 == 0), else base_p + step_p * ((7 ti + 3 tj + 5 l + p) % 11)
 * (for om: log10 of that). Cropland fraction of a tile (soil/cropland.tif):
 * ((3 ti + 5 tj) % 5) / 4, and the CDL class of a tile in a year: classes
 * {1, 5, 1, 24, 5, 111, 176, 1, 0} at index (5 ti + 3 tj + year) % 9 (0 = nodata).
 */
double af_synth_soil_value(int p, int l, long ti, long tj);
double af_synth_cropland_value(long ti, long tj);
int af_synth_cdl_class(long ti, long tj, int year);

/**
 * Write dir/soil/<prop>_<layer>.tif for every property and layer, and dir/soil/cropland.tif
 * (fraction). res: cell size in metres; tile: cells per tile side. The grid covers the synth
 * region's EPSG:5070 envelope plus 2 cells, snapped to res. Directories are created.
 */
int af_synth_soil_write(const char *dir, double res, int tile, af_error *err);

/** Write dir/cdl/<year>_30m_cdls.tif for year0..year1 (Byte, nodata 0) and dir/cdl/classes.csv. */
int af_synth_cdl_write(const char *dir, int year0, int year1, double res, int tile, af_error *err);

#endif
