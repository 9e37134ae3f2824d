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
    AF_CHECK(af__ctx_open_sources(&ctx, all, err));
    for (size_t j = 0; j < ctx.ngroups; j++) {
        const char *const *paths;
        size_t np = 0;
        AF_CHECK(ctx.groups[j].kind->files(ctx.groups[j].state, &paths, &np, err));
        for (size_t k = 0; k < ctx.groups[j].nfeat; k++)
            for (size_t i = 0; i < cfg->nfeatures; i++)
                if (ctx.groups[j].feats[k] == &cfg->features[i]) out->features[i].nfiles = np;
    }
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
