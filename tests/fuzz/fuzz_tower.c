/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tower.c: libFuzzer harness for the flux tower parser (src/sources/
 * tower_file.c, tower_daily.c): the input is opened as AmeriFlux BASE and as
 * FLUXNET FULLSET; when it opens, columns are looked up by name and the first
 * data columns are aggregated to days under each rule (mean with a QC column,
 * CO2 flux with a minus column and coverage, strict sum).
 * Invariants: record starts strictly increase; a name finds a column of that
 * name; coverage and HH/HR QC shares lie in 0..1; a strict day is complete; days
 * outside the file are missing.
 */
#include <math.h>
#include <strings.h>

#include "agroflux/tower.h"
#include "fuzz_common.h"

#define MAX_DAYS 400

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
