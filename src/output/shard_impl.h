/* SPDX-License-Identifier: MIT */
/*
 * shard_impl.h: the shardset's private state, shared by shard.c (create,
 * define, write blocks, destroy), shard_finish.c (reopen for resume, sync,
 * seal, publish, read back) and shard_plan.c (digests from raw bytes). Not a public header.
 */
#ifndef AF_SHARD_IMPL_H
#define AF_SHARD_IMPL_H

#include <pnetcdf.h>

#include "agroflux/output.h"

/** Record a PnetCDF error as AF_ENC naming the file and what failed; jump to cleanup. */
#define AF_CHECK_NC(call, path, what)                                                   \
    do {                                                                              \
        int af__ncrc = (call);                                                        \
        if (af__ncrc != NC_NOERR)                                                     \
            AF_FAIL(AF_ENC, "'%s': %s: %s", (path), (what), ncmpi_strerror(af__ncrc)); \
    } while (0)

/** Bytes of one value of type t (0 for a type shards never hold). */
static inline size_t af__nc_type_size(nc_type t)
{
    switch (t) {
    case NC_BYTE: case NC_CHAR: case NC_UBYTE: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_INT: case NC_UINT: case NC_FLOAT: return 4;
    case NC_DOUBLE: case NC_INT64: case NC_UINT64: return 8;
    default: return 0;
    }
}

/** Where one variable of a shard lies (shard_plan.c). */
typedef struct af__plan_var {
    long long begin;   /* its first byte in the file */
    long long row;     /* bytes of one day (timed) or of the whole variable */
    int esz;           /* bytes per value (big-endian in the file) */
    int timed;         /* time is its first dimension */
    char name[NC_MAX_NAME + 1];
} af__plan_var;

/** Where every byte the digests of af_shard_digest_file cover lies in a shard, from its header. */
typedef struct af__shard_plan {
    long long header;  /* the raw header: bytes [0, header) */
    int ndays;         /* length of the time dimension */
    size_t nv;
    af__plan_var *v;   /* in variable-id order */
} af__shard_plan;

typedef struct shard_vars {
    int ncid; /* -1 when not open */
    int *var; /* one (time, sample) variable per input, then per target (into var_ids) */
    int xqc, yqc, yvalid;
    MPI_Comm comm; /* the ranks that own samples of this shard; MPI_COMM_NULL if not one of them */
    int lead;      /* this rank is rank 0 of comm: writes the static variables */
    int shared;    /* comm has other ranks too (a shard at the boundary of two ranks' samples) */
    int hasher;    /* this rank starts the shard's writeback, digests, hashes and fsyncs it: one of
                      its writers, the rows balanced over ranks (shard_comm.c, assign_hashers) */
    af__shard_plan *plan; /* the hasher's plan of the file, made at create or reopen (NULL: none fits) */
} shard_vars;

struct af_shardset {
    MPI_Comm comm;
    int rank, size;
    char outdir[4096];
    af_layout layout;
    int ndays;
    size_t nshards;
    shard_vars *sh;
    int *var_ids;      /* nshards x (ninputs + ntargets) variable ids */
    size_t own_begin, own_end; /* samples this rank writes (all of them for the unowned API) */
    long long orphan;  /* the first shard no rank writes a sample of, -1 if none (same on every rank) */
    MPI_Comm *comms;   /* distinct per-shard communicators this rank created (freed at destroy) */
    size_t ncomms;
    int sealed;        /* closed and hashed */
    int finished;      /* renamed to final names */
    int keep_partial;  /* destroy leaves the .partial files (resumable state) */
    void *scratch;     /* a block's values in file order, until its wait (shard.c) */
    size_t scratch_cap;
};

/** "shard-NNNNN.nc" or "shard-NNNNN.nc.partial". */
void af__shard_name(size_t k, int partial, char *buf, size_t n);
/** outdir/name of shard k. */
int af__shard_path(const af_shardset *ss, size_t k, int partial, char *out, size_t n, af_error *err);
/** Ask the kernel to start writing shard k's dirty pages to disk, without waiting (Linux
 * sync_file_range; a no-op elsewhere). Not collective; errors show at the later fsync. */
void af__shard_start_writeback(const af_shardset *ss, size_t k);
/** Rows (samples) of shard k. */
size_t af__shard_rows(const af_layout *l, size_t k);
#define AF_FIPS_LEN 8

/** AF_EINVAL if a feature name collides with a layout variable or another feature; AF_EUNITS for unknown units. */
int af__shard_check_names(const af_layout *l, af_error *err);
/** Not collective. AF_EIO when the shard at path, days [0, days) written (< 0: all), is shorter than its
 * header says (a lost write). */
int af__shard_check_complete(const char *path, int days, af_error *err);
/** CF standard_name and cell_methods of a feature ("" when none is known). */
void af__shard_cf_metadata(const char *name, const char *units, const char **standard_name,
                           const char **cell_methods);
/** Define mode, collective: dimensions, variables and attributes of shard k (shard_define.c). */
int af__shard_define(af_shardset *ss, size_t k, const char *path, af_error *err);
/** Rank 0, independent data mode: write the static variables of shard k. */
int af__shard_write_statics(af_shardset *ss, size_t k, const char *path, af_error *err);

/** Collective. Allocate ss for layout on a duplicate of comm, no file opened yet; this rank
 * writes samples [s0, s0+ns) and joins the communicator of each shard holding one of them. */
int af__shardset_alloc(MPI_Comm comm, const char *outdir, const af_layout *layout, size_t s0, size_t ns,
                       af_shardset **out, af_error *err);
/** This rank writes samples of shard k (and joins its collective calls). */
static inline int af__shard_mine(const af_shardset *ss, size_t k) { return ss->sh[k].comm != MPI_COMM_NULL; }

/* Shard k's turn in pass 0 or 1 of a walk over this rank's shards that calls collectives on their
 * communicators: the shards shared with other ranks first (pass 0), in increasing k, then the rest.
 * In plain increasing k, rank r reached the shard it shares with rank r+1 after all its own, while
 * r+1 waited there before starting its own: the ranks wrote (synced, closed) one after the other.
 * Shared shards keep a global order among themselves, and a rank's own shards involve no other
 * rank, so no collective can deadlock (shard_comm.c). */
static inline int af__shard_turn(const af_shardset *ss, size_t k, int pass)
{
    return af__shard_mine(ss, k) && ss->sh[k].shared == (pass == 0);
}
/** Collective over the shardset's comm. Record this rank's samples and build the per-shard
 * communicators (sh[k].comm, sh[k].lead, sh[k].hasher). */
int af__shard_comms_build(af_shardset *ss, size_t s0, size_t ns, af_error *err);
/** Free the communicators made by af__shard_comms_build. */
void af__shard_comms_free(af_shardset *ss);
/** Keep the first error: copy e into err unless err already holds one. Returns e->code. */
int af__shard_keep_error(af_error *err, const af_error *e);

/* ---- Digests from raw bytes (shard_plan.c) ---- */

/** Not collective. Plan the shard open as ncid (any mode, out of define mode); *out stays NULL (and
 * AF_OK) when a variable does not fit a plan (a record variable, time not its first dimension, no
 * time dimension): the caller then digests through PnetCDF (af_shard_digest_file). */
int af__shard_plan_new(int ncid, const char *path, af__shard_plan **out, af_error *err);
void af__shard_plan_free(af__shard_plan **p);
/** af__shard_check_complete(path, days) for a file of `bytes` bytes, from the plan (AF_EIO, same words). */
int af__shard_plan_check_size(const af__shard_plan *p, const char *path, long long bytes, int days, af_error *err);
/** Not collective. af_shard_digest_file(path, want_static, t0, t1) by open, fstat and pread of the
 * ranges the plan gives: the same digests, without PnetCDF. */
int af__shard_plan_digest(const af__shard_plan *p, const char *path, int want_static, int t0, int t1,
                          af_shard_digest *out, af_error *err);
/** The same from an open fd of a file of `bytes` bytes (its size when the caller looked). */
int af__shard_plan_digest_fd(const af__shard_plan *p, int fd, const char *path, long long bytes, int want_static,
                             int t0, int t1, af_shard_digest *out, af_error *err);

/** The digests af_shard_digest_file(path, want_static, t0, t1) would give, taken from the raw
 * bytes of the file as one sequential read passes them. Not collective. */
typedef struct af__digest_stream af__digest_stream;
/** From the plan (borrowed until the stream is freed); *out stays NULL (and AF_OK) when the ranges
 * are not in ascending file order, so the caller digests with af__shard_plan_digest_fd instead. */
int af__digest_stream_new(const af__shard_plan *p, const char *path, int want_static, int t0, int t1,
                          af__digest_stream **out, af_error *err);
/** The next n bytes of the file, from offset 0 on, in order. */
void af__digest_stream_feed(af__digest_stream *ds, const void *buf, size_t n);
/** After the last byte: the digests (AF_EFORMAT if the file ended before a variable did). */
int af__digest_stream_end(af__digest_stream *ds, af_shard_digest *out, af_error *err);
void af__digest_stream_free(af__digest_stream **ds);

#endif
