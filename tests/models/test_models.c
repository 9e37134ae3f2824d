/* SPDX-License-Identifier: MIT */
/*
 * test_models.c: the Ecosys and DayCent parsers (agroflux/models.h) and the
 * derived-variable engine (ecosys_impl.h) on hand-written files: Fortran
 * number forms, leap years, cumulative resets and holes, header-less layer
 * files, version column names, trailing commas, text columns, and every
 * AF_EFORMAT / AF_ECONFIG path, NUL bytes, and the year-by-year (cursor)
 * reads of a multi-year DayCent file against the whole-file read. Expected
 * values are worked out by hand here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_test.h"
#include "agroflux/models.h"
#include "ecosys_impl.h"

static char tmpdir[] = "/tmp/af_models_XXXXXX";

static const char *put(const char *name, const char *text)
{
    static char path[8][512];
    static int slot = 0;
    char *p = path[slot++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *fp = fopen(p, "w");
    fputs(text, fp);
    fclose(fp);
    return p;
}

/* Write len bytes (may hold NUL bytes) to tmpdir/name. */
static const char *put_bytes(const char *name, const char *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    fwrite(data, 1, len, fp);
    fclose(fp);
    return path;
}

static double row_value(const af_model_table *t, int year, int doy, const char *col)
{
    int c = af_model_table_column(t, col);
    for (size_t r = 0; c >= 0 && r < t->nrows; r++)
        if (t->year[r] == year && t->doy[r] == doy) return af_model_table_at(t, r, (size_t)c);
    return -12345;
}

static void test_fortran_numbers(void)
{
    double v = 0;
    AF_EXPECT(af_ecosys_parse_number("0.1356683E+003", &v) && fabs(v - 135.6683) < 1e-12);
    AF_EXPECT(af_ecosys_parse_number("-0.1356683E+003", &v) && fabs(v + 135.6683) < 1e-12);
    AF_EXPECT(af_ecosys_parse_number("0.1D+03", &v) && v == 100.0);
    AF_EXPECT(af_ecosys_parse_number("0.25d-01", &v) && fabs(v - 0.025) < 1e-15);
    AF_EXPECT(af_ecosys_parse_number(".5E+01", &v) && v == 5.0);
    AF_EXPECT(af_ecosys_parse_number("0.1234567-100", &v) && fabs(v / 0.1234567e-100 - 1) < 1e-12);
    AF_EXPECT(af_ecosys_parse_number("0.1234567+100", &v) && fabs(v / 0.1234567e100 - 1) < 1e-12);
    AF_EXPECT(af_ecosys_parse_number("-0.9999000E+004", &v) && v == -9999.0);
    AF_EXPECT(af_ecosys_parse_number("365.000", &v) && v == 365.0);
    AF_EXPECT(af_ecosys_parse_number("1.5e2", &v) && v == 150.0);
    const char *bad[] = { "0.12E", "E+03", "1.2.3", "**************", "0.1E+0a", "", "abc", "1-", "+", ".", "0.1E+ 3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (af_ecosys_parse_number(bad[i], &v)) {
            fprintf(stderr, "accepted '%s'\n", bad[i]);
            AF_EXPECT(0);
        }
    }
}

/* Leap year 2004: Feb 29 is DOY 60, Dec 31 is DOY 366; a 7-digit DATE lost its leading zero. */
static void test_ecosys_leap_and_missing(void)
{
    const char *p = put("01010" "2004dc",
        "     DOY     DATE          ECO_GPP         SOC_1\n"
        "   1.000  1012004   0.1000000E+001  0.5000000E+002\n"
        "  59.000 28022004   0.3000000E+001  -9999\n"
        "  60.000 29022004  -0.9999000E+004  0.5100000E+002\n"
        "  61.000 01032004   0.1000000E+002  NaN\n"
        " 366.000 31122004   0.1500000E+002  0.6000000E+002\n");
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_ecosys_read(p, &t, err));
    AF_EXPECT(t.ncols == 2 && t.nrows == 5);
    AF_EXPECT(row_value(&t, 2004, 1, "ECO_GPP") == 1.0);
    AF_EXPECT(row_value(&t, 2004, 59, "ECO_GPP") == 3.0);
    AF_EXPECT(isnan(row_value(&t, 2004, 59, "SOC_1")));
    AF_EXPECT(isnan(row_value(&t, 2004, 60, "ECO_GPP")));
    AF_EXPECT(row_value(&t, 2004, 60, "SOC_1") == 51.0);
    AF_EXPECT(isnan(row_value(&t, 2004, 61, "SOC_1")));
    AF_EXPECT(row_value(&t, 2004, 366, "ECO_GPP") == 15.0);
    /* Cumulative: day 1 its own value; the hole on day 60 spoils 60 and 61; day 59 follows a gap (2..58). */
    af_models_spec sp;
    memset(&sp, 0, sizeof sp);
    int nt = 0, cols[1] = { af_model_table_column(&t, "ECO_GPP") };
    AF_TEST_PASS(af__models_parse_expr("ECO_GPP", sp.terms, &nt, err));
    sp.nterms = nt;
    sp.cumulative = 1;
    sp.conv.scale = 1;
    double out[367];
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2004, out, err));
    AF_EXPECT(out[1] == 1.0);
    AF_EXPECT(isnan(out[2]) && isnan(out[59]) && isnan(out[60]) && isnan(out[61]) && isnan(out[366]));
    /* annual = last on SOC_1: Dec 31 value (60) on every day; delta: 60 - 50 = 10. */
    cols[0] = af_model_table_column(&t, "SOC_1");
    sp.cumulative = 0;
    sp.annual = AF_ANNUAL_LAST;
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2004, out, err));
    AF_EXPECT(out[1] == 60.0 && out[200] == 60.0 && out[366] == 60.0 && isnan(out[0]));
    sp.annual = AF_ANNUAL_DELTA;
    sp.sign_flip = 1;
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2004, out, err));
    AF_EXPECT(out[1] == -10.0 && out[366] == -10.0);
    af_model_table_dispose(&t);
}

/* A running total resets on day 1 of each year: day 1 is its own value, not a difference. */
static void test_cumulative_reset_daycent(void)
{
    const char *p = put("nflux.out",
        "time dayofyr nit_N2O-N dnit_N2O-N CUM-N2O(gN/ha)\n"
        "2003.92 364 1.0 2.0 900.0\n"
        "2003.92 365 1.5 2.5 904.0\n"
        "2004.00 1 0.5 0.25 0.75\n"
        "2004.00 2 1.0 1.0 2.75\n");
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_daycent_read(p, 0, &t, err));
    af_models_spec sp;
    memset(&sp, 0, sizeof sp);
    int cols[2];
    AF_TEST_PASS(af__models_parse_expr("CUM-N2O(gN/ha)", sp.terms, &sp.nterms, err));
    cols[0] = af_model_table_column(&t, "CUM-N2O(gN/ha)");
    sp.cumulative = 1;
    sp.conv.scale = 1e-4; /* g N ha-1 -> g N m-2 */
    double out[367];
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2004, out, err));
    AF_EXPECT_NEAR(out[1], 0.75e-4, 1e-18);
    AF_EXPECT_NEAR(out[2], 2.0e-4, 1e-18);
    AF_EXPECT(isnan(out[3]));
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2003, out, err));
    AF_EXPECT(isnan(out[364])); /* day 363 absent */
    AF_EXPECT_NEAR(out[365], 4.0e-4, 1e-18);
    /* nit + dnit, no differencing */
    sp.cumulative = 0;
    AF_TEST_PASS(af__models_parse_expr("nit_N2O-N + dnit_N2O-N", sp.terms, &sp.nterms, err));
    cols[0] = af_model_table_column(&t, "nit_N2O-N");
    cols[1] = af_model_table_column(&t, "dnit_N2O-N");
    AF_TEST_PASS(af__models_derive_year(&t, cols, &sp, 2004, out, err));
    AF_EXPECT_NEAR(out[1], 0.75e-4, 1e-18);
    AF_EXPECT_NEAR(out[2], 2.0e-4, 1e-18);
    af_model_table_dispose(&t);
}

static void test_expressions(void)
{
    af_models_term t[AF_MODELS_MAX_TERMS];
    int n = 0;
    AF_TEST_PASS(af__models_parse_expr("|ECO_RA| + ECO_RH", t, &n, err));
    AF_EXPECT(n == 2 && t[0].abs && t[0].sign == 1 && !strcmp(t[0].name, "ECO_RA") && !t[1].abs && !strcmp(t[1].name, "ECO_RH"));
    AF_TEST_PASS(af__models_parse_expr("ECO_RA+ECO_RH", t, &n, err));
    AF_EXPECT(n == 2 && !strcmp(t[1].name, "ECO_RH"));
    AF_TEST_PASS(af__models_parse_expr("-CO2_FLUX", t, &n, err));
    AF_EXPECT(n == 1 && t[0].sign == -1);
    AF_TEST_PASS(af__models_parse_expr("NPP - CO2resp", t, &n, err));
    AF_EXPECT(n == 2 && t[1].sign == -1 && !strcmp(t[1].name, "CO2resp"));
    AF_TEST_PASS(af__models_parse_expr("nit_N2O-N", t, &n, err));
    AF_EXPECT(n == 1 && !strcmp(t[0].name, "nit_N2O-N"));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "a minus needs spaces", af__models_parse_expr("A -B", t, &n, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "expected a column name", af__models_parse_expr("A +", t, &n, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "expected a column name", af__models_parse_expr("|A", t, &n, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "expected a column name", af__models_parse_expr("", t, &n, err));
    AF_TEST_FAILS_WITH(AF_ECONFIG, "more than 8 terms", af__models_parse_expr("a+b+c+d+e+f+g+h+i", t, &n, err));
}

static void test_ecosys_errors(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    const char *h = "DOY DATE ECO_GPP ECO_RA\n";
    char buf[512];
#define ECO_BAD(row, needle)                                                     \
    do {                                                                         \
        snprintf(buf, sizeof buf, "%s   1.000 01012003 0.1E+001 0.2E+001\n%s", h, row); \
        AF_TEST_FAILS_WITH(AF_EFORMAT, needle, af_ecosys_read(put("bad", buf), &t, err)); \
    } while (0)
    ECO_BAD("   2.000 03012003 0.1E+001 0.2E+001\n", "bad:3: column 2 (DATE): '03012003' is day 3 of 2003, but DOY says '2.000'");
    ECO_BAD("   2.000 32012003 0.1E+001 0.2E+001\n", "bad:3: column 2 (DATE): '32012003' is not a DDMMYYYY date");
    ECO_BAD("   1.500 01012003 0.1E+001 0.2E+001\n", "bad:3: column 1 (DOY): '1.500' is not a day of year");
    ECO_BAD("   2.000 02012003 0.1E+001\n", "bad:3: 3 fields, expected 4");
    ECO_BAD("   2.000 02012003 0.1E+001 0.2E+001 7\n", "bad:3: 5 fields, expected 4");
    ECO_BAD("   2.000 02012003 0.12E+0x 0.2E+001\n", "bad:3: column 3 (ECO_GPP): '0.12E+0x' is not a number");
    ECO_BAD("   2.000 02012003 0.1E+001 *********\n", "bad:3: column 4 (ECO_RA): '*********' is not a number");
    ECO_BAD("   1.000 01012004 0.1E+001 0.2E+001\n", "one year per file");
    ECO_BAD("   1.000 01012003 0.1E+001 0.2E+001\n", "does not follow day 1");
    ECO_BAD("   60.000 29022003 0.1E+001 0.2E+001\n", "not a DDMMYYYY date");
#undef ECO_BAD
    AF_TEST_FAILS_WITH(AF_EFORMAT, "expected header 'DOY DATE", af_ecosys_read(put("hdr", "DAY DATE X\n"), &t, err));
    /* more columns than the parsers take */
    char *wide = malloc(AF_MODELS_MAX_COLS * 8 + 64);
    size_t o = (size_t)sprintf(wide, "DOY DATE");
    for (int i = 0; i < AF_MODELS_MAX_COLS; i++) o += (size_t)sprintf(wide + o, " V%d", i);
    sprintf(wide + o, "\n");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "wide:1: more than 1024 columns", af_ecosys_read(put("wide", wide), &t, err));
    wide[0] = 't'; /* "tOY DATE ..." as a DayCent header: same limit */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "wide.out:1: more than 1024 columns", af_daycent_read(put("wide.out", wide), 0, &t, err));
    free(wide);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "empty file", af_ecosys_read(put("empty", ""), &t, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cannot open Ecosys file", af_ecosys_read("/nonexistent/x", &t, err));
}

static void test_daycent_headerless_layers(void)
{
    const char *soils = put("soils.in",
        "0.0 2.0 1.3 0.3 0.1 0.8 0.1 0.4 0.2 0.02 0.0 0.1 6.5\n"
        "2.0 5.0 1.3 0.3 0.1 0.8 0.1 0.4 0.2 0.02 0.0 0.1 6.5\n\n"
        "5.0 10.0 1.3 0.3 0.1 0.8 0.1 0.4 0.2 0.02 0.0 0.1 6.5  extra\n");
    int nl = 0;
    AF_TEST_PASS(af_daycent_soils_layers(soils, &nl, err));
    AF_EXPECT(nl == 3);
    const char *p = put("soiltavg.out",
        "  2004.0000   1   -1.50   0.25   2.00\n"
        "  2004.1667  60    3.00   4.00   5.00\n"
        "  2004.9167 366    6.00   7.00   8.00\n");
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_daycent_read(p, nl, &t, err));
    AF_EXPECT(t.ncols == 3 && t.nrows == 3);
    AF_EXPECT(row_value(&t, 2004, 1, "layer1") == -1.5);
    AF_EXPECT(row_value(&t, 2004, 60, "layer2") == 4.0);
    AF_EXPECT(row_value(&t, 2004, 366, "layer3") == 8.0);
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soiltavg.out:1: no header and no layer count", af_daycent_read(p, 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soiltavg.out:1: 5 fields, expected 6", af_daycent_read(p, 4, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soils.in:2: 12 fields, expected 13",
        af_daycent_soils_layers(put("soils.in", "0 2 1.3 .3 .1 .8 .1 .4 .2 .02 0 .1 6.5\n0 2 1.3 .3 .1 .8 .1 .4 .2 .02 0 .1\n"), &nl, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soils.in:1: column 3: 'x'",
        af_daycent_soils_layers(put("soils.in", "0 2 x .3 .1 .8 .1 .4 .2 .02 0 .1 6.5\n"), &nl, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "no soil layers", af_daycent_soils_layers(put("soils.in", "\n"), &nl, err));
}

/* dc_sip.csv: trailing commas; DayCent 2017 writes NEE where later builds write NEP. */
static void test_daycent_csv_versions(void)
{
    const char *a = put("dc_sip.csv", "time,dayofyr,evapdly,NPP,NEP,\n2003.00,1,0.10,2.5,1.25,\n2003.00,2,0.20,3.0,-0.5,\n");
    const char *b = put("dc_sip2017.csv", "time,dayofyr,evapdly,NPP,NEE,\n2003.00,1,0.30,2.5,0.75,\n");
    af_model_table t, u;
    memset(&t, 0, sizeof t);
    memset(&u, 0, sizeof u);
    AF_TEST_PASS(af_daycent_read(a, 0, &t, err));
    AF_TEST_PASS(af_daycent_read(b, 0, &u, err));
    AF_EXPECT(t.ncols == 3 && u.ncols == 3);
    int ct = af_daycent_column(&t, "NEP"), cu = af_daycent_column(&u, "NEP");
    AF_EXPECT(ct == 2 && cu == 2 && af_daycent_column(&t, "NEE") == 2);
    AF_EXPECT(af_model_table_at(&t, 1, (size_t)ct) == -0.5 && af_model_table_at(&u, 0, (size_t)cu) == 0.75);
    AF_EXPECT(af_daycent_column(&t, "nonesuch") == -1);
    AF_EXPECT(!strcmp(af_daycent_units("dc_sip.csv", "NEE"), "g C m-2"));
    AF_EXPECT(!strcmp(af_daycent_units("dc_sip.csv", "evapdly"), "cm"));
    AF_EXPECT(!strcmp(af_daycent_units("nflux.out", "nit_N2O-N"), "g N ha-1 d-1"));
    AF_EXPECT(!strcmp(af_daycent_units("summary.out", "CO2resp"), "g C ha-1 d-1"));
    AF_EXPECT(!strcmp(af_daycent_units("vswc.out", "layer4"), "m3 m-3"));
    AF_EXPECT(af_daycent_units("summary.out", "CH4") == NULL);
    AF_EXPECT(!strcmp(af_ecosys_units("TMAX_SOIL_3"), "degC") && af_ecosys_units("NH4_1") == NULL);
    af_model_table_dispose(&t);
    af_model_table_dispose(&u);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dc_sip.csv:3: 3 fields, expected 4",
        af_daycent_read(put("dc_sip.csv", "time,dayofyr,a,b,\n2003.00,1,1,2,\n2003.00,2,1,\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dc_sip.csv:2: 5 fields, expected 4",
        af_daycent_read(put("dc_sip.csv", "time,dayofyr,a,b,\n2003.00,1,1,2,3,\n"), 0, &t, err));
}

/* harvest.csv: a text column is fine until a feature uses it; annual = events sums a year's rows. */
static void test_daycent_harvest_events(void)
{
    const char *p = put("harvest.csv",
        "time,dayofyr,crpval,cgrain,\n2003.75,280,C6,410.5,\n2005.75,280,SYBN,120.0,\n2005.83,300,SYBN,5.5,\n");
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_PASS(af_daycent_read(p, 0, &t, err));
    int c = af_daycent_column(&t, "cgrain");
    AF_TEST_PASS(af_model_table_require(&t, c, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "harvest.csv:2: column 'crpval': 'C6' is not a number",
                       af_model_table_require(&t, af_daycent_column(&t, "crpval"), err));
    af_models_spec sp;
    memset(&sp, 0, sizeof sp);
    AF_TEST_PASS(af__models_parse_expr("cgrain", sp.terms, &sp.nterms, err));
    sp.annual = AF_ANNUAL_EVENTS;
    sp.conv.scale = 1;
    double out[367];
    AF_TEST_PASS(af__models_derive_year(&t, &c, &sp, 2005, out, err));
    AF_EXPECT(out[1] == 125.5 && out[365] == 125.5 && isnan(out[366]));
    AF_TEST_PASS(af__models_derive_year(&t, &c, &sp, 2004, out, err));
    AF_EXPECT(out[1] == 0.0 && out[366] == 0.0);
    af_model_table_dispose(&t);
}

static void test_daycent_errors(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    /* soiln.out-style rows with more values than labels are normal */
    AF_TEST_PASS(af_daycent_read(put("soiln.out", "time dayofyr ammonium NO3_ppm[0]\n2003.00 1 1.5 2.5 9 9 9\n"), 0, &t, err));
    AF_EXPECT(t.nrows == 1 && row_value(&t, 2003, 1, "NO3_ppm[0]") == 2.5);
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: 3 fields, expected 4",
        af_daycent_read(put("summary.out", "time dayofyr tmax tmin\n2003.00 1 5 1\n2003.00 2 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:2: column 2 (dayofyr): '366' is not a day of year 2003",
        af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.92 366 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:2: column 1 (time): '2003.x' is not a number",
        af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.x 3 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "header lacks column 'time'",
        af_daycent_read(put("summary.out", "year dayofyr tmax\n2003.00 3 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "header lacks column 'dayofyr'",
        af_daycent_read(put("summary.out", "time doy tmax\n2003.00 3 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "empty file", af_daycent_read(put("summary.out", "\n\n"), 0, &t, err));
    /* a bad number in a used column names line, column and text */
    AF_TEST_PASS(af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.00 1 5\n2003.00 2 0.5E+0q\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: column 'tmax': '0.5E+0q' is not a number",
                       af_model_table_require(&t, 0, err));
    af_model_table_dispose(&t);
    /* the same date twice: an error when read, naming both lines, in any order */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:4: duplicate day 1 of 2003: line 2 has the same time and dayofyr",
        af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.00 1 5\n2003.00 2 6\n2003.00 1 6\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dc_sip.csv:3: duplicate day 2 of 2003: line 2",
        af_daycent_read(put("dc_sip.csv", "time,dayofyr,NPP,\n2003.00,2,1,\n2003.01,2,1,\n"), 0, &t, err));
    /* the derive step still refuses a table with two rows for one day (built by hand) */
    AF_TEST_PASS(af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.00 1 5\n2003.00 2 6\n"), 0, &t, err));
    t.doy[1] = 1;
    af_models_spec sp;
    memset(&sp, 0, sizeof sp);
    AF_TEST_PASS(af__models_parse_expr("tmax", sp.terms, &sp.nterms, err));
    sp.conv.scale = 1;
    int c = 0;
    double out[367];
    AF_TEST_FAILS_WITH(AF_EFORMAT, "two rows for year 2003 day 1", af__models_derive_year(&t, &c, &sp, 2003, out, err));
    af_model_table_dispose(&t);
    /* a UTF-8 BOM before the header is not part of the first column's name */
    AF_TEST_PASS(af_daycent_read(put("summary.out", "\xEF\xBB\xBFtime dayofyr tmax\n2003.00 1 5\n"), 0, &t, err));
    AF_EXPECT(t.nrows == 1 && row_value(&t, 2003, 1, "tmax") == 5);
    af_model_table_dispose(&t);
    /* -9999 and -6999 in any spelling are missing, as in the Ecosys, tower, chamber and table readers
     * (a site's N2O_FLUX used to become -1.9998 g N m-2 d-1 every day) */
    AF_TEST_PASS(af_daycent_read(put("nflux.out", "time dayofyr nit_N2O-N dnit_N2O-N\n2003.00 1 -9999 0.25\n"
                                     "2003.00 2 -9999.00 -6999\n2003.00 3 1.5E-01 -9.999E+03\n"), 0, &t, err));
    AF_EXPECT(t.nrows == 3);
    AF_EXPECT(isnan(row_value(&t, 2003, 1, "nit_N2O-N")) && row_value(&t, 2003, 1, "dnit_N2O-N") == 0.25);
    AF_EXPECT(isnan(row_value(&t, 2003, 2, "nit_N2O-N")) && isnan(row_value(&t, 2003, 2, "dnit_N2O-N")));
    AF_EXPECT(row_value(&t, 2003, 3, "nit_N2O-N") == 0.15 && isnan(row_value(&t, 2003, 3, "dnit_N2O-N")));
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cannot open DayCent file", af_daycent_read("/nonexistent/x.out", 0, &t, err));
}

/* Found by tests/fuzz (fuzz_daycent): a time outside any year overflowed the int year. */
static void test_daycent_time_range(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:2: column 1 (time): '1e300' is not a year 0..9999",
        af_daycent_read(put("summary.out", "time dayofyr tmax\n1e300 1 5\n"), 0, &t, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: column 1 (time): '-1.0' is not a year 0..9999",
        af_daycent_read(put("summary.out", "time dayofyr tmax\n2003.00 1 5\n-1.0 2 5\n"), 0, &t, err));
    AF_TEST_PASS(af_daycent_read(put("summary.out", "time dayofyr tmax\n9999.99 365 5\n"), 0, &t, err));
    AF_EXPECT(t.nrows == 1 && t.year[0] == 9999 && t.doy[0] == 365);
    af_model_table_dispose(&t);
}


/* A NUL byte in a model output is an error naming file, line and byte (a C string reader stopped the
 * line there and read the rest of it as absent). */
static void test_nul_bytes(void)
{
    af_model_table t;
    memset(&t, 0, sizeof t);
    static const char eco[] = "DOY DATE ECO_GPP\n   1.000 01012003 0.1E+001\n   2.000 02012003 0.1\0E+001\n";
    AF_TEST_FAILS_WITH(AF_EFORMAT, "nul:3: NUL byte at byte 22 of the line",
                       af_ecosys_read(put_bytes("nul", eco, sizeof eco - 1), &t, err));
    static const char eco_hdr[] = "DOY DATE ECO_GPP\0 X\n   1.000 01012003 0.1E+001\n";
    AF_TEST_FAILS_WITH(AF_EFORMAT, "nul:1: NUL byte at byte 17",
                       af_ecosys_read(put_bytes("nul", eco_hdr, sizeof eco_hdr - 1), &t, err));
    static const char dc[] = "time dayofyr tmax\n2003.00 1 5\n2003.00 2 5\0 7\n";
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:3: NUL byte at byte 12",
                       af_daycent_read(put_bytes("summary.out", dc, sizeof dc - 1), 0, &t, err));
    static const char csv[] = "time,dayofyr,NPP,\n\0" "2003.00,1,1,\n";
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dc_sip.csv:2: NUL byte at byte 1",
                       af_daycent_read(put_bytes("dc_sip.csv", csv, sizeof csv - 1), 0, &t, err));
    static const char soils[] = "0 10 1.5 0.3 0.1 0.7 0.4 0.2 0.01 0.1 0.01 0.01 6.5\0\n";
    int nl = 0;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soils.in:1: NUL byte at byte 52",
                       af_daycent_soils_layers(put_bytes("soils.in", soils, sizeof soils - 1), &nl, err));
    /* the chunked reader checks too, in the rows it reaches */
    af_dc_cursor cur;
    memset(&cur, 0, sizeof cur);
    static const char dc2[] = "time dayofyr tmax\n2003.00 1 5\n2004.00 1 5\n2004.00 2 5\0\n";
    const char *p = put_bytes("summary.out", dc2, sizeof dc2 - 1);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2003, 2003, &t, err));
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:4: NUL byte at byte 12",
                       af__daycent_read_through(p, 0, &cur, 2004, 2004, &t, err));
}

/* Rows of table a and b are the same (dates, values bit for bit, NaN alike). */
static int same_rows(const af_model_table *a, size_t a0, const af_model_table *b, size_t b0, size_t n)
{
    if (a->ncols != b->ncols || a0 + n > a->nrows || b0 + n > b->nrows) return 0;
    for (size_t r = 0; r < n; r++) {
        if (a->year[a0 + r] != b->year[b0 + r] || a->doy[a0 + r] != b->doy[b0 + r]) return 0;
        if (memcmp(a->v + (a0 + r) * a->ncols, b->v + (b0 + r) * b->ncols, a->ncols * sizeof *a->v)) return 0;
    }
    return 1;
}

/* A multi-year file read year by year through a cursor: each read holds its year's rows (the first also
 * the years before, the last the years after), and together they are the whole file's rows. */
static void test_daycent_read_through(void)
{
    af_model_table whole, t;
    af_dc_cursor cur;
    memset(&whole, 0, sizeof whole);
    memset(&t, 0, sizeof t);
    memset(&cur, 0, sizeof cur);
    const char *p = put("nflux.out", "time dayofyr nit_N2O-N\n2001.00 365 0.5\n2002.00 1 1.25\n2002.00 2 -9999\n"
                                     "\n2003.00 1 3.5E-01\n2003.00 2 NaN\n2004.00 1 4.5\n2005.00 1 5.5\n");
    AF_TEST_PASS(af_daycent_read(p, 0, &whole, err));
    AF_EXPECT(whole.nrows == 7);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2002, 2002, &t, err));
    AF_EXPECT(t.nrows == 3 && same_rows(&t, 0, &whole, 0, 3)); /* spin-up 2001 and 2002 */
    AF_EXPECT(cur.lineno == 5 && cur.done_year == 2002 && !cur.whole); /* line 6 is the first of 2003 */
    af_model_table_dispose(&t);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2003, 2003, &t, err));
    AF_EXPECT(t.nrows == 2 && same_rows(&t, 0, &whole, 3, 2) && !strcmp(t.names[0], "nit_N2O-N"));
    AF_EXPECT(cur.lineno == 7);
    af_model_table_dispose(&t);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2004, 2004, &t, err));
    AF_EXPECT(t.nrows == 1 && same_rows(&t, 0, &whole, 5, 1));
    af_model_table_dispose(&t);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2006, 2006, &t, err)); /* a year the file lacks */
    AF_EXPECT(t.nrows == 1 && same_rows(&t, 0, &whole, 6, 1));
    af_model_table_dispose(&t);
    /* past the end: the header's columns and no rows */
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2007, 1 << 30, &t, err));
    AF_EXPECT(t.nrows == 0 && t.ncols == 1 && cur.done_year == 1 << 30);
    af_model_table_dispose(&t);
    /* a year already read: start over from the top */
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2003, 2003, &t, err));
    AF_EXPECT(t.nrows == 5 && same_rows(&t, 0, &whole, 0, 5));
    af_model_table_dispose(&t);
    af_model_table_dispose(&whole);

    /* rows out of date order: this and every later read takes the whole file */
    memset(&cur, 0, sizeof cur);
    p = put("summary.out", "time dayofyr tmax\n2002.00 1 1\n2003.00 1 2\n2002.00 2 3\n");
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2002, 2002, &t, err));
    AF_EXPECT(t.nrows == 1 && !cur.whole);
    af_model_table_dispose(&t);
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2003, 2003, &t, err));
    AF_EXPECT(t.nrows == 3 && cur.whole && row_value(&t, 2002, 2, "tmax") == 3);
    af_model_table_dispose(&t);

    /* header-less layer file: line 1 is a row, read once; line numbers stay those of the file */
    memset(&cur, 0, sizeof cur);
    p = put("soiltavg.out", "2002.00 1 1.5 2.5\n2003.00 1 3.5 4.5\n2003.00 2 x 5.5\n2003.00 2 6 7\n");
    AF_TEST_PASS(af__daycent_read_through(p, 2, &cur, 2002, 2002, &t, err));
    AF_EXPECT(t.nrows == 1 && row_value(&t, 2002, 1, "layer2") == 2.5);
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soiltavg.out:4: duplicate day 2 of 2003: line 3",
                       af__daycent_read_through(p, 2, &cur, 2003, 2003, &t, err));
    memset(&cur, 0, sizeof cur);
    p = put("soiltavg.out", "2002.00 1 1.5 2.5\n2003.00 1 3.5 4.5\n2003.00 2 x 5.5\n");
    AF_TEST_PASS(af__daycent_read_through(p, 2, &cur, 2002, 2002, &t, err));
    af_model_table_dispose(&t);
    AF_TEST_PASS(af__daycent_read_through(p, 2, &cur, 2003, 2003, &t, err));
    AF_EXPECT(t.nrows == 2 && row_value(&t, 2003, 1, "layer1") == 3.5);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "soiltavg.out:3: column 'layer1': 'x' is not a number",
                       af_model_table_require(&t, 0, err));
    af_model_table_dispose(&t);
    /* a malformed row of a later year fails when its year is read, with its own line number */
    memset(&cur, 0, sizeof cur);
    p = put("summary.out", "time dayofyr tmax\n2002.00 1 1\n2003.00 1 2\n2003.00 2\n");
    AF_TEST_PASS(af__daycent_read_through(p, 0, &cur, 2002, 2002, &t, err));
    af_model_table_dispose(&t);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "summary.out:4: 2 fields, expected 3",
                       af__daycent_read_through(p, 0, &cur, 2003, 2003, &t, err));
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    AF_RUN(test_fortran_numbers);
    AF_RUN(test_ecosys_leap_and_missing);
    AF_RUN(test_daycent_time_range);
    AF_RUN(test_cumulative_reset_daycent);
    AF_RUN(test_expressions);
    AF_RUN(test_ecosys_errors);
    AF_RUN(test_daycent_headerless_layers);
    AF_RUN(test_daycent_csv_versions);
    AF_RUN(test_daycent_harvest_events);
    AF_RUN(test_daycent_errors);
    AF_RUN(test_nul_bytes);
    AF_RUN(test_daycent_read_through);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return AF_TEST_END();
}
