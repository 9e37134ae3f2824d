/* SPDX-License-Identifier: MIT */
/*
 * agroflux/tower.h: flux tower and N2O chamber sources. Parses AmeriFlux BASE
 * (HH/HR) and FLUXNET FULLSET (HH/HR/DD/WW/MM/YY) CSV files by header name and
 * aggregates half-hourly or hourly records to days with the ONEFlux rules; reads
 * hourly chamber N2O fluxes and makes daily g N m-2 d-1 values. Pure parsing:
 * no MPI, no NetCDF. Every function here is Not collective.
 */
#ifndef AGROFLUX_TOWER_H
#define AGROFLUX_TOWER_H

#include <stddef.h>
#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Tower files                                                              */
/* ------------------------------------------------------------------------ */

/** File flavour. */
typedef enum af_tower_kind {
    AF_TOWER_BASE = 1,    /**< AmeriFlux BASE: '#' lines, header starts TIMESTAMP_START; no gap filling */
    AF_TOWER_FULLSET = 2  /**< FLUXNET FULLSET (ONEFlux output): gap-filled, _QC columns */
} af_tower_kind;

/** Record resolution, detected from the timestamps (never from the file name alone). */
typedef enum af_tower_res {
    AF_TOWER_RES_HH = 0,  /**< 30 min, TIMESTAMP_START/END YYYYMMDDHHMM */
    AF_TOWER_RES_HR = 1,  /**< 60 min, TIMESTAMP_START/END YYYYMMDDHHMM */
    AF_TOWER_RES_DD = 2,  /**< daily, TIMESTAMP YYYYMMDD */
    AF_TOWER_RES_WW = 3,  /**< weekly, TIMESTAMP_START/END YYYYMMDD */
    AF_TOWER_RES_MM = 4,  /**< monthly, TIMESTAMP YYYYMM */
    AF_TOWER_RES_YY = 5   /**< yearly, TIMESTAMP YYYY */
} af_tower_res;

/** Missing-value sentinel of both formats; any field equal to it reads as NaN. */
#define AF_TOWER_MISSING (-9999.0)

/** umol CO2 m-2 s-1 to g C m-2 d-1: 86400 s x 12.01 g/mol / 1e6 (ONEFlux constant). */
#define AF_TOWER_CO2FLUX_FACTOR 1.03772448

typedef struct af_tower_file af_tower_file;

/**
 * Not collective. Open a tower CSV, read its header and every record's timestamp.
 * BASE: skips any number of '#' (and blank) lines; the first other line must be the
 * header and start with TIMESTAMP_START. FULLSET: the first line is the header,
 * starting TIMESTAMP_START (HH/HR/WW) or TIMESTAMP (DD: YYYYMMDD, MM: YYYYMM, YY: YYYY).
 * Timestamps are local standard time. Resolution: TIMESTAMP_END - TIMESTAMP_START of
 * the first record (30 -> HH, 60 -> HR; other steps are AF_EFORMAT), or the width of
 * TIMESTAMP; if the file name contains _HH_/_HR_/_DD_/_WW_/_MM_/_YY_ it must agree.
 * Records must be strictly increasing; gaps are allowed in HH/HR (absent records read
 * as missing) but must be whole steps, and every row must have END - START = step.
 * The file stays open until af_tower_file_destroy (columns are read on demand).
 * Errors: AF_ENOTFOUND / AF_EIO (path), AF_EFORMAT naming file:line, column and text
 * (bad header, malformed/out-of-order/duplicate timestamp, step change, short row),
 * AF_EINVAL (bad kind), AF_ENOMEM.
 */
int af_tower_file_open(const char *path, af_tower_kind kind, af_tower_file **out, af_error *err);

/** Not collective. Close and free; NULL-safe, sets *tf = NULL. */
void af_tower_file_destroy(af_tower_file **tf);

af_tower_kind af_tower_file_kind(const af_tower_file *tf);
af_tower_res af_tower_resolution(const af_tower_file *tf);
/** Record length in minutes for HH (30) and HR (60); 1440 for DD; 0 for WW/MM/YY. */
int af_tower_step_minutes(const af_tower_file *tf);
/** Number of data records (rows after the header). */
long af_tower_nrecords(const af_tower_file *tf);
/** Number of header columns. */
int af_tower_ncolumns(const af_tower_file *tf);
/** Borrowed header name of column i (0 <= i < ncolumns), or NULL. */
const char *af_tower_column_name_ref(const af_tower_file *tf, int i);
/** Start of record i as minutes since 1970-01-01 00:00 local standard time
 *  (the first day of the month/year for MM/YY). */
long long af_tower_record_start(const af_tower_file *tf, long i);
/** Epoch day of the first record's start and number of days up to the last record's start. */
void af_tower_span(const af_tower_file *tf, long *epoch_first, int *ndays);

/**
 * Not collective. Column index of name. Lookup: exact header name (case-insensitive);
 * if absent, the first column (in header order) named name + a numeric position
 * suffix "_N" or "_H_V_R" (e.g. "TA" -> TA_1_1_1, "SWC" -> SWC_1 or SWC_1_1_1). Never
 * other suffixes: "TA" does not match TA_F or TA_PI_F_1_1_1. The timestamp columns
 * can be looked up too. Errors: AF_ENOTFOUND naming file and column; AF_EINVAL.
 */
int af_tower_column(const af_tower_file *tf, const char *name, int *col, af_error *err);

/**
 * Not collective. Read columns cols[0..ncols-1] of every record into
 * out[rec * ncols + j] (nrecords * ncols doubles, caller-owned). -9999, empty fields
 * and "NaN" read as NaN. One pass over the file whatever ncols.
 * Errors: AF_EFORMAT naming file:line, column and text; AF_EINVAL (bad index); AF_EIO.
 */
int af_tower_read_columns(af_tower_file *tf, const int *cols, int ncols, double *out,
                          af_error *err);

/* ------------------------------------------------------------------------ */
/* Daily aggregation                                                        */
/* ------------------------------------------------------------------------ */

/** How a variable's records make a day. */
typedef enum af_tower_agg {
    AF_TOWER_AGG_MEAN = 0,         /**< mean of the records (TA, SW_IN, VPD, ...) */
    AF_TOWER_AGG_SUM = 1,          /**< sum of the records (P, mm per record -> mm/day) */
    AF_TOWER_AGG_CO2FLUX_MEAN = 2  /**< mean x AF_TOWER_CO2FLUX_FACTOR: umol CO2 m-2 s-1 -> g C m-2 d-1 */
} af_tower_agg;

/** What a missing record does to its day. */
typedef enum af_tower_gap {
    /** STRICT for MEAN/SUM in any file and for everything in FULLSET files (gap-filled:
     *  a missing record could not be filled); COVERAGE for CO2FLUX_MEAN in BASE files. */
    AF_TOWER_GAP_DEFAULT = 0,
    AF_TOWER_GAP_STRICT = 1,   /**< any missing record -> day missing (ONEFlux meteo rule) */
    AF_TOWER_GAP_COVERAGE = 2  /**< mean of the present records when coverage >= min_coverage
                                    (and at least one record); not allowed with SUM */
} af_tower_gap;

/**
 * One output variable. A record is present when its value is not NaN (and, with
 * minus_column, both values are present). The value per record is
 * column - minus_column when minus_column is set: GPP = RECO - NEE is
 * { "RECO_NT_VUT_REF", NULL, "NEE_VUT_REF", AF_TOWER_AGG_CO2FLUX_MEAN, ... }.
 */
typedef struct af_tower_var_spec {
    const char *column;        /**< header name (see af_tower_column) */
    const char *qc_column;     /**< optional _QC column; NULL -> qc output NaN */
    const char *minus_column;  /**< optional: value = column - minus_column per record */
    af_tower_agg agg;
    af_tower_gap gap;
    double min_coverage;       /**< COVERAGE rule only: minimum share 0..1; 0 = any record */
} af_tower_var_spec;

/**
 * Not collective. Daily values of n variables for days epoch0 .. epoch0+ndays-1
 * (af_date_to_epoch). Outputs are [ndays][n] floats, caller-owned; coverage and qc may
 * be NULL. A day holds the records whose TIMESTAMP_START falls on that date.
 *   HH/HR: expected records E = 48 or 24. coverage = present / E; qc = records with
 *   0 <= QC < 2 / E (missing QC counts as not good); value per the gap rule, NaN when
 *   missing. Days outside the file: value NaN, coverage 0, qc 0 with a QC column (else NaN).
 *   DD: the record is the day: value as in the file (already g C m-2 d-1, daily mean or
 *   sum; no factor applied), coverage 1 or 0, qc = the DD _QC value (already a share;
 *   NaN when the day has no record).
 *   WW/MM/YY: AF_EINVAL.
 * Errors: AF_ENOTFOUND (column), AF_EFORMAT (cell), AF_EINVAL (bad spec or
 * resolution), AF_ENOMEM.
 */
int af_tower_daily(af_tower_file *tf, const af_tower_var_spec *vars, int n, long epoch0,
                   int ndays, float *value, float *coverage, float *qc, af_error *err);

/* ------------------------------------------------------------------------ */
/* N2O chambers                                                             */
/* ------------------------------------------------------------------------ */

/** Declared unit of a chamber flux column. */
typedef enum af_chamber_unit {
    AF_CHAMBER_G_N_M2_H = 0,     /**< "g N m-2 h-1" */
    AF_CHAMBER_NMOL_N2O_M2_S = 1,/**< "nmol m-2 s-1" of N2O; 1 nmol N2O = 28.013e-9 g N */
    AF_CHAMBER_UG_N_M2_H = 2,    /**< "ug N m-2 h-1" */
    AF_CHAMBER_G_N_HA_D = 3      /**< "g N ha-1 d-1" */
} af_chamber_unit;

/** Grams of N in one mole of N2O (2 x 14.0067, rounded as in the source-formats note). */
#define AF_CHAMBER_G_N_PER_MOL_N2O 28.013

/** Not collective. Parse one of the four unit texts above (exact, single spaces; "nmol N2O
 *  m-2 s-1" also accepted). AF_EUNITS naming the text. */
int af_chamber_unit_parse(const char *text, af_chamber_unit *out, af_error *err);
/** Convert v in unit to g N m-2 h-1. */
double af_chamber_to_g_n_m2_h(double v, af_chamber_unit unit);

/** Reader options; start from AF_CHAMBER_OPTS_INIT. */
typedef struct af_chamber_opts {
    int version;               /**< 1 */
    const char *id_column;     /**< chamber id column (text), default "chamber" */
    const char *time_column;   /**< "YYYY-MM-DD HH:MM[:SS]" (or 'T') or YYYYMMDDHHMM; default "timestamp" */
    const char *flux_column;   /**< flux column, default "flux" */
    af_chamber_unit unit;      /**< unit of flux_column, default g N m-2 h-1 */
    int min_hours;             /**< day kept with >= min_hours valid hours, default 16 (1..24) */
} af_chamber_opts;

#define AF_CHAMBER_OPTS_INIT { 1, "chamber", "timestamp", "flux", AF_CHAMBER_G_N_M2_H, 16 }

typedef struct af_chamber_data af_chamber_data;

/**
 * Not collective. Read a chamber CSV (header line first, '#' lines skipped; rows in any
 * order, chambers interleaved). Flux -9999, empty, "NA" or "NaN" is missing. Values
 * are stored converted to g N m-2 h-1, positive = emission as in the source.
 * Errors: AF_ENOTFOUND (file, column), AF_EFORMAT naming file:line, column and text,
 * AF_EINVAL (options), AF_ENOMEM.
 */
int af_chamber_read(const char *path, const af_chamber_opts *opts, af_chamber_data **out,
                    af_error *err);
void af_chamber_data_destroy(af_chamber_data **cd);
/** Number of distinct chambers, in order of first appearance. */
int af_chamber_count(const af_chamber_data *cd);
/** Borrowed id of chamber i, or NULL. */
const char *af_chamber_id_ref(const af_chamber_data *cd, int i);
/** Index of chamber id; AF_ENOTFOUND naming file and id. */
int af_chamber_find(const af_chamber_data *cd, const char *id, int *index, af_error *err);

/**
 * Not collective. Daily N2O flux of chamber `index` for days epoch0 .. epoch0+ndays-1:
 * records are binned to clock hours (an hour's value = mean of its valid records); a
 * day with >= min_hours valid hours gets mean(valid hours) x 24 in g N m-2 d-1,
 * positive = emission; otherwise NaN. nhours (optional) receives each day's valid-hour
 * count. Errors: AF_EINVAL, AF_ENOMEM.
 */
int af_chamber_daily(const af_chamber_data *cd, int index, long epoch0, int ndays,
                     float *value, int *nhours, af_error *err);

/** Not collective. Sign flip in place (v -> -v, NaN kept): positive = emission becomes the
 *  Ecosys convention negative = emission. Separate on purpose: the pipeline decides. */
void af_chamber_flip_sign(float *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
