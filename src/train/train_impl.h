/* SPDX-License-Identifier: MIT */
/*
 * train_impl.h: internals of the train module (src/train): a view of a
 * finished output (from the run or from index.json), the block reader over
 * shards, split assignments, scaler partials, the .npy writer and the
 * parser of the index "extra" object.
 */
#ifndef AF_TRAIN_IMPL_H
#define AF_TRAIN_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <mpi.h>

#include "agroflux/calendar.h"
#include "agroflux/config.h"
#include "agroflux/output.h"
#include "agroflux/samples.h"
#include "agroflux/train.h"

/** What the train module needs to know about a finished output (pointers borrowed). */
typedef struct af_train_view {
    const char *outdir;
    const af_sample *samples;
    size_t nsamples;
    size_t shard_samples;
    const af_shard_info *shards;
    size_t nshards;
    size_t ninputs, ntargets;
    const af_calendar *cal;
} af_train_view;

/** Not collective. Read samples [s0, s0+ns) x days [t0, t0+nt) into dense x[ns][nt][ninputs],
 * y[ns][nt][ntargets] (either may be NULL), crossing shard boundaries as needed. */
int af__train_read(const af_train_view *v, size_t s0, size_t ns, int t0, int nt, float *x, float *y,
                   af_error *err);

/** Not collective. Number the counties of samples[0..n) by county list position (af_sample.county_rank:
 * sorted, so positions are 0..ncounties-1): sample_county[i] = list position of sample i's county,
 * SIZE_MAX for sites. AF_EINVAL when a county sample has no county_rank (an older index), when the
 * samples of one FIPS disagree on it, or when two counties share it. */
int af__county_list(const af_sample *samples, size_t n, size_t *ncounties, size_t *sample_county, af_error *err);

/** Not collective. AgroFlux order of the county samples among samples[0..n): order[p] = global index of
 * the sample at array position p = (county list position) * nscen + (scenario index). AF_EINVAL as
 * af__county_list, or when the counties do not all hold the same scenarios in the same order. */
int af__export_order(const af_sample *samples, size_t n, size_t *order, af_error *err);

/** Split assignments drawn from the config and the sample list (all arrays owned). */
typedef struct af_assign {
    const af_splits_cfg *cfg;
    /* counties in county list order (af__county_list) */
    size_t ncounties;
    char (*county_fips)[8];
    int *county_fold;        /**< per county, -1 when no spatial split */
    size_t *sample_county;   /**< per sample, county index (SIZE_MAX for sites) */
    /* sites in global order */
    size_t nsites;
    size_t *site_sample;     /**< global sample index of each site */
    size_t *sample_site;     /**< per sample, site index (SIZE_MAX for counties) */
    int loso;                /**< 1 when LOSO folds are drawn */
} af_assign;

int af__assign_draw(const af_splits_cfg *cfg, const af_sample *samples, size_t n, af_assign *a,
                    af_error *err);
void af__assign_dispose(af_assign *a);

/** In the training part of set k: sample i (global index), year index yr (0 = first year of the axis). */
typedef int (*af_train_part_fn)(const void *ctx, int k, size_t i, int yr);
/** Collective. Mean and population std over the valid cells of samples [0, n) in the training part of
 * each of nsets sets (in_train), merged on rank 0 in sample then year order (rank-count independent, as
 * af_train_extra) and broadcast: mean/std[k * nvars + j], NaN where the part holds no valid value. */
int af__scalers_fit(MPI_Comm comm, const af_train_view *v, size_t n, int nsets, af_train_part_fn in_train, const void *ctx,
                    double *mean, double *std, af_error *err);

/** splitmix64 step (the documented generator of spatial_assign = random). */
uint64_t af__splitmix64(uint64_t *state);

/** .npy v1.0 header for a little-endian C-order array; returns its length (multiple of 64). */
size_t af__npy_header(char *buf, size_t n, const char *descr, const size_t *shape, int ndim);
/** Parse a .npy v1.0 header: descr, shape; *hlen = bytes before the data. */
int af__npy_parse(const char *path, char *descr, size_t ndescr, size_t *shape, int *ndim, size_t *hlen,
                  af_error *err);
/** Write a whole small array as .npy atomically (one process): esize 1 (|u1), 4 (<f4) or 8 (<f8),
 * data in host order. */
int af__npy_write(const char *path, const void *data, size_t esize, const size_t *shape, int ndim, af_error *err);
/** Write a whole small float32 array as .npy atomically (one process). */
int af__npy_write_f32(const char *path, const float *data, const size_t *shape, int ndim, af_error *err);

#endif
