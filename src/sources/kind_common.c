/* SPDX-License-Identifier: MIT */
/*
 * kind_common.c: the kit every source kind uses for what is not its format
 * (sources_impl.h): which samples a feature is read for (applies_to), the
 * check that group-wide keys agree between the features of one group (the
 * features of one kind reading one path, read together in one pass), and
 * the files() callback (AF_SOURCE_FILES_FN). Key values with their defaults
 * come from agroflux/opts.h; path placeholders from template.c.
 */
#include <string.h>

#include "af_check.h"
#include "sources_impl.h"

int af__kind_applies(const af_feature_cfg *f, const af_sample *s)
{
    return !((f->applies == AF_APPLIES_COUNTIES && s->kind != AF_SAMPLE_COUNTY) ||
             (f->applies == AF_APPLIES_SITES && s->kind != AF_SAMPLE_SITE));
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
                        af_config_line(fs, keys[j]), fs->name, keys[j], sec->name, af_config_get(sec, "path") ? af_config_get(sec, "path") : "");
        }
    }
cleanup:
    return rc;
}
