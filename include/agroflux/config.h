/* SPDX-License-Identifier: MIT */
/*
 * agroflux/config.h: the pipeline file (INI, parsed with libinih).
 *
 * Sections: [pipeline], [counties], [sites], one [scenario.NAME] per declared
 * management scenario (optional), and one [input.NAME] or [target.NAME] per
 * feature. Every key is declared once in a key table (type,
 * default, help) from which validation, `agroflux keys` and docs/pipelines.md
 * all come (a feature's source-kind keys are checked by the pipeline module, which
 * knows the kinds: config depends on no module above it); an unknown section or key, a missing required key, a bad value or
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
/** [pipeline] read_split: how ranks share the reads of sources that can split by days (gridded). */
typedef enum af_read_split { AF_READ_SPLIT_AUTO = 0, AF_READ_SPLIT_DAYS = 1, AF_READ_SPLIT_SAMPLES = 2 } af_read_split;
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

/* ---- [scenario.NAME]: management scenarios (src/config/scenarios.c) ---- */

#define AF_SCENARIO_MAX_APPS 8
#define AF_SCENARIO_MAX_CROPS 8

typedef enum af_n_timing {
    AF_N_PLANTING = 0,       /**< on the planting day */
    AF_N_AFTER_PLANTING = 1, /**< `days` days after the planting day */
    AF_N_DOY = 2             /**< on day of year `days` (1..366) */
} af_n_timing;

/** One fertilizer application of a scenario: a share of the scenario's N rate. */
typedef struct af_n_application {
    af_n_timing timing;
    int days;                /**< after_planting: offset >= 0; doy: day of year; planting: 0 */
    double fraction;         /**< n_split share, 0 < f <= 1; the shares sum to 1 */
} af_n_application;

/** One [scenario.NAME] section. */
typedef struct af_scenario_cfg {
    char name[64];
    int line;                /**< line of the [scenario.NAME] header */
    double n_rate;           /**< total N per fertilized year, in n_units (>= 0) */
    char n_units[64];        /**< as declared; converts to g N m-2 through the units table */
    af_n_application apps[AF_SCENARIO_MAX_APPS];
    size_t napps;
    int rotation[AF_SCENARIO_MAX_CROPS]; /**< CDL crop codes; year y grows rotation[(y - rotation_start) mod n] */
    size_t nrotation;        /**< 0: no rotation, the crop comes from the planting table */
    int rotation_start;      /**< year of rotation[0] (default: the pipeline's start year) */
    int n_crops[AF_SCENARIO_MAX_CROPS]; /**< crops that receive N (CDL codes) */
    size_t nn_crops;         /**< 0: every crop receives N */
    const af_config_section *section; /**< borrowed: the raw section */
} af_scenario_cfg;

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
    char data_root[4096]; /**< [pipeline] data_root resolved; paths starting {root} are under it; "" if unset */
    char data_url[4096];  /**< [pipeline] data_url as written: {data_url} in `url` templates; "" if unset */
    int no_path_check;    /**< loaded with AF_CONFIG_NO_PATH_CHECK: path keys were not checked for readability */
    char sha256[65];      /**< SHA-256 of the file's bytes; with --set overrides, of that hash and the overrides */
    char **sets;          /**< --set SECTION.KEY=VALUE overrides as given, in order (owned) */
    size_t nsets;
    /* [pipeline] */
    char name[128];
    af_date start, end;
    af_calendar_kind calendar;
    char output[4096];    /**< resolved */
    size_t shard_samples;
    int cdf5;
    int block_days;
    int read_split;       /**< [pipeline] read_split: AF_READ_SPLIT_AUTO, _DAYS or _SAMPLES */
    double coverage_min_fraction; /**< coverage accounting: a file-year below this valid share is a warning */
    /* [counties] */
    int has_counties;
    char county_layer[4096];
    char county_layer_name[256];
    char id_field[128];
    char county_select[4096];
    char **scenarios;     /**< names: from [scenario.*] sections in file order, else the `scenarios` list */
    size_t nscenarios;
    af_scenario_cfg *scenario_defs; /**< one per [scenario.NAME], aligned with scenarios[]; NULL if none */
    size_t nscenario_defs; /**< 0 (name-only scenarios) or nscenarios */
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
/**
 * The same, with command-line overrides "SECTION.KEY=VALUE" (e.g. "pipeline.end=2002-12-31",
 * "input.TMAX_AIR.path=..."; the section is everything before the last '.' ahead of '='),
 * applied before validation: a key of the file is replaced, a new one added. A section the
 * file lacks or a malformed override is AF_ECONFIG naming it.
 */
int af_config_load_sets(const char *path, const char *const *sets, size_t nsets, af_config **out,
                        af_error *err);
/** Flags of af_config_load_flags. */
#define AF_CONFIG_NO_PATH_CHECK 1 /**< do not require path keys to be readable (fetch, plan --list-files) */
/** af_config_load_sets with flags (AF_CONFIG_*). */
int af_config_load_flags(const char *path, const char *const *sets, size_t nsets, int flags, af_config **out,
                         af_error *err);
void af_config_destroy(af_config **cfg);

/**
 * When err's message starts "FILE:LINE:" (FILE the pipeline file) and LINE is that of an
 * --set override, "FILE:LINE:" becomes "--set 'SECTION.KEY=VALUE' (#N on the command line):".
 * The code is left alone; other messages too. (Callers that map errors to exit codes treat a
 * message that starts with the pipeline file's "FILE:LINE:" or "--set '" as a pipeline-file error.)
 */
void af_config_locate_error(const af_config *cfg, af_error *err);
/**
 * Check a section's keys against key tables a and b (b may be NULL): an unknown key (with
 * "did you mean"), a missing required key, a value of the wrong type or not among the
 * choices, an unreadable path key: AF_ECONFIG naming file:line (or the --set). af_config_load
 * checks every section but the source-kind keys of feature sections, which it cannot know;
 * the pipeline checks those with this and the kind's table (docs/architecture.md).
 */
int af_config_check_section(const af_config *cfg, const af_config_section *sec, const af_key_spec *a,
                            const af_key_spec *b, af_error *err);

/** Raw value of key in a section, or NULL. */
const char *af_config_get(const af_config_section *sec, const char *key);
/** Line of key in a section, or the section's line if absent. Negative for the value of an
 *  --set override (-N for the N-th): messages made with it are fixed by af_config_locate_error. */
int af_config_line(const af_config_section *sec, const char *key);
/** Resolve a path value relative to the pipeline file's directory, or, when it
 *  starts with {root}, relative to [pipeline] data_root (AF_ECONFIG if unset). */
int af_config_resolve(const af_config *cfg, const char *value, char *out, size_t n, af_error *err);

/** The [scenario.NAME] of a name, or NULL (name-only scenario or unknown name). */
const af_scenario_cfg *af_config_scenario(const af_config *cfg, const char *name);
/** Parse a crop: C|corn|S|soy|soybean or a CDL code (0..255). 1 if ok. */
int af_crop_parse(const char *text, int *code);

/** Keys every [input.*]/[target.*] section accepts, whatever its source. */
const af_key_spec *af_feature_common_keys(void);

/** Print the key table of every config section as Markdown (what docs/pipelines.md embeds,
 *  followed by the source kinds' tables: af_source_print_keys_markdown). */
void af_config_print_keys_markdown(FILE *fp);
/** One key table as Markdown under "### title". */
void af_config_print_key_table(FILE *fp, const char *title, const af_key_spec *keys);

#ifdef __cplusplus
}
#endif
#endif
