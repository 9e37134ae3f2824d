/* SPDX-License-Identifier: MIT */
/*
 * synth_mgmt.h (private): management files for the synthetic region of
 * `agroflux synth` (the counties, sites and scenarios of synth_region.h),
 * written from formulas a test recomputes. Tag u = c for county c, 500 + s for
 * site s (as in docs/formats.md "Synth values"); y = year; doy = day of year.
 *
 * mgmt/planting_{year}.csv (match = county): columns key,year,crop,plant_date,
 *   harvest_date; one row per county (key = FIPS) and per site (key = site id):
 *     crop        1 (corn) if (u + y) is even, else 5 (soybean)
 *     plant doy   100 + (7u + 3(y mod 10)) mod 36
 *     harvest doy 260 + (11u + (y mod 10)) mod 50
 * mgmt/state_planting_{year}.csv (match = state): one row, key "19", crop 1,
 *     plant doy 120 + (y mod 10), harvest doy 280 + (y mod 10).
 * mgmt/fertilizer_sites.csv: columns site,date,amount,units; per site s, year y:
 *     on its plant doy: 10s + (y mod 100) kg N ha-1;
 *     on doy 170 + s: 2.5 g N m-2;
 *     site 1 in leap years also: doy 365 (Dec 30) 2 kg N ha-1 and doy 366
 *     (Dec 31) 3 kg N ha-1 (under noleap both land on Dec 30: 0.5 g N m-2).
 * Scenario sections: [scenario.N%03d] for k = 0..K-1, name rate
 *   floor(336k/(K-1)) as `agroflux synth` names them (0 when K = 1), n_rate =
 *   336k/(K-1) printed with %.4f, n_units = kg N ha-1, n_timing = planting.
 * Not collective.
 */
#ifndef AF_SYNTH_MGMT_H
#define AF_SYNTH_MGMT_H

#include <stdio.h>
#include "agroflux/error.h"
#include "synth_region.h"

/** Write the planting tables and the site fertilizer file under dir for the region and its years. */
int af__synth_mgmt_write(const char *dir, const af_synth_region *r, af_error *err);

/** Write the [scenario.NAME] sections of the region's scenarios (evenly spaced N rates over 0..336 kg N ha-1). */
int af__synth_mgmt_scenarios(FILE *fp, const af_synth_region *r, af_error *err);

/** The planting/harvest day of year and crop of tag u in year y (the formulas above). */
int af__synth_mgmt_plant_doy(int u, int y);
int af__synth_mgmt_harvest_doy(int u, int y);
int af__synth_mgmt_crop(int u, int y);

#endif
