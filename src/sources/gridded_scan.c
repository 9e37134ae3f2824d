/* SPDX-License-Identifier: MIT */
/*
 * gridded_scan.c: the setup scan of the gridded source: every year of every
 * distinct variable (and of its multiplier) is described once per run, not once
 * per rank. Opening a NetCDF file through GDAL's classic driver reads every
 * band's metadata (about 20 ms a gridMET file, most of the source's setup), so
 * with a share from the pipeline (agroflux/source.h) each rank describes the
 * files (variable, year) u with u % nparts == part, and one allgather passes the
 * descriptions (days, grid, CRS, packing, fill values, how to read) to every
 * rank in file order. The checks against the group's grid, the file's units and
 * the pipeline's days then run on every rank on the same descriptions, so a bad
 * file gives the same error on every rank, the first in file order, as a scan
 * on one rank does. The allgather is called exactly once whatever fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "gridded_impl.h"
#include "log.h"
#include "sources_impl.h"

static int expand_year(const af_config *cfg, const char *tmpl, int year, char *out, size_t n, af_error *err)
{
    int rc = AF_OK;
    char buf[4096];
    const char *p = strstr(tmpl, "{year}");
    if (p) snprintf(buf, sizeof buf, "%.*s%04d%s", (int)(p - tmpl), tmpl, year, p + 6);
    else snprintf(buf, sizeof buf, "%s", tmpl);
    AF_CHECK(af_config_resolve(cfg, buf, out, n, err));
cleanup:
    return rc;
}

/* What a file says must agree with the pipeline: a units attribute that means other units than
 * source_units (units table, else UDUNITS-2) is an error (its values would be converted wrongly),
 * one that neither understands is a warning (source_units is trusted), and a file
 * with no day in the pipeline's range contributes nothing: an error naming it. */
static int check_file(const gr_state *st, const gr_var *gv, const gr_file *gf, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const char *su = af_config_get(gv->sec, "source_units");
    if (gf->units[0] && su && !gv->mtmpl[0]) {
        int verdict;
        AF_CHECK(af_units_file_agrees(gf->units, su, &verdict, err));
        if (verdict == AF_UNITS_DISAGREE)
            AF_FAIL(AF_EUNITS, "%s: variable '%s' has units '%s', but %s:%d: [%s] source_units says '%s': "
                    "fix source_units (values are converted from it)", gf->path, gv->name, gf->units, cfg->path,
                    af_config_line(gv->sec, "source_units"), gv->sec->name, su);
        if (verdict == AF_UNITS_INCOMPATIBLE)
            AF_FAIL(AF_EUNITS, "%s: variable '%s' has units '%s', which cannot be '%s' (%s:%d: [%s] source_units)",
                    gf->path, gv->name, gf->units, su, cfg->path, af_config_line(gv->sec, "source_units"),
                    gv->sec->name);
        if (verdict == AF_UNITS_NOT_UNDERSTOOD)
            af_log(AF_LOG_WARN, "gridded", "%s: variable '%s' has units '%s', which neither the units table nor "
                   "UDUNITS-2 understands: its values are taken as %s:%d: [%s] source_units '%s'", gf->path, gv->name,
                   gf->units, cfg->path, af_config_line(gv->sec, "source_units"), gv->sec->name, su);
    }
    long first = af_calendar_epoch(st->ctx->cal, 0);
    long last = af_calendar_epoch(st->ctx->cal, af_calendar_ndays(st->ctx->cal) - 1);
    int inside = 0;
    for (int b = 0; b < gf->nbands && !inside; b++) inside = gf->epoch[b] >= first && gf->epoch[b] <= last;
    if (!inside && gf->nbands > 0) {
        af_date a = af_date_from_epoch(gf->epoch[0]), z = af_date_from_epoch(gf->epoch[gf->nbands - 1]);
        AF_FAIL(AF_EFORMAT, "%s: none of its %d days (%04d-%02d-%02d to %04d-%02d-%02d) is in the pipeline's range "
                "([%s] variable '%s')", gf->path, gf->nbands, a.year, a.month, a.day, z.year, z.month, z.day,
                gv->sec->name, gv->name);
    }
cleanup:
    return rc;
}

/* gf could not be described: why, kept for the check in file order. */
static void set_why(gr_file *gf, int code, const char *msg)
{
    gf->dcode = code;
    free(gf->dmsg);
    gf->dmsg = af_strdup(msg);
}

/* Describe one (variable, year): the file, then its multiplier; 0 when either failed (why in dcode). */
static int describe_unit(const gr_state *st, const gr_var *gv, const af_config_section *sec, int per_year,
                         gr_file *gf, gr_file *mf)
{
    const af_config *cfg = st->ctx->cfg;
    af_error e = AF_ERROR_INIT;
    if (!af_path_is_virtual(gf->path) && !af_file_readable(gf->path)) {
        af_error_set(&e, AF_ENOTFOUND, __FILE__, __LINE__, __func__, "%s:%d: [%s] path: cannot read '%s'%s", cfg->path,
                     af_config_line(sec, "path"), sec->name, gf->path, per_year ? " (a year of the pipeline)" : "");
        set_why(gf, e.code, e.msg);
        return 0;
    }
    if (af__gridded_describe_file(st, gf, gv->name, &e) != AF_OK) {
        set_why(gf, e.code, e.msg);
        return 0;
    }
    if (!mf) return 1;
    const af_config_section *ms = gv->msec;
    int line = af_config_line(ms, "multiply_path");
    if (!af_path_is_virtual(mf->path) && !af_file_readable(mf->path)) {
        af_error_set(&e, AF_ENOTFOUND, __FILE__, __LINE__, __func__, "%s:%d: [%s] multiply_path: cannot read '%s' "
                     "(multiplier of '%s')", cfg->path, line, ms->name, mf->path, gf->path);
        set_why(mf, e.code, e.msg);
        return 0;
    }
    af_error_clear(&e);
    if (af__gridded_describe_file(st, mf, gv->mname, &e) != AF_OK) {
        af_error e2 = AF_ERROR_INIT;
        af_error_set(&e2, e.code, __FILE__, __LINE__, __func__, "%s:%d: [%s] multiply_path: '%s' as multiplier of '%s': %s",
                     cfg->path, line, ms->name, mf->path, gf->path, e.msg);
        set_why(mf, e2.code, e2.msg);
        return 0;
    }
    return 1;
}

/* ---- the descriptions as bytes (same machine kind on every rank: native byte order) ---- */

typedef struct gr_buf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} gr_buf;

static void put(gr_buf *b, const void *v, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}

static void put_i64(gr_buf *b, int64_t v) { put(b, &v, sizeof v); }
static void put_f64(gr_buf *b, double v) { put(b, &v, sizeof v); }
static void put_str(gr_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_i64(b, (int64_t)n);
    put(b, s ? s : "", n);
}

static void put_file(gr_buf *b, const gr_file *gf)
{
    put_i64(b, gf->dcode);
    if (gf->dcode != AF_OK) {
        put_str(b, gf->dmsg);
        return;
    }
    put_i64(b, gf->nbands);
    for (int i = 0; i < gf->nbands; i++) put_i64(b, gf->epoch[i]);
    put_i64(b, gf->nx);
    put_i64(b, gf->ny);
    for (int i = 0; i < 6; i++) put_f64(b, gf->gt[i]);
    put_str(b, gf->wkt);
    put_i64(b, gf->geographic);
    put_i64(b, gf->has_ellps);
    put_f64(b, gf->semi_major);
    put_f64(b, gf->inv_flattening);
    put_f64(b, gf->scale);
    put_f64(b, gf->offset);
    put_i64(b, gf->has_nodata);
    put_f64(b, gf->nodata);
    put_i64(b, gf->has_missing);
    put_f64(b, gf->missing);
    put_str(b, gf->units);
    put_i64(b, gf->mflip);
    put_i64(b, gf->tchunk);
    put_i64(b, gf->mdim);
    put_i64(b, (int64_t)gf->rtype);
}

typedef struct gr_rd {
    const unsigned char *p, *end;
    int bad;
} gr_rd;

static void get(gr_rd *r, void *v, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; memset(v, 0, n); return; }
    memcpy(v, r->p, n);
    r->p += n;
}

static int64_t get_i64(gr_rd *r) { int64_t v; get(r, &v, sizeof v); return v; }
static double get_f64(gr_rd *r) { double v; get(r, &v, sizeof v); return v; }

/* A string of at most cap - 1 bytes into out; with out NULL, malloc'd into *dup. */
static void get_str(gr_rd *r, char *out, size_t cap, char **dup)
{
    int64_t n = get_i64(r);
    if (r->bad || n < 0 || (uint64_t)n > (uint64_t)(r->end - r->p) || (out && (size_t)n >= cap)) { r->bad = 1; return; }
    if (out) {
        memcpy(out, r->p, (size_t)n);
        out[n] = '\0';
    } else {
        free(*dup);
        *dup = malloc((size_t)n + 1);
        if (!*dup) { r->bad = 1; return; }
        memcpy(*dup, r->p, (size_t)n);
        (*dup)[n] = '\0';
    }
    r->p += n;
}

static void get_file(gr_rd *r, gr_file *gf)
{
    gf->dcode = (int)get_i64(r);
    if (gf->dcode != AF_OK) {
        get_str(r, NULL, 0, &gf->dmsg);
        return;
    }
    int64_t nb = get_i64(r);
    if (r->bad || nb < 1 || nb > (int64_t)(r->end - r->p) / 8) { r->bad = 1; return; }
    gf->nbands = (int)nb;
    free(gf->epoch);
    gf->epoch = malloc((size_t)nb * sizeof *gf->epoch);
    if (!gf->epoch) { r->bad = 1; return; }
    for (int i = 0; i < gf->nbands; i++) gf->epoch[i] = (long)get_i64(r);
    gf->nx = (long)get_i64(r);
    gf->ny = (long)get_i64(r);
    for (int i = 0; i < 6; i++) gf->gt[i] = get_f64(r);
    get_str(r, NULL, 0, &gf->wkt);
    gf->geographic = (int)get_i64(r);
    gf->has_ellps = (int)get_i64(r);
    gf->semi_major = get_f64(r);
    gf->inv_flattening = get_f64(r);
    gf->scale = get_f64(r);
    gf->offset = get_f64(r);
    gf->has_nodata = (int)get_i64(r);
    gf->nodata = get_f64(r);
    gf->has_missing = (int)get_i64(r);
    gf->missing = get_f64(r);
    get_str(r, gf->units, sizeof gf->units, NULL);
    gf->mflip = (int)get_i64(r);
    gf->tchunk = (int)get_i64(r);
    gf->mdim = (int)get_i64(r);
    gf->rtype = (GDALDataType)get_i64(r);
}

#define GR_LOCAL_FAIL INT64_MIN /* unit marker: this rank failed before describing (code, message follow) */

/* Every other part's descriptions from the gathered bytes into the files they describe. */
static int take_parts(gr_state *st, size_t nyears, const unsigned char *all, const size_t *counts, int nparts,
                      int part, af_error *err)
{
    int rc = AF_OK;
    size_t off = 0, nunits = st->nvars * nyears;
    for (int q = 0; q < nparts; q++) {
        gr_rd r = { all + off, all + off + counts[q], 0 };
        off += counts[q];
        while (q != part && !r.bad && r.p < r.end) {
            int64_t u = get_i64(&r);
            if (u == GR_LOCAL_FAIL) {
                int code = (int)get_i64(&r);
                char msg[AF_ERROR_MSG_MAX];
                get_str(&r, msg, sizeof msg, NULL);
                if (!r.bad) AF_FAIL(code, "%s", msg);
                break;
            }
            if (u < 0 || (uint64_t)u >= nunits) { r.bad = 1; break; }
            gr_var *gv = &st->vars[(size_t)u / nyears];
            get_file(&r, &gv->files[(size_t)u % nyears]);
            if (gv->mfiles && gv->files[(size_t)u % nyears].dcode == AF_OK) get_file(&r, &gv->mfiles[(size_t)u % nyears]);
        }
        if (r.bad) AF_FAIL(AF_EINTERNAL, "gridded: the file descriptions from rank %d do not decode", q);
    }
cleanup:
    return rc;
}

/* Paths of every file (and multiplier) of every variable; on every rank (the template and the
 * calendar fix them). */
static int list_files(gr_state *st, const af_config_section *sec, int y0, size_t nyears, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const char *tmpl = af_config_get(sec, "path");
    st->paths = calloc(2 * st->nvars * nyears, sizeof *st->paths);
    AF_CHECK_ALLOC(st->paths);
    for (size_t v = 0; v < st->nvars; v++) {
        gr_var *gv = &st->vars[v];
        gv->files = calloc(nyears, sizeof *gv->files);
        AF_CHECK_ALLOC(gv->files);
        if (gv->mtmpl[0]) {
            gv->mfiles = calloc(nyears, sizeof *gv->mfiles);
            AF_CHECK_ALLOC(gv->mfiles);
        }
        gv->nfiles = nyears;
        for (size_t k = 0; k < nyears; k++) {
            gr_file *gf = &gv->files[k];
            int y = y0 ? y0 + (int)k : 0;
            AF_CHECK(expand_year(cfg, tmpl, y, gf->path, sizeof gf->path, err));
            gf->year = y;
            af__gridded_dsname(st, gf, gv->name);
            if (gv->mfiles) {
                gr_file *mf = &gv->mfiles[k];
                AF_CHECK(expand_year(cfg, gv->mtmpl, y, mf->path, sizeof mf->path, err));
                mf->year = y;
                af__gridded_dsname(st, mf, gv->mname);
            }
        }
    }
cleanup:
    return rc;
}

/* The described files in file order, as a scan on one rank checks them. */
static int adopt_files(gr_state *st, size_t nyears, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    for (size_t v = 0; v < st->nvars; v++) {
        gr_var *gv = &st->vars[v];
        for (size_t k = 0; k < nyears; k++) {
            gr_file *gf = &gv->files[k];
            if (gf->dcode != AF_OK) AF_FAIL(gf->dcode, "%s", gf->dmsg ? gf->dmsg : "?");
            AF_CHECK(af__gridded_adopt_file(st, gf, err));
            AF_CHECK(check_file(st, gv, gf, err));
            st->paths[st->npaths++] = gf->path;
            if (!gv->mfiles) continue;
            gr_file *mf = &gv->mfiles[k];
            const af_config_section *ms = gv->msec;
            int line = af_config_line(ms, "multiply_path");
            if (mf->dcode != AF_OK) AF_FAIL(mf->dcode, "%s", mf->dmsg ? mf->dmsg : "?");
            af_error e2 = AF_ERROR_INIT;
            int r2 = af__gridded_adopt_file(st, mf, &e2);
            if (r2 != AF_OK)
                AF_FAIL(r2, "%s:%d: [%s] multiply_path: '%s' as multiplier of '%s': %s", cfg->path, line, ms->name,
                        mf->path, gf->path, e2.msg);
            int same = mf->nbands == gf->nbands;
            for (int b = 0; same && b < gf->nbands; b++) same = mf->epoch[b] == gf->epoch[b];
            if (!same)
                AF_FAIL(AF_EFORMAT, "%s:%d: [%s] multiply_path: the days of '%s' (%d bands) differ from those of '%s' (%d bands)",
                        cfg->path, line, ms->name, mf->dsname, mf->nbands, gf->dsname, gf->nbands);
            st->paths[st->npaths++] = mf->path;
        }
    }
cleanup:
    return rc;
}

/* What a scan leaves for its join: the bytes to send, the failure that stops this rank's share, and
 * the counts the join needs. */
struct gr_scan {
    const af_config_section *sec;
    gr_buf out;
    af_error local;
    size_t nyears, nunits, nmine;
};

void af__gridded_scan_free(gr_state *st)
{
    if (!st || !st->scan) return;
    free(st->scan->out.p);
    free(st->scan);
    st->scan = NULL;
}

int af__gridded_scan_files(gr_state *st, const af_config_section *sec, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = st->ctx->cfg;
    const af_source_share *sh = st->ctx->share && st->ctx->share->nparts > 1 ? st->ctx->share : NULL;
    int nparts = sh ? sh->nparts : 1, part = sh ? sh->part : 0;
    af__gridded_scan_free(st);
    st->scan = calloc(1, sizeof *st->scan);
    AF_CHECK_ALLOC(st->scan);
    gr_scan *sc = st->scan;
    sc->sec = sec;
    af_error_clear(&sc->local);
    const char *tmpl = af_config_get(sec, "path");
    int per_year = 0, y0 = 0;
    /* 1. list every file; a failure here still joins the allgather, as a record saying so */
    if (af__template_check(cfg, sec, "path", tmpl, "year", &sc->local) == AF_OK) {
        per_year = strstr(tmpl, "{year}") != NULL;
        y0 = per_year ? af_calendar_start(st->ctx->cal).year : 0;
        int y1 = per_year ? af_calendar_end(st->ctx->cal).year : 0;
        sc->nyears = (size_t)(y1 - y0 + 1);
        list_files(st, sec, y0, sc->nyears, &sc->local);
    }
    /* 2. describe this rank's share, in file order, up to its first failure (a later one of its
     * files cannot be the first failure in file order) */
    sc->nunits = sc->local.code == AF_OK ? st->nvars * sc->nyears : 0;
    /* unit u goes to part (first + u) % nparts: dealt on from where the previous shared open stopped */
    size_t first = sh && sh->dealt ? *sh->dealt % (size_t)nparts : 0;
    if (sh && sh->dealt) *sh->dealt += st->nvars * sc->nyears; /* the same on every rank, failed or not */
    size_t mine0 = ((size_t)part + (size_t)nparts - first) % (size_t)nparts;
    for (size_t u = mine0; u < sc->nunits; u += (size_t)nparts) {
        sc->nmine++;
        gr_var *gv = &st->vars[u / sc->nyears];
        gr_file *gf = &gv->files[u % sc->nyears], *mf = gv->mfiles ? &gv->mfiles[u % sc->nyears] : NULL;
        int ok = describe_unit(st, gv, sec, per_year, gf, mf);
        if (sh) {
            put_i64(&sc->out, (int64_t)u);
            put_file(&sc->out, gf);
            if (mf && gf->dcode == AF_OK) put_file(&sc->out, mf);
        }
        if (!ok) break;
    }
cleanup:
    return rc;
}

int af__gridded_join_files(gr_state *st, af_error *err)
{
    int rc = AF_OK;
    const af_source_share *sh = st->ctx->share && st->ctx->share->nparts > 1 ? st->ctx->share : NULL;
    int nparts = sh ? sh->nparts : 1, part = sh ? sh->part : 0;
    void *all = NULL;
    size_t *counts = NULL;
    gr_scan *sc = st->scan;
    if (!sc) AF_FAIL(AF_EINTERNAL, "gridded: join without a scan");
    /* 3. every rank's descriptions to every rank: one allgather, whatever failed */
    if (sh) {
        gr_buf *out = &sc->out;
        if (sc->local.code != AF_OK) {
            out->n = 0;
            put_i64(out, GR_LOCAL_FAIL);
            put_i64(out, sc->local.code);
            put_str(out, sc->local.msg);
        }
        if (out->oom) { /* say so instead (a few bytes) */
            free(out->p);
            memset(out, 0, sizeof *out);
            put_i64(out, GR_LOCAL_FAIL);
            put_i64(out, AF_ENOMEM);
            put_str(out, "out of memory describing the gridded files");
        }
        af_error gerr = AF_ERROR_INIT;
        int grc = sh->allgather(sh, out->p, out->oom ? 0 : out->n, &all, &counts, &gerr);
        if (sc->local.code != AF_OK) { *err = sc->local; rc = sc->local.code; goto cleanup; }
        if (grc != AF_OK) { *err = gerr; rc = grc; goto cleanup; }
        AF_CHECK(take_parts(st, sc->nyears, all, counts, nparts, part, err));
    } else if (sc->local.code != AF_OK) {
        *err = sc->local;
        rc = sc->local.code;
        goto cleanup;
    }
    /* 4. the same checks on every rank, in file order */
    AF_CHECK(adopt_files(st, sc->nyears, err));
    if (sh)
        af_log(AF_LOG_DEBUG, "gridded", "[%s]: %zu of %zu (variable, year) files described on this rank, the others "
               "on the other %d", sc->sec->name, sc->nmine, sc->nunits, nparts - 1);
cleanup:
    af__gridded_scan_free(st);
    free(all);
    free(counts);
    return rc;
}
