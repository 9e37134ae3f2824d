/* SPDX-License-Identifier: MIT */
/*
 * config.c: implements agroflux/config.h. libinih reads the file through our
 * line reader (so every key knows its line); then each section is checked
 * against its key table: unknown sections and keys, duplicates, missing
 * required keys, values of the wrong type and unreadable paths are AF_ECONFIG
 * errors of the form "file:line: [section] key: problem".
 */
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "agroflux/opts.h"
#include "config_impl.h"

/* libinih (Debian's build) reads lines of at most INI_MAX_LINE (200) bytes; our reader hands it
 * physical lines of up to AF_CONFIG_LINE_MAX bytes: a longer value is kept here and inih gets a
 * placeholder (LONG_MARK + its index) that the handler swaps back. */
#define AF_CONFIG_LINE_MAX 8192
#define INIH_LINE 200
#define LONG_MARK "\x1f" "af-long-value:"

typedef struct parse_state {
    af_config *cfg;
    FILE *fp;
    int line;
    int oom;
    int dup_line;         /* first duplicate key line, 0 if none */
    int orphan_line;      /* first key before any [section], 0 if none */
    int indent_line;      /* first indented (continuation) line, 0 if none */
    int long_line;        /* first line over AF_CONFIG_LINE_MAX bytes, 0 if none */
    long long long_len;   /* its length */
    int utf8_line;        /* first line that is not valid UTF-8, 0 if none */
    int utf8_col;         /* 1-based byte column of the first bad byte */
    int nul_line;         /* first line holding a NUL byte, 0 if none */
    int nul_col;          /* 1-based byte column of that NUL */
    char dup_key[128];
    char dup_section[128];
    char *buf;            /* the physical line (getline) */
    size_t cap;
    char **longs;         /* values too long for inih, by placeholder index */
    size_t nlongs;
} parse_state;

/* Byte offset of the first invalid UTF-8 sequence in s, or -1 (overlongs and surrogates are invalid). */
static long utf8_invalid(const unsigned char *s)
{
    for (const unsigned char *p = s; *p;) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4)) return p - s;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xC0) != 0x80) return p - s;
        if ((n == 2 && *p == 0xE0 && p[1] < 0xA0) || (n == 2 && *p == 0xED && p[1] >= 0xA0) ||
            (n == 3 && *p == 0xF0 && p[1] < 0x90) || (n == 3 && *p == 0xF4 && p[1] >= 0x90))
            return p - s;
        p += n + 1;
    }
    return -1;
}

/* "[ name ]" -> "[name]" (inih keeps the spaces; the key tables do not). */
static void normalize_section(char *p)
{
    char *close = strchr(p, ']');
    if (!close) return;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
    af_strtrim(name);
    memmove(p + 1 + strlen(name), close, strlen(close) + 1);
    memcpy(p + 1, name, strlen(name));
}

/* A key = value line longer than inih's buffer: keep the value, give inih "key = <placeholder>". */
static int stash_long_value(parse_state *ps, char *line, int num)
{
    char *eq = strchr(line, '=');
    if (!eq || eq - line > num / 2) return 0;
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t') v++;
    for (char *c = v; *c; c++) /* inih's inline comments: ';' after white space */
        if (*c == ';' && c > v && (c[-1] == ' ' || c[-1] == '\t')) { *c = '\0'; break; }
    af_strtrim(v);
    char **nl = realloc(ps->longs, (ps->nlongs + 1) * sizeof *nl);
    if (!nl) { ps->oom = 1; return 1; }
    ps->longs = nl;
    if (!(ps->longs[ps->nlongs] = af_strdup(v))) { ps->oom = 1; return 1; }
    snprintf(eq + 1, (size_t)num - (size_t)(eq + 1 - line), " " LONG_MARK "%zu\n", ps->nlongs++);
    return 1;
}

/* The line that inih sees (at most num - 1 bytes) from the next physical line. */
static char *reader(char *str, int num, void *stream)
{
    parse_state *ps = stream;
    ssize_t got = getline(&ps->buf, &ps->cap, ps->fp);
    if (got < 0) return NULL;
    ps->line++;
    if (strlen(ps->buf) != (size_t)got && !ps->nul_line) { /* the C string would end at the NUL silently */
        ps->nul_line = ps->line;
        ps->nul_col = (int)strlen(ps->buf) + 1;
    }
    char *line = ps->buf;
    if (ps->line == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* UTF-8 BOM */
    long bad = utf8_invalid((const unsigned char *)line);
    if (bad >= 0 && !ps->utf8_line) {
        ps->utf8_line = ps->line;
        ps->utf8_col = (int)bad + 1;
    }
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    /* libinih would join an indented line to the previous value; we refuse it instead. */
    if (p != line && *p && *p != '\n' && *p != '\r' && *p != ';' && *p != '#' && *p != '[' && !ps->indent_line)
        ps->indent_line = ps->line;
    size_t len = strlen(line);
    if (len > AF_CONFIG_LINE_MAX + 1 && !ps->long_line) {
        ps->long_line = ps->line;
        ps->long_len = (long long)len;
    }
    if (*p == '[') {
        normalize_section(p);
        /* Record section headers here, so a section with no keys is still seen. */
        char *close = strchr(p, ']');
        if (close) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
            af_config *cfg = ps->cfg;
            af_config_section *ns = realloc(cfg->sections, sizeof *ns * (cfg->nsections + 1));
            if (!ns) { ps->oom = 1; return str; }
            cfg->sections = ns;
            memset(&ns[cfg->nsections], 0, sizeof *ns);
            ns[cfg->nsections].name = af_strdup(name);
            ns[cfg->nsections].line = ps->line;
            if (!ns[cfg->nsections].name) ps->oom = 1;
            cfg->nsections++;
        }
    }
    if (len >= (size_t)num - 1 && *p != ';' && *p != '#' && !stash_long_value(ps, line, num)) {
        /* not a key = value line: inih reports it as a syntax error on this line */
        snprintf(str, (size_t)num, "%s\n", "[");
        return str;
    }
    snprintf(str, (size_t)num, "%s", line);
    return str;
}

static af_config_section *find_section(af_config *cfg, const char *name)
{
    /* The most recent header with this name is the one being filled. */
    for (size_t i = cfg->nsections; i-- > 0;)
        if (!strcmp(cfg->sections[i].name, name)) return &cfg->sections[i];
    return NULL;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_state *ps = user;
    if (!section[0]) {
        if (!ps->orphan_line) ps->orphan_line = ps->line;
        return 1;
    }
    af_config_section *sec = find_section(ps->cfg, section);
    if (!sec) { ps->oom = 1; return 0; }
    for (size_t i = 0; i < sec->nentries; i++) {
        if (!strcmp(sec->entries[i].key, name) && !ps->dup_line) {
            ps->dup_line = ps->line;
            snprintf(ps->dup_key, sizeof ps->dup_key, "%s", name);
            snprintf(ps->dup_section, sizeof ps->dup_section, "%s", section);
        }
    }
    af_config_entry *ne = realloc(sec->entries, sizeof *ne * (sec->nentries + 1));
    if (!ne) { ps->oom = 1; return 0; }
    sec->entries = ne;
    ne[sec->nentries].key = af_strdup(name);
    size_t li = 0;
    if (!strncmp(value, LONG_MARK, strlen(LONG_MARK)) && sscanf(value + strlen(LONG_MARK), "%zu", &li) == 1 &&
        li < ps->nlongs)
        value = ps->longs[li];
    ne[sec->nentries].value = af_strdup(value);
    ne[sec->nentries].line = ps->line;
    if (!ne[sec->nentries].key || !ne[sec->nentries].value) ps->oom = 1;
    sec->nentries++;
    return 1;
}

const char *af_config_get(const af_config_section *sec, const char *key)
{
    if (!sec) return NULL;
    for (size_t i = 0; i < sec->nentries; i++)
        if (!strcmp(sec->entries[i].key, key)) return sec->entries[i].value;
    return NULL;
}

int af_config_line(const af_config_section *sec, const char *key)
{
    for (size_t i = 0; sec && i < sec->nentries; i++)
        if (!strcmp(sec->entries[i].key, key)) return sec->entries[i].line;
    return sec ? sec->line : 0;
}

/* Length of the leading GDAL archive prefixes (/vsizip/, /vsigzip/, /vsitar/, chained) whose
 * remainder is a file path to resolve like any other. */
static size_t archive_prefix_len(const char *value)
{
    static const char *const pre[] = { "/vsizip/", "/vsigzip/", "/vsitar/", "/vsi7z/", "/vsirar/", NULL };
    size_t n = 0;
    for (int again = 1; again;) {
        again = 0;
        for (const char *const *p = pre; *p; p++)
            if (!strncmp(value + n, *p, strlen(*p))) { n += strlen(*p); again = 1; }
    }
    return n;
}

int af_config_resolve(const af_config *cfg, const char *value, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    size_t pre = archive_prefix_len(value);
    const char *v = value + pre;
    char tmp[4096];
    if (!strncmp(v, "{root}", 6)) {
        const char *rest = v + 6;
        while (*rest == '/') rest++;
        if (!cfg->data_root[0])
            AF_FAIL(AF_ECONFIG, "%s: '%s' uses {root} but [pipeline] data_root is not set", cfg->path, value);
        if (rest[0]) AF_CHECK(af_path_join(cfg->data_root, rest, tmp, sizeof tmp, err));
        else AF_CHECK(af_strlcpy_checked(tmp, cfg->data_root, sizeof tmp, "data_root", err));
    } else if (af_path_is_virtual(v)) { /* /vsicurl/..., /vsis3/..., http(s)://, DRIVER:... as written */
        AF_CHECK(af_strlcpy_checked(tmp, v, sizeof tmp, "path", err));
    } else {
        AF_CHECK(af_path_join(cfg->dir, v, tmp, sizeof tmp, err));
    }
    int len = snprintf(out, n, "%.*s%s", (int)pre, value, tmp);
    if (len < 0 || (size_t)len >= n) AF_FAIL(AF_EINVAL, "path too long: %s", value);
cleanup:
    return rc;
}

/* `url` (beside `path`) or `KEY_url` (beside KEY): where `agroflux fetch` downloads KEY's files from.
 * Allowed wherever the path key itself is declared. */
static int is_url_key(const char *key, const af_key_spec *a, const af_key_spec *b)
{
    char base[128];
    size_t len = strlen(key);
    if (!strcmp(key, "url")) snprintf(base, sizeof base, "path");
    else if (len > 4 && len < sizeof base && !strcmp(key + len - 4, "_url")) snprintf(base, sizeof base, "%.*s", (int)(len - 4), key);
    else return 0;
    return af__config_find_key(a, base) || (b && af__config_find_key(b, base));
}

/* Check one section's keys against its table (plus an optional second table); with
 * others_ok, keys in neither table are left alone (a feature's source-kind keys, which
 * the pipeline checks against the kind's table: af_config_check_section). */
static int check_keys_mode(const af_config *cfg, const af_config_section *sec, const af_key_spec *a,
                           const af_key_spec *b, int others_ok, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < sec->nentries; i++) {
        const af_config_entry *e = &sec->entries[i];
        const af_key_spec *k = af__config_find_key(a, e->key);
        if (!k && b) k = af__config_find_key(b, e->key);
        if (!k && is_url_key(e->key, a, b)) continue; /* a URL template, read by src/fetch */
        if (!k && others_ok) continue;
        if (!k) {
            const af_key_spec *near = af__config_near_key(a, e->key);
            if (!near && b) near = af__config_near_key(b, e->key);
            if (near)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] unknown key '%s' (did you mean '%s'?)", cfg->path, e->line,
                        sec->name, e->key, near->key);
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] unknown key '%s'", cfg->path, e->line, sec->name, e->key);
        }
        const char *v = e->value;
        char buf[4096];
        if (k->required && !v[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: empty value", cfg->path, e->line, sec->name, e->key);
        if (!v[0]) continue;
        if (!strncmp(v, "{root}", 6) && !cfg->data_root[0])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' uses {root} but [pipeline] data_root is not set",
                    cfg->path, e->line, sec->name, e->key, v);
        switch (k->type) {
        case AF_KEY_INT: {
            long lv;
            if (!af_parse_long(v, &lv) || lv < 1)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' is not a positive integer", cfg->path, e->line, sec->name, e->key, v);
            break;
        }
        case AF_KEY_DOUBLE: {
            double dv;
            if (!af_parse_double(v, &dv))
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' is not a number", cfg->path, e->line, sec->name, e->key, v);
            break;
        }
        case AF_KEY_DATE: {
            af_date d;
            af_error tmp = AF_ERROR_INIT;
            if (af_date_parse(v, &d, &tmp) != AF_OK)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: %s", cfg->path, e->line, sec->name, e->key, tmp.msg);
            break;
        }
        case AF_KEY_CHOICE:
            if (k->choices) {
                size_t len = strlen(v);
                const char *c = k->choices;
                int ok = 0;
                while (*c) {
                    const char *bar = strchr(c, '|');
                    size_t cl = bar ? (size_t)(bar - c) : strlen(c);
                    if (cl == len && !strncmp(c, v, len)) ok = 1;
                    c += cl + (bar ? 1 : 0);
                    if (!bar) break;
                }
                if (!ok)
                    AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' is not one of %s", cfg->path, e->line, sec->name, e->key, v, k->choices);
            }
            break;
        case AF_KEY_PATH:
            if (!strcmp(sec->name, "pipeline") && !strcmp(e->key, "output")) break; /* created later */
            AF_CHECK(af_config_resolve(cfg, v, buf, sizeof buf, err));
            if (cfg->no_path_check || af_path_is_virtual(buf)) break; /* the library's open checks these */
            if (!af_file_readable(buf))
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: cannot read '%s'", cfg->path, e->line, sec->name, e->key, buf);
            break;
        default:
            break;
        }
    }
    const af_key_spec *tables[2] = { a, b };
    for (int i = 0; i < 2; i++)
        for (const af_key_spec *t = tables[i]; t && t->key; t++)
            if (t->required && !af_config_get(sec, t->key))
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] missing required key '%s'", cfg->path, sec->line, sec->name, t->key);
cleanup:
    return rc;
}

static int check_keys(const af_config *cfg, const af_config_section *sec, const af_key_spec *a,
                      const af_key_spec *b, af_error *err)
{
    return check_keys_mode(cfg, sec, a, b, 0, err);
}

int af__config_check_keys(const af_config *cfg, const af_config_section *sec, const af_key_spec *table, af_error *err)
{
    return check_keys(cfg, sec, table, NULL, err);
}

int af_config_check_section(const af_config *cfg, const af_config_section *sec, const af_key_spec *a,
                            const af_key_spec *b, af_error *err)
{
    int rc = check_keys(cfg, sec, a, b, err);
    if (rc != AF_OK) af_config_locate_error(cfg, err);
    return rc;
}

/* Value of key, or the table default ("" if none). */
static const char *value_or_default(const af_config_section *sec, const af_key_spec *table, const char *key)
{
    const char *v = af_config_get(sec, key);
    if (v && v[0]) return v;
    const af_key_spec *k = af__config_find_key(table, key);
    return (k && k->def) ? k->def : "";
}

static int load_pipeline(af_config *cfg, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *t = af__config_pipeline_keys();
    AF_CHECK(check_keys(cfg, sec, t, NULL, err));
    AF_CHECK(af_strlcpy_checked(cfg->name, af_config_get(sec, "name"), sizeof cfg->name, "pipeline name", err));
    AF_CHECK(af_date_parse(af_config_get(sec, "start"), &cfg->start, err));
    AF_CHECK(af_date_parse(af_config_get(sec, "end"), &cfg->end, err));
    if (af_date_to_epoch(cfg->end) < af_date_to_epoch(cfg->start))
        AF_FAIL(AF_ECONFIG, "%s:%d: [pipeline] end: %s is before start %s", cfg->path,
                af_config_line(sec, "end"), af_config_get(sec, "end"), af_config_get(sec, "start"));
    AF_CHECK(af_calendar_kind_parse(value_or_default(sec, t, "calendar"), &cfg->calendar, err));
    AF_CHECK(af_config_resolve(cfg, value_or_default(sec, t, "output"), cfg->output, sizeof cfg->output, err));
    cfg->shard_samples = (size_t)atol(value_or_default(sec, t, "shard_samples"));
    cfg->block_days = atoi(value_or_default(sec, t, "block_days"));
    {
        const char *rsv = value_or_default(sec, t, "read_split");
        cfg->read_split = !strcmp(rsv, "days") ? AF_READ_SPLIT_DAYS
                        : !strcmp(rsv, "samples") ? AF_READ_SPLIT_SAMPLES : AF_READ_SPLIT_AUTO;
    }
    cfg->coverage_min_fraction = atof(value_or_default(sec, t, "coverage_min_fraction"));
    if (!(cfg->coverage_min_fraction >= 0.0 && cfg->coverage_min_fraction <= 1.0))
        AF_FAIL(AF_ECONFIG, "%s:%d: [pipeline] coverage_min_fraction: %s is not a fraction between 0 and 1",
                cfg->path, af_config_line(sec, "coverage_min_fraction"), af_config_get(sec, "coverage_min_fraction"));
    cfg->cdf5 = !strcmp(value_or_default(sec, t, "format"), "cdf5");
    AF_CHECK(af_strlcpy_checked(cfg->data_url, value_or_default(sec, t, "data_url"), sizeof cfg->data_url,
                                "[pipeline] data_url", err));
cleanup:
    return rc;
}

static int load_counties(af_config *cfg, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_key_spec *t = af__config_counties_keys();
    AF_CHECK(check_keys(cfg, sec, t, NULL, err));
    cfg->has_counties = 1;
    AF_CHECK(af_config_resolve(cfg, af_config_get(sec, "layer"), cfg->county_layer, sizeof cfg->county_layer, err));
    snprintf(cfg->county_layer_name, sizeof cfg->county_layer_name, "%s", value_or_default(sec, t, "layer_name"));
    snprintf(cfg->id_field, sizeof cfg->id_field, "%s", value_or_default(sec, t, "id_field"));
    const char *sel = value_or_default(sec, t, "select");
    if (sel[0]) AF_CHECK(af_config_resolve(cfg, sel, cfg->county_select, sizeof cfg->county_select, err));
    af_list l = AF_LIST_INIT;
    AF_CHECK(af_opts_get_list(cfg, sec, t, "scenarios", &l, err));
    cfg->scenarios = l.items; /* taken over: freed in af_config_destroy */
    cfg->nscenarios = l.n;
    if (cfg->nscenarios == 0)
        AF_FAIL(AF_ECONFIG, "%s:%d: [counties] scenarios: empty list", cfg->path, af_config_line(sec, "scenarios"));
    for (size_t i = 0; i < cfg->nscenarios; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cfg->scenarios[i], cfg->scenarios[j]))
                AF_FAIL(AF_ECONFIG, "%s:%d: [counties] scenarios: '%s' listed twice", cfg->path,
                        af_config_line(sec, "scenarios"), cfg->scenarios[i]);
cleanup:
    return rc;
}

static int load_feature(af_config *cfg, const af_config_section *sec, af_feature_role role, af_error *err)
{
    int rc = AF_OK;
    const char *name = strchr(sec->name, '.') + 1;
    const af_key_spec *common = af_feature_common_keys();
    const char *src = af_config_get(sec, "source");
    if (!src)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] missing required key 'source'", cfg->path, sec->line, sec->name);
    /* the source kind and its own keys are checked by the pipeline, which knows the kinds */
    AF_CHECK(check_keys_mode(cfg, sec, common, NULL, 1, err));
    /* NAME@counties / NAME@sites: one variable, filled by this section for those samples only */
    const char *at = strchr(name, '@');
    size_t nlen = at ? (size_t)(at - name) : strlen(name);
    if (nlen == 0 || nlen >= sizeof cfg->features[0].name)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] feature name must be 1..63 characters", cfg->path, sec->line, sec->name);
    const char *ap = value_or_default(sec, common, "applies_to");
    af_applies applies = !strcmp(ap, "counties") ? AF_APPLIES_COUNTIES : !strcmp(ap, "sites") ? AF_APPLIES_SITES : AF_APPLIES_ALL;
    if (at) {
        af_applies scope = !strcmp(at + 1, "counties") ? AF_APPLIES_COUNTIES : !strcmp(at + 1, "sites") ? AF_APPLIES_SITES : AF_APPLIES_ALL;
        if (scope == AF_APPLIES_ALL)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] '@%s': a feature scope is @counties or @sites", cfg->path, sec->line,
                    sec->name, at + 1);
        if (af_config_get(sec, "applies_to") && applies != scope)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] applies_to: '%s' contradicts the section's @%s", cfg->path,
                    af_config_line(sec, "applies_to"), sec->name, ap, at + 1);
        applies = scope;
    }
    for (size_t i = 0; i < cfg->nfeatures; i++) {
        const af_feature_cfg *o = &cfg->features[i];
        if (strlen(o->name) != nlen || strncmp(o->name, name, nlen) || o->role != role) continue;
        int disjoint = applies != AF_APPLIES_ALL && o->applies != AF_APPLIES_ALL && applies != o->applies;
        if (!disjoint || !at || !strchr(o->section->name, '@'))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] defined twice (also [%s] at line %d; one variable may have one "
                    "@counties and one @sites section)", cfg->path, sec->line, sec->name, o->section->name, o->section->line);
        if (strcmp(o->units, af_config_get(sec, "units")))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] units: '%s' differs from [%s] ('%s'): one variable has one unit",
                    cfg->path, af_config_line(sec, "units"), sec->name, af_config_get(sec, "units"), o->section->name, o->units);
        if (strcmp(o->sign, value_or_default(sec, common, "sign")))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] sign: '%s' differs from [%s] ('%s'): one variable has one sign convention",
                    cfg->path, af_config_line(sec, "sign"), sec->name, value_or_default(sec, common, "sign"),
                    o->section->name, o->sign);
    }
    af_feature_cfg *nf = realloc(cfg->features, sizeof *nf * (cfg->nfeatures + 1));
    AF_CHECK_ALLOC(nf);
    cfg->features = nf;
    af_feature_cfg *f = &nf[cfg->nfeatures];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%.*s", (int)nlen, name);
    f->role = role;
    snprintf(f->source, sizeof f->source, "%s", src);
    AF_CHECK(af_strlcpy_checked(f->units, af_config_get(sec, "units"), sizeof f->units, "units", err));
    snprintf(f->long_name, sizeof f->long_name, "%s", value_or_default(sec, common, "long_name"));
    snprintf(f->sign, sizeof f->sign, "%s", value_or_default(sec, common, "sign"));
    f->applies = applies;
    f->section = sec;
    cfg->nfeatures++;
cleanup:
    return rc;
}

static int validate(af_config *cfg, af_error *err)
{
    int rc = AF_OK;
    const af_config_section *pipeline = NULL, *counties = NULL;
    /* data_root first: every other path may start with {root} */
    for (size_t i = 0; i < cfg->nsections; i++) {
        const char *root = af_config_get(&cfg->sections[i], "data_root");
        if (!strcmp(cfg->sections[i].name, "pipeline") && root && root[0]) {
            if (!strncmp(root, "{root}", 6))
                AF_FAIL(AF_ECONFIG, "%s:%d: [pipeline] data_root cannot use {root}", cfg->path,
                        af_config_line(&cfg->sections[i], "data_root"));
            AF_CHECK(af_path_join(cfg->dir, root, cfg->data_root, sizeof cfg->data_root, err));
        }
    }
    const af_config_section *splits = NULL;
    for (size_t i = 0; i < cfg->nsections; i++) {
        const af_config_section *s = &cfg->sections[i];
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cfg->sections[j].name, s->name))
                AF_FAIL(AF_ECONFIG, "%s:%d: section [%s] appears twice (first at line %d)", cfg->path,
                        s->line, s->name, cfg->sections[j].line);
        if (!strcmp(s->name, "pipeline")) pipeline = s;
        else if (!strcmp(s->name, "splits")) splits = s;
        else if (!strcmp(s->name, "counties")) { counties = s; AF_CHECK(load_counties(cfg, s, err)); }
        else if (!strcmp(s->name, "sites")) {
            AF_CHECK(check_keys(cfg, s, af__config_sites_keys(), NULL, err));
            cfg->has_sites = 1;
            AF_CHECK(af_config_resolve(cfg, af_config_get(s, "list"), cfg->site_list, sizeof cfg->site_list, err));
        } else if (!strncmp(s->name, "input.", 6)) AF_CHECK(load_feature(cfg, s, AF_ROLE_INPUT, err));
        else if (!strncmp(s->name, "target.", 7)) AF_CHECK(load_feature(cfg, s, AF_ROLE_TARGET, err));
        else if (!strncmp(s->name, "scenario.", 9)) AF_CHECK(af__config_load_scenario(cfg, s, err));
        else {
            /* "did you mean": a fixed name, or the part before the first '.', one edit away */
            static const char *const known[] = { "pipeline", "counties", "sites", "splits", "scenario", "input", "target" };
            char head[128];
            snprintf(head, sizeof head, "%.*s", (int)strcspn(s->name, "."), s->name);
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                if (af_one_edit_apart(known[k], head))
                    AF_FAIL(AF_ECONFIG, "%s:%d: unknown section [%s] (did you mean [%s%s]?)", cfg->path, s->line, s->name,
                            known[k], s->name + strlen(head));
            AF_FAIL(AF_ECONFIG, "%s:%d: unknown section [%s] (expected pipeline, counties, sites, splits, scenario.NAME, input.NAME, target.NAME)",
                    cfg->path, s->line, s->name);
        }
    }
    if (!pipeline) AF_FAIL(AF_ECONFIG, "%s: missing section [pipeline]", cfg->path);
    AF_CHECK(load_pipeline(cfg, pipeline, err));
    AF_CHECK(af__config_scenarios_finish(cfg, counties, err));
    if (splits) AF_CHECK(af__config_load_splits(cfg, splits, err));
    if (!cfg->has_counties && !cfg->has_sites)
        AF_FAIL(AF_ECONFIG, "%s: no samples: add a [counties] or a [sites] section", cfg->path);
cleanup:
    return rc;
}

/* A line that is not UTF-8: name its key (or section) when inih read one there. */
static int utf8_error(const parse_state *ps, const char *path, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = ps->cfg;
    for (size_t i = 0; i < cfg->nsections; i++) {
        const af_config_section *s = &cfg->sections[i];
        if (s->line == ps->utf8_line)
            AF_FAIL(AF_ECONFIG, "%s:%d: section name is not valid UTF-8 (byte %d)", path, ps->utf8_line, ps->utf8_col);
        for (size_t j = 0; j < s->nentries; j++)
            if (s->entries[j].line == ps->utf8_line)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: the value is not valid UTF-8 (byte %d of the line); "
                        "save the file as UTF-8", path, ps->utf8_line, s->name, s->entries[j].key, ps->utf8_col);
    }
    AF_FAIL(AF_ECONFIG, "%s:%d: not valid UTF-8 (byte %d of the line); save the file as UTF-8", path, ps->utf8_line,
            ps->utf8_col);
cleanup:
    return rc;
}

int af_config_load(const char *path, af_config **out, af_error *err)
{
    return af_config_load_sets(path, NULL, 0, out, err);
}

int af_config_load_sets(const char *path, const char *const *sets, size_t nsets, af_config **out,
                        af_error *err)
{
    return af_config_load_flags(path, sets, nsets, 0, out, err);
}

int af_config_load_flags(const char *path, const char *const *sets, size_t nsets, int flags, af_config **out,
                         af_error *err)
{
    int rc = AF_OK;
    af_config *cfg = NULL;
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    AF_CHECK_ARG(path && out);
    *out = NULL;
    cfg = calloc(1, sizeof *cfg);
    AF_CHECK_ALLOC(cfg);
    cfg->no_path_check = (flags & AF_CONFIG_NO_PATH_CHECK) != 0;
    AF_CHECK(af_strlcpy_checked(cfg->path, path, sizeof cfg->path, "pipeline path", err));
    af_path_dirname(path, cfg->dir, sizeof cfg->dir);
    ps.fp = fopen(path, "rb");
    if (!ps.fp) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open pipeline file '%s': %s", path, strerror(errno));
    ps.cfg = cfg;
    int bad = ini_parse_stream(reader, &ps, handler, &ps);
    if (ps.oom) AF_FAIL(AF_ENOMEM, "out of memory reading '%s'", path);
    if (ps.long_line && (bad == 0 || ps.long_line <= bad))
        AF_FAIL(AF_ECONFIG, "%s:%d: line of %lld bytes: a line may hold at most %d bytes", path, ps.long_line,
                ps.long_len, AF_CONFIG_LINE_MAX);
    if (ps.nul_line && (bad == 0 || ps.nul_line <= bad))
        AF_FAIL(AF_ECONFIG, "%s:%d: NUL byte (byte %d of the line): a pipeline file is text; save it as UTF-8",
                path, ps.nul_line, ps.nul_col);
    if (ps.utf8_line && (bad == 0 || ps.utf8_line <= bad)) AF_CHECK(utf8_error(&ps, path, err));
    if (bad > 0) AF_FAIL(AF_ECONFIG, "%s:%d: syntax error (expected [section] or key = value)", path, bad);
    if (bad < 0) AF_FAIL(AF_EIO, "cannot read '%s'", path);
    if (ps.indent_line)
        AF_FAIL(AF_ECONFIG, "%s:%d: indented line: continuation lines are not allowed, remove the indentation", path, ps.indent_line);
    if (ps.orphan_line)
        AF_FAIL(AF_ECONFIG, "%s:%d: key outside any section (start the file with [pipeline])", path, ps.orphan_line);
    if (ps.dup_line)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] key '%s' given twice", path, ps.dup_line, ps.dup_section, ps.dup_key);
    AF_CHECK(af__config_apply_sets(cfg, sets, nsets, err));
    AF_CHECK(af__config_hash(cfg, err));
    AF_CHECK(validate(cfg, err));
    *out = cfg;
    cfg = NULL;
cleanup:
    if (ps.fp) fclose(ps.fp);
    free(ps.buf);
    for (size_t i = 0; i < ps.nlongs; i++) free(ps.longs[i]);
    free(ps.longs);
    if (rc != AF_OK) af_config_locate_error(cfg, err);
    af_config_destroy(&cfg);
    return rc;
}

void af_config_destroy(af_config **pcfg)
{
    if (!pcfg || !*pcfg) return;
    af_config *cfg = *pcfg;
    for (size_t i = 0; i < cfg->nsections; i++) {
        for (size_t j = 0; j < cfg->sections[i].nentries; j++) {
            free(cfg->sections[i].entries[j].key);
            free(cfg->sections[i].entries[j].value);
        }
        free(cfg->sections[i].entries);
        free(cfg->sections[i].name);
    }
    free(cfg->sections);
    for (size_t i = 0; i < cfg->nsets; i++) free(cfg->sets[i]);
    free(cfg->sets);
    for (size_t i = 0; i < cfg->nscenarios; i++) free(cfg->scenarios[i]);
    free(cfg->scenarios);
    free(cfg->scenario_defs);
    free(cfg->features);
    free(cfg);
    *pcfg = NULL;
}
