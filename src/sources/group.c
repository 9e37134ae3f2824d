/* SPDX-License-Identifier: MIT */
/*
 * group.c: what the source kinds share about a group of features (features of
 * one kind reading one path, read together in one pass): key lookup with a
 * default, and the check that group-wide keys agree (sources_impl.h).
 */
#include <string.h>

#include "af_check.h"
#include "sources_impl.h"

const char *af__key_or(const af_config_section *sec, const char *key, const char *def)
{
    const char *v = af_config_get(sec, key);
    return v ? v : def;
}

int af__group_keys_agree(const af_config *cfg, const af_feature_cfg *const *feats, size_t nfeat,
                         const char *const *keys, size_t nkeys, af_error *err)
{
    int rc = AF_OK;
    const af_config_section *sec = feats[0]->section;
    for (size_t k = 1; k < nfeat; k++) {
        const af_config_section *fs = feats[k]->section;
        for (size_t j = 0; j < nkeys; j++) {
            const char *a = af_config_get(sec, keys[j]), *b = af_config_get(fs, keys[j]);
            if ((a || b) && (!a || !b || strcmp(a, b)))
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: differs from [%s] which reads the same path '%s'", cfg->path,
                        af_config_line(fs, keys[j]), fs->name, keys[j], sec->name, af__key_or(sec, "path", ""));
        }
    }
cleanup:
    return rc;
}
