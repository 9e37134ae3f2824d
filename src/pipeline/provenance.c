/* SPDX-License-Identifier: MIT */
/*
 * provenance.c: the inputs that fed a run, with size and SHA-256, written as
 * OUTDIR/provenance.json (before the index, which references it by SHA-256).
 * Scales with the number of input files, not with ranks x files: each rank
 * lists the files its sources read; every path goes to one owner rank, chosen
 * by a fixed hash bucket of the path (AF_PROV_BUCKETS buckets, owner =
 * bucket * P / BUCKETS), in one all-to-all exchange of the paths themselves;
 * the owner removes duplicates and hashes its files; rank 0 then streams the
 * owners' records into the file in rank order, hashing while it writes. The
 * records are ordered by (bucket, path), so the file is the same for any rank
 * count. All sizes are 64-bit; no rank ever holds the whole list. Collective.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"
#include "log.h"
#include "pipeline_impl.h"

#define AF_PROV_BUCKETS 4096u
/* Largest message of one MPI call (counts are int). */
#define AF_PROV_CHUNK (1 << 30)

typedef struct prov_list {
    char *buf;          /* NUL-separated paths */
    size_t len, cap;
    char **item;        /* pointers into buf, after index() */
    size_t n;
} prov_list;

static void list_free(prov_list *l)
{
    free(l->buf);
    free(l->item);
    memset(l, 0, sizeof *l);
}

static int list_add(prov_list *l, const char *s, af_error *err)
{
    int rc = AF_OK;
    size_t sl = strlen(s) + 1;
    if (l->len + sl > l->cap) {
        size_t nc = (l->cap + sl) * 2;
        char *nb = realloc(l->buf, nc);
        AF_CHECK_ALLOC(nb);
        l->buf = nb;
        l->cap = nc;
    }
    memcpy(l->buf + l->len, s, sl);
    l->len += sl;
cleanup:
    return rc;
}

static unsigned bucket_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, 64-bit */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (unsigned)(h % AF_PROV_BUCKETS);
}

static int cmp_path(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    unsigned bx = bucket_of(x), by = bucket_of(y);
    if (bx != by) return bx < by ? -1 : 1;
    return strcmp(x, y);
}

/* Point item[] at the paths of buf, sort them by (bucket, path) and drop duplicates. */
static int list_index(prov_list *l, af_error *err)
{
    int rc = AF_OK;
    size_t cnt = 0;
    for (size_t i = 0; i < l->len; i++) cnt += l->buf[i] == '\0';
    l->item = malloc((cnt ? cnt : 1) * sizeof *l->item);
    AF_CHECK_ALLOC(l->item);
    l->n = 0;
    for (size_t i = 0; i < l->len; i += strlen(l->buf + i) + 1) l->item[l->n++] = l->buf + i;
    qsort(l->item, l->n, sizeof *l->item, cmp_path);
    size_t u = 0;
    for (size_t i = 0; i < l->n; i++)
        if (u == 0 || strcmp(l->item[i], l->item[u - 1])) l->item[u++] = l->item[i];
    l->n = u;
cleanup:
    return rc;
}

/* Paths under the pipeline file's directory are recorded relative to it. */
static const char *relative(const af_config *cfg, const char *path)
{
    size_t n = strlen(cfg->dir);
    if (strcmp(cfg->dir, ".") && !strncmp(path, cfg->dir, n) && path[n] == '/') return path + n + 1;
    return path;
}

/* This rank's files: the config-level ones plus every source group's. */
static int list_local(const af_ctx *ctx, prov_list *l, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = ctx->cfg;
    AF_CHECK(list_add(l, cfg->path, err));
    if (cfg->has_counties) AF_CHECK(list_add(l, cfg->county_layer, err));
    if (cfg->county_select[0]) AF_CHECK(list_add(l, cfg->county_select, err));
    if (cfg->has_sites) AF_CHECK(list_add(l, cfg->site_list, err));
    for (size_t j = 0; j < ctx->ngroups; j++) {
        const char *const *paths = NULL;
        size_t np = 0;
        if (!ctx->groups[j].state) continue;
        AF_CHECK(ctx->groups[j].kind->files(ctx->groups[j].state, &paths, &np, err));
        for (size_t i = 0; i < np; i++) AF_CHECK(list_add(l, paths[i], err));
    }
cleanup:
    return rc;
}

/* Send every local path to its owner; *got receives the paths this rank owns. Collective. */
static int exchange(MPI_Comm comm, int size, const prov_list *mine, prov_list *got, af_error *err)
{
    int rc = AF_OK;
    long long *cnt = NULL, *rcnt = NULL;
    int *sc = NULL, *sd = NULL, *rcv = NULL, *rd = NULL;
    char *sbuf = NULL;
    cnt = calloc((size_t)size, sizeof *cnt);
    rcnt = calloc((size_t)size, sizeof *rcnt);
    sc = calloc((size_t)size, sizeof *sc);
    sd = calloc((size_t)size, sizeof *sd);
    rcv = calloc((size_t)size, sizeof *rcv);
    rd = calloc((size_t)size, sizeof *rd);
    sbuf = malloc(mine->len + 1);
    if (!cnt || !rcnt || !sc || !sd || !rcv || !rd || !sbuf)
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(comm, err));
    for (size_t i = 0; i < mine->n; i++) {
        int o = (int)((unsigned long long)bucket_of(mine->item[i]) * (unsigned)size / AF_PROV_BUCKETS);
        cnt[o] += (long long)strlen(mine->item[i]) + 1;
    }
    AF_CHECK_MPI(MPI_Alltoall(cnt, 1, MPI_LONG_LONG, rcnt, 1, MPI_LONG_LONG, comm));
    long long stot = 0, rtot = 0;
    for (int r = 0; r < size; r++) { stot += cnt[r]; rtot += rcnt[r]; }
    if (stot > INT_MAX || rtot > INT_MAX)
        af_error_set(err, AF_EINVAL, __FILE__, __LINE__, __func__, "provenance: %lld bytes of input paths "
                     "on one rank exceed one MPI exchange (2 GiB): run on more ranks", stot > rtot ? stot : rtot);
    AF_CHECK(af_error_sync(comm, err));
    for (int r = 0, s = 0, d = 0; r < size; r++) {
        sc[r] = (int)cnt[r]; sd[r] = s; s += sc[r];
        rcv[r] = (int)rcnt[r]; rd[r] = d; d += rcv[r];
    }
    /* pack by owner (items are in bucket order, so owners come in increasing order) */
    size_t off = 0;
    for (size_t i = 0; i < mine->n; i++) {
        size_t sl = strlen(mine->item[i]) + 1;
        memcpy(sbuf + off, mine->item[i], sl);
        off += sl;
    }
    got->cap = got->len = (size_t)rtot;
    got->buf = malloc(got->cap + 1);
    if (!got->buf) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Alltoallv(sbuf, sc, sd, MPI_CHAR, got->buf, rcv, rd, MPI_CHAR, comm));
cleanup:
    free(cnt);
    free(rcnt);
    free(sc);
    free(sd);
    free(rcv);
    free(rd);
    free(sbuf);
    return rc;
}

/* Append s to the text (len excludes the NUL kept after it). */
static int text_cat(prov_list *t, const char *s, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(list_add(t, s, err));
    t->len--;
cleanup:
    return rc;
}

/* Hash this rank's files into JSON records, one a line, joined by ",\n" (text, len). */
static int hash_records(const af_config *cfg, const prov_list *own, char **text, size_t *len, af_error *err)
{
    int rc = AF_OK;
    prov_list out = { 0 };
    json_t *o = NULL;
    char *line = NULL;
    AF_CHECK(text_cat(&out, "", err));
    for (size_t i = 0; i < own->n; i++) {
        long long bytes = 0;
        char sha[65];
        if (af_path_is_virtual(own->item[i])) { /* /vsicurl/, /vsizip/, URLs: read through GDAL */
            af_error e2 = AF_ERROR_INIT;
            if (af_fetch_vsi_sha256(own->item[i], &bytes, sha, &e2) != AF_OK) {
                /* e.g. an OPeNDAP endpoint: no file bytes to hash; recorded as unknown, not fatal */
                af_log(AF_LOG_WARN, "provenance", "%s: no hash (%s)", own->item[i], e2.msg);
                bytes = -1;
                sha[0] = '\0';
            }
        } else {
            AF_CHECK(af_file_size(own->item[i], &bytes, err));
            AF_CHECK(af_file_sha256(own->item[i], sha, err));
        }
        o = json_pack("{s:s, s:I, s:s}", "path", relative(cfg, own->item[i]), "bytes", (json_int_t)bytes,
                      "sha256", sha);
        if (!o) AF_FAIL(AF_EINVAL, "provenance: '%s' is not UTF-8", own->item[i]);
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        AF_CHECK_ALLOC(line);
        AF_CHECK(text_cat(&out, i > 0 ? ",\n    " : "    ", err));
        AF_CHECK(text_cat(&out, line, err));
        free(line);
        line = NULL;
        json_decref(o);
        o = NULL;
    }
    *text = out.buf;
    *len = out.len;
    out.buf = NULL;
cleanup:
    json_decref(o);
    free(line);
    list_free(&out);
    return rc;
}

/* MPI_Send that waits for rank 0 (busy writing the ranks before this one) sleeping, not polling. */
static int send_idle(const void *p, int n, MPI_Datatype t, int tag, MPI_Comm comm)
{
    MPI_Request req;
    int rc = MPI_Isend(p, n, t, 0, tag, comm, &req);
    return rc == MPI_SUCCESS ? af_mpi_wait_idle(&req) : rc;
}

/* Long message in pieces of at most AF_PROV_CHUNK bytes. */
static int send_long(const char *p, long long n, MPI_Comm comm)
{
    int rc = send_idle(&n, 1, MPI_LONG_LONG, 0, comm);
    for (long long off = 0; rc == MPI_SUCCESS && off < n; off += AF_PROV_CHUNK) {
        int c = (int)(n - off < AF_PROV_CHUNK ? n - off : AF_PROV_CHUNK);
        rc = send_idle(p + off, c, MPI_CHAR, 1, comm);
    }
    return rc;
}

typedef struct prov_sink {
    FILE *fp;
    EVP_MD_CTX *md;
    long long bytes;
    const char *path;
    af_error *err;
    int rc;             /* first failure; later writes are skipped */
} prov_sink;

static void sink_put(prov_sink *s, const char *p, size_t n)
{
    if (s->rc != AF_OK || n == 0) return;
    if (fwrite(p, 1, n, s->fp) != n) {
        s->rc = af_error_set(s->err, AF_EIO, __FILE__, __LINE__, __func__, "cannot write '%s': %s", s->path, strerror(errno));
        return;
    }
    EVP_DigestUpdate(s->md, p, n);
    s->bytes += (long long)n;
}

/* Rank 0: header, every rank's records in rank order, footer; hashed while written. Receives
 * every rank's records even after a failure, so no sender is left blocked. */
static int write_file(MPI_Comm comm, int size, const char *tmp, const char *mine, size_t mylen,
                      const int *nonempty, unsigned long long total, af_prov_ref *ref, af_error *err)
{
    int rc = AF_OK;
    prov_sink s = { NULL, NULL, 0, tmp, err, AF_OK };
    char *buf = NULL, head[256];
    int any = 0;
    s.fp = fopen(tmp, "wb");
    s.md = EVP_MD_CTX_new();
    if (!s.fp) s.rc = af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__, "cannot create '%s': %s", tmp, strerror(errno));
    else if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1)
        s.rc = af_error_set(err, AF_EINTERNAL, __FILE__, __LINE__, __func__, "SHA-256 init failed");
    snprintf(head, sizeof head, "{\n  \"schema\": \"agroflux-provenance\",\n  \"schema_version\": 1,\n"
             "  \"order\": \"fnv1a64-bucket%u-then-path\",\n  \"count\": %llu,\n  \"files\": [\n",
             AF_PROV_BUCKETS, total);
    sink_put(&s, head, strlen(head));
    for (int r = 0; r < size; r++) {
        const char *p = mine;
        long long n = (long long)mylen;
        if (r > 0) {
            AF_CHECK_MPI(MPI_Recv(&n, 1, MPI_LONG_LONG, r, 0, comm, MPI_STATUS_IGNORE));
            free(buf);
            buf = malloc((size_t)n + 1);
            AF_CHECK_ALLOC(buf);
            for (long long off = 0; off < n; off += AF_PROV_CHUNK) {
                int c = (int)(n - off < AF_PROV_CHUNK ? n - off : AF_PROV_CHUNK);
                AF_CHECK_MPI(MPI_Recv(buf + off, c, MPI_CHAR, r, 1, comm, MPI_STATUS_IGNORE));
            }
            p = buf;
        }
        if (!nonempty[r]) continue;
        if (any) sink_put(&s, ",\n", 2);
        sink_put(&s, p, (size_t)n);
        any = 1;
    }
    sink_put(&s, any ? "\n  ]\n}\n" : "  ]\n}\n", any ? 7 : 6);
    if (s.rc == AF_OK && fflush(s.fp) != 0)
        s.rc = af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__, "cannot write '%s': %s", tmp, strerror(errno));
    rc = s.rc;
    if (rc != AF_OK) goto cleanup;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(s.md, md, &mdlen);
    for (unsigned i = 0; i < mdlen && i < 32; i++) snprintf(ref->sha256 + 2 * i, 3, "%02x", md[i]);
    ref->bytes = s.bytes;
    ref->count = (long long)total;
cleanup:
    if (s.fp && fclose(s.fp) != 0 && rc == AF_OK)
        rc = af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__, "cannot close '%s': %s", tmp, strerror(errno));
    EVP_MD_CTX_free(s.md);
    free(buf);
    return rc;
}

int af__provenance_write(MPI_Comm comm, const af_ctx *ctx, const char *outdir, af_prov_ref *ref,
                         af_error *err)
{
    int rc = AF_OK, rank, size;
    prov_list mine = { 0 }, own = { 0 };
    char *text = NULL, tmp[4420], final_path[4400];
    size_t tlen = 0;
    int *nonempty = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(ref, 0, sizeof *ref);
    if (list_local(ctx, &mine, err) == AF_OK) list_index(&mine, err);
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK(exchange(comm, size, &mine, &own, err));
    list_free(&mine);
    if (list_index(&own, err) == AF_OK) hash_records(ctx->cfg, &own, &text, &tlen, err);
    AF_CHECK(af_error_sync(comm, err));
    unsigned long long n = own.n, total = 0;
    AF_CHECK_MPI(MPI_Allreduce(&n, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm));
    nonempty = calloc((size_t)size, sizeof *nonempty);
    if (!nonempty) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(comm, err));
    int ne = own.n > 0;
    AF_CHECK_MPI(MPI_Allgather(&ne, 1, MPI_INT, nonempty, 1, MPI_INT, comm));
    snprintf(ref->path, sizeof ref->path, "%s", AF_PROVENANCE_NAME);
    if (af_path_join(outdir, AF_PROVENANCE_NAME, final_path, sizeof final_path, err) == AF_OK)
        snprintf(tmp, sizeof tmp, "%s.partial", final_path);
    AF_CHECK(af_error_sync(comm, err));
    if (rank == 0) {
        if (write_file(comm, size, tmp, text, tlen, nonempty, total, ref, err) == AF_OK &&
            af_fsync_path(tmp, err) == AF_OK)
            af_rename_durable(tmp, final_path, err);
        if (err->code != AF_OK) unlink(tmp); /* a failed write leaves no temporary behind (as af_write_file_atomic) */
    } else {
        AF_CHECK_MPI(send_long(text ? text : "", (long long)tlen, comm));
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Bcast(ref, (int)sizeof *ref, MPI_BYTE, 0, comm));
cleanup:
    list_free(&mine);
    list_free(&own);
    free(text);
    free(nonempty);
    return rc;
}
