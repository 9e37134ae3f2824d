/* SPDX-License-Identifier: MIT */
/*
 * settings.c: the effective settings of a run that fix its output bytes, as
 * text ("section.key=value" lines, in file order, --set overrides applied)
 * and its SHA-256. Performance-only keys (block_days, read_split) are left out, so a run
 * with another block size writes the same shards and --resume may continue an
 * interrupted run after such a change; comments and layout of the file do not
 * count either. The journal keeps the text, so a start-over names the key that
 * differs.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "pipeline_impl.h"

/* Keys that change how a run works, never what it writes. */
static const char *const perf_keys[] = { "pipeline.block_days", "pipeline.read_split", NULL };

int af__settings_is_perf_key(const char *section, const char *key)
{
    size_t ns = strlen(section);
    for (int i = 0; perf_keys[i]; i++)
        if (!strncmp(perf_keys[i], section, ns) && perf_keys[i][ns] == '.' && !strcmp(perf_keys[i] + ns + 1, key))
            return 1;
    return 0;
}

int af__settings_text(const af_config *cfg, char **out, af_error *err)
{
    int rc = AF_OK;
    size_t len = 1;
    char *s = NULL;
    *out = NULL;
    for (size_t i = 0; i < cfg->nsections; i++)
        for (size_t k = 0; k < cfg->sections[i].nentries; k++)
            len += strlen(cfg->sections[i].name) + strlen(cfg->sections[i].entries[k].key) +
                   strlen(cfg->sections[i].entries[k].value) + 3;
    s = malloc(len);
    AF_CHECK_ALLOC(s);
    size_t o = 0;
    for (size_t i = 0; i < cfg->nsections; i++) {
        const af_config_section *sec = &cfg->sections[i];
        for (size_t k = 0; k < sec->nentries; k++) {
            if (af__settings_is_perf_key(sec->name, sec->entries[k].key)) continue;
            o += (size_t)snprintf(s + o, len - o, "%s.%s=%s\n", sec->name, sec->entries[k].key, sec->entries[k].value);
        }
    }
    *out = s;
    s = NULL;
cleanup:
    free(s);
    return rc;
}

int af__settings_sha256(const char *text, char hex[65])
{
    af_sha256_hex(text, strlen(text), hex);
    return AF_OK;
}

/* The "section.key" part of line (up to '='), into buf. */
static void line_key(const char *line, size_t n, char *buf, size_t nb)
{
    const char *eq = memchr(line, '=', n);
    size_t k = eq ? (size_t)(eq - line) : n;
    if (k >= nb) k = nb - 1;
    memcpy(buf, line, k);
    buf[k] = '\0';
}

/* The value of key in text (its line's rest), or NULL; *n its length. */
static const char *find_key(const char *text, const char *key, size_t *n)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            *n = len - kl - 1;
            return p + kl + 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

/* First key of a whose value differs in b (or is absent from b), into why. */
static int first_change(const char *a, const char *b, const char *was, const char *now, char *why, size_t nwhy)
{
    char key[300];
    for (const char *p = a; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line_key(p, len, key, sizeof key);
        size_t vn = 0;
        const char *v = find_key(b, key, &vn);
        const char *av = p + strlen(key) + 1;
        size_t an = len > strlen(key) ? len - strlen(key) - 1 : 0;
        if (!v) {
            snprintf(why, nwhy, "%s is set %s ('%.*s') but not %s", key, was, (int)an, av, now);
            return 1;
        }
        if (vn != an || strncmp(v, av, an)) {
            snprintf(why, nwhy, "%s changed: '%.*s' %s, '%.*s' %s (pipeline file or --set)", key, (int)an, av, was,
                     (int)vn, v, now);
            return 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

void af__settings_diff(const char *journaled, const char *current, char *why, size_t nwhy)
{
    if (first_change(journaled, current, "in the interrupted run", "now", why, nwhy)) return;
    if (first_change(current, journaled, "now", "in the interrupted run", why, nwhy)) return;
    snprintf(why, nwhy, "the settings changed");
}
