/* SPDX-License-Identifier: MIT */
/*
 * agroflux/stats.h: what an output holds, per variable x sample kind x calendar year:
 * cells, valid (finite) cells, missing (fill) cells, min, mean, max, and cells outside the
 * documented physical bounds of the variable (af_stats_bounds; docs/formats.md,
 * "Physical bounds"). Computed from finished shards in a fixed order, so the numbers do
 * not depend on how the output was written. Not collective (PnetCDF on MPI_COMM_SELF).
 */
#ifndef AGROFLUX_STATS_H
#define AGROFLUX_STATS_H

#include <stddef.h>

#include "agroflux/error.h"
#include "agroflux/index.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One row: a variable (inputs first, then targets, index order), a sample kind, a year. */
typedef struct af_stats_row {
    size_t var;            /**< 0..ninputs-1 inputs, then targets */
    int is_target;
    af_sample_kind kind;   /**< AF_SAMPLE_COUNTY or AF_SAMPLE_SITE */
    int year;
    long long cells, valid, missing;
    long long below, above; /**< valid cells below / above the bounds (0 when no bounds) */
    double min, max, mean;  /**< NaN when valid == 0 */
} af_stats_row;

typedef struct af_stats {
    af_stats_row *rows;    /**< variable-major, then kind (county, site), then year */
    size_t nrows;
} af_stats;

/**
 * The documented physical bounds of a variable, converted to its units: 1 and *lo, *hi
 * (either may be -INFINITY / INFINITY) when the name is in the bounds table and its units
 * convert to the table's; 0 when there are none. *why (may be NULL) gets the table's reason.
 */
int af_stats_bounds(const char *name, const char *units, double *lo, double *hi, const char **why);

/** Compute the statistics of a finished output (its index already read). Rows with no cells
 * (a kind the output has no samples of) are left out. Dispose with af_stats_dispose. */
int af_stats_compute(const char *outdir, const af_index *idx, af_stats *out, af_error *err);

void af_stats_dispose(af_stats *st);

/** Print the bounds table as Markdown (docs/formats.md embeds it). */
void af_stats_print_bounds_markdown(void *fp /* FILE* */);

#ifdef __cplusplus
}
#endif
#endif
