/* SPDX-License-Identifier: MIT */
/*
 * ecosys_source.c: the source kinds "ecosys" and "daycent" (agroflux/source.h).
 * Each sample's run files are found by a path template ({fips} {scenario}
 * {site} {id} {year}); a feature derives one value per day from one file with
 * `variable` (an expression of columns), `cumulative`, `annual`, `sign_flip`
 * and, for DayCent per-layer files, `layer`. Units are those the format fixes
 * (models.h tables) unless source_units is declared.
 *
 * Each file is parsed once per run, with memory bounded by one year of the
 * features per local sample whatever the number of years: a sample keeps the
 * derived values of the year it last needed ([nfeat][367] floats, exactly the
 * values a block stores), so blocks shorter than a year (block_days) and
 * blocks that share a year do not parse its file again. An Ecosys file holds
 * one year. A multi-year DayCent file (a path without {year}) is read year by
 * year through a per-sample cursor (byte offset of the next unread row,
 * af__daycent_read_through), so each block reads only the rows of its years
 * and every byte is parsed once; the last calendar year reads on to the end so
 * every row is still checked. Keeping parsed columns of all years instead
 * would grow with the years; re-parsing per block (as before) cost a full
 * parse per block and sample.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "agroflux/opts.h"
#include "agroflux/source.h"
#include "agroflux/units.h"
#include "ecosys_impl.h"
#include "sources_impl.h"

#define HELP_VARIABLE \
    "Column(s) the feature derives: NAME, |NAME| (absolute value) or a sum/difference like " \
    "`|ECO_RA| + ECO_RH` ('-' needs spaces around it: names may contain '-'); default the feature name."
#define HELP_SIGN "yes: negate the result (e.g. Ecosys CO2_FLUX/N2O_FLUX, negative = to the atmosphere, " \
    "to the target convention positive = to the atmosphere; docs/formats.md \"Target convention\")."
#define HELP_UNITS "Units of the columns in the file; default the units the format fixes for them " \
    "(docs/formats.md, model outputs). Every term must share them."

static const af_key_spec ecosys_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "Ecosys output file per county/scenario and year, e.g. `ecosys/{fips}/{scenario}/01010{year}dc`." },
    { "variable", AF_KEY_STRING, 0, "", NULL, HELP_VARIABLE },
    { "cumulative", AF_KEY_CHOICE, 1, NULL, "yes|no",
      "yes: the columns are year-to-date running totals reset on day 1 (Ecosys fluxes), differenced into daily values." },
    { "annual", AF_KEY_CHOICE, 0, "no", "no|last|delta",
      "last: the Dec 31 value on every day of its year (Yield from ECO_HVST_C); delta: Dec 31 minus Jan 1 (Delta_SOC)." },
    { "sign_flip", AF_KEY_CHOICE, 0, "no", "yes|no", HELP_SIGN },
    { "source_units", AF_KEY_STRING, 0, "", NULL, HELP_UNITS },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static const af_key_spec daycent_keys[] = {
    { "path", AF_KEY_STRING, 1, NULL, NULL,
      "DayCent output of a run (nflux.out, summary.out, dc_sip.csv, harvest.csv, soiltavg.out, ...), "
      "e.g. `daycent/{id}/nflux.out`; `.csv` files are comma separated." },
    { "variable", AF_KEY_STRING, 0, "", NULL, HELP_VARIABLE " Names from other DayCent builds are accepted (NEP/NEE, CH4_oxid/CH4)." },
    { "layer", AF_KEY_INT, 0, "0", NULL,
      "Soil layer (1-based) of a header-less per-layer file (soiltavg/soiltmax/soiltmin/vswc/wfps.out); same as `variable = layerN`." },
    { "soils", AF_KEY_STRING, 0, "", NULL,
      "soils.in giving the layer count of header-less files; default soils.in next to the file." },
    { "join", AF_KEY_STRING, 0, "", NULL,
      "A second output file of the same run (a template like `path`, e.g. `daycent/{id}/psyn.out`) whose columns "
      "`variable` may use too, matched by date; a date it lacks is missing. DayCent Reco = `crpGrPsn - NEP` "
      "(psyn.out gross photosynthesis minus dc_sip.csv NEP = NPP - heterotrophic respiration)." },
    { "cumulative", AF_KEY_CHOICE, 0, "no", "yes|no", "yes: year-to-date running totals (CUM-N2O(gN/ha) ...), differenced into daily values." },
    { "annual", AF_KEY_CHOICE, 0, "no", "no|last|delta|events",
      "last / delta as for ecosys; events: the sum over the year's rows on every day of the year, 0 without rows (harvest.csv cgrain)." },
    { "sign_flip", AF_KEY_CHOICE, 0, "no", "yes|no", HELP_SIGN },
    { "source_units", AF_KEY_STRING, 0, "", NULL, HELP_UNITS },
    { NULL, 0, 0, NULL, NULL, NULL }
};

typedef struct model_feat {
    const af_feature_cfg *f;
    af_models_spec spec;
} model_feat;

typedef struct model_state {
    const af_source_ctx *ctx;
    int daycent;
    const af_config_section *sec;
    const char *tmpl, *soils_tmpl, *join_tmpl;
    int need_layers;
    size_t nfeat, nlocal;
    model_feat *feats;
    char **paths;
    size_t npaths;
    af_model_table table;     /* the file parsed last (with the join file's columns) */
    char table_path[4096], table_jpath[4096];
    int table_year;           /* table holds every row of this year only (0: of every year) */
    int warned_year;          /* a multi-year file without a needed year was reported */
    int *cache_year;          /* per local sample: year of its cached values (0: none) */
    float *cache;             /* [nlocal][nfeat][367] derived values, NaN where missing */
    af_dc_cursor *cur, *jcur; /* per local sample: next row of its multi-year path / join file */
} model_state;

static void model_close(void *vst)
{
    model_state *st = vst;
    if (!st) return;
    for (size_t i = 0; i < st->npaths; i++) free(st->paths[i]);
    free(st->paths);
    free(st->feats);
    af_model_table_dispose(&st->table);
    free(st->cache_year);
    free(st->cache);
    free(st->cur);
    free(st->jcur);
    free(st);
}

static int applies(const af_feature_cfg *f, const af_sample *s) { return af__kind_applies(f, s); }

/* The key table of the kind this state reads: defaults and choices come from it alone. */
static const af_key_spec *state_keys(const model_state *st)
{
    return st->daycent ? daycent_keys : ecosys_keys;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The feature's source units: declared, or fixed by the format for every term. */
static int feature_units(const model_state *st, const af_config_section *fs, const af_models_spec *sp,
                         const char **units, af_error *err)
{
    int rc = AF_OK;
    const char *v = NULL;
    const char *cfgp = st->ctx->cfg->path;
    AF_CHECK(af_opts_get_string(st->ctx->cfg, fs, state_keys(st), "source_units", &v, err));
    if (v && v[0]) { *units = v; goto cleanup; }
    *units = NULL;
    for (int i = 0; i < sp->nterms; i++) {
        const char *u = st->daycent ? af_daycent_units(base_name(st->tmpl), sp->terms[i].name)
                                    : af_ecosys_units(sp->terms[i].name);
        if (!u && st->join_tmpl) u = af_daycent_units(base_name(st->join_tmpl), sp->terms[i].name);
        if (!u)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] variable: the %s format does not fix the units of '%s'; declare source_units",
                    cfgp, af_config_line(fs, "variable"), fs->name, st->daycent ? "DayCent" : "Ecosys", sp->terms[i].name);
        if (*units && strcmp(*units, u))
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] variable: terms in different units ('%s' and '%s'); declare source_units",
                    cfgp, af_config_line(fs, "variable"), fs->name, *units, u);
        *units = u;
    }
cleanup:
    return rc;
}

static int feature_spec(model_state *st, const af_feature_cfg *f, af_models_spec *sp, af_error *err)
{
    int rc = AF_OK;
    const af_config_section *fs = f->section;
    const af_config *cfg = st->ctx->cfg;
    const af_key_spec *keys = state_keys(st);
    const char *cfgp = cfg->path, *v, *units = NULL;
    char expr[160];
    long layer = 0;
    int annual = 0;
    memset(sp, 0, sizeof *sp);
    if (st->daycent) {
        AF_CHECK(af_opts_get_int(cfg, fs, keys, "layer", &layer, err));
        if (layer < 0 || layer > 100)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] layer: '%ld' is not a layer number 1..100", cfgp,
                    af_config_line(fs, "layer"), fs->name, layer);
    }
    AF_CHECK(af_opts_get_string(cfg, fs, keys, "variable", &v, err));
    if (layer > 0 && v && v[0])
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] layer: give either layer or variable, not both", cfgp, af_config_line(fs, "layer"), fs->name);
    if (layer > 0) snprintf(expr, sizeof expr, "layer%ld", layer);
    else snprintf(expr, sizeof expr, "%s", v && v[0] ? v : f->name);
    st->need_layers |= layer > 0 || !strncmp(expr, "layer", 5);
    af_error e2 = AF_ERROR_INIT;
    if (af__models_parse_expr(expr, sp->terms, &sp->nterms, &e2) != AF_OK)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s", cfgp, af_config_line(fs, "variable"), fs->name, e2.msg);
    AF_CHECK(af_opts_get_bool(cfg, fs, keys, "cumulative", &sp->cumulative, err));
    AF_CHECK(af_opts_get_bool(cfg, fs, keys, "sign_flip", &sp->sign_flip, err));
    /* the choices "no|last|delta|events" are in af_models_annual order */
    AF_CHECK(af_opts_get_choice(cfg, fs, keys, "annual", &annual, err));
    sp->annual = (af_models_annual)annual;
    if (sp->annual == AF_ANNUAL_EVENTS && sp->cumulative)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] annual: events and cumulative = yes exclude each other", cfgp,
                af_config_line(fs, "annual"), fs->name);
    AF_CHECK(feature_units(st, fs, sp, &units, err));
    af_error uerr = AF_ERROR_INIT;
    if (af_units_conversion(units, f->units, &sp->conv, &uerr) != AF_OK)
        AF_FAIL(AF_EUNITS, "%s:%d: [%s] source_units: %s", cfgp, af_config_line(fs, "source_units"), fs->name, uerr.msg);
cleanup:
    return rc;
}

static int sample_applies(const model_state *st, const af_sample *s)
{
    for (size_t j = 0; j < st->nfeat; j++)
        if (applies(st->feats[j].f, s)) return 1;
    return 0;
}

static int add_path(model_state *st, const char *path, af_error *err)
{
    int rc = AF_OK;
    if (st->npaths && !strcmp(st->paths[st->npaths - 1], path)) goto cleanup;
    char **np = realloc(st->paths, (st->npaths + 1) * sizeof *np);
    AF_CHECK_ALLOC(np);
    st->paths = np;
    st->paths[st->npaths] = strdup(path);
    AF_CHECK_ALLOC(st->paths[st->npaths]);
    st->npaths++;
cleanup:
    return rc;
}

/* Every file a local sample needs must exist (a run that is absent is an error, not missing data). */
static int check_files(model_state *st, af_error *err)
{
    int rc = AF_OK;
    char path[4096];
    af_date a = af_calendar_start(st->ctx->cal), b = af_calendar_end(st->ctx->cal);
    int per_year = af__template_per_year(st->tmpl);
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        if (!sample_applies(st, s)) continue;
        for (int y = a.year; y <= (per_year ? b.year : a.year); y++) {
            AF_CHECK(af__template_expand(st->ctx->cfg, st->sec, "path", st->tmpl, s, y, path, sizeof path, err));
            if (!af_file_readable(path))
                AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] path: cannot read '%s' (sample %s)", st->ctx->cfg->path,
                        af_config_line(st->sec, "path"), st->sec->name, path, s->id);
            AF_CHECK(add_path(st, path, err));
            if (!st->join_tmpl) continue;
            AF_CHECK(af__template_expand(st->ctx->cfg, st->sec, "join", st->join_tmpl, s, y, path, sizeof path, err));
            if (!af_file_readable(path))
                AF_FAIL(AF_ENOTFOUND, "%s:%d: [%s] join: cannot read '%s' (sample %s)", st->ctx->cfg->path,
                        af_config_line(st->sec, "join"), st->sec->name, path, s->id);
            AF_CHECK(add_path(st, path, err));
        }
    }
cleanup:
    return rc;
}

static int model_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out,
                      int daycent, af_error *err)
{
    int rc = AF_OK;
    model_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->daycent = daycent;
    st->sec = feats[0]->section;
    st->tmpl = af_config_get(st->sec, "path");
    st->nfeat = nfeat;
    st->nlocal = ctx->range.end - ctx->range.begin;
    st->feats = calloc(nfeat, sizeof *st->feats);
    AF_CHECK_ALLOC(st->feats);
    const char *soils = af_config_get(st->sec, "soils"), *join = af_config_get(st->sec, "join");
    st->soils_tmpl = soils && soils[0] ? soils : NULL;
    st->join_tmpl = join && join[0] ? join : NULL;
    for (size_t k = 0; k < nfeat; k++) {
        const char *j2 = af_config_get(feats[k]->section, "join");
        if (strcmp(j2 ? j2 : "", st->join_tmpl ? st->join_tmpl : ""))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] join: differs from [%s] which reads the same path '%s'", ctx->cfg->path,
                    af_config_line(feats[k]->section, "join"), feats[k]->section->name, st->sec->name, st->tmpl);
        const char *s2 = af_config_get(feats[k]->section, "soils");
        if (strcmp(s2 ? s2 : "", st->soils_tmpl ? st->soils_tmpl : ""))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] soils: differs from [%s] which reads the same path '%s'", ctx->cfg->path,
                    af_config_line(feats[k]->section, "soils"), feats[k]->section->name, st->sec->name, st->tmpl);
        st->feats[k].f = feats[k];
        AF_CHECK(feature_spec(st, feats[k], &st->feats[k].spec, err));
    }
    AF_CHECK(check_files(st, err));
    size_t nl = st->nlocal ? st->nlocal : 1;
    st->cache_year = calloc(nl, sizeof *st->cache_year);
    st->cache = malloc(nl * nfeat * 367 * sizeof *st->cache);
    st->cur = calloc(nl, sizeof *st->cur);
    st->jcur = calloc(nl, sizeof *st->jcur);
    AF_CHECK_ALLOC(st->cache_year && st->cache && st->cur && st->jcur ? st : NULL);
    *out = st;
    st = NULL;
cleanup:
    model_close(st);
    return rc;
}

static int ecosys_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out, af_error *err)
{
    return model_open(ctx, feats, nfeat, out, 0, err);
}

static int daycent_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out, af_error *err)
{
    return model_open(ctx, feats, nfeat, out, 1, err);
}

/* One DayCent file of local sample li: through its cursor when one file holds every year. */
static int read_daycent(model_state *st, const char *tmpl, af_dc_cursor *cur, const char *path, int nlayers,
                        int year, af_model_table *out, af_error *err)
{
    if (af__template_per_year(tmpl)) return af_daycent_read(path, nlayers, out, err);
    int last = af_calendar_end(st->ctx->cal).year;
    return af__daycent_read_through(path, nlayers, cur, year, year >= last ? INT_MAX : year, out, err);
}

/* Parse the file (and join file) of sample li and year unless the table parsed last holds that year. */
static int load_table(model_state *st, size_t li, const af_sample *s, const char *path, int year, af_error *err)
{
    int rc = AF_OK;
    char soils[4096], dir[4096], jpath[4096] = "";
    int nlayers = 0;
    if (st->join_tmpl)
        AF_CHECK(af__template_expand(st->ctx->cfg, st->sec, "join", st->join_tmpl, s, year, jpath, sizeof jpath, err));
    if (st->table.names && !strcmp(st->table_path, path) && !strcmp(st->table_jpath, jpath) &&
        (st->table_year == 0 || st->table_year == year))
        goto cleanup;
    af_model_table_dispose(&st->table);
    st->table_path[0] = '\0';
    int chunked = st->daycent && !af__template_per_year(st->tmpl);
    if (!st->daycent) {
        AF_CHECK(af_ecosys_read(path, &st->table, err));
    } else {
        if (st->need_layers || st->soils_tmpl) {
            if (st->soils_tmpl) {
                AF_CHECK(af__template_expand(st->ctx->cfg, st->sec, "soils", st->soils_tmpl, s, year, soils, sizeof soils, err));
            } else {
                af_path_dirname(path, dir, sizeof dir);
                AF_CHECK(af_path_join(dir, "soils.in", soils, sizeof soils, err));
            }
            AF_CHECK(af_daycent_soils_layers(soils, &nlayers, err));
        }
        AF_CHECK(read_daycent(st, st->tmpl, &st->cur[li], path, nlayers, year, &st->table, err));
    }
    if (st->join_tmpl) {
        af_model_table jt;
        memset(&jt, 0, sizeof jt);
        chunked |= !af__template_per_year(st->join_tmpl);
        int jrc = read_daycent(st, st->join_tmpl, &st->jcur[li], jpath, nlayers, year, &jt, err);
        if (jrc == AF_OK) jrc = af__models_table_join(&st->table, &jt, err);
        af_model_table_dispose(&jt);
        AF_CHECK(jrc);
    }
    snprintf(st->table_path, sizeof st->table_path, "%s", path);
    snprintf(st->table_jpath, sizeof st->table_jpath, "%s", jpath);
    st->table_year = chunked ? year : 0;
cleanup:
    return rc;
}

/* Columns of feature j's terms in the loaded table; AF_ENOTFOUND naming file and column. */
static int term_columns(const model_state *st, const model_feat *mf, int *cols, af_error *err)
{
    int rc = AF_OK;
    for (int i = 0; i < mf->spec.nterms; i++) {
        const char *name = mf->spec.terms[i].name;
        cols[i] = st->daycent ? af_daycent_column(&st->table, name) : af_model_table_column(&st->table, name);
        if (cols[i] < 0)
            AF_FAIL(AF_ENOTFOUND, "%s: no column '%s' ([%s] variable)", st->table.path, name, mf->f->section->name);
        AF_CHECK(af_model_table_require(&st->table, cols[i], err));
    }
cleanup:
    return rc;
}

/* A file with no row of a year the axis needs: an error when the path names the year ({year}: an
 * Ecosys file of another year), else a warning naming file and year (once per source). */
static int check_year(model_state *st, const af_sample *s, const char *path, int year, af_error *err)
{
    int rc = AF_OK, other = 0, events = 1;
    for (size_t j = 0; j < st->nfeat; j++)
        if (st->feats[j].spec.annual != AF_ANNUAL_EVENTS) events = 0;
    if (events) goto cleanup; /* an event file (harvest.csv) has no row in a year without events */
    for (size_t r = 0; r < st->table.nrows; r++) {
        if (st->table.year[r] == year) goto cleanup;
        other = st->table.year[r];
    }
    char found[64] = "it has no rows";
    if (other) snprintf(found, sizeof found, "its rows are of %d", other);
    if (af__template_per_year(st->tmpl))
        AF_FAIL(AF_EFORMAT, "%s: no row of %d (%s): the file of {year} = %d must hold that year's days "
                "(sample %s)", path, year, found, year, s->id);
    if (!st->warned_year)
        af_log(AF_LOG_WARN, st->daycent ? "daycent" : "ecosys", "%s: no row of %d: sample %s has no value that "
               "year (%s)", path, year, s->id, st->sec->name);
    st->warned_year = 1;
cleanup:
    return rc;
}

/* Derive local sample li's values of `year` into its cache (parsing its file once). */
static int cache_sample_year(model_state *st, size_t li, const af_sample *s, int year, af_error *err)
{
    int rc = AF_OK;
    char path[4096];
    double v[367];
    int cols[AF_MODELS_MAX_TERMS];
    AF_CHECK(af__template_expand(st->ctx->cfg, st->sec, "path", st->tmpl, s, year, path, sizeof path, err));
    AF_CHECK(load_table(st, li, s, path, year, err));
    AF_CHECK(check_year(st, s, path, year, err));
    st->cache_year[li] = 0;
    for (size_t j = 0; j < st->nfeat; j++) {
        const model_feat *mf = &st->feats[j];
        float *c = st->cache + (li * st->nfeat + j) * 367;
        for (int d = 0; d < 367; d++) c[d] = NAN;
        if (!applies(mf->f, s)) continue;
        AF_CHECK(term_columns(st, mf, cols, err));
        AF_CHECK(af__models_derive_year(&st->table, cols, &mf->spec, year, v, err));
        /* a finite double may round to an infinite float: still a value, as it always was */
        for (int d = 1; d < 367; d++) c[d] = isfinite(v[d]) ? (float)v[d] : NAN;
    }
    st->cache_year[li] = year;
cleanup:
    return rc;
}

/* The block's days of one year: block days [a, b) fall in `year`. */
typedef struct year_span {
    int year, a, b;
} year_span;

/* doy[tt]: block day tt's day of year (the index of the cache), computed once per fill, not per
 * sample and feature. */
static int fill_sample_year(model_state *st, size_t li, const af_sample *s, const year_span *ys, const int *doy,
                            int nt, float *val, unsigned char *valid, af_error *err)
{
    int rc = AF_OK;
    if (st->cache_year[li] != ys->year) AF_CHECK(cache_sample_year(st, li, s, ys->year, err));
    for (size_t j = 0; j < st->nfeat; j++) {
        if (!applies(st->feats[j].f, s)) continue;
        const float *c = st->cache + (li * st->nfeat + j) * 367;
        for (int tt = ys->a; tt < ys->b; tt++) {
            float v = c[doy[tt]];
            if (isnan(v)) continue;
            size_t o = ((size_t)li * (size_t)nt + (size_t)tt) * st->nfeat + j;
            val[o] = v;
            valid[o] = 1;
        }
    }
cleanup:
    return rc;
}

static int model_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    model_state *st = vst;
    int *doy = NULL;
    year_span *span = NULL;
    size_t n = st->nlocal * (size_t)nt * st->nfeat;
    for (size_t i = 0; i < n; i++) { val[i] = NAN; valid[i] = 0; qc[i] = NAN; }
    if (nt <= 0) goto cleanup;
    doy = malloc((size_t)nt * sizeof *doy);
    span = malloc((size_t)nt * sizeof *span);
    AF_CHECK_ALLOC(doy && span ? span : NULL);
    int nspan = 0;
    for (int tt = 0; tt < nt; tt++) {
        af_date d = af_calendar_date(st->ctx->cal, t0 + tt);
        doy[tt] = af_date_doy(d);
        /* the calendar runs forward: each year's days are one span of the block */
        if (nspan == 0 || span[nspan - 1].year != d.year) span[nspan++] = (year_span){ d.year, tt, tt + 1 };
        else span[nspan - 1].b = tt + 1;
    }
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        if (!sample_applies(st, s)) continue;
        for (int k = 0; k < nspan; k++) AF_CHECK(fill_sample_year(st, i, s, &span[k], doy, nt, val, valid, err));
    }
cleanup:
    free(doy);
    free(span);
    af_model_table_dispose(&st->table); /* memory stays bounded by one file (or one year of it) */
    st->table_path[0] = '\0';
    return rc;
}

AF_SOURCE_FILES_FN(model_files, model_state, paths, npaths)

/* Units fixed by the format for feature f (agroflux/source.h source_units). */
static int model_units(const af_config *cfg, const af_feature_cfg *f, int daycent, char *out, size_t n,
                       af_error *err)
{
    int rc = AF_OK;
    af_source_ctx ctx;
    model_state st;
    af_models_spec sp;
    memset(&ctx, 0, sizeof ctx);
    memset(&st, 0, sizeof st);
    ctx.cfg = cfg;
    st.ctx = &ctx;
    st.daycent = daycent;
    st.sec = f->section;
    st.tmpl = af_config_get(f->section, "path");
    AF_CHECK(feature_spec(&st, f, &sp, err));
    const char *units = NULL;
    AF_CHECK(feature_units(&st, f->section, &sp, &units, err));
    snprintf(out, n, "%s", units);
cleanup:
    return rc;
}

static int ecosys_units(const af_config *cfg, const af_feature_cfg *f, char *out, size_t n, af_error *err)
{
    return model_units(cfg, f, 0, out, n, err);
}

static int daycent_units(const af_config *cfg, const af_feature_cfg *f, char *out, size_t n, af_error *err)
{
    return model_units(cfg, f, 1, out, n, err);
}

const af_source_kind af__source_ecosys = {
    .name = "ecosys",
    .help = "Ecosys daily output files (DOY DATE vars..., year-to-date fluxes), one per county/scenario and year",
    .keys = ecosys_keys,
    .open = ecosys_open,
    .fill = model_fill,
    .files = model_files,
    .close = model_close,
    .source_units = ecosys_units,
};

const af_source_kind af__source_daycent = {
    .name = "daycent",
    .help = "DayCent native outputs (.out with or without header, dc_sip.csv, harvest.csv), one run per county/scenario or site",
    .keys = daycent_keys,
    .open = daycent_open,
    .fill = model_fill,
    .files = model_files,
    .close = model_close,
    .source_units = daycent_units,
};
