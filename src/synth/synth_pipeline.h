/* SPDX-License-Identifier: MIT */
/*
 * synth_pipeline.h (private): the pipeline files `agroflux synth` writes next to
 * its tree (docs/formats.md, "Synth layout"): pipeline.ini (the AgroFlux
 * benchmark: 11 inputs + extras, Ecosys targets for counties, tower and chamber
 * targets for sites), pipeline-daycent.ini (DayCent targets, Daymet weather) and
 * pipeline-tables.ini (the table-only pipeline). Not collective.
 */
#ifndef AF_SYNTH_PIPELINE_H
#define AF_SYNTH_PIPELINE_H

#include "synth_region.h"

/** Write the pipelines whose parts (AF_SYNTH_PART_* bits) were written; the tables one always. */
int af__synth_pipelines_write(const char *dir, const af_synth_region *r, unsigned parts, af_error *err);

#endif
