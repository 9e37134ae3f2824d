/* SPDX-License-Identifier: MIT */
/*
 * scenarios.c: the [scenario.NAME] sections of the pipeline file (management
 * scenarios: N rate, units, timing, split applications, crop rotation) and how
 * they become the scenario list of [counties]. Every error is AF_ECONFIG
 * "file:line: [scenario.NAME] key: problem". The management source kind
 * (src/sources/management.c) turns a scenario into daily FERTZR_N values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "agroflux/opts.h"
#include "agroflux/units.h"
#include "config_impl.h"

static const af_key_spec scenario_keys[] = {
    { "n_rate", AF_KEY_DOUBLE, 0, "0", NULL,
      "Total fertilizer N per fertilized year (>= 0), in `n_units`; split over the applications by `n_split`." },
    { "n_units", AF_KEY_STRING, 0, "kg N ha-1", NULL,
      "Units of `n_rate` (units table, a nitrogen quantity: `kg N ha-1`, `g N m-2`, ...)." },
    { "n_timing", AF_KEY_LIST, 0, "planting", NULL,
      "Comma-separated application rules, one per application: `planting` (the planting day), "
      "`after_planting` (`n_days` days after planting) or `doy` (day of year `n_days`)." },
    { "n_days", AF_KEY_LIST, 0, "", NULL,
      "One integer per `n_timing` entry: 0 for planting, the offset (>= 0) for after_planting, the day of "
      "year (1..366) for doy. Required unless every timing is `planting`." },
    { "n_split", AF_KEY_LIST, 0, "", NULL,
      "One share per `n_timing` entry (each > 0, summing to 1), e.g. `0.3, 0.7`. Default 1 for one application." },
    { "rotation", AF_KEY_LIST, 0, "", NULL,
      "Crop rotation, e.g. `C, S` (corn then soybean; also corn, soybean or CDL codes). Year y grows entry "
      "(y - rotation_start) mod n. Without it the crop comes from the planting table." },
    { "rotation_start", AF_KEY_INT, 0, "", NULL, "Year of the rotation's first crop; default the pipeline start year." },
    { "n_crops", AF_KEY_LIST, 0, "", NULL,
      "Crops that receive N (e.g. `C`: soybean years get none); default every crop." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

const af_key_spec *af__config_scenario_keys(void) { return scenario_keys; }

int af_crop_parse(const char *text, int *code)
{
    static const struct { const char *name; int code; } names[] = {
        { "C", 1 }, { "corn", 1 }, { "S", 5 }, { "soy", 5 }, { "soybean", 5 }, { "soybeans", 5 },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(text, names[i].name)) { *code = names[i].code; return 1; }
    long v;
    if (!af_parse_long(text, &v) || v < 0 || v > 255) return 0;
    *code = (int)v;
    return 1;
}

const af_scenario_cfg *af_config_scenario(const af_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->nscenario_defs; i++)
        if (!strcmp(cfg->scenario_defs[i].name, name)) return &cfg->scenario_defs[i];
    return NULL;
}

/* A list key (its table default if unset) as at most max tokens copied into buf, tok[] pointing into it. */
static int tokens(const af_config *cfg, const af_config_section *sec, const char *key, char *buf, size_t bufn,
                  char **tok, size_t max, size_t *n, af_error *err)
{
    int rc = AF_OK;
    af_list l = AF_LIST_INIT;
    size_t used = 0;
    *n = 0;
    AF_CHECK(af_opts_get_list(cfg, sec, af__config_scenario_keys(), key, &l, err));
    if (l.n > max)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: more than %zu entries in '%s'", cfg->path, af_config_line(sec, key),
                sec->name, key, max, af_config_get(sec, key));
    for (size_t i = 0; i < l.n; i++) {
        size_t len = strlen(l.items[i]) + 1;
        if (used + len > bufn)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: value too long", cfg->path, af_config_line(sec, key), sec->name, key);
        memcpy(buf + used, l.items[i], len);
        tok[(*n)++] = buf + used;
        used += len;
    }
cleanup:
    af_list_dispose(&l);
    return rc;
}

static int parse_crops(const af_config *cfg, const af_config_section *sec, const char *key, int *codes, size_t *n,
                       af_error *err)
{
    int rc = AF_OK;
    char buf[1024], *tok[AF_SCENARIO_MAX_CROPS];
    AF_CHECK(tokens(cfg, sec, key, buf, sizeof buf, tok, AF_SCENARIO_MAX_CROPS, n, err));
    for (size_t i = 0; i < *n; i++)
        if (!af_crop_parse(tok[i], &codes[i]))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] %s: '%s' is not a crop (C, S, corn, soybean or a CDL code 0..255)",
                    cfg->path, af_config_line(sec, key), sec->name, key, tok[i]);
cleanup:
    return rc;
}

/* n_timing, n_days, n_split -> apps. */
static int parse_apps(const af_config *cfg, const af_config_section *sec, af_scenario_cfg *sc, af_error *err)
{
    int rc = AF_OK;
    char tb[1024], db[1024], sb[1024], *tt[AF_SCENARIO_MAX_APPS], *dt[AF_SCENARIO_MAX_APPS], *st[AF_SCENARIO_MAX_APPS];
    size_t nt = 0, nd = 0, ns = 0;
    const char *path = cfg->path, *name = sec->name;
    AF_CHECK(tokens(cfg, sec, "n_timing", tb, sizeof tb, tt, AF_SCENARIO_MAX_APPS, &nt, err));
    AF_CHECK(tokens(cfg, sec, "n_days", db, sizeof db, dt, AF_SCENARIO_MAX_APPS, &nd, err));
    AF_CHECK(tokens(cfg, sec, "n_split", sb, sizeof sb, st, AF_SCENARIO_MAX_APPS, &ns, err));
    if (nt == 0) AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_timing: no application", path, af_config_line(sec, "n_timing"), name);
    if (nd && nd != nt)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: %zu entries for %zu n_timing entries", path, af_config_line(sec, "n_days"), name, nd, nt);
    if (ns && ns != nt)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_split: %zu entries for %zu n_timing entries", path, af_config_line(sec, "n_split"), name, ns, nt);
    if (!ns && nt > 1)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_split: required with %zu applications", path, sec->line, name, nt);
    double sum = 0;
    for (size_t i = 0; i < nt; i++) {
        af_n_application *a = &sc->apps[i];
        if (!strcmp(tt[i], "planting")) a->timing = AF_N_PLANTING;
        else if (!strcmp(tt[i], "after_planting")) a->timing = AF_N_AFTER_PLANTING;
        else if (!strcmp(tt[i], "doy")) a->timing = AF_N_DOY;
        else AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_timing: '%s' is not one of planting|after_planting|doy", path,
                     af_config_line(sec, "n_timing"), name, tt[i]);
        long d = 0;
        if (nd && !af_parse_long(dt[i], &d))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: '%s' is not an integer", path, af_config_line(sec, "n_days"), name, dt[i]);
        if (!nd && a->timing != AF_N_PLANTING)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: required for n_timing = %s", path, sec->line, name, tt[i]);
        if (a->timing == AF_N_PLANTING && d != 0)
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: '%s' for planting must be 0 (use after_planting)", path,
                    af_config_line(sec, "n_days"), name, dt[i]);
        if (a->timing == AF_N_AFTER_PLANTING && (d < 0 || d > 365))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: '%s' for after_planting is not in 0..365", path,
                    af_config_line(sec, "n_days"), name, dt[i]);
        if (a->timing == AF_N_DOY && (d < 1 || d > 366))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_days: '%s' for doy is not a day of year 1..366", path,
                    af_config_line(sec, "n_days"), name, dt[i]);
        a->days = (int)d;
        a->fraction = 1.0;
        if (ns && (!af_parse_double(st[i], &a->fraction) || !(a->fraction > 0 && a->fraction <= 1)))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_split: '%s' is not a share in (0, 1]", path,
                    af_config_line(sec, "n_split"), name, st[i]);
        sum += a->fraction;
    }
    if (fabs(sum - 1.0) > 1e-9)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_split: shares sum to %.10g, not 1", path, af_config_line(sec, "n_split"), name, sum);
    sc->napps = nt;
cleanup:
    return rc;
}

int af__config_load_scenario(af_config *cfg, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const char *name = sec->name + strlen("scenario.");
    AF_CHECK(af__config_check_keys(cfg, sec, scenario_keys, err));
    if (!name[0] || strlen(name) >= sizeof cfg->scenario_defs[0].name)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] scenario name must be 1..63 characters", cfg->path, sec->line, sec->name);
    for (const char *p = name; *p; p++)
        if (*p == ',' || *p == ':' || *p == ' ' || *p == '/')
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] scenario name may not contain '%c'", cfg->path, sec->line, sec->name, *p);
    af_scenario_cfg *ns = realloc(cfg->scenario_defs, sizeof *ns * (cfg->nscenario_defs + 1));
    AF_CHECK_ALLOC(ns);
    cfg->scenario_defs = ns;
    af_scenario_cfg *sc = &ns[cfg->nscenario_defs];
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "%s", name);
    sc->line = sec->line;
    sc->section = sec;
    const char *v = af_config_get(sec, "n_rate");
    if (v && v[0]) {
        af_parse_double(v, &sc->n_rate); /* check_keys proved it is a number */
        if (!(sc->n_rate >= 0) || !isfinite(sc->n_rate))
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_rate: '%s' is negative", cfg->path, af_config_line(sec, "n_rate"), sec->name, v);
    }
    v = af_config_get(sec, "n_units");
    snprintf(sc->n_units, sizeof sc->n_units, "%s", v && v[0] ? v : "kg N ha-1");
    af_unit_conv conv;
    af_error uerr = AF_ERROR_INIT;
    if (af_units_conversion(sc->n_units, "g N m-2", &conv, &uerr) != AF_OK)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] n_units: %s", cfg->path, af_config_line(sec, "n_units"), sec->name, uerr.msg);
    AF_CHECK(parse_apps(cfg, sec, sc, err));
    AF_CHECK(parse_crops(cfg, sec, "rotation", sc->rotation, &sc->nrotation, err));
    AF_CHECK(parse_crops(cfg, sec, "n_crops", sc->n_crops, &sc->nn_crops, err));
    v = af_config_get(sec, "rotation_start");
    sc->rotation_start = v && v[0] ? atoi(v) : 0; /* 0: the pipeline start year, set in finish */
    if (sc->rotation_start && !sc->nrotation)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] rotation_start: given without rotation", cfg->path,
                af_config_line(sec, "rotation_start"), sec->name);
    cfg->nscenario_defs++;
cleanup:
    return rc;
}

/* Make [counties] scenarios agree with the [scenario.*] sections. */
int af__config_scenarios_finish(af_config *cfg, const af_config_section *counties, af_error *err)
{
    int rc = AF_OK;
    if (cfg->nscenario_defs == 0) goto cleanup;
    for (size_t i = 0; i < cfg->nscenario_defs; i++)
        if (!cfg->scenario_defs[i].rotation_start) cfg->scenario_defs[i].rotation_start = cfg->start.year;
    if (!counties)
        AF_FAIL(AF_ECONFIG, "%s:%d: [%s] declared but there is no [counties] section (scenarios apply to counties)",
                cfg->path, cfg->scenario_defs[0].line, cfg->scenario_defs[0].section->name);
    if (af_config_get(counties, "scenarios")) {
        int line = af_config_line(counties, "scenarios");
        if (cfg->nscenarios != cfg->nscenario_defs)
            AF_FAIL(AF_ECONFIG, "%s:%d: [counties] scenarios: lists %zu names but the file declares %zu [scenario.*] "
                    "sections (list them in section order, or drop the key)", cfg->path, line, cfg->nscenarios, cfg->nscenario_defs);
        for (size_t i = 0; i < cfg->nscenarios; i++)
            if (strcmp(cfg->scenarios[i], cfg->scenario_defs[i].name))
                AF_FAIL(AF_ECONFIG, "%s:%d: [counties] scenarios: entry %zu is '%s' but [scenario.*] section %zu is '%s' "
                        "(list them in section order, or drop the key)", cfg->path, line, i + 1, cfg->scenarios[i], i + 1,
                        cfg->scenario_defs[i].name);
        goto cleanup;
    }
    for (size_t i = 0; i < cfg->nscenarios; i++) free(cfg->scenarios[i]);
    free(cfg->scenarios);
    cfg->nscenarios = 0;
    cfg->scenarios = calloc(cfg->nscenario_defs, sizeof *cfg->scenarios);
    AF_CHECK_ALLOC(cfg->scenarios);
    for (size_t i = 0; i < cfg->nscenario_defs; i++) {
        cfg->scenarios[i] = af_strdup(cfg->scenario_defs[i].name);
        AF_CHECK_ALLOC(cfg->scenarios[i]);
        cfg->nscenarios++;
    }
cleanup:
    return rc;
}
