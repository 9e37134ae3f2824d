/* SPDX-License-Identifier: MIT */
/*
 * util.c: strings, paths and durable file publication for af_util.h.
 * Publication protocol: write "<final>.partial", fsync it, rename over the
 * final name, fsync the directory, so a crash never leaves a half-written file
 * under a final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "af_check.h"
#include "af_util.h"

int af_array_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t first, af_error *err)
{
    int rc = AF_OK;
    if (n < *cap) goto cleanup;
    if (*cap > SIZE_MAX / 2 / elem || first > SIZE_MAX / elem)
        AF_FAIL(AF_ENOMEM, "out of memory (an array of %zu elements of %zu bytes cannot double)", *cap, elem);
    size_t nc = *cap ? 2 * *cap : first;
    void *p = realloc(*arr, nc * elem);
    AF_CHECK_ALLOC(p);
    *arr = p;
    *cap = nc;
cleanup:
    return rc;
}

int af_strlcpy_checked(char *dst, const char *src, size_t n, const char *what, af_error *err)
{
    int rc = AF_OK;
    size_t len = strlen(src);
    if (len >= n) AF_FAIL(AF_EINVAL, "%s '%.60s...' is too long (%zu bytes, at most %zu)", what, src, len, n - 1);
    memcpy(dst, src, len + 1);
cleanup:
    return rc;
}

char *af_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *af_strtrim(char *s)
{
    char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (p != s) memmove(s, p, strlen(p) + 1);
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int af_missing_value(double v)
{
    return !isfinite(v) || v == -9999.0 || v == -6999.0;
}

int af_parse_double(const char *s, double *out)
{
    if (!s || !*s) return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    *out = v;
    return 1;
}

int af_parse_long(const char *s, long *out)
{
    if (!s || !*s) return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno == ERANGE) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    *out = v;
    return 1;
}

void af_format_float(float v, char *buf, size_t n)
{
    if (isnan(v)) { snprintf(buf, n, "nan"); return; }
    for (int p = 6; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v) return;
    }
}

int af_path_join(const char *dir, const char *rel, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    int len;
    /* "." segments at the join add nothing but noise to every message that names the path */
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (rel[0] == '/') rel++;
    }
    if (!strcmp(rel, ".")) rel = "";
    if (!rel[0])
        len = snprintf(out, n, "%s", dir && dir[0] ? dir : ".");
    else if (rel[0] == '/' || !dir || !dir[0] || !strcmp(dir, "."))
        len = snprintf(out, n, "%s", rel);
    else
        len = snprintf(out, n, "%s/%s", dir, rel);
    if (len < 0 || (size_t)len >= n) AF_FAIL(AF_EINVAL, "path too long: %s/%s", dir ? dir : "", rel);
cleanup:
    return rc;
}

void af_path_dirname(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) { snprintf(out, n, "."); return; }
    if (slash == path) { snprintf(out, n, "/"); return; }
    snprintf(out, n, "%.*s", (int)(slash - path), path);
}

int af_mkdirs(const char *path, af_error *err)
{
    int rc = AF_OK;
    char tmp[4096];
    if (strlen(path) >= sizeof tmp) AF_FAIL(AF_EINVAL, "path too long: %s", path);
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0775) != 0 && errno != EEXIST) AF_FAIL(AF_EIO, "cannot create directory '%s': %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0775) != 0 && errno != EEXIST) AF_FAIL(AF_EIO, "cannot create directory '%s': %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) AF_FAIL(AF_EIO, "'%s' is not a directory", tmp);
cleanup:
    return rc;
}

int af_file_size(const char *path, long long *out, af_error *err)
{
    int rc = AF_OK;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) AF_FAIL(AF_ENOTFOUND, "file not found: '%s'", path);
        AF_FAIL(AF_EIO, "cannot stat '%s': %s", path, strerror(errno));
    }
    *out = (long long)st.st_size;
cleanup:
    return rc;
}

int af_file_readable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

int af_path_is_virtual(const char *path)
{
    if (!path) return 0;
    if (!strncmp(path, "/vsi", 4) || strstr(path, "://")) return 1;
    /* a driver prefix: 2+ upper-case letters, digits or '_' then ':' (not a drive letter "C:") */
    size_t i = 0;
    while ((path[i] >= 'A' && path[i] <= 'Z') || (path[i] >= '0' && path[i] <= '9') || path[i] == '_') i++;
    return i >= 2 && path[i] == ':';
}

static void hex_encode(const unsigned char *md, unsigned len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < len && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

void af_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    hex_encode(md, mdlen, hex);
}

af_sha256 *af_sha256_begin(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return (af_sha256 *)ctx;
}

void af_sha256_update(af_sha256 *h, const void *data, size_t len)
{
    if (h && len) EVP_DigestUpdate((EVP_MD_CTX *)h, data, len);
}

void af_sha256_end(af_sha256 **h, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    hex[0] = '\0';
    if (!h || !*h) return;
    EVP_DigestFinal_ex((EVP_MD_CTX *)*h, md, &mdlen);
    hex_encode(md, mdlen, hex);
    EVP_MD_CTX_free((EVP_MD_CTX *)*h);
    *h = NULL;
}

int af_file_sha256(const char *path, char hex[65], af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    EVP_MD_CTX *ctx = NULL;
    /* 64 KiB on the stack: a heap buffer of 1 MiB was a fresh mapping for every file (the CLI's
     * fixed mmap threshold), faulted in page by page: provenance hashes thousands of small files */
    unsigned char buf[1 << 16];
    fp = fopen(path, "rb");
    if (!fp) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    ctx = EVP_MD_CTX_new();
    AF_CHECK_ALLOC(ctx);
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) AF_FAIL(AF_EINTERNAL, "EVP_DigestInit_ex failed");
    setvbuf(fp, NULL, _IONBF, 0); /* fread of whole buffers goes straight to read(2) */
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0) EVP_DigestUpdate(ctx, buf, got);
    if (ferror(fp)) AF_FAIL(AF_EIO, "read error on '%s'", path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    hex_encode(md, mdlen, hex);
cleanup:
    EVP_MD_CTX_free(ctx);
    if (fp) fclose(fp);
    return rc;
}

int af_fsync_path(const char *path, af_error *err)
{
    int rc = AF_OK;
    int fd = open(path, O_RDONLY);
    if (fd < 0) AF_FAIL(AF_EIO, "cannot open '%s' for fsync: %s", path, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) AF_FAIL(AF_EIO, "fsync '%s': %s", path, strerror(errno));
cleanup:
    if (fd >= 0) close(fd);
    return rc;
}

int af_rename(const char *from, const char *to, af_error *err)
{
    int rc = AF_OK;
    if (rename(from, to) != 0) AF_FAIL(AF_EIO, "cannot rename '%s' to '%s': %s", from, to, strerror(errno));
cleanup:
    return rc;
}

int af_rename_durable(const char *tmp, const char *final_path, af_error *err)
{
    int rc = AF_OK;
    char dir[4096];
    AF_CHECK(af_rename(tmp, final_path, err));
    af_path_dirname(final_path, dir, sizeof dir);
    AF_CHECK(af_fsync_path(dir, err));
cleanup:
    return rc;
}

int af_write_atomic(const char *path, const void *data, size_t len, af_error *err)
{
    int rc = AF_OK;
    char tmp[4200];
    int fd = -1;
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0664);
    if (fd < 0) AF_FAIL(AF_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            AF_FAIL(AF_EIO, "write '%s': %s", tmp, strerror(errno));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) AF_FAIL(AF_EIO, "fsync '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0) { fd = -1; AF_FAIL(AF_EIO, "close '%s': %s", tmp, strerror(errno)); }
    fd = -1;
    AF_CHECK(af_rename_durable(tmp, path, err));
cleanup:
    if (fd >= 0) close(fd);
    if (rc != AF_OK) unlink(tmp);
    return rc;
}

int af_read_file(const char *path, char **out, size_t *len, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = NULL;
    char *buf = NULL;
    fp = fopen(path, "rb");
    if (!fp) AF_FAIL(errno == ENOENT ? AF_ENOTFOUND : AF_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0) AF_FAIL(AF_EIO, "cannot seek '%s'", path);
    long n = ftell(fp);
    if (n < 0) AF_FAIL(AF_EIO, "cannot size '%s'", path);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    AF_CHECK_ALLOC(buf);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) AF_FAIL(AF_EIO, "short read on '%s'", path);
    buf[n] = '\0';
    *out = buf;
    if (len) *len = (size_t)n;
    buf = NULL;
cleanup:
    free(buf);
    if (fp) fclose(fp);
    return rc;
}

int af_one_edit_apart(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb) { const char *t = a; a = b; b = t; size_t tl = la; la = lb; lb = tl; }
    if (lb - la > 1) return 0;
    size_t i = 0;
    while (i < la && a[i] == b[i]) i++;
    if (i == la) return la != lb;  /* equal strings are not one edit apart */
    if (la == lb) {
        if (!strcmp(a + i + 1, b + i + 1)) return 1;  /* one replaced */
        return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && !strcmp(a + i + 2, b + i + 2); /* swapped */
    }
    return !strcmp(a + i, b + i + 1);  /* one inserted into a */
}
