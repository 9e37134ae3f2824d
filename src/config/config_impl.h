/* SPDX-License-Identifier: MIT */
/* config_impl.h: internals shared by config.c and keys.c (the key tables). */
#ifndef AF_CONFIG_IMPL_H
#define AF_CONFIG_IMPL_H

#include "agroflux/config.h"

const af_key_spec *af__config_pipeline_keys(void);
const af_key_spec *af__config_counties_keys(void);
const af_key_spec *af__config_sites_keys(void);
const af_key_spec *af__config_find_key(const af_key_spec *table, const char *key);
/** A key of table one edit away from key (a likely typo), or NULL. */
const af_key_spec *af__config_near_key(const af_key_spec *table, const char *key);

/* [scenario.NAME] sections (scenarios.c). */
const af_key_spec *af__config_scenario_keys(void);
int af__config_check_keys(const af_config *cfg, const af_config_section *sec, const af_key_spec *table, af_error *err);
int af__config_load_scenario(af_config *cfg, const af_config_section *sec, af_error *err);
int af__config_scenarios_finish(af_config *cfg, const af_config_section *counties, af_error *err);
/* [splits] (splits.c): its key table and loader (after [pipeline], which it checks years against). */
const af_key_spec *af__config_splits_keys(void);
int af__config_load_splits(af_config *cfg, const af_config_section *sec, af_error *err);

/* --set overrides (overrides.c): apply before validation; hash file + overrides. */
int af__config_apply_sets(af_config *cfg, const char *const *sets, size_t n, af_error *err);
int af__config_hash(af_config *cfg, af_error *err);

#endif
