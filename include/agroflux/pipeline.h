/* SPDX-License-Identifier: MIT */
/*
 * agroflux/pipeline.h: the two things a pipeline file can be asked to do.
 *
 * af_pipeline_run (collective on comm) reads the pipeline file, builds the
 * calendar and the sample set, partitions samples over ranks, fills inputs and
 * targets block by block of days from their sources, writes the shards
 * collectively and publishes index.json last. A failure on any rank stops all
 * ranks at the next stage boundary with the lowest failing rank's error, and
 * no index is published. After a block of days, once checkpoint_interval has passed, the run
 * checkpoints (collective flush, then OUTDIR/journal.json), so an interrupted run can be
 * continued with af_run_opts.resume; rank 0 reports progress (callback and
 * OUTDIR/progress.json). See docs/hpc.md. af_pipeline_plan (not collective) checks everything
 * without writing and reports what a run would do.
 */
#ifndef AGROFLUX_PIPELINE_H
#define AGROFLUX_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <mpi.h>
#include "agroflux/config.h"
#include "agroflux/error.h"
#include "agroflux/index.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Files the run keeps in the output directory besides shards and index. */
#define AF_JOURNAL_NAME "journal.json"   /**< resumable state; removed after the index is published */
#define AF_PROGRESS_NAME "progress.json" /**< progress for job monitoring, rewritten atomically */

/** What rank 0 reports while a run goes (see af_run_opts.progress). */
typedef struct af_progress {
    const char *pipeline;
    const char *state;        /**< "running", "done", "interrupted", "failed" */
    const char *stage;        /**< "setup", "write" (read + write of blocks), "finish", "publish" */
    int days_done, ndays;     /**< axis days whose blocks are written (all samples) */
    int resumed_from_day;     /**< days that were already done when this run started */
    size_t nsamples;
    double elapsed;           /**< seconds since the run started */
    double rate;              /**< sample-days per second written by this run, 0 if unknown */
    double eta;               /**< seconds left at that rate, -1 if unknown */
    int ranks;
} af_progress;

typedef void (*af_progress_fn)(const af_progress *p, void *payload);

/** Test-only failure points (set from AGROFLUX_TEST_FAIL_AT by the CLI; see docs/hpc.md). */
typedef enum af_test_fail {
    AF_TEST_FAIL_NONE = 0,
    AF_TEST_FAIL_WRITE_BLOCK, /**< fail on the last rank instead of writing block test_fail_block */
    AF_TEST_FAIL_SEALED       /**< fail after the shards are hashed and journaled, before renaming */
} af_test_fail;

typedef struct af_run_opts {
    const char *output;       /**< overrides [pipeline] output when non-NULL */
    int resume;               /**< continue from the journal in the output directory if it matches */
    /** Set asynchronously (signal handler) to ask for a clean stop at the next block boundary;
     * ranks agree collectively; the run returns AF_EINTERRUPTED with resumable state. */
    const volatile sig_atomic_t *stop_flag;
    double progress_interval; /**< seconds between progress reports (rank 0); 0: every block */
    double checkpoint_interval; /**< seconds between checkpoints (AF_CHECKPOINT_INTERVAL_DEFAULT); 0: after every block */
    af_progress_fn progress;  /**< optional callback on rank 0 */
    void *progress_payload;
    af_test_fail test_fail;   /**< test-only */
    int test_fail_block;      /**< test-only: block number, counted from the first day (block 0) */
    int test_block_delay_ms;  /**< test-only: sleep after each block is written */
    const char *const *sets;  /**< --set SECTION.KEY=VALUE overrides (af_config_load_sets) */
    size_t nsets;
    int force;                /**< write into a non-empty directory agroflux did not create */
    int strict;               /**< a coverage warning (coverage.json) fails the run: nothing is published */
} af_run_opts;

/**
 * Default seconds between checkpoints. A checkpoint fsyncs every shard and reads back the days
 * written since the previous one, so the disk writes each block's scattered pieces before the next
 * block starts: after every block that was ~20 % of a run (bench_scale's synth pipeline, 10 years on
 * 1 or 2 ranks). Once a minute bounds what a hard kill (out of memory, a lost node) loses to about a
 * minute of work plus one block; a stop request (signal) checkpoints whatever the interval.
 */
#define AF_CHECKPOINT_INTERVAL_DEFAULT 60.0

#define AF_RUN_OPTS_INIT { NULL, 0, NULL, 10.0, AF_CHECKPOINT_INTERVAL_DEFAULT, NULL, NULL, AF_TEST_FAIL_NONE, 0, 0, NULL, 0, 0, 0 }

#define AF_MAX_STAGES 8

typedef struct af_run_summary {
    char outdir[4096];
    char name[128];
    size_t nsamples, ncounty_samples, nsite_samples, nshards, ninputs, ntargets;
    int ndays;
    long long bytes;          /**< all shards */
    double seconds;           /**< wall time of the run on rank 0 */
    af_stage_time stages[AF_MAX_STAGES];
    size_t nstages;
    long long peak_rss_bytes; /**< max over ranks */
    long long *rank_peak_rss; /**< per rank, ranks entries (owned; af_run_summary_dispose) */
    int *rank_max_fds;        /**< per rank: most open file descriptors seen at a stage or block
                                   boundary (Linux /proc/self/fd; 0 elsewhere), ranks entries (owned) */
    int max_fds;              /**< max over ranks */
    int ranks;
    int resumed_from_day;     /**< 0 = ran from the first day */
    long long *coverage;      /**< [2 * (ninputs + ntargets)]: valid, applicable sample-days per input then target,
                                   over the days this run wrote (owned; af_run_summary_dispose) */
    long long coverage_warnings[AF_COV_NWARN]; /**< coverage warnings by kind (coverage.json lists them) */
} af_run_summary;

/**
 * Collective on comm. Run a pipeline; summary is filled on every rank (release with
 * af_run_summary_dispose, also after a failure). With opts->resume, a journal left
 * in the output directory by an interrupted run with the same config and layout is
 * continued (see docs/hpc.md); otherwise the run starts from the first day.
 * AF_EINTERRUPTED when stopped through opts->stop_flag: state is resumable.
 */
int af_pipeline_run(MPI_Comm comm, const char *pipeline_path, const af_run_opts *opts,
                    af_run_summary *summary, af_error *err);
void af_run_summary_dispose(af_run_summary *summary);

/** What `agroflux plan` reports. */
typedef struct af_plan_feature {
    char name[64];
    int is_target;
    char source[32];
    char units[64];
    size_t nfiles;            /**< files found for this feature's group */
} af_plan_feature;

typedef struct af_plan {
    char name[128];
    char outdir[4096];
    char calendar[16];
    af_date start, end;
    int ndays;
    size_t nsamples, ncounty_samples, nsite_samples, ncounties, nsites;
    int nranks;
    af_range *ranges;         /**< per rank */
    size_t nshards, shard_samples;
    long long est_bytes;
    af_plan_feature *features;
    size_t nfeatures;
    /* Memory per rank (bytes) of the rank with the most samples, an estimate (docs/hpc.md):
     * mem_per_rank = base + block buffers + open shards + gridded sources. */
    long long mem_per_rank, mem_base, mem_block, mem_shards, mem_sources;
    /** Rank 0's extra at the end of the run: coverage.json's text and one feature's gathered table
     *  (samples x years x (8 + 10 x features) bytes); the --mem-per-cpu value covers it. */
    long long mem_rank0;
    size_t max_shards_per_rank;  /**< most shards one rank opens */
} af_plan;

/** Not collective. Validate everything a run on nranks ranks would touch. */
/**
 * Load a pipeline file with its --set overrides (af_config_load_sets) and check what config
 * cannot: every feature's source kind and that kind's keys. What run and plan load with.
 */
int af_pipeline_config_load(const char *pipeline_path, const char *const *sets, size_t nsets,
                            af_config **out, af_error *err);
int af_pipeline_plan(const char *pipeline_path, int nranks, af_plan *out, af_error *err);
/** The same with --set overrides (af_config_load_sets). */
int af_pipeline_plan_sets(const char *pipeline_path, const char *const *sets, size_t nsets, int nranks,
                          af_plan *out, af_error *err);
void af_plan_dispose(af_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
