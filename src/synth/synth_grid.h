/* SPDX-License-Identifier: MIT */
/*
 * synth_grid.h (private): synthetic gridded daily weather in the real file
 * layouts, for tests and benchmarks. gridMET: one NetCDF-4 file per variable
 * and year, <var>_<year>.nc, on the real 1/24 degree CONUS lattice (packed
 * uint16 with scale_factor/add_offset/_FillValue 32767, `day` axis in days
 * since 1900-01-01, lat north to south, WGS84 `crs` variable). Daymet v4:
 * daymet_v4_daily_na_<var>_<year>.nc, Lambert Conformal Conic (the real
 * projection parameters) at a chosen spacing, 365 days a year (Dec 31 of leap
 * years absent), float32 with -9999 fill. Values are a documented function of
 * (global cell index, day of year, variable) with nodata holes (docs/formats.md,
 * "Synth gridded weather"), so a test can recompute every county mean. Not
 * collective; files appear under their final name only when complete.
 */
#ifndef AF_SYNTH_GRID_H
#define AF_SYNTH_GRID_H

#include "agroflux/error.h"

/** A lon/lat box (degrees, WGS84/NAD83). */
typedef struct af_synth_box {
    double lon_min, lon_max, lat_min, lat_max;
} af_synth_box;

/** Margin added around the synth county region (synth_geo.h) by af__synth_grid_region. */
#define AF_SYNTH_GRID_MARGIN 0.5

/** The synth county region (-94..-88 E, 40..43 N) grown by AF_SYNTH_GRID_MARGIN. */
af_synth_box af__synth_grid_region(void);

/**
 * Write dir/<var>_<year>.nc, gridMET style, over the cells of the gridMET lattice whose
 * centres lie in box (NULL: af__synth_grid_region()). var: tmmx tmmn pr srad vs rmax rmin
 * vpd. AF_EINVAL for an unknown variable, a year outside 1900..2100 or an empty box;
 * AF_EIO for netCDF errors (with the path).
 */
int af__synth_gridmet_write(const char *dir, const char *var, int year, const af_synth_box *box,
                            af_error *err);

/**
 * Write dir/daymet_v4_daily_na_<var>_<year>.nc, Daymet v4 style, over the cells (edges on
 * the Daymet lattice coarsened to spacing_m, a positive multiple of 1000 m) that cover box
 * (NULL: af__synth_grid_region()) in Lambert Conformal Conic. var: tmax tmin prcp srad vp
 * dayl. AF_EINVAL for an unknown variable, a bad spacing or year; AF_ECRS, AF_EIO.
 */
int af__synth_daymet_write(const char *dir, const char *var, int year, double spacing_m,
                           const af_synth_box *box, af_error *err);

#endif
