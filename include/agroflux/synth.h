/* SPDX-License-Identifier: MIT */
/*
 * agroflux/synth.h: a synthetic raw-source tree in real formats, for tests,
 * demos and benchmarks. Values are a documented function of (sample, date,
 * variable) (docs/formats.md, "synth values") so a test can recompute every
 * output cell independently. Not collective; deterministic for a seed.
 */
#ifndef AGROFLUX_SYNTH_H
#define AGROFLUX_SYNTH_H

#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct af_synth_opts {
    int ncounties;          /**< default 12 */
    int nscenarios;         /**< default 2 */
    int nsites;             /**< default 3 (leave-one-site-out folds need 3) */
    int year0, year1;       /**< default 2002-2004 (three years: a temporal split; 2004 is a leap year) */
    unsigned long seed;     /**< polygon shapes; default 1 */
    int write_pipeline;     /**< write DIR/pipeline*.ini (default 1) */
    const char *counties_from; /**< CSV with column fips (and name): counties in its row order
                                    (tag u = row number); ncounties 0 = every row; NULL: synthetic
                                    FIPS 19001, 19003, ... */
    unsigned parts;         /**< AF_SYNTH_PART_* bits to write; default AF_SYNTH_PART_ALL */
    double daymet_spacing_m;/**< Daymet grid spacing, a multiple of 1000 m; default 10000 */
    double raster_res_m;    /**< soil, cropland and CDL cell size in m; default 2000 */
    int raster_tile;        /**< soil/CDL cells per constant tile side; default 4 */
} af_synth_opts;

/** Parts of the tree (docs/formats.md, "Synth layout"). */
enum {
    AF_SYNTH_PART_TABLES = 1u,   /**< counties.geojson, site_lists/, tables/ (always written) */
    AF_SYNTH_PART_GRIDDED = 2u,  /**< gridmet/, daymet/ */
    AF_SYNTH_PART_SOIL = 4u,     /**< soil/, cdl/ */
    AF_SYNTH_PART_MGMT = 8u,     /**< mgmt/ */
    AF_SYNTH_PART_OBS = 16u,     /**< towers/, fluxnet/, chambers/ */
    AF_SYNTH_PART_MODELS = 32u,  /**< ecosys/, daycent/ */
    AF_SYNTH_PART_ALL = 63u
};

#define AF_SYNTH_OPTS_INIT { 12, 2, 3, 2002, 2004, 1UL, 1, NULL, AF_SYNTH_PART_ALL, 10000.0, 2000.0, 4 }

/** Write the tree under dir (created). */
int af_synth_write(const char *dir, const af_synth_opts *opts, af_error *err);

#ifdef __cplusplus
}
#endif
#endif
