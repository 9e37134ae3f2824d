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
    int nsites;             /**< default 2 */
    int year0, year1;       /**< default 2003-2004 (2004 is a leap year) */
    unsigned long seed;     /**< polygon shapes; default 1 */
    int write_pipeline;     /**< write DIR/pipeline.ini (default 1) */
} af_synth_opts;

#define AF_SYNTH_OPTS_INIT { 12, 2, 2, 2003, 2004, 1UL, 1 }

/** Write the tree under dir (created). */
int af_synth_write(const char *dir, const af_synth_opts *opts, af_error *err);

#ifdef __cplusplus
}
#endif
#endif
