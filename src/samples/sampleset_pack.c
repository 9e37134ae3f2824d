/* SPDX-License-Identifier: MIT */
/*
 * sampleset_pack.c: a sample set as one byte string and back, so that one rank
 * reads the county layer and the site list and the other ranks of the job
 * receive the result (pipeline/setup.c): the layer is parsed, reprojected and
 * ordered once per run instead of once per rank. The bytes are this build's
 * structs as they are in memory (samples, FIPS codes), then each county's WKB
 * and the layer's CRS: meant for processes of one job, not for files. Unpack
 * checks every length against the buffer. Not collective.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "samples_impl.h"

static const char magic[8] = "AFSSET1";

typedef struct wr {
    unsigned char *p;
    size_t len;
} wr;

static void put(wr *w, const void *v, size_t n)
{
    if (w->p && n) memcpy(w->p + w->len, v, n);
    w->len += n;
}

static void put_u64(wr *w, uint64_t v) { put(w, &v, sizeof v); }

/* Everything, into w->p (NULL: only count w->len). */
static void pack_into(const af_sampleset *set, wr *w)
{
    put(w, magic, sizeof magic);
    put_u64(w, set->n);
    put_u64(w, set->ncounties);
    put_u64(w, set->nsites);
    put(w, set->samples, set->n * sizeof *set->samples);
    put(w, set->county_fips, set->ncounties * sizeof *set->county_fips);
    for (size_t c = 0; c < set->ncounties; c++) {
        put_u64(w, set->county_wkb_len[c]);
        put(w, set->county_wkb[c], set->county_wkb_len[c]);
    }
    size_t wl = strlen(set->crs_wkt ? set->crs_wkt : "");
    put_u64(w, wl);
    put(w, set->crs_wkt ? set->crs_wkt : "", wl);
}

int af_sampleset_pack(const af_sampleset *set, unsigned char **buf, size_t *len, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(set != NULL && buf != NULL && len != NULL);
    wr w = { NULL, 0 };
    pack_into(set, &w);
    w.p = malloc(w.len);
    AF_CHECK_ALLOC(w.p);
    *len = w.len;
    w.len = 0;
    pack_into(set, &w);
    *buf = w.p;
cleanup:
    return rc;
}

typedef struct rd {
    const unsigned char *p;
    size_t len, at;
} rd;

/* n bytes at the read position into v (NULL: skip them); 0 if the buffer ends first. */
static int get(rd *r, void *v, size_t n)
{
    if (n > r->len - r->at) return 0;
    if (v && n) memcpy(v, r->p + r->at, n);
    r->at += n;
    return 1;
}

/* A count of items of size sz that the rest of the buffer can hold. */
static int get_count(rd *r, size_t sz, size_t *out)
{
    uint64_t v;
    if (!get(r, &v, sizeof v) || (sz && v > (r->len - r->at) / sz)) return 0;
    *out = (size_t)v;
    return 1;
}

#define NEED(cond, what)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) AF_FAIL(AF_EFORMAT, "sample set bytes: %s (at byte %zu of %zu)", (what), r.at, r.len); \
    } while (0)

int af_sampleset_unpack(const unsigned char *buf, size_t len, af_sampleset **out, af_error *err)
{
    int rc = AF_OK;
    af_sampleset *set = NULL;
    AF_CHECK_ARG(out != NULL && (buf != NULL || len == 0));
    *out = NULL;
    rd r = { buf, len, 0 };
    char m[sizeof magic];
    NEED(get(&r, m, sizeof m) && !memcmp(m, magic, sizeof m), "not a packed sample set of this build");
    set = calloc(1, sizeof *set);
    AF_CHECK_ALLOC(set);
    size_t n, nc, ns;
    NEED(get_count(&r, sizeof *set->samples, &n), "truncated sample count");
    NEED(get_count(&r, sizeof *set->county_fips, &nc), "truncated county count");
    NEED(get_count(&r, 0, &ns) && ns <= n && nc <= n, "counts that do not add up");
    if (n) {
        set->samples = calloc(n, sizeof *set->samples);
        AF_CHECK_ALLOC(set->samples);
    }
    set->n = n;
    NEED(get(&r, set->samples, n * sizeof *set->samples), "truncated samples");
    if (nc) {
        set->county_fips = calloc(nc, sizeof *set->county_fips);
        set->county_wkb = calloc(nc, sizeof *set->county_wkb);
        set->county_wkb_len = calloc(nc, sizeof *set->county_wkb_len);
        AF_CHECK_ALLOC(set->county_fips);
        AF_CHECK_ALLOC(set->county_wkb);
        AF_CHECK_ALLOC(set->county_wkb_len);
    }
    set->ncounties = nc; /* destroy frees the WKB read so far */
    set->nsites = ns;
    NEED(get(&r, set->county_fips, nc * sizeof *set->county_fips), "truncated county codes");
    for (size_t c = 0; c < nc; c++) {
        size_t wl;
        NEED(get_count(&r, 1, &wl), "truncated county geometry");
        set->county_wkb[c] = malloc(wl ? wl : 1);
        AF_CHECK_ALLOC(set->county_wkb[c]);
        set->county_wkb_len[c] = wl;
        get(&r, set->county_wkb[c], wl);
    }
    size_t wl;
    NEED(get_count(&r, 1, &wl), "truncated CRS");
    set->crs_wkt = malloc(wl + 1);
    AF_CHECK_ALLOC(set->crs_wkt);
    get(&r, set->crs_wkt, wl);
    set->crs_wkt[wl] = '\0';
    NEED(r.at == r.len, "bytes after the end");
    for (size_t i = 0; i < n; i++) {
        const af_sample *s = &set->samples[i];
        NEED(memchr(s->id, 0, sizeof s->id) && memchr(s->fips, 0, sizeof s->fips) &&
             memchr(s->scenario, 0, sizeof s->scenario), "a sample field without its end");
        NEED(s->kind == AF_SAMPLE_SITE ? s->unit < ns : s->unit < nc, "a sample of no county or site");
    }
    AF_CHECK(af__sampleset_build_hash(set, err));
    *out = set;
    set = NULL;
cleanup:
    af_sampleset_destroy(&set);
    return rc;
}
