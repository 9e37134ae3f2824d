/* SPDX-License-Identifier: MIT */
/*
 * fetch_sums.c: checksums of downloads. A `sha256sums` key names a SHA256SUMS file
 * (`sha256sum` output: "HEX  NAME" or "HEX *NAME" per line) that lists the files a
 * section downloads by name; before a download takes its final name its SHA-256 must
 * equal the listed one. Each distinct checksum file is read once per af_fetch_run
 * (libcurl, in memory, at most 16 MiB; file:// URLs work too).
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "af_check.h"
#include "af_util.h"
#include "fetch_impl.h"

#define SUMS_MAX (16L << 20)

typedef struct membuf {
    char *data;
    size_t len;
} membuf;

static size_t on_data(char *buf, size_t size, size_t nmemb, void *userdata)
{
    membuf *m = userdata;
    size_t len = size * nmemb;
    if (m->len + len > (size_t)SUMS_MAX) return 0;
    char *d = realloc(m->data, m->len + len + 1);
    if (!d) return 0;
    memcpy(d + m->len, buf, len);
    m->data = d;
    m->len += len;
    d[m->len] = '\0';
    return len;
}

/* The checksum file's text, or NULL with msg saying why. */
static char *get_text(const char *url, char *msg, size_t n)
{
    membuf m = { NULL, 0 };
    char cerr[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h) { snprintf(msg, n, "curl_easy_init failed"); return NULL; }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
    CURLcode c = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (c != CURLE_OK) {
        if (code) snprintf(msg, n, "HTTP %ld: %s", code, cerr[0] ? cerr : curl_easy_strerror(c));
        else snprintf(msg, n, "%s", cerr[0] ? cerr : curl_easy_strerror(c));
        free(m.data);
        return NULL;
    }
    if (!m.data) m.data = af_strdup("");
    return m.data;
}

/* The hex digest text lists for name, copied to hex; 0 when absent. */
static int lookup(const char *text, const char *name, char hex[65])
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 66 && strspn(line, "0123456789abcdefABCDEF") == 64 && line[64] == ' ') {
            const char *nm = line + 65 + (line[65] == ' ' || line[65] == '*');
            size_t nl = len - (size_t)(nm - line);
            while (nl && (nm[nl - 1] == '\r' || nm[nl - 1] == ' ')) nl--;
            for (size_t k = nl; k > 0; k--) /* "./dir/NAME" lists match by file name */
                if (nm[k - 1] == '/') { nm += k; nl -= k; break; }
            if (nl == strlen(name) && !memcmp(nm, name, nl)) {
                for (int i = 0; i < 64; i++) hex[i] = (char)((line[i] >= 'A' && line[i] <= 'F') ? line[i] + 32 : line[i]);
                hex[64] = '\0';
                return 1;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

int af__fetch_sums_resolve(af_fetch_item *const *items, size_t n, char *msg, size_t msgn)
{
    char **urls = calloc(n ? n : 1, sizeof *urls), **texts = calloc(n ? n : 1, sizeof *texts);
    size_t nu = 0;
    int failed = 0;
    if (!urls || !texts) { free(urls); free(texts); snprintf(msg, msgn, "out of memory"); return -1; }
    for (size_t i = 0; i < n; i++) {
        af_fetch_item *it = items[i];
        if (!it->sums_url || !it->url || it->error || it->present || it->remote) continue;
        size_t u = 0;
        while (u < nu && strcmp(urls[u], it->sums_url)) u++;
        char why[1024] = "";
        if (u == nu) {
            urls[nu] = it->sums_url;
            texts[nu] = get_text(it->sums_url, why, sizeof why);
            nu++;
        }
        char name[1024], full[3000];
        const char *end = it->url + strcspn(it->url, "?#"), *slash = it->url;
        for (const char *c = it->url; c < end; c++)
            if (*c == '/') slash = c + 1;
        snprintf(name, sizeof name, "%.*s", (int)(end - slash), slash);
        char key[200];
        snprintf(key, sizeof key, "%.*s.sha256sums", (int)(strrchr(it->key, '.') ? strrchr(it->key, '.') - it->key : 0), it->key);
        if (!texts[u]) {
            snprintf(full, sizeof full, "%s (%s): cannot read the checksum file: %s", it->sums_url, key,
                     why[0] ? why : "see above");
        } else if (!lookup(texts[u], name, it->expect_sha)) {
            snprintf(full, sizeof full, "%s (%s): '%s' is not listed in the checksum file %s", it->url, key, name,
                     it->sums_url);
        } else {
            continue;
        }
        free(it->error);
        it->error = af_strdup(full);
        it->status = AF_ENOTFOUND;
        failed++;
    }
    for (size_t u = 0; u < nu; u++) free(texts[u]);
    free(urls);
    free(texts);
    return failed;
}
