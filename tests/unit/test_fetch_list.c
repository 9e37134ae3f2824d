/* SPDX-License-Identifier: MIT */
/*
 * test_fetch_list.c: which paths are virtual, how /vsi prefixes and {root} resolve, and the
 * file list of a pipeline (agroflux/fetch.h) built from a small site pipeline written here:
 * every path key expanded over years and sites with its url template ({data_url}), in
 * pipeline order, deduplicated, present files found, archive paths reduced to the archive, and
 * the errors (unset data_url, unknown placeholder, glob and URL name that disagree, an unknown
 * KEY_url), the keys of files fetch makes (fetch = crop / tiles, fetch_cache, fetch_margin,
 * sha256sums) and their errors, and the VSI hash of a zip member used for provenance. Expected values are spelled out here. Writes only into a private mkdtemp directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_vsi.h>

#include "af_test.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "agroflux/fetch.h"
#include "agroflux/source.h"

static char g_dir[64];

static void write_text(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *fp = fopen(path, "w");
    if (!fp) { perror(path); exit(1); }
    fputs(text, fp);
    fclose(fp);
}

static const char *base_ini =
    "[pipeline]\nname = t\nstart = 2003-01-01\nend = 2004-12-31\ndata_root = raw\n%s\n"
    "[sites]\nlist = {root}/sites.csv\nlist_url = {data_url}/lists/sites.csv\n"
    "[target.GPP]\nsource = table\npath = {root}/gpp/{id}.csv\nurl = {data_url}/g/{id}.csv\n"
    "source_units = g C m-2 d-1\nunits = g C m-2 d-1\n"
    "[target.NEE]\nsource = table\npath = {root}/gpp/{id}.csv\nunits = g C m-2 d-1\nsource_units = g C m-2 d-1\n"
    "[input.TA]\nsource = table\npath = {root}/w_{year}.csv\nurl = https://example.org/w/{year}.csv\n"
    "units = degC\nsource_units = degC\n%s";

static int load(const char *pipeline_extra, const char *extra, af_config **cfg, af_error *err)
{
    char text[4096], path[128];
    snprintf(text, sizeof text, base_ini, pipeline_extra, extra);
    write_text("p.ini", text);
    snprintf(path, sizeof path, "%s/p.ini", g_dir);
    return af_config_load_flags(path, NULL, 0, AF_CONFIG_NO_PATH_CHECK, cfg, err);
}

static void test_virtual(void)
{
    static const struct { const char *p; int v; } cases[] = {
        { "/vsicurl/https://h/x.tif", 1 }, { "/vsizip/a.zip/b.shp", 1 }, { "/vsis3/bucket/key.tif", 1 },
        { "https://h/x.nc", 1 }, { "http://h/dodsC/x.nc", 1 }, { "NETCDF:\"f.nc\":tmax", 1 },
        { "GPKG:f.gpkg:layer", 1 }, { "C:/data/x.tif", 0 }, { "/data/x.tif", 0 }, { "rel/x.tif", 0 },
        { "x:y", 0 }, { "", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (af_path_is_virtual(cases[i].p) != cases[i].v)
            fprintf(stderr, "af_path_is_virtual(%s) != %d\n", cases[i].p, cases[i].v);
        AF_EXPECT(af_path_is_virtual(cases[i].p) == cases[i].v);
    }
}

static void test_resolve(void)
{
    af_config *cfg = NULL;
    char out[4096], want[4096];
    AF_TEST_PASS(load("", "", &cfg, err));
    if (!cfg) return;
    static const struct { const char *in, *out; } cases[] = {
        { "{root}/a.tif", "%s/raw/a.tif" },
        { "/vsizip/{root}/c.zip/c.shp", "/vsizip/%s/raw/c.zip/c.shp" },
        { "/vsizip/rel/c.zip", "/vsizip/%s/rel/c.zip" },
        { "/vsizip//abs/c.zip/x", "/vsizip//abs/c.zip/x" },
        { "/vsigzip//vsicurl/https://h/x.gz", "/vsigzip//vsicurl/https://h/x.gz" },
        { "/vsis3/bucket/key.tif", "/vsis3/bucket/key.tif" },
        { "/vsicurl/https://h/x.tif", "/vsicurl/https://h/x.tif" },
        { "https://h/dodsC/x.nc", "https://h/dodsC/x.nc" },
        { "NETCDF:\"/d/f.nc\":v", "NETCDF:\"/d/f.nc\":v" },
        { "rel/x.tif", "%s/rel/x.tif" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(want, sizeof want, cases[i].out, g_dir);
        AF_TEST_PASS(af_config_resolve(cfg, cases[i].in, out, sizeof out, err));
        if (strcmp(out, want)) fprintf(stderr, "resolve(%s) = %s, expected %s\n", cases[i].in, out, want);
        AF_EXPECT(!strcmp(out, want));
    }
    af_config_destroy(&cfg);
}

static const af_fetch_item *find(const af_fetch_list *l, const char *path_tail)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->items[i].path), m = strlen(path_tail);
        if (n >= m && !strcmp(l->items[i].path + n - m, path_tail)) return &l->items[i];
    }
    return NULL;
}

static void test_list(void)
{
    af_config *cfg = NULL;
    af_sampleset *set = NULL;
    af_fetch_list l = { 0 };
    char path[256];
    static const char sites[] = "site_id,lat,lon\nUS-Aa1,41,-93\nUS-Bb2,40,-90\n";
    write_text("raw/sites.csv", sites);
    write_text("raw/w_2004.csv", "id,date,ta\n");
    AF_TEST_PASS(load("data_url = http://m:8000/tree", "", &cfg, err));
    if (!cfg) return;
    /* without samples: the site list and the per-year files; partial */
    AF_TEST_PASS(af_fetch_list_build(cfg, NULL, 0, &l, err));
    AF_EXPECT(l.partial == 1 && l.n == 3);
    if (l.n == 3) {
        snprintf(path, sizeof path, "%s/raw/sites.csv", g_dir);
        AF_EXPECT(!strcmp(l.items[0].path, path) && !strcmp(l.items[0].url, "http://m:8000/tree/lists/sites.csv"));
        AF_EXPECT(!strcmp(l.items[0].key, "sites.list") && !strcmp(l.items[0].url_key, "sites.list_url"));
        AF_EXPECT(l.items[0].present && l.items[0].size == (long long)strlen(sites) && l.items[0].line == 9);
        AF_EXPECT(!strcmp(l.items[1].url, "https://example.org/w/2003.csv") && !l.items[1].present);
        AF_EXPECT(!strcmp(l.items[2].url, "https://example.org/w/2004.csv") && l.items[2].present &&
                  l.items[2].size == 11);
    }
    af_fetch_list_dispose(&l);
    /* with samples: one GPP file per site (NEE reads the same files: listed once), in order */
    AF_TEST_PASS(af_fetch_load_samples(cfg, &set, err));
    AF_TEST_PASS(af_fetch_list_build(cfg, set, 0, &l, err));
    AF_EXPECT(l.partial == 0 && l.n == 5);
    const af_fetch_item *a = find(&l, "/raw/gpp/US-Aa1.csv"), *b = find(&l, "/raw/gpp/US-Bb2.csv");
    AF_EXPECT(a && b && a < b && !strcmp(a->url, "http://m:8000/tree/g/US-Aa1.csv") &&
              !strcmp(b->key, "target.GPP.path") && !strcmp(b->url_key, "target.GPP.url") && !a->present);
    af_fetch_list_dispose(&l);
    af_sampleset_destroy(&set);
    af_config_destroy(&cfg);

    /* a /vsizip/ path over a local archive lists the archive; a /vsicurl/ path is remote */
    AF_TEST_PASS(load("data_url = http://m", "[input.S]\nsource = soil\npath = /vsizip/{root}/s.zip/s_{layer}.tif\n"
                      "url = {data_url}/s.zip\nlayers = 0-5,5-15\nunits = %\nsource_units = %\n"
                      "cropland_weights = /vsicurl/http://h/crop.tif\n", &cfg, err));
    if (cfg) {
        AF_TEST_PASS(af_fetch_list_build(cfg, NULL, 0, &l, err));
        const af_fetch_item *z = find(&l, "/raw/s.zip"), *c = find(&l, "/vsicurl/http://h/crop.tif");
        AF_EXPECT(z && !z->remote && !strcmp(z->url, "http://m/s.zip") && l.n == 5); /* list, 2 years, zip, crop */
        AF_EXPECT(c && c->remote && !c->url);
        af_fetch_list_dispose(&l);
        af_config_destroy(&cfg);
    }
}

static void test_errors(void)
{
    af_config *cfg = NULL;
    af_fetch_list l = { 0 };
    /* {data_url} with no data_url: names file, line and key; with the listing flag it stays */
    AF_TEST_PASS(load("", "", &cfg, err));
    if (cfg) {
        AF_TEST_FAILS_WITH(AF_ECONFIG, "p.ini:9: [sites] list_url: '{data_url}/lists/sites.csv' uses {data_url} but "
                           "[pipeline] data_url is not set", af_fetch_list_build(cfg, NULL, 0, &l, err));
        AF_TEST_PASS(af_fetch_list_build(cfg, NULL, AF_FETCH_LIST_KEEP_DATA_URL, &l, err));
        AF_EXPECT(l.n >= 1 && !strcmp(l.items[0].url, "{data_url}/lists/sites.csv"));
        af_fetch_list_dispose(&l);
        af_config_destroy(&cfg);
    }
    /* an unknown placeholder in a URL */
    AF_TEST_PASS(load("data_url = http://m", "[input.Y]\nsource = table\npath = {root}/y.csv\nurl = {data_url}/{what}.csv\n"
                      "units = degC\nsource_units = degC\n", &cfg, err));
    if (cfg) {
        AF_TEST_FAILS_WITH(AF_ECONFIG, "[input.Y] url: unknown placeholder {what}", af_fetch_list_build(cfg, NULL, 0, &l, err));
        af_config_destroy(&cfg);
    }
    /* a glob path whose URL names a file the glob does not match */
    AF_TEST_PASS(load("data_url = http://m", "[target.F]\nsource = tower\nformat = fullset\n"
                      "path = {root}/fx/*_{site}_*FULLSET_DD_*.csv\nurl = {data_url}/fx/{site}.csv\ncolumn = NEE_VUT_REF\n"
                      "units = g C m-2 d-1\nsource_units = g C m-2 d-1\n", &cfg, err));
    if (cfg) {
        af_sampleset *set = NULL;
        AF_TEST_PASS(af_fetch_load_samples(cfg, &set, err));
        AF_TEST_FAILS_WITH(AF_ECONFIG, "does not match the path pattern", af_fetch_list_build(cfg, set, 0, &l, err));
        af_sampleset_destroy(&set);
        af_config_destroy(&cfg);
    }
    /* KEY_url is accepted only beside a key the section has (checked against the kind's table) */
    AF_TEST_PASS(load("", "[input.Z]\nsource = table\npath = {root}/z.csv\nnothing_url = x\nunits = degC\n"
                      "source_units = degC\n", &cfg, err));
    if (cfg) {
        const af_feature_cfg *z = &cfg->features[cfg->nfeatures - 1];
        const af_feature_cfg *gpp = &cfg->features[0];
        AF_TEST_FAILS_WITH(AF_ECONFIG, "unknown key 'nothing_url'",
                           af_config_check_section(cfg, z->section, af_feature_common_keys(),
                                                   af_source_kind_find("table")->keys, err));
        AF_TEST_PASS(af_config_check_section(cfg, gpp->section, af_feature_common_keys(),
                                             af_source_kind_find("table")->keys, err));
        af_config_destroy(&cfg);
    }
}

/* Size and SHA-256 of a member of a zip read through GDAL's VSI, against the bytes written. */
/* fetch = crop / tiles, fetch_cache, fetch_margin, sha256sums and the guide's section of each file */
static void test_derived_keys(void)
{
    af_config *cfg = NULL;
    af_fetch_list l = { 0 };
    char want[256];
    AF_TEST_PASS(load("data_url = http://m",
                      "[input.C]\nsource = cdl\npath = {root}/cdl/{year}.tif\nurl = {data_url}/nass/{year}_30m_cdls.zip?v=1\n"
                      "fetch = crop\nfetch_margin = 3\nsha256sums = {data_url}/S{year}\nclasses = 1\nstatistic = fraction\n"
                      "units = 1\n"
                      "[input.K]\nsource = cdl\npath = {root}/k/{year}.tif\nurl = {data_url}/nass/{year}.zip\nfetch = crop\n"
                      "fetch_cache = {root}/cache\nclasses = 1\nstatistic = fraction\nunits = 1\n"
                      "[input.P]\nsource = soil\npath = {root}/p/bd_{layer}.vrt\nfetch = tiles\nlayers = 0_5,5_15\n"
                      "tile_url = {data_url}/bd/{layer}/lat{lat0}{lat1}_lon{lon0}{lon1}.tif\nunits = %\nsource_units = %\n",
                      &cfg, err));
    if (cfg) {
        AF_TEST_PASS(af_fetch_list_build(cfg, NULL, 0, &l, err));
        const af_fetch_item *c = find(&l, "/raw/cdl/2004.tif"), *k = find(&l, "/raw/k/2003.tif");
        const af_fetch_item *p = find(&l, "/raw/p/bd_5_15.vrt"), *ta = find(&l, "/raw/w_2003.csv");
        snprintf(want, sizeof want, "%s/raw/cdl/2004.tif.download-2004_30m_cdls.zip", g_dir);
        AF_EXPECT(c && c->mode == AF_FETCH_CROP && c->margin == 3 && !c->keep_src && c->src_path &&
                  !strcmp(c->src_path, want) && c->sums_url && !strcmp(c->sums_url, "http://m/S2004") &&
                  !strcmp(c->doc, "cropland-data-layer-usda-nass"));
        snprintf(want, sizeof want, "%s/raw/cache/2003.zip", g_dir);
        AF_EXPECT(k && k->mode == AF_FETCH_CROP && k->margin == 8 && k->keep_src && k->src_path &&
                  !strcmp(k->src_path, want) && !k->sums_url);
        snprintf(want, sizeof want, "%s/raw/p/bd_5_15.tiles", g_dir);
        AF_EXPECT(p && p->mode == AF_FETCH_TILES && !p->url && p->tile_url &&
                  !strcmp(p->tile_url, "http://m/bd/5_15/lat{lat0}{lat1}_lon{lon0}{lon1}.tif") && p->src_path &&
                  !strcmp(p->src_path, want) && !strcmp(p->doc, "soil-gssurgo--gnatsgo-usda-nrcs"));
        AF_EXPECT(ta && ta->mode == AF_FETCH_COPY && !ta->src_path && !ta->tile_url);
        af_fetch_list_dispose(&l);
        af_config_destroy(&cfg);
    }
    /* {lat0} belongs to tile_url only; fetch = crop needs url, fetch = tiles needs tile_url */
    static const struct { const char *extra, *msg; } bad[] = {
        { "[input.Q]\nsource = soil\npath = {root}/q_{layer}.tif\nlayers = 0-5\nurl = {data_url}/lat{lat0}.tif\n"
          "units = %\nsource_units = %\n", "[input.Q] url: unknown placeholder {lat0}" },
        { "[input.Q]\nsource = cdl\npath = {root}/q/{year}.tif\nfetch = crop\nclasses = 1\nunits = 1\n",
          "[input.Q] fetch = crop needs `url`" },
        { "[input.Q]\nsource = soil\npath = {root}/q_{layer}.vrt\nlayers = 0-5\nfetch = tiles\nunits = %\n"
          "source_units = %\n", "[input.Q] fetch = tiles needs `tile_url`" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        AF_TEST_PASS(load("data_url = http://m", bad[i].extra, &cfg, err));
        if (cfg) {
            AF_TEST_FAILS_WITH(AF_ECONFIG, bad[i].msg, af_fetch_list_build(cfg, NULL, 0, &l, err));
            af_config_destroy(&cfg);
        }
    }
}

static void test_vsi_hash(void)
{
    char zip[256], member[300], hex[65], want[65];
    static const char text[] = "a,b\n1,2\n";
    snprintf(zip, sizeof zip, "/vsizip/%s/h.zip", g_dir);
    snprintf(member, sizeof member, "%s/m.csv", zip);
    VSILFILE *fp = VSIFOpenL(member, "wb");
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    VSIFWriteL(text, 1, strlen(text), fp);
    VSIFCloseL(fp);
    long long bytes = 0;
    AF_TEST_PASS(af_fetch_vsi_sha256(member, &bytes, hex, err));
    af_sha256_hex(text, strlen(text), want);
    AF_EXPECT(bytes == (long long)strlen(text) && !strcmp(hex, want));
    snprintf(member, sizeof member, "%s/none.csv", zip);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "none.csv", af_fetch_vsi_sha256(member, &bytes, hex, err));
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/af-fetch-list-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    char d[128];
    snprintf(d, sizeof d, "%s/raw", g_dir);
    if (mkdir(d, 0775) != 0) { perror(d); return 1; }
    AF_RUN(test_virtual);
    AF_RUN(test_resolve);
    AF_RUN(test_list);
    AF_RUN(test_errors);
    AF_RUN(test_derived_keys);
    AF_RUN(test_vsi_hash);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return AF_TEST_END();
}
