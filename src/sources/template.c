/* SPDX-License-Identifier: MIT */
/*
 * template.c: path templates of source kinds ({year}, {id}, {fips}, {state},
 * {scenario}, {site}); see sources_impl.h. One spelling for every source.
 */
#include <stdio.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "sources_impl.h"

static const char *const sample_fields[] = { "id", "fips", "state", "scenario", "site", NULL };

int af__template_per_sample(const char *tmpl)
{
    char pat[32];
    for (const char *const *f = sample_fields; *f; f++) {
        snprintf(pat, sizeof pat, "{%s}", *f);
        if (tmpl && strstr(tmpl, pat)) return 1;
    }
    return 0;
}

int af__template_per_year(const char *tmpl) { return tmpl && strstr(tmpl, "{year}") != NULL; }

int af__template_expand(const af_config *cfg, const af_config_section *sec, const char *key,
                        const char *tmpl, const af_sample *s, int year, char *out, size_t n,
                        af_error *err)
{
    int rc = AF_OK;
    char buf[4096], val[64], name[32];
    size_t o = 0;
    const char *secname = sec ? sec->name : "?";
    int line = sec ? af_config_line(sec, key) : 0;
    const char *p = tmpl;
    if (!strncmp(p, "{root}", 6)) { /* left for af_config_resolve: [pipeline] data_root */
        memcpy(buf, p, 6);
        o = 6;
        p += 6;
    }
    for (; *p; p++) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = close ? (size_t)(close - p - 1) : 0;
            if (!close || len == 0 || len >= sizeof name)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unterminated or empty placeholder in '%s'",
                        cfg->path, line, secname, key, tmpl);
            memcpy(name, p + 1, len);
            name[len] = '\0';
            if (!strcmp(name, "root")) { /* inside /vsizip/{root}/...: left for af_config_resolve */
                if (o + 6 >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: expanded path too long", cfg->path, line, secname, key);
                memcpy(buf + o, "{root}", 6);
                o += 6;
                p = close;
                continue;
            }
            int known = !strcmp(name, "year");
            for (const char *const *f = sample_fields; *f; f++) known |= !strcmp(name, *f);
            if (!known)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unknown placeholder {%s} in '%s' "
                        "(known: {year} {id} {fips} {state} {scenario} {site})",
                        cfg->path, line, secname, key, name, tmpl);
            const char *v = af_sample_field(name, s, year, val, sizeof val);
            if (!v)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: {%s} in '%s' has no value for sample '%s'",
                        cfg->path, line, secname, key, name, tmpl, s ? s->id : "(none)");
            size_t vl = strlen(v);
            if (o + vl >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: expanded path too long", cfg->path, line, secname, key);
            memcpy(buf + o, v, vl);
            o += vl;
            p = close;
        } else {
            if (o + 1 >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: expanded path too long", cfg->path, line, secname, key);
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
    AF_CHECK(af_config_resolve(cfg, buf, out, n, err));
cleanup:
    return rc;
}

int af__template_check(const af_config *cfg, const af_config_section *sec, const char *key, const char *tmpl,
                       const char *known, af_error *err)
{
    int rc = AF_OK;
    const char *p = tmpl && !strncmp(tmpl, "{root}", 6) ? tmpl + 6 : tmpl;
    for (; p && (p = strchr(p, '{')) != NULL; p++) {
        const char *close = strchr(p, '}');
        size_t len = close ? (size_t)(close - p - 1) : 0;
        if (!close || len == 0)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unterminated or empty placeholder in '%s'", cfg->path,
                    af_config_line(sec, key), sec->name, key, tmpl);
        int ok = len == 4 && !strncmp(p + 1, "root", 4); /* {root} after /vsizip/ too */
        for (const char *k = known; *k && !ok; k += strcspn(k, " ") + (k[strcspn(k, " ")] ? 1 : 0))
            ok = strcspn(k, " ") == len && !strncmp(k, p + 1, len);
        if (!ok)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unknown placeholder {%.*s} in '%s' (this source knows: %s)",
                    cfg->path, af_config_line(sec, key), sec->name, key, (int)len, p + 1, tmpl, known);
    }
cleanup:
    return rc;
}
