/* SPDX-License-Identifier: MIT */
/*
 * agroflux/index.h: index.json, the contract between agroflux and the training
 * side (schema: docs/formats.md, "index.json"). Written last, by rank 0, via a
 * temporary name + fsync + rename; its presence means the output is complete.
 * Also the verifier: every shard re-checked against the index. Not collective.
 */
#ifndef AGROFLUX_INDEX_H
#define AGROFLUX_INDEX_H

#include <stddef.h>
#include "agroflux/calendar.h"
#include "agroflux/output.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AF_INDEX_NAME "index.json"
#define AF_INDEX_SCHEMA_VERSION 1

/** An input file that fed the run (provenance). */
typedef struct af_prov_file {
    char path[512];
    long long bytes;
    char sha256[65];
} af_prov_file;

/** The provenance file (every input file with size and SHA-256), referenced from the index. */
#define AF_PROVENANCE_NAME "provenance.json"
typedef struct af_prov_ref {
    char path[64];            /**< relative to the output directory; "" when absent */
    long long bytes;
    char sha256[65];
    long long count;          /**< input files listed */
} af_prov_ref;

/** The coverage file (valid sample-days per feature, file, sample and year), referenced from the index
 * like provenance.json; and the kinds of coverage warning the index counts. */
#define AF_COVERAGE_NAME "coverage.json"
enum {
    AF_COV_FILE_EMPTY = 0,   /**< "file_no_valid_day": a file that contributes no valid day */
    AF_COV_YEAR_MISSING,     /**< "year_missing": a year of a file with no valid day (other years have some) */
    AF_COV_BELOW,            /**< "below_threshold": a file-year below [pipeline] coverage_min_fraction */
    AF_COV_SAMPLE,           /**< "sample_no_coverage": a county or site with no valid value of a feature */
    AF_COV_NWARN
};
/** The index key of a coverage warning kind ("file_no_valid_day", ...). */
const char *af_index_coverage_warning_name(int kind);

/** Per-stage wall time across ranks, seconds. */
typedef struct af_stage_time {
    char stage[32];
    double min, mean, max;  /* wall seconds over ranks (each stage ends in an agreement, so alike) */
    double cpu_min, cpu_max; /* CPU seconds over ranks: their ratio shows imbalance; -1: not recorded */
} af_stage_time;

/** The in-memory index: what af_index_write writes and af_index_read returns. */
typedef struct af_index {
    int schema_version;
    char pipeline_name[128];
    char config_sha256[65];
    const char *const *config_sets; /**< --set overrides (written only; borrowed) */
    size_t nconfig_sets;
    char calendar[16];        /**< "standard" or "noleap" */
    af_date start, end;
    int ndays;
    char format[8];           /**< "cdf2" or "cdf5" */
    size_t shard_samples;
    af_var_desc *inputs;
    size_t ninputs;
    af_var_desc *targets;
    size_t ntargets;
    af_shard_info *shards;
    size_t nshards;
    af_sample *samples;       /**< global order; shard and row derive from shard_samples */
    size_t nsamples;
    /* provenance */
    char software[64];
    char created[32];         /**< UTC ISO-8601; the only field allowed to differ between reruns */
    int ranks;
    af_prov_file *prov_inputs;  /**< inline list (older indexes); runs write prov_ref instead */
    size_t nprov_inputs;
    af_prov_ref prov_ref;       /**< "inputs_file": provenance.json, written before the index */
    af_stage_time *timings;
    size_t ntimings;
    long long peak_rss_bytes; /**< max over ranks */
    long long *rank_peak_rss; /**< per rank (optional, owned; NULL when absent) */
    size_t nrank_peak_rss;
    int *rank_max_fds;        /**< per rank: most open descriptors seen (optional, owned; NULL when absent) */
    size_t nrank_max_fds;
    int resumed_from_day;     /**< axis day the run resumed from; 0 = uninterrupted */
    long long *coverage;      /**< [2 * ncoverage]: valid, applicable sample-days per variable (inputs, then
                                   targets) over the days this run wrote (optional, owned; NULL when absent) */
    size_t ncoverage;
    af_prov_ref coverage_ref;   /**< "coverage_file": coverage.json ("" path when absent; count = features) */
    int has_coverage_warnings;  /**< "coverage_warnings" present */
    long long coverage_warnings[AF_COV_NWARN];
    char *extra_json;         /**< optional JSON object text merged under "extra" (splits, scalers...), owned */
} af_index;

/** Free all arrays inside (not the struct itself); NULL-safe. */
void af_index_dispose(af_index *idx);

/** Write outdir/index.json atomically. AF_EIO with path and errno text on failure. */
int af_index_write(const char *outdir, const af_index *idx, af_error *err);

/** Read and validate outdir/index.json. AF_ENOTFOUND if absent, AF_EFORMAT naming the bad field. */
int af_index_read(const char *outdir, af_index *out, af_error *err);

/**
 * Re-check every shard against the index: file present, byte size, SHA-256,
 * NetCDF dimensions (sample, time, input, target), one (time, sample) variable per
 * input and target, and sample ids row by row.
 * Returns AF_EVERIFY with a precise message (shard, field, expected, found) on
 * the first mismatch. nchecked (optional) receives the number of shards checked.
 */
int af_index_verify(const char *outdir, const af_index *idx, size_t *nchecked, af_error *err);

/** Index of the sample with this id, or -1. */
long af_index_find_sample(const af_index *idx, const char *id);

#ifdef __cplusplus
}
#endif
#endif
