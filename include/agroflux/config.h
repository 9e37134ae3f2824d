/* SPDX-License-Identifier: MIT */
/*
 * agroflux/config.h: the pipeline file (INI, parsed with libinih).
 *
 * Sections: [pipeline], [counties], [sites], and one [input.NAME] or
 * [target.NAME] per feature. Every key is declared once in a key table (type,
 * default, help) from which validation, `agroflux keys` and docs/pipelines.md
 * all come; an unknown section or key, a missing required key, a bad value or
 * an unreadable path is an AF_ECONFIG error naming file, line and key. Paths are
 * relative to the pipeline file. Not collective: every rank parses the same file.
 */
#ifndef AGROFLUX_CONFIG_H
#define AGROFLUX_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "agroflux/calendar.h"
#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum af_key_type {
    AF_KEY_STRING, AF_KEY_PATH, AF_KEY_INT, AF_KEY_DOUBLE, AF_KEY_DATE, AF_KEY_LIST, AF_KEY_CHOICE
} af_key_type;

/** One declared key. A table ends with an entry whose key is NULL. */
typedef struct af_key_spec {
    const char *key;
    af_key_type type;
    int required;
    const char *def;      /**< default text, NULL if none */
    const char *choices;  /**< for AF_KEY_CHOICE: "a|b|c" */
    const char *help;
} af_key_spec;

/** A raw key = value with its line, as read from a section. */
typedef struct af_config_entry {
    char *key;
    char *value;
    int line;
} af_config_entry;

typedef struct af_config_section {
    char *name;           /**< e.g. "input.TMAX_AIR" */
    int line;             /**< line of the [header] */
    af_config_entry *entries;
    size_t nentries;
} af_config_section;

typedef enum af_feature_role { AF_ROLE_INPUT = 0, AF_ROLE_TARGET = 1 } af_feature_role;
typedef enum af_applies { AF_APPLIES_ALL = 0, AF_APPLIES_COUNTIES = 1, AF_APPLIES_SITES = 2 } af_applies;

/** One [input.NAME] or [target.NAME] section. */
typedef struct af_feature_cfg {
    char name[64];
    af_feature_role role;
    char source[32];      /**< source kind, e.g. "table" */
    char units[64];       /**< output units */
    char long_name[160];
    char sign[160];       /**< sign convention text for fluxes */
    af_applies applies;
    const af_config_section *section; /**< borrowed: raw entries for the source kind */
} af_feature_cfg;

/** [splits] (src/config/splits.c): how training splits are drawn; years are calendar years. */
typedef struct af_splits_cfg {
    int present;              /**< 1 if the file has a [splits] section */
    int temporal;             /**< 1 if temporal_train is given (then val and test are too) */
    int train_y0, train_y1, val_y0, val_y1, test_y0, test_y1; /**< inclusive year ranges */
    af_applies temporal_samples; /**< which samples the temporal split covers */
    int spatial_folds;        /**< 0: no spatial split; else k >= 3 */
    int spatial_random;       /**< 0: contiguous blocks (AgroFlux), 1: seeded random */
    unsigned long spatial_seed;
    int loso;                 /**< 0 no, 1 yes, 2 auto (yes when there are >= 3 sites) */
} af_splits_cfg;

typedef struct af_config {
    char path[4096];      /**< the pipeline file as given */
    char dir[4096];       /**< its directory: base of relative paths */
    char sha256[65];      /**< SHA-256 of the file's bytes */
    /* [pipeline] */
    char name[128];
    af_date start, end;
    af_calendar_kind calendar;
    char output[4096];    /**< resolved */
    size_t shard_samples;
    int cdf5;
    int block_days;
    /* [counties] */
    int has_counties;
    char county_layer[4096];
    char county_layer_name[256];
    char id_field[128];
    char county_select[4096];
    char **scenarios;
    size_t nscenarios;
    /* [sites] */
    int has_sites;
    char site_list[4096];
    /* features, in file order; inputs and targets interleaved as written */
    af_feature_cfg *features;
    size_t nfeatures;
    /* [splits] */
    af_splits_cfg splits;
    /* raw sections (owned) */
    af_config_section *sections;
    size_t nsections;
} af_config;

/** Parse and validate. On error nothing is returned and err names file:line and key. */
int af_config_load(const char *path, af_config **out, af_error *err);
void af_config_destroy(af_config **cfg);

/** Raw value of key in a section, or NULL. */
const char *af_config_get(const af_config_section *sec, const char *key);
/** Line of key in a section, or the section's line if absent. */
int af_config_line(const af_config_section *sec, const char *key);
/** Resolve a path value relative to the pipeline file's directory. */
int af_config_resolve(const af_config *cfg, const char *value, char *out, size_t n, af_error *err);

/** Print every section's key table as Markdown (what docs/pipelines.md embeds). */
void af_config_print_keys_markdown(FILE *fp);

#ifdef __cplusplus
}
#endif
#endif
