/* SPDX-License-Identifier: MIT */
/*
 * splits.c: the [splits] section of the pipeline file: its key table and its
 * loader. A temporal split (train/val/test year ranges inside the daily axis,
 * disjoint, in that order), a spatial k-fold over counties (contiguous blocks
 * as AgroFlux, or a seeded random assignment) and leave-one-site-out folds.
 * The assignments themselves are drawn by src/train once samples are known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/config.h"
#include "config_impl.h"

static const af_key_spec splits_keys[] = {
    { "temporal_train", AF_KEY_STRING, 0, "", NULL,
      "Training years, `Y1-Y2` or `Y` (AgroFlux Ecosys: 2001-2014; DayCent: 2000-2015). "
      "Given with temporal_val and temporal_test; the three ranges are disjoint and in order." },
    { "temporal_val", AF_KEY_STRING, 0, "", NULL, "Validation years (AgroFlux Ecosys: 2015; DayCent: 2016-2017)." },
    { "temporal_test", AF_KEY_STRING, 0, "", NULL, "Test years (AgroFlux Ecosys: 2016-2018; DayCent: 2018-2020)." },
    { "temporal_samples", AF_KEY_CHOICE, 0, "counties", "counties|sites|all",
      "Which samples the temporal split (and its scalers) covers." },
    { "spatial_folds", AF_KEY_INT, 0, "", NULL,
      "k >= 3 folds over counties (all scenarios of a county in one fold); fold f validates on "
      "fold f and tests on fold (f+1) mod k. Unset: no spatial split." },
    { "spatial_assign", AF_KEY_CHOICE, 0, "blocks", "blocks|random",
      "blocks: contiguous runs of the county list ([counties] select row order, else FIPS; as "
      "AgroFlux's county file); random: a seeded shuffle of the list "
      "(splitmix64 Fisher-Yates, docs/formats.md)." },
    { "spatial_seed", AF_KEY_INT, 0, "1", NULL, "Seed of spatial_assign = random." },
    { "loso", AF_KEY_CHOICE, 0, "auto", "auto|yes|no",
      "Leave-one-site-out folds over all sites (fold f: validation site f, test site f+1); "
      "auto: when there are at least 3 sites." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

const af_key_spec *af__config_splits_keys(void) { return splits_keys; }

/* "Y1-Y2" or "Y" into [y0, y1]. */
static int parse_years(const af_config *cfg, const af_config_section *sec, const char *key, int *y0,
                       int *y1, af_error *err)
{
    int rc = AF_OK;
    const char *v = af_config_get(sec, key);
    int a, b, n = 0;
    if (!v || !v[0])
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] missing key '%s' (temporal_train, temporal_val and temporal_test go together)",
                cfg->path, sec->line, key);
    if (sscanf(v, "%d-%d%n", &a, &b, &n) == 2 && v[n] == '\0') {
        /* range */
    } else if (sscanf(v, "%d%n", &a, &n) == 1 && v[n] == '\0') {
        b = a;
    } else {
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] %s: '%s' is not a year or a range Y1-Y2", cfg->path,
                af_config_line(sec, key), key, v);
    }
    if (b < a)
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] %s: '%s' ends before it starts", cfg->path, af_config_line(sec, key), key, v);
    if (a < cfg->start.year || b > cfg->end.year)
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] %s: '%s' lies outside the daily axis %d-%d", cfg->path,
                af_config_line(sec, key), key, v, cfg->start.year, cfg->end.year);
    *y0 = a;
    *y1 = b;
cleanup:
    return rc;
}

static int load_temporal(af_config *cfg, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    af_splits_cfg *s = &cfg->splits;
    int any = 0;
    static const char *const keys[3] = { "temporal_train", "temporal_val", "temporal_test" };
    for (int i = 0; i < 3; i++) {
        const char *v = af_config_get(sec, keys[i]);
        any |= v && v[0];
    }
    if (!any) return AF_OK;
    AF_CHECK(parse_years(cfg, sec, keys[0], &s->train_y0, &s->train_y1, err));
    AF_CHECK(parse_years(cfg, sec, keys[1], &s->val_y0, &s->val_y1, err));
    AF_CHECK(parse_years(cfg, sec, keys[2], &s->test_y0, &s->test_y1, err));
    if (s->val_y0 <= s->train_y1 || s->test_y0 <= s->val_y1)
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] temporal ranges overlap or are out of order: train %d-%d, val %d-%d, "
                "test %d-%d (each must end before the next starts)", cfg->path, sec->line, s->train_y0, s->train_y1,
                s->val_y0, s->val_y1, s->test_y0, s->test_y1);
    s->temporal = 1;
cleanup:
    return rc;
}

int af__config_load_splits(af_config *cfg, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    af_splits_cfg *s = &cfg->splits;
    const char *v;
    AF_CHECK(af__config_check_keys(cfg, sec, splits_keys, err));
    memset(s, 0, sizeof *s);
    s->present = 1;
    AF_CHECK(load_temporal(cfg, sec, err));
    v = af_config_get(sec, "temporal_samples");
    s->temporal_samples = !v || !v[0] || !strcmp(v, "counties") ? AF_APPLIES_COUNTIES
                          : !strcmp(v, "sites")                  ? AF_APPLIES_SITES
                                                                 : AF_APPLIES_ALL;
    v = af_config_get(sec, "spatial_folds");
    if (v && v[0]) {
        s->spatial_folds = atoi(v);
        if (s->spatial_folds < 3)
            AF_FAIL(AF_ECONFIG, "%s:%d: [splits] spatial_folds: %s is too few (at least 3: validation, test and "
                    "training folds)", cfg->path, af_config_line(sec, "spatial_folds"), v);
    }
    v = af_config_get(sec, "spatial_assign");
    s->spatial_random = v && !strcmp(v, "random");
    v = af_config_get(sec, "spatial_seed");
    s->spatial_seed = v && v[0] ? strtoul(v, NULL, 10) : 1UL;
    v = af_config_get(sec, "loso");
    s->loso = !v || !v[0] || !strcmp(v, "auto") ? 2 : !strcmp(v, "yes") ? 1 : 0;
    if (!s->temporal && !s->spatial_folds && s->loso == 0)
        AF_FAIL(AF_ECONFIG, "%s:%d: [splits] declares no split (give temporal_* years, spatial_folds or loso)",
                cfg->path, sec->line);
cleanup:
    return rc;
}
