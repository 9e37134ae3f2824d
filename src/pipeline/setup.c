/* SPDX-License-Identifier: MIT */
/*
 * setup.c: builds the run context from a pipeline file: config, calendar,
 * sample set, the input/target descriptions in file order, and the source
 * groups (features of one kind that read the same path are opened once).
 * It also checks what config cannot: each feature's source kind and that
 * kind's keys (config sits below the sources and does not know them).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_check.h"
#include "pipeline_impl.h"

/* The source kind of every feature section and the keys of that kind: what config cannot check. */
static int check_features(const af_config *cfg, af_error *err)
{
    int rc = AF_OK;
    for (size_t i = 0; i < cfg->nfeatures; i++) {
        const af_config_section *sec = cfg->features[i].section;
        const af_source_kind *kind = af_source_kind_find(cfg->features[i].source);
        if (!kind) {
            char names[256];
            af_source_kind_names(names, sizeof names);
            AF_FAIL(AF_ECONFIG, "%s:%d: [%s] source: unknown source kind '%s' (known: %s)", cfg->path,
                    af_config_line(sec, "source"), sec->name, cfg->features[i].source, names);
        }
        AF_CHECK(af_config_check_section(cfg, sec, af_feature_common_keys(), kind->keys, err));
    }
cleanup:
    return rc;
}

int af_pipeline_config_load(const char *pipeline_path, const char *const *sets, size_t nsets, af_config **out,
                            af_error *err)
{
    int rc = AF_OK;
    af_config *cfg = NULL;
    AF_CHECK(af_config_load_sets(pipeline_path, sets, nsets, &cfg, err));
    AF_CHECK(check_features(cfg, err));
    *out = cfg;
    cfg = NULL;
cleanup:
    if (rc != AF_OK) af_config_locate_error(cfg, err);
    af_config_destroy(&cfg);
    return rc;
}

int af__ctx_load(const char *pipeline_path, const char *const *sets, size_t nsets, af_ctx *ctx,
                 af_error *err)
{
    int rc = AF_OK;
    memset(ctx, 0, sizeof *ctx);
    AF_CHECK(af_pipeline_config_load(pipeline_path, sets, nsets, &ctx->cfg, err));
    AF_CHECK(af__ctx_load_rest(ctx, MPI_COMM_NULL, err));
cleanup:
    return rc;
}

/* MPI_Bcast from rank 0 of a length that may pass INT_MAX, waiting sleeping. */
static int bcast_bytes(unsigned char *p, size_t n, MPI_Comm comm)
{
    for (size_t off = 0; off < n; off += INT_MAX) {
        size_t c = n - off < (size_t)INT_MAX ? n - off : (size_t)INT_MAX;
        MPI_Request req;
        int rc = MPI_Ibcast(p + off, (int)c, MPI_BYTE, 0, comm, &req);
        if (rc == MPI_SUCCESS) rc = af_mpi_wait_idle(&req);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

/* The samples: read by rank 0 of comm and sent to the others, so the county layer is parsed and
 * reprojected once per run, not once per rank (MPI_COMM_NULL: read here). Collective on comm; a
 * rank that failed earlier (err set) still joins, and every rank returns the first failure. */
static int load_samples(af_ctx *ctx, MPI_Comm comm, af_error *err)
{
    int rc = AF_OK, rank = 0, size = 1;
    unsigned char *buf = NULL;
    size_t len = 0;
    af_sample_opts so;
    af_sample_opts_from_config(ctx->cfg, &so);
    if (comm != MPI_COMM_NULL) {
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_size(comm, &size);
    }
    if (size == 1) {
        if (err->code == AF_OK) af_sampleset_load(&so, &ctx->set, err);
        rc = err->code;
        goto cleanup;
    }
    if (rank == 0 && err->code == AF_OK && af_sampleset_load(&so, &ctx->set, err) == AF_OK)
        af_sampleset_pack(ctx->set, &buf, &len, err);
    AF_CHECK(af_error_sync(comm, err));
    unsigned long long n = len;
    AF_CHECK_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
    if (rank != 0) {
        len = (size_t)n;
        buf = malloc(len ? len : 1);
        if (!buf) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for %zu bytes of samples", len);
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(bcast_bytes(buf, len, comm));
    if (rank != 0) af_sampleset_unpack(buf, len, &ctx->set, err);
    AF_CHECK(af_error_sync(comm, err));
cleanup:
    free(buf);
    return rc;
}

int af__ctx_load_rest(af_ctx *ctx, MPI_Comm comm, af_error *err)
{
    int rc = AF_OK;
    af_config *cfg = ctx->cfg;
    if (af__settings_text(cfg, &ctx->settings, err) == AF_OK) {
        af__settings_sha256(ctx->settings, ctx->output_sha256);
        af_calendar_create(cfg->start, cfg->end, cfg->calendar, &ctx->cal, err);
    }
    AF_CHECK(load_samples(ctx, comm, err)); /* collective on comm, joined after a failure too */
    if (af_sampleset_count(ctx->set) == 0) AF_FAIL(AF_EINVAL, "%s: the pipeline selects no samples", cfg->path);
    AF_CHECK(af__ctx_describe(ctx, err));
cleanup:
    if (rc != AF_OK) af_config_locate_error(cfg, err);
    return rc;
}

static int describe(const af_config *cfg, af_var_desc *d, const af_feature_cfg *f, af_error *err)
{
    int rc = AF_OK;
    const af_source_kind *kind = af_source_kind_find(f->source);
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", f->name);
    snprintf(d->units, sizeof d->units, "%s", f->units);
    snprintf(d->long_name, sizeof d->long_name, "%s", f->long_name[0] ? f->long_name : f->name);
    snprintf(d->source, sizeof d->source, "%s", f->source);
    const char *su = af_config_get(f->section, "source_units");
    if (su && su[0]) snprintf(d->source_units, sizeof d->source_units, "%s", su);
    else if (kind && kind->source_units)
        AF_CHECK(kind->source_units(cfg, f, d->source_units, sizeof d->source_units, err));
    else snprintf(d->source_units, sizeof d->source_units, "%s", f->units);
    snprintf(d->sign, sizeof d->sign, "%s", f->sign);
cleanup:
    return rc;
}

/* Slot of the variable called name, or -1. */
static int find_slot(const af_var_desc *d, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(d[i].name, name)) return (int)i;
    return -1;
}

/* Record both halves of a scoped pair: "a|b" for source and source units when they differ
 * (the config has checked that units and sign agree). */
static void join_field(char *dst, size_t n, const char *add)
{
    if (!strcmp(dst, add)) return;
    size_t len = strlen(dst);
    snprintf(dst + len, n - len, "|%s", add);
}

static void join_desc(af_var_desc *d, const af_var_desc *o)
{
    join_field(d->source, sizeof d->source, o->source);
    join_field(d->source_units, sizeof d->source_units, o->source_units);
    if (strcmp(d->long_name, o->long_name)) join_field(d->long_name, sizeof d->long_name, o->long_name);
}

int af__ctx_describe(af_ctx *ctx, af_error *err)
{
    int rc = AF_OK;
    const af_config *cfg = ctx->cfg;
    size_t n = cfg->nfeatures;
    ctx->inputs = calloc(n ? n : 1, sizeof *ctx->inputs);
    ctx->targets = calloc(n ? n : 1, sizeof *ctx->targets);
    ctx->groups = calloc(n ? n : 1, sizeof *ctx->groups);
    AF_CHECK_ALLOC(ctx->inputs);
    AF_CHECK_ALLOC(ctx->targets);
    AF_CHECK_ALLOC(ctx->groups);
    for (size_t i = 0; i < n; i++) {
        const af_feature_cfg *f = &cfg->features[i];
        int slot = f->role == AF_ROLE_INPUT ? find_slot(ctx->inputs, ctx->ninputs, f->name)
                                            : find_slot(ctx->targets, ctx->ntargets, f->name);
        if (slot >= 0) {
            /* the @sites half of a NAME@counties / NAME@sites pair: same variable */
            af_var_desc *d = f->role == AF_ROLE_INPUT ? &ctx->inputs[slot] : &ctx->targets[slot];
            af_var_desc other;
            AF_CHECK(describe(cfg, &other, f, err));
            join_desc(d, &other);
        } else if (f->role == AF_ROLE_INPUT) {
            slot = (int)ctx->ninputs;
            AF_CHECK(describe(cfg, &ctx->inputs[ctx->ninputs++], f, err));
        } else {
            slot = (int)ctx->ntargets;
            AF_CHECK(describe(cfg, &ctx->targets[ctx->ntargets++], f, err));
        }
        const char *path = af_config_get(f->section, "path");
        af_group *g = NULL;
        for (size_t j = 0; j < ctx->ngroups && !g; j++) {
            const char *gp = af_config_get(ctx->groups[j].feats[0]->section, "path");
            if (!strcmp(ctx->groups[j].feats[0]->source, f->source) && gp && path && !strcmp(gp, path))
                g = &ctx->groups[j];
        }
        if (!g) {
            g = &ctx->groups[ctx->ngroups++];
            g->kind = af_source_kind_find(f->source);
            g->feats = calloc(n, sizeof *g->feats);
            g->slot = calloc(n, sizeof *g->slot);
            AF_CHECK_ALLOC(g->feats);
            AF_CHECK_ALLOC(g->slot);
        }
        g->feats[g->nfeat] = f;
        g->slot[g->nfeat] = slot;
        g->nfeat++;
    }
cleanup:
    return rc;
}

/* Whether groups that can split their reads by days do so on this many ranks ([pipeline] read_split):
 * auto takes days up to 4 ranks, where a block's chunks in time (6 for 366 days of gridMET) still give
 * every rank a share, and samples above, where each rank's own window keeps every rank busy. */
int af__read_split_days(const af_config *cfg, int nranks)
{
    if (nranks <= 1 || cfg->read_split == AF_READ_SPLIT_SAMPLES) return 0;
    return cfg->read_split == AF_READ_SPLIT_DAYS || nranks <= 4;
}

/* af_source_share.allgather over the run's communicator: counts, then the bytes; waits sleep. */
static int share_allgather(const af_source_share *sh, const void *mine, size_t n, void **all, size_t **counts,
                           af_error *err)
{
    int rc = AF_OK;
    MPI_Comm comm = *(const MPI_Comm *)sh->impl;
    int np = sh->nparts;
    long long mine_n = (long long)n, *ns = calloc((size_t)np, sizeof *ns);
    int *cnt = calloc((size_t)np, sizeof *cnt), *displ = calloc((size_t)np, sizeof *displ);
    *all = NULL;
    *counts = calloc((size_t)np, sizeof **counts);
    int ok = ns && cnt && displ && *counts, okall = 0;
    MPI_Request req;
    /* every rank joins both collectives: agree first that every rank can take part */
    AF_CHECK_MPI(MPI_Iallreduce(&ok, &okall, 1, MPI_INT, MPI_MIN, comm, &req));
    AF_CHECK_MPI(af_mpi_wait_idle(&req));
    if (!okall) AF_FAIL(AF_ENOMEM, "out of memory sharing the source descriptions");
    AF_CHECK_MPI(MPI_Iallgather(&mine_n, 1, MPI_LONG_LONG, ns, 1, MPI_LONG_LONG, comm, &req));
    AF_CHECK_MPI(af_mpi_wait_idle(&req));
    long long total = 0;
    for (int q = 0; q < np; q++) {
        displ[q] = (int)total;
        cnt[q] = (int)ns[q];
        (*counts)[q] = (size_t)ns[q];
        total += ns[q];
    }
    if (total > INT_MAX) AF_FAIL(AF_EINVAL, "the source descriptions of all ranks exceed 2 GiB (%lld bytes)", total);
    *all = malloc((size_t)total + 1);
    ok = *all != NULL;
    AF_CHECK_MPI(MPI_Iallreduce(&ok, &okall, 1, MPI_INT, MPI_MIN, comm, &req));
    AF_CHECK_MPI(af_mpi_wait_idle(&req));
    if (!okall) AF_FAIL(AF_ENOMEM, "out of memory for %lld bytes of source descriptions", total);
    AF_CHECK_MPI(MPI_Iallgatherv(mine, (int)n, MPI_BYTE, *all, cnt, displ, MPI_BYTE, comm, &req));
    AF_CHECK_MPI(af_mpi_wait_idle(&req));
cleanup:
    free(ns);
    free(cnt);
    free(displ);
    if (rc != AF_OK) {
        free(*all);
        free(*counts);
        *all = NULL;
        *counts = NULL;
    }
    return rc;
}

void af__ctx_share(af_ctx *ctx, MPI_Comm comm)
{
    int size = 1, rank = 0;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    ctx->comm = comm;
    ctx->share.nparts = size;
    ctx->share.part = rank;
    ctx->share.allgather = share_allgather;
    ctx->share.impl = &ctx->comm;
    ctx->dealt = 0;
    ctx->share.dealt = &ctx->dealt;
    ctx->sctx.share = size > 1 ? &ctx->share : NULL;
}

/* How a group opens: whole (kind->open), or in the two steps of a shared open (source.h: open_scan,
 * then open_join), which a kind with shares_open may offer. */
typedef enum open_step { OPEN_WHOLE, OPEN_SCAN, OPEN_JOIN } open_step;

static int two_step(const af_source_kind *kind)
{
    return kind->shares_open && kind->open_scan && kind->open_join;
}

/* One step of g's open, its CPU time counted in g->open_cpu. */
static int open_group(af_ctx *ctx, af_group *g, int split, open_step step, af_error *err)
{
    double c0 = af__cpu_seconds();
    int rc;
    if (step == OPEN_JOIN) {
        rc = g->kind->open_join(g->state, err);
    } else {
        g->split = split && g->kind->split_days && g->kind->fill_days;
        rc = (step == OPEN_SCAN ? g->kind->open_scan : g->kind->open)(g->split ? &ctx->sctx_all : &ctx->sctx,
                                                                     g->feats, g->nfeat, &g->state, err);
    }
    g->open_cpu += af__cpu_seconds() - c0;
    return rc;
}

int af__ctx_open_sources(af_ctx *ctx, af_range range, int split, af_error *err)
{
    int rc = AF_OK;
    const af_source_share *share = ctx->sctx.share;
    ctx->sctx.cfg = ctx->cfg;
    ctx->sctx.cal = ctx->cal;
    ctx->sctx.set = ctx->set;
    ctx->sctx.range = range;
    if (!ctx->memo) { /* out of memory here: no memo, every check made (no rank may leave the collectives) */
        af_error ignore = AF_ERROR_INIT;
        af_source_memo_create(&ctx->memo, &ignore);
    }
    ctx->sctx.memo = ctx->memo;
    ctx->sctx_all = ctx->sctx;
    ctx->sctx_all.range.begin = 0;
    ctx->sctx_all.range.end = af_sampleset_count(ctx->set);
    /* shared opens first, on every rank. Kinds that open in two steps describe their share of every
     * group before any exchange, then agree once (a configuration error of any of these groups is
     * reported before the files' errors); then each group's exchange and checks, agreeing after each
     * (an open fails alike on every rank, but what follows it in the group's open need not); then
     * the rest, each rank on its own */
    for (size_t j = 0; share && j < ctx->ngroups && err->code == AF_OK; j++) {
        af_group *g = &ctx->groups[j];
        if (two_step(g->kind)) open_group(ctx, g, split, OPEN_SCAN, err);
    }
    if (share) AF_CHECK(af_error_sync(ctx->comm, err));
    for (size_t j = 0; share && j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        if (!g->kind->shares_open) continue;
        open_group(ctx, g, split, two_step(g->kind) ? OPEN_JOIN : OPEN_WHOLE, err);
        rc = af_error_sync(ctx->comm, err);
        AF_CHECK(rc);
    }
    for (size_t j = 0; j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        if (share && g->kind->shares_open) continue;
        rc = open_group(ctx, g, split, OPEN_WHOLE, err);
        AF_CHECK(rc);
    }
cleanup:
    if (rc != AF_OK) af_config_locate_error(ctx->cfg, err);
    return rc;
}

double af__cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void af__ctx_dispose(af_ctx *ctx)
{
    if (!ctx) return;
    af_source_memo_destroy(&ctx->memo);
    for (size_t j = 0; j < ctx->ngroups; j++) {
        af_group *g = &ctx->groups[j];
        if (g->state && g->kind) g->kind->close(g->state);
        free(g->feats);
        free(g->slot);
        af__split_xchg_free(&g->xchg);
    }
    free(ctx->groups);
    free(ctx->inputs);
    free(ctx->targets);
    af_sampleset_destroy(&ctx->set);
    af_calendar_destroy(&ctx->cal);
    af_config_destroy(&ctx->cfg);
    free(ctx->settings);
    memset(ctx, 0, sizeof *ctx);
}

void af__ctx_layout(const af_ctx *ctx, af_layout *layout)
{
    const af_config *cfg = ctx->cfg;
    memset(layout, 0, sizeof *layout);
    layout->pipeline_name = cfg->name;
    layout->cal = ctx->cal;
    layout->samples = af_sampleset_get_ref(ctx->set, 0);
    layout->nsamples = af_sampleset_count(ctx->set);
    layout->inputs = ctx->inputs;
    layout->ninputs = ctx->ninputs;
    layout->targets = ctx->targets;
    layout->ntargets = ctx->ntargets;
    layout->shard_samples = cfg->shard_samples;
    layout->cdf5 = cfg->cdf5;
    layout->config_sha256 = ctx->output_sha256; /* the settings that fix the bytes, not block_days */
}
