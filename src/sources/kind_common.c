/* SPDX-License-Identifier: MIT */
/*
 * kind_common.c: the kit every source kind uses for what is not its format
 * (sources_impl.h): which samples a feature is read for (applies_to), the
 * check that group-wide keys agree between the features of one group (the
 * features of one kind reading one path, read together in one pass), and
 * the files() callback (AF_SOURCE_FILES_FN), the run's memo of passed
 * checks (af_source_memo, source.h). Key values with their defaults
 * come from agroflux/opts.h; path placeholders from template.c.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "sources_impl.h"

struct af_source_memo {
    char **keys;
    size_t n, cap;
};

int af_source_memo_create(af_source_memo **out, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(out != NULL);
    *out = calloc(1, sizeof **out);
    AF_CHECK_ALLOC(*out);
cleanup:
    return rc;
}

void af_source_memo_destroy(af_source_memo **memo)
{
    if (!memo || !*memo) return;
    for (size_t i = 0; i < (*memo)->n; i++) free((*memo)->keys[i]);
    free((*memo)->keys);
    free(*memo);
    *memo = NULL;
}

int af__memo_seen(const af_source_memo *memo, const char *key)
{
    for (size_t i = 0; memo && key && i < memo->n; i++)
        if (!strcmp(memo->keys[i], key)) return 1;
    return 0;
}

int af__memo_note(af_source_memo *memo, const char *key, af_error *err)
{
    int rc = AF_OK;
    if (!memo || !key || af__memo_seen(memo, key)) goto cleanup;
    if (memo->n == memo->cap) {
        size_t nc = memo->cap ? 2 * memo->cap : 8;
        char **nk = realloc(memo->keys, nc * sizeof *nk);
        AF_CHECK_ALLOC(nk);
        memo->keys = nk;
        memo->cap = nc;
    }
    memo->keys[memo->n] = af_strdup(key);
    AF_CHECK_ALLOC(memo->keys[memo->n]);
    memo->n++;
cleanup:
    return rc;
}

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
