/* SPDX-License-Identifier: MIT */
/*
 * fetch_engine.c: af_fetch_run, the download engine (libcurl multi interface).
 *
 * Up to opts->jobs transfers run at once. A file is received into PATH.part
 * (written with write(2), so what is on disk is what arrived); when PATH.part
 * already holds bytes (an earlier interrupted run, or a failed attempt) the
 * request asks for the rest with an HTTP Range header (and If-Range with the
 * ETag or Last-Modified saved in PATH.part.etag when the bytes began), and a server
 * that answers 200 instead of 206 makes it start over. Transient failures (connection, stall,
 * body shorter than announced, HTTP 408/429/5xx) are retried after opts->backoff
 * seconds, doubling; 4xx are final. A complete body is checked (size announced
 * by the server; af_fetch_check_file), fsynced and renamed to PATH; a corrupt
 * one is removed. With head_only, HEAD requests report sizes and nothing is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"
#include "fetch_impl.h"

enum { X_WAIT = 0, X_ACTIVE, X_DONE, X_FAILED };

typedef struct xfer {
    af_fetch_item *it;
    CURL *h;
    int fd;
    char *part;
    long long offset;     /* bytes already in .part when this attempt started */
    long long got;        /* bytes written by this attempt */
    long long total;      /* expected final size, -1 unknown */
    long status;          /* HTTP status of this attempt's final response */
    int restart;          /* the server ignored Range: start over */
    int attempt;
    int state;
    double not_before;    /* monotonic seconds: earliest start of the next attempt */
    char curlmsg[CURL_ERROR_SIZE];
    char range[32];
    char validator[256];  /* ETag (strong) or Last-Modified of this response */
    int validator_saved;  /* written next to the .part for this attempt */
    struct curl_slist *hdrs;
} xfer;

/* PATH.part.etag: the validator of the bytes in PATH.part, sent as If-Range on a resume so that a
 * file changed on the server since (a gridMET year still being updated) is fetched whole again. */
static void validator_path(const xfer *x, char *out, size_t n) { snprintf(out, n, "%s.etag", x->part); }

static void drop_part(const xfer *x)
{
    char v[4200];
    validator_path(x, v, sizeof v);
    unlink(x->part);
    unlink(v);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void set_item_error(af_fetch_item *it, int code, const char *msg)
{
    free(it->error);
    it->error = af_strdup(msg);
    it->status = code;
}

/* Headers of the response: status line resets, Content-Length / Content-Range give the size. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    xfer *x = userdata;
    size_t len = size * nitems;
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), buf);
    long long a, b, t;
    if (!strncmp(line, "HTTP/", 5)) {
        char *sp = strchr(line, ' ');
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->total = -1;
        x->validator[0] = '\0';
    } else if ((!strncasecmp(line, "ETag:", 5) && !strstr(line, "W/")) ||
               (!strncasecmp(line, "Last-Modified:", 14) && !x->validator[0])) {
        const char *v = line + (line[0] == 'E' || line[0] == 'e' ? 5 : 14);
        while (*v == ' ') v++;
        snprintf(x->validator, sizeof x->validator, "%.*s", (int)strcspn(v, "\r\n"), v);
    } else if (!strncasecmp(line, "Content-Range:", 14) && sscanf(line + 14, " bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
        x->total = t;
    } else if (!strncasecmp(line, "Content-Length:", 15) && x->total < 0 && x->status != 206) {
        x->total = strtoll(line + 15, NULL, 10);
    } else if (!strncasecmp(line, "Content-Length:", 15) && x->total < 0) {
        x->total = x->offset + strtoll(line + 15, NULL, 10);
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t len = size * nmemb;
    if (x->status >= 400) return len; /* error page: discarded (FAILONERROR normally stops first) */
    if (x->offset > 0 && x->got == 0 && x->status == 200) {
        /* Range ignored: the whole file is coming, start the .part over */
        if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0) return 0;
        x->offset = 0;
        x->validator_saved = 0; /* the new file's validator goes with the new bytes */
    }
    if (x->offset == 0 && x->got == 0 && !x->validator_saved) {
        char vp[4200];
        validator_path(x, vp, sizeof vp);
        unlink(vp);
        if (x->validator[0]) {
            FILE *fp = fopen(vp, "w");
            if (fp) { fputs(x->validator, fp); fclose(fp); }
        }
        x->validator_saved = 1;
    }
    for (size_t done = 0; done < len;) {
        ssize_t w = write(x->fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0; /* curl reports CURLE_WRITE_ERROR */
        done += (size_t)w;
    }
    x->got += (long long)len;
    return len;
}

static int transient_http(long s) { return s == 408 || s == 425 || s == 429 || s >= 500; }

static int transient_curl(CURLcode c)
{
    return c == CURLE_PARTIAL_FILE || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT ||
           c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_COULDNT_RESOLVE_HOST;
}

/* PATH.part.etag holds a validator of the bytes in PATH.part. */
static int has_validator(const xfer *x)
{
    char vp[4200], v[8] = "";
    validator_path(x, vp, sizeof vp);
    FILE *fp = fopen(vp, "r");
    if (!fp) return 0;
    int ok = fgets(v, sizeof v, fp) && v[0] && v[0] != '\n';
    fclose(fp);
    return ok;
}

/* Start (or restart) one attempt. */
static int start(xfer *x, CURLM *m, const af_fetch_opts *o, af_error *err)
{
    int rc = AF_OK;
    af_fetch_item *it = x->it;
    x->got = 0;
    x->total = -1;
    x->status = 0;
    x->curlmsg[0] = '\0';
    x->validator[0] = '\0';
    x->validator_saved = 0;
    x->offset = 0;
    if (!o->head_only) {
        char dir[4096];
        af_path_dirname(it->path, dir, sizeof dir);
        AF_CHECK(af_mkdirs(dir, err));
        x->fd = open(x->part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (x->fd < 0) AF_FAIL(AF_EIO, "cannot open '%s' for writing: %s", x->part, strerror(errno));
        struct stat st;
        if (fstat(x->fd, &st) == 0) x->offset = (long long)st.st_size;
        if (x->offset > 0 && !has_validator(x)) {
            /* the server gave neither ETag nor Last-Modified for these bytes: whether the file changed
             * since cannot be asked (If-Range), so splicing could mix two versions: start over */
            if (ftruncate(x->fd, 0) != 0) AF_FAIL(AF_EIO, "cannot truncate '%s': %s", x->part, strerror(errno));
            if (o->notice) {
                char msg[1536];
                snprintf(msg, sizeof msg, "%s (%s): %lld bytes in '%s' but the server gave no ETag or "
                         "Last-Modified for them, so a changed file cannot be detected: starting over",
                         it->url, it->url_key, x->offset, x->part);
                o->notice(msg, o->progress_payload);
            }
            x->offset = 0;
        }
    }
    x->h = curl_easy_init();
    if (!x->h) AF_FAIL(AF_ENOMEM, "curl_easy_init failed");
    curl_easy_setopt(x->h, CURLOPT_URL, it->url);
    curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(x->h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(x->h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->curlmsg);
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "agroflux-fetch/" AF_VERSION);
    curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, (long)(o->stall_seconds > 1 ? o->stall_seconds : 1));
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    if (o->head_only) curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
    else if (x->offset > 0) {
        /* CURLOPT_RANGE, not RESUME_FROM: a 200 answer (Range ignored, or If-Range failed) is then
         * accepted and restarts the file */
        snprintf(x->range, sizeof x->range, "%lld-", x->offset);
        curl_easy_setopt(x->h, CURLOPT_RANGE, x->range);
        char vp[4200], v[256] = "", hdr[300];
        validator_path(x, vp, sizeof vp);
        FILE *fp = fopen(vp, "r");
        if (fp) {
            if (!fgets(v, sizeof v, fp)) v[0] = '\0';
            fclose(fp);
        }
        v[strcspn(v, "\r\n")] = '\0';
        if (v[0]) {
            snprintf(hdr, sizeof hdr, "If-Range: %s", v);
            x->hdrs = curl_slist_append(NULL, hdr);
            if (x->hdrs) curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
        }
    }
    if (curl_multi_add_handle(m, x->h) != CURLM_OK) AF_FAIL(AF_EIO, "curl_multi_add_handle failed");
    x->state = X_ACTIVE;
    x->attempt++;
cleanup:
    return rc;
}

static void end_attempt(xfer *x, CURLM *m)
{
    if (x->h) {
        curl_multi_remove_handle(m, x->h);
        curl_easy_cleanup(x->h);
        x->h = NULL;
    }
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    if (x->fd >= 0) close(x->fd);
    x->fd = -1;
}

/* A complete body: size, content, fsync, rename. On failure the item's error is set. */
static void publish(xfer *x)
{
    af_fetch_item *it = x->it;
    af_error e = AF_ERROR_INIT;
    char msg[1536];
    struct stat st;
    long long have = stat(x->part, &st) == 0 ? (long long)st.st_size : -1;
    if (x->total >= 0 && have != x->total) {
        snprintf(msg, sizeof msg, "%s (%s): received %lld bytes, the server announced %lld; kept as '%s' for a resume",
                 it->url, it->url_key, have, x->total, x->part);
        set_item_error(it, AF_EIO, msg);
        return;
    }
    if (it->expect_sha[0]) {
        char hex[65] = "";
        if (af_file_sha256(x->part, hex, &e) != AF_OK || strcmp(hex, it->expect_sha)) {
            char key[200];
            const char *dot = strrchr(it->key, '.');
            snprintf(key, sizeof key, "%.*s.sha256sums", dot ? (int)(dot - it->key) : 0, it->key);
            snprintf(msg, sizeof msg, "%s (%s): SHA-256 mismatch: the download is %s, %s (%s) lists %s; removed",
                     it->url, it->url_key, hex[0] ? hex : e.msg, it->sums_url, key, it->expect_sha);
            drop_part(x);
            set_item_error(it, AF_EFORMAT, msg);
            return;
        }
    }
    if (af_fetch_check_file(x->part, it->path, &e) != AF_OK) {
        snprintf(msg, sizeof msg, "%s (%s, HTTP %ld): corrupt download, removed: %s", it->url, it->url_key,
                 x->status, e.msg);
        drop_part(x);
        set_item_error(it, AF_EFORMAT, msg);
        return;
    }
    if (af_fsync_path(x->part, &e) != AF_OK || af_rename_durable(x->part, it->path, &e) != AF_OK) {
        snprintf(msg, sizeof msg, "%s (%s): %s", it->url, it->url_key, e.msg);
        set_item_error(it, AF_EIO, msg);
        return;
    }
    char vp[4200];
    validator_path(x, vp, sizeof vp);
    unlink(vp);
    it->present = 1;
    it->size = have;
    it->status = AF_OK;
}

/* One finished attempt: done, retry later, or failed. */
static void finish(xfer *x, CURLcode res, CURLM *m, const af_fetch_opts *o, double t)
{
    af_fetch_item *it = x->it;
    long code = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
    if (code) x->status = code;
    it->http_status = x->status;
    end_attempt(x, m);
    char msg[1536];
    int retry = 0;
    if (res == CURLE_OK && (o->head_only || x->status < 400)) {
        if (o->head_only) {
            it->size = x->total;
            it->status = AF_OK;
        } else {
            publish(x);
        }
        x->state = it->status == AF_OK ? X_DONE : X_FAILED;
        return;
    }
    if (x->status == 416 && x->offset > 0) { /* .part longer than the file: start over */
        drop_part(x);
        retry = 1;
        snprintf(msg, sizeof msg, "%s (%s): HTTP 416 for the rest of '%s'", it->url, it->url_key, x->part);
    } else if (x->status >= 400) {
        retry = transient_http(x->status);
        snprintf(msg, sizeof msg, "%s (%s): HTTP %ld%s%s", it->url, it->url_key, x->status,
                 x->curlmsg[0] ? ": " : "", x->curlmsg);
        if (!retry && (x->status == 404 || x->status == 410) && it->optional) {
            it->skipped = 1;
            it->status = AF_OK;
            x->state = X_DONE;
            if (!o->head_only) drop_part(x); /* the empty .part of this attempt */
            return;
        }
    } else {
        retry = transient_curl(res);
        if (res == CURLE_PARTIAL_FILE)
            snprintf(msg, sizeof msg, "%s (%s, HTTP %ld): the body ended early at %lld of %lld bytes; kept as '%s' "
                     "for a resume", it->url, it->url_key, x->status, x->offset + x->got, x->total, x->part);
        else if (x->status)
            snprintf(msg, sizeof msg, "%s (%s, HTTP %ld): %s", it->url, it->url_key, x->status,
                     x->curlmsg[0] ? x->curlmsg : curl_easy_strerror(res));
        else /* no answer at all (connection, name resolution): no status to name */
            snprintf(msg, sizeof msg, "%s (%s): %s", it->url, it->url_key,
                     x->curlmsg[0] ? x->curlmsg : curl_easy_strerror(res));
    }
    if (retry && x->attempt <= o->retries) {
        double wait = o->backoff;
        for (int i = 1; i < x->attempt && wait < 60; i++) wait *= 2;
        x->not_before = t + (wait < 60 ? wait : 60);
        x->state = X_WAIT;
        return;
    }
    char full[2048];
    snprintf(full, sizeof full, "%s%s", msg, retry ? " (gave up after retries)" : "");
    struct stat st;
    if (!o->head_only && stat(x->part, &st) == 0 && st.st_size == 0) drop_part(x); /* nothing to resume */
    set_item_error(it, (x->status == 404 || x->status == 410) ? AF_ENOTFOUND : AF_EIO, full);
    x->state = X_FAILED;
}

static void report(const xfer *xs, size_t n, const af_fetch_opts *o, double t0, long long resumed, int final)
{
    af_fetch_progress p;
    memset(&p, 0, sizeof p);
    p.nfiles = n;
    long long known = 0;
    size_t nknown = 0;
    for (size_t i = 0; i < n; i++) {
        const xfer *x = &xs[i];
        if (x->state == X_DONE) p.files_done++;
        if (x->state == X_FAILED) p.files_failed++;
        p.bytes_done += x->state == X_DONE && !o->head_only ? (x->it->size > 0 ? x->it->size : 0) : x->offset + x->got;
        long long sz = x->state == X_DONE ? x->it->size : x->total;
        if (sz >= 0) { known += sz; nknown++; }
    }
    p.bytes_total = nknown ? known + (long long)((double)known / (double)nknown * (double)(n - nknown)) : 0;
    p.elapsed = now_s() - t0;
    p.rate = p.elapsed > 0 ? (double)(p.bytes_done - resumed) / p.elapsed : 0;
    p.eta = p.rate > 0 && nknown ? (double)(p.bytes_total - p.bytes_done) / p.rate : -1;
    if (p.eta < 0 && nknown) p.eta = p.rate > 0 ? 0 : -1;
    p.final = final;
    o->progress(&p, o->progress_payload);
}

int af_fetch_run(af_fetch_item *const *items, size_t n, const af_fetch_opts *opts, af_fetch_summary *sum,
                 af_error *err)
{
    int rc = AF_OK;
    af_fetch_opts o = opts ? *opts : (af_fetch_opts)AF_FETCH_OPTS_INIT;
    xfer *xs = NULL;
    char *queued = NULL;   /* item i has a transfer */
    const af_fetch_item *first = NULL;
    size_t nx = 0;
    CURLM *m = NULL;
    double t0 = now_s(), last_report = 0;
    long long resumed = 0;
    AF_CHECK_ARG(sum && (items || n == 0));
    memset(sum, 0, sizeof *sum);
    if (o.jobs < 1) o.jobs = 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) AF_FAIL(AF_EIO, "curl_global_init failed");
    xs = calloc(n ? n : 1, sizeof *xs);
    queued = calloc(n ? n : 1, 1);
    AF_CHECK_ALLOC(xs);
    AF_CHECK_ALLOC(queued);
    for (size_t i = 0; i < n; i++) {
        free(items[i]->error);
        items[i]->error = NULL;
        items[i]->status = AF_OK;
    }
    if (!o.head_only) {
        char msg[256];
        if (af__fetch_sums_resolve(items, n, msg, sizeof msg) < 0) AF_FAIL(AF_ENOMEM, "%s", msg);
    }
    for (size_t i = 0; i < n; i++) {
        af_fetch_item *it = items[i];
        if (it->present || it->remote || it->error) continue;
        if (!it->url) {
            char msg[4600], hint[200];
            size_t kl = strlen(it->key);
            if (kl > 5 && !strcmp(it->key + kl - 5, ".path")) snprintf(hint, sizeof hint, "`url` beside `path`");
            else snprintf(hint, sizeof hint, "%.160s_url", it->key);
            snprintf(msg, sizeof msg, "'%s' (%s, line %d) is missing and the pipeline gives no URL for it: manual: "
                     "see docs/data-sources.md#%s (or add %s)", it->path, it->key, it->line,
                     it->doc[0] ? it->doc : "layout-the-reference-pipelines-expect", hint);
            set_item_error(it, AF_ENOTFOUND, msg);
            continue;
        }
        xfer *x = &xs[nx++];
        queued[i] = 1;
        x->it = it;
        x->fd = -1;
        it->status = AF_OK;
        size_t len = strlen(it->path) + 6;
        x->part = malloc(len);
        AF_CHECK_ALLOC(x->part);
        snprintf(x->part, len, "%s.part", it->path);
        struct stat st;
        if (!o.head_only && stat(x->part, &st) == 0) resumed += (long long)st.st_size;
    }
    m = curl_multi_init();
    if (!m) AF_FAIL(AF_ENOMEM, "curl_multi_init failed");
    for (;;) {
        double t = now_s();
        int active = 0, pending = 0;
        for (size_t i = 0; i < nx; i++) active += xs[i].state == X_ACTIVE, pending += xs[i].state == X_WAIT;
        for (size_t i = 0; i < nx && active < o.jobs; i++) {
            if (xs[i].state != X_WAIT || xs[i].not_before > t) continue;
            af_error e2 = AF_ERROR_INIT;
            if (start(&xs[i], m, &o, &e2) != AF_OK) { /* this file only (a directory, a descriptor) */
                char msg[1536];
                snprintf(msg, sizeof msg, "%s (%s): %s", xs[i].it->url, xs[i].it->url_key, e2.msg);
                set_item_error(xs[i].it, e2.code, msg);
                end_attempt(&xs[i], m);
                xs[i].state = X_FAILED;
                continue;
            }
            active++;
        }
        if (!active && !pending) break;
        int running = 0, numfds = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            finish(x, msg->data.result, m, &o, now_s());
        }
        if (o.progress && nx && now_s() - last_report >= o.progress_interval) {
            report(xs, nx, &o, t0, resumed, 0);
            last_report = now_s();
        }
        curl_multi_poll(m, NULL, 0, active ? 200 : 50, &numfds);
    }
    if (o.progress && nx) report(xs, nx, &o, t0, resumed, 1);
    first = NULL;
    for (size_t i = 0; i < n; i++) /* missing files without a URL, or without their checksum */
        if (!queued[i] && items[i]->error) {
            sum->failed++;
            if (!first) first = items[i];
        }
    for (size_t i = 0; i < nx; i++) {
        const af_fetch_item *it = xs[i].it;
        if (it->skipped) sum->skipped++;
        else if (it->status != AF_OK) { sum->failed++; if (!first) first = it; }
        else { sum->fetched++; sum->bytes += it->size > 0 ? it->size : 0; }
    }
    sum->seconds = now_s() - t0;
    if (first)
        AF_FAIL(first->status, "%zu of %zu file%s failed; first: %s", sum->failed, sum->failed + sum->fetched,
                sum->failed + sum->fetched == 1 ? "" : "s", first->error);
cleanup:
    for (size_t i = 0; i < nx; i++) {
        if (m) end_attempt(&xs[i], m);
        free(xs[i].part);
    }
    free(xs);
    free(queued);
    if (m) curl_multi_cleanup(m);
    return rc;
}
