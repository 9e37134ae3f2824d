/* SPDX-License-Identifier: MIT */
/*
 * management.c: the management source kind ("source = management"): daily
 * management features from planting tables, [scenario.NAME] sections and site
 * fertilizer records. `variable` selects one of
 *   fertilizer_n   N applied on the application day(s), 0 on every other day;
 *                  counties: the sample's scenario (rate x share, timing rule);
 *                  sites: the rows of the site's fertilizer-event file;
 *   planting_flag  1 on the planting day, 0 otherwise;
 *   harvest_flag   1 on the harvest day, 0 otherwise;
 *   crop           the year's crop (CDL code: 1 corn, 5 soybean) on every day;
 *   corn_flag      1 on every day of a year whose crop is corn (CDL 1), else 0:
 *                  AgroFlux's binary PLANTT (its X_scaler: mean 0.564, std 0.496).
 * The crop of a county year is the scenario's rotation if it has one, else the
 * planting table's single row for the key and year. Every event is computed at
 * open (a few per sample and year) and laid on the axis by fill. An event on a
 * day the calendar drops (Dec 31 of a leap year under noleap) moves to the
 * previous kept day, Dec 30, adding to what is there; nothing vanishes.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/source.h"
#include "agroflux/units.h"
#include "management_impl.h"
#include "agroflux/opts.h"
#include "sources_impl.h"

static const af_key_spec mg_keys[] = {
    { "variable", AF_KEY_CHOICE, 1, NULL, "fertilizer_n|planting_flag|harvest_flag|crop|corn_flag",
      "fertilizer_n: N on application days, 0 otherwise (units: a nitrogen unit, e.g. `g N m-2`); planting_flag / "
      "harvest_flag: 1 on the day, else 0 (units `flag`); crop: the year's CDL crop code, 1 corn, 5 soybean (units `class`); "
      "corn_flag: 1 in a year whose crop is corn (CDL 1), else 0 (units `flag`; AgroFlux's PLANTT)." },
    { "path", AF_KEY_STRING, 0, "", NULL,
      "Planting table (CSV key, year, crop, plant_date[, harvest_date]); a template with {year} {state} {fips} {site}. "
      "Needed unless every value comes from scenarios (doy timing, rotation) or site event files." },
    { "match", AF_KEY_CHOICE, 0, "county", "state|county|site",
      "What the key column holds for county samples: the 2-digit state FIPS or the 5-digit county FIPS; "
      "`site`: the table has sites only. Site samples always match by site id." },
    { "key_column", AF_KEY_STRING, 0, "key", NULL, "Planting table: key column." },
    { "year_column", AF_KEY_STRING, 0, "year", NULL, "Planting table: year column." },
    { "crop_column", AF_KEY_STRING, 0, "crop", NULL, "Planting table: crop column (CDL code, or C / S)." },
    { "plant_column", AF_KEY_STRING, 0, "plant_date", NULL, "Planting table: planting date column (YYYY-MM-DD, in the row's year)." },
    { "harvest_column", AF_KEY_STRING, 0, "harvest_date", NULL, "Planting table: harvest date column (optional column)." },
    { "events", AF_KEY_STRING, 0, "", NULL,
      "fertilizer_n for sites: CSV site, date, amount[, units]; a template (e.g. `mgmt/fert_{site}.csv`)." },
    { "events_units", AF_KEY_STRING, 0, "", NULL, "Units of `amount` where the events file has no units column or an empty field." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

enum { MG_FERT, MG_PLANT, MG_HARVEST, MG_CROP, MG_CORN };
enum { MATCH_COUNTY, MATCH_STATE, MATCH_SITE };

typedef struct mg_feat {
    const af_feature_cfg *f;
    int var;
    af_unit_conv *conv;   /* fertilizer_n: one per [scenario.*] */
} mg_feat;

typedef struct mg_event {
    size_t local;
    int t, k;
    double v;
} mg_event;

typedef struct mg_state {
    const af_source_ctx *ctx;
    size_t nfeat, nlocal;
    mg_feat *feats;
    const af_config_section *sec;
    const char *tmpl;     /* planting table template, NULL if none */
    int match;
    mg_columns cols;
    mg_file *files;
    size_t nfiles;
    const char **paths;
    int y0, nyears;
    int *crops;           /* [nlocal][nyears], -1 where not needed */
    mg_event *ev;
    size_t nev, capev;
    size_t *ev_first;     /* [nlocal + 1] into ev, sorted by (local, t, k) */
} mg_state;

static void mg_close(void *vst)
{
    mg_state *st = vst;
    if (!st) return;
    for (size_t k = 0; k < st->nfeat; k++) free(st->feats[k].conv);
    for (size_t i = 0; i < st->nfiles; i++) af__mg_file_dispose(&st->files[i]);
    free(st->files);
    free(st->paths);
    free(st->feats);
    free(st->crops);
    free(st->ev);
    free(st->ev_first);
    free(st);
}

static const char *var_name(int v)
{
    static const char *const n[] = { "fertilizer_n", "planting_flag", "harvest_flag", "crop", "corn_flag" };
    return n[v];
}

static int applies(const af_feature_cfg *f, const af_sample *s) { return af__kind_applies(f, s); }

/* Load (once) the file at path as a planting table (events = 0) or an events file. */
static int get_file(mg_state *st, const char *path, int events, const char *units, const mg_file **out, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < st->nfiles; i++)
        if (!strcmp(st->files[i].path, path)) { *out = &st->files[i]; goto cleanup; }
    if (!af_file_readable(path))
        AF_FAIL(AF_ENOTFOUND, "cannot read '%s': %s", path, access(path, F_OK) ? "no such file" : "not a readable file");
    mg_file *nf = realloc(st->files, sizeof *nf * (st->nfiles + 1));
    AF_CHECK_ALLOC(nf);
    st->files = nf;
    if (events) AF_CHECK(af__mg_read_events(path, units, &nf[st->nfiles], err));
    else AF_CHECK(af__mg_read_planting(path, &st->cols, &nf[st->nfiles], err));
    for (size_t j = 0; j < nf[st->nfiles].nrows; j++) nf[st->nfiles].rows[j].file = st->nfiles;
    *out = &st->files[st->nfiles++];
cleanup:
    return rc;
}

/* The planting row of sample s in year y (crop >= 0: that crop; else the year's only row). */
static int get_row(mg_state *st, const mg_feat *m, const af_sample *s, int y, int crop, const mg_row **row, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const af_config_section *fs = m->f->section;
    char path[4096], key[AF_ID_MAX];
    const mg_file *f = NULL;
    if (!st->tmpl)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] path: required: variable = %s needs planting dates for sample '%s'",
                cfg->path, fs->line, fs->name, var_name(m->var), s->id);
    if (s->kind == AF_SAMPLE_SITE) snprintf(key, sizeof key, "%s", s->id);
    else if (st->match == MATCH_STATE) snprintf(key, sizeof key, "%.2s", s->fips);
    else snprintf(key, sizeof key, "%s", s->fips);
    AF_CHECK(af__template_expand(cfg, st->sec, "path", st->tmpl, s, y, path, sizeof path, err));
    AF_CHECK(get_file(st, path, 0, "", &f, err));
    size_t first, n = af__mg_find(f, key, y, &first);
    if (crop >= 0) {
        size_t j = 0;
        while (j < n && f->rows[first + j].crop != crop) j++;
        if (j == n)
            AF_FAIL(AF_ENOTFOUND, "%s: no row for key '%s' year %d crop %d (sample '%s', [%s])", path, key, y, crop, s->id, fs->name);
        *row = &f->rows[first + j];
    } else {
        if (n == 0) AF_FAIL(AF_ENOTFOUND, "%s: no row for key '%s' year %d (sample '%s', [%s])", path, key, y, s->id, fs->name);
        if (n > 1)
            AF_FAIL(AF_EFORMAT, "%s:%ld: key '%s' year %d has %zu crops; declare a rotation in the sample's "
                    "[scenario.*] or keep one crop per key and year", path, f->rows[first + 1].line, key, y, n);
        *row = &f->rows[first];
    }
cleanup:
    return rc;
}

/* The crop of sample s in year y: the scenario's rotation, else the planting table. */
static int get_crop(mg_state *st, const mg_feat *m, const af_sample *s, const af_scenario_cfg *sc, int y, int *crop,
                    af_error *err)
{
    int rc = AF_OK;
    if (sc && sc->nrotation) {
        long n = (long)sc->nrotation, d = ((long)(y - sc->rotation_start) % n + n) % n;
        *crop = sc->rotation[d];
    } else {
        const mg_row *r;
        AF_CHECK(get_row(st, m, s, y, -1, &r, err));
        *crop = r->crop;
    }
cleanup:
    return rc;
}

/* Axis index of an event day; a day the calendar drops moves to the previous kept day. -1: outside the axis. */
static int place(const af_calendar *cal, long e)
{
    /* the axis' requested range: under noleap it may end on a dropped Dec 31 */
    long e0 = af_date_to_epoch(af_calendar_start(cal)), e1 = af_date_to_epoch(af_calendar_end(cal));
    if (e < e0 || e > e1) return -1;
    int t;
    while ((t = af_calendar_index_epoch(cal, e)) < 0 && e > e0) e--;
    return t;
}

static int add_event(mg_state *st, size_t local, long epoch, int k, double v, af_error *err)
{
    int rc = AF_OK;
    int t = place(st->ctx->cal, epoch);
    if (t < 0) goto cleanup;
    AF_CHECK(af_array_grow((void **)&st->ev, &st->capev, st->nev, sizeof *st->ev, 256, err));
    st->ev[st->nev++] = (mg_event){ local, t, k, v };
cleanup:
    return rc;
}

static int crop_listed(const af_scenario_cfg *sc, int crop)
{
    for (size_t i = 0; i < sc->nn_crops; i++)
        if (sc->n_crops[i] == crop) return 1;
    return 0;
}

/* A county sample's fertilizer events of year y. */
static int county_fert(mg_state *st, size_t i, size_t k, const af_sample *s, int y, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const mg_feat *m = &st->feats[k];
    const af_scenario_cfg *sc = af_config_scenario(cfg, s->scenario);
    if (!sc)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] variable = fertilizer_n: scenario '%s' has no [scenario.%s] section",
                cfg->path, af_config_line(m->f->section, "variable"), m->f->section->name, s->scenario, s->scenario);
    int crop = -1;
    if (sc->nn_crops || sc->nrotation) AF_CHECK(get_crop(st, m, s, sc, y, &crop, err));
    if (sc->nn_crops && !crop_listed(sc, crop)) goto cleanup;
    af_unit_conv conv = m->conv[sc - cfg->scenario_defs];
    for (size_t a = 0; a < sc->napps; a++) {
        const af_n_application *ap = &sc->apps[a];
        long e;
        if (ap->timing == AF_N_DOY) {
            e = af_date_to_epoch((af_date){ y, 1, 1 }) + ap->days - 1;
        } else {
            const mg_row *r;
            AF_CHECK(get_row(st, m, s, y, sc->nrotation ? crop : -1, &r, err));
            e = r->plant + ap->days;
        }
        af_date d = af_date_from_epoch(e);
        if (d.year != y) {
            char ds[11];
            af_date_format(d, ds);
            AF_FAIL(AF_ECONFIG, "%s:%d: [scenario.%s] n_days: application %zu falls on %s, outside year %d (sample '%s')",
                    cfg->path, af_config_line(sc->section, "n_days"), sc->name, a + 1, ds, y, s->id);
        }
        AF_CHECK(add_event(st, i, e, (int)k, af_units_apply(conv, sc->n_rate * ap->fraction), err));
    }
cleanup:
    return rc;
}

/* A site sample's fertilizer events: every row of its events file for this site. */
static int site_fert(mg_state *st, size_t i, size_t k, const af_sample *s, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const af_config_section *fs = st->feats[k].f->section;
    const char *tmpl = af_config_get(fs, "events"), *units = af_config_get(fs, "events_units");
    char path[4096];
    const mg_file *f = NULL;
    if (!tmpl || !tmpl[0])
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] events: required for site samples such as '%s' (or set applies_to = counties)",
                cfg->path, fs->line, fs->name, s->id);
    AF_CHECK(af__template_expand(cfg, fs, "events", tmpl, s, 0, path, sizeof path, err));
    AF_CHECK(get_file(st, path, 1, units ? units : "", &f, err));
    for (size_t j = 0; j < f->nferts; j++) {
        const mg_fert *r = &f->ferts[j];
        if (strcmp(r->site, s->id)) continue;
        af_unit_conv conv;
        af_error uerr = AF_ERROR_INIT;
        if (af_units_conversion(r->units, st->feats[k].f->units, &conv, &uerr) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%ld: units '%s': %s", path, r->line, r->units, uerr.msg);
        AF_CHECK(add_event(st, i, r->epoch, (int)k, af_units_apply(conv, r->amount), err));
    }
cleanup:
    return rc;
}

/* Every event and crop of local sample i. */
static int sample_events(mg_state *st, size_t i, af_error *err)
{
    int rc = AF_OK;
    const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
    const af_scenario_cfg *sc = s->kind == AF_SAMPLE_COUNTY ? af_config_scenario(st->ctx->cfg, s->scenario) : NULL;
    for (size_t k = 0; k < st->nfeat; k++) {
        const mg_feat *m = &st->feats[k];
        if (!applies(m->f, s)) continue;
        if (m->var == MG_FERT && s->kind == AF_SAMPLE_SITE) { AF_CHECK(site_fert(st, i, k, s, err)); continue; }
        for (int y = st->y0; y < st->y0 + st->nyears; y++) {
            int crop;
            const mg_row *r;
            switch (m->var) {
            case MG_FERT: AF_CHECK(county_fert(st, i, k, s, y, err)); break;
            case MG_CROP:
            case MG_CORN:
                AF_CHECK(get_crop(st, m, s, sc, y, &crop, err));
                st->crops[i * (size_t)st->nyears + (size_t)(y - st->y0)] = crop;
                break;
            default:
                crop = -1;
                if (sc && sc->nrotation) AF_CHECK(get_crop(st, m, s, sc, y, &crop, err));
                AF_CHECK(get_row(st, m, s, y, crop, &r, err));
                if (m->var == MG_HARVEST && r->harvest < 0)
                    AF_FAIL(AF_EFORMAT, "%s:%ld: column '%s': no harvest date for key '%s' year %d (variable = harvest_flag)",
                            st->files[r->file].path, r->line, st->cols.harvest, r->key, y);
                AF_CHECK(add_event(st, i, m->var == MG_PLANT ? r->plant : r->harvest, (int)k, 1.0, err));
            }
        }
    }
cleanup:
    return rc;
}

static int cmp_event(const void *a, const void *b)
{
    const mg_event *x = a, *y = b;
    if (x->local != y->local) return x->local < y->local ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* Sort events by (sample, day, feature), add up those on the same cell, index by sample. */
static int index_events(mg_state *st, af_error *err)
{
    int rc = AF_OK;
    if (st->nev) qsort(st->ev, st->nev, sizeof *st->ev, cmp_event);
    size_t w = 0;
    for (size_t r = 0; r < st->nev; r++) {
        if (w && st->ev[w - 1].local == st->ev[r].local && st->ev[w - 1].t == st->ev[r].t && st->ev[w - 1].k == st->ev[r].k)
            st->ev[w - 1].v += st->ev[r].v;
        else st->ev[w++] = st->ev[r];
    }
    st->nev = w;
    st->ev_first = calloc(st->nlocal + 1, sizeof *st->ev_first);
    AF_CHECK_ALLOC(st->ev_first);
    for (size_t i = 0, r = 0; i <= st->nlocal; i++) {
        while (r < st->nev && st->ev[r].local < i) r++;
        st->ev_first[i] = r;
    }
cleanup:
    return rc;
}

/* Check one feature's keys and units; fertilizer_n gets a conversion per scenario. */
static int open_feature(mg_state *st, mg_feat *m, const af_feature_cfg *f, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const af_config_section *fs = f->section;
    const char *v = af_config_get(fs, "variable");
    m->f = f;
    /* the key's choices are listed in MG_* order */
    AF_CHECK(af_opts_get_choice(cfg, fs, mg_keys, "variable", &m->var, err));
    af_unit_conv conv;
    af_error uerr = AF_ERROR_INIT;
    const char *need = m->var == MG_CROP ? "class" : m->var == MG_FERT ? "g N m-2" : "flag";
    if (af_units_conversion(need, f->units, &conv, &uerr) != AF_OK)
        AF_FAIL(AF_EUNITS, "%s:%d: [%s] units: variable = %s: %s", cfg->path, af_config_line(fs, "units"), fs->name, v, uerr.msg);
    if (m->var != MG_FERT) goto cleanup;
    m->conv = calloc(cfg->nscenario_defs ? cfg->nscenario_defs : 1, sizeof *m->conv);
    AF_CHECK_ALLOC(m->conv);
    for (size_t i = 0; i < cfg->nscenario_defs; i++) {
        const af_scenario_cfg *sc = &cfg->scenario_defs[i];
        if (af_units_conversion(sc->n_units, f->units, &m->conv[i], &uerr) != AF_OK)
            AF_FAIL(AF_EUNITS, "%s:%d: [%s] units: scenario %s: %s", cfg->path, af_config_line(fs, "units"), fs->name, sc->name, uerr.msg);
    }
cleanup:
    return rc;
}

static int mg_open(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **out, af_error *err)
{
    int rc = AF_OK;
    mg_state *st = calloc(1, sizeof *st);
    AF_CHECK_ALLOC(st);
    st->ctx = ctx;
    st->nfeat = nfeat;
    st->nlocal = ctx->range.end - ctx->range.begin;
    st->sec = feats[0]->section;
    const char *v = af_config_get(st->sec, "path");
    st->tmpl = v && v[0] ? v : NULL;
    static const int matches[] = { MATCH_STATE, MATCH_COUNTY, MATCH_SITE }; /* state|county|site */
    int m;
    AF_CHECK(af_opts_get_choice(ctx->cfg, st->sec, mg_keys, "match", &m, err));
    st->match = matches[m];
    static const struct { const char *key; size_t off; } colkeys[] = {
        { "key_column", offsetof(mg_columns, key) }, { "year_column", offsetof(mg_columns, year) },
        { "crop_column", offsetof(mg_columns, crop) }, { "plant_column", offsetof(mg_columns, plant) },
        { "harvest_column", offsetof(mg_columns, harvest) },
    };
    for (size_t j = 0; j < sizeof colkeys / sizeof colkeys[0]; j++) {
        AF_CHECK(af_opts_get_string(ctx->cfg, st->sec, mg_keys, colkeys[j].key, &v, err));
        snprintf((char *)&st->cols + colkeys[j].off, 128, "%s", v);
    }
    st->feats = calloc(nfeat, sizeof *st->feats);
    AF_CHECK_ALLOC(st->feats);
    /* Features grouped by path must agree on how the table is read. */
    static const char *const shared[] = { "match", "key_column", "year_column", "crop_column", "plant_column", "harvest_column" };
    AF_CHECK(af__group_keys_agree(ctx->cfg, feats, nfeat, shared, sizeof shared / sizeof shared[0], err));
    for (size_t k = 0; k < nfeat; k++) {
        AF_CHECK(open_feature(st, &st->feats[k], feats[k], err));
        if (st->match == MATCH_SITE && feats[k]->applies != AF_APPLIES_SITES && ctx->cfg->has_counties)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] match = site: the table has no county rows; set applies_to = sites",
                    ctx->cfg->path, af_config_line(feats[k]->section, "match"), feats[k]->section->name);
    }
    st->y0 = af_calendar_start(ctx->cal).year;
    st->nyears = af_calendar_end(ctx->cal).year - st->y0 + 1;
    st->crops = malloc((st->nlocal ? st->nlocal : 1) * (size_t)st->nyears * sizeof *st->crops);
    AF_CHECK_ALLOC(st->crops);
    for (size_t i = 0; i < st->nlocal * (size_t)st->nyears; i++) st->crops[i] = -1;
    for (size_t i = 0; i < st->nlocal; i++) AF_CHECK(sample_events(st, i, err));
    AF_CHECK(index_events(st, err));
    st->paths = calloc(st->nfiles ? st->nfiles : 1, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t i = 0; i < st->nfiles; i++) st->paths[i] = st->files[i].path;
    *out = st;
    st = NULL;
cleanup:
    mg_close(st);
    return rc;
}

static int mg_fill(void *vst, int t0, int nt, float *val, unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK;
    mg_state *st = vst;
    size_t nf = st->nfeat;
    int *year = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *year);
    AF_CHECK_ALLOC(year);
    for (int tt = 0; tt < nt; tt++) year[tt] = af_calendar_date(st->ctx->cal, t0 + tt).year;
    for (size_t i = 0; i < st->nlocal; i++) {
        const af_sample *s = af_sampleset_get_ref(st->ctx->set, st->ctx->range.begin + i);
        for (int tt = 0; tt < nt; tt++) {
            int y = year[tt];
            for (size_t k = 0; k < nf; k++) {
                size_t o = ((i * (size_t)nt) + (size_t)tt) * nf + k;
                qc[o] = NAN;
                if (!applies(st->feats[k].f, s)) { val[o] = NAN; valid[o] = 0; continue; }
                valid[o] = 1;
                int crop = st->crops[i * (size_t)st->nyears + (size_t)(y - st->y0)];
                val[o] = st->feats[k].var == MG_CROP ? (float)crop : st->feats[k].var == MG_CORN ? (float)(crop == 1) : 0.0f;
            }
        }
        for (size_t r = st->ev_first[i]; r < st->ev_first[i + 1]; r++) {
            const mg_event *e = &st->ev[r];
            if (e->t < t0 || e->t >= t0 + nt) continue;
            val[((i * (size_t)nt) + (size_t)(e->t - t0)) * nf + (size_t)e->k] = (float)e->v;
        }
    }
cleanup:
    free(year);
    return rc;
}

AF_SOURCE_FILES_FN(mg_files, mg_state, paths, nfiles)

/* Recorded source units: flags and crop codes as they are; N in the scenarios' declared
 * units when they agree (site event files are converted per row and are not covered). */
static int mg_units(const af_config *cfg, const af_feature_cfg *f, char *out, size_t n, af_error *err)
{
    (void)err;
    const char *v = af_config_get(f->section, "variable");
    if (strcmp(v ? v : "", "fertilizer_n")) {
        snprintf(out, n, "%s", v && !strcmp(v, "crop") ? "class" : "flag");
        return AF_OK;
    }
    const char *u = cfg->nscenario_defs ? cfg->scenario_defs[0].n_units : f->units;
    for (size_t i = 1; i < cfg->nscenario_defs; i++)
        if (strcmp(cfg->scenario_defs[i].n_units, u)) u = "per scenario (n_units)";
    snprintf(out, n, "%s", u);
    return AF_OK;
}

const af_source_kind af__source_management = {
    .name = "management",
    .help = "management events and crops (planting tables, [scenario.NAME], site fertilizer records)",
    .keys = mg_keys,
    .open = mg_open,
    .fill = mg_fill,
    .files = mg_files,
    .close = mg_close,
    .source_units = mg_units,
};
