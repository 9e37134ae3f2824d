/* SPDX-License-Identifier: MIT */
/*
 * obs_site.c: per-site file lookup and small checks shared by the tower and
 * chamber source kinds (obs_impl.h). Not collective.
 */
#include <glob.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "obs_impl.h"
#include "sources_impl.h"

int af__obs_site_file(const af_config *cfg, const af_config_section *sec, const char *key,
                      const af_sample *s, char *out, size_t n, int *found, af_error *err)
{
    int rc = AF_OK;
    glob_t g;
    int globbed = 0;
    memset(&g, 0, sizeof g);
    *found = 0;
    AF_CHECK(af__template_expand(cfg, sec, key, af_config_get(sec, key), s, 0, out, n, err));
    if (!strpbrk(out, "*?[")) {
        *found = af_file_readable(out);
        goto cleanup;
    }
    int grc = glob(out, 0, NULL, &g); /* sorted matches */
    globbed = 1;
    if (grc == GLOB_NOMATCH) goto cleanup;
    if (grc != 0) AF_FAIL(AF_EIO, "%s:%d: [%s] %s: cannot expand '%s'", cfg->path, af_config_line(sec, key),
                          sec->name, key, out);
    if (g.gl_pathc > 1)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' matches %zu files ('%s', '%s', ...); it must match one",
                cfg->path, af_config_line(sec, key), sec->name, key, out, (size_t)g.gl_pathc, g.gl_pathv[0],
                g.gl_pathv[1]);
    AF_CHECK(af_strlcpy_checked(out, g.gl_pathv[0], n, "tower file path", err));
    *found = af_file_readable(out);
cleanup:
    if (globbed) globfree(&g);
    return rc;
}

int af__obs_per_site(const char *tmpl)
{
    return tmpl && (strstr(tmpl, "{site}") || strstr(tmpl, "{id}"));
}

int af__obs_applies(const af_feature_cfg *f, const af_sample *s)
{
    if (s->kind != AF_SAMPLE_SITE) return 0;
    return f->applies != AF_APPLIES_COUNTIES;
}

int af__obs_check_sign(const af_config *cfg, const af_feature_cfg *f, const char *needle, af_error *err)
{
    int rc = AF_OK;
    if (f->sign[0] && !strstr(f->sign, needle))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] sign: '%s' contradicts the source, whose values are '%s'", cfg->path,
                af_config_line(f->section, "sign"), f->section->name, f->sign, needle);
cleanup:
    return rc;
}

int af__obs_same_key(const af_config *cfg, const af_feature_cfg *a, const af_feature_cfg *b,
                     const char *key, af_error *err)
{
    int rc = AF_OK;
    const char *x = af_config_get(a->section, key), *y = af_config_get(b->section, key);
    if ((x || y) && (!x || !y || strcmp(x, y)))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: differs from [%s] which reads the same path", cfg->path,
                af_config_line(b->section, key), b->section->name, key, a->section->name);
cleanup:
    return rc;
}
