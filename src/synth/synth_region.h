/* SPDX-License-Identifier: MIT */
/*
 * synth_region.h (private): the one description of a synthetic region that
 * af_synth_write builds once and hands to every writer: counties (FIPS, name,
 * tag u = position 1..N in site_lists/counties.csv, polygon), sites (id, tag
 * 500 + s, location), scenarios (names N%03d and rates) and years. Writers take
 * ids and tags from here and never recompute them. Not collective.
 */
#ifndef AF_SYNTH_REGION_H
#define AF_SYNTH_REGION_H

#include "agroflux/error.h"
#include "agroflux/synth.h"
#include "synth_geo.h"

typedef struct af_synth_site {
    char id[16];     /**< US-Sx<s> */
    int tag;         /**< 500 + s */
    double lat, lon; /**< EPSG:4326 */
} af_synth_site;

typedef struct af_synth_scenario {
    char name[16];   /**< N%03d of floor(rate) */
    double rate;     /**< kg N ha-1: 336 k / (K - 1), 0 when K = 1 */
} af_synth_scenario;

typedef struct af_synth_region {
    int ncounties;
    af_synth_county *county;   /**< county i has tag u = i + 1 */
    int nsites;
    af_synth_site *site;       /**< site j has tag 500 + j + 1 */
    int nscenarios;
    af_synth_scenario *scenario;
    int year0, year1;
    /* The same ids as string arrays, for writers that take lists. */
    const char **fips, **site_ids, **scenario_names;
} af_synth_region;

/** Build the region of opts (validated; counties from opts->counties_from when set). */
int af__synth_region_make(const af_synth_opts *opts, af_synth_region *r, af_error *err);

/** Free what af__synth_region_make allocated (NULL-safe, idempotent). */
void af__synth_region_dispose(af_synth_region *r);

/** Tag u of county i (0-based) and of site j (0-based). */
static inline int af__synth_county_tag(int i) { return i + 1; }
static inline int af__synth_site_tag(int j) { return 500 + j + 1; }

#endif
