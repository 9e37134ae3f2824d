/* SPDX-License-Identifier: MIT */
/*
 * plan.c: af_pipeline_plan, everything a run would check, without writing:
 * the config, every input file (each rank's sources are opened in turn for
 * the requested rank count), the samples, the partition, shards and bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "pipeline_impl.h"

/* Terms of the per-rank memory estimate (docs/hpc.md, "Memory"). Measured on Debian 12 / Open MPI 4.1:
 * a rank of a tiny run peaks at 59-65 MiB (MPI, GDAL, PROJ, PnetCDF, the config and samples); each
 * open shard adds about 0.3 MiB (PnetCDF header and MPI-IO state). A gridded variable keeps at most
 * two files open (a block across a year end), each with a netCDF chunk cache of at most
 * AF_GRIDDED_CHUNK_CACHE (2 MiB), plus its read piece and aggregation. */
#define MEM_BASE (64LL << 20)
#define MEM_PER_SHARD (512LL << 10)
#define MEM_PER_GRIDDED_VAR (2 * (2LL << 20) + (16LL << 20))
#define MEM_PER_SAMPLE_SOURCE (64LL << 10) /* per sample and non-gridded group: parsed rows, file lists */
/* Every rank holds the whole sample list and county polygons: calibrated on tests/mpi/test_limits.py
 * (6,000 samples, 3,000 counties: 148 MiB per rank measured, 124 MiB from the other terms). */
#define MEM_PER_RUN_SAMPLE (6LL << 10)
/* soil and cdl stream their rasters through one strip buffer at a time (raster_zonal.c: 16 MiB of
 * values, up to 32 MiB for one row of blocks of a wide tiled raster) plus a mask strip: counted once,
 * as the groups open one after the other. */
#define MEM_RASTER_STRIPS (48LL << 20)

static void estimate_memory(const af_ctx *ctx, af_plan *p)
{
    size_t nmax = 0, shmax = 0, S = p->shard_samples ? p->shard_samples : 1;
    for (int r = 0; r < p->nranks; r++) {
        size_t b = p->ranges[r].begin, e = p->ranges[r].end;
        if (e - b > nmax) nmax = e - b;
        size_t sh = e > b ? (e - 1) / S - b / S + 1 : 0;
        if (sh > shmax) shmax = sh;
    }
    int block = ctx->cfg->block_days < p->ndays ? ctx->cfg->block_days : p->ndays;
    size_t maxnf = 0, nfeat = 0;
    long long sources = 0;
    int strips = 0;
    for (size_t j = 0; j < ctx->ngroups; j++) {
        const af_group *g = &ctx->groups[j];
        nfeat += g->nfeat;
        if (g->nfeat > maxnf) maxnf = g->nfeat;
        if (!strcmp(g->kind->name, "soil") || !strcmp(g->kind->name, "cdl")) strips = 1;
        if (!strcmp(g->kind->name, "gridded")) sources += (long long)g->nfeat * MEM_PER_GRIDDED_VAR;
        if (g->kind->split_days && af__read_split_days(ctx->cfg, p->nranks)) {
            /* days split over ranks (split.c): this rank's days of every sample, as filled and as sent
             * (9 bytes per feature each), site values (8) and county statistics (5 x 8, counted per
             * sample as an upper bound); up to twice the even share of the block (whole chunks) */
            long long share = 2LL * ((block + p->nranks - 1) / p->nranks);
            if (share > block) share = block;
            sources += share * (long long)p->nsamples * (18LL * (long long)g->nfeat + 48LL);
        }
        else sources += (long long)nmax * MEM_PER_SAMPLE_SOURCE;
    }
    if (strips) sources += MEM_RASTER_STRIPS;
    long long cells = (long long)nmax * block;
    /* x, x_qc: 4 + 4 bytes per input; y, y_qc, y_valid: 9 per target; a group's fill arrays: 9 per feature */
    p->mem_block = cells * (8LL * (long long)ctx->ninputs + 9LL * (long long)ctx->ntargets + 9LL * (long long)maxnf);
    p->mem_base = MEM_BASE + (long long)p->nsamples * MEM_PER_RUN_SAMPLE;
    p->mem_shards = (long long)shmax * MEM_PER_SHARD;
    p->mem_sources = sources;
    p->max_shards_per_rank = shmax;
    p->mem_per_rank = p->mem_base + p->mem_block + p->mem_shards + p->mem_sources;
    /* coverage_acct.c on rank 0: one feature's [samples][years][2] ints, and coverage.json's
     * per_sample tables as text (two counts per feature, sample and year, ~5 bytes each) */
    long long sy = (long long)p->nsamples * (long long)(p->end.year - p->start.year + 1);
    p->mem_rank0 = sy * (8LL + 10LL * (long long)nfeat);
}

int af_pipeline_plan(const char *pipeline_path, int nranks, af_plan *out, af_error *err)
{
    return af_pipeline_plan_sets(pipeline_path, NULL, 0, nranks, out, err);
}

int af_pipeline_plan_sets(const char *pipeline_path, const char *const *sets, size_t nsets, int nranks,
                          af_plan *out, af_error *err)
{
    int rc = AF_OK;
    af_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    memset(out, 0, sizeof *out);
    AF_CHECK_ARG(nranks >= 1);
    AF_CHECK(af__ctx_load(pipeline_path, sets, nsets, &ctx, err));
    const af_config *cfg = ctx.cfg;
    snprintf(out->name, sizeof out->name, "%s", cfg->name);
    snprintf(out->outdir, sizeof out->outdir, "%s", cfg->output);
    snprintf(out->calendar, sizeof out->calendar, "%s", af_calendar_kind_name(cfg->calendar));
    out->start = cfg->start;
    out->end = cfg->end;
    out->ndays = af_calendar_ndays(ctx.cal);
    out->nsamples = af_sampleset_count(ctx.set);
    out->ncounties = af_sampleset_ncounties(ctx.set);
    out->nsites = af_sampleset_nsites(ctx.set);
    for (size_t i = 0; i < out->nsamples; i++) {
        if (af_sampleset_get_ref(ctx.set, i)->kind == AF_SAMPLE_COUNTY) out->ncounty_samples++;
        else out->nsite_samples++;
    }
    out->nranks = nranks;
    out->ranges = calloc((size_t)nranks, sizeof *out->ranges);
    AF_CHECK_ALLOC(out->ranges);
    AF_CHECK(af_sampleset_partition(ctx.set, nranks, out->ranges, err));
    out->shard_samples = cfg->shard_samples;
    out->nshards = af_output_nshards(out->nsamples, cfg->shard_samples);
    af_layout layout;
    af__ctx_layout(&ctx, &layout);
    out->est_bytes = af_output_estimate_bytes(&layout);
    out->features = calloc(cfg->nfeatures ? cfg->nfeatures : 1, sizeof *out->features);
    AF_CHECK_ALLOC(out->features);
    out->nfeatures = cfg->nfeatures;
    for (size_t i = 0; i < cfg->nfeatures; i++) {
        af_plan_feature *pf = &out->features[i];
        snprintf(pf->name, sizeof pf->name, "%s", cfg->features[i].name);
        pf->is_target = cfg->features[i].role == AF_ROLE_TARGET;
        snprintf(pf->source, sizeof pf->source, "%s", cfg->features[i].source);
        snprintf(pf->units, sizeof pf->units, "%s", cfg->features[i].units);
    }
    /* Open every rank's sources once, as the run would, and count files per feature. */
    af_range all = { 0, out->nsamples };
    AF_CHECK(af__ctx_open_sources(&ctx, all, 0, err));
    for (size_t j = 0; j < ctx.ngroups; j++) {
        const char *const *paths;
        size_t np = 0;
        AF_CHECK(ctx.groups[j].kind->files(ctx.groups[j].state, &paths, &np, err));
        for (size_t k = 0; k < ctx.groups[j].nfeat; k++)
            for (size_t i = 0; i < cfg->nfeatures; i++)
                if (ctx.groups[j].feats[k] == &cfg->features[i]) out->features[i].nfiles = np;
    }
    estimate_memory(&ctx, out);
cleanup:
    af__ctx_dispose(&ctx);
    if (rc != AF_OK) af_plan_dispose(out);
    return rc;
}

void af_plan_dispose(af_plan *plan)
{
    if (!plan) return;
    free(plan->ranges);
    free(plan->features);
    plan->ranges = NULL;
    plan->features = NULL;
}
