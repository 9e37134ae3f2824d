/* SPDX-License-Identifier: MIT */
/*
 * test_config.c: unit tests of agroflux/config.h: a valid pipeline file loads
 * with its defaults and features in file order, and every error path is an
 * AF_ECONFIG (or AF_ENOTFOUND for a missing file) whose message names
 * file:line and the key. Also: `agroflux keys` Markdown lists every key of
 * every table. Writes only into a private mkdtemp directory.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "agroflux/pipeline.h"
#include "agroflux/source.h"
#include "config_impl.h"
#include "fixture_files.h"

/* Lines 1-4. */
#define PIPE "[pipeline]\nname = t\nstart = 2003-01-01\nend = 2003-12-31\n"
#define CNTY "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"

/* Load text written as name; expect code and every NULL-terminated needle in the message. */
static void expect_fail(int line, const char *name, const char *text, int code, ...)
{
    const char *path = text ? fx_write(name, text) : fx_path(name);
    af_config *cfg = NULL;
    af_error e = AF_ERROR_INIT;
    /* the pipeline's loader: config, then each feature's source kind and keys */
    int rc = af_pipeline_config_load(path, NULL, 0, &cfg, &e);
    if (rc != code) {
        fprintf(stderr, "%s:%d: %s: returned %s, expected %s (msg: %s)\n", __FILE__, line, name,
                af_status_name(rc), af_status_name(code), e.msg);
        af_test_case_failed = 1;
    }
    if (cfg) {
        fprintf(stderr, "%s:%d: %s: config returned on error\n", __FILE__, line, name);
        af_test_case_failed = 1;
        af_config_destroy(&cfg);
    }
    va_list ap;
    va_start(ap, code);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *)) {
        if (!strstr(e.msg, n)) {
            fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, line, name, e.msg, n);
            af_test_case_failed = 1;
        }
    }
    va_end(ap);
}

/* "<tmp>/<name>:<line>:" */
static const char *at(const char *name, int line)
{
    static char buf[8][1200];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s:%d:", fx_path(name), line);
    return buf[k];
}

#define FAILS(name, text, code, ...) expect_fail(__LINE__, name, text, code, __VA_ARGS__, (const char *)NULL)

static const char valid_ini[] =
    "; a valid pipeline\n"                          /* 1 */
    "[pipeline]\n"                                  /* 2 */
    "name = valid\n"                                /* 3 */
    "start = 2003-01-01\n"                          /* 4 */
    "end = 2004-12-31\n"                            /* 5 */
    "calendar = noleap\n"                           /* 6 */
    "\n"                                            /* 7 */
    "[counties]\n"                                  /* 8 */
    "layer = counties.geojson\n"                    /* 9 */
    "id_field = GEOID\n"                            /* 10 */
    "scenarios = N0, N112 ,N224,\n"                 /* 11 */
    "\n"                                            /* 12 */
    "[sites]\n"                                     /* 13 */
    "list = sites.csv\n"                            /* 14 */
    "\n"                                            /* 15 */
    "[target.GPP]\n"                                /* 16 */
    "source = table\n"                              /* 17 */
    "path = targets.csv\n"                          /* 18 */
    "source_units = umol m-2 s-1\n"                 /* 19 */
    "units = g C m-2 d-1\n"                         /* 20 */
    "applies_to = sites\n"                          /* 21 */
    "sign = positive = uptake\n"                    /* 22 */
    "missing =\n"                                   /* 23 */
    "\n"                                            /* 24 */
    "[input.TMAX_AIR]\n"                            /* 25 */
    "source = table\n"                              /* 26 */
    "path = weather_{year}.csv\n"                   /* 27 */
    "column = tmax\n"                               /* 28 */
    "source_units = K\n"                            /* 29 */
    "units = degC\n"                                /* 30 */
    "long_name = daily maximum air temperature\n"   /* 31 */
    "match = county\n"                              /* 32 */
    "\n"                                            /* 33 */
    "[target.NEE]\n"                                /* 34 */
    "source = table\n"                              /* 35 */
    "path = targets.csv\n"                          /* 36 */
    "source_units = g C m-2 d-1\n"                  /* 37 */
    "units = g C m-2 d-1\n"                         /* 38 */
    "applies_to = counties\n";                      /* 39 */

static void test_valid(void)
{
    const char *path = fx_write("valid.ini", valid_ini);
    af_config *cfg = NULL;
    AF_TEST_PASS(af_config_load(path, &cfg, err));
    if (!cfg) return;
    AF_EXPECT(!strcmp(cfg->path, path));
    AF_EXPECT(!strcmp(cfg->dir, fx_tmp));
    AF_EXPECT(!strcmp(cfg->name, "valid"));
    AF_EXPECT(cfg->start.year == 2003 && cfg->start.month == 1 && cfg->start.day == 1);
    AF_EXPECT(cfg->end.year == 2004 && cfg->end.month == 12 && cfg->end.day == 31);
    AF_EXPECT(cfg->calendar == AF_CAL_NOLEAP);
    AF_EXPECT(cfg->shard_samples == 64);
    AF_EXPECT(cfg->block_days == 366);
    AF_EXPECT(cfg->cdf5 == 0);
    AF_EXPECT(!strcmp(cfg->output, fx_path("output")));
    char sha[65];
    AF_TEST_PASS(af_file_sha256(path, sha, err));
    AF_EXPECT(!strcmp(cfg->sha256, sha));
    /* counties and sites */
    AF_EXPECT(cfg->has_counties && cfg->has_sites);
    AF_EXPECT(!strcmp(cfg->county_layer, fx_path("counties.geojson")));
    AF_EXPECT(!strcmp(cfg->id_field, "GEOID"));
    AF_EXPECT(cfg->county_layer_name[0] == 0);
    AF_EXPECT(cfg->county_select[0] == 0);
    AF_EXPECT(!strcmp(cfg->site_list, fx_path("sites.csv")));
    AF_EXPECT(cfg->nscenarios == 3);
    if (cfg->nscenarios == 3) {
        AF_EXPECT(!strcmp(cfg->scenarios[0], "N0"));
        AF_EXPECT(!strcmp(cfg->scenarios[1], "N112"));
        AF_EXPECT(!strcmp(cfg->scenarios[2], "N224"));
    }
    /* features in file order, inputs and targets interleaved */
    AF_EXPECT(cfg->nfeatures == 3);
    if (cfg->nfeatures == 3) {
        const af_feature_cfg *f = cfg->features;
        AF_EXPECT(!strcmp(f[0].name, "GPP") && f[0].role == AF_ROLE_TARGET);
        AF_EXPECT(!strcmp(f[0].source, "table"));
        AF_EXPECT(!strcmp(f[0].units, "g C m-2 d-1"));
        AF_EXPECT(f[0].applies == AF_APPLIES_SITES);
        AF_EXPECT(!strcmp(f[0].sign, "positive = uptake"));
        AF_EXPECT(f[0].long_name[0] == 0);
        AF_EXPECT(!strcmp(f[1].name, "TMAX_AIR") && f[1].role == AF_ROLE_INPUT);
        AF_EXPECT(!strcmp(f[1].units, "degC"));
        AF_EXPECT(f[1].applies == AF_APPLIES_ALL);
        AF_EXPECT(!strcmp(f[1].long_name, "daily maximum air temperature"));
        AF_EXPECT(!strcmp(f[2].name, "NEE") && f[2].role == AF_ROLE_TARGET);
        AF_EXPECT(f[2].applies == AF_APPLIES_COUNTIES);
        /* raw entries of the source kind, with their lines */
        AF_EXPECT(f[1].section && !strcmp(f[1].section->name, "input.TMAX_AIR"));
        const char *v = af_config_get(f[1].section, "path");
        AF_EXPECT(v && !strcmp(v, "weather_{year}.csv"));
        v = af_config_get(f[0].section, "missing");
        AF_EXPECT(v && !strcmp(v, ""));
        AF_EXPECT(af_config_get(f[1].section, "qc_column") == NULL);
        AF_EXPECT(af_config_line(f[1].section, "match") == 32);
        AF_EXPECT(af_config_line(f[1].section, "qc_column") == 25); /* absent: the header's line */
        AF_EXPECT(af_config_line(f[0].section, "source_units") == 19);
        AF_EXPECT(af_config_line(f[2].section, "applies_to") == 39);
    }
    AF_EXPECT(cfg->nsections == 6);
    char out[4096];
    AF_TEST_PASS(af_config_resolve(cfg, "a/b.csv", out, sizeof out, err));
    AF_EXPECT(!strcmp(out, fx_path("a/b.csv")));
    AF_TEST_PASS(af_config_resolve(cfg, "/abs/x.csv", out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/abs/x.csv"));
    af_config_destroy(&cfg);
    AF_EXPECT(cfg == NULL);
    af_config_destroy(&cfg);
}

static void test_valid_options(void)
{
    /* every [pipeline] option set; sites only; a list with the default scenario */
    const char *path = fx_write("opts.ini",
                                "[pipeline]\nname = o\nstart = 2004-02-28\nend = 2004-03-01\n"
                                "calendar = standard\noutput = out/dir\nshard_samples = 3\n"
                                "format = cdf5\nblock_days = 7\n"
                                "[sites]\nlist = sites.csv\n");
    af_config *cfg = NULL;
    AF_TEST_PASS(af_config_load(path, &cfg, err));
    if (!cfg) return;
    AF_EXPECT(cfg->calendar == AF_CAL_STANDARD);
    AF_EXPECT(cfg->shard_samples == 3);
    AF_EXPECT(cfg->block_days == 7);
    AF_EXPECT(cfg->cdf5 == 1);
    AF_EXPECT(!strcmp(cfg->output, fx_path("out/dir")));
    AF_EXPECT(!cfg->has_counties && cfg->has_sites);
    AF_EXPECT(cfg->nfeatures == 0);
    af_config_destroy(&cfg);

    path = fx_write("defscen.ini", PIPE CNTY);
    AF_TEST_PASS(af_config_load(path, &cfg, err));
    if (!cfg) return;
    AF_EXPECT(cfg->nscenarios == 1 && !strcmp(cfg->scenarios[0], "base"));
    AF_EXPECT(cfg->calendar == AF_CAL_STANDARD);
    AF_EXPECT(!cfg->has_sites);
    af_config_destroy(&cfg);
}

static void test_missing_file(void)
{
    FAILS("nope.ini", NULL, AF_ENOTFOUND, "nope.ini");
    af_config *cfg = NULL;
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_config_load(NULL, &cfg, err));
    /* a directory is not a pipeline file */
    FAILS("", NULL, AF_EIO, fx_tmp);
}

static void test_unknown_section_and_key(void)
{
    FAILS("sec.ini", PIPE "[bogus]\nx = 1\n" CNTY, AF_ECONFIG, at("sec.ini", 5), "[bogus]");
    FAILS("sec2.ini", PIPE CNTY "[inputs.X]\nsource = table\n", AF_ECONFIG, at("sec2.ini", 8), "[inputs.X]");
    FAILS("key.ini", PIPE "colour = red\n" CNTY, AF_ECONFIG, at("key.ini", 5), "colour", "unknown key");
    FAILS("key2.ini", PIPE CNTY "\n\n; comment\nscenario = A\n", AF_ECONFIG, at("key2.ini", 11), "'scenario'",
          "[counties]");
    FAILS("key3.ini", PIPE CNTY "[sites]\nlist = sites.csv\nfile = x\n", AF_ECONFIG, at("key3.ini", 10), "'file'",
          "[sites]");
    /* a key of the feature section that neither the common table nor the source knows */
    FAILS("key4.ini",
          PIPE CNTY "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\ncolum = a\n",
          AF_ECONFIG, at("key4.ini", 13), "'colum'", "[input.A]");
    /* one edit away from a section or a key: "did you mean" */
    FAILS("near1.ini", PIPE CNTY "[pipline]\nname = x\n", AF_ECONFIG, at("near1.ini", 8), "[pipline]",
          "did you mean [pipeline]?");
    FAILS("near2.ini", PIPE CNTY "[inptu.A]\nsource = table\n", AF_ECONFIG, at("near2.ini", 8), "did you mean [input.A]?");
    FAILS("near3.ini", PIPE "shard_sample = 8\n" CNTY, AF_ECONFIG, at("near3.ini", 5), "unknown key 'shard_sample'",
          "did you mean 'shard_samples'?");
    FAILS("near4.ini", PIPE CNTY "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\ncolunm = x\n",
          AF_ECONFIG, at("near4.ini", 13), "unknown key 'colunm'", "did you mean 'column'?");
}

static void test_duplicates(void)
{
    FAILS("dupkey.ini", PIPE "name = again\n" CNTY, AF_ECONFIG, at("dupkey.ini", 5), "'name'", "twice");
    FAILS("dupkey2.ini", PIPE CNTY "id_field = X\n", AF_ECONFIG, at("dupkey2.ini", 8), "'id_field'", "[counties]");
    FAILS("dupsec.ini", PIPE CNTY "[counties]\nlayer = counties.geojson\n", AF_ECONFIG, at("dupsec.ini", 8),
          "[counties]", "twice", "line 5");
    FAILS("dupsec2.ini", PIPE CNTY "[pipeline]\nname = b\n", AF_ECONFIG, at("dupsec2.ini", 8), "[pipeline]");
    FAILS("dupfeat.ini",
          PIPE CNTY "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\n"
                    "[input.A]\nsource = table\npath = b.csv\nsource_units = K\nunits = degC\n",
          AF_ECONFIG, at("dupfeat.ini", 13), "[input.A]");
    FAILS("dupscen.ini", PIPE "[counties]\nlayer = counties.geojson\nscenarios = A, B, A\n", AF_ECONFIG,
          at("dupscen.ini", 7), "scenarios", "'A'");
}

static void test_missing_required(void)
{
    FAILS("req1.ini", "[pipeline]\nname = t\nstart = 2003-01-01\n" CNTY, AF_ECONFIG, at("req1.ini", 1),
          "[pipeline]", "'end'");
    FAILS("req2.ini", "[pipeline]\nstart = 2003-01-01\nend = 2003-12-31\n" CNTY, AF_ECONFIG, at("req2.ini", 1),
          "[pipeline]", "'name'");
    FAILS("req3.ini", PIPE "[counties]\nid_field = GEOID\n", AF_ECONFIG, at("req3.ini", 5), "[counties]",
          "'layer'");
    FAILS("req4.ini", PIPE "[sites]\n", AF_ECONFIG, at("req4.ini", 5), "[sites]", "'list'");
    FAILS("req5.ini", PIPE CNTY "[target.Y]\nsource = table\npath = y.csv\nunits = degC\n", AF_ECONFIG,
          at("req5.ini", 8), "[target.Y]", "'source_units'");
    FAILS("req6.ini", PIPE CNTY "[target.Y]\nsource = table\npath = y.csv\nsource_units = K\n", AF_ECONFIG,
          at("req6.ini", 8), "[target.Y]", "'units'");
    FAILS("req7.ini", PIPE CNTY "[target.Y]\nsource = table\nsource_units = K\nunits = degC\n", AF_ECONFIG,
          at("req7.ini", 8), "[target.Y]", "'path'");
    FAILS("nopipe.ini", CNTY, AF_ECONFIG, fx_path("nopipe.ini"), "[pipeline]");
    /* a required key given empty */
    FAILS("empty.ini", "[pipeline]\nname =\nstart = 2003-01-01\nend = 2003-12-31\n" CNTY, AF_ECONFIG,
          at("empty.ini", 2), "name", "empty");
}

static void test_bad_values(void)
{
    FAILS("date1.ini", "[pipeline]\nname = t\nstart = 2003-02-30\nend = 2003-12-31\n" CNTY, AF_ECONFIG,
          at("date1.ini", 3), "start", "2003-02-30");
    FAILS("date2.ini", "[pipeline]\nname = t\nstart = 2003-01-01\nend = 2003/12/31\n" CNTY, AF_ECONFIG,
          at("date2.ini", 4), "end", "2003/12/31");
    FAILS("date3.ini", "[pipeline]\nname = t\nstart = 2023-02-29\nend = 2023-12-31\n" CNTY, AF_ECONFIG,
          at("date3.ini", 3), "start", "2023-02-29");
    FAILS("order.ini", "[pipeline]\nname = t\nstart = 2003-06-01\nend = 2003-05-31\n" CNTY, AF_ECONFIG,
          at("order.ini", 4), "end", "2003-05-31", "2003-06-01");
    FAILS("cal.ini", PIPE "calendar = julian\n" CNTY, AF_ECONFIG, at("cal.ini", 5), "calendar", "julian",
          "standard|noleap");
    FAILS("fmt.ini", PIPE "format = hdf5\n" CNTY, AF_ECONFIG, at("fmt.ini", 5), "format", "hdf5");
    FAILS("int1.ini", PIPE "shard_samples = abc\n" CNTY, AF_ECONFIG, at("int1.ini", 5), "shard_samples", "abc");
    FAILS("int2.ini", PIPE "shard_samples = 0\n" CNTY, AF_ECONFIG, at("int2.ini", 5), "shard_samples", "'0'");
    FAILS("int3.ini", PIPE "shard_samples = 12x\n" CNTY, AF_ECONFIG, at("int3.ini", 5), "shard_samples", "12x");
    FAILS("int4.ini", PIPE "block_days = -3\n" CNTY, AF_ECONFIG, at("int4.ini", 5), "block_days", "-3");
    FAILS("int5.ini", PIPE "block_days = 1.5\n" CNTY, AF_ECONFIG, at("int5.ini", 5), "block_days", "1.5");
    FAILS("applies.ini",
          PIPE CNTY "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\napplies_to = moon\n",
          AF_ECONFIG, at("applies.ini", 13), "applies_to", "moon");
    FAILS("match.ini",
          PIPE CNTY "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\nmatch = state\n",
          AF_ECONFIG, at("match.ini", 13), "match", "state");
    FAILS("scen0.ini", PIPE "[counties]\nlayer = counties.geojson\nscenarios = , ,\n", AF_ECONFIG,
          at("scen0.ini", 7), "scenarios", "empty");
}

static void test_paths(void)
{
    FAILS("path1.ini", PIPE "[counties]\nlayer = missing.geojson\n", AF_ECONFIG, at("path1.ini", 6), "layer",
          fx_path("missing.geojson"));
    FAILS("path2.ini", PIPE CNTY "select = lists/none.csv\n", AF_ECONFIG, at("path2.ini", 8), "select",
          fx_path("lists/none.csv"));
    FAILS("path3.ini", PIPE "[sites]\nlist = nosites.csv\n", AF_ECONFIG, at("path3.ini", 6), "list",
          fx_path("nosites.csv"));
    /* a directory is not a readable file */
    mkdir(fx_path("adir"), 0755);
    FAILS("path4.ini", PIPE "[sites]\nlist = adir\n", AF_ECONFIG, at("path4.ini", 6), "list", fx_path("adir"));
    /* output need not exist */
    af_config *cfg = NULL;
    const char *p = fx_write("path5.ini", PIPE "output = not/yet/there\n" CNTY);
    AF_TEST_PASS(af_config_load(p, &cfg, err));
    af_config_destroy(&cfg);
}

/* data_root: {root} paths resolve under it; relative roots are relative to the file. */
static void test_data_root(void)
{
    mkdir(fx_path("raw"), 0755);
    fx_write("raw/sites.csv", "site_id,lat,lon\nUS-A,41,-93\n");
    af_config *cfg = NULL;
    const char *p = fx_write("root1.ini", PIPE "data_root = raw\n[sites]\nlist = {root}/sites.csv\n");
    AF_TEST_PASS(af_config_load(p, &cfg, err));
    if (cfg) {
        AF_EXPECT(!strcmp(cfg->data_root, fx_path("raw")));
        AF_EXPECT(!strcmp(cfg->site_list, fx_path("raw/sites.csv")));
        char out[4096];
        AF_TEST_PASS(af_config_resolve(cfg, "{root}", out, sizeof out, err));
        AF_EXPECT(!strcmp(out, fx_path("raw")));
        af_config_destroy(&cfg);
    }
    /* [sites] before [pipeline]: data_root still applies */
    p = fx_write("root2.ini", "[sites]\nlist = {root}sites.csv\n" PIPE "data_root = raw\n");
    AF_TEST_PASS(af_config_load(p, &cfg, err));
    af_config_destroy(&cfg);
    FAILS("root3.ini", PIPE "[sites]\nlist = {root}/sites.csv\n", AF_ECONFIG, at("root3.ini", 6),
          "uses {root} but [pipeline] data_root is not set");
    FAILS("root4.ini", PIPE "data_root = {root}/x\n[sites]\nlist = sites.csv\n", AF_ECONFIG,
          at("root4.ini", 5), "data_root cannot use {root}");
    FAILS("root5.ini", PIPE "data_root = elsewhere\n[sites]\nlist = {root}/sites.csv\n", AF_ECONFIG,
          at("root5.ini", 7), fx_path("elsewhere/sites.csv"));
}

/* --set overrides: replace, add, validate like the file, change the hash, errors. */
static void test_sets(void)
{
    const char *p = fx_write("sets.ini", PIPE "[sites]\nlist = sites.csv\n");
    af_config *plain = NULL, *cfg = NULL;
    AF_TEST_PASS(af_config_load(p, &plain, err));
    const char *sets[] = { "pipeline.end=2003-06-30", "pipeline.block_days = 9", "sites.list=raw/sites.csv" };
    AF_TEST_PASS(af_config_load_sets(p, sets, 3, &cfg, err));
    if (cfg && plain) {
        AF_EXPECT(cfg->end.year == 2003 && cfg->end.month == 6 && cfg->end.day == 30);
        AF_EXPECT(cfg->block_days == 9);
        AF_EXPECT(!strcmp(cfg->site_list, fx_path("raw/sites.csv")));
        AF_EXPECT(cfg->nsets == 3 && !strcmp(cfg->sets[1], "pipeline.block_days = 9"));
        AF_EXPECT(strcmp(cfg->sha256, plain->sha256) != 0);
        AF_EXPECT(plain->nsets == 0);
        /* the hash is SHA-256(file hash + "\n--set " + each override) */
        char text[512], hex[65];
        int n = snprintf(text, sizeof text, "%s\n--set %s\n--set %s\n--set %s", plain->sha256, sets[0], sets[1], sets[2]);
        af_sha256_hex(text, (size_t)n, hex);
        AF_EXPECT(!strcmp(cfg->sha256, hex));
    }
    af_config_destroy(&cfg);
    af_config_destroy(&plain);
    const char *bad1[] = { "pipeline.end" };
    AF_TEST_FAILS_WITH(AF_ECONFIG, "--set 'pipeline.end': expected SECTION.KEY=VALUE", af_config_load_sets(p, bad1, 1, &cfg, err));
    const char *bad2[] = { "end=2003-01-02" };
    AF_TEST_FAILS_WITH(AF_ECONFIG, "expected SECTION.KEY=VALUE", af_config_load_sets(p, bad2, 1, &cfg, err));
    const char *bad3[] = { "input.TMAX.path=x.csv" };
    AF_TEST_FAILS_WITH(AF_ECONFIG, "has no section [input.TMAX]", af_config_load_sets(p, bad3, 1, &cfg, err));
    const char *bad4[] = { "pipeline.end=2002-12-31" };
    AF_TEST_FAILS_WITH(AF_ECONFIG, "is before start", af_config_load_sets(p, bad4, 1, &cfg, err));
    const char *bad5[] = { "pipeline.colour=red" };
    AF_TEST_FAILS_WITH(AF_ECONFIG, "unknown key 'colour'", af_config_load_sets(p, bad5, 1, &cfg, err));
    AF_EXPECT(cfg == NULL);
}

static void test_sources(void)
{
    FAILS("kind.ini", PIPE CNTY "[input.A]\nsource = netcdf\npath = a.nc\nunits = degC\n", AF_ECONFIG,
          at("kind.ini", 9), "[input.A]", "'netcdf'", "known: table");
    FAILS("nosrc.ini", PIPE CNTY "[target.B]\npath = b.csv\nsource_units = K\nunits = degC\n", AF_ECONFIG,
          at("nosrc.ini", 8), "[target.B]", "'source'");
    FAILS("name.ini", PIPE CNTY "[input.]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\n",
          AF_ECONFIG, at("name.ini", 8), "[input.]");
    /* same name as input and as target is allowed (different roles) */
    af_config *cfg = NULL;
    const char *p = fx_write("roles.ini", PIPE CNTY
                             "[input.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\n"
                             "[target.A]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\n");
    AF_TEST_PASS(af_config_load(p, &cfg, err));
    if (cfg) AF_EXPECT(cfg->nfeatures == 2);
    af_config_destroy(&cfg);
}

/* NAME@counties / NAME@sites: one variable from two sections; every way to get it wrong. */
#define TGT(sec, extra) "[target." sec "]\nsource = table\npath = a.csv\nsource_units = K\nunits = degC\n" extra
static void test_scoped(void)
{
    af_config *cfg = NULL;
    const char *p = fx_write("scoped.ini", PIPE CNTY TGT("GPP@counties", "sign = + up\n") TGT("GPP@sites", "sign = + up\n"));
    AF_TEST_PASS(af_config_load(p, &cfg, err));
    if (cfg && cfg->nfeatures == 2) {
        AF_EXPECT(!strcmp(cfg->features[0].name, "GPP") && !strcmp(cfg->features[1].name, "GPP"));
        AF_EXPECT(cfg->features[0].applies == AF_APPLIES_COUNTIES && cfg->features[1].applies == AF_APPLIES_SITES);
    } else {
        AF_EXPECT(0);
    }
    af_config_destroy(&cfg);
    /* --set reaches a scoped section */
    const char *sets[] = { "target.GPP@sites.path=b.csv" };
    AF_TEST_PASS(af_config_load_sets(p, sets, 1, &cfg, err));
    if (cfg) AF_EXPECT(!strcmp(af_config_get(cfg->features[1].section, "path"), "b.csv"));
    af_config_destroy(&cfg);
    FAILS("scope1.ini", PIPE CNTY TGT("GPP@pixels", ""), AF_ECONFIG, at("scope1.ini", 8),
          "'@pixels': a feature scope is @counties or @sites");
    FAILS("scope2.ini", PIPE CNTY TGT("GPP@sites", "applies_to = counties\n"), AF_ECONFIG, at("scope2.ini", 13),
          "applies_to: 'counties' contradicts the section's @sites");
    FAILS("scope3.ini", PIPE CNTY TGT("GPP", "") TGT("GPP@sites", ""), AF_ECONFIG, at("scope3.ini", 13),
          "[target.GPP@sites] defined twice (also [target.GPP] at line 8");
    FAILS("scope4.ini", PIPE CNTY TGT("GPP@sites", "") TGT("GPP@sites", ""), AF_ECONFIG, at("scope4.ini", 13),
          "appears twice");
    FAILS("scope5.ini", PIPE CNTY TGT("GPP@counties", "") "[target.GPP@sites]\nsource = table\npath = a.csv\n"
          "source_units = K\nunits = K\n", AF_ECONFIG, at("scope5.ini", 17), "units: 'K' differs from [target.GPP@counties] ('degC')");
    FAILS("scope6.ini", PIPE CNTY TGT("GPP@counties", "sign = + up\n") TGT("GPP@sites", "sign = - up\n"), AF_ECONFIG,
          at("scope6.ini", 19), "sign: '- up' differs from [target.GPP@counties] ('+ up')");
    FAILS("scope7.ini", PIPE CNTY TGT("@sites", ""), AF_ECONFIG, at("scope7.ini", 8), "feature name must be 1..63");
}

static void test_samples_and_syntax(void)
{
    FAILS("nosamples.ini", PIPE, AF_ECONFIG, fx_path("nosamples.ini"), "[counties]", "[sites]");
    FAILS("syn1.ini", PIPE "this line has no equals sign\n" CNTY, AF_ECONFIG, at("syn1.ini", 5), "syntax");
    FAILS("syn2.ini", PIPE CNTY "[input.A\nsource = table\n", AF_ECONFIG, at("syn2.ini", 8), "syntax");
    FAILS("syn3.ini", "name = t\n" PIPE CNTY, AF_ECONFIG, fx_path("syn3.ini"));
}

/* A UTF-8 BOM and "[ name ]" are accepted; values longer than libinih's 200-byte lines up to the
 * documented 8192-byte line; past it, and for text that is not UTF-8, the error names line and key. */
static void test_bom_spaces_long_utf8(void)
{
    char *text = malloc(12000), *longpath = malloc(9000);
    AF_EXPECT(text && longpath);
    if (!text || !longpath) { free(text); free(longpath); return; }
    size_t n = 0;
    for (int i = 0; n < 3000; i++) n += (size_t)snprintf(longpath + n, 9000 - n, "/d%04d", i);
    snprintf(text, 12000, "\xEF\xBB\xBF[ pipeline ]\nname = t\nstart = 2003-01-01\nend = 2003-12-31\n"
             "output = %s ; an inline comment\n[  counties]\nlayer = counties.geojson\nid_field = GEOID\n", longpath);
    af_config *cfg = NULL;
    AF_TEST_PASS(af_config_load(fx_write("bom.ini", text), &cfg, err));
    if (cfg) {
        size_t ol = strlen(cfg->output);
        AF_EXPECT(!strcmp(cfg->name, "t") && cfg->has_counties);
        AF_EXPECT(ol >= 3000 && !strcmp(cfg->output + ol - 3000, longpath));
        af_config_destroy(&cfg);
    }
    /* 9000 bytes on line 5: over the limit, said so */
    memset(longpath, 'a', 8999);
    longpath[8999] = '\0';
    snprintf(text, 12000, PIPE "output = %s\n" CNTY, longpath);
    FAILS("long.ini", text, AF_ECONFIG, at("long.ini", 5), "line of 9009 bytes", "at most 8192 bytes");
    /* a long line that is not key = value is a syntax error on its line */
    snprintf(text, 12000, PIPE CNTY "%.500s\n", longpath);
    FAILS("longsyn.ini", text, AF_ECONFIG, at("longsyn.ini", 8), "syntax error");
    /* Latin-1 text: rejected by plan/run at load, naming the key */
    FAILS("latin1.ini", "[pipeline]\nname = caf\xe9\nstart = 2003-01-01\nend = 2003-12-31\n" CNTY, AF_ECONFIG,
          at("latin1.ini", 2), "[pipeline] name: the value is not valid UTF-8 (byte 11", NULL);
    FAILS("latin1s.ini", PIPE CNTY "[input.T\xc0X]\nsource = table\n", AF_ECONFIG, at("latin1s.ini", 8),
          "section name is not valid UTF-8");
    /* a NUL byte inside a value (line 3) or inside a comment (line 6) is refused with its line and
     * byte, not read as the end of the line (it used to cut "2003-01-01" to "20" or hide the rest) */
    static const char nul1[] = "[pipeline]\nname = t\nstart = 20\0" "03-01-01\nend = 2003-12-31\n" CNTY;
    static const char nul2[] = PIPE "; a comment\0 name = x\n" CNTY;
    const char *const nuls[][2] = { { "nul1.ini", nul1 }, { "nul2.ini", nul2 } };
    const size_t nlen[] = { sizeof nul1 - 1, sizeof nul2 - 1 };
    for (int k = 0; k < 2; k++) {
        FILE *fp = fopen(fx_path(nuls[k][0]), "wb");
        AF_EXPECT(fp != NULL);
        if (!fp) continue;
        AF_EXPECT(fwrite(nuls[k][1], 1, nlen[k], fp) == nlen[k]);
        fclose(fp);
    }
    FAILS("nul1.ini", NULL, AF_ECONFIG, at("nul1.ini", 3), "NUL byte (byte 11 of the line)");
    FAILS("nul2.ini", NULL, AF_ECONFIG, at("nul2.ini", 5), "NUL byte (byte 12 of the line)");
    /* valid multi-byte UTF-8 passes the check (an accented pipeline name) */
    AF_TEST_PASS(af_config_load(fx_write("utf8.ini", "[pipeline]\nname = caf\xc3\xa9\nstart = 2003-01-01\n"
                                         "end = 2003-12-31\n" CNTY), &cfg, err));
    af_config_destroy(&cfg);
    free(text);
    free(longpath);
}

static void test_keys_markdown(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    af_config_print_keys_markdown(fp);
    af_source_print_keys_markdown(fp);
    fclose(fp);
    const af_key_spec *tables[16];
    const char *titles[16];
    size_t nt = 0;
    tables[nt] = af__config_pipeline_keys(); titles[nt++] = "[pipeline]";
    tables[nt] = af__config_counties_keys(); titles[nt++] = "[counties]";
    tables[nt] = af__config_sites_keys(); titles[nt++] = "[sites]";
    tables[nt] = af_feature_common_keys(); titles[nt++] = "[input.NAME]";
    for (const af_source_kind *const *k = af_source_kinds(); *k && nt < 16; k++) {
        tables[nt] = (*k)->keys;
        titles[nt++] = (*k)->name;
    }
    size_t nkeys = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!strstr(buf, titles[i])) {
            fprintf(stderr, "keys markdown lacks section %s\n", titles[i]);
            af_test_case_failed = 1;
        }
        for (const af_key_spec *k = tables[i]; k && k->key; k++, nkeys++) {
            char want[160];
            snprintf(want, sizeof want, "| `%s` |", k->key);
            if (!strstr(buf, want) || !strstr(buf, k->help)) {
                fprintf(stderr, "keys markdown lacks key %s of %s\n", k->key, titles[i]);
                af_test_case_failed = 1;
            }
        }
    }
    AF_EXPECT(nkeys >= 8 + 5 + 1 + 5 + 8);
    /* the table source must be documented with its keys */
    AF_EXPECT(strstr(buf, "source = table") != NULL);
    AF_EXPECT(strstr(buf, "| `qc_column` |") != NULL);
    AF_EXPECT(strstr(buf, "| `shard_samples` | integer | no | `64` |") != NULL);
    free(buf);
}

int main(void)
{
    if (fx_setup("config") != 0) return 1;
    AF_RUN(test_valid);
    AF_RUN(test_valid_options);
    AF_RUN(test_missing_file);
    AF_RUN(test_unknown_section_and_key);
    AF_RUN(test_duplicates);
    AF_RUN(test_missing_required);
    AF_RUN(test_bad_values);
    AF_RUN(test_paths);
    AF_RUN(test_data_root);
    AF_RUN(test_sets);
    AF_RUN(test_sources);
    AF_RUN(test_scoped);
    AF_RUN(test_samples_and_syntax);
    AF_RUN(test_bom_spaces_long_utf8);
    AF_RUN(test_keys_markdown);
    fx_rmtree(fx_tmp);
    return AF_TEST_END();
}
