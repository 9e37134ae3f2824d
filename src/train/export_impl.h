/* SPDX-License-Identifier: MIT */
/* export_impl.h: shared state of the AgroFlux export (export.c, export_write.c, export_verify.c). */
#ifndef AF_EXPORT_IMPL_H
#define AF_EXPORT_IMPL_H

#include "agroflux/index.h"
#include "train_impl.h"

#define AF_X_N 11
#define AF_Y_N 20
#define AF_NMODULES 4

/** The AgroFlux names: 11 inputs in stored order; 4 target modules (file order Carbon, Nitrogen,
 * Thermal, Water; "Combined" order Carbon, Thermal, Water, Nitrogen). */
extern const char *const af__agx_inputs[AF_X_N];
extern const char *const af__agx_modules[AF_NMODULES];
extern const char *const *const af__agx_module_targets[AF_NMODULES];
extern const int af__agx_module_size[AF_NMODULES];
extern const int af__agx_combined_order[AF_NMODULES];

/** Targets whose AgroFlux stored sign differs from ours: AgroFlux name -> AgroFlux's sign text. */
typedef struct af_agx_sign {
    const char *name;
    const char *agroflux_sign;
} af_agx_sign;
#define AF_AGX_NSIGNS 3
extern const af_agx_sign af__agx_signs[AF_AGX_NSIGNS];

/** Not collective. Which index variables the county arrays negate (negate[ninputs + ntargets]):
 * with native = 0, each af__agx_signs target present in the index, whose recorded sign text must
 * be our convention (af__sign_is_ours), else AF_EINVAL naming the target and its text; nothing
 * with native = 1 or without county samples. */
int af__export_signs(const af_index *idx, int native, size_t ncounty, unsigned char *negate, af_error *err);
/** 1 when a sign text states our convention: "positive = ... to the atmosphere" (trimmed, any case). */
int af__sign_is_ours(const char *sign);

/** One export in progress. */
typedef struct af_export {
    MPI_Comm comm;
    int rank, size;
    af_index idx;
    af_calendar *cal;
    af_train_view view;
    const af_export_opts *opts;
    int nyears;
    int xcol[AF_X_N];            /**< index input column of each AgroFlux input */
    int ycol[AF_Y_N];            /**< index target column, in file-module order (Carbon, Nitrogen, Thermal, Water) */
    int gpp, nee, n2o;           /**< site target columns, -1 if absent */
    size_t ncounty;              /**< county samples: global [0, ncounty) */
    size_t *order;               /**< [ncounty] order[p] = global index at AgroFlux position p */
    size_t *pos;                 /**< [ncounty] inverse: pos[g] = AgroFlux position of sample g */
    int native;                  /**< --sign native: keep our sign */
    unsigned char *negate;       /**< per index variable: negated in the county arrays and t0 scalers */
    double *t0_mean, *t0_std;    /**< per index variable (inputs then targets) */
    double *t1_mean, *t1_std;
    unsigned char *co2, *n2o_site; /**< per site sample (global index - ncounty): has data */
    char dest[4096];
} af_export;

/** Collective. Write one (ndays, ncounty, k) float32 array, columns cols[] of x (is_x) or y. */
int af__export_t0_file(af_export *e, const char *rel, int is_x, const int *cols, int k, af_error *err);
/** Not collective. Write this rank's site files (towers and chambers). */
int af__export_sites(af_export *e, size_t *nfiles, af_error *err);
/** Scale one value with (mean, std): NaN stays NaN; std 0 scales by 1 (as scikit-learn). */
float af__export_scale(float v, double mean, double std);

/** Not collective. A (k, 2) float32 scaler file (mean, std) of variables off + cols[c]. */
int af__export_scaler_file(const af_export *e, const char *rel, const int *cols, int k, size_t off,
                           const double *mean, const double *std, af_error *err);
/** Rank 0. Write the scaler files and, last, the manifest export.json; fill the summary. */
int af__export_finish(af_export *e, af_export_summary *sum, af_error *err);

#endif
