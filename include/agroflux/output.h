/* SPDX-License-Identifier: MIT */
/*
 * agroflux/output.h: sharded CF NetCDF output written collectively with PnetCDF.
 *
 * Shard k holds global samples [k*S, min((k+1)*S, N)), S = shard_samples, so the
 * files depend only on the pipeline, never on the rank count. Each shard is a
 * CF-1.8 timeSeries file (docs/formats.md, "Shards"): dims time, sample, input,
 * target, strings; one float variable NAME(time, sample) per input and per target
 * (NaN fill, UDUNITS-2 units, standard_name, cell_methods); x_qc(time,sample,input)
 * (input quality, e.g. the gridded valid-weight fraction; NaN where the source has
 * none), y_qc(time,sample,target) float (NaN where the source has no QC) and
 * y_valid(time,sample,target) byte, last; time(time) double "days since
 * 1970-01-01" calendar "standard"; sample(sample) the global sample index;
 * sample_id, fips, scenario, kind, lat, lon; the string coordinates input and
 * target with input_/target_units and _long_name.
 * Files are created under a temporary name ("<name>.partial") and renamed only
 * by af_shardset_finish after fsync. All calls marked collective must be made by
 * every rank of comm, including ranks with no samples (count 0).
 */
#ifndef AGROFLUX_OUTPUT_H
#define AGROFLUX_OUTPUT_H

#include <stddef.h>
#include <mpi.h>
#include "agroflux/calendar.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AF_NAME_MAX 64
#define AF_LONGNAME_MAX 160

/** One input feature or target as recorded in shards and index. */
typedef struct af_var_desc {
    char name[AF_NAME_MAX];           /**< e.g. "TMAX_AIR" */
    char units[AF_NAME_MAX];          /**< output units, e.g. "degC" */
    char long_name[AF_LONGNAME_MAX];
    char source[AF_NAME_MAX];         /**< source kind, e.g. "table" */
    char source_units[AF_NAME_MAX];   /**< units declared by the source before conversion */
    char sign[AF_LONGNAME_MAX];       /**< sign convention for fluxes, "" if not a flux */
} af_var_desc;

/** Everything fixed before writing. Pointers are borrowed for the shardset's life. */
typedef struct af_layout {
    const char *pipeline_name;
    const af_calendar *cal;
    const af_sample *samples; /**< global order */
    size_t nsamples;
    const af_var_desc *inputs;
    size_t ninputs;
    const af_var_desc *targets;
    size_t ntargets;
    size_t shard_samples;     /**< S >= 1 */
    int cdf5;                 /**< 0: CDF-2 (default), 1: CDF-5 */
    const char *config_sha256;/**< recorded as a global attribute */
} af_layout;

/** A finished shard as recorded in the index. */
typedef struct af_shard_info {
    char path[256];           /**< relative to the output directory, e.g. "shard-00000.nc" */
    size_t sample_start, sample_count;
    long long bytes;
    char sha256[65];
} af_shard_info;

typedef struct af_shardset af_shardset;

/** Number of shards for n samples at S per shard. */
size_t af_output_nshards(size_t nsamples, size_t shard_samples);
/** Bytes all shards will take (header estimate + data), for `plan`. */
long long af_output_estimate_bytes(const af_layout *layout);

/** Collective. Create every shard under its temporary name, define it and write static variables.
 * Every rank takes part in every shard (af_shardset_create_owned with all samples). */
int af_shardset_create(MPI_Comm comm, const char *outdir, const af_layout *layout,
                       af_shardset **out, af_error *err);

/**
 * Collective. As af_shardset_create, but this rank writes only samples [s0, s0+ns) (ns may be 0;
 * the ranks' ranges should cover every sample): it opens only the shards holding them, on a
 * communicator of the ranks that write each shard, so descriptors and MPI-IO state per rank
 * follow its own samples. write_block must then stay inside [s0, s0+ns).
 */
int af_shardset_create_owned(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0,
                             size_t ns, af_shardset **out, af_error *err);

/**
 * Collective; every rank calls with the same (t0, nt). Write this rank's samples
 * [s0, s0+ns) (global indices, ns may be 0) for axis days [t0, t0+nt).
 * Arrays are dense [ns][nt][ninputs] (x, xqc) and [ns][nt][ntargets] (y, yvalid, yqc);
 * xqc may be NULL (x_qc written as NaN).
 */
int af_shardset_write_block(af_shardset *ss, size_t s0, size_t ns, int t0, int nt,
                            const float *x, const float *xqc, const float *y,
                            const unsigned char *yvalid, const float *yqc, af_error *err);

/**
 * Collective. Close, fsync, hash (SHA-256, spread over ranks) and rename every
 * shard to its final name (af_shardset_seal then af_shardset_publish). On return every rank holds the same infos array
 * (caller frees with free()).
 */
int af_shardset_finish(af_shardset *ss, af_shard_info **infos, size_t *ninfos, af_error *err);

/** Collective. Close, fsync and hash every shard, still under its temporary name; each shard is
 * hashed by one of the ranks that wrote it. AF_EINVAL if a shard holds samples no rank wrote
 * (the ranges given to af_shardset_create_owned leave a gap). */
int af_shardset_seal(af_shardset *ss, af_shard_info **infos, size_t *ninfos, af_error *err);

/** What af_shardset_seal_checked digests besides the SHA-256 (a final checkpoint). */
typedef struct af_seal_check {
    int want_static;          /**< also the header and static variables */
    int t0, t1;               /**< days [t0, t1) */
    struct af_shard_digest *out; /**< [nshards]: af_shard_digest_file of each closed shard, same on every rank */
} af_seal_check;

/**
 * Collective. af_shardset_seal, and for each closed shard the digests af_shard_digest_file
 * (path, want_static, t0, t1) would give, taken from the same single read as its SHA-256 (a
 * second read only for a header whose days are not contiguous). check may be NULL.
 */
int af_shardset_seal_checked(af_shardset *ss, af_seal_check *check, af_shard_info **infos, size_t *ninfos,
                             af_error *err);

/** Collective, after af_shardset_seal. Rename every shard to its final name (rank 0, durably). */
int af_shardset_publish(af_shardset *ss, af_error *err);

/**
 * Collective. Flush every rank's written data of every shard to stable storage
 * (ncmpi_sync): after it returns, the blocks written so far survive a crash.
 */
int af_shardset_sync(af_shardset *ss, af_error *err);

/**
 * Collective. Reopen the .partial files an interrupted run left in outdir for
 * writing, checking dimensions and config_sha256 against layout (AF_ENOTFOUND if
 * one is missing, AF_EFORMAT if one belongs to another layout). The files are
 * kept, whatever happens, unless af_shardset_keep_partial(ss, 0) is called.
 */
int af_shardset_reopen(MPI_Comm comm, const char *outdir, const af_layout *layout,
                       af_shardset **out, af_error *err);

/** Collective. af_shardset_reopen for a rank that writes samples [s0, s0+ns) (as _create_owned). */
int af_shardset_reopen_owned(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0,
                             size_t ns, af_shardset **out, af_error *err);

/** Not collective (call on every rank alike). keep = 1: destroy leaves the .partial files. */
void af_shardset_keep_partial(af_shardset *ss, int keep);

/** Collective. Closes and removes unfinished temporary files (unless kept). NULL-safe. */
void af_shardset_destroy(af_shardset **ss);

/**
 * Not collective (opens with MPI_COMM_SELF). Read one sample row of a shard:
 * x/xqc[ndays][ninputs], y/yqc[ndays][ntargets], yvalid[ndays][ntargets]; any output
 * pointer may be NULL to skip that variable.
 */
int af_shard_read_row(const char *path, size_t row, float *x, float *xqc, float *y,
                      unsigned char *yvalid, float *yqc, af_error *err);

/**
 * Not collective (MPI_COMM_SELF). Read rows [row, row+rows) x days [t0, t0+nt) of every input
 * and target variable of a shard into dense x[rows][nt][ninputs], y[rows][nt][ntargets] (either
 * may be NULL), features in the order of the shard's input and target coordinates.
 */
int af_shard_read_block(const char *path, size_t row, size_t rows, int t0, int nt, float *x, float *y,
                        af_error *err);

/** What a resumed run checks in a .partial shard (shard_check.c). */
typedef struct af_shard_digest {
    long long bytes;          /**< file size */
    char static_sha256[65];   /**< raw header bytes and every variable without a time dimension */
    char days_sha256[65];     /**< every time-dimensioned variable over days [t0, t1) */
} af_shard_digest;

/**
 * Not collective (MPI_COMM_SELF). Size of the shard file at path, the digest of its
 * static part (want_static) and of days [t0, t1) (empty strings when not asked).
 */
int af_shard_digest_file(const char *path, int want_static, int t0, int t1, af_shard_digest *out,
                         af_error *err);

/**
 * Collective, after af_shardset_sync. af_shard_digest_file of every .partial shard, each by one
 * of the ranks that wrote it; out[nshards] is the same on every rank. AF_EINVAL as af_shardset_seal.
 */
int af_shardset_digest(af_shardset *ss, int want_static, int t0, int t1, af_shard_digest *out,
                       af_error *err);

#ifdef __cplusplus
}
#endif
#endif
