/* SPDX-License-Identifier: MIT */
/*
 * ecosys_impl.h (private): helpers the Ecosys and DayCent parsers and their
 * source kinds share (src/sources/ecosys*.c, daycent*.c): tokenising, table
 * building, and the derived-variable engine (expression of columns,
 * differencing, annual values) applied to one year of one file.
 */
#ifndef AF_ECOSYS_IMPL_H
#define AF_ECOSYS_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "agroflux/models.h"
#include "agroflux/units.h"
#include "numparse.h"

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
/** Double the table's room for rows (*cap rows now; 400 first), or make it `rows` if that is more
 *  (a reader that knows about how many rows come sizes the table once: no copies as it grows). */
int af__models_table_grow(af_model_table *t, size_t *cap, size_t rows, af_error *err);
/** Room for one more row: *row is where its values go; it counts only after af__models_table_commit.
 *  Inline: it runs once per row; the growth is af__models_table_grow. */
static inline int af__models_table_reserve(af_model_table *t, size_t *cap, double **row, af_error *err)
{
    if (t->nrows == *cap) {
        int rc = af__models_table_grow(t, cap, 0, err);
        if (rc != AF_OK) return rc;
    }
    *row = t->v + t->nrows * t->ncols;
    return AF_OK;
}
/** Count the reserved row, dated year and doy. */
static inline void af__models_table_commit(af_model_table *t, int year, int doy)
{
    t->year[t->nrows] = year;
    t->doy[t->nrows] = doy;
    t->nrows++;
}

/** Zero bytes after the data in an af_mbuf buffer: af__numparse_fast may read that far past a number. */
#define AF_MBUF_PAD 64

/** A model output file read in large blocks into one buffer (model_buf.c). Unread bytes are
 *  buf[beg..end), followed by AF_MBUF_PAD zero bytes; off is the file offset of buf[beg]. */
typedef struct af_mbuf {
    int fd;
    char *buf;
    size_t cap, beg, end;
    long long off;
    int eof;
    long long size; /**< the file's size at open (-1: unknown) */
    size_t want; /**< bytes a read asks for at most (0: as many as fit; a reader that knows it needs
                  *   less sets it: the DayCent cursor reads a header, then about a year of rows) */
} af_mbuf;

/** Open path for reading in blocks of `block` bytes (less for a smaller file): 0 or an errno value. */
int af__mbuf_open(af_mbuf *b, const char *path, size_t block);
/** Close and free; safe on a zeroed af_mbuf, after a failed open and twice. */
void af__mbuf_close(af_mbuf *b);
/** Read the first block if nothing is buffered (call before parsing buf[beg..end) in place). */
int af__mbuf_start(af_mbuf *b, const char *path, af_error *err);
/** af__mbuf_start without a call when bytes are buffered (once per row). */
static inline int af__mbuf_ready(af_mbuf *b, const char *path, af_error *err)
{
    return b->end > b->beg || b->eof ? AF_OK : af__mbuf_start(b, path, err);
}
/** When no whole line is buffered (a block ended inside it) and the file goes on: read more and set
 *  *more to 1 (parse in place again); else *more = 0. */
int af__mbuf_more(af_mbuf *b, const char *path, int *more, af_error *err);
/** Drop the buffer and continue reading at byte `offset`. */
int af__mbuf_seek(af_mbuf *b, long long offset, const char *path, af_error *err);
/**
 * The next line, NUL-terminated in place: *line (NULL at the end of the file), *len the bytes it took
 * with its '\n', *text_len without it. AF_EIO naming path on a read error.
 */
int af__mbuf_line(af_mbuf *b, const char *path, char **line, size_t *len, size_t *text_len, af_error *err);
/** Advance past n bytes parsed in place at buf + beg. */
static inline void af__mbuf_skip(af_mbuf *b, size_t n)
{
    b->beg += n;
    b->off += (long long)n;
}

/** Byte classes for tokenising: 1 white space (' ' '\t' '\r' '\n'), 2 NUL, 0 token text. */
extern const unsigned char af__models_ws_class[256];
/** 1 for "NaN" or "nan" as the n bytes at s. */
int af__models_is_nan_n(const char *s, size_t n);

/** Block size of the model readers' af_mbuf: a block stays in the CPU cache between the kernel's copy
 *  and the parse (bench_parse: 1 MiB blocks were slower, DayCent 5.7-6.0x getline against 3.3-3.8x), and
 *  the year-by-year DayCent reads stop about a block past their year. */
#define AF_MBUF_BLOCK ((size_t)1 << 16)

/** A field the in-place fast path declined, at p: *end at its end; 1 and the value if it is "NaN"/"nan"
 *  (NaN) or a number (af_numparse; infinities give NaN) followed by white space, else 0. */
int af__models_field_slow(const char *p, const char **end, double *v);

/** One whitespace-separated field parsed in place at p (AF_MBUF_PAD readable bytes past it): 1 with
 *  *end at the white space after it and its value (NaN for "NaN"), 0 if it is no number or ends in NUL. */
AF_NP_INLINE int af__models_field(const char *p, const char **end, double *v)
{
    return (af__numparse_fast(p, end, v) && af__models_ws_class[(unsigned char)**end] == 1) ||
           af__models_field_slow(p, end, v);
}

/** Parse the field at *pp in place (as af__models_field) and move *pp past it and the blanks (' ', '\t')
 *  after it; a '\n' stays (it ends the row). 0 if the field is no number or ends in NUL. */
AF_NP_INLINE int af__models_next(const char **pp, double *v)
{
    const char *p = *pp, *e;
    int ok = af__numparse_fast(p, &e, v);
    if (ok && *e == ' ') { /* the common case: one blank after the number */
        p = e + 1;
    } else {
        if (!(ok && af__models_ws_class[(unsigned char)*e] == 1) && !af__models_field_slow(p, &e, v)) return 0;
        p = e;
    }
    while (*p == ' ' || *p == '\t') p++;
    *pp = p;
    return 1;
}

/** -9999 and -6999 (in any spelling) are missing: NaN; any other value as it is. With af__models_field,
 *  which gives no infinities, this is af_missing_value (inline, compares of the bits: it runs per field). */
static inline double af__models_sentinel(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b == UINT64_C(0xC0C3878000000000) /* -9999.0 */ || b == UINT64_C(0xC0BB570000000000) /* -6999.0 */
               ? NAN : v;
}

/** Where the next chunked read of a multi-year DayCent file resumes (daycent.c); zeroed = the file's start.
 *  The caller resets it (memset 0) when the file changes. */
typedef struct af_dc_cursor {
    long long offset;  /**< byte offset of the first unread row (0: after the header) */
    long lineno;       /**< lines before that offset */
    int done_year;     /**< every row dated up to this year has been read (0: none) */
    int whole;         /**< rows are not in date order: every read takes the whole file */
    long long last_bytes; /**< bytes of rows the last read took (the next read asks for about as many) */
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
