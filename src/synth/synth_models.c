/* SPDX-License-Identifier: MIT */
/*
 * synth_models.c: synthetic Ecosys and DayCent run trees (synth_models.h) in
 * the native formats. Every daily quantity is an integer number of hundredths
 *   h(v, A) = 100*A + 10*u + 7*k + 3*(doy mod 50) + (year mod 100)
 * (u county tag c or 500 + site s, k scenario index, 0 for sites; v the
 * variable number, A its base), written exactly. docs/formats.md ("Synth
 * values: Ecosys and DayCent runs") lists v, A, signs and holes;
 * tests/models/models_truth.py recomputes them independently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "synth_io.h"
#include "synth_models.h"

static long hval(int a, int u, int k, af_date d)
{
    return 100L * a + 10L * u + 7L * k + 3L * (af_date_doy(d) % 50) + d.year % 100;
}

static int hole(int v, int u, af_date d) { return (u + af_date_doy(d) + 7 * v + d.year) % 37 == 0; }

/* ---- Ecosys ---- */

typedef struct eco_var {
    const char *name;
    char group[3];
    int v, a, sign, cum;
} eco_var;

static const eco_var eco_vars[] = {
    { "ECO_GPP", "dc", 1, 3, 1, 1 }, { "ECO_RA", "dc", 2, 1, -1, 1 }, { "ECO_RH", "dc", 3, 2, 1, 1 },
    { "CO2_FLUX", "dc", 4, 5, -1, 1 }, { "ECO_HVST_C", "dc", 5, 4, 1, 0 }, { "SOC_1", "dc", 6, 50, 1, 0 },
    { "SOC_3", "dc", 7, 40, 1, 0 }, { "SOC_5", "dc", 8, 30, 1, 0 },
    { "ET", "dw", 9, 2, 1, 1 }, { "WTR_1", "dw", 10, 0, 1, 0 }, { "WTR_3", "dw", 11, 1, 1, 0 },
    { "WTR_5", "dw", 12, 3, 1, 0 },
    { "TMAX_SOIL_1", "dh", 13, 20, 1, 0 }, { "TMIN_SOIL_1", "dh", 14, 10, 1, 0 },
    { "TMAX_SOIL_3", "dh", 15, 19, 1, 0 }, { "TMIN_SOIL_3", "dh", 16, 11, 1, 0 },
    { "TMAX_SOIL_5", "dh", 17, 18, 1, 0 }, { "TMIN_SOIL_5", "dh", 18, 12, 1, 0 },
    { "N2O_FLUX", "dn", 19, 0, -1, 1 }, { "NH4_1", "dn", 20, 3, 1, 0 }, { "NO3_1", "dn", 21, 5, 1, 0 },
    { "NO3_3", "dn", 22, 4, 1, 0 }, { "NO3_5", "dn", 23, 6, 1, 0 },
};
#define N_ECO_VARS (sizeof eco_vars / sizeof eco_vars[0])

/* Fortran E notation of H/100 with at least 7 mantissa digits, exact: 0.1356700E+003. */
static void put_fortran(FILE *fp, long hund)
{
    char dig[32];
    if (hund == 0) { fprintf(fp, " %16s", "0.0000000E+000"); return; }
    long a = hund < 0 ? -hund : hund;
    int nd = snprintf(dig, sizeof dig, "%ld", a);
    int e = nd - 2;
    char txt[64];
    snprintf(txt, sizeof txt, "%s0.%s%.*sE%c%03d", hund < 0 ? "-" : "", dig, nd < 7 ? 7 - nd : 0, "0000000",
             e < 0 ? '-' : '+', e < 0 ? -e : e);
    fprintf(fp, " %16s", txt);
}

static int write_ecosys_file(const char *dir, const char *fips, const char *scen, int u, int k, int year,
                             const char *group, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    FILE *fp = NULL;
    char rel[256];
    long cum[N_ECO_VARS];
    memset(cum, 0, sizeof cum);
    snprintf(rel, sizeof rel, "ecosys/%s/%s/01010%04d%s", fips, scen, year, group);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fp = f.fp;
    fprintf(fp, "     DOY     DATE");
    for (size_t i = 0; i < N_ECO_VARS; i++)
        if (!strcmp(eco_vars[i].group, group)) fprintf(fp, " %16s", eco_vars[i].name);
    fputc('\n', fp);
    af_date d0 = { year, 1, 1 };
    for (long e = af_date_to_epoch(d0); af_date_from_epoch(e).year == year; e++) {
        af_date d = af_date_from_epoch(e);
        fprintf(fp, " %7.3f %02d%02d%04d", (double)af_date_doy(d), d.day, d.month, d.year);
        for (size_t i = 0; i < N_ECO_VARS; i++) {
            const eco_var *x = &eco_vars[i];
            if (strcmp(x->group, group)) continue;
            long h = x->sign * hval(x->a, u, k, d);
            cum[i] += h;
            if (hole(x->v, u, d)) put_fortran(fp, -999900);
            else put_fortran(fp, x->cum ? cum[i] : h);
        }
        fputc('\n', fp);
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

int af__synth_ecosys_write(const char *dir, const af_synth_models_opts *o, af_error *err)
{
    int rc = AF_OK;
    static const char *const groups[] = { "dc", "dw", "dh", "dn" };
    AF_CHECK_ARG(dir && o && o->year0 <= o->year1);
    for (int c = 0; c < o->ncounties; c++)
        for (int k = 0; k < o->nscenarios; k++)
            for (int y = o->year0; y <= o->year1; y++)
                for (int g = 0; g < 4; g++)
                    AF_CHECK(write_ecosys_file(dir, o->fips[c], o->scenarios[k], c + 1, k, y, groups[g], err));
cleanup:
    return rc;
}

/* ---- DayCent ---- */

enum { F_NFLUX = 31, F_SIP = 35, F_SOILT = 40, F_VSWC = 50, F_SUMMARY = 60, V_HARVEST = 70, F_PSYN = 75 };

typedef struct dc_run {
    char rel[128];   /* daycent/{id} */
    int u, k, layers, site;
} dc_run;

static double hund(long h) { return (double)h / 100.0; }

static void put_time(FILE *fp, af_date d, int site, const char *sep)
{
    fprintf(fp, site ? "%.4f%s%d" : "%.2f%s%d", d.year + (d.month - 1) / 12.0, sep, af_date_doy(d));
}

static int write_soils(const char *dir, const dc_run *r, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    FILE *fp = NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "%s/soils.in", r->rel);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fp = f.fp;
    for (int l = 0; l < r->layers; l++)
        fprintf(fp, "  %.1f  %.1f  1.30  0.30  0.12  0.80  0.10  0.40  0.20  0.02  0.00  0.10  6.50\n",
                l * 10.0, (l + 1) * 10.0);
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

/* One daily file: kind 0 nflux, 1 summary, 2 dc_sip, 3 soiltavg, 4 vswc, 5 psyn. */
static void daycent_row(FILE *fp, int kind, const dc_run *r, af_date d, long *cumn2o, long *cumno)
{
    int u = r->u, k = r->k;
    if (af_date_doy(d) == 1) *cumn2o = *cumno = 0;
    long nit = hval(2, u, k, d), dnit = hval(5, u, k, d), no = hval(3, u, k, d);
    *cumn2o += nit + dnit;
    *cumno += no;
    int f = kind == 0 ? F_NFLUX : kind == 1 ? F_SUMMARY : kind == 2 ? F_SIP : kind == 3 ? F_SOILT : kind == 4 ? F_VSWC : F_PSYN;
    if (hole(f, u, d)) return;
    const char *sep = kind == 2 ? "," : " ";
    put_time(fp, d, r->site, sep);
    if (kind == 0) {
        fprintf(fp, " %.4f %.4f %.4f %.4f %.4f %.4f\n", hund(nit), hund(dnit), hund(hval(1, u, k, d)), hund(no),
                hund(*cumn2o), hund(*cumno));
    } else if (kind == 1) {
        fprintf(fp, " %.2f %.2f %.2f %.4f %.4f %.4f %.4f %.4f", hund(hval(25, u, k, d)), hund(hval(10, u, k, d)),
                hund(hval(0, u, k, d)), hund(hval(2, u, k, d)), hund(hval(1, u, k, d)), hund(hval(4, u, k, d)),
                hund(hval(3, u, k, d)), hund(hval(20, u, k, d)));
        if (r->site) fprintf(fp, " %.4f", hund(hval(6, u, k, d)));
        fputc('\n', fp);
    } else if (kind == 5) {
        fprintf(fp, " %.2f %.2f\n", hund(hval(44, u, k, d)), hund(hval(45, u, k, d)));
    } else if (kind == 2) {
        fprintf(fp, ",%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,\n", hund(hval(0, u, k, d)), hund(hval(1, u, k, d)),
                hund(hval(2, u, k, d)), hund(hval(3, u, k, d)), hund(hval(4, u, k, d)), hund(hval(5, u, k, d)));
    } else {
        for (int l = 1; l <= r->layers; l++)
            fprintf(fp, " %.2f", hund(hval(kind == 3 ? 10 + l : l, u, k, d)));
        fputc('\n', fp);
    }
}

static int write_daily(const char *dir, const dc_run *r, int kind, int y0, int y1, af_error *err)
{
    static const char *const names[] = { "nflux.out", "summary.out", "dc_sip.csv", "soiltavg.out", "vswc.out", "psyn.out" };
    int rc = AF_OK;
    af_synth_file f = { 0 };
    FILE *fp = NULL;
    char rel[256];
    long cumn2o = 0, cumno = 0;
    snprintf(rel, sizeof rel, "%s/%s", r->rel, names[kind]);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fp = f.fp;
    if (kind == 0)
        fprintf(fp, "      time   dayofyr  nit_N2O-N  dnit_N2O-N  dnit_N2-N  NO-N  CUM-N2O(gN/ha)  CUM-NO(gN/ha)\n");
    else if (kind == 1)
        fprintf(fp, "  time  dayofyr  tmax  tmin  ppt  N2Oflux  NOflux  %s  NIT  CO2resp%s\n",
                r->site ? "CH4" : "CH4_oxid", r->site ? "  ntCO2resp" : "");
    else if (kind == 2)
        fprintf(fp, "time,dayofyr,trandly,evapdly,intrcpt,ppt,NPP,%s,\n", r->u % 2 ? "NEE" : "NEP");
    else if (kind == 5)
        fprintf(fp, "  time  dayofyr  crpNPP  crpGrPsn\n");
    af_date d0 = { y0, 1, 1 }, d1 = { y1, 12, 31 };
    for (long e = af_date_to_epoch(d0); e <= af_date_to_epoch(d1); e++)
        daycent_row(fp, kind, r, af_date_from_epoch(e), &cumn2o, &cumno);
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_harvest(const char *dir, const dc_run *r, int y0, int y1, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    FILE *fp = NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "%s/harvest.csv", r->rel);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fp = f.fp;
    fprintf(fp, "time,dayofyr,crpval,cgrain,\n");
    for (int y = y0; y <= y1; y++) {
        if ((r->u + y) % 4 == 0) continue; /* no harvest this year */
        af_date d = af_date_from_epoch(af_date_to_epoch((af_date){ y, 1, 1 }) + 279);
        put_time(fp, d, r->site, ",");
        fprintf(fp, ",C6,%.2f,\n", hund(hval(300, r->u, r->k, d)));
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_run(const char *dir, const dc_run *r, const af_synth_models_opts *o, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(write_soils(dir, r, err));
    for (int kind = 0; kind < 6; kind++) AF_CHECK(write_daily(dir, r, kind, o->year0, o->year1, err));
    AF_CHECK(write_harvest(dir, r, o->year0, o->year1, err));
cleanup:
    return rc;
}

int af__synth_daycent_write(const char *dir, const af_synth_models_opts *o, af_error *err)
{
    int rc = AF_OK;
    dc_run r;
    AF_CHECK_ARG(dir && o && o->year0 <= o->year1);
    for (int c = 0; c < o->ncounties; c++)
        for (int k = 0; k < o->nscenarios; k++) {
            memset(&r, 0, sizeof r);
            snprintf(r.rel, sizeof r.rel, "daycent/%s_%s", o->fips[c], o->scenarios[k]);
            r.u = c + 1;
            r.k = k;
            r.layers = 3 + r.u % 3;
            AF_CHECK(write_run(dir, &r, o, err));
        }
    for (int s = 0; s < o->nsites; s++) {
        memset(&r, 0, sizeof r);
        snprintf(r.rel, sizeof r.rel, "daycent/%s", o->sites[s]);
        r.u = 500 + s + 1;
        r.site = 1;
        r.layers = 3 + r.u % 3;
        AF_CHECK(write_run(dir, &r, o, err));
    }
cleanup:
    return rc;
}
