/* SPDX-License-Identifier: MIT */
/*
 * export.c: af_export_agroflux, `agroflux export OUTDIR --layout agroflux DEST`.
 * Maps the index's inputs and targets to the AgroFlux names (a clear error
 * lists the missing ones), checks the axis is whole noleap years, finds the
 * tower (GPP/NEE) and chamber (N2O_FLUX) sites, puts the county samples in
 * AgroFlux order (order.c), decides the sign of the county arrays from the
 * per-target table af__agx_signs (--sign agroflux negates Reco, CO2_FLUX,
 * N2O_FLUX and their t0 scaler means, after checking the index records our
 * convention for them), sets up the experiments (one tree, or with
 * --experiments official every official one as sibling trees), takes their
 * scalers (export_scalers.c), writes the t0 arrays (export_write.c), the site
 * files (export_sites.c), the scaler files and last each manifest
 * export.json (export_manifest.c). Collective on comm.
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
/* the official "Combined" module (its Y_scaler_Combined.npy rows) */
const char *const af__agx_combined[AF_COMB_N] = { "GPP", "N2O_FLUX", "ET", "CO2_FLUX", "Yield", "Delta_SOC" };
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
    char miss[1024] = "", absent[1024] = "";
    const af_index *x = &e->idx;
    for (int c = 0; c < AF_X_N; c++) {
        e->xcol[c] = find_var(x->inputs, x->ninputs, af__agx_inputs[c]);
        if (c == AF_X_N - 1 && e->xcol[c] < 0) e->xcol[c] = find_var(x->inputs, x->ninputs, "TSOC");
        if (e->xcol[c] < 0) add_missing(miss, sizeof miss, c == AF_X_N - 1 ? "input TCEC (or TSOC)" : af__agx_inputs[c]);
    }
    for (int m = 0, k = 0; m < AF_NMODULES; m++)
        for (int j = 0; j < af__agx_module_size[m]; j++, k++) {
            e->ycol[k] = find_var(x->targets, x->ntargets, af__agx_module_targets[m][j]);
            if (e->ycol[k] < 0 && e->ncounty > 0) add_missing(absent, sizeof absent, af__agx_module_targets[m][j]);
        }
    for (int c = 0; c < AF_COMB_N; c++) e->comb[c] = find_var(x->targets, x->ntargets, af__agx_combined[c]);
    e->gpp = find_var(x->targets, x->ntargets, "GPP");
    e->nee = find_var(x->targets, x->ntargets, "NEE");
    e->n2o = find_var(x->targets, x->ntargets, "N2O_FLUX");
    e->co2flux = find_var(x->targets, x->ntargets, "CO2_FLUX");
    if (miss[0])
        AF_FAIL(AF_EINVAL, "%s: the output lacks AgroFlux names needed by --layout agroflux: %s "
                "(name the pipeline's [input.NAME]/[target.NAME] sections with the AgroFlux names, docs/formats.md)",
                e->opts->outdir, miss);
    /* targets a model does not simulate (DayCent): the missing-value policy decides */
    if (absent[0] && e->missing == AF_MISS_ERROR)
        AF_FAIL(AF_EINVAL, "%s: --missing error: the output lacks AgroFlux targets: %s (--missing fill writes them as "
                "the scaled value 0 with mask 0, --missing keep as NaN)", e->opts->outdir, absent);
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
    e->sample_county = malloc((e->ncounty + 1) * sizeof *e->sample_county);
    AF_CHECK_ALLOC(e->sample_county);
    AF_CHECK(af__export_order(x->samples, e->ncounty, e->order, err));
    AF_CHECK(af__county_list(x->samples, e->ncounty, &e->ncounties, e->sample_county, err));
    for (size_t p = 0; p < e->ncounty; p++) e->pos[e->order[p]] = p;
cleanup:
    return rc;
}

/* Which sites are towers (any valid GPP or NEE, when the output has NEE) and chambers (any valid N2O_FLUX), and the missing
 * inputs of those sites (counted before anything is written, for --missing error); collective. */
static int site_flags(af_export *e, af_error *err)
{
    int rc = AF_OK;
    size_t nsite = e->idx.nsamples - e->ncounty, nd = (size_t)e->idx.ndays, nt = e->idx.ntargets, ni = e->idx.ninputs;
    size_t a = nsite * (size_t)e->rank / (size_t)e->size, b = nsite * (size_t)(e->rank + 1) / (size_t)e->size;
    size_t nv = ni + nt;
    float *y = malloc((nd * nt + 1) * sizeof *y), *x = malloc((nd * ni + 1) * sizeof *x);
    unsigned char *loc = calloc(2 * nsite + 1, 1), *st = malloc(nd + 1);
    unsigned long long *cnt = calloc(2 * nv + 1, sizeof *cnt);
    e->co2 = calloc(nsite + 1, 1);
    e->n2o_site = calloc(nsite + 1, 1);
    if (!y || !x || !loc || !st || !cnt || !e->co2 || !e->n2o_site)
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t s = a; s < b && err->code == AF_OK; s++) {
        if (af__train_read(&e->view, e->ncounty + s, 1, 0, (int)nd, x, y, err) != AF_OK) break;
        for (size_t t = 0; t < nd && nt > 0; t++) {
            /* a tower file holds GPP and NEE: without an NEE target (a model output such as DayCent's, whose
             * site GPP is simulated) no site is a tower */
            if (e->nee >= 0 && ((e->gpp >= 0 && isfinite(y[t * nt + (size_t)e->gpp])) || isfinite(y[t * nt + (size_t)e->nee])))
                loc[s] = 1;
            if (e->n2o >= 0 && isfinite(y[t * nt + (size_t)e->n2o])) loc[nsite + s] = 1;
        }
        if (!loc[s] && !loc[nsite + s]) continue;
        for (int c = 0; c < AF_X_N; c++) {
            size_t j = (size_t)e->xcol[c];
            af__export_fill(x + j, nd, ni, 0, nd, e->missing == AF_MISS_FILL, st, 1, cnt + 2 * j);
        }
    }
    AF_CHECK(af_error_sync(e->comm, err));
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, loc, (int)(2 * nsite), MPI_UNSIGNED_CHAR, MPI_MAX, e->comm));
    AF_CHECK_MPI(MPI_Allreduce(cnt, e->miss_site, (int)(2 * nv), MPI_UNSIGNED_LONG_LONG, MPI_SUM, e->comm));
    memcpy(e->co2, loc, nsite);
    memcpy(e->n2o_site, loc + nsite, nsite);
    for (size_t s = 0; s < nsite; s++) {
        e->nco2 += e->co2[s];
        e->nn2o += e->n2o_site[s];
        if (e->co2[s] && (e->gpp < 0 || e->nee < 0))
            AF_FAIL(AF_EINVAL, "%s: site '%s' has tower data but the output lacks AgroFlux names needed by --layout "
                    "agroflux: %s", e->opts->outdir, e->idx.samples[e->ncounty + s].id, e->gpp < 0 ? "GPP" : "NEE");
    }
    if (e->official_obs && e->nco2 > 0 && e->co2flux < 0)
        AF_FAIL(AF_EINVAL, "%s: --observations official scales tower NEE with the CO2_FLUX scaler and the output has no "
                "CO2_FLUX (use --observations site)", e->opts->outdir);
    if (e->official_obs && (e->nco2 + e->nn2o) > 0 && e->ncounty == 0)
        AF_FAIL(AF_EINVAL, "%s: --observations official scales the sites with the county (t0) scalers and the output has "
                "no county samples (use --observations site)", e->opts->outdir);
    if (e->official_obs && e->nco2 > 0 && !e->native && e->negate[e->idx.ninputs + (size_t)e->co2flux] &&
        !af__sign_is_ours(e->idx.targets[e->nee].sign))
        AF_FAIL(AF_EINVAL, "target NEE has sign '%s': --observations official writes it in the sign of AgroFlux's CO2_FLUX "
                "(negative = to the atmosphere) and cannot tell what this one means; record 'positive = to the "
                "atmosphere' in [target.NEE] sign, or export with --sign native", e->idx.targets[e->nee].sign);
cleanup:
    free(y);
    free(x);
    free(loc);
    free(st);
    free(cnt);
    return rc;
}

/* Drop site files of an earlier export (the training code loads them by number 0, 1, ...). */
static void remove_stale_sites(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4700];
    if (!d) return;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if ((!strncmp(de->d_name, "X_real_", 7) || !strncmp(de->d_name, "Y_real_", 7)) && n > 4 &&
            !strcmp(de->d_name + n - 4, ".npy")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static int make_dirs(const af_export *e, const char *root, af_error *err)
{
    int rc = AF_OK;
    static const char *const sub[] = { "data_files/t0_scalers", "data_files/t1_co2", "data_files/t1_n2o",
                                       "data_files/t1_scalers" };
    char path[4400];
    /* an export that fails from here on leaves no manifest: it is written last */
    snprintf(path, sizeof path, "%s/%s", root, AF_EXPORT_MANIFEST);
    if (unlink(path) != 0 && errno != ENOENT) AF_FAIL(AF_EIO, "cannot remove stale '%s': %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/data_files/t0_%s", root, e->opts->subset);
    AF_CHECK(af_mkdirs(path, err));
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        if (i == 3 && e->official_obs) continue;
        snprintf(path, sizeof path, "%s/%s", root, sub[i]);
        AF_CHECK(af_mkdirs(path, err));
        if (i == 1 || i == 2) remove_stale_sites(path);
    }
cleanup:
    return rc;
}

/* The experiments: one tree at DEST, or every official one at DEST/<name>. */
static const char *const official_names[] = { "temporal", "spatial_0", "spatial_1", "spatial_2", "spatial_3", "spatial_4" };

static int plan_experiments(af_export *e, af_error *err)
{
    int rc = AF_OK;
    const af_export_opts *o = e->opts;
    e->nexp = o->experiments ? 6 : 1;
    e->exp = calloc((size_t)e->nexp, sizeof *e->exp);
    AF_CHECK_ALLOC(e->exp);
    for (int k = 0; k < e->nexp; k++) {
        af_export_exp *x = &e->exp[k];
        if (o->experiments) {
            snprintf(x->name, sizeof x->name, "%s", official_names[k]);
            snprintf(x->dest, sizeof x->dest, "%s/%s", o->dest, x->name);
            snprintf(x->split, sizeof x->split, "%s", k == 0 ? "official-temporal" : "official-spatial");
            x->fold = k == 0 ? 0 : k - 1;
        } else {
            snprintf(x->dest, sizeof x->dest, "%s", o->dest);
            snprintf(x->split, sizeof x->split, "%s", o->split);
            x->fold = o->fold;
        }
    }
cleanup:
    return rc;
}

static int parse_choices(af_export *e, af_error *err)
{
    int rc = AF_OK;
    const af_export_opts *o = e->opts;
    e->native = o->sign && !strcmp(o->sign, "native");
    if (o->sign && !e->native && strcmp(o->sign, "agroflux") != 0)
        AF_FAIL(AF_EINVAL, "--sign '%s': expected agroflux or native", o->sign);
    e->missing = !o->missing || !strcmp(o->missing, "fill") ? AF_MISS_FILL : !strcmp(o->missing, "keep") ? AF_MISS_KEEP
               : !strcmp(o->missing, "error") ? AF_MISS_ERROR : -1;
    if (e->missing < 0) AF_FAIL(AF_EINVAL, "--missing '%s': expected fill, keep or error", o->missing);
    e->official_obs = !o->observations || !strcmp(o->observations, "official");
    if (!e->official_obs && strcmp(o->observations, "site") != 0)
        AF_FAIL(AF_EINVAL, "--observations '%s': expected official or site", o->observations);
    if (!o->experiments && strcmp(o->split, "temporal") && strcmp(o->split, "spatial") &&
        strcmp(o->split, "official-temporal") && strcmp(o->split, "official-spatial"))
        AF_FAIL(AF_EINVAL, "--split '%s': expected temporal, spatial, official-temporal or official-spatial", o->split);
cleanup:
    return rc;
}

static void export_dispose(af_export *e)
{
    af_index_dispose(&e->idx);
    af_calendar_destroy(&e->cal);
    for (int k = 0; e->exp && k < e->nexp; k++) {
        free(e->exp[k].mean);
        free(e->exp[k].std);
        free(e->exp[k].t1_mean);
        free(e->exp[k].t1_std);
        free(e->exp[k].train_fips);
    }
    free(e->exp);
    free(e->miss);
    free(e->miss_site);
    free(e->co2);
    free(e->n2o_site);
    free(e->order);
    free(e->pos);
    free(e->sample_county);
    free(e->negate);
}

int af_export_agroflux(MPI_Comm comm, const af_export_opts *opts, af_export_summary *sum, af_error *err)
{
    int rc = AF_OK;
    af_export e;
    memset(&e, 0, sizeof e);
    memset(sum, 0, sizeof *sum);
    e.comm = comm;
    e.opts = opts;
    MPI_Comm_rank(comm, &e.rank);
    MPI_Comm_size(comm, &e.size);
    AF_CHECK_ARG(opts && opts->outdir && opts->dest && opts->subset && opts->split);
    AF_CHECK(parse_choices(&e, err));
    /* every rank reads the same index, so these checks fail alike everywhere */
    AF_CHECK(af_index_read(opts->outdir, &e.idx, err));
    AF_CHECK(check_axis(&e, err));
    AF_CHECK(map_names(&e, err));
    size_t nv = e.idx.ninputs + e.idx.ntargets;
    e.negate = calloc(nv + 1, 1);
    e.miss = calloc(2 * nv + 1, sizeof *e.miss);
    e.miss_site = calloc(2 * nv + 1, sizeof *e.miss_site);
    AF_CHECK_ALLOC(e.negate);
    AF_CHECK_ALLOC(e.miss);
    AF_CHECK_ALLOC(e.miss_site);
    AF_CHECK(af__export_signs(&e.idx, e.native, e.ncounty, e.negate, err));
    AF_CHECK(af_calendar_create(e.idx.start, e.idx.end, AF_CAL_NOLEAP, &e.cal, err));
    af_train_view v = { opts->outdir, e.idx.samples, e.idx.nsamples, e.idx.shard_samples, e.idx.shards,
                        e.idx.nshards, e.idx.ninputs, e.idx.ntargets, e.cal };
    e.view = v;
    AF_CHECK(plan_experiments(&e, err));
    AF_CHECK(site_flags(&e, err));
    AF_CHECK(af__export_scalers(&e, err));
    for (int k = 0; k < e.nexp && e.rank == 0; k++)
        if (make_dirs(&e, e.exp[k].dest, err) != AF_OK) break;
    AF_CHECK(af_error_sync(comm, err));
    for (size_t j = 0; j < 2 * nv && e.ncounty == 0 && e.missing == AF_MISS_ERROR; j++)
        if (e.miss_site[j]) {
            char rep[4096];
            af__export_report(&e, rep, sizeof rep);
            AF_FAIL(AF_EINVAL, "--missing error: missing cells (nothing written):\n%s(--missing fill fills them, "
                    "--missing keep keeps NaN)", rep);
        }
    if (e.ncounty > 0) AF_CHECK(af__export_t0(&e, err));
    af__export_sites(&e, err);
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &e.njoint, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm));
    if (e.rank == 0) af__export_finish(&e, sum, err);
    AF_CHECK(af_error_sync(comm, err));
    unsigned long long counts[4] = { sum->nfiles, sum->ncounty_samples, sum->nco2_sites, sum->nn2o_sites };
    AF_CHECK_MPI(MPI_Bcast(counts, 4, MPI_UNSIGNED_LONG_LONG, 0, comm));
    sum->nfiles = counts[0];
    sum->ncounty_samples = counts[1];
    sum->nco2_sites = counts[2];
    sum->nn2o_sites = counts[3];
    sum->ndays = e.idx.ndays;
    sum->nexperiments = e.nexp;
    sum->njoint = e.njoint;
    for (size_t j = 0; j < 2 * nv; j++) sum->nmissing += e.miss[j] + e.miss_site[j];
    af__export_report(&e, sum->report, sizeof sum->report);
cleanup:
    export_dispose(&e);
    return rc;
}
