/* SPDX-License-Identifier: MIT */
/*
 * opts.c: implements agroflux/opts.h, the typed getters over a section's keys
 * (type, default and choices from the key table) and the one list tokenizer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/opts.h"
#include "config_impl.h"

void af_list_dispose(af_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int af_list_split(const char *text, af_list *out, af_error *err)
{
    int rc = AF_OK;
    out->items = NULL;
    out->n = 0;
    const char *p = text ? text : "";
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return AF_OK;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t a = 0, b = len;
        while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) b--;
        if (a == b && !p[len] && out->n > 0) break; /* one trailing comma: ignored */
        if (a == b) AF_FAIL(AF_EINVAL, "empty item in '%s'", text);
        char **ni = realloc(out->items, sizeof *ni * (out->n + 1));
        AF_CHECK_ALLOC(ni);
        out->items = ni;
        ni[out->n] = malloc(b - a + 1);
        AF_CHECK_ALLOC(ni[out->n]);
        memcpy(ni[out->n], p + a, b - a);
        ni[out->n][b - a] = '\0';
        out->n++;
        if (!p[len]) break;
        p += len + 1;
    }
cleanup:
    if (rc != AF_OK) af_list_dispose(out);
    return rc;
}

/* The key's spec in table, or in the keys every feature section has. */
static const af_key_spec *spec_of(const af_key_spec *table, const char *key)
{
    const af_key_spec *k = af__config_find_key(table, key);
    return k ? k : af__config_find_key(af_feature_common_keys(), key);
}

/* The spec (checked against want, -1 = any type) and the text to parse: value, else default. */
static int lookup(const af_config_section *sec, const af_key_spec *table, const char *key, int want,
                  const af_key_spec **spec, const char **text, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k = spec_of(table, key);
    if (!k) AF_FAIL(AF_EINTERNAL, "[%s] %s: the key table does not declare this key", sec ? sec->name : "?", key);
    if (want >= 0 && (int)k->type != want)
        AF_FAIL(AF_EINTERNAL, "[%s] %s: read with the getter of another type", sec ? sec->name : "?", key);
    const char *v = af_config_get(sec, key);
    *spec = k;
    *text = v && v[0] ? v : k->def;
cleanup:
    return rc;
}

/* "FILE:LINE: [SEC] KEY: 'TEXT' WHAT"; a bad default is a bug. */
static int bad_value(const af_config *cfg, const af_config_section *sec, const char *key, const char *text,
                     const char *what, af_error *err)
{
    const char *v = af_config_get(sec, key);
    if (!v || !v[0])
        return af_error_set(err, AF_EINTERNAL, __FILE__, __LINE__, __func__,
                            "[%s] %s: the key table's default '%s' %s", sec->name, key, text, what);
    return af_error_set(err, AF_ECONFIG, __FILE__, __LINE__, __func__, "%s:%d: [%s] %s: '%s' %s", cfg->path,
                        af_config_line(sec, key), sec->name, key, text, what);
}

int af_opts_get_string(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, const char **out, af_error *err)
{
    (void)cfg;
    const af_key_spec *k;
    return lookup(sec, table, key, -1, &k, out, err);
}

int af_opts_get_path(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k;
    const char *t;
    AF_CHECK(lookup(sec, table, key, -1, &k, &t, err));
    if (k->type != AF_KEY_PATH && k->type != AF_KEY_STRING)
        AF_FAIL(AF_EINTERNAL, "[%s] %s: not a path key", sec->name, key);
    if (!t || !t[0]) { if (n) out[0] = '\0'; goto cleanup; }
    AF_CHECK(af_config_resolve(cfg, t, out, n, err));
cleanup:
    return rc;
}

int af_opts_get_int(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                    const char *key, long *out, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k;
    const char *t;
    AF_CHECK(lookup(sec, table, key, AF_KEY_INT, &k, &t, err));
    if (!t || !af_parse_long(t, out)) return bad_value(cfg, sec, key, t ? t : "", "is not an integer", err);
cleanup:
    return rc;
}

int af_opts_get_double(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, double *out, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k;
    const char *t;
    AF_CHECK(lookup(sec, table, key, AF_KEY_DOUBLE, &k, &t, err));
    if (!t || !af_parse_double(t, out) || !isfinite(*out)) return bad_value(cfg, sec, key, t ? t : "", "is not a number", err);
cleanup:
    return rc;
}

int af_opts_get_choice(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                       const char *key, int *out, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k;
    const char *t;
    AF_CHECK(lookup(sec, table, key, AF_KEY_CHOICE, &k, &t, err));
    size_t len = t ? strlen(t) : 0;
    int i = 0;
    for (const char *c = k->choices ? k->choices : ""; *c; i++) {
        size_t cl = strcspn(c, "|");
        if (t && cl == len && !strncmp(c, t, len)) { *out = i; goto cleanup; }
        c += cl + (c[cl] ? 1 : 0);
    }
    char what[300];
    snprintf(what, sizeof what, "is not one of %s", k->choices ? k->choices : "(no choices)");
    return bad_value(cfg, sec, key, t ? t : "", what, err);
cleanup:
    return rc;
}

int af_opts_get_bool(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, int *out, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k = spec_of(table, key);
    if (k && (!k->choices || strcmp(k->choices, "yes|no")))
        AF_FAIL(AF_EINTERNAL, "[%s] %s: a yes|no key is needed for a bool", sec->name, key);
    int i = 1;
    AF_CHECK(af_opts_get_choice(cfg, sec, table, key, &i, err));
    *out = i == 0;
cleanup:
    return rc;
}

int af_opts_get_list(const af_config *cfg, const af_config_section *sec, const af_key_spec *table,
                     const char *key, af_list *out, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *k;
    const char *t;
    out->items = NULL;
    out->n = 0;
    AF_CHECK(lookup(sec, table, key, AF_KEY_LIST, &k, &t, err));
    af_error e2 = AF_ERROR_INIT;
    if (af_list_split(t, out, &e2) != AF_OK) {
        if (e2.code == AF_EINVAL) return bad_value(cfg, sec, key, t, "has an empty entry (a list is a, b, c)", err);
        *err = e2;
        return e2.code;
    }
cleanup:
    return rc;
}
