/* SPDX-License-Identifier: MIT */
/*
 * test_messages.c: the error message convention (docs/architecture.md, "Error messages"). A table of
 * error paths across modules (CSV, pipeline file, county layer, tower file, units, index, journal
 * of an output directory), each triggered for real, each message checked for its place (file, line,
 * column, county) and for no empty reason (a trailing ":", "(null)", ": :"); then the two helpers
 * the convention rests on: af_error_prefix and the GDAL reasons (af_gdal_why, af_gdal_open_why),
 * and af_error_set's fallback when a library gives an empty reason.
 */
#include <cpl_error.h>
#include <errno.h>
#include <gdal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_test.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "agroflux/index.h"
#include "agroflux/models.h"
#include "agroflux/samples.h"
#include "agroflux/tower.h"
#include "agroflux/units.h"

static char tmpdir[] = "/tmp/af_errors_XXXXXX";

static const char *at(const char *name)
{
    static char buf[4][512];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static const char *put(const char *name, const char *bytes, size_t len)
{
    const char *p = at(name);
    FILE *fp = fopen(p, "wb");
    if (!fp || fwrite(bytes, 1, len, fp) != len) abort();
    fclose(fp);
    return p;
}
#define PUT(name, lit) put(name, lit, sizeof lit - 1)

/* A message with no empty reason: not ending in ':' (after white space), no "(null)", no ": :". */
static int reason_empty(const char *m)
{
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == ' ' || m[n - 1] == '\n')) n--;
    return n == 0 || m[n - 1] == ':' || strstr(m, "(null)") || strstr(m, ": :") || strstr(m, ":  ");
}

/* ---- the error paths: each returns the call's status with e filled, and says where it must point */

static int csv_quote(af_error *e, char *place, size_t n)
{
    af_csv csv;
    const char *p = PUT("quote.csv", "date,site\n2003-01-01,US-\"A\"\n");
    snprintf(place, n, "%s:2: column 'site'", p);
    int rc = af_csv_open(p, &csv, e);
    if (rc == AF_OK) rc = af_csv_read_header(&csv, e);
    if (rc == AF_OK) rc = af_csv_next(&csv, e);
    af_csv_close(&csv);
    return rc;
}

static int config_nul(af_error *e, char *place, size_t n)
{
    const char *p = PUT("nul.ini", "[pipeline]\nname = t\0x\nstart = 2003-01-01\nend = 2003-12-31\n");
    snprintf(place, n, "%s:2: NUL byte", p);
    af_config *cfg = NULL;
    int rc = af_config_load(p, &cfg, e);
    af_config_destroy(&cfg);
    return rc;
}

static int layer_garbage(af_error *e, char *place, size_t n)
{
    const char *p = PUT("garbage.geojson", "this is not a vector file\n");
    snprintf(place, n, "cannot open county layer '%s': ", p);
    af_sample_opts o = { p, NULL, "GEOID", NULL, NULL, 0, NULL, 0 };
    af_sampleset *set = NULL;
    int rc = af_sampleset_load(&o, &set, e);
    af_sampleset_destroy(&set);
    return rc;
}

static int layer_no_geometry(af_error *e, char *place, size_t n)
{
    const char *p = PUT("nogeom.geojson", "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
                                          "\"properties\": {\"GEOID\": \"19001\"}, \"geometry\": null}]}\n");
    snprintf(place, n, "'%s' layer 'nogeom': county 19001 has no geometry", p);
    af_sample_opts o = { p, NULL, "GEOID", NULL, NULL, 0, NULL, 0 };
    af_sampleset *set = NULL;
    int rc = af_sampleset_load(&o, &set, e);
    af_sampleset_destroy(&set);
    return rc;
}

static int layer_bad_fips(af_error *e, char *place, size_t n)
{
    const char *p = PUT("badfips.geojson", "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
                                           "\"properties\": {\"GEOID\": \"19x01\"}, \"geometry\": {\"type\": \"Polygon\", "
                                           "\"coordinates\": [[[0,0],[1,0],[1,1],[0,0]]]}}]}\n");
    snprintf(place, n, "'%s' layer 'badfips': feature 0: ", p);
    af_sample_opts o = { p, NULL, "GEOID", NULL, NULL, 0, NULL, 0 };
    af_sampleset *set = NULL;
    int rc = af_sampleset_load(&o, &set, e);
    af_sampleset_destroy(&set);
    return rc;
}

static int tower_missing(af_error *e, char *place, size_t n)
{
    const char *p = at("AMF_US-Xx_BASE_HH_1-5.csv");
    snprintf(place, n, "%s", p);
    af_tower_file *tf = NULL;
    int rc = af_tower_file_open(p, AF_TOWER_BASE, &tf, e);
    af_tower_file_destroy(&tf);
    return rc;
}

static int units_unknown(af_error *e, char *place, size_t n)
{
    snprintf(place, n, "'Kelvinn'");
    af_unit_conv c;
    return af_units_conversion("Kelvinn", "K", &c, e);
}

static int index_interrupted(af_error *e, char *place, size_t n)
{
    char d[600];
    snprintf(d, sizeof d, "%s/out", tmpdir);
    af_error me = AF_ERROR_INIT;
    af_mkdirs(d, &me);
    char j[700];
    snprintf(j, sizeof j, "%s/journal.json", d);
    FILE *fp = fopen(j, "w");
    if (!fp) abort();
    fputs("{\"days_done\": 40, \"ndays\": 365, \"state\": \"writing\"}\n", fp);
    fclose(fp);
    snprintf(place, n, "'%s' is incomplete: an interrupted run (journal.json: 40 of 365 days", d);
    af_index idx;
    return af_index_read(d, &idx, e);
}

/* model outputs: a missing file gives the path and the system's reason */
static int ecosys_missing(af_error *e, char *place, size_t n)
{
    const char *p = at("0101012003dc");
    snprintf(place, n, "'%s': %s", p, strerror(ENOENT));
    af_model_table t = { 0 };
    int rc = af_ecosys_read(p, &t, e);
    af_model_table_dispose(&t);
    return rc;
}

static int daycent_missing(af_error *e, char *place, size_t n)
{
    const char *p = at("nflux.out");
    snprintf(place, n, "'%s': %s", p, strerror(ENOENT));
    af_model_table t = { 0 };
    int rc = af_daycent_read(p, 0, &t, e);
    af_model_table_dispose(&t);
    return rc;
}

typedef int (*error_path)(af_error *e, char *place, size_t n);

static void test_messages_name_where(void)
{
    static const struct { const char *name; error_path fn; } paths[] = {
        { "csv-quote", csv_quote }, { "config-nul", config_nul }, { "layer-garbage", layer_garbage },
        { "layer-no-geometry", layer_no_geometry }, { "layer-bad-fips", layer_bad_fips },
        { "tower-missing", tower_missing }, { "units-unknown", units_unknown },
        { "index-interrupted", index_interrupted }, { "ecosys-missing", ecosys_missing },
        { "daycent-missing", daycent_missing },
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        af_error e = AF_ERROR_INIT;
        char place[1200] = "";
        int rc = paths[i].fn(&e, place, sizeof place);
        if (rc == AF_OK) {
            fprintf(stderr, "%s: no error\n", paths[i].name);
            af_test_case_failed = 1;
            continue;
        }
        if (!strstr(e.msg, place)) {
            fprintf(stderr, "%s: message '%s' does not name '%s'\n", paths[i].name, e.msg, place);
            af_test_case_failed = 1;
        }
        if (reason_empty(e.msg)) {
            fprintf(stderr, "%s: message '%s' has an empty reason\n", paths[i].name, e.msg);
            af_test_case_failed = 1;
        }
    }
}

static void test_prefix_and_empty_reason(void)
{
    af_error e = AF_ERROR_INIT;
    /* a library that gives an empty reason: the message still ends in one */
    af_error_set(&e, AF_EGDAL, __FILE__, __LINE__, __func__, "cannot open 'x.tif': %s", "");
    AF_EXPECT(!strcmp(e.msg, "cannot open 'x.tif': no reason given"));
    af_error_set(&e, AF_EIO, __FILE__, __LINE__, __func__, "a.csv:3: column 'v': '%s' is not a number", "x");
    AF_EXPECT(!strcmp(e.msg, "a.csv:3: column 'v': 'x' is not a number"));
    /* prefix once: a caller's context goes first, and not twice */
    af_error_set(&e, AF_EINVAL, __FILE__, __LINE__, __func__, "rotated geotransform (%g, %g) is not supported", 1.0, 0.0);
    af_error_prefix(&e, "%s", "/d/bd_0-5.tif");
    AF_EXPECT(!strcmp(e.msg, "/d/bd_0-5.tif: rotated geotransform (1, 0) is not supported"));
    af_error_prefix(&e, "%s", "/d/bd_0-5.tif");
    AF_EXPECT(!strcmp(e.msg, "/d/bd_0-5.tif: rotated geotransform (1, 0) is not supported"));
    /* a long message keeps its start and stays terminated */
    char big[2000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    af_error_set(&e, AF_EINVAL, __FILE__, __LINE__, __func__, "%s", big);
    af_error_prefix(&e, "ctx");
    AF_EXPECT(strlen(e.msg) == AF_ERROR_MSG_MAX - 1 && !strncmp(e.msg, "ctx: mmm", 8));
    /* no error: nothing to prefix */
    af_error ok = AF_ERROR_INIT;
    af_error_prefix(&ok, "ctx");
    AF_EXPECT(ok.msg[0] == '\0');
}

static void test_gdal_reasons(void)
{
    GDALAllRegister();
    CPLErrorReset();
    AF_EXPECT(!strcmp(af_gdal_why(), "GDAL gave no reason"));
    AF_EXPECT(strstr(af_gdal_open_why(at("nonesuch.tif")), "missing or not readable") != NULL);
    const char *p = PUT("garbage.tif", "not a raster at all\n");
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(p, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    AF_EXPECT(ds == NULL);
    if (ds) GDALClose(ds);
    const char *why = af_gdal_open_why(p);
    AF_EXPECT(why && why[0] && !reason_empty(why));
    CPLErrorReset();
    CPLError(CE_Failure, CPLE_AppDefined, "a reason of GDAL's own");
    AF_EXPECT(!strcmp(af_gdal_why(), "a reason of GDAL's own") && !strcmp(af_gdal_open_why(p), "a reason of GDAL's own"));
    CPLErrorReset();
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    CPLSetErrorHandler(CPLQuietErrorHandler);
    AF_RUN(test_messages_name_where);
    AF_RUN(test_prefix_and_empty_reason);
    AF_RUN(test_gdal_reasons);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    return AF_TEST_END();
}
