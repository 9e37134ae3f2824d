/* SPDX-License-Identifier: MIT */
/*
 * export_sites.c: the tower (t1_co2) and chamber (t1_n2o) files of the
 * AgroFlux export, written whole by the rank that owns the site, for every
 * experiment. Inputs follow the missing-value policy (a site series is read
 * whole, so the gap fill sees every gap); targets keep NaN where missing
 * (the official T1/T2 code masks them), and tower GPP and NEE share one mask:
 * a day keeps both only when both are valid, because the official
 * validation concatenates the two masked vectors. With observations =
 * official (default), inputs are scaled with the experiment's t0 input
 * scalers, GPP with the t0 GPP scaler, NEE in the CO2_FLUX sign with the t0
 * CO2_FLUX scaler and chamber N2O with the t0 N2O_FLUX scaler, the way the
 * official code de-normalises them; with observations = site, with the
 * LOSO site scalers in our sign. Not collective.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "export_impl.h"

/* How site target column c is written: its index target, the index variable whose scaler scales it, sign. */
typedef struct site_col {
    int tcol;
    size_t svar;
    int neg;
} site_col;

static void site_cols(const af_export *e, int chamber, site_col *sc, int *n)
{
    size_t ni = e->idx.ninputs;
    if (chamber) {
        sc[0] = (site_col){ e->n2o, ni + (size_t)e->n2o, e->official_obs && e->negate[ni + (size_t)e->n2o] };
        *n = 1;
        return;
    }
    sc[0] = (site_col){ e->gpp, ni + (size_t)e->gpp, e->official_obs && e->negate[ni + (size_t)e->gpp] };
    if (e->official_obs)
        sc[1] = (site_col){ e->nee, ni + (size_t)e->co2flux, e->negate[ni + (size_t)e->co2flux] };
    else
        sc[1] = (site_col){ e->nee, ni + (size_t)e->nee, 0 };
    *n = 2;
}

/* Tower targets: a day keeps GPP and NEE only when both are valid; counts the cells dropped. */
static void joint_mask(const af_export *e, float *y, size_t nd, unsigned long long *dropped)
{
    size_t nt = e->idx.ntargets, g = (size_t)e->gpp, n = (size_t)e->nee;
    for (size_t t = 0; t < nd; t++) {
        int a = isfinite(y[t * nt + g]), b = isfinite(y[t * nt + n]);
        if (a == b) continue;
        y[t * nt + g] = NAN;
        y[t * nt + n] = NAN;
        (*dropped)++;
    }
}

static int write_site(const af_export *e, const af_export_exp *x, int chamber, size_t num, const float *xs,
                      const float *ys, const unsigned char *st, float *ox, float *oy, unsigned char *om, af_error *err)
{
    int rc = AF_OK;
    size_t nd = (size_t)e->idx.ndays, ni = e->idx.ninputs, ntg = e->idx.ntargets, ny = (size_t)e->nyears;
    site_col sc[2];
    int nt;
    char path[4400];
    const double *m = e->official_obs ? x->mean : x->t1_mean, *s = e->official_obs ? x->std : x->t1_std;
    site_cols(e, chamber, sc, &nt);
    for (size_t t = 0; t < nd; t++) {
        /* towers: row t; chambers: day-of-year d = t % 365, year column t / 365 */
        size_t o = chamber ? (t % 365) * ny + t / 365 : t;
        for (int c = 0; c < AF_X_N; c++) {
            size_t j = (size_t)e->xcol[c];
            unsigned char state = st[t * AF_X_N + (size_t)c];
            om[o * AF_X_N + (size_t)c] = state == 0;
            ox[o * AF_X_N + (size_t)c] = state == 2 && e->missing == AF_MISS_FILL
                                             ? 0.0f : af__export_scale(xs[t * ni + j], m[j], s[j]);
        }
        for (int c = 0; c < nt; c++) {
            float v = ys[t * ntg + (size_t)sc[c].tcol];
            oy[o * (size_t)nt + (size_t)c] = af__export_scale(sc[c].neg ? -v : v, m[sc[c].svar], s[sc[c].svar]);
        }
    }
    size_t sx[3] = { chamber ? 365 : nd, chamber ? ny : 1, AF_X_N }, sy[3] = { sx[0], sx[1], (size_t)nt };
    snprintf(path, sizeof path, chamber ? "%s/data_files/t1_n2o/X_real_scaled_%zu.npy"
                                        : "%s/data_files/t1_co2/X_real_scaled_ECfluxnet_%zu.npy", x->dest, num);
    AF_CHECK(af__npy_write_f32(path, ox, sx, 3, err));
    if (e->missing == AF_MISS_FILL) {
        snprintf(path, sizeof path, chamber ? "%s/data_files/t1_n2o/X_real_mask_%zu.npy"
                                            : "%s/data_files/t1_co2/X_real_mask_ECfluxnet_%zu.npy", x->dest, num);
        AF_CHECK(af__npy_write(path, om, 1, sx, 3, err));
    }
    snprintf(path, sizeof path, chamber ? "%s/data_files/t1_n2o/Y_real_scaled_Combined_%zu.npy"
                                        : "%s/data_files/t1_co2/Y_real_scaled_ECfluxnet_Combined_%zu.npy", x->dest, num);
    AF_CHECK(af__npy_write_f32(path, oy, sy, 3, err));
cleanup:
    return rc;
}

/* One site: read, fill the inputs, joint-mask the tower targets, write for every experiment. */
static int site_files(af_export *e, size_t g, int chamber, size_t num, unsigned long long *dropped, af_error *err)
{
    int rc = AF_OK;
    size_t nd = (size_t)e->idx.ndays, ni = e->idx.ninputs, ntg = e->idx.ntargets;
    float *x = malloc((nd * ni + 1) * sizeof *x), *y = malloc((nd * ntg + 1) * sizeof *y);
    float *ox = malloc((nd * AF_X_N + 1) * sizeof *ox), *oy = malloc((nd * 2 + 1) * sizeof *oy);
    unsigned char *st = malloc(nd * AF_X_N + 1), *om = malloc(nd * AF_X_N + 1);
    unsigned long long scratch[2];
    if (!x || !y || !ox || !oy || !st || !om) AF_FAIL(AF_ENOMEM, "out of memory");
    AF_CHECK(af__train_read(&e->view, g, 1, 0, (int)nd, x, y, err));
    for (int c = 0; c < AF_X_N; c++)
        af__export_fill(x + e->xcol[c], nd, ni, 0, nd, e->missing == AF_MISS_FILL, st + c, AF_X_N, scratch);
    if (!chamber) joint_mask(e, y, nd, dropped);
    for (int k = 0; k < e->nexp; k++) AF_CHECK(write_site(e, &e->exp[k], chamber, num, x, y, st, ox, oy, om, err));
cleanup:
    free(x);
    free(y);
    free(ox);
    free(oy);
    free(st);
    free(om);
    return rc;
}

int af__export_sites(af_export *e, af_error *err)
{
    int rc = AF_OK;
    size_t nsite = e->idx.nsamples - e->ncounty, a = nsite * (size_t)e->rank / (size_t)e->size;
    size_t b = nsite * (size_t)(e->rank + 1) / (size_t)e->size, nco2 = 0, nn2o = 0;
    e->njoint = 0;
    for (size_t s = 0; s < b; s++) {
        int mine = s >= a;
        if (e->co2[s]) {
            if (mine) AF_CHECK(site_files(e, e->ncounty + s, 0, nco2, &e->njoint, err));
            nco2++;
        }
        if (e->n2o_site[s]) {
            if (mine) AF_CHECK(site_files(e, e->ncounty + s, 1, nn2o, &e->njoint, err));
            nn2o++;
        }
    }
cleanup:
    return rc;
}
