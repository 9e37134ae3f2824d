/* SPDX-License-Identifier: MIT */
/*
 * shard_impl.h: the shardset's private state, shared by shard.c (create,
 * define, write blocks, destroy) and shard_finish.c (reopen for resume, sync,
 * seal, publish, read back). Not a public header.
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

typedef struct shard_vars {
    int ncid; /* -1 when not open */
    int *var; /* one (time, sample) variable per input, then per target (into var_ids) */
    int xqc, yqc, yvalid;
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
    int sealed;        /* closed and hashed */
    int finished;      /* renamed to final names */
    int keep_partial;  /* destroy leaves the .partial files (resumable state) */
};

/** "shard-NNNNN.nc" or "shard-NNNNN.nc.partial". */
void af__shard_name(size_t k, int partial, char *buf, size_t n);
/** outdir/name of shard k. */
int af__shard_path(const af_shardset *ss, size_t k, int partial, char *out, size_t n, af_error *err);
/** Rows (samples) of shard k. */
size_t af__shard_rows(const af_layout *l, size_t k);
#define AF_FIPS_LEN 8

/** AF_EINVAL if a feature name collides with a layout variable or another feature; AF_EUNITS for unknown units. */
int af__shard_check_names(const af_layout *l, af_error *err);
/** CF standard_name and cell_methods of a feature ("" when none is known). */
void af__shard_cf_metadata(const char *name, const char *units, const char **standard_name,
                           const char **cell_methods);
/** Define mode, collective: dimensions, variables and attributes of shard k (shard_define.c). */
int af__shard_define(af_shardset *ss, size_t k, const char *path, af_error *err);
/** Rank 0, independent data mode: write the static variables of shard k. */
int af__shard_write_statics(af_shardset *ss, size_t k, const char *path, af_error *err);

/** Collective. Allocate ss for layout on a duplicate of comm, no file opened yet. */
int af__shardset_alloc(MPI_Comm comm, const char *outdir, const af_layout *layout, af_shardset **out,
                       af_error *err);

#endif
