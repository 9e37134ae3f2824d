/* SPDX-License-Identifier: MIT */
/*
 * samples_impl.h (private): the layout of af_sampleset shared by sampleset.c
 * (loading, ordering, lookup), sampleset_pack.c (one rank's set sent to the
 * others) and partition.c (Hilbert curve, rank slices).
 * Samples are stored in global order; county indices follow that order, so
 * county c's scenarios are one contiguous run. Not collective.
 */
#ifndef AF_SAMPLES_IMPL_H
#define AF_SAMPLES_IMPL_H

#include <stddef.h>
#include "agroflux/samples.h"

struct af_sampleset {
    size_t n;                    /**< number of samples */
    af_sample *samples;          /**< n samples, global order */
    size_t ncounties;            /**< counties in global order */
    char (*county_fips)[8];      /**< ncounties FIPS strings */
    unsigned char **county_wkb;  /**< ncounties ISO WKB polygons (layer CRS) */
    size_t *county_wkb_len;
    size_t nsites;
    char *crs_wkt;               /**< layer CRS as WKT, "" if none */
    size_t hcap;                 /**< power of two; 0 when n == 0 */
    size_t *htab;                /**< open addressing: sample index + 1, 0 = empty */
};

/** The id lookup table of set->samples; AF_EINVAL if an id is not unique. */
int af__sampleset_build_hash(af_sampleset *set, af_error *err);

#endif
