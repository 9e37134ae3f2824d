/* SPDX-License-Identifier: MIT */
/*
 * agroflux/train.h: training-ready outputs. After a run's shards are final,
 * af_train_extra draws the split assignments declared in [splits] and computes
 * per-feature and per-target scalers (mean, population std) over the training
 * part of every split definition only, merged in global sample order so the
 * numbers are bitwise identical for any rank count; the result is the JSON
 * object stored under "extra" in index.json (schema: docs/formats.md).
 * af_export_agroflux writes the arrays the official AgroFlux training code
 * loads; af_export_verify re-checks such an export against its index.
 */
#ifndef AGROFLUX_TRAIN_H
#define AGROFLUX_TRAIN_H

#include <stddef.h>
#include <mpi.h>

#include "agroflux/config.h"
#include "agroflux/error.h"
#include "agroflux/index.h"
#include "agroflux/output.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Scaler partials of this rank's samples fed from the blocks a run writes, so
 * that af_train_extra_from need not read the shards back: per (sample, year,
 * variable) the same running statistics in the same day order as the read-back,
 * so the scalers are bitwise the same.
 */
typedef struct af_train_partials af_train_partials;

/**
 * Not collective. Partials for samples [s0, s0+ns) of a run of cfg with ninputs
 * and ntargets; *out = NULL (and AF_OK) when cfg has no [splits]. AF_ENOMEM.
 */
int af_train_partials_create(const af_config *cfg, size_t s0, size_t ns, size_t ninputs, size_t ntargets,
                             af_train_partials **out, af_error *err);
/**
 * Not collective. Add days [t0, t0+nt) of every sample, in the layout of
 * af_shardset_write_block: x[ns][nt][ninputs], y[ns][nt][ntargets]. Blocks must
 * come in day order without gaps from day 0 (AF_EINVAL otherwise). NULL p: no-op.
 */
int af_train_partials_add(af_train_partials *p, int t0, int nt, const float *x, const float *y, af_error *err);
/** Not collective. NULL-safe, idempotent; sets *p = NULL. */
void af_train_partials_destroy(af_train_partials **p);

/**
 * Collective on comm. Reads this rank's samples `mine` back from the finished
 * shards under outdir, computes splits and scalers, and returns on every rank
 * the JSON object text for the index "extra" (caller frees), or NULL when the
 * pipeline has no [splits] section. AF_ECONFIG when the splits cannot be drawn
 * (fewer counties than spatial folds, loso = yes with fewer than 3 sites).
 */
int af_train_extra(MPI_Comm comm, const af_config *cfg, const char *outdir, const af_sample *samples,
                   size_t nsamples, const af_shard_info *shards, size_t nshards, size_t ninputs,
                   size_t ntargets, af_range mine, char **extra_json, af_error *err);

/**
 * Collective on comm. af_train_extra with this rank's partials already fed from
 * every day it wrote (pre, for samples `mine`, all days): nothing is read back.
 * pre NULL: af_train_extra. AF_EINVAL when pre covers other samples or fewer days.
 */
int af_train_extra_from(MPI_Comm comm, const af_config *cfg, const char *outdir, const af_sample *samples,
                        size_t nsamples, const af_shard_info *shards, size_t nshards, size_t ninputs,
                        size_t ntargets, af_range mine, const af_train_partials *pre, char **extra_json,
                        af_error *err);

/**
 * Not collective. Scalers of one split definition from an index "extra" text:
 * split "temporal" (fold ignored), "spatial" or "loso" with a fold number.
 * mean/std/count have ninputs + ntargets entries (inputs first); NaN where the
 * training part held no valid value. AF_ENOTFOUND naming what is absent.
 */
int af_train_scalers(const char *extra_json, const char *split, int fold, size_t nvars, double *mean,
                     double *std, long long *count, af_error *err);

typedef struct af_export_opts {
    const char *outdir;      /**< a finished agroflux output (index.json) */
    const char *dest;        /**< export root; data_files/ is created inside */
    const char *subset;      /**< "mw" (Ecosys, default) or "dc" (DayCent): names t0_<subset> */
    const char *split;       /**< scalers for county samples: "temporal" (default) or "spatial" (the index's
                                  [splits]), "official-temporal" or "official-spatial" (AgroFlux's folds, scalers
                                  fitted here on the fold's training part) */
    int fold;                /**< spatial fold for split = "spatial" or "official-spatial" */
    int site_fold;           /**< LOSO fold whose scalers scale the site files */
    const char *sign;        /**< "agroflux" (default, NULL): county arrays in AgroFlux's stored sign
                                  (Reco, CO2_FLUX, N2O_FLUX negated, their t0 scaler means too);
                                  "native": our convention (positive = to the atmosphere) */
    const char *missing;     /**< "fill" (default, NULL): gaps filled, masks written beside; "keep": NaN;
                                  "error": refuse when any cell is missing */
    const char *observations; /**< "official" (default, NULL): tower/chamber files scaled with the t0
                                  scalers in the county arrays' sign; "site": LOSO site scalers, our sign */
    int experiments;         /**< 1: every official experiment (temporal, spatial folds 0-4) as
                                  DEST/<experiment>/ trees; split and fold are then ignored */
} af_export_opts;

typedef struct af_export_summary {
    size_t nfiles, ncounty_samples, nco2_sites, nn2o_sites;
    int ndays;
    int nexperiments;
    unsigned long long nmissing; /**< missing cells of the official arrays (county X and Y, site X) */
    unsigned long long njoint;   /**< tower cells dropped so that GPP and NEE share one mask */
    char report[8192];           /**< per variable: missing cells and how they were handled (one line each) */
} af_export_summary;

/** Collective on comm. Write the AgroFlux layout (docs/formats.md, "AgroFlux export"): county samples
 * in AgroFlux order (county list position x scenario), sites in global order. */
int af_export_agroflux(MPI_Comm comm, const af_export_opts *opts, af_export_summary *summary,
                       af_error *err);

/** Not collective. Re-check an export (DEST/export.json) against the index it came from:
 * every file present, .npy header (dtype, shape) and size, county samples in AgroFlux order, the
 * recorded sign choice, scaler files equal to the index (means negated where the sign says so). */
int af_export_verify(const char *dest, size_t *nfiles, af_error *err);

/** Name of the export manifest, written last. */
#define AF_EXPORT_MANIFEST "export.json"

#ifdef __cplusplus
}
#endif
#endif
