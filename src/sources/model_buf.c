/* SPDX-License-Identifier: MIT */
/*
 * model_buf.c: the read buffer of the model-output parsers (ecosys.c,
 * daycent.c). A file is read with read(2) in blocks (AF_MBUF_BLOCK) into one
 * buffer the reader owns, followed by AF_MBUF_PAD zero bytes, so the parsers convert the
 * rows of a block in place (af__numparse_fast's 8-byte loads stay inside the
 * buffer) instead of copying every line out with getline. Lines that straddle
 * a block are read on (af__mbuf_more) and parsed in place again; lines the
 * fast paths decline are handed out one by one (af__mbuf_line),
 * NUL-terminated in place like a getline line. A line longer than the buffer
 * grows it. A reader that needs less than a block sets `want` (the DayCent
 * cursor: a header, then about a year of rows). Not collective; no global
 * state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_check.h"
#include "ecosys_impl.h"

int af__mbuf_open(af_mbuf *b, const char *path, size_t block)
{
    memset(b, 0, sizeof *b);
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0) return errno ? errno : EIO; /* buf stays NULL: af__mbuf_close does nothing */
    struct stat st;
    size_t cap = block;
    b->size = fstat(b->fd, &st) == 0 && st.st_size >= 0 ? (long long)st.st_size : -1;
    if (b->size >= 0 && (unsigned long long)b->size < cap)
        cap = (size_t)b->size + 1; /* a small file in one read (+1: read sees the end at once) */
    if (cap < 4096) cap = 4096;
    b->buf = malloc(cap + AF_MBUF_PAD);
    if (!b->buf) {
        close(b->fd);
        return ENOMEM;
    }
    b->cap = cap;
    memset(b->buf, 0, AF_MBUF_PAD);
    return 0;
}

void af__mbuf_close(af_mbuf *b)
{
    if (b->buf) close(b->fd); /* open: fd valid exactly when buf is allocated */
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* Move the unread bytes to the front, grow the buffer if they fill it, and read once more. */
static int mbuf_fill(af_mbuf *b, const char *path, af_error *err)
{
    int rc = AF_OK;
    if (b->beg > 0) {
        memmove(b->buf, b->buf + b->beg, b->end - b->beg);
        b->end -= b->beg;
        b->beg = 0;
    }
    if (b->end == b->cap) { /* one line longer than the buffer */
        char *nb = realloc(b->buf, 2 * b->cap + AF_MBUF_PAD);
        AF_CHECK_ALLOC(nb);
        b->buf = nb;
        b->cap *= 2;
    }
    size_t room = b->cap - b->end;
    if (b->want && b->want < room) room = b->want;
    ssize_t k;
    do k = read(b->fd, b->buf + b->end, room);
    while (k < 0 && errno == EINTR);
    if (k < 0) AF_FAIL(AF_EIO, "read error on '%s': %s", path, strerror(errno));
    if (k == 0) b->eof = 1;
    b->end += (size_t)k;
cleanup:
    memset(b->buf + b->end, 0, AF_MBUF_PAD);
    return rc;
}

int af__mbuf_seek(af_mbuf *b, long long offset, const char *path, af_error *err)
{
    int rc = AF_OK;
    if (lseek(b->fd, (off_t)offset, SEEK_SET) < 0)
        AF_FAIL(AF_EIO, "cannot seek to byte %lld of '%s'", offset, path);
    b->beg = b->end = 0;
    b->eof = 0;
    b->off = offset;
    memset(b->buf, 0, AF_MBUF_PAD);
cleanup:
    return rc;
}

int af__mbuf_start(af_mbuf *b, const char *path, af_error *err)
{
    return b->end > b->beg || b->eof ? AF_OK : mbuf_fill(b, path, err);
}

int af__mbuf_more(af_mbuf *b, const char *path, int *more, af_error *err)
{
    int rc = AF_OK;
    *more = !b->eof && !memchr(b->buf + b->beg, '\n', b->end - b->beg);
    if (*more) AF_CHECK(mbuf_fill(b, path, err));
cleanup:
    return rc;
}

int af__mbuf_line(af_mbuf *b, const char *path, char **line, size_t *len, size_t *text_len, af_error *err)
{
    int rc = AF_OK;
    char *nl;
    *line = NULL;
    *len = *text_len = 0;
    while (!(nl = memchr(b->buf + b->beg, '\n', b->end - b->beg)) && !b->eof) AF_CHECK(mbuf_fill(b, path, err));
    if (!nl && b->end == b->beg) goto cleanup; /* end of file */
    *line = b->buf + b->beg;
    *len = nl ? (size_t)(nl - *line) + 1 : b->end - b->beg;
    *text_len = nl ? *len - 1 : *len;
    (*line)[*text_len] = '\0'; /* in place of the '\n'; the last line without one ends in the zero pad */
    b->beg += *len;
    b->off += (long long)*len;
cleanup:
    return rc;
}
