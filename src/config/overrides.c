/* SPDX-License-Identifier: MIT */
/*
 * overrides.c: `--set SECTION.KEY=VALUE` on the command line. Applied to the
 * parsed sections before validation, so an override is checked exactly like
 * the file's own line; the configuration hash then covers the file and the
 * overrides, so a resumed run or an index never mistakes one for the other.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "config_impl.h"

/* Split "a.b.key=value" at '=' and at the last '.' before it. */
static int split_set(const char *text, char *sec, size_t ns, char *key, size_t nk, const char **value,
                     af_error *err)
{
    int rc = AF_OK;
    const char *eq = strchr(text, '=');
    const char *dot = NULL;
    for (const char *p = text; eq && p < eq; p++)
        if (*p == '.') dot = p;
    if (!eq || !dot || dot == text || dot + 1 == eq)
        AF_FAIL(AF_ECONFIG, "--set '%s': expected SECTION.KEY=VALUE (e.g. pipeline.end=2002-12-31)", text);
    if ((size_t)(dot - text) >= ns || (size_t)(eq - dot - 1) >= nk)
        AF_FAIL(AF_ECONFIG, "--set '%s': section or key too long", text);
    snprintf(sec, ns, "%.*s", (int)(dot - text), text);
    snprintf(key, nk, "%.*s", (int)(eq - dot - 1), dot + 1);
    af_strtrim(sec);
    af_strtrim(key);
    *value = eq + 1;
cleanup:
    return rc;
}

/* An override's entry has line -(N+1) for the N-th --set (0-based): af_config_locate_error
 * turns "FILE:-N:" in a message into the --set text and position. */
static int set_entry(af_config_section *s, const char *key, const char *value, int line, af_error *err)
{
    int rc = AF_OK;
    char *v = af_strdup(value), *k = NULL;
    AF_CHECK_ALLOC(v);
    af_strtrim(v);
    for (size_t j = 0; j < s->nentries; j++) {
        if (!strcmp(s->entries[j].key, key)) {
            free(s->entries[j].value);
            s->entries[j].value = v;
            s->entries[j].line = line;
            return AF_OK;
        }
    }
    k = af_strdup(key);
    AF_CHECK_ALLOC(k);
    af_config_entry *ne = realloc(s->entries, sizeof *ne * (s->nentries + 1));
    AF_CHECK_ALLOC(ne);
    s->entries = ne;
    ne[s->nentries].key = k;
    ne[s->nentries].value = v;
    ne[s->nentries].line = line;
    s->nentries++;
    k = v = NULL;
cleanup:
    free(k);
    free(v);
    return rc;
}

int af__config_apply_sets(af_config *cfg, const char *const *sets, size_t n, af_error *err)
{
    int rc = AF_OK;
    char sec[256], key[128];
    const char *value = NULL;
    for (size_t i = 0; i < n; i++) {
        AF_CHECK(split_set(sets[i], sec, sizeof sec, key, sizeof key, &value, err));
        af_config_section *s = NULL;
        for (size_t j = 0; j < cfg->nsections && !s; j++)
            if (!strcmp(cfg->sections[j].name, sec)) s = &cfg->sections[j];
        if (!s) AF_FAIL(AF_ECONFIG, "--set '%s': %s has no section [%s]", sets[i], cfg->path, sec);
        AF_CHECK(set_entry(s, key, value, -(int)i - 1, err));
        char **nl = realloc(cfg->sets, sizeof *nl * (cfg->nsets + 1));
        AF_CHECK_ALLOC(nl);
        cfg->sets = nl;
        nl[cfg->nsets] = af_strdup(sets[i]);
        AF_CHECK_ALLOC(nl[cfg->nsets]);
        cfg->nsets++;
    }
cleanup:
    return rc;
}

int af__config_hash(af_config *cfg, af_error *err)
{
    int rc = AF_OK;
    char *buf = NULL;
    size_t len = 0;
    AF_CHECK(af_file_sha256(cfg->path, cfg->sha256, err));
    if (cfg->nsets == 0) goto cleanup;
    /* SHA-256 of: the file's hash, then "\n--set TEXT" per override in order */
    len = 64;
    for (size_t i = 0; i < cfg->nsets; i++) len += 7 + strlen(cfg->sets[i]);
    buf = malloc(len + 1);
    AF_CHECK_ALLOC(buf);
    size_t o = (size_t)snprintf(buf, len + 1, "%s", cfg->sha256);
    for (size_t i = 0; i < cfg->nsets; i++) o += (size_t)snprintf(buf + o, len + 1 - o, "\n--set %s", cfg->sets[i]);
    af_sha256_hex(buf, o, cfg->sha256);
cleanup:
    free(buf);
    return rc;
}

void af_config_locate_error(const af_config *cfg, af_error *err)
{
    if (!cfg || !err || err->code == AF_OK) return;
    size_t n = strlen(cfg->path);
    char *m = err->msg;
    if (strncmp(m, cfg->path, n) || m[n] != ':') return;
    char *end;
    long line = strtol(m + n + 1, &end, 10);
    if (end == m + n + 1 || *end != ':') return;
    if (line >= 0 || (size_t)-line > cfg->nsets) return;
    /* "--set 'TEXT' (#N):" instead of "FILE:-N:" */
    char rest[AF_ERROR_MSG_MAX];
    snprintf(rest, sizeof rest, "%s", end + 1);
    snprintf(m, AF_ERROR_MSG_MAX, "--set '%.200s' (#%ld on the command line):%.700s", cfg->sets[-line - 1], -line, rest);
}
