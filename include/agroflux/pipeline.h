/* SPDX-License-Identifier: MIT */
/*
 * agroflux/pipeline.h: the two things a pipeline file can be asked to do.
 *
 * af_pipeline_run (collective on comm) reads the pipeline file, builds the
 * calendar and the sample set, partitions samples over ranks, fills inputs and
 * targets block by block of days from their sources, writes the shards
 * collectively and publishes index.json last. A failure on any rank stops all
 * ranks at the next stage boundary with the lowest failing rank's error, and
 * no index is published. af_pipeline_plan (not collective) checks everything
 * without writing and reports what a run would do.
 */
#ifndef AGROFLUX_PIPELINE_H
#define AGROFLUX_PIPELINE_H

#include <stddef.h>
#include <mpi.h>
#include "agroflux/error.h"
#include "agroflux/index.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct af_run_opts {
    const char *output;       /**< overrides [pipeline] output when non-NULL */
} af_run_opts;

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
    int ranks;
} af_run_summary;

/** Collective on comm. Run a pipeline; summary is filled on every rank. */
int af_pipeline_run(MPI_Comm comm, const char *pipeline_path, const af_run_opts *opts,
                    af_run_summary *summary, af_error *err);

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
} af_plan;

/** Not collective. Validate everything a run on nranks ranks would touch. */
int af_pipeline_plan(const char *pipeline_path, int nranks, af_plan *out, af_error *err);
void af_plan_dispose(af_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
