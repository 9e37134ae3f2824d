/* SPDX-License-Identifier: MIT */
/*
 * test_tower_fixtures.c: agroflux/tower.h against the real fixtures in
 * $AF_FIXTURES (exit 77 = skip when absent). US-CRT BASE HH: daily TA, P,
 * SW_IN and FC for 2011-01-01/02 compared with values computed here from the
 * raw rows by a separate naive loop. FR-Pue FULLSET MM: the 322-column header
 * parsed by name and cells equal to the raw text's values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/calendar.h"
#include "agroflux/tower.h"

static char fixdir[512];

#define MAXF 400

/* Split line in place on commas (empty fields kept); strips the newline. */
static int split(char *line, char **f)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == ',' && n < MAXF) { *p = '\0'; f[n++] = p + 1; }
    return n;
}

static int find(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], name)) return i;
    return -1;
}

static void test_tower_fixture__us_crt_daily(void)
{
    char path[640];
    snprintf(path, sizeof path, "%s/AMF_US-CRT_BASE_HH_2-5.csv", fixdir);

    /* independent reference: naive read of the raw rows */
    enum { NV = 4 };
    const char *names[NV] = { "TA", "P", "SW_IN", "FC" };
    double sum[2][NV] = { { 0 } };
    int present[2][NV] = { { 0 } }, rows[2] = { 0, 0 };
    FILE *fp = fopen(path, "r");
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    static char line[65536];
    char *f[MAXF];
    int col[NV] = { -1, -1, -1, -1 }, have_header = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#') continue;
        int n = split(line, f);
        if (!have_header) {
            for (int k = 0; k < NV; k++) col[k] = find(f, n, names[k]);
            have_header = 1;
            continue;
        }
        int day = !strncmp(f[0], "20110101", 8) ? 0 : !strncmp(f[0], "20110102", 8) ? 1 : -1;
        if (day < 0) continue;
        rows[day]++;
        for (int k = 0; k < NV; k++) {
            double v = strtod(f[col[k]], NULL);
            if (v != -9999.0) { sum[day][k] += v; present[day][k]++; }
        }
    }
    fclose(fp);
    for (int k = 0; k < NV; k++) AF_EXPECT(col[k] >= 0);
    AF_EXPECT(rows[0] == 48 && rows[1] == 48);
    /* the fixture's FC really is partial (9 and 29 of 48 present): the coverage rule is exercised */
    AF_EXPECT(present[0][3] > 0 && present[0][3] < 48 && present[1][3] > 0 && present[1][3] < 48);

    af_tower_file *tf = NULL;
    AF_TEST_PASS(af_tower_file_open(path, AF_TOWER_BASE, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_HH);
    AF_EXPECT(af_tower_nrecords(tf) == 96);
    AF_EXPECT(af_tower_ncolumns(tf) == 36);
    af_date d0 = { 2011, 1, 1 };
    long e0 = af_date_to_epoch(d0), first = 0;
    int nd = 0;
    af_tower_span(tf, &first, &nd);
    AF_EXPECT(first == e0 && nd == 2);
    af_tower_var_spec vars[NV] = {
        { "TA", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "P", NULL, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "SW_IN", NULL, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { "FC", NULL, NULL, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
    };
    float val[2 * NV], cov[2 * NV], qc[2 * NV];
    AF_TEST_PASS(af_tower_daily(tf, vars, NV, e0, 2, val, cov, qc, err));
    for (int d = 0; d < 2; d++) {
        for (int k = 0; k < NV; k++) {
            double want;
            if (k == 1) want = present[d][k] == 48 ? sum[d][k] : NAN;                 /* P: sum, strict */
            else if (k == 3) want = sum[d][k] / present[d][k] * 1.03772448;           /* FC: coverage rule */
            else want = present[d][k] == 48 ? sum[d][k] / 48 : NAN;                   /* met: mean, strict */
            double got = val[d * NV + k];
            if (isnan(want)) AF_EXPECT(isnan(got));
            else AF_EXPECT_NEAR(got, want, 1e-6 * fmax(1.0, fabs(want)));
            AF_EXPECT_NEAR(cov[d * NV + k], present[d][k] / 48.0, 1e-7);
            AF_EXPECT(isnan(qc[d * NV + k]));
        }
    }
    /* spot values, derived with python3 from the raw rows (csv module, same rules):
     * TA 2011-01-01 mean 6.416562592854167; P 2011-01-01 sum 9.144; FC 2011-01-02
     * 29 records, mean 1.2259358082068963 -> x 1.03772448 = 1.272183... */
    AF_EXPECT_NEAR(val[0], 6.416562592854167, 1e-5);
    AF_EXPECT_NEAR(val[1], 9.144, 1e-5);
    AF_EXPECT_NEAR(val[NV + 3], 1.2259358082068963 * 1.03772448, 1e-5);
    af_tower_file_destroy(&tf);
}

static void test_tower_fixture__fr_pue_mm_header(void)
{
    char path[640];
    snprintf(path, sizeof path, "%s/FLX_FR-Pue_FLUXNET2015_FULLSET_MM_2007-2014_2-3.csv", fixdir);
    /* raw header and first data row */
    static char hline[65536], rline[65536];
    char *hf[MAXF], *rf[MAXF];
    FILE *fp = fopen(path, "r");
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    int ok = fgets(hline, sizeof hline, fp) && fgets(rline, sizeof rline, fp);
    fclose(fp);
    AF_EXPECT(ok);
    if (!ok) return;
    int nh = split(hline, hf), nr = split(rline, rf);
    AF_EXPECT(nh == 322 && nr == 322);

    af_tower_file *tf = NULL;
    AF_TEST_PASS(af_tower_file_open(path, AF_TOWER_FULLSET, &tf, err));
    if (!tf) return;
    AF_EXPECT(af_tower_ncolumns(tf) == 322);
    AF_EXPECT(af_tower_resolution(tf) == AF_TOWER_RES_MM);
    /* 96 months 2007-01..2014-12 (the fixtures README says 95: wc -l, no final newline) */
    AF_EXPECT(af_tower_nrecords(tf) == 96);
    af_date dec2014 = { 2014, 12, 1 };
    AF_EXPECT(af_tower_record_start(tf, 95) == (long long)af_date_to_epoch(dec2014) * 1440);
    af_date jan2007 = { 2007, 1, 1 };
    AF_EXPECT(af_tower_record_start(tf, 0) == (long long)af_date_to_epoch(jan2007) * 1440);
    const char *names[3] = { "NEE_VUT_REF", "GPP_NT_VUT_REF", "RECO_DT_VUT_REF" };
    int cols[3];
    for (int k = 0; k < 3; k++) {
        cols[k] = -1;
        AF_TEST_PASS(af_tower_column(tf, names[k], &cols[k], err));
        AF_EXPECT(cols[k] == find(hf, nh, names[k]));
        AF_EXPECT(cols[k] >= 0 && !strcmp(af_tower_column_name_ref(tf, cols[k]), names[k]));
    }
    if (cols[0] < 0 || cols[1] < 0 || cols[2] < 0) { af_tower_file_destroy(&tf); return; }
    double *data = malloc(sizeof(double) * 3 * (size_t)af_tower_nrecords(tf));
    AF_EXPECT(data != NULL);
    if (!data) { af_tower_file_destroy(&tf); return; }
    AF_TEST_PASS(af_tower_read_columns(tf, cols, 3, data, err));
    for (int k = 0; k < 3; k++) AF_EXPECT(data[k] == strtod(rf[cols[k]], NULL));
    /* known value from the raw text of row 2 (200701): NEE_VUT_REF = -0.730855 */
    AF_EXPECT(data[0] == -0.730855);
    free(data);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "'NEE_VUT_XYZ'", af_tower_column(tf, "NEE_VUT_XYZ", &cols[0], err));
    af_tower_file_destroy(&tf);
    /* the YY fixture has CR-only line endings: refused with a clear message */
    snprintf(path, sizeof path, "%s/FLX_FR-Pue_FLUXNET2015_FULLSET_YY_2007-2014_2-3.csv", fixdir);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "CR-only line endings", af_tower_file_open(path, AF_TOWER_FULLSET, &tf, err));
    AF_EXPECT(tf == NULL);
}

int main(void)
{
    const char *dir = getenv("AF_FIXTURES");
    if (!dir || !*dir) return 77;
    snprintf(fixdir, sizeof fixdir, "%s", dir);
    char probe[640];
    snprintf(probe, sizeof probe, "%s/AMF_US-CRT_BASE_HH_2-5.csv", fixdir);
    FILE *fp = fopen(probe, "r");
    if (!fp) return 77;
    fclose(fp);
    AF_RUN(test_tower_fixture__us_crt_daily);
    AF_RUN(test_tower_fixture__fr_pue_mm_header);
    return AF_TEST_END();
}
