/* SPDX-License-Identifier: MIT */
/*
 * pipeline_impl.h: the run context shared by setup.c, run.c, plan.c and
 * provenance.c: the loaded config, calendar, samples, this rank's range and
 * the open source groups (features of one kind reading one path).
 */
#ifndef AF_PIPELINE_IMPL_H
#define AF_PIPELINE_IMPL_H

#include "agroflux/calendar.h"
#include "agroflux/config.h"
#include "agroflux/index.h"
#include "agroflux/output.h"
#include "agroflux/pipeline.h"
#include "agroflux/samples.h"
#include "agroflux/source.h"

typedef struct af_group {
    const af_source_kind *kind;
    const af_feature_cfg **feats;  /* borrowed from cfg */
    size_t nfeat;
    int *slot;                     /* per feature: index in inputs or targets */
    void *state;
} af_group;

typedef struct af_ctx {
    af_config *cfg;
    af_calendar *cal;
    af_sampleset *set;
    af_source_ctx sctx;
    af_group *groups;
    size_t ngroups;
    af_var_desc *inputs, *targets;
    size_t ninputs, ntargets;
} af_ctx;

/** Load config, calendar and samples (not collective). */
int af__ctx_load(const char *pipeline_path, af_ctx *ctx, af_error *err);
/** The part of af__ctx_load after the config is in ctx->cfg. */
int af__ctx_load_rest(af_ctx *ctx, af_error *err);
/** Group the features and describe inputs/targets (not collective). */
int af__ctx_describe(af_ctx *ctx, af_error *err);
/** Open every group's source for samples [range). */
int af__ctx_open_sources(af_ctx *ctx, af_range range, af_error *err);
void af__ctx_dispose(af_ctx *ctx);
/** The output layout of a loaded context (pointers borrowed from ctx). */
void af__ctx_layout(const af_ctx *ctx, af_layout *layout);

/** Collective. Gather every rank's input files, hash them spread over ranks; same result everywhere. */
int af__provenance_collect(MPI_Comm comm, const af_ctx *ctx, af_prov_file **out, size_t *n,
                           af_error *err);

#endif
