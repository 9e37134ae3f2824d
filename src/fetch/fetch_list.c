/* SPDX-License-Identifier: MIT */
/*
 * fetch_list.c: every file a pipeline reads, with the URL it can be fetched from
 * (agroflux/fetch.h). Path keys are expanded over the pipeline's years, the soil
 * `layers` and the samples the feature applies to, with the placeholders of the
 * sources ({year} {layer} {id} {fips} {state} {scenario} {site} {root}); a `url`
 * (beside `path`) or `KEY_url` template is expanded with the same values plus
 * {data_url}. Presence is a stat (a glob path: a match); nothing is opened.
 */
#include <fnmatch.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"

/* Path keys of feature sections, in the order they are listed. */
static const char *const feature_path_keys[] = { "path", "multiply_path", "cropland_weights", "events", "join",
                                                  "soils", "class_table", NULL };

typedef struct bind {
    int year;              /* 0: none */
    const char *layer;     /* NULL: none */
    const af_sample *s;    /* NULL: none */
} bind;

typedef struct builder {
    const af_config *cfg;
    af_fetch_list *list;
    size_t *slots;         /* open-addressing set of item indices + 1, by path */
    size_t nslots;
    int keep_data_url;     /* AF_FETCH_LIST_KEEP_DATA_URL */
} builder;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int has_sample_field(const char *t)
{
    static const char *const f[] = { "{id}", "{fips}", "{state}", "{scenario}", "{site}", NULL };
    for (int i = 0; t && f[i]; i++)
        if (strstr(t, f[i])) return 1;
    return 0;
}

/* Value of a placeholder, NULL when the binding has none. buf holds computed values. */
static const char *value_of(const af_config *cfg, const char *name, const bind *b, int is_url, char *buf, size_t n)
{
    if (!strcmp(name, "layer")) return b->layer;
    if (!strcmp(name, "data_url")) return is_url && cfg->data_url[0] ? cfg->data_url : NULL;
    return af_sample_field(name, b->s, b->year, buf, n); /* as the sources expand them */
}

/*
 * Expand tmpl under b. Returns 1 when expanded, 0 when the binding cannot fill a sample
 * placeholder (that sample does not read this file), or a negative status.
 */
static int expand(const builder *bd, const af_config_section *sec, const char *key, const char *tmpl, const bind *b,
                  int is_url, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = bd->cfg;
    int line = af_config_line(sec, key);
    char buf[4096], val[256], name[32];
    size_t o = 0;
    for (const char *p = tmpl; *p; p++) {
        const char *v = NULL;
        char one[2] = { *p, 0 };
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = close ? (size_t)(close - p - 1) : 0;
            if (!close || len == 0 || len >= sizeof name)
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unterminated or empty placeholder in '%s'", cfg->path, line,
                        sec->name, key, tmpl);
            memcpy(name, p + 1, len);
            name[len] = '\0';
            static const char *const known[] = { "year", "layer", "id", "fips", "state", "scenario", "site",
                                                 "data_url", "root", NULL };
            int k = 0;
            while (known[k] && strcmp(known[k], name)) k++;
            int tile = is_url && !strcmp(key, "tile_url") &&
                       (!strcmp(name, "lat0") || !strcmp(name, "lat1") || !strcmp(name, "lon0") || !strcmp(name, "lon1"));
            if (tile) {
                v = NULL; /* left for the tile expansion (fetch_derive.c) */
                size_t tl = strlen(name) + 2;
                if (o + tl >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: expanded value too long", cfg->path, line, sec->name, key);
                o += (size_t)snprintf(buf + o, sizeof buf - o, "{%s}", name);
                p = close;
                continue;
            }
            if (!known[k] || (!is_url && !strcmp(name, "data_url")) || (is_url && !strcmp(name, "root")))
                AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: unknown placeholder {%s} in '%s' (known: {year} {layer} {id} "
                        "{fips} {state} {scenario} {site}, and {root} in paths, {data_url} in URLs, {lat0} {lat1} "
                        "{lon0} {lon1} in tile_url)",
                        cfg->path, line, sec->name, key, name, tmpl);
            if (!strcmp(name, "root")) {
                v = "{root}"; /* left for af_config_resolve */
            } else {
                v = value_of(cfg, name, b, is_url, val, sizeof val);
                if (!v && !strcmp(name, "data_url") && bd->keep_data_url) v = "{data_url}";
                if (!v && !strcmp(name, "data_url"))
                    AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' uses {data_url} but [pipeline] data_url is not set "
                            "(--set pipeline.data_url=URL)", cfg->path, line, sec->name, key, tmpl);
                if (!v && (!strcmp(name, "year") || !strcmp(name, "layer")))
                    AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: {%s} in '%s' has no value here", cfg->path, line,
                            sec->name, key, name, tmpl);
                if (!v) { rc = 0; goto cleanup; }
            }
            p = close;
        } else {
            v = one;
        }
        size_t vl = strlen(v);
        if (o + vl >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: expanded value too long", cfg->path, line, sec->name, key);
        memcpy(buf + o, v, vl);
        o += vl;
    }
    buf[o] = '\0';
    if (is_url) AF_CHECK(af_strlcpy_checked(out, buf, n, "URL", err));
    else AF_CHECK(af_config_resolve(cfg, buf, out, n, err));
    rc = 1;
cleanup:
    return rc;
}

static int is_glob(const char *p) { return strpbrk(p, "*?[") != NULL; }

/*
 * The local archive a /vsizip/, /vsitar/ or /vsigzip/ path reads from (what fetch downloads):
 * "/vsizip//data/cb.zip/cb.shp" -> "/data/cb.zip". 0 when the path is not such an archive path
 * (or the archive itself is remote, e.g. /vsizip//vsicurl/...).
 */
static int archive_of(const char *path, char *out, size_t n)
{
    static const struct { const char *prefix, *const ext[3]; } kinds[] = {
        { "/vsizip/", { ".zip", NULL, NULL } },
        { "/vsitar/", { ".tar", ".tgz", ".tar.gz" } },
        { "/vsigzip/", { NULL, NULL, NULL } },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t pl = strlen(kinds[k].prefix);
        if (strncmp(path, kinds[k].prefix, pl)) continue;
        const char *rest = path + pl;
        if (af_path_is_virtual(rest)) return 0;
        size_t len = strlen(rest);
        for (int e = 0; kinds[k].ext[e]; e++) {
            size_t el = strlen(kinds[k].ext[e]);
            for (const char *c = rest; *c; c++)
                if (!strncasecmp(c, kinds[k].ext[e], el) && (c[el] == '/' || c[el] == '\0')) {
                    len = (size_t)(c - rest) + el;
                    goto found;
                }
        }
        if (kinds[k].ext[0]) return 0;
    found:
        snprintf(out, n, "%.*s", (int)len, rest);
        return 1;
    }
    return 0;
}

/* File name of a URL: after the last '/', before any '?' or '#'. */
static void url_basename(const char *url, char *out, size_t n)
{
    size_t end = strcspn(url, "?#");
    const char *slash = url;
    for (const char *c = url; c < url + end; c++)
        if (*c == '/') slash = c + 1;
    snprintf(out, n, "%.*s", (int)(url + end - slash), slash);
}

static void stat_item(af_fetch_item *it)
{
    struct stat st;
    it->size = -1;
    if (it->remote) return;
    if (it->pattern) {
        glob_t g;
        if (glob(it->pattern, 0, NULL, &g) == 0) {
            char *match = af_strdup(g.gl_pathv[0]); /* the file the source will read */
            if (match) free(it->path), it->path = match;
            it->present = 1;
            if (stat(it->path, &st) == 0) it->size = (long long)st.st_size;
        }
        globfree(&g);
        return;
    }
    if (stat(it->path, &st) == 0 && S_ISREG(st.st_mode)) {
        it->present = 1;
        it->size = (long long)st.st_size;
    }
}

static int grow_slots(builder *bd, af_error *err)
{
    int rc = AF_OK;
    size_t n = bd->nslots ? 2 * bd->nslots : 1024;
    size_t *s = calloc(n, sizeof *s);
    AF_CHECK_ALLOC(s);
    for (size_t i = 0; i < bd->list->n; i++) {
        size_t h = (size_t)(fnv1a(bd->list->items[i].path) & (n - 1));
        while (s[h]) h = (h + 1) & (n - 1);
        s[h] = i + 1;
    }
    free(bd->slots);
    bd->slots = s;
    bd->nslots = n;
cleanup:
    return rc;
}

/* Add one file unless its path is already listed. */
static int add_item(builder *bd, const af_config_section *sec, const char *pkey, const char *ukey, const char *path,
                    const char *url, int optional, af_error *err)
{
    int rc = AF_OK;
    af_fetch_list *l = bd->list;
    char final[4096];
    const char *pattern = NULL;
    snprintf(final, sizeof final, "%s", path);
    if (archive_of(path, final, sizeof final)) {
        path = final; /* a file inside a local archive: the archive is what is fetched */
    } else if (!af_path_is_virtual(path) && is_glob(path) && url) {
        /* a glob (one tower file per site, version unknown): the URL names the file */
        char base[1024], dir[4096];
        url_basename(url, base, sizeof base);
        const char *slash = strrchr(path, '/');
        if (!base[0] || fnmatch(slash ? slash + 1 : path, base, 0) != 0)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: the file name '%s' of '%s' does not match the path pattern '%s'",
                    bd->cfg->path, af_config_line(sec, ukey), sec->name, ukey, base, url, path);
        af_path_dirname(path, dir, sizeof dir);
        AF_CHECK(af_path_join(dir, base, final, sizeof final, err));
        pattern = path;
    } else if (!af_path_is_virtual(path) && is_glob(path)) {
        pattern = path;
    }
    if (2 * (l->n + 1) > bd->nslots) AF_CHECK(grow_slots(bd, err));
    size_t h = (size_t)(fnv1a(final) & (bd->nslots - 1));
    for (; bd->slots[h]; h = (h + 1) & (bd->nslots - 1))
        if (!strcmp(l->items[bd->slots[h] - 1].path, final)) {
            l->items[bd->slots[h] - 1].optional &= optional; /* optional only if every reader says so */
            goto cleanup;
        }
    AF_CHECK(af_array_grow((void **)&l->items, &l->cap, l->n, sizeof *l->items, 64, err));
    af_fetch_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    if (snprintf(it->key, sizeof it->key, "%.100s.%.50s", sec->name, pkey) < 0 ||
        (url && snprintf(it->url_key, sizeof it->url_key, "%.100s.%.50s", sec->name, ukey) < 0))
        AF_FAIL(AF_EINTERNAL, "key name");
    it->line = af_config_line(sec, url ? ukey : pkey);
    it->path = af_strdup(final);
    it->pattern = pattern ? af_strdup(pattern) : NULL;
    it->url = url ? af_strdup(url) : NULL;
    if (!it->path || (pattern && !it->pattern) || (url && !it->url)) {
        free(it->path), free(it->pattern), free(it->url);
        AF_FAIL(AF_ENOMEM, "out of memory");
    }
    it->remote = af_path_is_virtual(final);
    it->optional = optional;
    stat_item(it);
    bd->slots[h] = ++l->n;
cleanup:
    return rc;
}

/* The URL key of path key pkey: `url` for `path`, else KEY_url. */
static void url_key_of(const char *pkey, char *out, size_t n)
{
    if (!strcmp(pkey, "path")) snprintf(out, n, "url");
    else snprintf(out, n, "%s_url", pkey);
}

static int split_layers(const char *text, char ***out, size_t *n, af_error *err)
{
    int rc = AF_OK;
    char *copy = af_strdup(text ? text : "");
    AF_CHECK_ALLOC(copy);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        af_strtrim(tok);
        if (!tok[0]) continue;
        char **nl = realloc(*out, (*n + 1) * sizeof *nl);
        AF_CHECK_ALLOC(nl);
        *out = nl;
        nl[*n] = af_strdup(tok);
        AF_CHECK_ALLOC(nl[*n]);
        (*n)++;
    }
cleanup:
    free(copy);
    return rc;
}

static int sample_applies(const af_feature_cfg *f, const af_sample *s)
{
    if (f->applies == AF_APPLIES_COUNTIES) return s->kind == AF_SAMPLE_COUNTY;
    if (f->applies == AF_APPLIES_SITES) return s->kind != AF_SAMPLE_COUNTY;
    return 1;
}

/* Replace the file name of a path or URL by name (the part after the last '/'). */
static int sibling(const char *p, const char *name, char *out, size_t n)
{
    const char *slash = strrchr(p, '/');
    int len = snprintf(out, n, "%.*s%s", slash ? (int)(slash - p + 1) : 0, p, name);
    return len >= 0 && (size_t)len < n;
}

/*
 * DayCent's header-less per-layer files (soiltavg.out, vswc.out, ...) take their layer count from
 * the run's soils.in, read next to them unless a `soils` key names it: a file the pipeline needs
 * though no key names it.
 */
static int add_implicit_soils(builder *bd, const af_config_section *sec, const af_feature_cfg *f, const char *pkey,
                              const char *path, const char *url, int optional, af_error *err)
{
    static const char *const noheader[] = { "soiltavg.out", "soiltmax.out", "soiltmin.out", "vswc.out", "wfps.out", NULL };
    const char *soils = af_config_get(sec, "soils");
    if (!f || strcmp(f->source, "daycent") || strcmp(pkey, "path") || (soils && soils[0])) return AF_OK;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int hit = 0;
    for (int i = 0; noheader[i]; i++) hit |= !strcmp(base, noheader[i]);
    if (!hit) return AF_OK;
    char p2[4096], u2[4096];
    if (!sibling(path, "soils.in", p2, sizeof p2) || (url && !sibling(url, "soils.in", u2, sizeof u2)))
        return af_error_set(err, AF_ECONFIG, __FILE__, __LINE__, __func__, "%s: [%s] path too long", bd->cfg->path, sec->name);
    return add_item(bd, sec, "path", "url", p2, url ? u2 : NULL, optional, err);
}

/* Section of docs/data-sources.md that says where a source kind's files come from. */
static const char *doc_anchor(const af_config_section *sec, const af_feature_cfg *f)
{
    static const struct { const char *kind, *anchor; } map[] = {
        { "soil", "soil-gssurgo--gnatsgo-usda-nrcs" }, { "cdl", "cropland-data-layer-usda-nass" },
        { "management", "layout-the-reference-pipelines-expect" }, { "ecosys", "ecosys-and-daycent-outputs" },
        { "daycent", "ecosys-and-daycent-outputs" }, { "tower", "ameriflux-base-and-fluxnet-flux-towers" },
        { "chamber", "n2o-chambers" }, { "gridded", "layout-the-reference-pipelines-expect" },
    };
    if (!f) return !strcmp(sec->name, "counties") ? "county-boundaries-us-census-bureau" : "layout-the-reference-pipelines-expect";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(f->source, map[i].kind)) return map[i].anchor;
    return "layout-the-reference-pipelines-expect";
}

/* Set a string field of a new item from a template expanded under b (URL rules). */
static int expand_into(builder *bd, const af_config_section *sec, const char *key, const bind *b, char **dst,
                       af_error *err)
{
    char buf[4096];
    const char *t = af_config_get(sec, key);
    if (!t || !t[0]) return AF_OK;
    int got = expand(bd, sec, key, t, b, 1, buf, sizeof buf, err);
    if (got < 0) return got;
    if (got == 0)
        return af_error_set(err, AF_ECONFIG, __FILE__, __LINE__, __func__, "%s:%d: [%s] %s: '%s' names a sample "
                            "placeholder the path does not fill", bd->cfg->path, af_config_line(sec, key), sec->name,
                            key, t);
    *dst = af_strdup(buf);
    return *dst ? AF_OK : af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
}

/* What `fetch` needs beyond the URL for a newly listed file: checksums, crop or tiles (`fetch`). */
static int set_extras(builder *bd, const af_config_section *sec, const af_feature_cfg *f, const char *pkey,
                      af_fetch_item *it, const bind *b, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = bd->cfg;
    char base[1024], buf[4096];
    snprintf(it->doc, sizeof it->doc, "%s", !strcmp(pkey, "cropland_weights") ? "cropland-data-layer-usda-nass"
                                                                                 : doc_anchor(sec, f));
    if (!f) goto cleanup;
    AF_CHECK(expand_into(bd, sec, "sha256sums", b, &it->sums_url, err));
    const char *mode = af_config_get(sec, "fetch");
    if (!mode || !strcmp(mode, "copy") || !mode[0] || strcmp(pkey, "path")) goto cleanup;
    int line = af_config_line(sec, "fetch");
    if (!strcmp(mode, "crop")) {
        if (!it->url)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] fetch = crop needs `url` (the national raster or its zip)", cfg->path,
                    line, sec->name);
        const char *cache = af_config_get(sec, "fetch_cache");
        const char *m = af_config_get(sec, "fetch_margin");
        it->mode = AF_FETCH_CROP;
        it->margin = m && m[0] ? atoi(m) : 8;
        url_basename(it->url, base, sizeof base);
        if (cache && cache[0]) {
            char dir[4096];
            AF_CHECK(af_config_resolve(cfg, cache, dir, sizeof dir, err));
            AF_CHECK(af_path_join(dir, base, buf, sizeof buf, err));
            it->keep_src = 1;
        } else if (snprintf(buf, sizeof buf, "%s.download-%s", it->path, base) >= (int)sizeof buf) {
            AF_FAIL(AF_ECONFIG, "%s: [%s] path too long", cfg->path, sec->name);
        }
    } else {
        AF_CHECK(expand_into(bd, sec, "tile_url", b, &it->tile_url, err));
        if (!it->tile_url)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] fetch = tiles needs `tile_url` (a template with {lat0} {lat1} {lon0} "
                    "{lon1})", cfg->path, line, sec->name);
        it->mode = AF_FETCH_TILES;
        snprintf(buf, sizeof buf, "%s", it->path);
        char *dot = strrchr(buf, '.'), *slash = strrchr(buf, '/');
        if (dot && (!slash || dot > slash)) *dot = '\0';
        if (strlen(buf) + 7 >= sizeof buf) AF_FAIL(AF_ECONFIG, "%s: [%s] path too long", cfg->path, sec->name);
        strcat(buf, ".tiles");
    }
    it->src_path = af_strdup(buf);
    AF_CHECK_ALLOC(it->src_path);
cleanup:
    return rc;
}

/* One path key of a section over its years x layers x samples. */
static int add_key(builder *bd, const af_config_section *sec, const af_feature_cfg *f, const char *pkey,
                   const af_sampleset *set, af_error *err)
{
    int rc = AF_OK;
    char **layers = NULL;
    size_t nlayers = 0;
    char ukey[64], path[4096], url[4096];
    const char *ptmpl = af_config_get(sec, pkey);
    if (!ptmpl || !ptmpl[0]) goto cleanup;
    url_key_of(pkey, ukey, sizeof ukey);
    const char *utmpl = af_config_get(sec, ukey);
    if (utmpl && !utmpl[0]) utmpl = NULL;
    const char *mf = af_config_get(sec, "missing_file");
    int optional = mf && !strcmp(mf, "missing");
    int per_year = strstr(ptmpl, "{year}") || (utmpl && strstr(utmpl, "{year}"));
    int per_layer = strstr(ptmpl, "{layer}") || (utmpl && strstr(utmpl, "{layer}"));
    int per_sample = has_sample_field(ptmpl) || has_sample_field(utmpl);
    if (per_sample && !set) { bd->list->partial = 1; goto cleanup; }
    if (per_layer) AF_CHECK(split_layers(af_config_get(sec, "layers"), &layers, &nlayers, err));
    int y0 = per_year ? bd->cfg->start.year : 0, y1 = per_year ? bd->cfg->end.year : 0;
    size_t ns = per_sample ? af_sampleset_count(set) : 1;
    for (size_t si = 0; si < ns; si++) {
        bind b = { 0, NULL, per_sample ? af_sampleset_get_ref(set, si) : NULL };
        if (b.s && f && !sample_applies(f, b.s)) continue;
        for (int y = y0; y <= y1; y++) {
            b.year = y;
            for (size_t l = 0; l < (per_layer ? nlayers : 1); l++) {
                b.layer = per_layer ? layers[l] : NULL;
                int got = expand(bd, sec, pkey, ptmpl, &b, 0, path, sizeof path, err);
                if (got < 0) { rc = got; goto cleanup; }
                if (got == 0) continue; /* this sample does not read this key */
                if (utmpl) {
                    got = expand(bd, sec, ukey, utmpl, &b, 1, url, sizeof url, err);
                    if (got < 0) { rc = got; goto cleanup; }
                    if (got == 0)
                        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' names a sample placeholder that %s does not fill",
                                bd->cfg->path, af_config_line(sec, ukey), sec->name, ukey, utmpl, pkey);
                }
                size_t before = bd->list->n;
                AF_CHECK(add_item(bd, sec, pkey, ukey, path, utmpl ? url : NULL, optional, err));
                if (bd->list->n > before)
                    AF_CHECK(set_extras(bd, sec, f, pkey, &bd->list->items[bd->list->n - 1], &b, err));
                AF_CHECK(add_implicit_soils(bd, sec, f, pkey, path, utmpl ? url : NULL, optional, err));
            }
        }
    }
cleanup:
    for (size_t l = 0; l < nlayers; l++) free(layers[l]);
    free(layers);
    return rc;
}

int af_fetch_list_build(const af_config *cfg, const af_sampleset *set, int flags, af_fetch_list *out, af_error *err)
{
    int rc = AF_OK;
    builder bd = { cfg, out, NULL, 0, (flags & AF_FETCH_LIST_KEEP_DATA_URL) != 0 };
    AF_CHECK_ARG(cfg && out);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cfg->nsections; i++) {
        const af_config_section *sec = &cfg->sections[i];
        if (!strcmp(sec->name, "counties")) {
            AF_CHECK(add_key(&bd, sec, NULL, "layer", NULL, err));
            AF_CHECK(add_key(&bd, sec, NULL, "select", NULL, err));
        } else if (!strcmp(sec->name, "sites")) {
            AF_CHECK(add_key(&bd, sec, NULL, "list", NULL, err));
        }
    }
    for (size_t i = 0; i < cfg->nfeatures; i++)
        for (const char *const *k = feature_path_keys; *k; k++)
            AF_CHECK(add_key(&bd, cfg->features[i].section, &cfg->features[i], *k, set, err));
cleanup:
    free(bd.slots);
    if (rc != AF_OK) af_fetch_list_dispose(out);
    return rc;
}

void af_fetch_list_dispose(af_fetch_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].path);
        free(list->items[i].pattern);
        free(list->items[i].url);
        free(list->items[i].error);
        free(list->items[i].tile_url);
        free(list->items[i].src_path);
        free(list->items[i].sums_url);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

int af_fetch_load_samples(const af_config *cfg, af_sampleset **out, af_error *err)
{
    int rc = AF_OK;
    af_sample_opts so;
    af_sample_opts_from_config(cfg, &so);
    AF_CHECK(af_sampleset_load(&so, out, err));
cleanup:
    return rc;
}
