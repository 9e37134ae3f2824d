/* SPDX-License-Identifier: MIT */
/*
 * run.c: af_pipeline_run, the main job (collective). Stages: setup (config,
 * calendar, samples, partition, sources), then for each block of days: read
 * (sources fill this rank's samples) and write (collective PnetCDF), then
 * finish (fsync, hash, rename shards), provenance, and the index last. Ranks
 * agree on failure at every stage boundary (af_error_sync), so a failing rank
 * never leaves the others in a collective, and a failed run publishes no index.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"
#include "agroflux/train.h"

enum { ST_SETUP, ST_READ, ST_WRITE, ST_PUBLISH, ST_N };
static const char *const stage_names[ST_N] = { "setup", "read", "write", "publish" };

/* Sync the error across ranks; on failure jump to cleanup with the agreed error. */
#define AF_SYNC(comm)                                             \
    do {                                                          \
        if (af_error_sync((comm), err) != AF_OK) {                \
            rc = err->code;                                       \
            goto cleanup;                                         \
        }                                                         \
    } while (0)

static long long peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (long long)ru.ru_maxrss * 1024LL;
}

/* Where this run writes: --output, else [pipeline] output. */
static const char *output_dir(const af_run_opts *opts, const af_config *cfg)
{
    return (opts && opts->output) ? opts->output : cfg->output;
}

/* Remove a previous run's index (if any), durably, before anything else can fail: a
 * directory whose index survives a failed run would pass for this run's output. */
static int remove_stale_index(const char *outdir, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", outdir, AF_INDEX_NAME);
    if (unlink(path) == 0) AF_CHECK(af_fsync_path(outdir, err));
    else if (errno != ENOENT) AF_FAIL(AF_EIO, "cannot remove stale '%s': %s", path, strerror(errno));
cleanup:
    return rc;
}

/* Create the output directory and drop shards beyond the new count, so it never mixes runs. */
static int prepare_outdir(const char *outdir, size_t nshards, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    DIR *d = NULL;
    AF_CHECK(af_mkdirs(outdir, err));
    d = opendir(outdir);
    if (!d) AF_FAIL(AF_EIO, "cannot list '%s'", outdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned long k;
        char tail[8];
        if (sscanf(de->d_name, "shard-%5lu.n%7s", &k, tail) == 2 && k >= nshards) {
            snprintf(path, sizeof path, "%s/%s", outdir, de->d_name);
            unlink(path);
        }
    }
cleanup:
    if (d) closedir(d);
    return rc;
}

static int fill_block(af_ctx *ctx, size_t nlocal, int t0, int nt, float *x, float *y,
                      unsigned char *yvalid, float *yqc, af_error *err)
{
    int rc = AF_OK;
    float *val = NULL, *qc = NULL;
    unsigned char *valid = NULL;
    size_t ni = ctx->ninputs, ntg = ctx->ntargets;
    size_t cells = nlocal * (size_t)nt;
    for (size_t i = 0; i < cells * ni; i++) x[i] = NAN;
    for (size_t i = 0; i < cells * ntg; i++) { y[i] = NAN; yvalid[i] = 0; yqc[i] = NAN; }
    for (size_t j = 0; j < ctx->ngroups && cells > 0; j++) {
        af_group *g = &ctx->groups[j];
        size_t nf = g->nfeat;
        val = malloc(cells * nf * sizeof *val);
        qc = malloc(cells * nf * sizeof *qc);
        valid = malloc(cells * nf);
        AF_CHECK_ALLOC(val);
        AF_CHECK_ALLOC(qc);
        AF_CHECK_ALLOC(valid);
        AF_CHECK(g->kind->fill(g->state, t0, nt, val, valid, qc, err));
        for (size_t c = 0; c < cells; c++) {
            for (size_t k = 0; k < nf; k++) {
                size_t src = c * nf + k;
                size_t slot = (size_t)g->slot[k];
                if (g->feats[k]->role == AF_ROLE_INPUT) {
                    x[c * ni + slot] = valid[src] ? val[src] : NAN;
                } else {
                    y[c * ntg + slot] = valid[src] ? val[src] : NAN;
                    yvalid[c * ntg + slot] = valid[src] ? 1 : 0;
                    yqc[c * ntg + slot] = qc[src];
                }
            }
        }
        free(val); val = NULL;
        free(qc); qc = NULL;
        free(valid); valid = NULL;
    }
cleanup:
    free(val);
    free(qc);
    free(valid);
    return rc;
}

static void reduce_stages(MPI_Comm comm, const double *t, af_run_summary *s)
{
    double mn[ST_N], mx[ST_N], sum[ST_N];
    int size;
    MPI_Comm_size(comm, &size);
    MPI_Allreduce(t, mn, ST_N, MPI_DOUBLE, MPI_MIN, comm);
    MPI_Allreduce(t, mx, ST_N, MPI_DOUBLE, MPI_MAX, comm);
    MPI_Allreduce(t, sum, ST_N, MPI_DOUBLE, MPI_SUM, comm); /* timing only: order does not matter */
    s->nstages = ST_N;
    for (int i = 0; i < ST_N; i++) {
        snprintf(s->stages[i].stage, sizeof s->stages[i].stage, "%s", stage_names[i]);
        s->stages[i].min = mn[i];
        s->stages[i].max = mx[i];
        s->stages[i].mean = sum[i] / size;
    }
}

static int publish_index(const af_ctx *ctx, const char *outdir, const af_shard_info *infos,
                         size_t ninfos, af_prov_file *prov, size_t nprov, const af_run_summary *s,
                         int ranks, char *extra, af_error *err)
{
    int rc = AF_OK;
    af_index idx;
    memset(&idx, 0, sizeof idx);
    size_t n = af_sampleset_count(ctx->set);
    idx.schema_version = AF_INDEX_SCHEMA_VERSION;
    snprintf(idx.pipeline_name, sizeof idx.pipeline_name, "%s", ctx->cfg->name);
    snprintf(idx.config_sha256, sizeof idx.config_sha256, "%s", ctx->cfg->sha256);
    snprintf(idx.calendar, sizeof idx.calendar, "%s", af_calendar_kind_name(ctx->cfg->calendar));
    idx.start = ctx->cfg->start;
    idx.end = ctx->cfg->end;
    idx.ndays = af_calendar_ndays(ctx->cal);
    snprintf(idx.format, sizeof idx.format, "%s", ctx->cfg->cdf5 ? "cdf5" : "cdf2");
    idx.shard_samples = ctx->cfg->shard_samples;
    idx.inputs = ctx->inputs;
    idx.ninputs = ctx->ninputs;
    idx.targets = ctx->targets;
    idx.ntargets = ctx->ntargets;
    idx.shards = (af_shard_info *)infos;
    idx.nshards = ninfos;
    idx.samples = malloc(n * sizeof *idx.samples);
    AF_CHECK_ALLOC(idx.samples);
    for (size_t i = 0; i < n; i++) idx.samples[i] = *af_sampleset_get_ref(ctx->set, i);
    idx.nsamples = n;
    snprintf(idx.software, sizeof idx.software, "agroflux %s", AF_VERSION);
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(idx.created, sizeof idx.created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    idx.ranks = ranks;
    idx.prov_inputs = prov;
    idx.nprov_inputs = nprov;
    idx.timings = (af_stage_time *)s->stages;
    idx.ntimings = s->nstages;
    idx.peak_rss_bytes = s->peak_rss_bytes;
    idx.extra_json = extra; /* borrowed: splits and scalers */
    AF_CHECK(af_index_write(outdir, &idx, err));
cleanup:
    free(idx.samples);
    return rc;
}

int af_pipeline_run(MPI_Comm comm, const char *pipeline_path, const af_run_opts *opts,
                    af_run_summary *summary, af_error *err)
{
    int rc = AF_OK;
    int rank = 0, size = 1;
    af_ctx ctx;
    af_range *ranges = NULL;
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    af_prov_file *prov = NULL;
    float *x = NULL, *y = NULL, *yqc = NULL;
    unsigned char *yvalid = NULL;
    char *extra = NULL;
    size_t ninfos = 0, nprov = 0;
    double stage_t[ST_N] = { 0 };
    memset(&ctx, 0, sizeof ctx);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(summary, 0, sizeof *summary);
    double t_start = MPI_Wtime(), t = t_start;

    /* setup: the stale index goes first, so a run that fails anywhere leaves none */
    if (af_config_load(pipeline_path, &ctx.cfg, err) == AF_OK && rank == 0)
        remove_stale_index(output_dir(opts, ctx.cfg), err);
    AF_SYNC(comm);
    if (af__ctx_load_rest(&ctx, err) == AF_OK) {
        ranges = calloc((size_t)size, sizeof *ranges);
        if (!ranges) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        else if (af_sampleset_partition(ctx.set, size, ranges, err) == AF_OK)
            af__ctx_open_sources(&ctx, ranges[rank], err);
    }
    AF_SYNC(comm);
    const af_config *cfg = ctx.cfg;
    const char *outdir = output_dir(opts, cfg);
    size_t nsamples = af_sampleset_count(ctx.set);
    size_t nshards = af_output_nshards(nsamples, cfg->shard_samples);
    if (rank == 0) prepare_outdir(outdir, nshards, err);
    AF_SYNC(comm);
    af_layout layout;
    af__ctx_layout(&ctx, &layout);
    const af_sample *samples = layout.samples;
    AF_CHECK(af_shardset_create(comm, outdir, &layout, &ss, err));
    stage_t[ST_SETUP] = MPI_Wtime() - t;

    /* blocks of days */
    af_range mine = ranges[rank];
    size_t nlocal = mine.end - mine.begin;
    int ndays = af_calendar_ndays(ctx.cal), block = cfg->block_days;
    if (block > ndays) block = ndays;
    size_t cells = nlocal * (size_t)block;
    x = malloc((cells * ctx.ninputs + 1) * sizeof *x);
    y = malloc((cells * ctx.ntargets + 1) * sizeof *y);
    yqc = malloc((cells * ctx.ntargets + 1) * sizeof *yqc);
    yvalid = malloc(cells * ctx.ntargets + 1);
    if (!x || !y || !yqc || !yvalid) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for a block of %d days x %zu samples", block, nlocal);
    AF_SYNC(comm);
    for (int t0 = 0; t0 < ndays; t0 += block) {
        int nt = t0 + block <= ndays ? block : ndays - t0;
        t = MPI_Wtime();
        fill_block(&ctx, nlocal, t0, nt, x, y, yvalid, yqc, err);
        stage_t[ST_READ] += MPI_Wtime() - t;
        AF_SYNC(comm);
        t = MPI_Wtime();
        AF_CHECK(af_shardset_write_block(ss, mine.begin, nlocal, t0, nt, x, y, yvalid, yqc, err));
        stage_t[ST_WRITE] += MPI_Wtime() - t;
        af_log(AF_LOG_INFO, "run", "days %d..%d of %d written", t0 + 1, t0 + nt, ndays);
    }
    t = MPI_Wtime();
    AF_CHECK(af_shardset_finish(ss, &infos, &ninfos, err));
    stage_t[ST_WRITE] += MPI_Wtime() - t;

    /* provenance and index, last */
    t = MPI_Wtime();
    AF_CHECK(af__provenance_collect(comm, &ctx, &prov, &nprov, err));
    summary->ranks = size;
    long long rss = peak_rss_bytes();
    MPI_Allreduce(&rss, &summary->peak_rss_bytes, 1, MPI_LONG_LONG, MPI_MAX, comm);
    stage_t[ST_PUBLISH] = MPI_Wtime() - t;
    /* training splits and leak-free scalers from the finished shards (index "extra") */
    AF_CHECK(af_train_extra(comm, cfg, outdir, samples, nsamples, infos, ninfos, ctx.ninputs, ctx.ntargets, mine,
                            &extra, err));
    reduce_stages(comm, stage_t, summary);
    if (rank == 0) publish_index(&ctx, outdir, infos, ninfos, prov, nprov, summary, size, extra, err);
    AF_SYNC(comm);

    snprintf(summary->outdir, sizeof summary->outdir, "%s", outdir);
    snprintf(summary->name, sizeof summary->name, "%s", cfg->name);
    summary->nsamples = nsamples;
    for (size_t i = 0; i < nsamples; i++) {
        if (samples[i].kind == AF_SAMPLE_COUNTY) summary->ncounty_samples++;
        else summary->nsite_samples++;
    }
    summary->nshards = ninfos;
    summary->ninputs = ctx.ninputs;
    summary->ntargets = ctx.ntargets;
    summary->ndays = ndays;
    for (size_t i = 0; i < ninfos; i++) summary->bytes += infos[i].bytes;
    summary->seconds = MPI_Wtime() - t_start;
cleanup:
    free(extra);
    af_shardset_destroy(&ss);
    free(infos);
    free(prov);
    free(x);
    free(y);
    free(yqc);
    free(yvalid);
    free(ranges);
    af__ctx_dispose(&ctx);
    return rc;
}
