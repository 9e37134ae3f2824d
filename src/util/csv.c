/* SPDX-License-Identifier: MIT */
/*
 * csv.c: the streaming CSV reader of af_util.h. Reads one record at a time
 * (memory bounded by the longest line), splits on commas with optional double
 * quotes, strips CR, and remembers file and line so that every parse error can
 * name them. Records may not span lines (no embedded newlines); a NUL byte is an error,
 * and so is a quote that RFC 4180 does not allow (inside an unquoted field, or text
 * after a closing quote): it was once kept as a literal character or silently dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "af_util.h"

int af_csv_open(const char *path, af_csv *csv, af_error *err)
{
    int rc = AF_OK;
    memset(csv, 0, sizeof *csv);
    snprintf(csv->path, sizeof csv->path, "%s", path);
    csv->fp = fopen(path, "rb");
    if (!csv->fp) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
cleanup:
    return rc;
}

void af_csv_close(af_csv *csv)
{
    if (!csv) return;
    if (csv->fp) fclose(csv->fp);
    free(csv->buf);
    for (int i = 0; i < csv->nheader; i++) free(csv->header[i]);
    free(csv->header);
    memset(csv, 0, sizeof *csv);
}

/* "column 'NAME'" once the header is known, else "field N" (1-based), for quote errors. */
static const char *field_label(const af_csv *csv, char *buf, size_t n)
{
    int i = csv->nfields;
    if (i < csv->nheader) snprintf(buf, n, "column '%s'", csv->header[i]);
    else snprintf(buf, n, "field %d", i + 1);
    return buf;
}

/*
 * RFC 4180: a field is either quoted as a whole (a quote inside it doubled) or holds no quote at all.
 * White space around a quoted field is allowed (fields are trimmed); a quote in the middle of an
 * unquoted field, or text after the closing quote, is an error naming file, line and field.
 */
static int split(af_csv *csv, af_error *err)
{
    int rc = AF_OK;
    char *p = csv->buf;
    char label[160];
    csv->nfields = 0;
    for (;;) {
        if (csv->nfields >= AF_CSV_MAX_FIELDS)
            AF_FAIL(AF_EFORMAT, "%s:%ld: more than %d fields", csv->path, csv->line, AF_CSV_MAX_FIELDS);
        char *start = p, *w = p;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    AF_FAIL(AF_EFORMAT, "%s:%ld: %s: unterminated quote", csv->path, csv->line,
                            field_label(csv, label, sizeof label));
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; continue; }
                if (*p == '"') { p++; break; }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (*p && *p != ',')
                AF_FAIL(AF_EFORMAT, "%s:%ld: %s: text after the closing quote (RFC 4180: quote the whole field "
                        "and double any quote inside it)", csv->path, csv->line, field_label(csv, label, sizeof label));
        } else {
            p = start;
            while (*p && *p != ',') {
                if (*p == '"')
                    AF_FAIL(AF_EFORMAT, "%s:%ld: %s: a double quote inside an unquoted field (RFC 4180: quote the "
                            "whole field and double the quote)", csv->path, csv->line,
                            field_label(csv, label, sizeof label));
                *w++ = *p++;
            }
        }
        char sep = *p;
        *w = '\0';
        csv->fields[csv->nfields++] = af_strtrim(start);
        if (sep == '\0') break;
        p++;
    }
cleanup:
    return rc;
}

long af_csv_tell(const af_csv *csv) { return ftell(csv->fp); }

int af_csv_seek(af_csv *csv, long offset, long line, af_error *err)
{
    int rc = AF_OK;
    if (fseek(csv->fp, offset, SEEK_SET) != 0) AF_FAIL(AF_EIO, "cannot seek in '%s'", csv->path);
    csv->line = line;
cleanup:
    return rc;
}

int af_csv_next(af_csv *csv, af_error *err)
{
    int rc = AF_OK;
    for (;;) {
        size_t len = 0;
        int c;
        /* A record ends at LF, CRLF or a lone CR (old Mac files, e.g. some FLUXNET YY files).
         * getc_unlocked: the stream is this reader's alone; fgetc took the stream's lock for every
         * byte, ~90 % of the time of reading a chamber or tower CSV. */
        while ((c = getc_unlocked(csv->fp)) != EOF && c != '\n') {
            if (c == '\r') {
                int nx = getc_unlocked(csv->fp);
                if (nx != '\n' && nx != EOF) ungetc(nx, csv->fp);
                c = '\n';
                break;
            }
            /* found by tests/fuzz: the fields after a NUL byte were silently dropped */
            if (c == '\0')
                AF_FAIL(AF_EFORMAT, "%s:%ld: NUL byte at column %zu (binary or corrupt file)", csv->path,
                        csv->line + 1, len + 1);
            if (len + 2 > csv->cap) {
                size_t ncap = csv->cap ? csv->cap * 2 : 256;
                char *nb = realloc(csv->buf, ncap);
                AF_CHECK_ALLOC(nb);
                csv->buf = nb;
                csv->cap = ncap;
            }
            csv->buf[len++] = (char)c;
        }
        if (c == EOF && len == 0) {
            if (ferror(csv->fp)) AF_FAIL(AF_EIO, "read error on '%s'", csv->path);
            return 0;
        }
        csv->line++;
        csv->unterminated = c == EOF;
        if (!csv->buf) { if (c == EOF) return 0; continue; }
        csv->buf[len] = '\0';
        while (len > 0 && (csv->buf[len - 1] == '\r' || isspace((unsigned char)csv->buf[len - 1]))) csv->buf[--len] = '\0';
        if (len == 0) { if (c == EOF) return 0; continue; }
        /* a UTF-8 byte order mark starts the file, whatever its first line is (a comment, the header) */
        if (csv->line == 1 && len >= 3 && !memcmp(csv->buf, "\xEF\xBB\xBF", 3)) {
            memmove(csv->buf, csv->buf + 3, len - 2);
            len -= 3;
        }
        if (csv->skip_comments && csv->buf[0] == '#') continue;
        AF_CHECK(split(csv, err));
        return 1;
    }
cleanup:
    return rc;
}

int af_csv_read_header(af_csv *csv, af_error *err)
{
    int rc = AF_OK;
    int got = af_csv_next(csv, err);
    if (got < 0) { rc = got; goto cleanup; }
    if (got == 0) AF_FAIL(AF_EFORMAT, "%s: empty file, expected a header line", csv->path);
    csv->header_line = csv->line;
    csv->header = calloc((size_t)csv->nfields, sizeof(char *));
    AF_CHECK_ALLOC(csv->header);
    for (int i = 0; i < csv->nfields; i++) {
        const char *f = csv->fields[i];
        /* A UTF-8 byte order mark before the first column name is not part of it. */
        if (i == 0 && (unsigned char)f[0] == 0xEF && (unsigned char)f[1] == 0xBB && (unsigned char)f[2] == 0xBF) f += 3;
        csv->header[i] = af_strdup(f);
        AF_CHECK_ALLOC(csv->header[i]);
        csv->nheader++;
    }
cleanup:
    return rc;
}

int af_csv_column(const af_csv *csv, const char *name)
{
    for (int i = 0; i < csv->nheader; i++)
        if (!strcasecmp(csv->header[i], name)) return i;
    return -1;
}

int af_csv_require_column(const af_csv *csv, const char *name, int *col, af_error *err)
{
    int rc = AF_OK;
    *col = af_csv_column(csv, name);
    if (*col < 0) AF_FAIL(AF_ENOTFOUND, "%s:%ld: no column '%s' in header", csv->path, csv->header_line, name);
cleanup:
    return rc;
}
