/* SPDX-License-Identifier: MIT */
/*
 * synth_geo.h (private): deterministic synthetic county polygons for
 * `agroflux synth`. An irregular tiling of a lon/lat rectangle in the Corn Belt
 * (-94..-88 E, 40..43 N) built from a jittered lattice whose nodes and edge
 * midpoints are shared by neighbouring polygons, so the polygons cover the
 * rectangle with no gaps and no overlaps. Same (n, seed) gives the same output
 * on every platform (splitmix64, no rand()). Not collective.
 */
#ifndef AF_SYNTH_GEO_H
#define AF_SYNTH_GEO_H

#include "agroflux/error.h"

typedef struct af_synth_county {
    char fips[6];      /**< "19" + odd 3-digit county code: 19001, 19003, ... */
    char name[32];     /**< "Synth 001" */
    int nvert;         /**< ring vertices including the closing one */
    double *lon, *lat; /**< closed ring, counter-clockwise, first == last */
    double area_deg2;  /**< shoelace area in square degrees */
} af_synth_county;

/** Region tiled by af_synth_counties_make (degrees). */
#define AF_SYNTH_LON_MIN (-94.0)
#define AF_SYNTH_LON_MAX (-88.0)
#define AF_SYNTH_LAT_MIN 40.0
#define AF_SYNTH_LAT_MAX 43.0
/** At most 500 counties: county codes 001..999 odd. */
#define AF_SYNTH_MAX_COUNTIES 500

/** Make ncounties (1..500) polygons into *out (free with af_synth_counties_free). */
int af_synth_counties_make(int ncounties, unsigned long seed, af_synth_county **out, af_error *err);

/**
 * Write the polygons with OGR. A path ending in ".gpkg" gives a GeoPackage, any
 * other a GeoJSON file; layer "counties", CRS EPSG:4269 (NAD83), fields GEOID,
 * NAME, STATEFP, COUNTYFP. An existing file at path is replaced.
 */
int af_synth_counties_write(const char *path, const af_synth_county *c, int n, af_error *err);

/** NULL-safe. */
void af_synth_counties_free(af_synth_county *c, int n);

#endif
