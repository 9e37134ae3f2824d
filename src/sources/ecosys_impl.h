/* SPDX-License-Identifier: MIT */
/*
 * ecosys_impl.h (private): helpers the Ecosys and DayCent parsers and their
 * source kinds share (src/sources/ecosys*.c, daycent*.c): tokenising, table
 * building, and the derived-variable engine (expression of columns,
 * differencing, annual values) applied to one year of one file.
 */
#ifndef AF_ECOSYS_IMPL_H
#define AF_ECOSYS_IMPL_H

#include <stddef.h>
#include "agroflux/models.h"
#include "agroflux/units.h"

#define AF_MODELS_MAX_COLS 1024
#define AF_MODELS_MAX_TERMS 8

int af__models_split_ws(char *line, char **tok, int max);
/** The same, also giving each token's length in len[] (no strlen per field). */
int af__models_split_ws_len(char *line, char **tok, size_t *len, int max);
/** AF_EFORMAT "FILE:LINE: NUL byte ..." if line[0..len) holds a NUL byte (a text reader would stop there). */
int af__models_check_nul(const char *path, long lineno, const char *line, size_t len, af_error *err);
/** 1 for the texts "NaN" and "nan" (a missing value as the models write it). */
int af__models_is_nan_text(const char *s);
int af__models_table_init(af_model_table *t, const char *path, char *const *names, size_t ncols, af_error *err);
/** Append a row (values NaN) and return a pointer to its values. */
int af__models_table_add_row(af_model_table *t, size_t *cap, int year, int doy, double **row, af_error *err);

/** Where the next chunked read of a multi-year DayCent file resumes (daycent.c); zeroed = the file's start.
 *  The caller resets it (memset 0) when the file changes. */
typedef struct af_dc_cursor {
    long long offset;  /**< byte offset of the first unread row (0: after the header) */
    long lineno;       /**< lines before that offset */
    int done_year;     /**< every row dated up to this year has been read (0: none) */
    int whole;         /**< rows are not in date order: every read takes the whole file */
} af_dc_cursor;

/**
 * Read the rows of a DayCent file from the cursor up to the last row dated year_hi or earlier (the file
 * is in date order, as DayCent writes it), leaving the cursor at the next row; the table has the header's
 * columns and those rows (the first read also holds the rows before `year`, e.g. spin-up years). The
 * same checks as af_daycent_read (dates, duplicates among the rows read; a duplicate day is always in
 * one read since reads end between years). When year <= the years already read it starts over; when a
 * row is dated before the row above it, this and every later read takes the whole file (as
 * af_daycent_read). Byte for byte, a file read through year by year is parsed once.
 */
int af__daycent_read_through(const char *path, int nlayers, af_dc_cursor *cur, int year, int year_hi,
                             af_model_table *out, af_error *err);

/** How a feature turns a year of daily values into what it stores. */
typedef enum af_models_annual {
    AF_ANNUAL_NO = 0,   /**< daily values */
    AF_ANNUAL_LAST,     /**< the value on the year's last day (Dec 31), on every day of the year */
    AF_ANNUAL_DELTA,    /**< last day minus first day (Jan 1), on every day of the year */
    AF_ANNUAL_EVENTS    /**< sum over the rows dated in the year (harvest.csv), 0 if none */
} af_models_annual;

/** One term of a `variable` expression: sign * (abs ? |col| : col). */
typedef struct af_models_term {
    char name[128];
    int sign;          /**< +1 or -1 */
    int abs;
} af_models_term;

/**
 * Parse `variable`: terms NAME or |NAME| joined by '+', or by '-' with white
 * space on both sides (names may contain '-', e.g. nit_N2O-N); an optional
 * leading sign. AF_ECONFIG naming the text on a syntax error.
 */
/** Append to a the columns of b (same run, another output file) that a lacks, matched by (year, day of
 * year); NaN where b has no row for a's date (model_join.c). */
int af__models_table_join(af_model_table *a, const af_model_table *b, af_error *err);
int af__models_parse_expr(const char *text, af_models_term *terms, int *nterms, af_error *err);

/** What a feature derives from one file. */
typedef struct af_models_spec {
    af_models_term terms[AF_MODELS_MAX_TERMS];
    int nterms;
    int cumulative;    /**< difference year-to-date totals first */
    af_models_annual annual;
    int sign_flip;
    af_unit_conv conv; /**< source units -> output units, per term value */
} af_models_spec;

/**
 * Derive values of `year` from a table into out[1..366] (index = day of year,
 * NaN where missing). cols[i] is the table column of term i. AF_EFORMAT on a
 * duplicated date.
 */
int af__models_derive_year(const af_model_table *t, const int *cols, const af_models_spec *spec, int year,
                           double out[367], af_error *err);

#endif
