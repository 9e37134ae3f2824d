/* SPDX-License-Identifier: MIT */
/*
 * agroflux/models.h: parsers for process-model outputs used as targets:
 * Ecosys daily output files and DayCent native outputs (.out, dc_sip.csv,
 * harvest.csv, soils.in). Pure parsing, no MPI; not collective.
 *
 * Both parsers give an af_model_table: named value columns and one row per
 * output line keyed by (year, day of year). Missing values (-9999, NaN text)
 * are NaN. A malformed file is AF_EFORMAT naming file, line, column and text.
 * The source kinds `ecosys` and `daycent` (docs/pipelines.md) build on these.
 */
#ifndef AGROFLUX_MODELS_H
#define AGROFLUX_MODELS_H

#include <stddef.h>
#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed model output file. Owned by the caller: release with af_model_table_dispose. */
typedef struct af_model_table {
    char path[4096];
    size_t ncols;      /**< value columns (the date columns are not among them) */
    char **names;      /**< column names; header-less layer files: "layer1".."layerN" */
    size_t nrows;
    int *year, *doy;   /**< date key of each row */
    double *v;         /**< [nrows][ncols], NaN where missing */
    long *bad_line;    /**< per column: first line whose text is not a number (0 if none) */
    char **bad_text;   /**< per column: that text (DayCent text columns such as crpval) */
} af_model_table;

/** Free everything and zero the struct (NULL-safe). */
void af_model_table_dispose(af_model_table *t);
/** Index of a column by exact name, or -1. */
int af_model_table_column(const af_model_table *t, const char *name);
/**
 * A column is usable: AF_EFORMAT naming file, line, column and text if a cell
 * of it was not a number (DayCent files keep text columns; they fail only when used).
 */
int af_model_table_require(const af_model_table *t, int col, af_error *err);
/** Value of row r, column c. */
static inline double af_model_table_at(const af_model_table *t, size_t r, size_t c)
{
    return t->v[r * t->ncols + c];
}

/**
 * Difference a year-to-date running total into daily values. cum and daily are
 * indexed by day of year 1..ndays (index 0 unused), NaN where absent:
 * daily[1] = cum[1], daily[d] = cum[d] - cum[d-1]. A missing day makes that day
 * and the next missing (NaN arithmetic), never 0. daily may not alias cum.
 */
void af_model_decumulate(const double *cum, int ndays, double *daily);

/* ---- Ecosys ---- */

/**
 * Parse one Ecosys number: Fortran E notation as written by Ecosys
 * (0.1356683E+003), D exponents (0.1D+03), a lower-case e, no leading digit
 * (.5E+01), and the form Fortran prints when a 3-digit exponent crowds out
 * the letter (0.1234567-100, 0.1234567+100). Returns 1 and the value, 0 when
 * the text is not such a number (asterisks from a field overflow included).
 */
int af_ecosys_parse_number(const char *text, double *out);

/**
 * Read an Ecosys daily output file (header `DOY DATE vars...`, one row per day
 * of one year; DOY like `365.000`; DATE as DDMMYYYY). Checks that every date
 * is valid, agrees with its DOY, lies in one year, and that DOY increases.
 * -9999 (in any of its spellings, e.g. -0.9999000E+004) and NaN are missing.
 * Values are as in the file: cumulative columns are not differenced here.
 */
int af_ecosys_read(const char *path, af_model_table *out, af_error *err);

/* ---- DayCent ---- */

/**
 * Read a DayCent output. Whitespace `.out` files: a header line `time dayofyr
 * names...` (extra trailing values in rows are ignored, as in soiln.out), or,
 * when the first token is a number, no header: then nlayers (from soils.in)
 * values per row, named layer1..layerN (nlayers must be > 0, else AF_EFORMAT).
 * Files whose name ends in `.csv` (dc_sip.csv, harvest.csv) are comma
 * separated with a header; a trailing comma on the header and rows is allowed.
 * Dates: year = floor(time + 1e-6), day of year = dayofyr (checked 1..365/366).
 * Column names are kept as written; look them up with af_daycent_column. A
 * cell that is not a number is missing and marks its column (see
 * af_model_table_require); a short row, a bad time or dayofyr fail at once.
 */
int af_daycent_read(const char *path, int nlayers, af_model_table *out, af_error *err);

/** Number of soil layers in a DayCent soils.in (rows of >= 13 numbers). AF_EFORMAT if none or a short row. */
int af_daycent_soils_layers(const char *path, int *nlayers, af_error *err);

/**
 * Column of a DayCent table by name, trying the names the same quantity has in
 * other DayCent builds (NEP/NEE, CH4_oxid/CH4, ...; docs/formats.md). -1 if none.
 */
int af_daycent_column(const af_model_table *t, const char *name);

/**
 * Units DayCent writes for column `name` of the file named `file` (base name,
 * e.g. "nflux.out"), or NULL if the format table does not fix them. Header-less
 * layer files answer for any column name.
 */
const char *af_daycent_units(const char *file, const char *name);

/** Units Ecosys writes for a column (by name; _1/_3/_5 layers alike), or NULL if unresolved. */
const char *af_ecosys_units(const char *name);

#ifdef __cplusplus
}
#endif
#endif
