/* SPDX-License-Identifier: MIT */
/* config_impl.h: internals shared by config.c and keys.c (the key tables). */
#ifndef AF_CONFIG_IMPL_H
#define AF_CONFIG_IMPL_H

#include "agroflux/config.h"

const af_key_spec *af__config_pipeline_keys(void);
const af_key_spec *af__config_counties_keys(void);
const af_key_spec *af__config_sites_keys(void);
const af_key_spec *af__config_find_key(const af_key_spec *table, const char *key);

#endif
