/* SPDX-License-Identifier: MIT */
/*
 * npy.c: the NumPy .npy format, version 1.0 (numpy.lib.format): magic
 * "\x93NUMPY", version 1.0, a little-endian uint16 header length, then an
 * ASCII dict {'descr': ..., 'fortran_order': False, 'shape': (...), } padded
 * with spaces and ended by '\n' so that the data starts at a multiple of 64.
 * Data follow in C order, little-endian. Writer, header parser and a small
 * whole-array writer (atomic). Not collective.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "train_impl.h"

size_t af__npy_header(char *buf, size_t n, const char *descr, const size_t *shape, int ndim)
{
    char dict[512], dims[256] = "";
    size_t used = 0;
    for (int i = 0; i < ndim; i++)
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%zu%s", shape[i], ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    size_t total = 10 + (size_t)dl + 1;
    total = (total + 63) / 64 * 64;
    if (total > n || total - 10 > 65535) return 0;
    size_t hl = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, dict, (size_t)dl);
    memset(buf + 10 + dl, ' ', total - 10 - (size_t)dl - 1);
    buf[total - 1] = '\n';
    return total;
}

int af__npy_parse(const char *path, char *descr, size_t ndescr, size_t *shape, int *ndim, size_t *hlen,
                  af_error *err)
{
    int rc = AF_OK;
    unsigned char pre[10];
    char dict[4096];
    FILE *fp = fopen(path, "rb");
    if (!fp) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        AF_FAIL(AF_EFORMAT, "'%s': not a .npy file (bad magic)", path);
    if (pre[6] != 1 || pre[7] != 0) AF_FAIL(AF_EFORMAT, "'%s': .npy version %d.%d, expected 1.0", path, pre[6], pre[7]);
    size_t hl = (size_t)pre[8] | ((size_t)pre[9] << 8);
    if (hl >= sizeof dict || fread(dict, 1, hl, fp) != hl) AF_FAIL(AF_EFORMAT, "'%s': truncated .npy header", path);
    dict[hl] = '\0';
    if ((10 + hl) % 64 != 0 || dict[hl - 1] != '\n') AF_FAIL(AF_EFORMAT, "'%s': .npy header not padded to 64 bytes", path);
    const char *d = strstr(dict, "'descr': '"), *f = strstr(dict, "'fortran_order': False"), *s = strstr(dict, "'shape': (");
    if (!d || !f || !s) AF_FAIL(AF_EFORMAT, "'%s': .npy header lacks descr, fortran_order False or shape", path);
    d += 10;
    const char *q = strchr(d, '\'');
    if (!q || (size_t)(q - d) >= ndescr) AF_FAIL(AF_EFORMAT, "'%s': bad descr in .npy header", path);
    memcpy(descr, d, (size_t)(q - d));
    descr[q - d] = '\0';
    s += 10;
    *ndim = 0;
    while (*s && *s != ')') {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s) AF_FAIL(AF_EFORMAT, "'%s': bad shape in .npy header", path);
        if (*ndim >= 8) AF_FAIL(AF_EFORMAT, "'%s': more than 8 dimensions", path);
        shape[(*ndim)++] = (size_t)v;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    *hlen = 10 + hl;
cleanup:
    if (fp) fclose(fp);
    return rc;
}

int af__npy_write(const char *path, const void *data, size_t esize, const size_t *shape, int ndim, af_error *err)
{
    int rc = AF_OK;
    char hdr[512];
    unsigned char *buf = NULL;
    const unsigned char *src = data;
    size_t n = 1;
    const char *descr = esize == 1 ? "|u1" : esize == 4 ? "<f4" : "<f8";
    AF_CHECK_ARG(esize == 1 || esize == 4 || esize == 8);
    for (int i = 0; i < ndim; i++) n *= shape[i];
    size_t hl = af__npy_header(hdr, sizeof hdr, descr, shape, ndim);
    if (!hl) AF_FAIL(AF_EINTERNAL, "'%s': .npy header too long", path);
    buf = malloc(hl + n * esize);
    AF_CHECK_ALLOC(buf);
    memcpy(buf, hdr, hl);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        if (esize == 1) u = src[i];
        else if (esize == 4) { uint32_t w; memcpy(&w, src + i * 4, 4); u = w; }
        else memcpy(&u, src + i * 8, 8);
        for (size_t b = 0; b < esize; b++) buf[hl + i * esize + b] = (unsigned char)(u >> (8 * b));
    }
    AF_CHECK(af_write_atomic(path, buf, hl + n * esize, err));
cleanup:
    free(buf);
    return rc;
}

int af__npy_write_f32(const char *path, const float *data, const size_t *shape, int ndim, af_error *err)
{
    return af__npy_write(path, data, 4, shape, ndim, err);
}
