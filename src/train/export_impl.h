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

/** Missing-value policies (--missing). */
enum { AF_MISS_FILL, AF_MISS_KEEP, AF_MISS_ERROR };
/** Longest run of missing days filled by linear interpolation (--missing fill); longer runs, and runs
 * at the start or end of a series, take the training mean (scaled value 0). */
#define AF_EXPORT_GAP 10
/** The official "Combined" module: 6 targets (dataset default; Y_scaler_Combined.npy (6, 2)). */
#define AF_COMB_N 6
extern const char *const af__agx_combined[AF_COMB_N];

/** One experiment tree: its directory, county split and scalers. */
typedef struct af_export_exp {
    char name[32];               /**< "" for a single export, else "temporal", "spatial_<f>" */
    char dest[4096];             /**< the tree root (data_files/ and export.json inside) */
    char split[32];
    int fold;
    double *mean, *std;          /**< t0 scalers per index variable, in the export's sign */
    double *t1_mean, *t1_std;    /**< LOSO site scalers (observations = site) */
    char (*train_fips)[8];       /**< official splits: counties whose samples fitted the scalers */
    size_t ntrain_fips;
    int train_years[2];          /**< official splits: years that fitted the scalers */
} af_export_exp;

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
    int ycol[AF_Y_N];            /**< index target column, in file-module order (Carbon, Nitrogen, Thermal, Water);
                                      -1: a target the output lacks (filled, --missing fill) */
    int comb[AF_COMB_N];         /**< index target column of each Combined target, -1 if absent */
    int gpp, nee, n2o, co2flux;  /**< target columns, -1 if absent */
    size_t ncounty;              /**< county samples: global [0, ncounty) */
    size_t *order;               /**< [ncounty] order[p] = global index at AgroFlux position p */
    size_t *pos;                 /**< [ncounty] inverse: pos[g] = AgroFlux position of sample g */
    size_t *sample_county;       /**< [ncounty] county list position of each county sample */
    size_t ncounties;
    int native;                  /**< --sign native: keep our sign */
    int missing;                 /**< AF_MISS_* */
    int official_obs;            /**< observations = official */
    unsigned char *negate;       /**< per index variable: negated in the county arrays and t0 scalers */
    int nexp;
    af_export_exp *exp;
    unsigned long long *miss;    /**< [nvars][2]: county cells interpolated, filled with the mean (or missing) */
    unsigned long long *miss_site; /**< [nvars][2]: the same over the site inputs */
    unsigned long long njoint;   /**< tower cells dropped for the joint GPP/NEE mask */
    unsigned char *co2, *n2o_site; /**< per site sample (global index - ncounty): has data */
    size_t nco2, nn2o;
} af_export;

/** Collective. Write every t0 array (X, the four modules, Combined) of every experiment, and with
 * --missing fill their masks; count the missing cells (e->miss). */
int af__export_t0(af_export *e, af_error *err);
/** Not collective. Write this rank's site files (towers and chambers) of every experiment. */
int af__export_sites(af_export *e, af_error *err);
/** Scale one value with (mean, std): NaN stays NaN; std 0 scales by 1 (as scikit-learn). */
float af__export_scale(float v, double mean, double std);
/** Fill the missing cells of series v[0..n) in [a, b) (--missing fill): state[t - a] = 0 observed,
 * 1 interpolated (gap of at most AF_EXPORT_GAP days, valid on both sides), 2 left missing for the
 * training mean. Adds to cnt[0] (interpolated) and cnt[1] (mean). stride: distance between days. */
void af__export_fill(float *v, size_t n, size_t stride, size_t a, size_t b, int fill, unsigned char *state,
                     size_t sstride, unsigned long long *cnt);

/** Not collective. One line per variable with missing cells (the summary's report). */
void af__export_report(const af_export *e, char *buf, size_t n);
/** AgroFlux's temporal split of n years: training years int(0.8 n), validation int(0.1 n), test the rest. */
int af__official_train_years(int nyears);
int af__official_val_years(int nyears);
/** AgroFlux's spatial fold of the county at list position c: 1 validation, 2 test, 0 training. */
int af__official_block(size_t ncounties, int fold, size_t c);
/** Collective. The county scalers of every experiment (index splits or fitted official folds). */
int af__export_scalers(af_export *e, af_error *err);
/** Rank 0. Write each experiment's scaler files and, last, its manifest export.json; fill the summary. */
int af__export_finish(af_export *e, af_export_summary *sum, af_error *err);

#endif
