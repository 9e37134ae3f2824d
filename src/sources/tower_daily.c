/* SPDX-License-Identifier: MIT */
/*
 * tower_daily.c: af_tower_daily of agroflux/tower.h, the ONEFlux daily rules:
 * a day is the records whose TIMESTAMP_START falls on it (local standard time);
 * meteorological means/sums and all FULLSET variables are missing when any record
 * is; BASE CO2 fluxes average the present records and record their coverage;
 * CO2 fluxes are converted with 1.03772448; QC = share of records with QC < 2.
 * Not collective.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "tower_impl.h"

/* Effective gap rule of a variable in this file. */
static af_tower_gap effective_gap(const af_tower_file *tf, const af_tower_var_spec *v)
{
    if (v->gap != AF_TOWER_GAP_DEFAULT) return v->gap;
    if (tf->kind == AF_TOWER_BASE && v->agg == AF_TOWER_AGG_CO2FLUX_MEAN) return AF_TOWER_GAP_COVERAGE;
    return AF_TOWER_GAP_STRICT;
}

/* Check one spec and resolve its columns: idx[0] value, idx[1] minus (-1), idx[2] qc (-1). */
static int resolve_spec(const af_tower_file *tf, const af_tower_var_spec *v, int k, int idx[3], af_error *err)
{
    int rc = AF_OK;
    if (!v->column) AF_FAIL(AF_EINVAL, "tower variable %d: no column name", k);
    if (v->agg < AF_TOWER_AGG_MEAN || v->agg > AF_TOWER_AGG_CO2FLUX_MEAN)
        AF_FAIL(AF_EINVAL, "tower variable '%s': unknown aggregation %d", v->column, (int)v->agg);
    if (v->gap < AF_TOWER_GAP_DEFAULT || v->gap > AF_TOWER_GAP_COVERAGE)
        AF_FAIL(AF_EINVAL, "tower variable '%s': unknown gap rule %d", v->column, (int)v->gap);
    if (!(v->min_coverage >= 0.0 && v->min_coverage <= 1.0))
        AF_FAIL(AF_EINVAL, "tower variable '%s': min_coverage %g outside 0..1", v->column, v->min_coverage);
    if (v->agg == AF_TOWER_AGG_SUM && effective_gap(tf, v) == AF_TOWER_GAP_COVERAGE)
        AF_FAIL(AF_EINVAL, "tower variable '%s': a partial-day SUM is not allowed (use the strict rule)",
                v->column);
    AF_CHECK(af_tower_column(tf, v->column, &idx[0], err));
    idx[1] = idx[2] = -1;
    if (v->minus_column) AF_CHECK(af_tower_column(tf, v->minus_column, &idx[1], err));
    if (v->qc_column) AF_CHECK(af_tower_column(tf, v->qc_column, &idx[2], err));
cleanup:
    return rc;
}

int af_tower_daily(af_tower_file *tf, const af_tower_var_spec *vars, int n, long epoch0, int ndays,
                   float *value, float *coverage, float *qc, af_error *err)
{
    int rc = AF_OK;
    int *idx = NULL;       /* [n][3] header columns: value, minus, qc */
    int *slot = NULL;      /* [n][3] position in the read buffer, -1 if none */
    int *cols = NULL;      /* distinct header columns read */
    double *data = NULL;   /* [nrec][ncols] */
    double *sum = NULL;    /* [ndays][n] */
    int *cnt = NULL, *good = NULL;
    float *ddqc = NULL;    /* [ndays][n] DD files: the QC value of the day's record */
    int ncols = 0;

    AF_CHECK_ARG(tf != NULL && vars != NULL && n > 0 && ndays >= 0 && value != NULL);
    if (tf->res != AF_TOWER_RES_HH && tf->res != AF_TOWER_RES_HR && tf->res != AF_TOWER_RES_DD)
        AF_FAIL(AF_EINVAL, "'%s': daily aggregation needs HH, HR or DD records", tf->csv.path);
    if (ndays == 0) goto cleanup;
    const int is_dd = tf->res == AF_TOWER_RES_DD;
    const int expected = is_dd ? 1 : 1440 / tf->step;

    idx = malloc((size_t)n * 3 * sizeof *idx);
    slot = malloc((size_t)n * 3 * sizeof *slot);
    cols = malloc((size_t)n * 3 * sizeof *cols);
    AF_CHECK_ALLOC(idx);
    AF_CHECK_ALLOC(slot);
    AF_CHECK_ALLOC(cols);
    for (int k = 0; k < n; k++) {
        AF_CHECK(resolve_spec(tf, &vars[k], k, &idx[3 * k], err));
        for (int s = 0; s < 3; s++) {
            int c = idx[3 * k + s], j = 0;
            slot[3 * k + s] = -1;
            if (c < 0) continue;
            while (j < ncols && cols[j] != c) j++;
            if (j == ncols) cols[ncols++] = c;
            slot[3 * k + s] = j;
        }
    }
    data = malloc((size_t)tf->nrec * (size_t)ncols * sizeof *data);
    AF_CHECK_ALLOC(data);
    AF_CHECK(af_tower_read_columns(tf, cols, ncols, data, err));

    size_t nout = (size_t)ndays * (size_t)n;
    sum = calloc(nout, sizeof *sum);
    cnt = calloc(nout, sizeof *cnt);
    good = calloc(nout, sizeof *good);
    ddqc = malloc(nout * sizeof *ddqc);
    AF_CHECK_ALLOC(sum);
    AF_CHECK_ALLOC(cnt);
    AF_CHECK_ALLOC(good);
    AF_CHECK_ALLOC(ddqc);
    for (size_t i = 0; i < nout; i++) ddqc[i] = NAN;

    for (long r = 0; r < tf->nrec; r++) {
        long long d = af__tower_floordiv(tf->start[r], 1440) - epoch0;
        if (d < 0 || d >= ndays) continue;
        const double *row = data + (size_t)r * (size_t)ncols;
        for (int k = 0; k < n; k++) {
            size_t o = (size_t)d * (size_t)n + (size_t)k;
            double v = row[slot[3 * k]];
            if (slot[3 * k + 1] >= 0) v -= row[slot[3 * k + 1]];
            if (!isnan(v)) { sum[o] += v; cnt[o]++; }
            if (slot[3 * k + 2] >= 0) {
                double q = row[slot[3 * k + 2]];
                if (is_dd) ddqc[o] = (float)q;
                else if (!isnan(q) && q >= 0.0 && q < 2.0) good[o]++;
            }
        }
    }

    for (int d = 0; d < ndays; d++) {
        for (int k = 0; k < n; k++) {
            size_t o = (size_t)d * (size_t)n + (size_t)k;
            const af_tower_var_spec *v = &vars[k];
            double cov = (double)cnt[o] / expected;
            int keep;
            if (effective_gap(tf, v) == AF_TOWER_GAP_STRICT) keep = cnt[o] == expected;
            else keep = cnt[o] > 0 && cov >= v->min_coverage;
            double x = NAN;
            if (keep && is_dd) x = sum[o];
            else if (keep && v->agg == AF_TOWER_AGG_SUM) x = sum[o];
            else if (keep && v->agg == AF_TOWER_AGG_MEAN) x = sum[o] / cnt[o];
            else if (keep) x = sum[o] / cnt[o] * AF_TOWER_CO2FLUX_FACTOR;
            value[o] = (float)x;
            if (coverage) coverage[o] = (float)cov;
            if (qc) {
                if (idx[3 * k + 2] < 0) qc[o] = NAN;
                else if (is_dd) qc[o] = ddqc[o];
                else qc[o] = (float)((double)good[o] / expected);
            }
        }
    }
cleanup:
    free(ddqc);
    free(good);
    free(cnt);
    free(sum);
    free(data);
    free(cols);
    free(slot);
    free(idx);
    return rc;
}
