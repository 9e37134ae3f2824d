/* SPDX-License-Identifier: MIT */
/*
 * test_template.c: path templates of source kinds (src/sources/template.c):
 * every placeholder for county and site samples, resolution against the
 * pipeline directory, and each error (unknown, unterminated, unfillable);
 * and the run's memo of passed checks (af_source_memo, kind_common.c).
 */
#include <stdio.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/config.h"
#include "sources_impl.h"

static af_config cfg;
static af_sample county = { "19153:N112", AF_SAMPLE_COUNTY, "19153", "N112", 1, 41.6, -93.6, 3, 1.0, 0 };
static af_sample site = { "US-Br1", AF_SAMPLE_SITE, "", "", -1, 42.0, -93.7, 0, 1.0, -1 };

static void test_county(void)
{
    char out[4096];
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "runs/{state}/{fips}/{scenario}/{year}.txt",
                                     &county, 2004, out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/data/pipes/runs/19/19153/N112/2004.txt"));
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "/abs/{id}.csv", &county, 0, out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/abs/19153_N112.csv")); /* the id's ':' is written '_' in names */
    snprintf(cfg.data_root, sizeof cfg.data_root, "/raw");
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "{root}/gridmet/tmmx_{year}.nc", &county, 2001, out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/raw/gridmet/tmmx_2001.nc"));
    /* {root} after an archive prefix is resolved too */
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "/vsizip/{root}/c/{fips}.zip/{id}.shp", &county, 0, out,
                                     sizeof out, err));
    AF_EXPECT(!strcmp(out, "/vsizip//raw/c/19153.zip/19153_N112.shp"));
    AF_TEST_PASS(af__template_check(&cfg, NULL, "path", "/vsizip/{root}/c/{fips}.zip/{id}.shp", "fips id", err));
    cfg.data_root[0] = '\0';
    AF_TEST_FAILS_WITH(AF_ECONFIG, "data_root is not set",
                       af__template_expand(&cfg, NULL, "path", "{root}/x.nc", &county, 0, out, sizeof out, err));
}

static void test_site(void)
{
    char out[4096];
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "towers/{site}_{year}.csv", &site, 999, out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/data/pipes/towers/US-Br1_0999.csv"));
    AF_TEST_PASS(af__template_expand(&cfg, NULL, "path", "plain.csv", NULL, 0, out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/data/pipes/plain.csv"));
}

static void test_flags(void)
{
    AF_EXPECT(af__template_per_sample("a/{fips}.csv"));
    AF_EXPECT(af__template_per_sample("a/{site}.csv"));
    AF_EXPECT(!af__template_per_sample("a/{year}.csv"));
    AF_EXPECT(af__template_per_year("a/{year}.csv"));
    AF_EXPECT(!af__template_per_year("a/{id}.csv"));
}

static void test_errors(void)
{
    char out[4096];
    AF_TEST_FAILS_WITH(AF_ECONFIG, "unknown placeholder {county}",
                       af__template_expand(&cfg, NULL, "path", "x/{county}.csv", &county, 0, out, sizeof out, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "unterminated",
                       af__template_expand(&cfg, NULL, "path", "x/{fips.csv", &county, 0, out, sizeof out, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "{fips} in 'x/{fips}.csv' has no value for sample 'US-Br1'",
                       af__template_expand(&cfg, NULL, "path", "x/{fips}.csv", &site, 0, out, sizeof out, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "{site} in 'x/{site}.csv' has no value for sample '19153:N112'",
                       af__template_expand(&cfg, NULL, "path", "x/{site}.csv", &county, 0, out, sizeof out, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "{year}",
                       af__template_expand(&cfg, NULL, "path", "x/{year}.csv", &county, 0, out, sizeof out, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "no value for sample '(none)'",
                       af__template_expand(&cfg, NULL, "path", "x/{id}.csv", NULL, 0, out, sizeof out, err));
}

static void test_memo(void)
{
    af_source_memo *m = NULL;
    AF_TEST_PASS(af_source_memo_create(&m, err));
    AF_EXPECT(m && !af__memo_seen(m, "GEOGCRS[\"WGS 84\"]"));
    AF_TEST_PASS(af__memo_note(m, "GEOGCRS[\"WGS 84\"]", err));
    AF_EXPECT(af__memo_seen(m, "GEOGCRS[\"WGS 84\"]") && !af__memo_seen(m, "GEOGCRS[\"WGS 8\"]"));
    /* past the first growth: every key noted is found, none other, a key noted twice once */
    char key[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "crs-%d", i % 20);
        AF_TEST_PASS(af__memo_note(m, key, err));
    }
    for (int i = 0; i < 25; i++) {
        snprintf(key, sizeof key, "crs-%d", i);
        AF_EXPECT(af__memo_seen(m, key) == (i < 20));
    }
    AF_EXPECT(!af__memo_seen(m, NULL));
    /* no memo (plan's sources, tests): nothing is seen, noting does nothing */
    AF_EXPECT(!af__memo_seen(NULL, "crs-1"));
    AF_TEST_PASS(af__memo_note(NULL, "crs-1", err));
    af_source_memo_destroy(&m);
    AF_EXPECT(m == NULL);
    af_source_memo_destroy(&m);
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_source_memo_create(NULL, err));
}

int main(void)
{
    snprintf(cfg.path, sizeof cfg.path, "/data/pipes/p.ini");
    snprintf(cfg.dir, sizeof cfg.dir, "/data/pipes");
    AF_RUN(test_county);
    AF_RUN(test_site);
    AF_RUN(test_flags);
    AF_RUN(test_errors);
    AF_RUN(test_memo);
    return AF_TEST_END();
}
