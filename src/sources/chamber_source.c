/* SPDX-License-Identifier: MIT */
/*
 * chamber_source.c: the N2O chamber source kind ("source = chamber"). Hourly
 * chamber fluxes in one CSV (chambers interleaved) or one CSV per site ({site}
 * in path), read at open with af_chamber_read (agroflux/tower.h) and kept in
 * memory (chamber series are small). A site sample maps to a chamber id (its
 * site id unless chamber_ids says otherwise). A day needs >= min_hours valid
 * clock hours; its value is mean(valid hours) x 24 in g N m-2 d-1 with
 * POSITIVE = EMISSION to the atmosphere (the project's N2O convention,
 * docs/formats.md); a file whose sign is the opposite declares
 * source_sign = emission_negative and is flipped. The value is then converted to
 * the feature's units through the units table; the qc output is the day's share
 * of valid hours (n / 24). County samples get missing values.
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

#define CHAMBER_OUT_UNITS "g N m-2 d-1"
#define CHAMBER_SIGN "positive = emission"

static const af_key_spec chamber_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "Chamber CSV relative to the pipeline file: one file with every chamber, or one per site with {site} "
      "(then optionally a glob matching one file). Timestamps are local standard time." },
    { "source_units", AF_KEY_STRING, 1, NULL, NULL,
      "Units of the flux column: g N m-2 h-1, nmol m-2 s-1 (N2O; 1 nmol = 28.013e-9 g N), ug N m-2 h-1 or "
      "g N ha-1 d-1. The daily value is g N m-2 d-1, positive = emission, then converted to units." },
    { "source_sign", AF_KEY_CHOICE, 0, "emission_positive", "emission_positive|emission_negative",
      "Sign of the flux column in the file. Output is always positive = emission to the atmosphere; a "
      "feature sign text, if given, must say 'positive = emission'." },
    { "column", AF_KEY_STRING, 0, "flux", NULL, "Flux column." },
    { "id_column", AF_KEY_STRING, 0, "chamber", NULL, "Chamber id column." },
    { "time_column", AF_KEY_STRING, 0, "timestamp", NULL,
      "Timestamp column: YYYY-MM-DD HH:MM[:SS] (or T) or YYYYMMDDHHMM." },
    { "chamber_ids", AF_KEY_LIST, 0, "", NULL,
      "Site-to-chamber map 'SITE:CHAMBER, SITE:CHAMBER'; a site not listed reads the chamber with its site id." },
    { "min_hours", AF_KEY_INT, 0, "16", NULL, "A day is kept with at least this many valid hours (1..24)." },
    { "missing_file", AF_KEY_CHOICE, 0, "error", "error|missing",
      "A site without a file or chamber: an error naming it (default), or missing values for that site." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

typedef struct chamber_site {
    size_t local;
    size_t data;           /* index into st->data */
    int chamber;           /* chamber index in that data */
} chamber_site;

typedef struct chamber_data_file {
    char path[4096];
    af_chamber_data *cd;
} chamber_data_file;

typedef struct chamber_state {
    const af_source_ctx *ctx;
    size_t nlocal, nfeat;
    const af_feature_cfg *const *feats;
    af_unit_conv *conv;    /* [nfeat] g N m-2 d-1 -> feature units */
    int flip;
    chamber_data_file *data;
    size_t ndata;
    chamber_site *sites;
    size_t nsites;
    const char **paths;
} chamber_state;

static void chamber_close(void *vst)
{
    chamber_state *st = vst;
    if (!st) return;
    for (size_t i = 0; i < st->ndata; i++) af_chamber_data_destroy(&st->data[i].cd);
    free(st->data);
    free(st->sites);
    free(st->conv);
    free(st->paths);
    free(st);
}

/* Chamber id for site `site` from "A:B, C:D" (else the site id). AF_ECONFIG on a malformed pair. */
static int chamber_id_for(const af_config *cfg, const af_config_section *sec, const char *site, char *out,
                          size_t n, af_error *err)
{
    int rc = AF_OK;
    af_list l = AF_LIST_INIT;
    snprintf(out, n, "%s", site);
    AF_CHECK(af_opts_get_list(cfg, sec, chamber_keys, "chamber_ids", &l, err));
    for (size_t i = 0; i < l.n; i++) {
        char *t = l.items[i], *colon = strchr(t, ':');
        if (!colon || colon == t || !colon[1])
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] chamber_ids: '%s' is not SITE:CHAMBER", cfg->path,
                    af_config_line(sec, "chamber_ids"), sec->name, t);
        *colon = '\0';
        if (!strcmp(af_strtrim(t), site)) snprintf(out, n, "%s", af_strtrim(colon + 1));
    }
cleanup:
    af_list_dispose(&l);
    return rc;
}

/* Index of the data file `path`, reading it on first use. */
static int data_for(chamber_state *st, const char *path, const af_chamber_opts *opts, size_t *out, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < st->ndata; i++)
        if (!strcmp(st->data[i].path, path)) { *out = i; goto cleanup; }
    chamber_data_file *nd = realloc(st->data, (st->ndata + 1) * sizeof *nd);
    AF_CHECK_ALLOC(nd);
    st->data = nd;
    memset(&nd[st->ndata], 0, sizeof nd[0]);
    snprintf(nd[st->ndata].path, sizeof nd[0].path, "%s", path);
    st->ndata++;
    AF_CHECK(af_chamber_read(path, opts, &nd[st->ndata - 1].cd, err));
    *out = st->ndata - 1;
cleanup:
    return rc;
}

static int read_opts(const af_config *cfg, const af_config_section *sec, af_chamber_opts *o, af_error *err)
{
    int rc = AF_OK;
    af_chamber_opts init = AF_CHAMBER_OPTS_INIT;
    *o = init;
    AF_CHECK(af_opts_get_string(cfg, sec, chamber_keys, "id_column", &o->id_column, err));
    AF_CHECK(af_opts_get_string(cfg, sec, chamber_keys, "time_column", &o->time_column, err));
    AF_CHECK(af_opts_get_string(cfg, sec, chamber_keys, "column", &o->flux_column, err));
    long mh;
    AF_CHECK(af_opts_get_int(cfg, sec, chamber_keys, "min_hours", &mh, err));
    if (mh < 1 || mh > 24)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] min_hours: '%ld' is not in 1..24", cfg->path,
                af_config_line(sec, "min_hours"), sec->name, mh);
    o->min_hours = (int)mh;
    af_error uerr = AF_ERROR_INIT;
    if (af_chamber_unit_parse(af_config_get(sec, "source_units"), &o->unit, &uerr) != AF_OK)
        AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", cfg->path, af_config_line(sec, "source_units"), sec->name,
                uerr.msg);
cleanup:
    return rc;
}

/* Resolve every local site to a data file and chamber. */
static int find_sites(chamber_state *st, const af_chamber_opts *opts, af_error *err)
{
    int rc = AF_OK;
    const af_source_ctx *ctx = st->ctx;
    const af_config_section *sec = st->feats[0]->section;
    int missing_ok; /* error|missing */
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, chamber_keys, "missing_file", &missing_ok, err));
    int strict = !missing_ok;
    st->sites = calloc(st->nlocal ? st->nlocal : 1, sizeof *st->sites);
    AF_CHECK_ALLOC(st->sites);
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->range.begin + i);
        if (s->kind != AF_SAMPLE_SITE) continue;
        char path[4096], id[AF_ID_MAX];
        int found = 0;
        AF_CHECK(af__obs_site_file(ctx->cfg, sec, "path", s, path, sizeof path, &found, err));
        if (!found && strict)
            AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: no chamber file for site '%s': cannot read '%s'",
                    ctx->cfg->path, af_config_line(sec, "path"), sec->name, s->id, path);
        if (!found) {
            af_log(AF_LOG_WARN, "chamber", "[%s] no file for site '%s' ('%s'): its values are missing", sec->name,
                   s->id, path);
            continue;
        }
        chamber_site *cs = &st->sites[st->nsites];
        AF_CHECK(data_for(st, path, opts, &cs->data, err));
        AF_CHECK(chamber_id_for(ctx->cfg, sec, s->id, id, sizeof id, err));
        af_error ferr = AF_ERROR_INIT;
        if (af_chamber_find(st->data[cs->data].cd, id, &cs->chamber, &ferr) != AF_OK) {
            if (strict)
                AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] site '%s': %s", ctx->cfg->path, af_config_line(sec, "path"),
                        sec->name, s->id, ferr.msg);
            af_log(AF_LOG_WARN, "chamber", "[%s] site '%s': %s; its values are missing", sec->name, s->id, ferr.msg);
            continue;
        }
        cs->local = i;
        st->nsites++;
    }
cleanup:
    return rc;
}

static int chamber_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out,
                        af_error *err)
{
    int rc = AF_OK;
    af_chamber_opts opts;
    chamber_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nfeat = nfeat;
    st->feats = feats;
    st->nlocal = ctx->range.end - ctx->range.begin;
    const af_config_section *sec = feats[0]->section;
    static const char *const shared[] = { "source_units", "source_sign", "column", "id_column", "time_column",
                                          "chamber_ids", "min_hours", "missing_file" };
    st->conv = calloc(nfeat, sizeof *st->conv);
    AF_CHECK_ALLOC(st->conv);
    for (size_t k = 0; k < nfeat; k++) {
        for (size_t j = 0; j < sizeof shared / sizeof shared[0]; j++)
            AF_CHECK(af__obs_same_key(ctx->cfg, feats[0], feats[k], shared[j], err));
        AF_CHECK(af__obs_check_sign(ctx->cfg, feats[k], CHAMBER_SIGN, err));
        af_error uerr = AF_ERROR_INIT;
        if (af_units_conversion(CHAMBER_OUT_UNITS, feats[k]->units, &st->conv[k], &uerr) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] units: daily chamber fluxes are %s: %s", ctx->cfg->path,
                    af_config_line(feats[k]->section, "units"), feats[k]->section->name, CHAMBER_OUT_UNITS, uerr.msg);
    }
    AF_CHECK(af_opts_get_choice(ctx->cfg, sec, chamber_keys, "source_sign", &st->flip, err)); /* emission_positive|emission_negative */
    AF_CHECK(read_opts(ctx->cfg, sec, &opts, err));
    AF_CHECK(find_sites(st, &opts, err));
    st->paths = calloc(st->ndata ? st->ndata : 1, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t i = 0; i < st->ndata; i++) st->paths[i] = st->data[i].path;
    *out = st;
    st = NULL;
cleanup:
    chamber_close(st);
    return rc;
}

static int chamber_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    chamber_state *st = vst;
    float *v = NULL;
    int *hours = NULL;
    size_t nf = st->nfeat, n = st->nlocal * (size_t)nt * nf;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (nt <= 0 || st->nsites == 0) goto cleanup;
    long e0 = af_calendar_epoch(st->ctx->cal, t0), e1 = af_calendar_epoch(st->ctx->cal, t0 + nt - 1);
    int nd = (int)(e1 - e0 + 1);
    v = malloc((size_t)nd * sizeof *v);
    hours = malloc((size_t)nd * sizeof *hours);
    AF_CHECK_ALLOC(v);
    AF_CHECK_ALLOC(hours);
    for (size_t i = 0; i < st->nsites; i++) {
        const chamber_site *cs = &st->sites[i];
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + cs->local);
        AF_CHECK(af_chamber_daily(st->data[cs->data].cd, cs->chamber, e0, nd, v, hours, err));
        if (st->flip) af_chamber_flip_sign(v, (size_t)nd);
        for (int tt = 0; tt < nt; tt++) {
            long d = af_calendar_epoch(st->ctx->cal, t0 + tt) - e0;
            for (size_t k = 0; k < nf; k++) {
                if (!af__obs_applies(st->feats[k], s)) continue;
                size_t o = ((size_t)cs->local * (size_t)nt + (size_t)tt) * nf + k;
                qc[o] = (float)(hours[d] / 24.0);
                if (isnan(v[d])) continue;
                val[o] = (float)af_units_apply(st->conv[k], (double)v[d]);
                valid[o] = 1;
            }
        }
    }
cleanup:
    free(v);
    free(hours);
    return rc;
}

AF_SOURCE_FILES_FN(chamber_files, chamber_state, paths, ndata)

const af_source_kind af__source_chamber = {
    .name = "chamber",
    .help = "N2O chamber CSVs (hourly fluxes; days with >= min_hours valid hours; positive = emission)",
    .keys = chamber_keys,
    .open = chamber_open,
    .fill = chamber_fill,
    .files = chamber_files,
    .close = chamber_close,
};
