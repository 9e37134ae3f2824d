/* SPDX-License-Identifier: MIT */
/*
 * tower_source.c: the flux-tower source kind ("source = tower"). One AmeriFlux
 * BASE or FLUXNET FULLSET file per site (path template with {site}, then an
 * optional glob), read with the parsers of agroflux/tower.h and aggregated to
 * days with the ONEFlux rules (tower_daily.c). Records are local standard time,
 * so a site day is the local standard day. The daily value is converted from the
 * declared source_units through the units table (e.g. a daily mean in
 * umol CO2 m-2 s-1 becomes g C m-2 d-1 with the table's 1.03772448); the qc
 * output is the day's QC share (with qc_column) or its record coverage, and
 * qc_threshold turns it into the validity mask. County samples get missing
 * values. Each block re-opens the site's file (a timestamp scan plus one read of
 * the requested columns), so no file stays open between blocks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "agroflux/opts.h"
#include "sources_impl.h"
#include "af_util.h"
#include "agroflux/source.h"
#include "agroflux/tower.h"
#include "agroflux/units.h"
#include "log.h"
#include "obs_impl.h"

static const af_key_spec tower_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "One file per site, relative to the pipeline file: a template with {site} (or {id}), which may then be a glob "
      "that must match exactly one file, e.g. towers/AMF_{site}_BASE_HH_*.csv. Records are local standard time; a "
      "site day is the local standard day." },
    { "format", AF_KEY_CHOICE, 1, NULL, "base|fullset",
      "base: AmeriFlux BASE HH/HR ('#' preamble, no gap filling); fullset: FLUXNET FULLSET HH/HR/DD (ONEFlux output)." },
    { "column", AF_KEY_STRING, 0, "", NULL,
      "Header name of the value column, default the feature name; TA also finds TA_1_1_1 (position suffixes)." },
    { "minus_column", AF_KEY_STRING, 0, "", NULL,
      "Optional: value = column - minus_column per record (GPP = RECO_NT_VUT_REF - NEE_VUT_REF)." },
    { "qc_column", AF_KEY_STRING, 0, "", NULL,
      "Optional _QC column: the qc output is then the day's share of records with QC 0 or 1 (HH/HR) or the DD _QC "
      "value; without it the qc output is the day's record coverage (present / 48 or 24; 1 or 0 in DD files)." },
    { "aggregation", AF_KEY_CHOICE, 0, "mean", "mean|sum|co2flux",
      "mean (TA, SW_IN, VPD), sum (P: mm per record -> mm per day) or co2flux: a mean whose gap rule defaults to "
      "coverage in BASE files; source_units must then be umol m-2 s-1 (HH/HR) or g C m-2 d-1 (DD), and the "
      "1.03772448 factor comes from the units table, once." },
    { "gap", AF_KEY_CHOICE, 0, "default", "default|strict|coverage",
      "strict: a day with any missing record is missing (ONEFlux meteo rule; the default except co2flux in BASE "
      "files); coverage: mean of the present records when coverage >= min_coverage (not with sum)." },
    { "min_coverage", AF_KEY_DOUBLE, 0, "0.5", NULL,
      "Coverage rule only: least share of the day's records (0..1) that must be present. Default 0.5: a BASE flux "
      "mean over less than half a day is dominated by which hours happen to be present." },
    { "source_units", AF_KEY_STRING, 1, NULL, NULL,
      "Units of the records (a daily mean keeps them; a sum of mm per record is mm d-1), e.g. degC, mm, W m-2, "
      "umol m-2 s-1; DD files: g C m-2 d-1 for fluxes. Converted to units through the units table." },
    { "qc_threshold", AF_KEY_DOUBLE, 0, "0", NULL,
      "A day is valid only if its qc output (QC share or coverage, 0..1) is >= this; 0 keeps every day with a value." },
    { "missing_file", AF_KEY_CHOICE, 0, "error", "error|missing",
      "A site without a file: an error naming the path (default), or missing values for that site." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

typedef struct tower_var {
    const af_feature_cfg *f;
    char column[128], minus[128], qc[128];
    int co2flux;
    af_tower_var_spec spec;
    af_unit_conv conv;
    double qc_threshold;
} tower_var;

typedef struct tower_site {
    size_t local;          /* local sample index */
    char path[4096];
} tower_site;

typedef struct tower_state {
    const af_source_ctx *ctx;
    size_t nlocal, nfeat;
    af_tower_kind kind;
    tower_var *vars;
    af_tower_var_spec *specs;   /* [nfeat], pointing into vars */
    tower_site *sites;
    size_t nsites;
    const char **paths;
} tower_state;

static int parse_fraction(const af_config *cfg, const af_config_section *sec, const char *key, double *out,
                          af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af_opts_get_double(cfg, sec, tower_keys, key, out, err));
    if (!(*out >= 0.0 && *out <= 1.0))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%g' is not a share in 0..1", cfg->path, af_config_line(sec, key),
                sec->name, key, *out);
cleanup:
    return rc;
}

/* Read one feature's keys into its variable spec. */
static int load_var(const af_source_ctx *ctx, const af_feature_cfg *f, tower_var *tv, af_error *err)
{
    int rc = AF_OK;
    const af_config_section *sec = f->section;
    tv->f = f;
    const char *v;
    int agg, gap; /* mean|sum|co2flux, default|strict|coverage */
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, tower_keys, "column", &v, err));
    snprintf(tv->column, sizeof tv->column, "%s", v[0] ? v : f->name); /* empty: the feature's name */
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, tower_keys, "minus_column", &v, err));
    snprintf(tv->minus, sizeof tv->minus, "%s", v);
    AF_CHECK(af_opts_get_string(ctx->cfg, sec, tower_keys, "qc_column", &v, err));
    snprintf(tv->qc, sizeof tv->qc, "%s", v);
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, tower_keys, "aggregation", &agg, err));
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, tower_keys, "gap", &gap, err));
    tv->co2flux = agg == 2;
    tv->spec.column = tv->column;
    tv->spec.minus_column = tv->minus[0] ? tv->minus : NULL;
    tv->spec.qc_column = tv->qc[0] ? tv->qc : NULL;
    tv->spec.agg = agg == 1 ? AF_TOWER_AGG_SUM : AF_TOWER_AGG_MEAN;
    tv->spec.gap = gap == 1 ? AF_TOWER_GAP_STRICT : gap == 2 ? AF_TOWER_GAP_COVERAGE : AF_TOWER_GAP_DEFAULT;
    AF_CHECK(parse_fraction(ctx->cfg, sec, "min_coverage", &tv->spec.min_coverage, err));
    AF_CHECK(parse_fraction(ctx->cfg, sec, "qc_threshold", &tv->qc_threshold, err));
    if (tv->spec.agg == AF_TOWER_AGG_SUM && tv->spec.gap == AF_TOWER_GAP_COVERAGE)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] gap: a partial-day sum is not allowed (use strict)", ctx->cfg->path,
                af_config_line(sec, "gap"), sec->name);
    af_error uerr = AF_ERROR_INIT;
    if (af_units_conversion(af_config_get(sec, "source_units"), f->units, &tv->conv, &uerr) != AF_OK)
        AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", ctx->cfg->path, af_config_line(sec, "source_units"),
                sec->name, uerr.msg);
cleanup:
    return rc;
}

/* The effective gap rule: the parser's default, except that co2flux in BASE files means coverage. */
static void apply_gap_default(tower_state *st)
{
    for (size_t k = 0; k < st->nfeat; k++) {
        st->specs[k] = st->vars[k].spec;
        if (st->specs[k].gap == AF_TOWER_GAP_DEFAULT)
            st->specs[k].gap = (st->kind == AF_TOWER_BASE && st->vars[k].co2flux) ? AF_TOWER_GAP_COVERAGE
                                                                                 : AF_TOWER_GAP_STRICT;
    }
}

/* Open one site's file and check resolution, columns and units against it. */
static int check_site_file(const tower_state *st, const char *path, af_error *err)
{
    int rc = AF_OK;
    af_tower_file *tf = NULL;
    const af_config *cfg = st->ctx->cfg;
    AF_CHECK(af_tower_file_open(path, st->kind, &tf, err));
    af_tower_res res = af_tower_resolution(tf);
    if (res != AF_TOWER_RES_HH && res != AF_TOWER_RES_HR && res != AF_TOWER_RES_DD)
        AF_FAIL(AF_EFORMAT, "%s: tower source needs HH, HR or DD records (weekly, monthly and yearly files "
                "cannot make days)", path);
    for (size_t k = 0; k < st->nfeat; k++) {
        const tower_var *tv = &st->vars[k];
        const af_config_section *sec = tv->f->section;
        int col;
        const char *names[3] = { tv->column, tv->minus, tv->qc };
        for (int j = 0; j < 3; j++)
            if (names[j][0]) AF_CHECK(af_tower_column(tf, names[j], &col, err));
        const char *canon = af_units_canonical(af_config_get(sec, "source_units"));
        int umol = canon && !strcmp(canon, "umol CO2 m-2 s-1 (daily mean)");
        if (res == AF_TOWER_RES_DD && umol)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: '%s' but '%s' is a daily (DD) file, whose fluxes are "
                    "g C m-2 d-1", cfg->path, af_config_line(sec, "source_units"), sec->name,
                    af_config_get(sec, "source_units"), path);
        if (tv->co2flux && res != AF_TOWER_RES_DD && !umol)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: aggregation co2flux of %s records needs umol m-2 s-1, "
                    "not '%s'", cfg->path, af_config_line(sec, "source_units"), sec->name,
                    res == AF_TOWER_RES_HH ? "half-hourly" : "hourly", af_config_get(sec, "source_units"));
    }
cleanup:
    af_tower_file_destroy(&tf);
    return rc;
}

static void tower_close(void *vst)
{
    tower_state *st = vst;
    if (!st) return;
    free(st->vars);
    free(st->specs);
    free(st->sites);
    free(st->paths);
    free(st);
}

/* Find and check the file of every local site sample. */
static int find_sites(tower_state *st, af_error *err)
{
    int rc = AF_OK;
    const af_source_ctx *ctx = st->ctx;
    const af_config_section *sec = st->vars[0].f->section;
    int missing_ok; /* error|missing */
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, tower_keys, "missing_file", &missing_ok, err));
    int error_if_missing = !missing_ok;
    st->sites = calloc(st->nlocal ? st->nlocal : 1, sizeof *st->sites);
    AF_CHECK_ALLOC(st->sites);
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->range.begin + i);
        if (s->kind != AF_SAMPLE_SITE) continue;
        tower_site *ts = &st->sites[st->nsites];
        int found = 0;
        AF_CHECK(af__obs_site_file(ctx->cfg, sec, "path", s, ts->path, sizeof ts->path, &found, err));
        if (!found && error_if_missing)
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: no file for site '%s': cannot read '%s'", ctx->cfg->path,
                    af_config_line(sec, "path"), sec->name, s->id, ts->path);
        if (!found) {
            af_log(AF_LOG_WARN, "tower", "[%s] no file for site '%s' ('%s'): its values are missing", sec->name,
                   s->id, ts->path);
            continue;
        }
        AF_CHECK(check_site_file(st, ts->path, err));
        ts->local = i;
        st->nsites++;
    }
cleanup:
    return rc;
}

static int tower_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out,
                      af_error *err)
{
    int rc = AF_OK;
    tower_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nfeat = nfeat;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    if (!af__obs_per_site(af_config_get(sec, "path")))
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] path: '%s' needs {site} (or {id}): a tower source reads one file per site",
                ctx->cfg->path, af_config_line(sec, "path"), sec->name, af_config_get(sec, "path"));
    int format; /* base|fullset */
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, tower_keys, "format", &format, err));
    st->kind = format == 1 ? AF_TOWER_FULLSET : AF_TOWER_BASE;
    st->vars = calloc(nfeat, sizeof *st->vars);
    st->specs = calloc(nfeat, sizeof *st->specs);
    AF_CHECK_ALLOC(st->vars);
    AF_CHECK_ALLOC(st->specs);
    for (size_t k = 0; k < nfeat; k++) {
        AF_CHECK(af__obs_same_key(ctx->cfg, feats[0], feats[k], "format", err));
        AF_CHECK(af__obs_same_key(ctx->cfg, feats[0], feats[k], "missing_file", err));
        AF_CHECK(load_var(ctx, feats[k], &st->vars[k], err));
    }
    apply_gap_default(st);
    AF_CHECK(find_sites(st, err));
    st->paths = calloc(st->nsites ? st->nsites : 1, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t i = 0; i < st->nsites; i++) st->paths[i] = st->sites[i].path;
    *out = st;
    st = NULL;
cleanup:
    tower_close(st);
    return rc;
}

/* Daily values of one site for epochs [e0, e0+nd) into the block arrays. */
static int fill_site(tower_state *st, const tower_site *ts, int t0, int nt, long e0, int nd, float *val,
                     unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    af_tower_file *tf = NULL;
    size_t nf = st->nfeat, nout = (size_t)nd * nf;
    float *v = malloc(nout * sizeof *v), *cov = malloc(nout * sizeof *cov), *q = malloc(nout * sizeof *q);
    AF_CHECK_ALLOC(v);
    AF_CHECK_ALLOC(cov);
    AF_CHECK_ALLOC(q);
    AF_CHECK(af_tower_file_open(ts->path, st->kind, &tf, err));
    AF_CHECK(af_tower_daily(tf, st->specs, (int)nf, e0, nd, v, cov, q, err));
    const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + ts->local);
    for (int tt = 0; tt < nt; tt++) {
        long d = af_calendar_epoch(st->ctx->cal, t0 + tt) - e0;
        for (size_t k = 0; k < nf; k++) {
            const tower_var *tv = &st->vars[k];
            if (!af__obs_applies(tv->f, s)) continue;
            size_t i = (size_t)d * nf + k, o = ((size_t)ts->local * (size_t)nt + (size_t)tt) * nf + k;
            float share = tv->spec.qc_column ? q[i] : cov[i];
            qc[o] = share;
            int keep = !isnan(v[i]) && (tv->qc_threshold <= 0.0 || (!isnan(share) && share >= tv->qc_threshold));
            if (!keep) continue;
            val[o] = (float)af_units_apply(tv->conv, (double)v[i]);
            valid[o] = 1;
        }
    }
cleanup:
    af_tower_file_destroy(&tf);
    free(v);
    free(cov);
    free(q);
    return rc;
}

static int tower_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    tower_state *st = vst;
    size_t n = st->nlocal * (size_t)nt * st->nfeat;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (nt <= 0) goto cleanup;
    long e0 = af_calendar_epoch(st->ctx->cal, t0), e1 = af_calendar_epoch(st->ctx->cal, t0 + nt - 1);
    for (size_t i = 0; i < st->nsites; i++)
        AF_CHECK(fill_site(st, &st->sites[i], t0, nt, e0, (int)(e1 - e0 + 1), val, valid, qc, err));
cleanup:
    return rc;
}

AF_SOURCE_FILES_FN(tower_files, tower_state, paths, nsites)

const af_source_kind af__source_tower = {
    .name = "tower",
    .help = "flux tower files (AmeriFlux BASE, FLUXNET FULLSET), one per site, ONEFlux daily rules",
    .keys = tower_keys,
    .open = tower_open,
    .fill = tower_fill,
    .files = tower_files,
    .close = tower_close,
};
