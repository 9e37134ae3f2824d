/* SPDX-License-Identifier: MIT */
/*
 * model_join.c: joins the columns of a second model output of the same run
 * to a parsed table by date (year, day of year), for the `join` key of the
 * daycent source: DayCent writes GPP (psyn.out crpGrPsn) and the net flux
 * (dc_sip.csv NEP) in different files, and Reco = GPP - NEP needs both.
 * Columns whose names the first table already has stay the first table's.
 * A date of the first table that the second lacks is NaN (missing) in the
 * joined columns. Not collective.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "ecosys_impl.h"

/* Row of b per date (year - y0) * 367 + doy, -1 where b has none. */
static int date_index(const af_model_table *b, int *y0, int *ny, long **idx, af_error *err)
{
    int rc = AF_OK, lo = 0, hi = -1;
    for (size_t r = 0; r < b->nrows; r++) {
        if (r == 0 || b->year[r] < lo) lo = b->year[r];
        if (r == 0 || b->year[r] > hi) hi = b->year[r];
    }
    *y0 = lo;
    *ny = b->nrows ? hi - lo + 1 : 0;
    *idx = malloc(((size_t)*ny * 367 + 1) * sizeof **idx);
    AF_CHECK_ALLOC(*idx);
    for (size_t i = 0; i < (size_t)*ny * 367; i++) (*idx)[i] = -1;
    for (size_t r = 0; r < b->nrows; r++)
        if (b->doy[r] >= 1 && b->doy[r] <= 366) (*idx)[(size_t)(b->year[r] - lo) * 367 + (size_t)b->doy[r]] = (long)r;
cleanup:
    return rc;
}

int af__models_table_join(af_model_table *a, const af_model_table *b, af_error *err)
{
    int rc = AF_OK, y0 = 0, ny = 0, inited = 0;
    long *idx = NULL;
    size_t *from = NULL, nadd = 0, nc;
    double *v = NULL;
    from = malloc((b->ncols + 1) * sizeof *from);
    AF_CHECK_ALLOC(from);
    for (size_t c = 0; c < b->ncols; c++)
        if (af_model_table_column(a, b->names[c]) < 0) from[nadd++] = c;
    if (nadd == 0) goto cleanup;
    AF_CHECK(date_index(b, &y0, &ny, &idx, err));
    nc = a->ncols + nadd;
    v = malloc((a->nrows * nc + 1) * sizeof *v);
    char **names = realloc(a->names, nc * sizeof *names);
    AF_CHECK_ALLOC(v);
    AF_CHECK_ALLOC(names);
    a->names = names;
    char **bt = realloc(a->bad_text, nc * sizeof *bt);
    AF_CHECK_ALLOC(bt);
    a->bad_text = bt;
    long *bl = realloc(a->bad_line, nc * sizeof *bl);
    AF_CHECK_ALLOC(bl);
    a->bad_line = bl;
    for (size_t k = 0; k < nadd; k++) {
        size_t c = a->ncols + k;
        a->names[c] = NULL;
        a->bad_text[c] = NULL;
        a->bad_line[c] = b->bad_line ? b->bad_line[from[k]] : 0;
    }
    inited = 1;
    for (size_t k = 0; k < nadd; k++) {
        size_t c = a->ncols + k;
        a->names[c] = strdup(b->names[from[k]]);
        AF_CHECK_ALLOC(a->names[c]);
        if (b->bad_text && b->bad_text[from[k]]) {
            a->bad_text[c] = strdup(b->bad_text[from[k]]);
            AF_CHECK_ALLOC(a->bad_text[c]);
        }
    }
    for (size_t r = 0; r < a->nrows; r++) {
        memcpy(v + r * nc, a->v + r * a->ncols, a->ncols * sizeof *v);
        int y = a->year[r], d = a->doy[r];
        long br = y >= y0 && y < y0 + ny && d >= 1 && d <= 366 ? idx[(size_t)(y - y0) * 367 + (size_t)d] : -1;
        for (size_t k = 0; k < nadd; k++)
            v[r * nc + a->ncols + k] = br < 0 ? NAN : b->v[(size_t)br * b->ncols + from[k]];
    }
    free(a->v);
    a->v = v;
    v = NULL;
    a->ncols = nc;
cleanup:
    /* on failure a keeps its old ncols: the strings added for the new columns are freed here */
    for (size_t k = 0; rc != AF_OK && inited && k < nadd; k++) {
        free(a->names[a->ncols + k]);
        free(a->bad_text[a->ncols + k]);
    }
    free(v);
    free(idx);
    free(from);
    return rc;
}
