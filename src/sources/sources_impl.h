/* SPDX-License-Identifier: MIT */
/*
 * sources_impl.h: helpers shared by the source kinds in src/sources/ (private).
 * Path templates: a pipeline-file path may name one file per year, per sample,
 * per county, per scenario or per site with placeholders, expanded here so
 * every source kind spells them the same way (docs/pipelines.md). Group keys:
 * the keys every feature of a group must share.
 */
#ifndef AF_SOURCES_IMPL_H
#define AF_SOURCES_IMPL_H

#include <stddef.h>
#include "agroflux/config.h"
#include "agroflux/samples.h"

/**
 * Expand a path template and resolve it against the pipeline file's directory.
 * Placeholders: {year} (4 digits; needs year > 0), {id} (sample id, with ':'
 * written '_': FIPS_SCENARIO, so no file name has a ':'), {fips}
 * (5-digit county FIPS), {state} (its first 2 digits), {scenario}, {site}
 * (site id); {root} (leading, or after /vsizip/) is kept for af_config_resolve
 * ([pipeline] data_root). A placeholder the sample cannot fill (e.g. {fips} for a site, or
 * any sample placeholder with s == NULL) or an unknown {name} is AF_ECONFIG
 * naming the feature section, key and template. sec/key only label errors.
 */
int af__template_expand(const af_config *cfg, const af_config_section *sec, const char *key,
                        const char *tmpl, const af_sample *s, int year, char *out, size_t n,
                        af_error *err);

/** Does the template use any per-sample placeholder ({id} {fips} {state} {scenario} {site})? */
int af__template_per_sample(const char *tmpl);
/** Does the template use {year}? */
int af__template_per_year(const char *tmpl);

/** The key's raw value in sec, or def when the key is absent (group.c). */
const char *af__key_or(const af_config_section *sec, const char *key, const char *def);

/**
 * Features grouped together (same source kind, same path) are read in one pass, so the
 * keys listed must agree between every feature and the first: AF_ECONFIG naming the
 * file, line, section and key that differs, and the section and path it differs from.
 */
int af__group_keys_agree(const af_config *cfg, const af_feature_cfg *const *feats, size_t nfeat,
                         const char *const *keys, size_t nkeys, af_error *err);

#endif
