/* SPDX-License-Identifier: MIT */
/*
 * obs_impl.h: helpers shared by the observation source kinds (private):
 * "tower" (tower_source.c) and "chamber" (chamber_source.c). Both read one
 * file per site found through a path template ({site}, then an optional glob)
 * and both map a block of the daily axis onto a contiguous range of epoch days.
 * Not collective.
 */
#ifndef AF_OBS_IMPL_H
#define AF_OBS_IMPL_H

#include <stddef.h>
#include "agroflux/source.h"

/**
 * The file of site sample s for the template in key `key` of section sec:
 * af__template_expand, then, if the result contains a glob character (* ? [),
 * glob(3) which must match exactly one file. *found = 0 when nothing matches
 * (or the expanded path is not readable); the caller decides if that is an
 * error. Two or more matches are AF_ECONFIG naming the first two.
 */
int af__obs_site_file(const af_config *cfg, const af_config_section *sec, const char *key,
                      const af_sample *s, char *out, size_t n, int *found, af_error *err);

/** Does the template name one file per site ({site} or {id})? */
int af__obs_per_site(const char *tmpl);

/** Do a feature's applies_to and the sample kind let it be read for s? */
int af__obs_applies(const af_feature_cfg *f, const af_sample *s);

/** Does the feature's optional `sign` text, when given, contain `needle`? AF_ECONFIG if not. */
int af__obs_check_sign(const af_config *cfg, const af_feature_cfg *f, const char *needle, af_error *err);

/** A key value shared by all features of a group must agree (AF_ECONFIG naming both sections). */
int af__obs_same_key(const af_config *cfg, const af_feature_cfg *a, const af_feature_cfg *b,
                     const char *key, af_error *err);

#endif
