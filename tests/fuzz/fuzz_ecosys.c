/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ecosys.c: libFuzzer harness for the Ecosys daily output parser
 * (src/sources/ecosys.c) and its Fortran number reader: the input is read as an
 * output file; its first line is also parsed token by token as numbers; a parsed
 * table is looked up by name, its units resolved and its columns differenced.
 * Invariants: one valid year per file, DOY strictly increasing in 1..366, no
 * value is a missing-value marker (-9999, -6999) or infinite (missing reads as
 * NaN), every column is usable; the exact number parser (af_numparse) accepts
 * what its strtod path accepts and gives bit-identical doubles.
 */
#include <math.h>
#include <string.h>

#include "af_util.h"
#include "agroflux/calendar.h"
#include "agroflux/models.h"
#include "fuzz_common.h"
#include "numparse.h"

static void check_table(const af_model_table *t)
{
    af_error err = AF_ERROR_INIT;
    for (size_t r = 0; r < t->nrows; r++) {
        FZ_ASSERT(t->year[r] == t->year[0]);
        FZ_ASSERT(t->doy[r] >= 1 && t->doy[r] <= (af_date_is_leap(t->year[r]) ? 366 : 365));
        if (r) FZ_ASSERT(t->doy[r] > t->doy[r - 1]);
        for (size_t c = 0; c < t->ncols; c++) {
            double v = af_model_table_at(t, r, c);
            FZ_ASSERT(isnan(v) || !af_missing_value(v));
        }
    }
    double cum[367], daily[367];
    for (size_t c = 0; c < t->ncols; c++) {
        FZ_ASSERT(af_model_table_column(t, t->names[c]) <= (int)c);
        FZ_ASSERT(af_model_table_require(t, (int)c, &err) == AF_OK);
        (void)af_ecosys_units(t->names[c]);
        for (int d = 0; d < 367; d++) cum[d] = NAN;
        for (size_t r = 0; r < t->nrows; r++) cum[t->doy[r]] = af_model_table_at(t, r, c);
        af_model_decumulate(cum, 366, daily);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    af_model_table t;
    memset(&t, 0, sizeof t);
    fz_write("010102003dc", data, size, path, sizeof path);
    if (af_ecosys_read(path, &t, &err) == AF_OK) check_table(&t);
    else {
        fz_rejected("ecosys file", &err);
        FZ_ASSERT(err.msg[0] != '\0' && t.nrows == 0);
    }
    af_model_table_dispose(&t);

    /* the number reader on its own: every token of the first line */
    size_t n = 0;
    while (n < size && n < 512 && data[n] != '\n') n++;
    char *line = fz_strndup(data, n);
    for (char *save = NULL, *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        double v;
        if (af_ecosys_parse_number(tok, &v)) FZ_ASSERT(!isnan(v));
        double a = 0, b = 0;
        int ka = af_numparse(tok, strlen(tok), &a), kb = af_numparse_strtod(tok, strlen(tok), &b);
        FZ_ASSERT(ka == kb && !memcmp(&a, &b, sizeof a));
    }
    free(line);
    return 0;
}
