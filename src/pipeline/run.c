/* SPDX-License-Identifier: MIT */
/*
 * run.c: af_pipeline_run, the main job (collective). Stages: setup (config,
 * calendar, samples, partition, sources, and how to start: fresh or from the
 * journal of an interrupted run), then for each block of days: read (sources
 * fill this rank's samples) and write (collective PnetCDF) followed by a
 * checkpoint (collective flush, then rank 0 rewrites journal.json), then finish
 * (fsync, hash, journal "sealed", rename shards), provenance, and the index
 * last; the journal goes after the index. Ranks agree on failure at every stage
 * boundary (af_error_sync), so a failing rank never leaves the others in a
 * collective, and a failed or interrupted run publishes no index. A stop
 * request (opts->stop_flag, set by SIGTERM/SIGINT in the CLI) is agreed on
 * collectively at block boundaries and ends the run with AF_EINTERRUPTED.
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

enum { ST_SETUP, ST_READ, ST_WRITE, ST_FINISH, ST_SCALERS, ST_PUBLISH, ST_N };
static const char *const stage_names[ST_N] = { "setup", "read", "write", "finish", "scalers", "publish" };

/* A stage's start on this rank: wall and CPU clocks. */
typedef struct stage_clock { double wall, cpu; } stage_clock;

/* Sync the error across ranks; on failure jump to cleanup with the agreed error. */
#define AF_SYNC(comm)                                             \
    do {                                                          \
        if (af_error_sync((comm), err) != AF_OK) {                \
            rc = err->code;                                       \
            goto cleanup;                                         \
        }                                                         \
    } while (0)

/* Everything one run holds between its stages. */
typedef struct run_state {
    MPI_Comm comm;
    int rank, size;
    const af_run_opts *opts;
    af_ctx ctx;
    af_range *ranges;
    af_layout layout;
    const char *outdir;            /* where this run writes (od.work, the same on every rank) */
    af_outdir od;                  /* --output and, for a rerun over a complete output, the work directory */
    size_t nsamples, nshards, nlocal;
    int ndays, block;
    af_shardset *ss;
    af_start start;
    af_journal journal;            /* rank 0's checkpoint record */
    int checked_days;              /* days digested into the journal's checks (every rank) */
    af_shard_digest *digests;      /* [nshards] scratch for checkpoints */
    long long *cover;              /* [2 * (ninputs + ntargets)]: valid, applicable sample-days per variable */
    af_cov_acct *acct;             /* per feature, sample and year (coverage_acct.c) */
    char *cov_json;                /* rank 0: coverage.json's text, written before the index */
    af_train_partials *partials;   /* scaler partials fed from the written blocks (a run from day 0 only) */
    float *x, *xqc, *y, *yqc;
    unsigned char *yvalid;
    float *gval, *gqc;             /* one group's fill of a block, reused by every group and block (a */
    unsigned char *gvalid;         /* fresh buffer was a new mapping faulted in page by page) */
    double stage_t[ST_N];
    double stage_cpu[ST_N];        /* this rank's CPU seconds per stage (-v: imbalance shows here) */
    double t_checkpoint;           /* this rank's clock at the last checkpoint */
    int max_fds;                   /* most open descriptors seen at a stage or block boundary */
    af_progress_tracker prog;
} run_state;

static stage_clock stage_start(void) { return (stage_clock){ MPI_Wtime(), af__cpu_seconds() }; }

static void stage_stop(run_state *rs, int st, stage_clock t)
{
    rs->stage_t[st] += MPI_Wtime() - t.wall;
    rs->stage_cpu[st] += af__cpu_seconds() - t.cpu;
}

static long long peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (long long)ru.ru_maxrss * 1024LL;
}

/* Open file descriptors of this process (Linux /proc/self/fd; 0 where absent). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* less the descriptor of the listing itself */
}

static void note_fds(run_state *rs)
{
    int n = open_fds();
    if (n > rs->max_fds) rs->max_fds = n;
}

/* Where this run writes: --output, else [pipeline] output. */
static const char *output_dir(const af_run_opts *opts, const af_config *cfg)
{
    return (opts && opts->output) ? opts->output : cfg->output;
}

/* One group's values [nlocal][nt][nf] into the block buffers (a scoped feature, NAME@counties or
 * NAME@sites, leaves the other samples to its pair). */
static void scatter_group(const af_ctx *ctx, const af_group *g, size_t cells, int nt, const float *val,
                          const unsigned char *valid, const float *qc, float *x, float *xqc, float *y,
                          unsigned char *yvalid, float *yqc)
{
    size_t ni = ctx->ninputs, ntg = ctx->ntargets, nf = g->nfeat;
    for (size_t c = 0; c < cells; c++) {
        const af_sample *s = af_sampleset_get_ref(ctx->set, ctx->sctx.range.begin + c / (size_t)nt);
        for (size_t k = 0; k < nf; k++) {
            af_applies ap = g->feats[k]->applies;
            if ((ap == AF_APPLIES_COUNTIES && s->kind != AF_SAMPLE_COUNTY) ||
                (ap == AF_APPLIES_SITES && s->kind != AF_SAMPLE_SITE))
                continue;
            size_t src = c * nf + k;
            size_t slot = (size_t)g->slot[k];
            if (g->feats[k]->role == AF_ROLE_INPUT) {
                x[c * ni + slot] = valid[src] ? val[src] : NAN;
                xqc[c * ni + slot] = qc[src];
            } else {
                y[c * ntg + slot] = valid[src] ? val[src] : NAN;
                yvalid[c * ntg + slot] = valid[src] ? 1 : 0;
                yqc[c * ntg + slot] = qc[src];
            }
        }
    }
}

/* Collective when a group is split (split.c): the groups filled per sample first, then each split
 * group's share of the days; the ranks agree once on every failure so far (the share one rank got
 * more of in one group it gets less of in the next, so waiting once lets them even out), and only
 * then exchange the split groups' values, group by group. */
static int fill_block(run_state *rs, int t0, int nt, af_error *err)
{
    int rc = AF_OK;
    af_ctx *ctx = &rs->ctx;
    float *val = rs->gval, *qc = rs->gqc;
    unsigned char *valid = rs->gvalid;
    double *load = NULL;
    size_t ni = ctx->ninputs, ntg = ctx->ntargets;
    size_t cells = rs->nlocal * (size_t)nt;
    int nsplit = 0;
    for (size_t i = 0; i < cells * ni; i++) { rs->x[i] = NAN; rs->xqc[i] = NAN; }
    for (size_t i = 0; i < cells * ntg; i++) { rs->y[i] = NAN; rs->yvalid[i] = 0; rs->yqc[i] = NAN; }
    load = calloc((size_t)rs->size, sizeof *load);
    if (!load) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t j = 0; j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        nsplit += g->split;
        if (g->split || cells == 0 || err->code != AF_OK) continue;
        double c0 = af__cpu_seconds();
        if (g->kind->fill(g->state, t0, nt, val, valid, qc, err) == AF_OK)
            scatter_group(ctx, g, cells, nt, val, valid, qc, rs->x, rs->xqc, rs->y, rs->yvalid, rs->yqc);
        g->fill_cpu += af__cpu_seconds() - c0;
    }
    if (nsplit == 0) goto cleanup; /* the same groups on every rank: none agrees here */
    af_group *first = NULL;
    for (size_t j = 0; j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        if (!g->split) continue;
        if (!first) first = g;
        double c0 = af__cpu_seconds();
        af__split_fill_mine(rs->comm, rs->ranges, g, t0, nt, load, err);
        g->fill_cpu += af__cpu_seconds() - c0;
    }
    double c0 = af__cpu_seconds();
    int agreed = af_error_sync(rs->comm, err); /* a rank done first sleeps (af_mpi_wait_idle) */
    first->fill_cpu += af__cpu_seconds() - c0;
    first->exchange_cpu += af__cpu_seconds() - c0;
    for (size_t j = 0; j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        if (!g->split) continue;
        if (agreed != AF_OK) {
            af__split_xchg_free(&g->xchg);
            continue;
        }
        c0 = af__cpu_seconds();
        if (af__split_exchange(rs->comm, rs->ranges, g, nt, val, valid, qc, err) == AF_OK)
            scatter_group(ctx, g, cells, nt, val, valid, qc, rs->x, rs->xqc, rs->y, rs->yvalid, rs->yqc);
        g->fill_cpu += af__cpu_seconds() - c0;
    }
cleanup:
    rc = err->code;
    free(load);
    return rc;
}

static int publish_index(const af_ctx *ctx, const char *outdir, const af_shard_info *infos,
                         size_t ninfos, const af_prov_ref *prov, const af_prov_ref *cov, const af_run_summary *s,
                         int ranks, char *extra, af_error *err)
{
    int rc = AF_OK;
    af_index idx;
    memset(&idx, 0, sizeof idx);
    size_t n = af_sampleset_count(ctx->set);
    idx.schema_version = AF_INDEX_SCHEMA_VERSION;
    snprintf(idx.pipeline_name, sizeof idx.pipeline_name, "%s", ctx->cfg->name);
    snprintf(idx.config_sha256, sizeof idx.config_sha256, "%s", ctx->cfg->sha256);
    idx.config_sets = (const char *const *)ctx->cfg->sets;
    idx.nconfig_sets = ctx->cfg->nsets;
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
    idx.prov_ref = *prov;
    idx.timings = (af_stage_time *)s->stages;
    idx.ntimings = s->nstages;
    idx.peak_rss_bytes = s->peak_rss_bytes;
    idx.extra_json = extra; /* borrowed: splits and scalers */
    idx.rank_peak_rss = s->rank_peak_rss;
    idx.nrank_peak_rss = s->rank_peak_rss ? (size_t)s->ranks : 0;
    idx.rank_max_fds = s->rank_max_fds;
    idx.nrank_max_fds = s->rank_max_fds ? (size_t)s->ranks : 0;
    idx.resumed_from_day = s->resumed_from_day;
    idx.coverage = s->coverage; /* borrowed */
    idx.ncoverage = s->coverage ? ctx->ninputs + ctx->ntargets : 0;
    idx.coverage_ref = *cov;
    idx.has_coverage_warnings = 1;
    memcpy(idx.coverage_warnings, s->coverage_warnings, sizeof idx.coverage_warnings);
    AF_CHECK(af_index_write(outdir, &idx, err));
cleanup:
    free(idx.samples);
    return rc;
}

static void reduce_stages(MPI_Comm comm, const run_state *rs, af_run_summary *s)
{
    double mn[2 * ST_N], mx[2 * ST_N], sum[ST_N], mine[2 * ST_N];
    int size;
    MPI_Comm_size(comm, &size);
    memcpy(mine, rs->stage_t, sizeof rs->stage_t);
    memcpy(mine + ST_N, rs->stage_cpu, sizeof rs->stage_cpu);
    MPI_Allreduce(mine, mn, 2 * ST_N, MPI_DOUBLE, MPI_MIN, comm);
    MPI_Allreduce(mine, mx, 2 * ST_N, MPI_DOUBLE, MPI_MAX, comm);
    MPI_Allreduce(rs->stage_t, sum, ST_N, MPI_DOUBLE, MPI_SUM, comm); /* timing only: order does not matter */
    s->nstages = ST_N;
    for (int i = 0; i < ST_N; i++) {
        snprintf(s->stages[i].stage, sizeof s->stages[i].stage, "%s", stage_names[i]);
        s->stages[i].min = mn[i];
        s->stages[i].max = mx[i];
        s->stages[i].mean = sum[i] / size;
        s->stages[i].cpu_min = mn[ST_N + i];
        s->stages[i].cpu_max = mx[ST_N + i];
    }
}

/* Every rank's peak RSS, on every rank, and the maximum. */
static int gather_memory(run_state *rs, af_run_summary *s, af_error *err)
{
    int rc = AF_OK;
    long long rss = peak_rss_bytes();
    s->rank_peak_rss = calloc((size_t)rs->size, sizeof *s->rank_peak_rss);
    s->rank_max_fds = calloc((size_t)rs->size, sizeof *s->rank_max_fds);
    if (!s->rank_peak_rss || !s->rank_max_fds)
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_SYNC(rs->comm);
    AF_CHECK_MPI(MPI_Allgather(&rss, 1, MPI_LONG_LONG, s->rank_peak_rss, 1, MPI_LONG_LONG, rs->comm));
    note_fds(rs);
    AF_CHECK_MPI(MPI_Allgather(&rs->max_fds, 1, MPI_INT, s->rank_max_fds, 1, MPI_INT, rs->comm));
    s->peak_rss_bytes = 0;
    s->max_fds = 0;
    for (int r = 0; r < rs->size; r++) {
        if (s->rank_peak_rss[r] > s->peak_rss_bytes) s->peak_rss_bytes = s->rank_peak_rss[r];
        if (s->rank_max_fds[r] > s->max_fds) s->max_fds = s->rank_max_fds[r];
    }
cleanup:
    return rc;
}

/* Collective: does any rank want to stop (signal)? */
static int stop_requested(const run_state *rs)
{
    int mine = (rs->opts->stop_flag && *rs->opts->stop_flag) ? 1 : 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, rs->comm);
    return any;
}

/* Collective, after a block: agree on a stop request and on whether a checkpoint is due
 * (checkpoint_interval passed on any rank's clock). */
static void agree_after_block(const run_state *rs, int *stop, int *due)
{
    int f[2] = { (rs->opts->stop_flag && *rs->opts->stop_flag) ? 1 : 0,
                 MPI_Wtime() - rs->t_checkpoint >= rs->opts->checkpoint_interval ? 1 : 0 };
    MPI_Allreduce(MPI_IN_PLACE, f, 2, MPI_INT, MPI_MAX, rs->comm);
    *stop = f[0];
    *due = f[1];
}

static int interrupted(const run_state *rs, int days_done, af_error *err)
{
    return af_error_set(err, AF_EINTERRUPTED, __FILE__, __LINE__, __func__,
                        "stopped by a signal with %d of %d days written; the state in '%s' is resumable: "
                        "rerun with --resume", days_done, rs->ndays, rs->outdir);
}

/* Config, calendar, samples, partition, sources, output directory, block buffers. */
static int run_setup(run_state *rs, const char *pipeline_path, af_error *err)
{
    int rc = AF_OK;
    af_pipeline_config_load(pipeline_path, rs->opts->sets, rs->opts->nsets, &rs->ctx.cfg, err);
    AF_SYNC(rs->comm);
    if (af__ctx_load_rest(&rs->ctx, rs->comm, err) == AF_OK) {
        rs->ranges = calloc((size_t)rs->size, sizeof *rs->ranges);
        if (!rs->ranges) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        else af_sampleset_partition(rs->ctx.set, rs->size, rs->ranges, err);
    }
    AF_SYNC(rs->comm);
    /* collective: the gridded files are described once per run, spread over the ranks */
    af__ctx_share(&rs->ctx, rs->comm);
    af__ctx_open_sources(&rs->ctx, rs->ranges[rs->rank], af__read_split_days(rs->ctx.cfg, rs->size), err);
    AF_SYNC(rs->comm);
    const af_config *cfg = rs->ctx.cfg;
    rs->nsamples = af_sampleset_count(rs->ctx.set);
    rs->nshards = af_output_nshards(rs->nsamples, cfg->shard_samples);
    /* a complete output in the way stays published: this run writes beside it (outdir.c) */
    if (rs->rank == 0)
        af__outdir_prepare(output_dir(rs->opts, cfg), rs->opts->force, rs->opts->resume, rs->nshards, &rs->od, err);
    AF_SYNC(rs->comm);
    AF_CHECK_MPI(MPI_Bcast(&rs->od, (int)sizeof rs->od, MPI_BYTE, 0, rs->comm));
    rs->outdir = rs->od.work;
    af__ctx_layout(&rs->ctx, &rs->layout);
    rs->nlocal = rs->ranges[rs->rank].end - rs->ranges[rs->rank].begin;
    rs->ndays = af_calendar_ndays(rs->ctx.cal);
    rs->block = cfg->block_days < rs->ndays ? cfg->block_days : rs->ndays;
    size_t cells = rs->nlocal * (size_t)rs->block;
    rs->x = malloc((cells * rs->ctx.ninputs + 1) * sizeof *rs->x);
    rs->xqc = malloc((cells * rs->ctx.ninputs + 1) * sizeof *rs->xqc);
    rs->y = malloc((cells * rs->ctx.ntargets + 1) * sizeof *rs->y);
    rs->yqc = malloc((cells * rs->ctx.ntargets + 1) * sizeof *rs->yqc);
    rs->yvalid = malloc(cells * rs->ctx.ntargets + 1);
    size_t gmax = 0; /* the widest group */
    for (size_t j = 0; j < rs->ctx.ngroups; j++)
        if (rs->ctx.groups[j].nfeat > gmax) gmax = rs->ctx.groups[j].nfeat;
    rs->gval = malloc((cells * gmax + 1) * sizeof *rs->gval);
    rs->gqc = malloc((cells * gmax + 1) * sizeof *rs->gqc);
    rs->gvalid = malloc(cells * gmax + 1);
    if (!rs->x || !rs->xqc || !rs->y || !rs->yqc || !rs->yvalid || !rs->gval || !rs->gqc || !rs->gvalid)
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__,
                     "out of memory for a block of %d days x %zu samples", rs->block, rs->nlocal);
    else
        af__cov_create(&rs->ctx, rs->ranges[rs->rank], cfg->coverage_min_fraction, &rs->acct, err);
    AF_SYNC(rs->comm);
cleanup:
    return rc;
}

/* Fresh shards, or the interrupted run's (resume); rank 0 prepares its journal record. */
static int run_open_shards(run_state *rs, af_error *err)
{
    int rc = AF_OK;
    af_journal kept;
    memset(&kept, 0, sizeof kept);
    AF_CHECK(af__resume_decide(rs->comm, rs->outdir, &rs->layout, rs->ctx.settings, rs->opts->resume, &rs->start,
                               err));
    if (rs->start.mode == AF_START_CONTINUE)
        AF_CHECK(af__resume_verify(rs->comm, rs->outdir, &rs->layout, &rs->start, &kept, err));
    if (rs->start.mode == AF_START_CONTINUE &&
        af_shardset_reopen_owned(rs->comm, rs->outdir, &rs->layout, rs->ranges[rs->rank].begin, rs->nlocal,
                                 &rs->ss, err) != AF_OK) {
        /* the failure is agreed on every rank: all start over together */
        af_log(AF_LOG_WARN, "resume", "starting over from the first day: %s", err->msg);
        af_error_clear(err);
        rs->start.mode = AF_START_FRESH;
        rs->start.days_done = 0;
    }
    if (rs->start.mode == AF_START_FRESH) {
        if (rs->rank == 0) af__journal_remove(rs->outdir, err);
        AF_SYNC(rs->comm);
        AF_CHECK(af_shardset_create_owned(rs->comm, rs->outdir, &rs->layout, rs->ranges[rs->rank].begin,
                                          rs->nlocal, &rs->ss, err));
    }
    if (rs->start.mode != AF_START_FRESH) {
        /* the days already written, read back, so the coverage accounting covers every day */
        af__cov_count_written(rs->acct, &rs->ctx, rs->outdir, rs->start.mode == AF_START_CONTINUE ? ".partial" : "",
                              rs->ctx.cfg->shard_samples, rs->start.mode == AF_START_CONTINUE ? rs->start.days_done
                              : rs->ndays, rs->block, err);
        AF_SYNC(rs->comm);
    }
    rs->digests = calloc(rs->nshards ? rs->nshards : 1, sizeof *rs->digests);
    if (!rs->digests) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    if (rs->start.mode == AF_START_CONTINUE) {
        /* the verified checks carry over: a later resume checks these days too */
        rs->checked_days = rs->start.days_done;
        rs->journal.nseg = kept.nseg;
        rs->journal.seg_end = kept.seg_end;
        rs->journal.ncheck = kept.ncheck;
        rs->journal.check_bytes = kept.check_bytes;
        rs->journal.check_static = kept.check_static;
        rs->journal.check_seg = kept.check_seg;
        kept.nseg = 0;
        kept.ncheck = 0;
        kept.seg_end = NULL;
        kept.check_bytes = NULL;
        kept.check_static = NULL;
        kept.check_seg = NULL;
    }
    if (rs->rank == 0) {
        snprintf(rs->journal.config_sha256, sizeof rs->journal.config_sha256, "%s", rs->ctx.cfg->sha256);
        snprintf(rs->journal.output_sha256, sizeof rs->journal.output_sha256, "%s", rs->ctx.output_sha256);
        free(rs->journal.settings);
        rs->journal.settings = af_strdup(rs->ctx.settings);
        if (!rs->journal.settings) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        rs->journal.ndays = rs->ndays;
        rs->journal.days_done = rs->start.days_done;
        af__layout_sha256(&rs->layout, rs->journal.layout_sha256, err);
    }
    AF_SYNC(rs->comm);
cleanup:
    af__journal_dispose(&kept);
    return rc;
}

/* After a block: every rank's data on disk, then the journal says so. */
static int checkpoint(run_state *rs, int days_done, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK(af_shardset_sync(rs->ss, err));
    /* digest what is on disk now: the days since the last checkpoint (and, the first time, the
     * header and static variables), so --resume can check the .partial files before trusting them */
    AF_CHECK(af_shardset_digest(rs->ss, rs->checked_days == 0, rs->checked_days, days_done, rs->digests, err));
    if (rs->rank == 0) {
        rs->journal.days_done = days_done;
        if (af__journal_add_checks(&rs->journal, days_done, rs->digests, rs->nshards, err) == AF_OK)
            af__journal_write(rs->outdir, &rs->journal, err);
    }
    rs->checked_days = days_done;
    AF_SYNC(rs->comm);
    af_shardset_keep_partial(rs->ss, 1); /* from now on the .partial files are resumable state */
    rs->t_checkpoint = MPI_Wtime();
cleanup:
    return rc;
}

/* Test-only failure before writing block b (on the last rank, so the error travels). */
static void test_fail_block(const run_state *rs, int b, af_error *err)
{
    if (rs->opts->test_fail == AF_TEST_FAIL_WRITE_BLOCK && b == rs->opts->test_fail_block &&
        rs->rank == rs->size - 1)
        af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__,
                     "test hook AGROFLUX_TEST_FAIL_AT: simulated failure at write block %d", b);
}

/* Which sample kinds a variable (input slot, or target slot after the inputs) has values for:
 * bit 0 counties, bit 1 sites (a scoped pair NAME@counties + NAME@sites covers both). */
static unsigned kinds_of(const af_ctx *ctx, size_t var)
{
    unsigned m = 0;
    for (size_t j = 0; j < ctx->ngroups; j++)
        for (size_t k = 0; k < ctx->groups[j].nfeat; k++) {
            const af_feature_cfg *f = ctx->groups[j].feats[k];
            size_t v = (size_t)ctx->groups[j].slot[k] + (f->role == AF_ROLE_INPUT ? 0 : ctx->ninputs);
            if (v != var) continue;
            m |= f->applies == AF_APPLIES_COUNTIES ? 1u : f->applies == AF_APPLIES_SITES ? 2u : 3u;
        }
    return m;
}

/* Count the block's valid and applicable sample-days per variable (coverage accounting). */
static void count_block(run_state *rs, int nt)
{
    const af_ctx *ctx = &rs->ctx;
    size_t ni = ctx->ninputs, ntg = ctx->ntargets, nv = ni + ntg;
    for (size_t v = 0; v < nv; v++) {
        unsigned m = kinds_of(ctx, v);
        for (size_t s = 0; s < rs->nlocal; s++) {
            const af_sample *sm = af_sampleset_get_ref(ctx->set, ctx->sctx.range.begin + s);
            if (!(m & (sm->kind == AF_SAMPLE_COUNTY ? 1u : 2u))) continue;
            for (int t = 0; t < nt; t++) {
                size_t c = s * (size_t)nt + (size_t)t;
                int ok = v < ni ? !isnan(rs->x[c * ni + v]) : rs->yvalid[c * ntg + (v - ni)] != 0;
                rs->cover[2 * v] += ok;
                rs->cover[2 * v + 1]++;
            }
        }
    }
}

/* Collective. Sum the counts over ranks (integers: exact in any order) and warn, naming the
 * variable, when one has no valid value at all: every file behind it contributed nothing. */
static int report_coverage(run_state *rs, af_error *err)
{
    int rc = AF_OK;
    size_t nv = rs->ctx.ninputs + rs->ctx.ntargets;
    if (nv == 0 || !rs->cover) goto cleanup;
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, rs->cover, (int)(2 * nv), MPI_LONG_LONG, MPI_SUM, rs->comm));
    for (size_t v = 0; v < nv && rs->rank == 0; v++) {
        const af_var_desc *d = v < rs->ctx.ninputs ? &rs->ctx.inputs[v] : &rs->ctx.targets[v - rs->ctx.ninputs];
        if (rs->cover[2 * v + 1] > 0 && rs->cover[2 * v] == 0)
            af_log(AF_LOG_WARN, "coverage", "%s %s (source %s): no valid value in any of its %lld sample-days: "
                   "its files contributed nothing (all missing, fill values, or other days)",
                   v < rs->ctx.ninputs ? "input" : "target", d->name, d->source, rs->cover[2 * v + 1]);
        else if (rs->cover[2 * v + 1] > 0)
            af_log(AF_LOG_INFO, "coverage", "%s: %lld of %lld sample-days valid (%.1f%%)", d->name, rs->cover[2 * v],
                   rs->cover[2 * v + 1], 100.0 * (double)rs->cover[2 * v] / (double)rs->cover[2 * v + 1]);
    }
cleanup:
    return rc;
}

static int run_blocks(run_state *rs, af_error *err)
{
    int rc = AF_OK;
    af_range mine = rs->ranges[rs->rank];
    for (int t0 = rs->start.days_done; t0 < rs->ndays; t0 += rs->block) {
        int nt = t0 + rs->block <= rs->ndays ? rs->block : rs->ndays - t0;
        stage_clock t = stage_start();
        fill_block(rs, t0, nt, err);
        stage_stop(rs, ST_READ, t);
        test_fail_block(rs, t0 / rs->block, err);
        AF_SYNC(rs->comm); /* the ranks done first sleep, not spin, until the last (af_error_sync) */
        count_block(rs, nt);
        af__cov_count_block(rs->acct, &rs->ctx, t0, nt, rs->x, rs->yvalid);
        t = stage_start();
        AF_CHECK(af_shardset_write_block(rs->ss, mine.begin, rs->nlocal, t0, nt, rs->x, rs->xqc, rs->y,
                                         rs->yvalid, rs->yqc, err));
        af_error perr = AF_ERROR_INIT; /* cannot fail in day order; if it did, the scalers read the shards back */
        if (af_train_partials_add(rs->partials, t0, nt, rs->x, rs->y, &perr) != AF_OK) {
            af_log(AF_LOG_WARN, "run", "scalers will read the shards back: %s", perr.msg);
            af_train_partials_destroy(&rs->partials);
        }
        if (rs->opts->test_block_delay_ms > 0) usleep((useconds_t)rs->opts->test_block_delay_ms * 1000u);
        int last = t0 + nt >= rs->ndays, stop, due;
        agree_after_block(rs, &stop, &due);
        /* the last block's checkpoint digests come from the seal's read of each shard (run_finish) */
        if ((stop || due) && !last) AF_CHECK(checkpoint(rs, t0 + nt, err));
        stage_stop(rs, ST_WRITE, t);
        note_fds(rs);
        af_log(AF_LOG_DEBUG, "run", "days %d..%d of %d written", t0 + 1, t0 + nt, rs->ndays);
        af__progress_report(&rs->prog, "running", "write", t0 + nt, 0);
        if (stop && !last) {
            interrupted(rs, t0 + nt, err);
            AF_SYNC(rs->comm);
        }
    }
    for (size_t j = 0; j < rs->ctx.ngroups; j++) {
        const af_group *g = &rs->ctx.groups[j];
        af_log(AF_LOG_DEBUG, "run", "group %zu (%s, [%s]...): CPU %.3f s open, %.3f s fill (%.3f s exchange)", j,
               g->kind->name, g->feats[0]->section->name, g->open_cpu, g->fill_cpu, g->exchange_cpu);
    }
cleanup:
    return rc;
}

/* Close and hash the shards, journal them as sealed, rename them (or take the journal's). */
static int run_finish(run_state *rs, af_shard_info **infos, size_t *ninfos, af_error *err)
{
    int rc = AF_OK;
    if (rs->start.mode == AF_START_PUBLISH) {
        *infos = rs->start.shards;
        *ninfos = rs->start.nshards;
        rs->start.shards = NULL;
        goto cleanup;
    }
    /* the final checkpoint: the days since the last one, digested in the same read as the SHA-256 */
    af_seal_check chk = { rs->checked_days == 0, rs->checked_days, rs->ndays, rs->digests };
    AF_CHECK(af_shardset_seal_checked(rs->ss, rs->checked_days < rs->ndays ? &chk : NULL, infos, ninfos, err));
    int jrc = AF_OK;
    if (rs->rank == 0 && rs->checked_days < rs->ndays)
        jrc = af__journal_add_checks(&rs->journal, rs->ndays, rs->digests, rs->nshards, err);
    rs->checked_days = rs->ndays;
    if (rs->rank == 0 && jrc == AF_OK) {
        rs->journal.sealed = 1;
        rs->journal.days_done = rs->ndays;
        rs->journal.shards = *infos; /* borrowed */
        rs->journal.nshards = *ninfos;
        af__journal_write(rs->outdir, &rs->journal, err);
        rs->journal.shards = NULL;
    }
    AF_SYNC(rs->comm);
    af_shardset_keep_partial(rs->ss, 1); /* the sealed journal names them */
    if (rs->opts->test_fail == AF_TEST_FAIL_SEALED && rs->rank == rs->size - 1)
        af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__,
                     "test hook AGROFLUX_TEST_FAIL_AT: simulated failure after sealing, before renaming");
    AF_SYNC(rs->comm);
    AF_CHECK(af_shardset_publish(rs->ss, err));
cleanup:
    return rc;
}

static void fill_summary(const run_state *rs, const af_shard_info *infos, size_t ninfos, double t_start,
                         af_run_summary *summary)
{
    const af_sample *samples = rs->layout.samples;
    snprintf(summary->outdir, sizeof summary->outdir, "%s", rs->od.final);
    snprintf(summary->name, sizeof summary->name, "%s", rs->ctx.cfg->name);
    summary->nsamples = rs->nsamples;
    for (size_t i = 0; i < rs->nsamples; i++) {
        if (samples[i].kind == AF_SAMPLE_COUNTY) summary->ncounty_samples++;
        else summary->nsite_samples++;
    }
    summary->nshards = ninfos;
    summary->ninputs = rs->ctx.ninputs;
    summary->ntargets = rs->ctx.ntargets;
    summary->ndays = rs->ndays;
    for (size_t i = 0; i < ninfos; i++) summary->bytes += infos[i].bytes;
    summary->seconds = MPI_Wtime() - t_start;
}

void af_run_summary_dispose(af_run_summary *summary)
{
    if (!summary) return;
    free(summary->rank_peak_rss);
    summary->rank_peak_rss = NULL;
    free(summary->coverage);
    summary->coverage = NULL;
    free(summary->rank_max_fds);
    summary->rank_max_fds = NULL;
}

int af_pipeline_run(MPI_Comm comm, const char *pipeline_path, const af_run_opts *opts,
                    af_run_summary *summary, af_error *err)
{
    static const af_run_opts defaults = AF_RUN_OPTS_INIT;
    int rc = AF_OK;
    run_state rs;
    af_shard_info *infos = NULL;
    af_prov_ref prov, cov;
    char *extra = NULL;
    size_t ninfos = 0;
    memset(&rs, 0, sizeof rs);
    memset(&cov, 0, sizeof cov);
    rs.comm = comm;
    rs.opts = opts ? opts : &defaults;
    MPI_Comm_rank(comm, &rs.rank);
    MPI_Comm_size(comm, &rs.size);
    memset(summary, 0, sizeof *summary);
    double t_start = MPI_Wtime();
    stage_clock t = stage_start();
    af__progress_init(&rs.prog, comm, rs.opts, t_start);

    AF_CHECK(run_setup(&rs, pipeline_path, err));
    AF_CHECK(run_open_shards(&rs, err));
    note_fds(&rs);
    rs.t_checkpoint = MPI_Wtime();
    af__progress_layout(&rs.prog, rs.outdir, rs.ctx.cfg->name, rs.nsamples, rs.ndays, rs.start.days_done);
    af__progress_report(&rs.prog, "running", "setup", rs.start.days_done, 1);
    stage_stop(&rs, ST_SETUP, t);
    if (rs.start.days_done < rs.ndays && stop_requested(&rs)) {
        interrupted(&rs, rs.start.days_done, err);
        AF_SYNC(comm);
    }

    rs.cover = calloc(2 * (rs.ctx.ninputs + rs.ctx.ntargets) + 1, sizeof *rs.cover);
    if (!rs.cover) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    /* the scalers come from the blocks as they are written; a resumed run reads its shards back */
    else if (rs.start.days_done == 0)
        af_train_partials_create(rs.ctx.cfg, rs.ranges[rs.rank].begin, rs.nlocal, rs.ctx.ninputs, rs.ctx.ntargets,
                                 &rs.partials, err);
    AF_SYNC(comm);
    AF_CHECK(run_blocks(&rs, err));
    t = stage_start(); /* the finish stage: coverage accounting, then the seal */
    /* a resumed run counts only the days it wrote itself */
    AF_CHECK(report_coverage(&rs, err));
    summary->coverage = rs.cover; /* the summary owns the counts from here */
    rs.cover = NULL;
    if (af__cov_report(comm, rs.acct, &rs.ctx, rs.ranges, rs.opts->strict, &rs.cov_json, err) != AF_OK) {
        /* failed by --strict: the journal goes too, so a --resume starts over and accounts every day again */
        long long w[AF_COV_NWARN], nw = 0;
        af_error e2 = AF_ERROR_INIT;
        af__cov_counts(rs.acct, w);
        for (int k = 0; k < AF_COV_NWARN; k++) nw += w[k];
        if (rs.rank == 0 && rs.opts->strict && nw > 0) af__journal_remove(rs.outdir, &e2);
        rc = err->code;
        goto cleanup;
    }
    af__cov_counts(rs.acct, summary->coverage_warnings);
    af__progress_report(&rs.prog, "running", "finish", rs.ndays, 1);
    AF_CHECK(run_finish(&rs, &infos, &ninfos, err));
    stage_stop(&rs, ST_FINISH, t);

    /* training splits and leak-free scalers from the finished shards (index "extra") */
    t = stage_start();
    af__progress_report(&rs.prog, "running", "scalers", rs.ndays, 1);
    AF_CHECK(af_train_extra_from(comm, rs.ctx.cfg, rs.outdir, rs.layout.samples, rs.nsamples, infos, ninfos,
                                 rs.ctx.ninputs, rs.ctx.ntargets, rs.ranges[rs.rank], rs.partials, &extra, err));
    stage_stop(&rs, ST_SCALERS, t);

    /* provenance and index, last; the journal goes once the index is there */
    t = stage_start();
    af__progress_report(&rs.prog, "running", "publish", rs.ndays, 1);
    AF_CHECK(af__provenance_write(comm, &rs.ctx, rs.outdir, &prov, err));
    if (rs.rank == 0) af__cov_write(rs.outdir, rs.cov_json, af__cov_nfeat(rs.acct), &cov, err);
    AF_SYNC(comm);
    summary->ranks = rs.size;
    summary->resumed_from_day = rs.start.days_done;
    AF_CHECK(gather_memory(&rs, summary, err));
    stage_stop(&rs, ST_PUBLISH, t);
    reduce_stages(comm, &rs, summary);
    if (rs.rank == 0) publish_index(&rs.ctx, rs.outdir, infos, ninfos, &prov, &cov, summary, rs.size, extra, err);
    AF_SYNC(comm);
    if (rs.rank == 0) af__journal_remove(rs.outdir, err);
    AF_SYNC(comm);
    /* a rerun over a complete output: the new one takes its place only now */
    if (rs.rank == 0 && af__outdir_publish(&rs.od, err) == AF_OK && rs.od.staged)
        snprintf(rs.prog.path, sizeof rs.prog.path, "%s/%s", rs.od.final, AF_PROGRESS_NAME);
    AF_SYNC(comm);
    fill_summary(&rs, infos, ninfos, t_start, summary);
    af__progress_report(&rs.prog, "done", "publish", rs.ndays, 1);
cleanup:
    free(extra);
    if (rc != AF_OK && rs.outdir)
        af__progress_report(&rs.prog, rc == AF_EINTERRUPTED ? "interrupted" : "failed", rs.prog.p.stage,
                            rs.prog.p.days_done, 1);
    af_shardset_destroy(&rs.ss);
    af__journal_dispose(&rs.journal);
    free(rs.digests);
    free(rs.cover);
    af__cov_destroy(&rs.acct);
    free(rs.cov_json);
    af_train_partials_destroy(&rs.partials);
    free(rs.start.shards);
    free(infos);
    free(rs.x);
    free(rs.xqc);
    free(rs.y);
    free(rs.yqc);
    free(rs.yvalid);
    free(rs.gval);
    free(rs.gqc);
    free(rs.gvalid);
    free(rs.ranges);
    af__ctx_dispose(&rs.ctx);
    return rc;
}
