/* SPDX-License-Identifier: MIT */
/*
 * fuzz_chamber.c: libFuzzer harness for the N2O chamber reader (src/sources/
 * tower_chamber.c): the input is read with the default options and with named
 * columns, another unit and min_hours 1; the first chambers are made daily over
 * 2002-12-30 .. 2004-01-03 (the years of the seeds).
 * Invariants: chamber ids are distinct and found again by name; a day has 0..24
 * valid hours and is missing when it has fewer than min_hours.
 */
#include <math.h>
#include <string.h>

#include "agroflux/calendar.h"
#include "agroflux/tower.h"
#include "fuzz_common.h"

#define NDAYS 370

static void one_read(const char *path, const af_chamber_opts *opts)
{
    af_error err = AF_ERROR_INIT;
    af_chamber_data *cd = NULL;
    if (af_chamber_read(path, opts, &cd, &err) != AF_OK) {
        fz_rejected(opts->id_column, &err);
        FZ_ASSERT(cd == NULL && err.code != AF_OK && err.msg[0] != '\0');
        return;
    }
    int n = af_chamber_count(cd);
    FZ_ASSERT(n >= 0);
    af_date d0 = { 2002, 12, 30 };
    long epoch0 = af_date_to_epoch(d0);
    for (int i = 0; i < n && i < 4; i++) {
        const char *id = af_chamber_id_ref(cd, i);
        int idx = -1;
        FZ_ASSERT(id != NULL && id[0] != '\0');
        FZ_ASSERT(af_chamber_find(cd, id, &idx, &err) == AF_OK && idx == i);
        float value[NDAYS];
        int nh[NDAYS];
        FZ_ASSERT(af_chamber_daily(cd, i, epoch0, NDAYS, value, nh, &err) == AF_OK);
        for (int d = 0; d < NDAYS; d++) {
            FZ_ASSERT(nh[d] >= 0 && nh[d] <= 24);
            if (nh[d] < opts->min_hours) FZ_ASSERT(isnan(value[d]));
        }
        af_chamber_flip_sign(value, NDAYS);
    }
    int idx;
    FZ_ASSERT(af_chamber_find(cd, "", &idx, &err) == AF_ENOTFOUND);
    af_chamber_data_destroy(&cd);
    FZ_ASSERT(cd == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    fz_write("chambers.csv", data, size, path, sizeof path);
    af_chamber_opts def = AF_CHAMBER_OPTS_INIT;
    one_read(path, &def);
    af_chamber_opts other = { 1, "id", "time", "value", AF_CHAMBER_NMOL_N2O_M2_S, 1 };
    one_read(path, &other);
    return 0;
}
