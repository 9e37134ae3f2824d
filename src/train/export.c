/* SPDX-License-Identifier: MIT */
/*
 * export.c: af_export_agroflux, `agroflux export OUTDIR --layout agroflux DEST`.
 * Maps the index's inputs and targets to the AgroFlux names (a clear error
 * lists the missing ones), checks the axis is whole noleap years, finds the
 * tower (GPP/NEE) and chamber (N2O_FLUX) sites, puts the county samples in
 * AgroFlux order (order.c), decides the sign of the county arrays from the
 * per-target table af__agx_signs (--sign agroflux negates Reco, CO2_FLUX,
 * N2O_FLUX and their t0 scaler means, after checking the index records our
 * convention for them), takes the leak-free scalers from the index "extra",
 * writes the arrays (export_write.c), the scaler files
 * and last the manifest DEST/export.json. Collective on comm.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "export_impl.h"

const char *const af__agx_inputs[AF_X_N] = { "TMAX_AIR", "TMIN_AIR", "PRECN", "FERTZR_N", "PDOY", "PLANTT",
                                             "TBKDS", "TCSAND", "TCSILT", "TPH", "TCEC" };
static const char *const carbon[] = { "Reco", "GPP", "CO2_FLUX", "Yield", "Delta_SOC" };
static const char *const nitrogen[] = { "N2O_FLUX", "NH4_1", "NO3_1", "NO3_3", "NO3_5" };
static const char *const thermal[] = { "TMAX_SOIL_1", "TMIN_SOIL_1", "TMAX_SOIL_3", "TMIN_SOIL_3", "TMAX_SOIL_5", "TMIN_SOIL_5" };
static const char *const water[] = { "WTR_1", "WTR_3", "WTR_5", "ET" };
const char *const af__agx_modules[AF_NMODULES] = { "Carbon", "Nitrogen", "Thermal", "Water" };
const char *const *const af__agx_module_targets[AF_NMODULES] = { carbon, nitrogen, thermal, water };
const int af__agx_module_size[AF_NMODULES] = { 5, 5, 6, 4 };
const int af__agx_combined_order[AF_NMODULES] = { 0, 2, 3, 1 };
static int find_var(const af_var_desc *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) return (int)i;
    return -1;
}

/* AgroFlux stored the Ecosys sign for these (docs/formats.md, "Target convention") */
const af_agx_sign af__agx_signs[AF_AGX_NSIGNS] = {
    { "Reco", "negative = to the atmosphere" },
    { "CO2_FLUX", "negative = to the atmosphere" },
    { "N2O_FLUX", "negative = emission to the atmosphere" },
};

int af__sign_is_ours(const char *sign)
{
    static const char tail[] = "to the atmosphere";
    const char *p = sign, *end;
    while (*p == ' ' || *p == '\t') p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (strncasecmp(p, "positive", 8) != 0) return 0;
    p += 8;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '=') return 0;
    size_t n = strlen(tail);
    return end - p > (ptrdiff_t)n && strncasecmp(end - n, tail, n) == 0;
}

int af__export_signs(const af_index *idx, int native, size_t ncounty, unsigned char *negate, af_error *err)
{
    int rc = AF_OK;
    memset(negate, 0, idx->ninputs + idx->ntargets);
    if (native || ncounty == 0) goto cleanup;
    for (int k = 0; k < AF_AGX_NSIGNS; k++) {
        int j = find_var(idx->targets, idx->ntargets, af__agx_signs[k].name);
        if (j < 0) continue;
        if (!af__sign_is_ours(idx->targets[j].sign))
            AF_FAIL(AF_EINVAL, "target %s has sign '%s': --sign agroflux turns our convention ('positive = to the "
                    "atmosphere', docs/formats.md \"Target convention\") into AgroFlux's stored sign (%s) and cannot "
                    "tell what this one means; record our convention in the pipeline's [target.%s] sign, or export "
                    "with --sign native", af__agx_signs[k].name, idx->targets[j].sign, af__agx_signs[k].agroflux_sign,
                    af__agx_signs[k].name);
        negate[idx->ninputs + (size_t)j] = 1;
    }
cleanup:
    return rc;
}

static void add_missing(char *buf, size_t n, const char *name)
{
    size_t l = strlen(buf);
    snprintf(buf + l, n - l, "%s%s", l ? ", " : "", name);
}

static int map_names(af_export *e, af_error *err)
{
    int rc = AF_OK;
    char miss[1024] = "";
    const af_index *x = &e->idx;
    for (int c = 0; c < AF_X_N; c++) {
        e->xcol[c] = find_var(x->inputs, x->ninputs, af__agx_inputs[c]);
        if (c == AF_X_N - 1 && e->xcol[c] < 0) e->xcol[c] = find_var(x->inputs, x->ninputs, "TSOC");
        if (e->xcol[c] < 0) add_missing(miss, sizeof miss, c == AF_X_N - 1 ? "input TCEC (or TSOC)" : af__agx_inputs[c]);
    }
    for (int m = 0, k = 0; m < AF_NMODULES; m++)
        for (int j = 0; j < af__agx_module_size[m]; j++, k++) {
            e->ycol[k] = find_var(x->targets, x->ntargets, af__agx_module_targets[m][j]);
            if (e->ycol[k] < 0 && e->ncounty > 0) add_missing(miss, sizeof miss, af__agx_module_targets[m][j]);
        }
    e->gpp = find_var(x->targets, x->ntargets, "GPP");
    e->nee = find_var(x->targets, x->ntargets, "NEE");
    e->n2o = find_var(x->targets, x->ntargets, "N2O_FLUX");
    if (miss[0])
        AF_FAIL(AF_EINVAL, "%s: the output lacks AgroFlux names needed by --layout agroflux: %s "
                "(name the pipeline's [input.NAME]/[target.NAME] sections with the AgroFlux names, docs/formats.md)",
                e->opts->outdir, miss);
cleanup:
    return rc;
}

static int check_axis(af_export *e, af_error *err)
{
    int rc = AF_OK;
    const af_index *x = &e->idx;
    if (strcmp(x->calendar, "noleap") != 0 || x->start.month != 1 || x->start.day != 1 || x->end.month != 12 ||
        x->end.day != 31)
        AF_FAIL(AF_EINVAL, "%s: --layout agroflux needs whole years of 365 days (calendar = noleap, start Jan 1, end Dec 31); "
                "the output has calendar %s", e->opts->outdir, x->calendar);
    e->nyears = x->end.year - x->start.year + 1;
    while (e->ncounty < x->nsamples && x->samples[e->ncounty].kind == AF_SAMPLE_COUNTY) e->ncounty++;
    for (size_t i = e->ncounty; i < x->nsamples; i++)
        if (x->samples[i].kind != AF_SAMPLE_SITE)
            AF_FAIL(AF_EFORMAT, "%s: sample %zu ('%s') is a county after the sites", e->opts->outdir, i, x->samples[i].id);
    /* AgroFlux order of the county samples and its inverse */
    e->order = malloc((e->ncounty + 1) * sizeof *e->order);
    e->pos = malloc((e->ncounty + 1) * sizeof *e->pos);
    AF_CHECK_ALLOC(e->order);
    AF_CHECK_ALLOC(e->pos);
    AF_CHECK(af__export_order(x->samples, e->ncounty, e->order, err));
    for (size_t p = 0; p < e->ncounty; p++) e->pos[e->order[p]] = p;
cleanup:
    return rc;
}

/* Which sites are towers (any valid GPP or NEE) and chambers (any valid N2O_FLUX); collective. */
static int site_flags(af_export *e, af_error *err)
{
    int rc = AF_OK;
    size_t nsite = e->idx.nsamples - e->ncounty, nd = (size_t)e->idx.ndays, nt = e->idx.ntargets;
    size_t a = nsite * (size_t)e->rank / (size_t)e->size, b = nsite * (size_t)(e->rank + 1) / (size_t)e->size;
    float *y = malloc((nd * nt + 1) * sizeof *y);
    unsigned char *loc = calloc(2 * nsite + 1, 1);
    e->co2 = calloc(nsite + 1, 1);
    e->n2o_site = calloc(nsite + 1, 1);
    if (!y || !loc || !e->co2 || !e->n2o_site) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t s = a; s < b && err->code == AF_OK && nt > 0; s++) {
        if (af__train_read(&e->view, e->ncounty + s, 1, 0, (int)nd, NULL, y, err) != AF_OK) break;
        for (size_t t = 0; t < nd; t++) {
            if ((e->gpp >= 0 && isfinite(y[t * nt + (size_t)e->gpp])) || (e->nee >= 0 && isfinite(y[t * nt + (size_t)e->nee])))
                loc[s] = 1;
            if (e->n2o >= 0 && isfinite(y[t * nt + (size_t)e->n2o])) loc[nsite + s] = 1;
        }
    }
    AF_CHECK(af_error_sync(e->comm, err));
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, loc, (int)(2 * nsite), MPI_UNSIGNED_CHAR, MPI_MAX, e->comm));
    memcpy(e->co2, loc, nsite);
    memcpy(e->n2o_site, loc + nsite, nsite);
    for (size_t s = 0; s < nsite; s++)
        if (e->co2[s] && (e->gpp < 0 || e->nee < 0))
            AF_FAIL(AF_EINVAL, "%s: site '%s' has tower data but the output lacks AgroFlux names needed by --layout "
                    "agroflux: %s", e->opts->outdir, e->idx.samples[e->ncounty + s].id, e->gpp < 0 ? "GPP" : "NEE");
cleanup:
    free(y);
    free(loc);
    return rc;
}

static int any_site(const af_export *e)
{
    for (size_t s = 0; s < e->idx.nsamples - e->ncounty; s++)
        if (e->co2[s] || e->n2o_site[s]) return 1;
    return 0;
}

static int load_scalers(af_export *e, af_error *err)
{
    int rc = AF_OK;
    size_t nv = e->idx.ninputs + e->idx.ntargets;
    e->t0_mean = calloc(nv + 1, sizeof(double));
    e->t0_std = calloc(nv + 1, sizeof(double));
    e->t1_mean = calloc(nv + 1, sizeof(double));
    e->t1_std = calloc(nv + 1, sizeof(double));
    AF_CHECK_ALLOC(e->t0_mean);
    AF_CHECK_ALLOC(e->t0_std);
    AF_CHECK_ALLOC(e->t1_mean);
    AF_CHECK_ALLOC(e->t1_std);
    if (e->ncounty > 0)
        AF_CHECK(af_train_scalers(e->idx.extra_json, e->opts->split, e->opts->fold, nv, e->t0_mean, e->t0_std, NULL, err));
    if (any_site(e))
        AF_CHECK(af_train_scalers(e->idx.extra_json, "loso", e->opts->site_fold, nv, e->t1_mean, e->t1_std, NULL, err));
    /* negating the value and the mean flips z exactly: (-v) - (-mean) = -(v - mean) */
    for (size_t j = 0; j < nv; j++)
        if (e->negate[j]) e->t0_mean[j] = -e->t0_mean[j];
cleanup:
    return rc;
}

/* A (k, 2) scaler file: column 0 mean, column 1 population std. */
int af__export_scaler_file(const af_export *e, const char *rel, const int *cols, int k, size_t off, const double *mean,
                       const double *std, af_error *err)
{
    float buf[2 * AF_Y_N];
    char path[4400];
    size_t shape[2] = { (size_t)k, 2 };
    for (int c = 0; c < k; c++) {
        buf[2 * c] = (float)mean[off + (size_t)cols[c]];
        buf[2 * c + 1] = (float)std[off + (size_t)cols[c]];
    }
    snprintf(path, sizeof path, "%s/%s", e->dest, rel);
    return af__npy_write_f32(path, buf, shape, 2, err);
}

/* Drop site files of an earlier export (the training code loads them by number 0, 1, ...). */
static void remove_stale_sites(const char dir[4400])
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4700];
    if (!d) return;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if ((!strncmp(de->d_name, "X_real_scaled_", 14) || !strncmp(de->d_name, "Y_real_scaled_", 14)) && n > 4 &&
            !strcmp(de->d_name + n - 4, ".npy")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static int make_dirs(const af_export *e, af_error *err)
{
    int rc = AF_OK;
    static const char *const sub[] = { "data_files/t0_scalers", "data_files/t1_co2", "data_files/t1_n2o",
                                       "data_files/t1_scalers" };
    char path[4400];
    /* an export that fails from here on leaves no manifest: it is written last */
    snprintf(path, sizeof path, "%s/%s", e->dest, AF_EXPORT_MANIFEST);
    if (unlink(path) != 0 && errno != ENOENT) AF_FAIL(AF_EIO, "cannot remove stale '%s': %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/data_files/t0_%s", e->dest, e->opts->subset);
    AF_CHECK(af_mkdirs(path, err));
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", e->dest, sub[i]);
        AF_CHECK(af_mkdirs(path, err));
        if (i == 1 || i == 2) remove_stale_sites(path);
    }
cleanup:
    return rc;
}

static void export_dispose(af_export *e)
{
    af_index_dispose(&e->idx);
    af_calendar_destroy(&e->cal);
    free(e->t0_mean);
    free(e->t0_std);
    free(e->t1_mean);
    free(e->t1_std);
    free(e->co2);
    free(e->n2o_site);
    free(e->order);
    free(e->pos);
    free(e->negate);
}

int af_export_agroflux(MPI_Comm comm, const af_export_opts *opts, af_export_summary *sum, af_error *err)
{
    int rc = AF_OK;
    af_export e;
    char rel[512];
    memset(&e, 0, sizeof e);
    memset(sum, 0, sizeof *sum);
    e.comm = comm;
    e.opts = opts;
    MPI_Comm_rank(comm, &e.rank);
    MPI_Comm_size(comm, &e.size);
    AF_CHECK_ARG(opts && opts->outdir && opts->dest && opts->subset && opts->split);
    /* every rank reads the same index, so these checks fail alike everywhere */
    AF_CHECK(af_index_read(opts->outdir, &e.idx, err));
    AF_CHECK(check_axis(&e, err));
    AF_CHECK(map_names(&e, err));
    e.native = opts->sign && !strcmp(opts->sign, "native");
    if (opts->sign && !e.native && strcmp(opts->sign, "agroflux") != 0)
        AF_FAIL(AF_EINVAL, "--sign '%s': expected agroflux or native", opts->sign);
    e.negate = calloc(e.idx.ninputs + e.idx.ntargets + 1, 1);
    AF_CHECK_ALLOC(e.negate);
    AF_CHECK(af__export_signs(&e.idx, e.native, e.ncounty, e.negate, err));
    AF_CHECK(af_calendar_create(e.idx.start, e.idx.end, AF_CAL_NOLEAP, &e.cal, err));
    af_train_view v = { opts->outdir, e.idx.samples, e.idx.nsamples, e.idx.shard_samples, e.idx.shards,
                        e.idx.nshards, e.idx.ninputs, e.idx.ntargets, e.cal };
    e.view = v;
    AF_CHECK(site_flags(&e, err));
    AF_CHECK(load_scalers(&e, err));
    snprintf(e.dest, sizeof e.dest, "%s", opts->dest);
    if (e.rank == 0) make_dirs(&e, err);
    AF_CHECK(af_error_sync(comm, err));
    if (e.ncounty > 0) {
        snprintf(rel, sizeof rel, "data_files/t0_%s/X_%s_scaled.npy", opts->subset, opts->subset);
        AF_CHECK(af__export_t0_file(&e, rel, 1, e.xcol, AF_X_N, err));
        for (int m = 0, k = 0; m < AF_NMODULES; k += af__agx_module_size[m], m++) {
            snprintf(rel, sizeof rel, "data_files/t0_%s/Y_%s_scaled_%s.npy", opts->subset, opts->subset, af__agx_modules[m]);
            AF_CHECK(af__export_t0_file(&e, rel, 0, e.ycol + k, af__agx_module_size[m], err));
        }
    }
    size_t nsite_files = 0;
    af__export_sites(&e, &nsite_files, err);
    AF_CHECK(af_error_sync(comm, err));
    if (e.rank == 0) af__export_finish(&e, sum, err);
    AF_CHECK(af_error_sync(comm, err));
    unsigned long long counts[4] = { sum->nfiles, sum->ncounty_samples, sum->nco2_sites, sum->nn2o_sites };
    AF_CHECK_MPI(MPI_Bcast(counts, 4, MPI_UNSIGNED_LONG_LONG, 0, comm));
    sum->nfiles = counts[0];
    sum->ncounty_samples = counts[1];
    sum->nco2_sites = counts[2];
    sum->nn2o_sites = counts[3];
    sum->ndays = e.idx.ndays;
cleanup:
    export_dispose(&e);
    return rc;
}
