/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tower.c: libFuzzer harness for the flux tower parser (src/sources/
 * tower_file.c, tower_daily.c): the input is opened as AmeriFlux BASE and as
 * FLUXNET FULLSET; when it opens, columns are looked up by name and the first
 * data columns are aggregated to days under each rule (mean with a QC column,
 * CO2 flux with a minus column and coverage, strict sum).
 * Invariants: record starts strictly increase; a name finds a column of that
 * name; coverage and HH/HR QC shares lie in 0..1; a strict day is complete; days
 * outside the file are missing; and every daily value, coverage and QC equals a
 * reference recomputed here from the raw columns by the documented rules.
 */
#include <math.h>
#include <strings.h>

#include "agroflux/tower.h"
#include "fuzz_common.h"

#define MAX_DAYS 400

/* Floor division of minutes into days, written independently of tower_impl.h. */
static long day_of(long long minute)
{
    long long d = minute / 1440;
    return (long)(minute % 1440 < 0 ? d - 1 : d);
}

static int same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

/*
 * The reference: the three variables of check_daily recomputed from the raw columns
 * (af_tower_read_columns) by the documented rules, record order kept so the sums are
 * bit-identical. var 0: strict mean, QC from c2; var 1: (c2 - c3) CO2 flux, coverage
 * >= 0.5 (DD: the day's value as written); var 2: strict sum, QC from c1.
 */
static void check_reference(af_tower_file *tf, const char *const name[3], long epoch0, int ndays,
                            const float *value, const float *cov, const float *qc)
{
    af_error err = AF_ERROR_INIT;
    int col[3];
    for (int k = 0; k < 3; k++) FZ_ASSERT(af_tower_column(tf, name[k], &col[k], &err) == AF_OK);
    long n = af_tower_nrecords(tf);
    double *x = malloc((size_t)n * 3 * sizeof *x);
    FZ_ASSERT(x != NULL);
    FZ_ASSERT(af_tower_read_columns(tf, col, 3, x, &err) == AF_OK);
    int dd = af_tower_resolution(tf) == AF_TOWER_RES_DD;
    int expected = dd ? 1 : 1440 / af_tower_step_minutes(tf);
    static double sum[MAX_DAYS * 3], ddqc[MAX_DAYS * 3];
    static int cnt[MAX_DAYS * 3], good[MAX_DAYS * 3];
    for (int o = 0; o < ndays * 3; o++) { sum[o] = 0.0; ddqc[o] = NAN; cnt[o] = good[o] = 0; }
    for (long r = 0; r < n; r++) {
        long d = day_of(af_tower_record_start(tf, r)) - epoch0;
        if (d < 0 || d >= ndays) continue;
        const double *c = x + r * 3;
        double v[3] = { c[0], c[1] - c[2], c[2] }, q[3] = { c[1], NAN, c[0] };
        for (int k = 0; k < 3; k++) {
            int o = (int)d * 3 + k;
            if (!isnan(v[k])) { sum[o] += v[k]; cnt[o]++; }
            if (k != 1 && dd) ddqc[o] = q[k];
            else if (k != 1 && !isnan(q[k]) && q[k] >= 0.0 && q[k] < 2.0) good[o]++;
        }
    }
    for (int o = 0; o < ndays * 3; o++) {
        int k = o % 3;
        double c = (double)cnt[o] / expected, want = NAN;
        int keep = k == 1 ? (cnt[o] > 0 && c >= 0.5) : cnt[o] == expected;
        if (keep && (dd || k == 2)) want = sum[o];
        else if (keep && k == 0) want = sum[o] / cnt[o];
        else if (keep) want = sum[o] / cnt[o] * AF_TOWER_CO2FLUX_FACTOR;
        FZ_ASSERT(same(value[o], (float)want));
        FZ_ASSERT(cov[o] == (float)c);
        if (k == 1) FZ_ASSERT(isnan(qc[o]));
        else FZ_ASSERT(same(qc[o], dd ? (float)ddqc[o] : (float)((double)good[o] / expected)));
    }
    free(x);
}

static void check_daily(af_tower_file *tf)
{
    af_error err = AF_ERROR_INIT;
    int nc = af_tower_ncolumns(tf);
    af_tower_res res = af_tower_resolution(tf);
    if (nc < 2 || (res != AF_TOWER_RES_HH && res != AF_TOWER_RES_HR && res != AF_TOWER_RES_DD)) return;
    const char *c1 = af_tower_column_name_ref(tf, 1);
    const char *c2 = af_tower_column_name_ref(tf, nc > 2 ? 2 : 1);
    const char *c3 = af_tower_column_name_ref(tf, nc > 3 ? 3 : 1);
    af_tower_var_spec vars[3] = {
        { c1, c2, NULL, AF_TOWER_AGG_MEAN, AF_TOWER_GAP_DEFAULT, 0.0 },
        { c2, NULL, c3, AF_TOWER_AGG_CO2FLUX_MEAN, AF_TOWER_GAP_COVERAGE, 0.5 },
        { c3, c1, NULL, AF_TOWER_AGG_SUM, AF_TOWER_GAP_STRICT, 0.0 },
    };
    long first = 0;
    int span = 0;
    af_tower_span(tf, &first, &span);
    FZ_ASSERT(span >= 1);
    int ndays = span + 2 > MAX_DAYS ? MAX_DAYS : span + 2;
    long epoch0 = first - 1;
    float value[MAX_DAYS * 3], cov[MAX_DAYS * 3], qc[MAX_DAYS * 3];
    if (af_tower_daily(tf, vars, 3, epoch0, ndays, value, cov, qc, &err) != AF_OK) return;
    const char *const names[3] = { c1, c2, c3 };
    check_reference(tf, names, epoch0, ndays, value, cov, qc);
    int hh = res != AF_TOWER_RES_DD;
    for (int d = 0; d < ndays; d++) {
        for (int k = 0; k < 3; k++) {
            int o = d * 3 + k;
            FZ_ASSERT(cov[o] >= 0.0f && cov[o] <= 1.0f);
            if (hh) FZ_ASSERT(isnan(qc[o]) ? k == 1 : (qc[o] >= 0.0f && qc[o] <= 1.0f));
            if (k == 2 && !isnan(value[o])) FZ_ASSERT(cov[o] == 1.0f);
            if (cov[o] == 0.0f) FZ_ASSERT(isnan(value[o]));
        }
    }
    /* the day before the first record is outside the file */
    for (int k = 0; k < 3; k++) FZ_ASSERT(isnan(value[k]) && cov[k] == 0.0f);
}

static void one_kind(const char *path, af_tower_kind kind)
{
    af_error err = AF_ERROR_INIT;
    af_tower_file *tf = NULL;
    if (af_tower_file_open(path, kind, &tf, &err) != AF_OK) {
        fz_rejected(kind == AF_TOWER_BASE ? "BASE" : "FULLSET", &err);
        FZ_ASSERT(tf == NULL && err.code != AF_OK && err.msg[0] != '\0');
        return;
    }
    long n = af_tower_nrecords(tf);
    FZ_ASSERT(n >= 1);
    for (long i = 1; i < n; i++) FZ_ASSERT(af_tower_record_start(tf, i) > af_tower_record_start(tf, i - 1));
    int nc = af_tower_ncolumns(tf);
    for (int i = 0; i < nc && i < 16; i++) {
        const char *name = af_tower_column_name_ref(tf, i);
        int col = -1;
        FZ_ASSERT(name != NULL);
        FZ_ASSERT(af_tower_column(tf, name, &col, &err) == AF_OK);
        FZ_ASSERT(col >= 0 && col <= i && !strcasecmp(af_tower_column_name_ref(tf, col), name));
    }
    int col;
    af_tower_column(tf, "TA", &col, &err);
    check_daily(tf);
    af_tower_file_destroy(&tf);
    FZ_ASSERT(tf == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    fz_write("tower.csv", data, size, path, sizeof path);
    one_kind(path, AF_TOWER_BASE);
    one_kind(path, AF_TOWER_FULLSET);
    return 0;
}
