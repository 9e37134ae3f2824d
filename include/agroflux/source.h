/* SPDX-License-Identifier: MIT */
/*
 * agroflux/source.h: the interface every raw-data source implements.
 *
 * A source kind (e.g. "table") declares its pipeline-file keys and turns the
 * features of one group (features of the same kind reading the same path) into
 * daily values for this rank's samples, one block of days at a time, so memory
 * is bounded by the block, not by the number of years. Values are already in
 * the feature's output units (conversions via agroflux/units.h). Not
 * collective: each rank opens and fills its own state.
 */
#ifndef AGROFLUX_SOURCE_H
#define AGROFLUX_SOURCE_H

#include <stddef.h>
#include <stdio.h>
#include "agroflux/calendar.h"
#include "agroflux/config.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Work shared between the ranks of a run (set by the pipeline on more than one rank, NULL
 * otherwise): a kind with `shares_open` describes only its share of the files at open (part of
 * nparts) and passes the descriptions to every rank through allgather. Keeps sources free of MPI.
 */
typedef struct af_source_share {
    int nparts;       /**< ranks of the run */
    int part;         /**< this rank, 0..nparts-1 */
    /**
     * Collective over the run: every part's `n` bytes at `mine`, concatenated in part order into
     * *all, with (*counts)[nparts] bytes from each part (both malloc'd, the caller frees them).
     * Every rank calls it the same number of times; fails on every rank alike (then both NULL).
     */
    int (*allgather)(const struct af_source_share *sh, const void *mine, size_t n, void **all, size_t **counts,
                     af_error *err);
    void *impl;       /**< the pipeline's (its communicator) */
    /** Pieces of work handed out by shared opens so far in this run, the same on every rank: an
     * open deals its pieces from part (*dealt % nparts) on and adds their number, so that groups
     * of a few files each do not all load the lowest ranks. */
    size_t *dealt;
} af_source_share;

/**
 * A run's record of checks that every group would repeat alike, e.g. that the samples' CRS
 * transforms into a raster's CRS (each soil layer, each gridded variable: ~5 ms of PROJ each,
 * on every rank): a group skips a check an earlier group passed. Not collective; each rank
 * keeps its own. Owned by the pipeline (af_source_memo_create / _destroy).
 */
typedef struct af_source_memo af_source_memo;
int af_source_memo_create(af_source_memo **out, af_error *err);
void af_source_memo_destroy(af_source_memo **memo);

/** What a source sees of the run. All borrowed. */
typedef struct af_source_ctx {
    const af_config *cfg;
    const af_calendar *cal;
    const af_sampleset *set;
    af_range range;   /**< this rank's global samples [begin, end) */
    const af_source_share *share; /**< NULL: one rank, or not shared (plan) */
    af_source_memo *memo;         /**< NULL: every check is made */
} af_source_ctx;

typedef struct af_source_kind {
    const char *name;
    const char *help;
    const af_key_spec *keys;  /**< keys besides the common feature keys */
    /** Open a group of nfeat features; validate files, columns, units. */
    int (*open)(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat,
                void **state, af_error *err);
    /**
     * Fill days [t0, t0+nt) for the rank's samples: dense arrays
     * [nlocal][nt][nfeat]. Missing: val NaN, valid 0. qc NaN where the source has none.
     */
    int (*fill)(void *state, int t0, int nt, float *val, unsigned char *valid, float *qc,
                af_error *err);
    /** Files this group reads (for provenance): borrowed array of paths. */
    int (*files)(void *state, const char *const **paths, size_t *npaths, af_error *err);
    void (*close)(void *state);
    /**
     * Optional. The units feature f holds in the raw files when the format fixes
     * them (recorded as source_units in shards and index). NULL: the feature's
     * source_units key, or else its output units. Config only, no file access.
     */
    int (*source_units)(const af_config *cfg, const af_feature_cfg *f, char *out, size_t n,
                        af_error *err);
    /**
     * Optional, with fill_days: the group's work divides by days, not by samples (a gridded file
     * whose compressed chunks span every county: each rank would decode all of them). On more than
     * one rank the pipeline then opens the group on every sample (range = all) and, per block,
     * calls split_days, then fill_days for this rank's part, and moves each (sample, day) to the
     * rank owning the sample. split_days gives every day of [t0, t0+nt) a part in 0..nparts-1
     * (part[t - t0]) from the files alone, the same on every rank; load[nparts] holds the work
     * already given to each part in this block (other groups) and is increased by this group's.
     */
    int (*split_days)(void *state, int t0, int nt, int nparts, double *load, int *part, af_error *err);
    /**
     * The days of [t0, t0+nt) whose part is `mine`, for every sample of the range: dense arrays
     * [nrange][nmine][nfeat], days in increasing order. Each (sample, day) value must equal what
     * fill gives for it, so output does not depend on the rank count.
     */
    int (*fill_days)(void *state, int t0, int nt, const int *part, int mine, float *val, unsigned char *valid,
                     float *qc, af_error *err);
    /**
     * 1: when ctx->share is set, open is collective: it calls share->allgather exactly once on
     * every rank, whatever fails (a failure is passed on in the gathered bytes), and fails on every
     * rank alike when any rank's share failed. The pipeline opens these groups first, on every rank,
     * agreeing on failure after each.
     */
    int shares_open;
    /**
     * Optional, with shares_open: open in two steps, so that the pipeline describes every shared
     * group's share before any exchange (one wait for the slowest rank instead of one per group).
     * open_scan does what open does up to its allgather, not collective, and fails alike on every
     * rank (configuration; *state is then NULL); open_join(state) makes the allgather and the rest,
     * collective as open. The pipeline calls open_scan for every such group, agrees on failure once,
     * then open_join for each in the same order, agreeing after each; close frees a state whose join
     * failed or never came.
     */
    int (*open_scan)(const af_source_ctx *ctx, const af_feature_cfg *const *feats, size_t nfeat, void **state,
                     af_error *err);
    int (*open_join)(void *state, af_error *err);
} af_source_kind;

/** The registry, NULL-terminated, in a fixed order. */
const af_source_kind *const *af_source_kinds(void);
/** Find a kind by name, or NULL. */
const af_source_kind *af_source_kind_find(const char *name);
/** "table|gridded|..." (every kind's name, registry order) into out. */
void af_source_kind_names(char *out, size_t n);
/** Print every kind's key table as Markdown (after af_config_print_keys_markdown). */
void af_source_print_keys_markdown(FILE *fp);


#ifdef __cplusplus
}
#endif
#endif
