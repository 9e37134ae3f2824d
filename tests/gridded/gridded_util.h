/* SPDX-License-Identifier: MIT */
/*
 * gridded_util.h: helpers shared by the gridded-source tests: write a text
 * file into the test directory, run a pipeline from it, and read a shard back
 * with netCDF-C (independently of agroflux's own reader).
 */
#ifndef GRIDDED_UTIL_H
#define GRIDDED_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <netcdf.h>

#include "agroflux/error.h"

/* netCDF-C call in a function returning int: print and return 1 on failure. */
#define NCK(call) do { int s_ = (call); if (s_ != NC_NOERR) { fprintf(stderr, "%s: %s\n", #call, nc_strerror(s_)); return 1; } } while (0)

/* One shard read back: ids, time, and x/x_qc/y/y_qc in file order [sample][time][var]. */
typedef struct gt_shard {
    int ns, nt, ni, ntg;
    char (*ids)[65];
    double *time;
    float *x, *xqc, *y, *yqc;
} gt_shard;

#define GT_X(s, i, t, k) ((s)->x[((size_t)(i) * (size_t)(s)->nt + (size_t)(t)) * (size_t)(s)->ni + (size_t)(k)])
#define GT_XQC(s, i, t, k) ((s)->xqc[((size_t)(i) * (size_t)(s)->nt + (size_t)(t)) * (size_t)(s)->ni + (size_t)(k)])
#define GT_Y(s, i, t) ((s)->y[((size_t)(i) * (size_t)(s)->nt + (size_t)(t)) * (size_t)(s)->ntg])
#define GT_QC(s, i, t) ((s)->yqc[((size_t)(i) * (size_t)(s)->nt + (size_t)(t)) * (size_t)(s)->ntg])

/* Write text to dir/name; 0 on success. */
int gt_write_text(const char *dir, const char *name, const char *text);
/* af_pipeline_run of dir/ini into dir/out on MPI_COMM_WORLD. */
int gt_run(const char *dir, const char *ini, const char *out, af_error *err);
/* Read dir/out/shard-00000.nc; 0 on success. Free with gt_shard_free. */
int gt_read_shard(const char *dir, const char *out, gt_shard *s);
void gt_shard_free(gt_shard *s);
/* Row of a sample id, or -1. */
int gt_find_sample(const gt_shard *s, const char *id);
/** Collective: the largest of every rank's failed-case count (every rank gets it). */
int gt_max_failed(int failed);
/** Remove dir and what is in it unless AF_KEEP is set; 0 on success. */
int gt_remove_dir(const char *dir);

#endif
