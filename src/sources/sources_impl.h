/* SPDX-License-Identifier: MIT */
/*
 * sources_impl.h: helpers shared by the source kinds in src/sources/ (private).
 * Path templates: a pipeline-file path may name one file per year, per sample,
 * per county, per scenario or per site with placeholders, expanded here so
 * every source kind spells them the same way (docs/pipelines.md). The kit of a
 * source kind (kind_common.c): applies_to, group keys every feature of a group
 * must share, the files() callback.
 */
#ifndef AF_SOURCES_IMPL_H
#define AF_SOURCES_IMPL_H

#include <stddef.h>
#include "agroflux/config.h"
#include "agroflux/samples.h"
#include "agroflux/source.h"

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

/**
 * Check a template whose source expands only some placeholders itself: every {name} (after
 * a leading {root}) must be one of known ("year id"); else AF_ECONFIG naming the feature
 * section, key, placeholder and template.
 */
int af__template_check(const af_config *cfg, const af_config_section *sec, const char *key, const char *tmpl,
                       const char *known, af_error *err);

/** Does the template use any per-sample placeholder ({id} {fips} {state} {scenario} {site})? */
int af__template_per_sample(const char *tmpl);
/** Does the template use {year}? */
int af__template_per_year(const char *tmpl);

/* ---- the kit of a source kind (kind_common.c) ---- */

/** 1 if memo (may be NULL) holds key: a check of that key passed in this run. */
int af__memo_seen(const af_source_memo *memo, const char *key);
/** Record that the check of key passed (memo NULL: nothing). */
int af__memo_note(af_source_memo *memo, const char *key, af_error *err);

/** 1 if feature f is read for sample s (its applies_to, or the section's @counties/@sites). */
int af__kind_applies(const af_feature_cfg *f, const af_sample *s);

/**
 * The files() callback of a kind whose state keeps its files as `paths` (an array of
 * paths) and their count `count`: AF_SOURCE_FILES_FN(tower_files, tower_state, paths, npaths).
 */
#define AF_SOURCE_FILES_FN(fn, state_type, paths_field, count_field)                     \
    static int fn(void *vst, const char *const **paths, size_t *n, af_error *err)        \
    {                                                                                   \
        (void)err;                                                                      \
        const state_type *st = vst;                                                     \
        *paths = (const char *const *)st->paths_field;                                  \
        *n = st->count_field;                                                           \
        return AF_OK;                                                                   \
    }

/**
 * Features grouped together (same source kind, same path) are read in one pass, so the
 * keys listed must agree between every feature and the first: AF_ECONFIG naming the
 * file, line, section and key that differs, and the section and path it differs from.
 */
int af__group_keys_agree(const af_config *cfg, const af_feature_cfg *const *feats, size_t nfeat,
                         const char *const *keys, size_t nkeys, af_error *err);

#endif
