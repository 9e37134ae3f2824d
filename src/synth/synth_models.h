/* SPDX-License-Identifier: MIT */
/*
 * synth_models.h (private): synthetic Ecosys and DayCent run trees in the
 * native formats, with values from the tagged formula of docs/formats.md
 * ("Synth values: Ecosys and DayCent runs"), so a test can recompute every
 * target cell. Not collective; deterministic.
 */
#ifndef AF_SYNTH_MODELS_H
#define AF_SYNTH_MODELS_H

#include "agroflux/error.h"

typedef struct af_synth_models_opts {
    const char *const *fips;      /**< county FIPS; county tag u = index + 1 */
    int ncounties;
    const char *const *scenarios; /**< scenario names; scenario index k = index */
    int nscenarios;
    const char *const *sites;     /**< site ids (DayCent only); tag u = 500 + index + 1 */
    int nsites;
    int year0, year1;
} af_synth_models_opts;

/**
 * Ecosys tree: dir/ecosys/{fips}/{scenario}/01010{year}{dc,dw,dh,dn}, one file
 * per county x scenario x year x group (cumulative fluxes, E notation, -9999 holes).
 */
int af__synth_ecosys_write(const char *dir, const af_synth_models_opts *o, af_error *err);

/**
 * DayCent tree: dir/daycent/{id}/ ({id} of FIPS:SCENARIO is FIPS_SCENARIO, or the site id) with
 * soils.in, nflux.out, summary.out, soiltavg.out and vswc.out (no header),
 * dc_sip.csv and harvest.csv (trailing commas), covering year0..year1.
 */
int af__synth_daycent_write(const char *dir, const af_synth_models_opts *o, af_error *err);

#endif
