/* SPDX-License-Identifier: MIT */
/*
 * test_tower.c: synthetic unit tests of agroflux/tower.h (never skip). Writes
 * small BASE, FULLSET and chamber CSVs into a temporary directory and checks
 * 48 vs 24 records a day, the meteo and flux gap rules, -9999, '#' lines, QC
 * share, GPP = RECO - NEE, Feb 29 2012, timestamp and column errors with file
 * and line, and the chamber unit conversions against hand-computed numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_test.h"
#include "agroflux/calendar.h"
#include "agroflux/tower.h"

static char tmpdir[256];
static char pathbuf[512];

/* Write text to tmpdir/name; returns the path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
    snprintf(pathbuf, sizeof pathbuf, "%s/%s", tmpdir, name);
    FILE *fp = fopen(pathbuf, "w");
    if (!fp) { perror(pathbuf); exit(2); }
    fputs(text, fp);
    fclose(fp);
    return pathbuf;
}

static long epoch(int y, int m, int d)
{
    af_date dt = { y, m, d };
    return af_date_to_epoch(dt);
}

/* "YYYYMMDDHHMM" of epoch minutes. */
static void stamp(long long minutes, char out[13])
{
    af_date d = af_date_from_epoch((long)(minutes / 1440));
    unsigned hm = (unsigned)(minutes % 1440);
    snprintf(out, 13, "%04u%02u%02u%02u%02u", (unsigned)d.year % 10000u, (unsigned)d.month % 100u,
             (unsigned)d.day % 100u, hm / 60 % 100u, hm % 60);
}

/* ---- BASE, half-hourly: 2011-07-01 and 2011-07-02 ---- */
#define HH_N 96
static double hh_ta[HH_N], hh_p[HH_N], hh_fc[HH_N];

static const char *make_base_hh(int ncomment)
{
    static char text[64 * 1024];
    size_t o = 0;
    for (int i = 0; i < ncomment; i++) o += (size_t)snprintf(text + o, sizeof text - o, "# line %d,,,,\n", i);
    o += (size_t)snprintf(text + o, sizeof text - o, "TIMESTAMP_START,TIMESTAMP_END,FC,TA_1_1_1,TA_F,P,SW_IN\n");
    long long t0 = (long long)epoch(2011, 7, 1) * 1440;
    for (int i = 0; i < HH_N; i++) {
        hh_ta[i] = 15.0 + 0.25 * i;
        hh_p[i] = (i % 5 == 0) ? 0.2 : 0.0;
        hh_fc[i] = -2.0 + 0.125 * i;
        if (i == 60) hh_ta[i] = -9999;           /* day 2: one missing TA -> day missing */
        if (i < 48 && i % 4 == 1) hh_fc[i] = -9999; /* day 1: 12 of 48 FC missing */
        char s[13], e[13];
        stamp(t0 + 30LL * i, s);
        stamp(t0 + 30LL * (i + 1), e);
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,%s,%g,%g,99,%g,%g\n", s, e, hh_fc[i], hh_ta[i],
                              hh_p[i], 100.0 + i);
    }
    char name[64];
    snprintf(name, sizeof name, "AMF_US-XXX_BASE_HH_c%d.csv", ncomment);
    return write_file(name, text);
}

static void test_tower_base__hh_daily(void)
{
    af_tower_file *tf = NULL;
    const char *path = make_base_hh(3);
    AF_TEST_PASS(af_tower_file_open(path, AF_TOWER_BASE, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_HH);
    AF_EXPECT(af_tower_step_minutes(tf) == 30);
    AF_EXPECT(af_tower_nrecords(tf) == HH_N);
    long e0 = 0;
    int nd = 0;
    af_tower_span(tf, &e0, &nd);
    AF_EXPECT(e0 == epoch(2011, 7, 1));
    AF_EXPECT(nd == 2);
    int col = -1;
    AF_TEST_PASS(af_tower_column(tf, "TA", &col, err)); /* position suffix fallback */
    AF_EXPECT(col == 3);
    AF_TEST_PASS(af_tower_column(tf, "ta_f", &col, err)); /* exact, case-insensitive */
    AF_EXPECT(col == 4);

    af_tower_var_spec vars[4] = {
        { "TA", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "P", NULL, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "FC", NULL, NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "SW_IN", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
    };
    /* one day before and after the file: 4 days */
    float val[4 * 4], cov[4 * 4], qc[4 * 4];
    AF_TEST_PASS(af_tower_daily(tf, vars, 4, epoch(2011, 6, 30), 4, val, cov, qc, err));
    /* independent expectations */
    double ta1 = 0, p1 = 0, p2 = 0, fc1 = 0, fc2 = 0, sw1 = 0;
    int nfc1 = 0;
    for (int i = 0; i < 48; i++) {
        ta1 += hh_ta[i]; p1 += hh_p[i]; sw1 += 100.0 + i;
        if (hh_fc[i] != -9999) { fc1 += hh_fc[i]; nfc1++; }
        p2 += hh_p[48 + i]; fc2 += hh_fc[48 + i];
    }
    AF_EXPECT(nfc1 == 36);
    AF_EXPECT(isnan(val[0 * 4 + 0]) && cov[0] == 0.0f);       /* day before the file */
    AF_EXPECT_NEAR(val[1 * 4 + 0], ta1 / 48, 1e-5);
    AF_EXPECT_NEAR(cov[1 * 4 + 0], 1.0, 0);
    AF_EXPECT(isnan(qc[1 * 4 + 0]));                          /* no QC column */
    AF_EXPECT_NEAR(val[1 * 4 + 1], p1, 1e-6);
    AF_EXPECT_NEAR(val[1 * 4 + 1], 10 * 0.2, 1e-6);           /* 10 records with 0.2 */
    AF_EXPECT_NEAR(val[1 * 4 + 2], fc1 / 36 * 1.03772448, 1e-5);
    AF_EXPECT_NEAR(cov[1 * 4 + 2], 0.75, 1e-7);
    AF_EXPECT_NEAR(val[1 * 4 + 3], sw1 / 48, 1e-4);
    AF_EXPECT(isnan(val[2 * 4 + 0]));                         /* TA missing record */
    AF_EXPECT_NEAR(cov[2 * 4 + 0], 47.0 / 48.0, 1e-7);
    AF_EXPECT_NEAR(val[2 * 4 + 1], p2, 1e-6);
    AF_EXPECT_NEAR(val[2 * 4 + 2], fc2 / 48 * 1.03772448, 1e-5);
    AF_EXPECT(isnan(val[3 * 4 + 2]) && cov[3 * 4 + 2] == 0.0f); /* day after */

    /* min_coverage above the FC share of day 1 makes it missing; strict rule too */
    af_tower_var_spec fc80 = { "FC", NULL, NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_COVERAGE, 0.8 };
    af_tower_var_spec fcs = { "FC", NULL, NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_STRICT, 0.0 };
    float v2[2];
    AF_TEST_PASS(af_tower_daily(tf, &fc80, 1, epoch(2011, 7, 1), 2, v2, NULL, NULL, err));
    AF_EXPECT(isnan(v2[0]) && !isnan(v2[1]));
    AF_TEST_PASS(af_tower_daily(tf, &fcs, 1, epoch(2011, 7, 1), 2, v2, NULL, NULL, err));
    AF_EXPECT(isnan(v2[0]) && !isnan(v2[1]));
    /* partial-day sums are refused */
    af_tower_var_spec psum = { "P", NULL, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_COVERAGE, 0.5 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "'P'", af_tower_daily(tf, &psum, 1, epoch(2011, 7, 1), 2, v2, NULL, NULL, err));
    /* missing column */
    af_tower_var_spec bad = { "NEE_PI", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 };
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "'NEE_PI'", af_tower_daily(tf, &bad, 1, epoch(2011, 7, 1), 2, v2, NULL, NULL, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "AMF_US-XXX_BASE_HH_c3.csv", af_tower_column(tf, "SWC", &col, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "'T'", af_tower_column(tf, "T", &col, err));
    af_tower_file_destroy(&tf);
    af_tower_file_destroy(&tf); /* idempotent */
    AF_EXPECT(tf == NULL);
}

static void test_tower_base__comment_lines(void)
{
    for (int nc = 0; nc <= 5; nc += 5) {
        af_tower_file *tf = NULL;
        AF_TEST_PASS(af_tower_file_open(make_base_hh(nc), AF_TOWER_BASE, &tf, err));
        AF_EXPECT(tf && af_tower_nrecords(tf) == HH_N && af_tower_ncolumns(tf) == 7);
        if (tf) AF_EXPECT(!strcmp(af_tower_column_name_ref(tf, 6), "SW_IN"));
        if (tf) {
            double v[2];
            int cols[2] = { 5, 2 };
            double *all = malloc(sizeof(double) * 2 * HH_N);
            AF_TEST_PASS(af_tower_read_columns(tf, cols, 2, all, err));
            v[0] = all[2 * 5 + 0];
            v[1] = all[2 * 1 + 1];
            AF_EXPECT_NEAR(v[0], 0.2, 0);
            AF_EXPECT(isnan(v[1]));       /* -9999 */
            free(all);
        }
        af_tower_file_destroy(&tf);
    }
}

/* ---- hourly BASE across Feb 29 2012, one hour absent on Mar 1 ---- */
static void test_tower_base__hr_leap_day(void)
{
    static char text[16 * 1024];
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof text - o, "# Site: US-Ne1\nTIMESTAMP_START,TIMESTAMP_END,TA,P\n");
    long long t0 = (long long)epoch(2012, 2, 28) * 1440;
    for (int i = 0; i < 72; i++) {
        if (i == 50) continue;                 /* absent row: 2012-03-01 02:00 */
        char s[13], e[13];
        stamp(t0 + 60LL * i, s);
        stamp(t0 + 60LL * (i + 1), e);
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,%s,%d,%g\n", s, e, i / 24 + 1, i % 2 ? 0.5 : 0.0);
    }
    af_tower_file *tf = NULL;
    AF_TEST_PASS(af_tower_file_open(write_file("AMF_US-Ne1_BASE_HR_1.csv", text), AF_TOWER_BASE, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_HR);
    AF_EXPECT(af_tower_nrecords(tf) == 71);
    long e0;
    int nd;
    af_tower_span(tf, &e0, &nd);
    AF_EXPECT(e0 == epoch(2012, 2, 28) && nd == 3);
    AF_EXPECT(epoch(2012, 3, 1) - epoch(2012, 2, 28) == 2);
    af_tower_var_spec vars[2] = {
        { "TA", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "P", NULL, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_DEFAULT, 0.0 },
    };
    float val[6], cov[6];
    AF_TEST_PASS(af_tower_daily(tf, vars, 2, e0, 3, val, cov, NULL, err));
    AF_EXPECT_NEAR(val[0], 1.0, 0);
    AF_EXPECT_NEAR(val[2], 2.0, 0);   /* Feb 29 is its own day with 24 records */
    AF_EXPECT_NEAR(cov[2], 1.0, 0);
    AF_EXPECT_NEAR(val[3], 12 * 0.5, 1e-6);
    AF_EXPECT(isnan(val[4]) && isnan(val[5]));  /* Mar 1: one absent hour */
    AF_EXPECT_NEAR(cov[4], 23.0 / 24.0, 1e-7);
    af_tower_file_destroy(&tf);
}

/* ---- FULLSET HH: QC share, gap-filled strictness, GPP = RECO - NEE ---- */
static void test_tower_fullset__hh_qc_gpp(void)
{
    static char text[32 * 1024];
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "TIMESTAMP_START,TIMESTAMP_END,TA_F,NEE_VUT_REF,NEE_VUT_REF_QC,RECO_NT_VUT_REF\n");
    long long t0 = (long long)epoch(2010, 1, 1) * 1440;
    double nee1 = 0, reco1 = 0;
    for (int i = 0; i < 96; i++) {
        int q = i < 10 ? 0 : i < 30 ? 1 : i < 40 ? 2 : 3;   /* day 1: 30 of 48 good */
        double nee = -1.5 + 0.05 * i, reco = 2.0 + 0.01 * i;
        if (i < 48) { nee1 += nee; reco1 += reco; }
        char s[13], e[13], nees[32];
        stamp(t0 + 30LL * i, s);
        stamp(t0 + 30LL * (i + 1), e);
        snprintf(nees, sizeof nees, "%g", i == 70 ? -9999.0 : nee);  /* day 2: unfilled */
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,%s,%g,%s,%d,%g\n", s, e, 0.1 * i, nees,
                              i == 80 ? -9999 : q, reco);
    }
    af_tower_file *tf = NULL;
    AF_TEST_PASS(af_tower_file_open(write_file("FLX_XX-Syn_FLUXNET2015_FULLSET_HH_2010-2010_1-3.csv", text),
                                    AF_TOWER_FULLSET, &tf, err));
    if (!tf) return;
    af_tower_var_spec vars[3] = {
        { "NEE_VUT_REF", "NEE_VUT_REF_QC", NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "RECO_NT_VUT_REF", NULL, "NEE_VUT_REF", AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "TA_F", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
    };
    float val[6], cov[6], qc[6];
    AF_TEST_PASS(af_tower_daily(tf, vars, 3, epoch(2010, 1, 1), 2, val, cov, qc, err));
    AF_EXPECT_NEAR(val[0], nee1 / 48 * 1.03772448, 1e-5);
    AF_EXPECT_NEAR(qc[0], 30.0 / 48.0, 1e-7);
    AF_EXPECT_NEAR(val[1], (reco1 - nee1) / 48 * 1.03772448, 1e-5);  /* GPP */
    AF_EXPECT(isnan(qc[1]));
    AF_EXPECT(isnan(val[3]) && isnan(val[4]));   /* FULLSET: unfilled record -> day missing */
    AF_EXPECT_NEAR(cov[3], 47.0 / 48.0, 1e-7);
    AF_EXPECT_NEAR(qc[3], 0.0, 0);               /* day 2: all QC 3 or missing */
    AF_EXPECT_NEAR(val[5], (0.1 * 48 * 48 + 0.1 * 47 * 48 / 2) / 48, 1e-4);
    af_tower_file_destroy(&tf);
}

/* ---- FULLSET DD: values and QC shares pass through; MM refuses daily ---- */
static void test_tower_fullset__dd_mm(void)
{
    af_tower_file *tf = NULL;
    const char *dd = "TIMESTAMP,NEE_VUT_REF,NEE_VUT_REF_QC,P_F\n"
                     "20120228,-1.25,0.9,3.5\n20120229,0.5,0.25,-9999\n20120302,2,1,0\n";
    AF_TEST_PASS(af_tower_file_open(write_file("FLX_XX-Syn_FLUXNET2015_FULLSET_DD_2012-2012_1-3.csv", dd),
                                    AF_TOWER_FULLSET, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_DD);
    af_tower_var_spec vars[2] = {
        { "NEE_VUT_REF", "NEE_VUT_REF_QC", NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "P_F", NULL, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_DEFAULT, 0.0 },
    };
    float val[8], cov[8], qc[8];
    AF_TEST_PASS(af_tower_daily(tf, vars, 2, epoch(2012, 2, 28), 4, val, cov, qc, err));
    AF_EXPECT_NEAR(val[0], -1.25, 0);           /* no factor: already g C m-2 d-1 */
    AF_EXPECT_NEAR(qc[0], 0.9, 1e-7);
    AF_EXPECT_NEAR(val[1], 3.5, 0);
    AF_EXPECT_NEAR(val[2], 0.5, 0);             /* Feb 29 */
    AF_EXPECT(isnan(val[3]) && cov[3] == 0.0f);
    AF_EXPECT(isnan(val[4]) && isnan(val[5]));  /* Mar 1 absent */
    AF_EXPECT_NEAR(val[6], 2.0, 0);
    af_tower_file_destroy(&tf);

    const char *mm = "TIMESTAMP,NEE_VUT_REF\n201201,-3\n201202,-2.5\n";
    AF_TEST_PASS(af_tower_file_open(write_file("FLX_XX-Syn_FLUXNET2015_FULLSET_MM_2012-2012_1-3.csv", mm),
                                    AF_TOWER_FULLSET, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_MM && af_tower_nrecords(tf) == 2);
    AF_EXPECT(af_tower_record_start(tf, 1) == (long long)epoch(2012, 2, 1) * 1440);
    AF_TEST_FAILS_WITH(AF_EINVAL, "daily", af_tower_daily(tf, vars, 1, epoch(2012, 1, 1), 1, val, NULL, NULL, err));
    af_tower_file_destroy(&tf);
}

/* ---- format errors name file:line, column and text ---- */
static void test_tower_errors__format(void)
{
    af_tower_file *tf = NULL;
    const char *hdr = "# a\n# b\nTIMESTAMP_START,TIMESTAMP_END,TA\n";
    char text[1024];
    /* out of order on line 6 */
    snprintf(text, sizeof text, "%s%s", hdr,
             "201101010000,201101010030,1\n201101010030,201101010100,2\n201101010000,201101010030,3\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "ooo.csv:6:", af_tower_file_open(write_file("ooo.csv", text), AF_TOWER_BASE, &tf, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "'201101010000' is before", af_tower_file_open(pathbuf, AF_TOWER_BASE, &tf, err));
    /* duplicate on line 5 */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010030,1\n201101010000,201101010030,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dup.csv:5: column 'TIMESTAMP_START': timestamp '201101010000' duplicates",
                       af_tower_file_open(write_file("dup.csv", text), AF_TOWER_BASE, &tf, err));
    /* step change: a 60-min record in a 30-min file */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010030,1\n201101010030,201101010130,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "step.csv:5: step change",
                       af_tower_file_open(write_file("step.csv", text), AF_TOWER_BASE, &tf, err));
    /* off-grid start */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010030,1\n201101010045,201101010115,2\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "grid.csv:5:", af_tower_file_open(write_file("grid.csv", text), AF_TOWER_BASE, &tf, err));
    /* bad timestamp, not a real date */
    snprintf(text, sizeof text, "%s%s", hdr, "201102290000,201102290030,1\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "date.csv:4: column 'TIMESTAMP_START': bad timestamp '201102290000'",
                       af_tower_file_open(write_file("date.csv", text), AF_TOWER_BASE, &tf, err));
    /* short row */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010030\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "short.csv:4: 2 fields",
                       af_tower_file_open(write_file("short.csv", text), AF_TOWER_BASE, &tf, err));
    /* resolution disagreeing with the name */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010100,1\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "says HH", af_tower_file_open(write_file("AMF_X_BASE_HH_1.csv", text), AF_TOWER_BASE, &tf, err));
    /* 15-min records */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010015,1\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "15 min", af_tower_file_open(write_file("q.csv", text), AF_TOWER_BASE, &tf, err));
    /* header not first after comments */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "nohdr.csv:2: header must start with TIMESTAMP_START, found 'DATE'",
                       af_tower_file_open(write_file("nohdr.csv", "# x\nDATE,TA\n20110101,1\n"), AF_TOWER_BASE, &tf, err));
    /* FULLSET files have no '#' lines */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "hash.csv:1:",
                       af_tower_file_open(write_file("hash.csv", "# x\nTIMESTAMP,TA_F\n20110101,1\n"), AF_TOWER_FULLSET, &tf, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "CR-only", af_tower_file_open(write_file("cr.csv",
                       "TIMESTAMP,TA_F\r20110101,1\r20110102,2\r"), AF_TOWER_FULLSET, &tf, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "no data", af_tower_file_open(write_file("empty.csv", hdr), AF_TOWER_BASE, &tf, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "nope.csv", af_tower_file_open("/nonexistent/nope.csv", AF_TOWER_BASE, &tf, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_tower_file_open(pathbuf, (af_tower_kind)7, &tf, err));
    AF_EXPECT(tf == NULL);
    /* bad number: reported when read, with file:line, column and text */
    snprintf(text, sizeof text, "%s%s", hdr, "201101010000,201101010030,1\n201101010030,201101010100,1.2.3\n");
    AF_TEST_PASS(af_tower_file_open(write_file("num.csv", text), AF_TOWER_BASE, &tf, err));
    if (tf) {
        af_tower_var_spec ta = { "TA", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 };
        float v;
        AF_TEST_FAILS_WITH(AF_EFORMAT, "num.csv:5: column 'TA': bad number '1.2.3'",
                           af_tower_daily(tf, &ta, 1, epoch(2011, 1, 1), 1, &v, NULL, NULL, err));
        af_tower_var_spec bad = { "TA", NULL, NULL, (af_tower_agg)9, AF_TOWER_GAP_DEFAULT, 0.0 };
        AF_TEST_FAILS_WITH(AF_EINVAL, "aggregation", af_tower_daily(tf, &bad, 1, 0, 1, &v, NULL, NULL, err));
        bad.agg = AF_TOWER_AGG_MEAN;
        bad.min_coverage = 1.5;
        AF_TEST_FAILS_WITH(AF_EINVAL, "min_coverage", af_tower_daily(tf, &bad, 1, 0, 1, &v, NULL, NULL, err));
        int cols[1] = { 3 };
        double d[2];
        AF_TEST_FAILS_WITH(AF_EINVAL, "column index 3", af_tower_read_columns(tf, cols, 1, d, err));
    }
    af_tower_file_destroy(&tf);
}

/* ---- chambers ---- */
static void test_chamber__units(void)
{
    /* hand-computed: 1 nmol N2O m-2 s-1 = 28.013e-9 g N x 3600 s = 1.008468e-4 g N m-2 h-1 */
    AF_EXPECT_NEAR(af_chamber_to_g_n_m2_h(1.0, AF_CHAMBER_NMOL_N2O_M2_S), 1.008468e-4, 1e-16);
    AF_EXPECT_NEAR(af_chamber_to_g_n_m2_h(50.0, AF_CHAMBER_UG_N_M2_H), 5.0e-5, 1e-18);
    AF_EXPECT_NEAR(af_chamber_to_g_n_m2_h(240.0, AF_CHAMBER_G_N_HA_D), 1.0e-3, 1e-18);
    AF_EXPECT_NEAR(af_chamber_to_g_n_m2_h(0.002, AF_CHAMBER_G_N_M2_H), 0.002, 0);
    af_chamber_unit u;
    AF_TEST_PASS(af_chamber_unit_parse("nmol m-2 s-1", &u, err));
    AF_EXPECT(u == AF_CHAMBER_NMOL_N2O_M2_S);
    AF_TEST_PASS(af_chamber_unit_parse("g N ha-1 d-1", &u, err));
    AF_EXPECT(u == AF_CHAMBER_G_N_HA_D);
    AF_TEST_FAILS_WITH(AF_EUNITS, "'kg N ha-1 yr-1'", af_chamber_unit_parse("kg N ha-1 yr-1", &u, err));

    /* each unit through read + daily: 24 equal hours; expected daily values by hand:
     * g N m-2 h-1 0.001 -> 0.024; nmol 1.0 -> 1.008468e-4 x 24 = 2.4203232e-3;
     * ug 50 -> 5e-5 x 24 = 1.2e-3; g N ha-1 d-1 240 -> 240 / 1e4 = 0.024 */
    const char *units[4] = { "g N m-2 h-1", "nmol m-2 s-1", "ug N m-2 h-1", "g N ha-1 d-1" };
    const double in[4] = { 0.001, 1.0, 50.0, 240.0 };
    const double want[4] = { 0.024, 2.4203232e-3, 1.2e-3, 0.024 };
    for (int k = 0; k < 4; k++) {
        char text[4096];
        size_t o = (size_t)snprintf(text, sizeof text, "plot,time,n2o\n");
        for (int h = 0; h < 24; h++)
            o += (size_t)snprintf(text + o, sizeof text - o, "A,2020-06-01 %02d:00,%g\n", h, in[k]);
        af_chamber_opts opts = AF_CHAMBER_OPTS_INIT;
        opts.id_column = "plot";
        opts.time_column = "time";
        opts.flux_column = "n2o";
        af_chamber_data *cd = NULL;
        AF_TEST_PASS(af_chamber_unit_parse(units[k], &opts.unit, err));
        AF_TEST_PASS(af_chamber_read(write_file("ch_units.csv", text), &opts, &cd, err));
        if (!cd) continue;
        float v = 0;
        int nh = 0;
        AF_TEST_PASS(af_chamber_daily(cd, 0, epoch(2020, 6, 1), 1, &v, &nh, err));
        AF_EXPECT(nh == 24);
        AF_EXPECT_NEAR(v, want[k], want[k] * 1e-6);
        af_chamber_data_destroy(&cd);
    }
}

static void test_chamber__min_hours(void)
{
    /* chamber B: 16 valid hours on day 1 (kept), 15 on day 2 (dropped); chamber A
     * interleaved with two records in one hour (averaged); timestamp formats mixed */
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "# chamber file\nchamber,timestamp,flux\n");
    double sum1 = 0;
    for (int h = 0; h < 24; h++) {
        const char *f = h < 16 ? "%s,2021-05-%02dT%02d:00,%g\n" : "%s,2021-05-%02d %02d:00,%s\n";
        double v = 0.001 * (h + 1);
        if (h < 16) { sum1 += v; o += (size_t)snprintf(text + o, sizeof text - o, f, "B", 10, h, v); }
        else o += (size_t)snprintf(text + o, sizeof text - o, f, "B", 10, h, h % 2 ? "NA" : "-9999");
        o += (size_t)snprintf(text + o, sizeof text - o, "B,20210511%02d00,\n", h); /* missing */
        if (h < 15) o += (size_t)snprintf(text + o, sizeof text - o, "B,2021-05-11 %02d:30:00,0.002\n", h);
        o += (size_t)snprintf(text + o, sizeof text - o, "A,2021-05-10 %02d:10,-0.001\n", h);
    }
    o += (size_t)snprintf(text + o, sizeof text - o, "A,202105100050,-0.003\n");
    af_chamber_opts opts = AF_CHAMBER_OPTS_INIT;
    af_chamber_data *cd = NULL;
    AF_TEST_PASS(af_chamber_read(write_file("ch_min.csv", text), &opts, &cd, err));
    if (!cd) return;
    AF_EXPECT(af_chamber_count(cd) == 2);
    AF_EXPECT(!strcmp(af_chamber_id_ref(cd, 0), "B"));
    int b = -1, a = -1;
    AF_TEST_PASS(af_chamber_find(cd, "B", &b, err));
    AF_TEST_PASS(af_chamber_find(cd, "A", &a, err));
    int c = 0;
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "'C'", af_chamber_find(cd, "C", &c, err));
    AF_EXPECT(c == -1);
    float v[2];
    int nh[2];
    AF_TEST_PASS(af_chamber_daily(cd, b, epoch(2021, 5, 10), 2, v, nh, err));
    AF_EXPECT(nh[0] == 16 && nh[1] == 15);
    AF_EXPECT_NEAR(v[0], sum1 / 16 * 24, 1e-7);
    AF_EXPECT(isnan(v[1]));
    opts.min_hours = 15;
    af_chamber_data_destroy(&cd);
    AF_TEST_PASS(af_chamber_read(pathbuf, &opts, &cd, err));
    if (!cd) return;
    AF_TEST_PASS(af_chamber_daily(cd, b, epoch(2021, 5, 10), 2, v, nh, err));
    AF_EXPECT_NEAR(v[1], 0.002 * 24, 1e-8);
    /* chamber A: hour 0 holds -0.001 and -0.003 -> -0.002; 23 hours of -0.001 */
    AF_TEST_PASS(af_chamber_daily(cd, a, epoch(2021, 5, 10), 1, v, NULL, err));
    AF_EXPECT_NEAR(v[0], (-0.002 + 23 * -0.001) / 24 * 24, 1e-8);
    af_chamber_flip_sign(v, 1);
    AF_EXPECT_NEAR(v[0], 0.025, 1e-8);
    float w[2] = { NAN, -1.5f };
    af_chamber_flip_sign(w, 2);
    AF_EXPECT(isnan(w[0]) && w[1] == 1.5f);
    AF_TEST_FAILS_WITH(AF_EINVAL, "chamber index 5", af_chamber_daily(cd, 5, 0, 1, v, NULL, err));
    af_chamber_data_destroy(&cd);
    AF_EXPECT(cd == NULL);
}

static void test_chamber__errors(void)
{
    af_chamber_opts opts = AF_CHAMBER_OPTS_INIT;
    af_chamber_data *cd = NULL;
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "ch_e1.csv:1: no column 'flux'",
                       af_chamber_read(write_file("ch_e1.csv", "chamber,timestamp,n2o\nA,2020-01-01 00:00,1\n"), &opts, &cd, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "ch_e2.csv:3: column 'timestamp': bad timestamp '2020-01-01 24:00'",
                       af_chamber_read(write_file("ch_e2.csv", "chamber,timestamp,flux\nA,2020-01-01 00:00,1\nA,2020-01-01 24:00,1\n"),
                                       &opts, &cd, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "ch_e3.csv:2: column 'flux': bad number 'x1'",
                       af_chamber_read(write_file("ch_e3.csv", "chamber,timestamp,flux\nA,202001010000,x1\n"), &opts, &cd, err));
    opts.min_hours = 25;
    AF_TEST_FAILS_WITH(AF_EINVAL, "min_hours 25", af_chamber_read(pathbuf, &opts, &cd, err));
    AF_EXPECT(cd == NULL);
}

/* One record per chamber and timestamp: a duplicated row (which used to be averaged in: one outlier
 * turned a day's 0.0027 into 57.6) is an error naming both lines and values, in any timestamp spelling
 * and in any order; -9999 and -6999 are missing like everywhere. */
static void test_chamber__duplicates_and_sentinels(void)
{
    af_chamber_opts opts = AF_CHAMBER_OPTS_INIT;
    opts.unit = AF_CHAMBER_G_N_M2_H;
    af_chamber_data *cd = NULL;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "ch_dup.csv:5: duplicate record: chamber 'A' at 2020-06-01 10:30, flux 57.6, "
                       "already at line 2 with flux 0.0027",
                       af_chamber_read(write_file("ch_dup.csv", "chamber,timestamp,flux\nA,2020-06-01 10:30,0.0027\n"
                                                  "B,2020-06-01 10:30,1\nA,2020-06-01 11:30,0.0027\n"
                                                  "A,202006011030,57.6\n"), &opts, &cd, err));
    AF_EXPECT(cd == NULL);
    /* the same timestamps out of file order but no two alike (each chamber's times falling, not
     * rising: the full check, not the logger-order shortcut) are no duplicate */
    af_chamber_opts two = opts;
    two.min_hours = 2;
    AF_TEST_PASS(af_chamber_read(write_file("ch_back.csv", "chamber,timestamp,flux\nA,2020-06-01 11:30,1\n"
                                            "B,2020-06-01 10:30,1\nA,2020-06-01 10:30,2\nB,2020-06-01 09:30,2\n"),
                                 &two, &cd, err));
    if (cd) {
        float day = 0;
        int nh = 0;
        AF_EXPECT(af_chamber_count(cd) == 2);
        AF_TEST_PASS(af_chamber_daily(cd, 0, epoch(2020, 6, 1), 1, &day, &nh, err));
        AF_EXPECT(nh == 2);
        AF_EXPECT_NEAR(day, 36.0, 1e-6); /* hours 10 (2) and 11 (1): mean 1.5 x 24, every record kept */
    }
    af_chamber_data_destroy(&cd);
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "chamber,timestamp,flux\n");
    for (int h = 0; h < 24; h++)
        o += (size_t)snprintf(text + o, sizeof text - o, "A,2020-06-01 %02d:00,%s\n", h,
                              h == 3 ? "-6999" : h == 4 ? "-9999.0" : h == 5 ? "-6.999e3" : "0.001");
    AF_TEST_PASS(af_chamber_read(write_file("ch_sent.csv", text), &opts, &cd, err));
    if (!cd) return;
    float v = 0;
    int nh = 0;
    AF_TEST_PASS(af_chamber_daily(cd, 0, epoch(2020, 6, 1), 1, &v, &nh, err));
    AF_EXPECT(nh == 21);
    AF_EXPECT_NEAR(v, 0.024, 1e-9); /* mean of the 21 valid hours (0.001) x 24 */
    af_chamber_data_destroy(&cd);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/af_tower_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
    AF_RUN(test_tower_base__hh_daily);
    AF_RUN(test_tower_base__comment_lines);
    AF_RUN(test_tower_base__hr_leap_day);
    AF_RUN(test_tower_fullset__hh_qc_gpp);
    AF_RUN(test_tower_fullset__dd_mm);
    AF_RUN(test_tower_errors__format);
    AF_RUN(test_chamber__units);
    AF_RUN(test_chamber__min_hours);
    AF_RUN(test_chamber__errors);
    AF_RUN(test_chamber__duplicates_and_sentinels);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return AF_TEST_END();
}
