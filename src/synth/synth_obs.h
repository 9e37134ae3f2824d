/* SPDX-License-Identifier: MIT */
/*
 * synth_obs.h (private): synthetic flux-tower and N2O chamber files for the synth
 * sites US-Sx1, US-Sx2, ... (the ids af_synth_write puts in site_lists/sites.csv),
 * in the real formats: AmeriFlux BASE (HH for odd sites, HR for even sites),
 * FLUXNET FULLSET DD and HH, and one chamber CSV. Every value is a documented
 * function of (site, date, variable, record) (docs/formats.md, "synth
 * observations"), so a test can recompute every daily output cell. Not
 * collective; deterministic.
 */
#ifndef AF_SYNTH_OBS_H
#define AF_SYNTH_OBS_H

#include "agroflux/error.h"
#include "synth_region.h"

/**
 * Write under dir: towers/AMF_US-Sx<s>_BASE_{HH|HR}_1-5.csv,
 * fluxnet/FLX_US-Sx<s>_FLUXNET2015_FULLSET_{DD|HH}_<y0>-<y1>_1-4.csv and
 * chambers/chambers.csv for the region's sites (site s = index + 1) and years.
 * Errors: AF_EIO.
 */
int af__synth_obs_write(const char *dir, const af_synth_region *r, af_error *err);

#endif
