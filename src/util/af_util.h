/* SPDX-License-Identifier: MIT */
/*
 * af_util.h: private helpers shared by every module: paths, durable atomic
 * file publication (temporary name, fsync, rename, fsync of the directory),
 * SHA-256 via OpenSSL libcrypto, string helpers, and a small CSV reader that
 * knows its file and line for error messages. Not collective. No MPI, GDAL,
 * PROJ or PnetCDF here.
 */
#ifndef AF_UTIL_H
#define AF_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include "agroflux/error.h"

/* ---- strings ---- */
/** Copy src into dst of size n, always NUL-terminated; AF_EINVAL if truncated (names what). */
int af_strlcpy_checked(char *dst, const char *src, size_t n, const char *what, af_error *err);
/** strdup that returns NULL on NULL. */
char *af_strdup(const char *s);
/* Make room for one more element in a growable array: when *n == *cap, doubles *cap (first: the
 * first capacity) and reallocates *arr (elem bytes an element). AF_ENOMEM leaves *arr as it was. */
int af_array_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t first, af_error *err);
/** Trim leading/trailing ASCII whitespace in place; returns s. */
char *af_strtrim(char *s);
/** The one missing-value rule of every text reader: NaN, infinities and the sentinels -9999 and
 * -6999 (in any spelling: -9999.0, -9.999e3) are missing (1), anything else is a value (0). */
int af_missing_value(double v);
/** Parse a full double (no trailing garbage); returns 1 on success. */
int af_parse_double(const char *s, double *out);
/** Parse a full long; returns 1 on success. */
int af_parse_long(const char *s, long *out);
/** 1 if a and b differ by exactly one inserted, deleted, replaced or swapped (adjacent) character:
 *  what "did you mean" suggestions use. */
int af_one_edit_apart(const char *a, const char *b);
/** Shortest "%.Ng" (N=6..9) text that reads back as the same float. */
void af_format_float(float v, char *buf, size_t n);

/* ---- paths and files ---- */
/** Join dir and rel into out (rel returned as is if absolute or dir empty). */
int af_path_join(const char *dir, const char *rel, char *out, size_t n, af_error *err);
/** Directory part of path ("." if none) into out. */
void af_path_dirname(const char *path, char *out, size_t n);
/** mkdir -p. AF_EIO naming the path on failure. */
int af_mkdirs(const char *path, af_error *err);
/** File size in bytes; AF_ENOTFOUND / AF_EIO naming the path. */
int af_file_size(const char *path, long long *out, af_error *err);
/** 1 if a regular file exists and is readable. */
int af_file_readable(const char *path);
/**
 * 1 if path names something only a library can open: a GDAL virtual file system (/vsicurl/,
 * /vsizip/, /vsis3/, ...), a URL (http://, https://, OPeNDAP) or a driver prefix such as
 * NETCDF:"f.nc":var. Such paths are never checked with stat/access (the library's open says why).
 */
int af_path_is_virtual(const char *path);
/** GDAL's drivers registered, once per process: call before any GDAL/OGR open (each rank opens
 * what it reads itself; rank 0 alone reads the samples, which used to register them everywhere). */
void af_gdal_register(void);
/** The last GDAL/OGR/OSR error message, or "GDAL gave no reason" when it is empty (never ""). */
const char *af_gdal_why(void);
/** Why GDAL could not open path: its message, else "missing or not readable" or "format not recognised". */
const char *af_gdal_open_why(const char *path);
/** SHA-256 of a file as 64 lower-case hex chars + NUL. */
int af_file_sha256(const char *path, char hex[65], af_error *err);
/** SHA-256 of a buffer as hex. */
void af_sha256_hex(const void *data, size_t len, char hex[65]);
/** Incremental SHA-256: begin (NULL when out of memory), update, end (hex, frees; NULL-safe). */
typedef struct af_sha256 af_sha256;
af_sha256 *af_sha256_begin(void);
void af_sha256_update(af_sha256 *h, const void *data, size_t len);
void af_sha256_end(af_sha256 **h, char hex[65]);
/** fsync an open path (file or directory). */
int af_fsync_path(const char *path, af_error *err);
/** rename(tmp, final) then fsync the directory; both paths named on failure. */
int af_rename_durable(const char *tmp, const char *final_path, af_error *err);
/** rename(2) alone, with the error message af_rename_durable gives; a caller renaming many files
 * into one directory fsyncs it once after (af_fsync_path). */
int af_rename(const char *from, const char *to, af_error *err);
/** Write len bytes to path via path.partial + fsync + rename. */
int af_write_atomic(const char *path, const void *data, size_t len, af_error *err);
/** Read a whole file into a NUL-terminated malloc'd buffer. */
int af_read_file(const char *path, char **out, size_t *len, af_error *err);

/* ---- CSV ---- */
#define AF_CSV_MAX_FIELDS 512

/** Streaming CSV reader: comma separated, optional double quotes, '#' comment lines optional. */
typedef struct af_csv {
    FILE *fp;
    char path[512];
    long line;                  /**< 1-based number of the line last read */
    int unterminated;           /**< the record last read ended at end of file without a line end */
    char *buf;
    size_t cap;
    int nfields;
    char *fields[AF_CSV_MAX_FIELDS];
    int skip_comments;          /**< skip lines starting with '#' */
    int nheader;
    long header_line;           /**< line of the header record */
    char **header;              /**< copy of the header fields after af_csv_read_header */
} af_csv;

int af_csv_open(const char *path, af_csv *csv, af_error *err);
void af_csv_close(af_csv *csv);
/** Read next non-empty record. Returns 1 with fields set, 0 at EOF, or a negative code. */
int af_csv_next(af_csv *csv, af_error *err);
/** Read the next record as the header (keeps a copy). AF_EFORMAT if the file is empty. */
int af_csv_read_header(af_csv *csv, af_error *err);
/** Column index of name in the header (case-insensitive), or -1. */
int af_csv_column(const af_csv *csv, const char *name);
/** Like af_csv_column but AF_ENOTFOUND naming file and column when absent. */
int af_csv_require_column(const af_csv *csv, const char *name, int *col, af_error *err);
/** Byte offset of the start of the next record (for re-seeking), and seek back to it. */
long af_csv_tell(const af_csv *csv);
int af_csv_seek(af_csv *csv, long offset, long line, af_error *err);

#endif
