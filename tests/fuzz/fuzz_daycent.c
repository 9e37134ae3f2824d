/* SPDX-License-Identifier: MIT */
/*
 * fuzz_daycent.c: libFuzzer harness for the DayCent output parsers
 * (src/sources/daycent.c): the input is read as a whitespace .out file (header
 * or header-less with 3 soil layers), as a comma-separated dc_sip.csv, and as a
 * soils.in layer table; parsed columns are looked up (with the DayCent aliases),
 * checked for use and given their units.
 * Invariants: day of year in 1..365/366 of its year, no day twice in a row; no
 * value is a missing-value marker (-9999, -6999) or infinite; a column is usable
 * exactly when no cell of it was text; a name finds a column of that name; a
 * file read year by year through a cursor (af__daycent_read_through, as the
 * daycent source reads multi-year files) gives the whole read's rows.
 */
#include <string.h>

#include <math.h>

#include <limits.h>

#include "af_util.h"
#include "agroflux/calendar.h"
#include "agroflux/models.h"
#include "ecosys_impl.h"
#include "fuzz_common.h"

static void check_table(const af_model_table *t, const char *file)
{
    af_error err = AF_ERROR_INIT;
    for (size_t r = 0; r < t->nrows; r++) {
        FZ_ASSERT(t->doy[r] >= 1 && t->doy[r] <= (af_date_is_leap(t->year[r]) ? 366 : 365));
        if (r) FZ_ASSERT(t->year[r] != t->year[r - 1] || t->doy[r] != t->doy[r - 1]);
        for (size_t c = 0; c < t->ncols; c++) {
            double v = af_model_table_at(t, r, c);
            FZ_ASSERT(isnan(v) || !af_missing_value(v));
        }
    }
    for (size_t c = 0; c < t->ncols; c++) {
        int rc = af_model_table_require(t, (int)c, &err);
        FZ_ASSERT((rc == AF_OK) == (t->bad_line[c] == 0));
        int k = af_daycent_column(t, t->names[c]);
        FZ_ASSERT(k >= 0 && k <= (int)c && !strcmp(t->names[k], t->names[c]));
        (void)af_daycent_units(file, t->names[c]);
    }
    static const char *const names[] = { "NEP", "NEE", "CH4_oxid", "CH4", "N2Oflux", "time" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k = af_daycent_column(t, names[i]);
        FZ_ASSERT(k >= -1 && k < (int)t->ncols);
    }
}

/* Read the file again year by year from its first to its last year: the same rows, dates and values
 * (bit for bit) as the whole read w, unless rows out of date order made the cursor fall back. */
static void read_by_year(const char *path, int nlayers, const af_model_table *w)
{
    int y0 = INT_MAX, y1 = INT_MIN;
    for (size_t r = 0; r < w->nrows; r++) {
        if (w->year[r] < y0) y0 = w->year[r];
        if (w->year[r] > y1) y1 = w->year[r];
    }
    if (w->nrows == 0 || y1 - y0 > 40) return;
    af_dc_cursor cur;
    memset(&cur, 0, sizeof cur);
    size_t row = 0;
    for (int y = y0; y <= y1 && !cur.whole; y++) {
        af_error err = AF_ERROR_INIT;
        af_model_table t;
        memset(&t, 0, sizeof t);
        FZ_ASSERT(af__daycent_read_through(path, nlayers, &cur, y, y == y1 ? INT_MAX : y, &t, &err) == AF_OK);
        FZ_ASSERT(t.ncols == w->ncols);
        for (size_t r = 0; !cur.whole && r < t.nrows; r++, row++) {
            FZ_ASSERT(row < w->nrows && t.year[r] == w->year[row] && t.doy[r] == w->doy[row]);
            FZ_ASSERT(!memcmp(t.v + r * t.ncols, w->v + row * w->ncols, t.ncols * sizeof *t.v));
        }
        af_model_table_dispose(&t);
    }
    if (!cur.whole) FZ_ASSERT(row == w->nrows);
}

static void one_read(const uint8_t *data, size_t size, const char *file, int nlayers)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    af_model_table t;
    memset(&t, 0, sizeof t);
    fz_write(file, data, size, path, sizeof path);
    if (af_daycent_read(path, nlayers, &t, &err) == AF_OK) {
        check_table(&t, file);
        read_by_year(path, nlayers, &t);
    } else {
        fz_rejected(file, &err);
        FZ_ASSERT(err.msg[0] != '\0' && t.nrows == 0);
    }
    af_model_table_dispose(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    one_read(data, size, "nflux.out", 3);
    one_read(data, size, "dc_sip.csv", 0);
    fz_write("soils.in", data, size, path, sizeof path);
    int nl = 0;
    if (af_daycent_soils_layers(path, &nl, &err) == AF_OK) FZ_ASSERT(nl >= 1);
    else fz_rejected("soils.in", &err);
    return 0;
}
