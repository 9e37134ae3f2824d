/* SPDX-License-Identifier: MIT */
/*
 * test_samples.c: unit tests of agroflux/samples.h (Hilbert index, partition,
 * loading the real county fixture, error messages) and of the synthetic county
 * polygons of src/synth/synth_geo.h (tiling, FIPS, write + reload). Fixture
 * cases need $AF_FIXTURES; when it is absent they are skipped and the program
 * exits 77 if everything else passed. Writes only to a private temp directory.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_api.h>

#include "af_test.h"
#include "agroflux/log.h"
#include "agroflux/samples.h"
#include "synth_geo.h"

static char g_tmp[256];
static char g_fixture[1024];
static int g_have_fixture = 0;

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_tmp, name);
    return buf[k];
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = tmp_path(name);
    FILE *fp = fopen(p, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    return p;
}

static void rm_tmp(void)
{
    DIR *d = opendir(g_tmp);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(tmp_path(e->d_name));
    closedir(d);
    rmdir(g_tmp);
}

/* ---- Hilbert curve ---- */

static void test_hilbert_order1(void)
{
    /* order 1: U shape (0,0) -> (0,1) -> (1,1) -> (1,0) */
    AF_EXPECT(af_hilbert_index(1, 0, 0) == 0);
    AF_EXPECT(af_hilbert_index(1, 0, 1) == 1);
    AF_EXPECT(af_hilbert_index(1, 1, 1) == 2);
    AF_EXPECT(af_hilbert_index(1, 1, 0) == 3);
}

static void test_hilbert_order2(void)
{
    /* Drawn by hand: the lower-left quadrant holds the order-1 U transposed
     * (0,0) (1,0) (1,1) (0,1); upper-left and upper-right hold it as is; the
     * lower-right holds it transposed and mirrored, ending at (3,0). */
    static const unsigned long xy[16][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 2}, {0, 3}, {1, 3}, {1, 2},
                                            {2, 2}, {2, 3}, {3, 3}, {3, 2}, {3, 1}, {2, 1}, {2, 0}, {3, 0}};
    for (unsigned long long d = 0; d < 16; d++) AF_EXPECT(af_hilbert_index(2, xy[d][0], xy[d][1]) == d);
}

static void test_hilbert_locality(void)
{
    enum { ORDER = 5, N = 1 << ORDER };
    static long inv[N * N][2];
    static int seen[N * N];
    memset(seen, 0, sizeof seen);
    for (unsigned long x = 0; x < N; x++)
        for (unsigned long y = 0; y < N; y++) {
            unsigned long long d = af_hilbert_index(ORDER, x, y);
            AF_EXPECT(d < (unsigned long long)N * N);
            if (d >= (unsigned long long)N * N) return;
            AF_EXPECT(!seen[d]); /* bijection */
            seen[d] = 1;
            inv[d][0] = (long)x;
            inv[d][1] = (long)y;
        }
    for (int d = 1; d < N * N; d++) /* consecutive indices are neighbouring cells */
        AF_EXPECT(labs(inv[d][0] - inv[d - 1][0]) + labs(inv[d][1] - inv[d - 1][1]) == 1);
    AF_EXPECT(inv[0][0] == 0 && inv[0][1] == 0);
    AF_EXPECT(inv[N * N - 1][0] == N - 1 && inv[N * N - 1][1] == 0);
}

/* ---- partition ---- */

/* Check slices are contiguous, cover the set, never split a unit, and are balanced within tol. */
static void check_partition(const af_sampleset *set, int P, double tol)
{
    af_range *r = calloc((size_t)P, sizeof *r), *r2 = calloc((size_t)P, sizeof *r2);
    AF_TEST_PASS(af_sampleset_partition(set, P, r, err));
    AF_TEST_PASS(af_sampleset_partition(set, P, r2, err));
    AF_EXPECT(!memcmp(r, r2, (size_t)P * sizeof *r)); /* deterministic */
    size_t n = af_sampleset_count(set);
    double W = 0.0, cum = 0.0;
    for (size_t i = 0; i < n; i++) W += af_sampleset_get_ref(set, i)->work;
    AF_EXPECT(r[0].begin == 0 && r[P - 1].end == n);
    for (int k = 0; k < P; k++) {
        AF_EXPECT(r[k].begin <= r[k].end);
        if (k > 0) AF_EXPECT(r[k].begin == r[k - 1].end);
        size_t b = r[k].begin;
        if (b > 0 && b < n) {
            const af_sample *a = af_sampleset_get_ref(set, b - 1), *c = af_sampleset_get_ref(set, b);
            AF_EXPECT(a->kind != c->kind || a->unit != c->unit);
        }
        for (size_t i = r[k].begin; i < r[k].end; i++) cum += af_sampleset_get_ref(set, i)->work;
        AF_EXPECT_NEAR(cum, (k + 1) * W / P, tol);
    }
    free(r);
    free(r2);
}

static const char *write_sites(const char *name, int n)
{
    char *text = malloc(64 + (size_t)n * 64);
    if (!text) return NULL;
    size_t off = (size_t)sprintf(text, "site_id,name,lat,lon\n");
    for (int i = 0; i < n; i++)
        off += (size_t)sprintf(text + off, "US-S%02d,site %d,%.4f,%.4f\n", i, i, 40.0 + 0.37 * (i % 7),
                               -95.0 + 0.61 * (i % 11));
    const char *p = write_file(name, text);
    free(text);
    return p;
}

static void test_partition_sites(void)
{
    af_sample_opts o = {0};
    af_sampleset *set = NULL;
    o.site_csv = write_sites("sites10.csv", 10);
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (!set) return;
    AF_EXPECT(af_sampleset_count(set) == 10 && af_sampleset_nsites(set) == 10 && af_sampleset_ncounties(set) == 0);
    for (int P = 1; P <= 13; P++) check_partition(set, P, 0.5);
    /* more ranks than units: 13 ranks, 10 sites -> 3 empty slices */
    af_range r[13];
    AF_TEST_PASS(af_sampleset_partition(set, 13, r, err));
    int empty = 0;
    for (int k = 0; k < 13; k++) empty += r[k].begin == r[k].end;
    AF_EXPECT(empty == 3);
    AF_TEST_FAILS_WITH(AF_EINVAL, "0 ranks", af_sampleset_partition(set, 0, r, err));
    /* sites sorted along the curve, ids findable */
    for (size_t i = 0; i < 10; i++) {
        const af_sample *s = af_sampleset_get_ref(set, i);
        AF_EXPECT(s->kind == AF_SAMPLE_SITE && s->unit == i && s->scenario_index == -1 && s->fips[0] == '\0');
        AF_EXPECT(s->county_rank == -1);
        AF_EXPECT(af_sampleset_find(set, s->id) == (long)i);
    }
    AF_EXPECT(af_sampleset_find(set, "nope") == -1);
    af_sampleset_destroy(&set);
    AF_EXPECT(set == NULL);
    af_sampleset_destroy(&set); /* idempotent */

    /* an empty set partitions into empty slices */
    o.site_csv = write_file("sites0.csv", "site_id,lat,lon\n");
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (set) {
        AF_TEST_PASS(af_sampleset_partition(set, 3, r, err));
        AF_EXPECT(r[0].end == 0 && r[2].begin == 0 && r[2].end == 0);
    }
    af_sampleset_destroy(&set);
}

static void test_partition_counties(void)
{
    if (!g_have_fixture) return;
    const char *scen[] = {"a", "b", "c"};
    af_sample_opts o = {0};
    af_sampleset *set = NULL;
    o.county_layer = g_fixture;
    o.scenarios = scen;
    o.nscenarios = 3;
    o.site_csv = write_sites("sites20.csv", 20);
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (!set) return;
    AF_EXPECT(af_sampleset_ncounties(set) == 293);
    AF_EXPECT(af_sampleset_count(set) == 293 * 3 + 20);
    for (int P = 1; P <= 40; P++) check_partition(set, P, 1.5);
    check_partition(set, 400, 1.5);
    /* 313 units on 400 ranks: at least 87 empty slices (a rank may hold several sites) */
    af_range *r = calloc(400, sizeof *r);
    AF_TEST_PASS(af_sampleset_partition(set, 400, r, err));
    int empty = 0;
    for (int k = 0; k < 400; k++) empty += r[k].begin == r[k].end;
    AF_EXPECT(empty >= 400 - 313);
    free(r);
    /* counties first, then sites; a county's scenarios contiguous and in order */
    for (size_t i = 0; i < af_sampleset_count(set); i++) {
        const af_sample *s = af_sampleset_get_ref(set, i);
        if (i < 293 * 3) {
            AF_EXPECT(s->kind == AF_SAMPLE_COUNTY && s->unit == i / 3 && s->scenario_index == (int)(i % 3));
            AF_EXPECT(!strcmp(s->fips, af_sampleset_county_fips_ref(set, s->unit)));
        } else {
            AF_EXPECT(s->kind == AF_SAMPLE_SITE);
        }
    }
    af_sampleset_destroy(&set);
}

/* ---- loading the real fixture ---- */

static void test_load_fixture(void)
{
    if (!g_have_fixture) return;
    const char *scen[] = {"N0", "N150"};
    af_sample_opts o = {0};
    af_sampleset *set = NULL;
    o.county_layer = g_fixture;
    o.select_csv = write_file("sel3.csv", "name,FIPS\nPolk IA,19153\nChampaign IL,17019\nMarion IN,18097\n");
    o.scenarios = scen;
    o.nscenarios = 2;
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (!set) return;
    AF_EXPECT(af_sampleset_count(set) == 6 && af_sampleset_ncounties(set) == 3 && af_sampleset_nsites(set) == 0);
    const char *want[] = {"19153:N0", "19153:N150", "17019:N0", "17019:N150", "18097:N0", "18097:N150"};
    for (int i = 0; i < 6; i++) {
        long k = af_sampleset_find(set, want[i]);
        AF_EXPECT(k >= 0);
        if (k < 0) continue;
        const af_sample *s = af_sampleset_get_ref(set, (size_t)k);
        AF_EXPECT(!strcmp(s->id, want[i]) && s->kind == AF_SAMPLE_COUNTY && s->work == 1.0);
        AF_EXPECT(!strncmp(s->fips, want[i], 5) && !strcmp(s->scenario, scen[i % 2]));
        AF_EXPECT(s->scenario_index == i % 2 && (size_t)k == 2 * s->unit + (size_t)(i % 2));
        AF_EXPECT(s->county_rank == i / 2); /* row of its FIPS in the selection list */
        size_t len = 0;
        const unsigned char *wkb = af_sampleset_county_wkb_ref(set, s->unit, &len);
        AF_EXPECT(wkb && len > 9 && wkb[0] == 1); /* NDR */
        if (wkb && len > 9) AF_EXPECT(wkb[1] == 3 || wkb[1] == 6); /* polygon or multipolygon */
        if (!strcmp(s->fips, "19153")) {
            AF_EXPECT_NEAR(s->lat, 41.685, 0.05);
            AF_EXPECT_NEAR(s->lon, -93.573, 0.05);
        }
    }
    /* the order depends on the counties, not on the order of the selection list */
    AF_EXPECT(strstr(af_sampleset_county_crs_wkt_ref(set), "WGS") != NULL);
    af_sampleset *set2 = NULL;
    o.select_csv = write_file("sel3b.csv", "fips\n18097\n# a comment is no row\n19153\n17019\n");
    AF_TEST_PASS(af_sampleset_load(&o, &set2, err));
    if (set2)
        for (size_t i = 0; i < 6; i++) {
            const af_sample *s2 = af_sampleset_get_ref(set2, i);
            AF_EXPECT(!strcmp(af_sampleset_get_ref(set, i)->id, s2->id));
            /* ...but the county list position follows the list: 18097, 19153, 17019 */
            long want_rank = !strcmp(s2->fips, "18097") ? 0 : !strcmp(s2->fips, "19153") ? 1 : 2;
            AF_EXPECT(s2->county_rank == want_rank);
        }
    af_sampleset_destroy(&set2);
    af_sampleset_destroy(&set);

    /* default scenario and all counties; the FID path via the 'id' field */
    memset(&o, 0, sizeof o);
    o.county_layer = g_fixture;
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    AF_EXPECT(af_sampleset_count(set) == 293);
    AF_EXPECT(af_sampleset_find(set, "19153:base") >= 0);
    /* without a list, the county list position is the FIPS order: rank r holds the r-th smallest FIPS */
    const char *by_rank[293] = {0};
    for (size_t i = 0; i < af_sampleset_count(set); i++) {
        const af_sample *s = af_sampleset_get_ref(set, i);
        AF_EXPECT(s->county_rank >= 0 && s->county_rank < 293);
        if (s->county_rank >= 0 && s->county_rank < 293) {
            AF_EXPECT(by_rank[s->county_rank] == NULL);
            by_rank[s->county_rank] = s->fips;
        }
    }
    for (size_t r = 1; r < 293; r++)
        AF_EXPECT(by_rank[r - 1] && by_rank[r] && strcmp(by_rank[r - 1], by_rank[r]) < 0);
    af_sampleset_destroy(&set);
}

/* ogr2ogr the fixture (Polk + Story, IA) into path with extra options; 1 on success. */
static int translate(const char *path, const char *fmt, const char *srs)
{
    char *argv[16];
    int k = 0;
    argv[k++] = "-f";
    argv[k++] = (char *)fmt;
    argv[k++] = "-where";
    argv[k++] = "id IN ('19153', '19169')";
    if (srs) {
        argv[k++] = "-t_srs";
        argv[k++] = (char *)srs;
    }
    argv[k] = NULL;
    GDALVectorTranslateOptions *opt = GDALVectorTranslateOptionsNew(argv, NULL);
    GDALDatasetH src = GDALOpenEx(g_fixture, GDAL_OF_VECTOR, NULL, NULL, NULL);
    GDALDatasetH out = src && opt ? GDALVectorTranslate(path, NULL, 1, &src, opt, NULL) : NULL;
    if (out) GDALClose(out);
    if (src) GDALClose(src);
    GDALVectorTranslateOptionsFree(opt);
    return out != NULL;
}

static int g_warnings = 0;
static void count_warnings(af_log_level level, const char *module, const char *msg, void *payload)
{
    (void)module; (void)payload;
    if (level == AF_LOG_WARN && strstr(msg, "no CRS")) g_warnings++;
}

static void test_projected_and_no_crs(void)
{
    if (!g_have_fixture) return;
    af_sample_opts o = {0};
    af_sampleset *set = NULL;
    /* Albers (EPSG:5070): the centroid comes back in degrees */
    const char *albers = tmp_path("albers.gpkg");
    AF_EXPECT(translate(albers, "GPKG", "EPSG:5070"));
    o.county_layer = albers;
    o.id_field = "id";
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (set) {
        AF_EXPECT(af_sampleset_count(set) == 2);
        long k = af_sampleset_find(set, "19153:base");
        AF_EXPECT(k >= 0);
        if (k >= 0) {
            AF_EXPECT_NEAR(af_sampleset_get_ref(set, (size_t)k)->lat, 41.685, 0.05);
            AF_EXPECT_NEAR(af_sampleset_get_ref(set, (size_t)k)->lon, -93.573, 0.05);
        }
        AF_EXPECT(strstr(af_sampleset_county_crs_wkt_ref(set), "Albers") != NULL);
    }
    af_sampleset_destroy(&set);
    /* a shapefile without .prj has no CRS: assumed lon/lat, with a warning */
    const char *shp = tmp_path("nocrs.shp");
    AF_EXPECT(translate(shp, "ESRI Shapefile", NULL));
    unlink(tmp_path("nocrs.prj"));
    o.county_layer = shp;
    af_log_set_sink(count_warnings, AF_LOG_WARN, NULL);
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    af_log_set_sink(NULL, AF_LOG_WARN, NULL);
    AF_EXPECT(g_warnings == 1);
    if (set) {
        AF_EXPECT(af_sampleset_count(set) == 2 && af_sampleset_county_crs_wkt_ref(set)[0] == '\0');
        long k = af_sampleset_find(set, "19153:base");
        if (k >= 0) AF_EXPECT_NEAR(af_sampleset_get_ref(set, (size_t)k)->lat, 41.685, 0.05);
        AF_EXPECT(k >= 0);
    }
    af_sampleset_destroy(&set);
}

static void test_errors(void)
{
    af_sample_opts o = {0};
    af_sampleset *set = NULL;
    o.county_layer = tmp_path("missing.geojson");
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "missing.geojson", af_sampleset_load(&o, &set, err));
    AF_EXPECT(set == NULL);

    const char *bad_scen[] = {"ok", "has space"};
    memset(&o, 0, sizeof o);
    o.scenarios = bad_scen;
    o.nscenarios = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "has space", af_sampleset_load(&o, &set, err));
    const char *colon[] = {"a:b"}, *dup[] = {"x", "x"}, *empty[] = {""};
    o.scenarios = colon;
    o.nscenarios = 1;
    AF_TEST_FAILS_WITH(AF_EINVAL, "a:b", af_sampleset_load(&o, &set, err));
    o.scenarios = dup;
    o.nscenarios = 2;
    AF_TEST_FAILS_WITH(AF_EINVAL, "twice", af_sampleset_load(&o, &set, err));
    o.scenarios = empty;
    o.nscenarios = 1;
    AF_TEST_FAILS_WITH(AF_EINVAL, "empty", af_sampleset_load(&o, &set, err));

    memset(&o, 0, sizeof o);
    o.site_csv = write_file("sites_bad.csv", "site_id,lat,lon\nUS-A,41.0,-93.0\nUS-B,abc,-93.5\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "sites_bad.csv:3: field 'lat' value 'abc' is not a number",
                       af_sampleset_load(&o, &set, err));
    o.site_csv = write_file("sites_range.csv", "Site_ID,LON,LAT\nUS-A,-93.0,41.0\nUS-B,-193.5,41\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "sites_range.csv:3: field 'LON' value '-193.5'", af_sampleset_load(&o, &set, err));
    o.site_csv = write_file("sites_dup.csv", "site_id,lat,lon\nUS-A,41,-93\nUS-B,42,-93\nUS-A,43,-93\n");
    AF_TEST_FAILS_WITH(AF_EINVAL, "line 4: duplicate site id 'US-A' (first at line 2)", af_sampleset_load(&o, &set, err));
    o.site_csv = write_file("sites_nocol.csv", "site_id,latitude,lon\nUS-A,41,-93\n");
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "'lat'", af_sampleset_load(&o, &set, err));
    o.site_csv = tmp_path("no_sites.csv");
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no_sites.csv", af_sampleset_load(&o, &set, err));

    memset(&o, 0, sizeof o);
    o.select_csv = write_file("sel_orphan.csv", "fips\n19153\n");
    AF_TEST_FAILS_WITH(AF_EINVAL, "without a county layer", af_sampleset_load(&o, &set, err));

    if (!g_have_fixture) return;
    o.county_layer = g_fixture;
    o.select_csv = NULL;
    o.id_field = "NOPE";
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no field 'NOPE'", af_sampleset_load(&o, &set, err));
    o.id_field = "GEO_ID"; /* "0500000US17005" is not a FIPS */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "0500000US", af_sampleset_load(&o, &set, err));
    o.id_field = NULL;
    o.county_layer_name = "nolayer";
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "nolayer", af_sampleset_load(&o, &set, err));
    o.county_layer_name = NULL;
    o.select_csv = write_file("sel_unknown.csv", "fips\n19153\n19999\n");
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "line 3: FIPS 19999 not in layer", af_sampleset_load(&o, &set, err));
    o.select_csv = write_file("sel_empty.csv", "fips\n");
    AF_TEST_FAILS_WITH(AF_EINVAL, "selects no county", af_sampleset_load(&o, &set, err));
    o.select_csv = write_file("sel_dup.csv", "GEOID\n19153\n17019\n19153\n");
    AF_TEST_FAILS_WITH(AF_EINVAL, "line 4: FIPS 19153 listed twice", af_sampleset_load(&o, &set, err));
    o.select_csv = write_file("sel_nocol.csv", "county\n19153\n");
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no column 'fips'", af_sampleset_load(&o, &set, err));
    o.select_csv = write_file("sel_badval.csv", "fips\n19x53\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "sel_badval.csv:2", af_sampleset_load(&o, &set, err));
    AF_EXPECT(set == NULL);
}

/* ---- synthetic counties ---- */

static OGRGeometryH ring_geom(const af_synth_county *c)
{
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon), ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int v = 0; v < c->nvert; v++) OGR_G_AddPoint_2D(ring, c->lon[v], c->lat[v]);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

/* Area of the surface parts of g (intersections of neighbours are lines or points). */
static double surface_area(OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon || t == wkbMultiPolygon) return OGR_G_Area(g);
    if (t != wkbGeometryCollection) return 0.0;
    double a = 0.0;
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) a += surface_area(OGR_G_GetGeometryRef(g, i));
    return a;
}

static void check_tiling(int n, unsigned long seed)
{
    af_synth_county *c = NULL;
    AF_TEST_PASS(af_synth_counties_make(n, seed, &c, err));
    if (!c) return;
    double total = 0.0;
    OGRGeometryH *g = calloc((size_t)n, sizeof *g);
    for (int i = 0; i < n; i++) {
        AF_EXPECT(c[i].nvert >= 4 && c[i].lon[0] == c[i].lon[c[i].nvert - 1] && c[i].lat[0] == c[i].lat[c[i].nvert - 1]);
        AF_EXPECT(c[i].area_deg2 > 0.0); /* counter-clockwise */
        total += c[i].area_deg2;
        for (int v = 0; v < c[i].nvert; v++)
            AF_EXPECT(c[i].lon[v] >= AF_SYNTH_LON_MIN && c[i].lon[v] <= AF_SYNTH_LON_MAX &&
                      c[i].lat[v] >= AF_SYNTH_LAT_MIN && c[i].lat[v] <= AF_SYNTH_LAT_MAX);
        AF_EXPECT(strlen(c[i].fips) == 5 && !strncmp(c[i].fips, "19", 2));
        AF_EXPECT(atoi(c[i].fips + 2) % 2 == 1);
        for (int j = 0; j < i; j++) AF_EXPECT(strcmp(c[i].fips, c[j].fips) != 0);
        g[i] = ring_geom(&c[i]);
        AF_EXPECT(OGR_G_IsValid(g[i]));
        AF_EXPECT_NEAR(OGR_G_Area(g[i]), c[i].area_deg2, 1e-12);
    }
    AF_EXPECT_NEAR(total, (AF_SYNTH_LON_MAX - AF_SYNTH_LON_MIN) * (AF_SYNTH_LAT_MAX - AF_SYNTH_LAT_MIN), 1e-9);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            OGRGeometryH x = OGR_G_Intersection(g[i], g[j]);
            AF_EXPECT(x != NULL);
            if (!x) continue;
            double a = surface_area(x);
            if (!(a < 1e-12)) fprintf(stderr, "  synth %d/%lu: %s and %s overlap by %g\n", n, seed, c[i].fips, c[j].fips, a);
            AF_EXPECT(a < 1e-12);
            OGR_G_DestroyGeometry(x);
        }
    for (int i = 0; i < n; i++) OGR_G_DestroyGeometry(g[i]);
    free(g);
    af_synth_counties_free(c, n);
}

static void test_synth_tiling(void)
{
    check_tiling(1, 1);
    check_tiling(7, 2);
    check_tiling(40, 42);
    check_tiling(99, 7);
    af_synth_county *c = NULL;
    AF_TEST_FAILS_WITH(AF_EINVAL, "501", af_synth_counties_make(501, 1, &c, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "0", af_synth_counties_make(0, 1, &c, err));
}

static void test_synth_deterministic(void)
{
    af_synth_county *a = NULL, *b = NULL, *d = NULL;
    AF_TEST_PASS(af_synth_counties_make(30, 5, &a, err));
    AF_TEST_PASS(af_synth_counties_make(30, 5, &b, err));
    AF_TEST_PASS(af_synth_counties_make(30, 6, &d, err));
    if (a && b && d) {
        int same = 1, differ = 0;
        for (int i = 0; i < 30; i++) {
            same &= a[i].nvert == b[i].nvert && !strcmp(a[i].fips, b[i].fips);
            for (int v = 0; same && v < a[i].nvert; v++) same &= a[i].lon[v] == b[i].lon[v] && a[i].lat[v] == b[i].lat[v];
            differ |= a[i].area_deg2 != d[i].area_deg2;
        }
        AF_EXPECT(same);
        AF_EXPECT(differ);
        AF_EXPECT(!strcmp(a[0].fips, "19001") && !strcmp(a[0].name, "Synth 001") && !strcmp(a[29].fips, "19059"));
    }
    af_synth_counties_free(a, 30);
    af_synth_counties_free(b, 30);
    af_synth_counties_free(d, 30);
}

static void reload(const char *name, int n)
{
    af_synth_county *c = NULL;
    af_sampleset *set = NULL;
    const char *p = tmp_path(name);
    AF_TEST_PASS(af_synth_counties_make(n, 11, &c, err));
    if (!c) return;
    AF_TEST_PASS(af_synth_counties_write(p, c, n, err));
    AF_TEST_PASS(af_synth_counties_write(p, c, n, err)); /* replaces */
    af_sample_opts o = {0};
    o.county_layer = p;
    o.id_field = "GEOID";
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (set) {
        AF_EXPECT(af_sampleset_count(set) == (size_t)n && af_sampleset_ncounties(set) == (size_t)n);
        const char *wkt = af_sampleset_county_crs_wkt_ref(set);
        AF_EXPECT(strstr(wkt, "NAD83") != NULL && strstr(wkt, "4269") != NULL);
        for (int i = 0; i < n; i++) {
            char id[32];
            snprintf(id, sizeof id, "%s:base", c[i].fips);
            long k = af_sampleset_find(set, id);
            AF_EXPECT(k >= 0);
            if (k < 0) continue;
            const af_sample *s = af_sampleset_get_ref(set, (size_t)k);
            /* centroid inside the region and near the ring's vertices */
            AF_EXPECT(s->lon > AF_SYNTH_LON_MIN && s->lon < AF_SYNTH_LON_MAX);
            AF_EXPECT(s->lat > AF_SYNTH_LAT_MIN && s->lat < AF_SYNTH_LAT_MAX);
            AF_EXPECT(fabs(s->lon - c[i].lon[0]) < 2.0 && fabs(s->lat - c[i].lat[0]) < 2.0);
        }
    }
    af_sampleset_destroy(&set);
    af_synth_counties_free(c, n);
}

/* Sites weighted by site_work: 8 synth counties (1 scenario) + 2 sites on 2 ranks. With work 1
 * (W = 10) the cut falls after 5 counties; with site_work 4 (W = 16, target 8) after all 8
 * counties, so the rank holding the sites holds nothing else; site_work <= 0 counts as 1. A
 * pipeline with tower or chamber features for sites estimates AF_SITE_WORK_OBS, else 1. */
static void test_partition_site_work(void)
{
    af_synth_county *c = NULL;
    AF_TEST_PASS(af_synth_counties_make(8, 3, &c, err));
    if (!c) return;
    char path[4200];
    snprintf(path, sizeof path, "%s/work8.geojson", g_tmp);
    AF_TEST_PASS(af_synth_counties_write(path, c, 8, err));
    af_synth_counties_free(c, 8);
    static const double works[] = { 0.0, 1.0, 4.0 };
    static const size_t cut[] = { 5, 5, 8 };
    for (int k = 0; k < 3; k++) {
        af_sample_opts o = {0};
        af_sampleset *set = NULL;
        o.county_layer = path;
        o.site_csv = write_sites("sites2.csv", 2);
        o.site_work = works[k];
        AF_TEST_PASS(af_sampleset_load(&o, &set, err));
        if (!set) continue;
        AF_EXPECT(af_sampleset_count(set) == 10);
        const af_sample *s = af_sampleset_get_ref(set, 9);
        AF_EXPECT(s->kind == AF_SAMPLE_SITE && s->work == (works[k] > 0 ? works[k] : 1.0));
        AF_EXPECT(af_sampleset_get_ref(set, 0)->work == 1.0);
        af_range r[2];
        AF_TEST_PASS(af_sampleset_partition(set, 2, r, err));
        AF_EXPECT(r[0].begin == 0 && r[0].end == cut[k] && r[1].begin == cut[k] && r[1].end == 10);
        check_partition(set, 2, 4.0);
        check_partition(set, 3, 4.0);
        af_sampleset_destroy(&set);
    }
}

static void test_site_work_from_config(void)
{
    static const char *const ini[] = {
        "[pipeline]\nname = w\nstart = 2003-01-01\nend = 2003-12-31\n[sites]\nlist = s.csv\n"
        "[target.GPP]\nsource = tower\npath = t/{site}.csv\nunits = g m-2 d-1\ncolumn = GPP\n",
        "[pipeline]\nname = w\nstart = 2003-01-01\nend = 2003-12-31\n[sites]\nlist = s.csv\n"
        "[input.T]\nsource = table\npath = x.csv\nunits = K\ncolumn = t\n",
    };
    static const double want[] = { AF_SITE_WORK_OBS, 1.0 };
    write_sites("s.csv", 1);
    for (int k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "work%d.ini", k);
        const char *p = write_file(name, ini[k]);
        af_config *cfg = NULL;
        AF_TEST_PASS(af_config_load(p, &cfg, err));
        if (!cfg) continue;
        AF_EXPECT(af_sample_site_work(cfg) == want[k]);
        af_sample_opts o;
        af_sample_opts_from_config(cfg, &o);
        AF_EXPECT(o.site_work == want[k]);
        af_config_destroy(&cfg);
    }
}

static void test_synth_write(void)
{
    reload("synth.geojson", 25);
    reload("synth.gpkg", 12);
}

/* Every field of a and b, the counties' WKB and the CRS, compared independently of the packer. */
static void expect_same_set(const af_sampleset *a, const af_sampleset *b)
{
    AF_EXPECT(af_sampleset_count(a) == af_sampleset_count(b) && af_sampleset_ncounties(a) == af_sampleset_ncounties(b) &&
              af_sampleset_nsites(a) == af_sampleset_nsites(b));
    if (af_sampleset_count(a) != af_sampleset_count(b) || af_sampleset_ncounties(a) != af_sampleset_ncounties(b)) return;
    for (size_t i = 0; i < af_sampleset_count(a); i++) {
        const af_sample *x = af_sampleset_get_ref(a, i), *y = af_sampleset_get_ref(b, i);
        AF_EXPECT(!strcmp(x->id, y->id) && x->kind == y->kind && !strcmp(x->fips, y->fips) &&
                  !strcmp(x->scenario, y->scenario) && x->scenario_index == y->scenario_index &&
                  x->lat == y->lat && x->lon == y->lon && x->unit == y->unit && x->work == y->work &&
                  x->county_rank == y->county_rank);
        AF_EXPECT(af_sampleset_find(b, x->id) == (long)i);
    }
    for (size_t c = 0; c < af_sampleset_ncounties(a); c++) {
        size_t la = 0, lb = 0;
        const unsigned char *wa = af_sampleset_county_wkb_ref(a, c, &la), *wb = af_sampleset_county_wkb_ref(b, c, &lb);
        AF_EXPECT(la == lb && la > 0 && !memcmp(wa, wb, la));
        AF_EXPECT(!strcmp(af_sampleset_county_fips_ref(a, c), af_sampleset_county_fips_ref(b, c)));
    }
    AF_EXPECT(!strcmp(af_sampleset_county_crs_wkt_ref(a), af_sampleset_county_crs_wkt_ref(b)));
}

/* pack / unpack: one rank's set sent to the others (pipeline setup) */
static void test_pack(void)
{
    const char *scen[] = {"N0", "N150"};
    af_sample_opts o = {0};
    af_sampleset *set = NULL, *back = NULL;
    unsigned char *buf = NULL, *buf2 = NULL, *bad = NULL;
    size_t len = 0, len2 = 0;
    o.site_csv = write_sites("sites5.csv", 5);
    if (g_have_fixture) {
        o.county_layer = g_fixture;
        o.select_csv = write_file("sel2.csv", "fips\n17019\n19153\n");
    }
    o.scenarios = scen;
    o.nscenarios = 2;
    o.site_work = 12;
    AF_TEST_PASS(af_sampleset_load(&o, &set, err));
    if (!set) return;
    AF_EXPECT(af_sampleset_count(set) == (g_have_fixture ? 9u : 5u));
    AF_TEST_PASS(af_sampleset_pack(set, &buf, &len, err));
    AF_TEST_PASS(af_sampleset_unpack(buf, len, &back, err));
    if (back) expect_same_set(set, back);
    /* the unpacked set packs to the same bytes */
    if (back) AF_TEST_PASS(af_sampleset_pack(back, &buf2, &len2, err));
    AF_EXPECT(buf2 && len2 == len && !memcmp(buf, buf2, len));
    af_sampleset_destroy(&back);
    /* every shorter prefix and one byte more are refused, never read past */
    for (size_t n = 0; n < len && buf; n++) {
        AF_TEST_FAILS_WITH(AF_EFORMAT, "sample set bytes: ", af_sampleset_unpack(buf, n, &back, err));
        AF_EXPECT(back == NULL);
    }
    bad = malloc(len + 1);
    if (bad && buf) {
        memcpy(bad, buf, len);
        bad[len] = 0;
        AF_TEST_FAILS_WITH(AF_EFORMAT, "bytes after the end", af_sampleset_unpack(bad, len + 1, &back, err));
        bad[0] = 'X';
        AF_TEST_FAILS_WITH(AF_EFORMAT, "not a packed sample set of this build", af_sampleset_unpack(bad, len, &back, err));
        memcpy(bad, buf, len);
        af_sample *s0 = (af_sample *)(void *)(bad + 8 + 3 * 8); /* the first sample, after the magic and 3 counts */
        size_t unit = s0->unit;
        s0->unit = 99;
        AF_TEST_FAILS_WITH(AF_EFORMAT, "a sample of no county or site", af_sampleset_unpack(bad, len, &back, err));
        s0->unit = unit;
        memset(s0->id, 'x', sizeof s0->id);
        AF_TEST_FAILS_WITH(AF_EFORMAT, "a sample field without its end", af_sampleset_unpack(bad, len, &back, err));
        memcpy(s0->id, af_sampleset_get_ref(set, 1)->id, sizeof s0->id); /* two samples of one id */
        AF_TEST_FAILS_WITH(AF_EINVAL, "is not unique", af_sampleset_unpack(bad, len, &back, err));
    }
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_sampleset_unpack(buf, len, NULL, err));
    free(bad);
    free(buf);
    free(buf2);
    af_sampleset_destroy(&set);
}

int main(void)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/af_samples_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    const char *fx = getenv("AF_FIXTURES");
    if (fx && *fx) {
        snprintf(g_fixture, sizeof g_fixture, "%s/counties_ia_il_in.geojson", fx);
        g_have_fixture = access(g_fixture, R_OK) == 0;
    }
    if (!g_have_fixture) fprintf(stderr, "fixtures absent: skipping fixture cases\n");
    GDALAllRegister();
    AF_RUN(test_hilbert_order1);
    AF_RUN(test_hilbert_order2);
    AF_RUN(test_hilbert_locality);
    AF_RUN(test_partition_sites);
    AF_RUN(test_partition_counties);
    AF_RUN(test_partition_site_work);
    AF_RUN(test_site_work_from_config);
    AF_RUN(test_load_fixture);
    AF_RUN(test_projected_and_no_crs);
    AF_RUN(test_errors);
    AF_RUN(test_pack);
    AF_RUN(test_synth_tiling);
    AF_RUN(test_synth_deterministic);
    AF_RUN(test_synth_write);
    rm_tmp();
    int rc = AF_TEST_END();
    if (rc == 0 && !g_have_fixture) return 77;
    return rc;
}
