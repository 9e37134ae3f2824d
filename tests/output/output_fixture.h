/* SPDX-License-Identifier: MIT */
/*
 * output_fixture.h: a small synthetic layout shared by the output tests: a
 * noleap axis across a leap-year end (7 days, Dec 31 dropped), county and site
 * samples, inputs and targets, and a tagged value for every cell so that a
 * read-back can tell exactly which (sample, day, variable) a value came from.
 */
#ifndef AF_OUTPUT_FIXTURE_H
#define AF_OUTPUT_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agroflux/calendar.h"
#include "agroflux/output.h"

#define FX_NIN 2
#define FX_NTG 3

typedef struct fixture {
    af_calendar *cal;
    af_sample *samples;
    af_var_desc inputs[FX_NIN], targets[FX_NTG];
    af_layout layout;
} fixture;

static inline float fx_x(size_t s, int t, size_t i) { return (float)((double)s * 1000.0 + t + (double)i / 10.0); }
static inline float fx_y(size_t s, int t, size_t j) { return (float)(-((double)s * 1000.0 + t) - (double)j / 10.0); }
static inline unsigned char fx_valid(size_t s, int t, size_t j) { return (unsigned char)((s + (size_t)t + j) % 3 != 0); }
static inline float fx_qc(size_t s, int t, size_t j) { return ((s + (size_t)t) % 2) ? NAN : (float)j; }

static inline void fx_desc(af_var_desc *v, const char *name, const char *units)
{
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->units, sizeof v->units, "%s", units);
    snprintf(v->long_name, sizeof v->long_name, "long name of %s", name);
    snprintf(v->source, sizeof v->source, "table");
    snprintf(v->source_units, sizeof v->source_units, "%s", units);
}

/* nsamples samples: counties "19xxx:N0"/"19xxx:N1" then sites "US-Xn" for the last two. */
static inline int fx_init(fixture *f, size_t nsamples, size_t shard_samples, int cdf5)
{
    af_error e = AF_ERROR_INIT;
    memset(f, 0, sizeof *f);
    af_date a = { 2020, 12, 28 }, b = { 2021, 1, 4 };
    if (af_calendar_create(a, b, AF_CAL_NOLEAP, &f->cal, &e) != AF_OK) return -1;
    f->samples = calloc(nsamples ? nsamples : 1, sizeof *f->samples);
    if (!f->samples) return -1;
    for (size_t i = 0; i < nsamples; i++) {
        af_sample *s = &f->samples[i];
        if (nsamples >= 3 && i >= nsamples - 2) {
            snprintf(s->id, sizeof s->id, "US-X%zu", i);
            s->kind = AF_SAMPLE_SITE;
            s->scenario_index = -1;
        } else {
            snprintf(s->fips, sizeof s->fips, "19%03zu", i / 2 + 1);
            snprintf(s->scenario, sizeof s->scenario, "N%zu", i % 2);
            snprintf(s->id, sizeof s->id, "19%03zu:N%zu", i / 2 + 1, i % 2);
            s->kind = AF_SAMPLE_COUNTY;
            s->scenario_index = (int)(i % 2);
        }
        s->lat = 40.0 + (double)i * 0.123456789;
        s->lon = -95.0 - (double)i * 0.5;
    }
    fx_desc(&f->inputs[0], "TMAX_AIR", "degC");
    fx_desc(&f->inputs[1], "PRCP", "mm d-1");
    fx_desc(&f->targets[0], "GPP", "gC m-2 d-1");
    fx_desc(&f->targets[1], "NEE", "gC m-2 d-1");
    snprintf(f->targets[1].sign, sizeof f->targets[1].sign, "positive upward");
    fx_desc(&f->targets[2], "YIELD", "g C m-2");
    f->layout.pipeline_name = "fixture";
    f->layout.cal = f->cal;
    f->layout.samples = f->samples;
    f->layout.nsamples = nsamples;
    f->layout.inputs = f->inputs;
    f->layout.ninputs = FX_NIN;
    f->layout.targets = f->targets;
    f->layout.ntargets = FX_NTG;
    f->layout.shard_samples = shard_samples;
    f->layout.cdf5 = cdf5;
    f->layout.config_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    return 0;
}

static inline void fx_free(fixture *f)
{
    af_calendar_destroy(&f->cal);
    free(f->samples);
    f->samples = NULL;
}

/* Write samples [s0, s0+ns) over days [t0, t0+nt) with the tagged values. */
static inline int fx_write(af_shardset *ss, const fixture *f, size_t s0, size_t ns, int t0, int nt,
                           af_error *err)
{
    size_t ni = f->layout.ninputs, ng = f->layout.ntargets, cells = ns * (size_t)nt;
    float *x = malloc((cells * ni + 1) * sizeof *x), *y = malloc((cells * ng + 1) * sizeof *y);
    float *qc = malloc((cells * ng + 1) * sizeof *qc);
    unsigned char *v = malloc(cells * ng + 1);
    int rc = AF_ENOMEM;
    if (x && y && qc && v) {
        for (size_t s = 0; s < ns; s++)
            for (int t = 0; t < nt; t++) {
                size_t c = s * (size_t)nt + (size_t)t;
                for (size_t i = 0; i < ni; i++) x[c * ni + i] = fx_x(s0 + s, t0 + t, i);
                for (size_t j = 0; j < ng; j++) {
                    y[c * ng + j] = fx_y(s0 + s, t0 + t, j);
                    v[c * ng + j] = fx_valid(s0 + s, t0 + t, j);
                    qc[c * ng + j] = fx_qc(s0 + s, t0 + t, j);
                }
            }
        rc = af_shardset_write_block(ss, s0, ns, t0, nt, x, NULL, y, v, qc, err); /* x_qc: NaN */
    }
    free(x);
    free(y);
    free(qc);
    free(v);
    return rc;
}

/* Read back row `row` of `path` (global sample s) and count mismatching cells. */
static inline int fx_check_row(const char *path, size_t row, size_t s, const fixture *f, int *bad)
{
    af_error e = AF_ERROR_INIT;
    int nd = af_calendar_ndays(f->cal);
    size_t ni = f->layout.ninputs, ng = f->layout.ntargets;
    float *x = malloc((size_t)nd * ni * sizeof *x + 4), *y = malloc((size_t)nd * ng * sizeof *y + 4);
    float *qc = malloc((size_t)nd * ng * sizeof *qc + 4), *xqc = malloc((size_t)nd * ni * sizeof *xqc + 4);
    unsigned char *v = malloc((size_t)nd * ng + 4);
    int rc = af_shard_read_row(path, row, ni ? x : NULL, ni ? xqc : NULL, y, v, qc, &e);
    if (rc != AF_OK) {
        fprintf(stderr, "read_row %s %zu: %s\n", path, row, e.msg);
        (*bad)++;
    } else {
        for (int t = 0; t < nd; t++) {
            for (size_t i = 0; i < ni; i++)
                if (x[(size_t)t * ni + i] != fx_x(s, t, i) || !isnan(xqc[(size_t)t * ni + i])) (*bad)++;
            for (size_t j = 0; j < ng; j++) {
                size_t c = (size_t)t * ng + j;
                float q = fx_qc(s, t, j);
                if (y[c] != fx_y(s, t, j)) (*bad)++;
                if (v[c] != fx_valid(s, t, j)) (*bad)++;
                if (isnan(q) ? !isnan(qc[c]) : qc[c] != q) (*bad)++;
            }
        }
    }
    free(x);
    free(xqc);
    free(y);
    free(qc);
    free(v);
    return rc;
}

#endif
