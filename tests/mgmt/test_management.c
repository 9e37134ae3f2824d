/* SPDX-License-Identifier: MIT */
/*
 * test_management.c: the management source kind on tables written here,
 * opened and filled directly through its af_source_kind (no MPI, no shards).
 * Expected values are built independently: axis indices from day-of-year
 * arithmetic (t = days of the earlier years, 365 each under noleap, + doy - 1;
 * under noleap doy 366 -> 365, the documented dropped-day rule), amounts from
 * the rates and shares in the pipeline text times 0.1 for kg N ha-1.
 * Covered: rotation-driven N (C_S_150N_Planting, soybean years unfertilized),
 * split applications (planting, after_planting, doy), planting/harvest flags,
 * crop codes, site fertilizer files (units column, declared units, another
 * site's rows, rows outside the axis), Dec 31 of a leap year under both
 * calendars, match = state with a {state}/{year} template, block-size
 * independence, and every error path.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_test.h"
#include "agroflux/calendar.h"
#include "agroflux/config.h"
#include "agroflux/pipeline.h"
#include "agroflux/log.h"
#include "agroflux/samples.h"
#include "agroflux/source.h"
#include "fixture_files.h"

#define MAXF 6

typedef struct run {
    af_config *cfg;
    af_calendar *cal;
    af_sampleset *set;
    int ndays;
    size_t n;
    float *val[MAXF];
    unsigned char *valid[MAXF];
} run;

static void run_free(run *r)
{
    for (int k = 0; k < MAXF; k++) { free(r->val[k]); free(r->valid[k]); }
    af_sampleset_destroy(&r->set);
    af_calendar_destroy(&r->cal);
    af_config_destroy(&r->cfg);
    memset(r, 0, sizeof *r);
}

/* Open features [k0, k1) as one group and fill the whole axis in blocks of `block` days. */
static int fill_group(run *r, size_t k0, size_t k1, int block, af_error *err)
{
    int rc = AF_OK;
    af_source_ctx ctx = { r->cfg, r->cal, r->set, { 0, r->n }, NULL, NULL };
    const af_feature_cfg *feats[MAXF];
    size_t nf = k1 - k0;
    for (size_t k = 0; k < nf; k++) feats[k] = &r->cfg->features[k0 + k];
    const af_source_kind *kind = af_source_kind_find("management");
    void *st = NULL;
    rc = kind->open(&ctx, feats, nf, &st, err);
    if (rc != AF_OK) return rc;
    float *v = malloc(r->n * (size_t)block * nf * sizeof *v), *q = malloc(r->n * (size_t)block * nf * sizeof *q);
    unsigned char *ok = malloc(r->n * (size_t)block * nf);
    for (int t0 = 0; t0 < r->ndays && rc == AF_OK; t0 += block) {
        int nt = r->ndays - t0 < block ? r->ndays - t0 : block;
        rc = kind->fill(st, t0, nt, v, ok, q, err);
        for (size_t i = 0; rc == AF_OK && i < r->n; i++)
            for (int tt = 0; tt < nt; tt++)
                for (size_t k = 0; k < nf; k++) {
                    size_t o = (i * (size_t)nt + (size_t)tt) * nf + k;
                    r->val[k0 + k][i * (size_t)r->ndays + (size_t)(t0 + tt)] = v[o];
                    r->valid[k0 + k][i * (size_t)r->ndays + (size_t)(t0 + tt)] = ok[o];
                    if (!isnan(q[o])) rc = AF_EINTERNAL;
                }
    }
    free(v);
    free(q);
    free(ok);
    kind->close(st);
    return rc;
}

/* Load a pipeline text; fill every feature (each alone, or all as one group). */
static int run_load(const char *name, const char *text, int group, int block, run *r, af_error *err)
{
    int rc = AF_OK;
    memset(r, 0, sizeof *r);
    AF_CHECK(af_pipeline_config_load(fx_write(name, text), NULL, 0, &r->cfg, err));
    AF_CHECK(af_calendar_create(r->cfg->start, r->cfg->end, r->cfg->calendar, &r->cal, err));
    af_sample_opts so;
    memset(&so, 0, sizeof so);
    so.county_layer = r->cfg->has_counties ? r->cfg->county_layer : NULL;
    so.id_field = r->cfg->id_field;
    so.scenarios = (const char *const *)r->cfg->scenarios;
    so.nscenarios = r->cfg->nscenarios;
    so.site_csv = r->cfg->has_sites ? r->cfg->site_list : NULL;
    AF_CHECK(af_sampleset_load(&so, &r->set, err));
    r->n = af_sampleset_count(r->set);
    r->ndays = af_calendar_ndays(r->cal);
    for (size_t k = 0; k < r->cfg->nfeatures; k++) {
        r->val[k] = calloc(r->n * (size_t)r->ndays, sizeof(float));
        r->valid[k] = calloc(r->n * (size_t)r->ndays, 1);
        AF_CHECK_ALLOC(r->val[k]);
        AF_CHECK_ALLOC(r->valid[k]);
    }
    if (group) AF_CHECK(fill_group(r, 0, r->cfg->nfeatures, block, err));
    else
        for (size_t k = 0; k < r->cfg->nfeatures; k++) AF_CHECK(fill_group(r, k, k + 1, block, err));
cleanup:
    return rc;
}

/* ---- independent day arithmetic ---- */
static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int doy_of(const char *date)
{
    static const int cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int y, m, d;
    sscanf(date, "%d-%d-%d", &y, &m, &d);
    return cum[m - 1] + d + (m > 2 && leap(y));
}
static int year_of(const char *date) { return atoi(date); }
/* Axis index of day `doy` of year y on an axis from Jan 1 of y0; noleap moves doy 366 to 365. */
static int tix(int y0, int noleap, int y, int doy)
{
    int t = 0;
    for (int yy = y0; yy < y; yy++) t += (leap(yy) && !noleap) ? 366 : 365;
    if (noleap && doy == 366) doy = 365;
    return t + doy - 1;
}

/* Expected values: [feature][sample][day]. */
typedef struct expect {
    int nf, ndays;
    size_t n;
    double *v[MAXF];
} expect;

static void exp_init(expect *e, const run *r)
{
    e->nf = (int)r->cfg->nfeatures;
    e->ndays = r->ndays;
    e->n = r->n;
    for (int k = 0; k < e->nf; k++) e->v[k] = calloc(r->n * (size_t)r->ndays, sizeof(double));
}
static void exp_free(expect *e) { for (int k = 0; k < e->nf; k++) free(e->v[k]); }
static void exp_add(expect *e, const run *r, int k, const char *id, int y0, int noleap, int y, int doy, double v)
{
    long i = af_sampleset_find(r->set, id);
    int t = tix(y0, noleap, y, doy);
    if (i < 0 || t < 0 || t >= e->ndays) { fprintf(stderr, "bad expectation %s %d %d\n", id, y, doy); af_test_case_failed = 1; return; }
    e->v[k][(size_t)i * (size_t)e->ndays + (size_t)t] += v;
}
static void exp_year(expect *e, const run *r, int k, const char *id, int y0, int noleap, int y, double v)
{
    long i = af_sampleset_find(r->set, id);
    int ylen = (leap(y) && !noleap) ? 366 : 365;
    for (int d = 1; d <= ylen; d++) e->v[k][(size_t)i * (size_t)e->ndays + (size_t)tix(y0, noleap, y, d)] = v;
}

static void exp_check(const expect *e, const run *r, int line)
{
    int bad = 0;
    for (int k = 0; k < e->nf; k++)
        for (size_t i = 0; i < e->n; i++)
            for (int t = 0; t < e->ndays; t++) {
                size_t o = i * (size_t)e->ndays + (size_t)t;
                float got = r->val[k][o], want = (float)e->v[k][o];
                if (r->valid[k][o] != 1 || !(fabsf(got - want) <= 1e-6f * (fabsf(want) > 1 ? fabsf(want) : 1))) {
                    if (bad++ < 10)
                        fprintf(stderr, "line %d: %s %s t=%d: got %.9g (valid %d) want %.9g\n", line,
                                r->cfg->features[k].name, af_sampleset_get_ref(r->set, i)->id, t, got, r->valid[k][o], want);
                }
            }
    if (bad) af_test_case_failed = 1;
}

/* ---- the main case ---- */
static const char planting_csv[] =
    "key,year,crop,plant_date,harvest_date\n"
    "19001,2003,1,2003-04-25,2003-10-01\n"
    "19001,2004,5,2004-05-10,2004-10-15\n"
    "19003,2003,C,2003-05-02,2003-09-20\n"
    "19003,2004,S,2004-05-20,2004-10-20\n"
    "US-Aa1,2003,1,2003-05-05,2003-10-05\n"
    "US-Aa1,2004,5,2004-12-31,2004-12-31\n"
    "US-Bb2,2003,5,2003-06-01,2003-11-01\n"
    "US-Bb2,2004,1,2004-04-30,2004-11-30\n";

static const char fert_aa1_csv[] =
    "site,date,amount,units\n"
    "US-Aa1,2002-06-01,99,g N m-2\n"
    "US-Aa1,2003-05-05,120,\n"
    "US-Aa1,2004-12-30,20,kg N ha-1\n"
    "US-Aa1,2004-12-31,1.5,g N m-2\n"
    "US-Bb2,2003-01-01,50,g N m-2\n";
static const char fert_bb2_csv[] = "site,date,amount\nUS-Bb2,2003-06-01,7\n";

#define MAIN_HEAD(cal)                                                                                          \
    "[pipeline]\nname = m\nstart = 2003-01-01\nend = 2004-12-31\ncalendar = " cal "\n"                          \
    "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"                                                   \
    "[sites]\nlist = sites.csv\n"                                                                                \
    "[scenario.C_S_150N_Planting]\nrotation = C, S\nn_rate = 150\nn_units = kg N ha-1\nn_timing = planting\n"  \
    "n_crops = C\n"                                                                                              \
    "[scenario.SPLIT]\nn_rate = 20\nn_units = g N m-2\nn_timing = planting, after_planting, doy\n"               \
    "n_days = 0, 30, 365\nn_split = 0.25, 0.5, 0.25\n"
#define MAIN_FEATS                                                                                              \
    "[input.FERTZR_N]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\npath = planting.csv\n"   \
    "events = fert_{site}.csv\nevents_units = kg N ha-1\n"                                                       \
    "[input.PDOY]\nsource = management\nvariable = planting_flag\nunits = flag\npath = planting.csv\n"         \
    "[input.HARV]\nsource = management\nvariable = harvest_flag\nunits = flag\npath = planting.csv\n"          \
    "[input.PLANTT]\nsource = management\nvariable = crop\nunits = class\npath = planting.csv\n"

/* Rows of planting_csv as (key, year, crop, plant, harvest), for the expectation. */
static const struct { const char *key; int crop; const char *plant, *harvest; } rows[] = {
    { "19001", 1, "2003-04-25", "2003-10-01" }, { "19001", 5, "2004-05-10", "2004-10-15" },
    { "19003", 1, "2003-05-02", "2003-09-20" }, { "19003", 5, "2004-05-20", "2004-10-20" },
    { "US-Aa1", 1, "2003-05-05", "2003-10-05" }, { "US-Aa1", 5, "2004-12-31", "2004-12-31" },
    { "US-Bb2", 5, "2003-06-01", "2003-11-01" }, { "US-Bb2", 1, "2004-04-30", "2004-11-30" },
};

static void main_expect(expect *e, const run *r, int noleap)
{
    enum { F, P, H, C };
    for (size_t j = 0; j < sizeof rows / sizeof rows[0]; j++) {
        int y = year_of(rows[j].plant), county = rows[j].key[0] != 'U';
        const char *ids[2] = { rows[j].key, NULL };
        char a[32], b[32];
        if (county) {
            snprintf(a, sizeof a, "%s:C_S_150N_Planting", rows[j].key);
            snprintf(b, sizeof b, "%s:SPLIT", rows[j].key);
            ids[0] = a;
            ids[1] = b;
        }
        for (int s = 0; s < 2 && ids[s]; s++) {
            exp_add(e, r, P, ids[s], 2003, noleap, y, doy_of(rows[j].plant), 1);
            exp_add(e, r, H, ids[s], 2003, noleap, y, doy_of(rows[j].harvest), 1);
            /* C_S: corn in 2003 and soybean in 2004 by rotation, which the table agrees with */
            exp_year(e, r, C, ids[s], 2003, noleap, y, rows[j].crop);
        }
        if (!county) continue;
        /* C_S_150N_Planting: 150 kg N ha-1 = 15 g N m-2 at planting, corn years only */
        if (y == 2003) exp_add(e, r, F, a, 2003, noleap, y, doy_of(rows[j].plant), 150 * 0.1);
        /* SPLIT: 20 g N m-2 as 25 % at planting, 50 % 30 days later, 25 % on day of year 365 */
        exp_add(e, r, F, b, 2003, noleap, y, doy_of(rows[j].plant), 20 * 0.25);
        exp_add(e, r, F, b, 2003, noleap, y, doy_of(rows[j].plant) + 30, 20 * 0.5);
        exp_add(e, r, F, b, 2003, noleap, y, 365, 20 * 0.25);
    }
    /* site fertilizer files: 120 kg N ha-1 (declared units), 20 kg N ha-1, 1.5 g N m-2; 7 kg N ha-1 */
    exp_add(e, r, F, "US-Aa1", 2003, noleap, 2003, doy_of("2003-05-05"), 12);
    exp_add(e, r, F, "US-Aa1", 2003, noleap, 2004, doy_of("2004-12-30"), 2);
    exp_add(e, r, F, "US-Aa1", 2003, noleap, 2004, doy_of("2004-12-31"), 1.5);
    exp_add(e, r, F, "US-Bb2", 2003, noleap, 2003, doy_of("2003-06-01"), 0.7);
}

static void write_main_files(void)
{
    fx_write("planting.csv", planting_csv);
    fx_write("fert_US-Aa1.csv", fert_aa1_csv);
    fx_write("fert_US-Bb2.csv", fert_bb2_csv);
}

static void check_main(const char *cal, int noleap, int group, int block)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", noleap ? MAIN_HEAD("noleap") : MAIN_HEAD("standard"), MAIN_FEATS);
    run r;
    AF_TEST_PASS(run_load(cal, text, group, block, &r, err));
    if (!af_test_case_failed) {
        AF_EXPECT(r.n == 6 && r.ndays == (noleap ? 730 : 731));
        expect e;
        exp_init(&e, &r);
        main_expect(&e, &r, noleap);
        exp_check(&e, &r, __LINE__);
        exp_free(&e);
    }
    run_free(&r);
}

static void test_main_standard(void) { check_main("std.ini", 0, 0, 1000); }
static void test_main_noleap(void) { check_main("noleap.ini", 1, 0, 1000); }
/* Grouped features and small blocks give the same values. */
static void test_main_blocks(void) { check_main("std37.ini", 0, 1, 37); check_main("noleap11.ini", 1, 1, 11); }

/* Day of year 365 and 366 in a leap year: standard keeps both days, noleap adds them on Dec 30. */
static void check_doy366(int noleap)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[pipeline]\nname = d\nstart = 2004-01-01\nend = 2004-12-31\ncalendar = %s\n"
             "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"
             "[scenario.LATE]\nn_rate = 10\nn_units = g N m-2\nn_timing = doy, doy\nn_days = 365, 366\nn_split = 0.4, 0.6\n"
             "[input.FERTZR_N]\nsource = management\nvariable = fertilizer_n\nunits = kg N ha-1\n",
             noleap ? "noleap" : "standard");
    run r;
    AF_TEST_PASS(run_load(noleap ? "d366n.ini" : "d366s.ini", text, 0, 100, &r, err));
    if (!af_test_case_failed) {
        expect e;
        exp_init(&e, &r);
        /* g N m-2 -> kg N ha-1 is x 10 */
        exp_add(&e, &r, 0, "19001:LATE", 2004, noleap, 2004, 365, 10 * 0.4 * 10);
        exp_add(&e, &r, 0, "19001:LATE", 2004, noleap, 2004, 366, 10 * 0.6 * 10);
        exp_add(&e, &r, 0, "19003:LATE", 2004, noleap, 2004, 365, 10 * 0.4 * 10);
        exp_add(&e, &r, 0, "19003:LATE", 2004, noleap, 2004, 366, 10 * 0.6 * 10);
        exp_check(&e, &r, __LINE__);
        AF_EXPECT(r.ndays == (noleap ? 365 : 366));
        exp_free(&e);
    }
    run_free(&r);
}
static void test_doy366(void) { check_doy366(0); check_doy366(1); }

/* match = state through a {state}/{year} template; crop from a rotation needs no table. */
static void test_state_and_rotation(void)
{
    fx_write("st19/plant_2003.csv", "key,year,crop,plant_date\n19,2003,1,2003-04-20\n");
    fx_write("st19/plant_2004.csv", "key,year,crop,plant_date\n19,2004,5,2004-05-01\n");
    const char *text =
        "[pipeline]\nname = s\nstart = 2003-01-01\nend = 2004-12-31\ncalendar = noleap\n"
        "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"
        "[scenario.S_C]\nrotation = S, C\nrotation_start = 2004\n"
        "[input.PDOY]\nsource = management\nvariable = planting_flag\nunits = flag\npath = st{state}/plant_{year}.csv\nmatch = state\n"
        "[input.PLANTT]\nsource = management\nvariable = crop\nunits = class\n";
    run r;
    AF_TEST_PASS(run_load("state.ini", text, 0, 365, &r, err));
    if (!af_test_case_failed) {
        expect e;
        exp_init(&e, &r);
        static const char *const ids[2] = { "19001:S_C", "19003:S_C" };
        for (int s = 0; s < 2; s++) {
            /* rotation S, C starting 2004: 2004 soybean, so 2003 (one year earlier) corn */
            exp_year(&e, &r, 1, ids[s], 2003, 1, 2003, 1);
            exp_year(&e, &r, 1, ids[s], 2003, 1, 2004, 5);
        }
        /* S_C in 2003 is corn: the table's 2003 row is corn; in 2004 soybean, and the row is soybean */
        for (int s = 0; s < 2; s++) {
            exp_add(&e, &r, 0, ids[s], 2003, 1, 2003, doy_of("2003-04-20"), 1);
            exp_add(&e, &r, 0, ids[s], 2003, 1, 2004, doy_of("2004-05-01"), 1);
        }
        exp_check(&e, &r, __LINE__);
        exp_free(&e);
    }
    run_free(&r);
}

/* ---- error paths ---- */
static void expect_open_fails(int line, const char *name, const char *text, int code, ...)
{
    run r;
    af_error e = AF_ERROR_INIT;
    int rc = run_load(name, text, 1, 400, &r, &e);
    if (rc != code) {
        fprintf(stderr, "%s:%d: %s: returned %s, expected %s (msg: %s)\n", __FILE__, line, name, af_status_name(rc),
                af_status_name(code), e.msg);
        af_test_case_failed = 1;
    }
    va_list ap;
    va_start(ap, code);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
        if (!strstr(e.msg, n)) {
            fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, line, name, e.msg, n);
            af_test_case_failed = 1;
        }
    va_end(ap);
    run_free(&r);
}
#define OPEN_FAILS(name, text, code, ...) expect_open_fails(__LINE__, name, text, code, __VA_ARGS__, (const char *)NULL)

#define EHEAD "[pipeline]\nname = e\nstart = 2003-01-01\nend = 2004-12-31\ncalendar = noleap\n" \
              "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"
#define PLANT_FEAT(path) "[input.PDOY]\nsource = management\nvariable = planting_flag\nunits = flag\npath = " path "\n"

static const char *tmp_path(const char *name) { return fx_path(name); }

static void test_table_errors(void)
{
    char want[1200];
    fx_write("e_noyear.csv", "key,year,crop,plant_date\n19001,2003,1,2003-04-01\n19001,2004,1,2004-04-01\n19003,2003,1,2003-04-01\n");
    snprintf(want, sizeof want, "%s: no row for key '19003' year 2004", tmp_path("e_noyear.csv"));
    OPEN_FAILS("e1.ini", EHEAD PLANT_FEAT("e_noyear.csv"), AF_ENOTFOUND, want, "[input.PDOY]");
    fx_write("e_outside.csv", "key,year,crop,plant_date\n19001,2003,1,2004-04-25\n");
    snprintf(want, sizeof want, "%s:2: column 'plant_date': 2004-04-25 is outside year 2003", tmp_path("e_outside.csv"));
    OPEN_FAILS("e2.ini", EHEAD PLANT_FEAT("e_outside.csv"), AF_EFORMAT, want);
    fx_write("e_date.csv", "key,year,crop,plant_date\n19001,2003,1,2003-13-01\n");
    OPEN_FAILS("e3.ini", EHEAD PLANT_FEAT("e_date.csv"), AF_EFORMAT, ":2: column 'plant_date': bad date '2003-13-01'");
    fx_write("e_dup.csv", "key,year,crop,plant_date\n19001,2003,1,2003-04-01\n19003,2003,1,2003-04-01\n19001,2003,C,2003-04-09\n");
    OPEN_FAILS("e4.ini", EHEAD PLANT_FEAT("e_dup.csv"), AF_EFORMAT, "e_dup.csv:4: duplicate row for key '19001' year 2003 crop 1 (first at line 2)");
    fx_write("e_two.csv", "key,year,crop,plant_date\n19001,2003,1,2003-04-01\n19001,2003,5,2003-05-01\n");
    OPEN_FAILS("e5.ini", EHEAD PLANT_FEAT("e_two.csv"), AF_EFORMAT, "e_two.csv:3: key '19001' year 2003 has 2 crops", "declare a rotation");
    fx_write("e_hv.csv", "key,year,crop,plant_date,harvest_date\n19001,2003,1,2003-04-01,2003-03-01\n");
    OPEN_FAILS("e6.ini", EHEAD PLANT_FEAT("e_hv.csv"), AF_EFORMAT, "e_hv.csv:2: column 'harvest_date': 2003-03-01 is before the planting date 2003-04-01");
    fx_write("e_crop.csv", "key,year,crop,plant_date\n19001,2003,wheat,2003-04-01\n");
    OPEN_FAILS("e7.ini", EHEAD PLANT_FEAT("e_crop.csv"), AF_EFORMAT, "e_crop.csv:2: column 'crop': 'wheat' is not a crop");
    fx_write("e_year.csv", "key,year,crop,plant_date\n19001,03x,1,2003-04-01\n");
    OPEN_FAILS("e8.ini", EHEAD PLANT_FEAT("e_year.csv"), AF_EFORMAT, "e_year.csv:2: column 'year': '03x' is not a year");
    fx_write("e_col.csv", "key,year,crop,planted\n19001,2003,1,2003-04-01\n");
    OPEN_FAILS("e9.ini", EHEAD PLANT_FEAT("e_col.csv"), AF_ENOTFOUND, "e_col.csv:1: no column 'plant_date'");
    snprintf(want, sizeof want, "cannot read '%s'", tmp_path("absent_2003.csv"));
    OPEN_FAILS("e10.ini", EHEAD PLANT_FEAT("absent_{year}.csv"), AF_ENOTFOUND, want);
    fx_write("e_noharv.csv", "key,year,crop,plant_date,harvest_date\n19001,2003,1,2003-04-01,\n");
    OPEN_FAILS("e11.ini", EHEAD "[input.H]\nsource = management\nvariable = harvest_flag\nunits = flag\npath = e_noharv.csv\n",
               AF_EFORMAT, "e_noharv.csv:2: column 'harvest_date': no harvest date for key '19001' year 2003");
    OPEN_FAILS("e12.ini", EHEAD "[input.P]\nsource = management\nvariable = planting_flag\nunits = flag\n", AF_ECONFIG,
               "e12.ini:9: [input.P] path: required: variable = planting_flag needs planting dates");
}

static void test_scenario_errors(void)
{
    fx_write("e_ok.csv", "key,year,crop,plant_date\n19001,2003,1,2003-12-10\n19003,2003,1,2003-04-01\n"
                         "19001,2004,1,2004-04-01\n19003,2004,1,2004-04-01\n");
    OPEN_FAILS("s1.ini", EHEAD "[scenario.late]\nn_rate = 1\nn_timing = after_planting\nn_days = 30\n"
               "[input.F]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\npath = e_ok.csv\n",
               AF_ECONFIG, "s1.ini:12: [scenario.late] n_days: application 1 falls on 2004-01-09, outside year 2003 (sample '19001:late')");
    OPEN_FAILS("s2.ini", "[pipeline]\nname = e\nstart = 2003-01-01\nend = 2003-12-31\n"
               "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"
               "[scenario.leapday]\nn_timing = doy\nn_days = 366\n"
               "[input.F]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\n",
               AF_ECONFIG, "[scenario.leapday] n_days: application 1 falls on 2004-01-01, outside year 2003");
    OPEN_FAILS("s3.ini", EHEAD "scenarios = a\n[input.F]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\n",
               AF_ECONFIG, "s3.ini:12: [input.F] variable = fertilizer_n: scenario 'a' has no [scenario.a] section");
    OPEN_FAILS("s4.ini", EHEAD "[scenario.x]\n[input.F]\nsource = management\nvariable = fertilizer_n\nunits = class\n",
               AF_EUNITS, "s4.ini:13: [input.F] units: variable = fertilizer_n");
    OPEN_FAILS("s5.ini", EHEAD PLANT_FEAT("e_ok.csv") "units = g N m-2\n", AF_ECONFIG, "key 'units' given twice");
    OPEN_FAILS("s6.ini", EHEAD "[input.P]\nsource = management\nvariable = planting_flag\nunits = g N m-2\npath = e_ok.csv\n",
               AF_EUNITS, "s6.ini:12: [input.P] units: variable = planting_flag");
    OPEN_FAILS("s7.ini", EHEAD "[input.C]\nsource = management\nvariable = crop\nunits = flag\npath = e_ok.csv\n",
               AF_EUNITS, "[input.C] units: variable = crop");
    OPEN_FAILS("s8.ini", EHEAD PLANT_FEAT("e_ok.csv") "match = site\n", AF_ECONFIG, "s8.ini:14: [input.PDOY] match = site",
               "applies_to = sites");
    OPEN_FAILS("s9.ini", EHEAD PLANT_FEAT("e_ok.csv") "[input.Q]\nsource = management\nvariable = crop\nunits = class\n"
               "path = e_ok.csv\nmatch = state\n", AF_ECONFIG, "s9.ini:19: [input.Q] match: differs from [input.PDOY]");
    OPEN_FAILS("s10.ini", EHEAD "[input.P]\nsource = management\nvariable = sowing\nunits = flag\n", AF_ECONFIG,
               "[input.P] variable: 'sowing' is not one of");
}

#define SHEAD "[pipeline]\nname = e\nstart = 2003-01-01\nend = 2004-12-31\n[sites]\nlist = sites.csv\n"
#define SFEAT "[input.F]\nsource = management\nvariable = fertilizer_n\nunits = g N m-2\n"

static void test_site_errors(void)
{
    OPEN_FAILS("x1.ini", SHEAD SFEAT, AF_ECONFIG, "x1.ini:7: [input.F] events: required for site samples");
    fx_write("x_nounits.csv", "site,date,amount\nUS-Aa1,2003-05-01,3\n");
    OPEN_FAILS("x2.ini", SHEAD SFEAT "events = x_nounits.csv\n", AF_ECONFIG,
               "x_nounits.csv:1: no 'units' column and no events_units declared");
    fx_write("x_empty.csv", "site,date,amount,units\nUS-Aa1,2003-05-01,3,\n");
    OPEN_FAILS("x3.ini", SHEAD SFEAT "events = x_empty.csv\n", AF_EFORMAT, "x_empty.csv:2: column 'units': empty");
    fx_write("x_amount.csv", "site,date,amount,units\nUS-Aa1,2003-05-01,-3,g N m-2\n");
    OPEN_FAILS("x4.ini", SHEAD SFEAT "events = x_amount.csv\n", AF_EFORMAT, "x_amount.csv:2: column 'amount': '-3' is not a non-negative number");
    fx_write("x_units.csv", "site,date,amount,units\nUS-Aa1,2003-05-01,3,g N m-2\nUS-Aa1,2003-06-01,3,bushels\n");
    OPEN_FAILS("x5.ini", SHEAD SFEAT "events = x_units.csv\n", AF_EUNITS, "x_units.csv:3: units 'bushels'");
    fx_write("x_date.csv", "site,date,amount,units\nUS-Aa1,2003/05/01,3,g N m-2\n");
    OPEN_FAILS("x6.ini", SHEAD SFEAT "events = x_date.csv\n", AF_EFORMAT, "x_date.csv:2: column 'date': bad date '2003/05/01'");
    OPEN_FAILS("x7.ini", SHEAD SFEAT "events = none_{site}.csv\n", AF_ENOTFOUND, "none_US-");
    OPEN_FAILS("x8.ini", SHEAD SFEAT "events = f_{fips}.csv\n", AF_ECONFIG, "[input.F] events: {fips}");
}

int main(void)
{
    af_log_set_sink(NULL, AF_LOG_ERROR, NULL);
    if (fx_setup("mgmt") != 0) return 1;
    write_main_files();
    AF_RUN(test_main_standard);
    AF_RUN(test_main_noleap);
    AF_RUN(test_main_blocks);
    AF_RUN(test_doy366);
    AF_RUN(test_state_and_rotation);
    AF_RUN(test_table_errors);
    AF_RUN(test_scenario_errors);
    AF_RUN(test_site_errors);
    fx_rmtree(fx_tmp);
    return AF_TEST_END();
}
