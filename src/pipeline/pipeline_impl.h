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

/* split.c: a split group's share of one block, filled and packed per destination, waiting for
 * the exchange (af__split_fill_mine to af__split_exchange). */
typedef struct af_split_xchg {
    int *part;                     /* [nt]: the rank filling each day */
    int *nd;                       /* [size]: days each rank fills */
    int *cnt;                      /* [6 size]: counts and displacements */
    unsigned char *sbuf, *rbuf;    /* packed values, qc and valid bytes, sent and to receive */
} af_split_xchg;

typedef struct af_group {
    const af_source_kind *kind;
    const af_feature_cfg **feats;  /* borrowed from cfg */
    size_t nfeat;
    int *slot;                     /* per feature: index in inputs or targets */
    void *state;
    double open_cpu, fill_cpu;     /* this rank's CPU seconds in open and fill (debug log) */
    double exchange_cpu;           /* of fill_cpu: agreeing and exchanging (split groups) */
    int split;                     /* opened on every sample, days divided over the ranks (split.c) */
    af_split_xchg xchg;            /* split: the current block's share, between fill and exchange */
} af_group;

typedef struct af_ctx {
    af_config *cfg;
    af_calendar *cal;
    af_sampleset *set;
    af_source_ctx sctx;
    af_source_ctx sctx_all;        /* the same over every sample: groups whose days split over ranks */
    af_group *groups;
    size_t ngroups;
    af_var_desc *inputs, *targets;
    size_t ninputs, ntargets;
    MPI_Comm comm;                 /* the run's, for shared opens (af__ctx_share); MPI_COMM_NULL: none */
    af_source_share share;         /* what sctx.share points to once af__ctx_share set it */
    af_source_memo *memo;          /* checks passed in this run (sctx.memo), created with the sources */
    size_t dealt;                  /* share.dealt */
    char *settings;                /* settings.c: what fixes the output, "section.key=value" lines */
    char output_sha256[65];        /* its SHA-256: the shards' config_sha256 attribute */
} af_ctx;

/* ---- settings.c: the settings that fix the output bytes (performance-only keys left out) ---- */
int af__settings_is_perf_key(const char *section, const char *key);
/** "section.key=value\n" per entry in file order (overrides applied), less performance-only keys. */
int af__settings_text(const af_config *cfg, char **out, af_error *err);
int af__settings_sha256(const char *text, char hex[65]);
/** Name the first key whose value differs between two settings texts, into why. */
void af__settings_diff(const char *journaled, const char *current, char *why, size_t nwhy);

/** Load config, calendar and samples (not collective). */
int af__ctx_load(const char *pipeline_path, const char *const *sets, size_t nsets, af_ctx *ctx,
                 af_error *err);
/** The part of af__ctx_load after the config is in ctx->cfg. Collective on comm (MPI_COMM_NULL:
 * not collective): rank 0 reads the samples and sends them to the others. */
int af__ctx_load_rest(af_ctx *ctx, MPI_Comm comm, af_error *err);
/** Group the features and describe inputs/targets (not collective). */
int af__ctx_describe(af_ctx *ctx, af_error *err);
/** Open every group's source for samples [range). split: a group whose kind divides its work by
 * days (split_days) is opened on every sample instead and filled through af__split_fill_mine and
 * af__split_exchange. */
int af__read_split_days(const af_config *cfg, int nranks);
int af__ctx_open_sources(af_ctx *ctx, af_range range, int split, af_error *err);
/** Let kinds with shares_open divide their open over the ranks of comm (more than one rank;
 * af__ctx_open_sources then is collective: every rank calls it, after agreeing on earlier errors). */
void af__ctx_share(af_ctx *ctx, MPI_Comm comm);
void af__ctx_dispose(af_ctx *ctx);
/** Not collective (split.c). Fill split group g for this rank's share of days [t0, t0+nt) for every
 * sample, and pack the values per destination rank into g->xchg. load[size]: work given to each
 * rank in this block so far (shared by the block's split groups). Does nothing on an error already
 * in err (g->xchg stays empty). The ranks then agree on the errors (af_error_sync) before any
 * af__split_exchange. */
int af__split_fill_mine(MPI_Comm comm, const af_range *ranges, af_group *g, int t0, int nt, double *load,
                        af_error *err);
/** Collective, after every rank's af__split_fill_mine of g succeeded: move each (sample, day) to the
 * rank owning the sample, into [nlocal][nt][nfeat] (val, valid, qc). Frees g->xchg. */
int af__split_exchange(MPI_Comm comm, const af_range *ranges, af_group *g, int nt, float *val, unsigned char *valid,
                       float *qc, af_error *err);
void af__split_xchg_free(af_split_xchg *x);
/** CPU seconds of this process so far (per-group timing in the debug log). */
double af__cpu_seconds(void);
/** The output layout of a loaded context (pointers borrowed from ctx). */
void af__ctx_layout(const af_ctx *ctx, af_layout *layout);

/** Collective. Write OUTDIR/provenance.json: every input file of every rank, deduplicated, with
 * size and SHA-256, hashed spread over ranks; the same file for any rank count. ref (same on every
 * rank) describes it for the index. */
int af__provenance_write(MPI_Comm comm, const af_ctx *ctx, const char *outdir, af_prov_ref *ref,
                         af_error *err);

/* ---- coverage_acct.c: valid sample-days per feature, sample and year; warnings; coverage.json ---- */
typedef struct af_cov_acct af_cov_acct;
/** Not collective. The accounting of this rank's samples [range); min_fraction is the threshold. */
int af__cov_create(const af_ctx *ctx, af_range range, double min_fraction, af_cov_acct **out, af_error *err);
/** Count a filled block of days [t0, t0+nt): x [nlocal][nt][ninputs], yvalid [nlocal][nt][ntargets]. */
void af__cov_count_block(af_cov_acct *a, const af_ctx *ctx, int t0, int nt, const float *x,
                         const unsigned char *yvalid);
/** Not collective. A resumed run: count days [0, days_done) of this rank's samples read back from
 * OUTDIR's shards (shard-NNNNN.nc + suffix: ".partial" to continue, "" to publish; blocks of `block` days). */
int af__cov_count_written(af_cov_acct *a, const af_ctx *ctx, const char *outdir, const char *suffix,
                          size_t shard_samples, int days_done, int block, af_error *err);
/**
 * Collective. Gather the counts on rank 0 (fixed order), log the warnings, count them on every rank;
 * with strict, any warning is an error (same on every rank). Rank 0 gets coverage.json's text in
 * *json_text (caller frees), NULL elsewhere.
 */
int af__cov_report(MPI_Comm comm, af_cov_acct *a, const af_ctx *ctx, const af_range *ranges, int strict,
                   char **json_text, af_error *err);
/** Warning counts by kind (AF_COV_*), the same on every rank after af__cov_report. */
void af__cov_counts(const af_cov_acct *a, long long out[AF_COV_NWARN]);
size_t af__cov_nfeat(const af_cov_acct *a);
/** Rank 0. Write OUTDIR/coverage.json atomically; ref describes it for the index. */
int af__cov_write(const char *outdir, const char *text, size_t nfeat, af_prov_ref *ref, af_error *err);
void af__cov_destroy(af_cov_acct **a);

/* ---- journal.c: resumable state in OUTDIR/journal.json (rank 0 writes) ---- */
typedef struct af_journal {
    char config_sha256[65];
    char output_sha256[65];        /* settings that fix the output ("" in journals before it) */
    char *settings;                /* their text (owned; NULL when absent) */
    char layout_sha256[65];
    int ndays, days_done;
    int sealed;                    /* shards closed and hashed, listed below */
    af_shard_info *shards;
    size_t nshards;
    /* checks, one segment per checkpoint: segment i covers days [seg_end[i-1] (0 for i = 0), seg_end[i]) */
    int nseg;
    int *seg_end;                  /* [nseg] */
    size_t ncheck;                 /* shards checked (0: none recorded yet) */
    long long *check_bytes;        /* [ncheck] .partial size at the last checkpoint */
    char (*check_static)[65];      /* [ncheck] header and static variables */
    char (*check_seg)[65];         /* [nseg * ncheck]: segment i of shard k at i * ncheck + k */
} af_journal;

/** SHA-256 of everything that fixes the shards' layout (samples, variables, calendar, format). */
int af__layout_sha256(const af_layout *l, char hex[65], af_error *err);
int af__journal_path(const char *outdir, char *out, size_t n, af_error *err);
/** Atomic rewrite (temp, fsync, rename). */
int af__journal_write(const char *outdir, const af_journal *j, af_error *err);
/** AF_ENOTFOUND when absent, AF_EFORMAT naming the field when malformed. */
int af__journal_read(const char *outdir, af_journal *j, af_error *err);
int af__journal_remove(const char *outdir, af_error *err);
void af__journal_dispose(af_journal *j);
/** Parse journal text (path names it in errors); same rules as af__journal_read. */
int af__journal_parse(const char *text, const char *path, af_journal *j, af_error *err);
/** Append a checkpoint's segment (days up to day_end) with its shard digests (static ones on the first). */
int af__journal_add_checks(af_journal *j, int day_end, const af_shard_digest *d, size_t n, af_error *err);
/** Keep only the first nseg segments (nseg = 0 drops every check). */
void af__journal_keep_checks(af_journal *j, int nseg);

/* ---- resume.c: how a run starts ---- */
typedef enum af_start_mode {
    AF_START_FRESH = 0,    /* create every shard, from the first day */
    AF_START_CONTINUE = 1, /* reopen the .partial shards, continue at days_done */
    AF_START_PUBLISH = 2   /* shards are complete and verified; publish the index */
} af_start_mode;

typedef struct af_start {
    af_start_mode mode;
    int days_done;
    af_shard_info *shards;         /* PUBLISH: the journaled shards, same on every rank */
    size_t nshards;
} af_start;

/**
 * Collective. Decide how the run starts from the journal (rank 0 reads it and logs
 * the reason for any start-over); in PUBLISH mode, rank 0 renames the verified
 * .partial files to their final names. Same result on every rank.
 */
int af__resume_decide(MPI_Comm comm, const char *outdir, const af_layout *l, const char *settings, int want_resume,
                      af_start *out, af_error *err);

/* ---- resume_check.c: a journal is trusted only as far as the .partial files match it ---- */
/**
 * Collective, after af__resume_decide chose CONTINUE. Every rank checks shards r, r+P, ...
 * against the journal's checks (size, static digest, each segment's digest); st->days_done
 * becomes the end of the last segment that verifies in every shard (FRESH when none does,
 * or when the journal records no checks), and rank 0 logs every mismatch. On return every
 * rank holds the journal with only the verified segments in *kept (caller disposes).
 */
int af__resume_verify(MPI_Comm comm, const char *outdir, const af_layout *l, af_start *st, af_journal *kept,
                      af_error *err);

/* ---- outdir.c: where a run writes, and the swap that publishes a rerun (rank 0) ---- */
typedef struct af_outdir {
    char final[4096];              /* --output, else [pipeline] output */
    char work[4200];               /* where this run writes: final, or final + ".agroflux-next" */
    int staged;                    /* final holds a complete output: work beside it, swap at publish */
} af_outdir;

/**
 * Rank 0. Create or check the output directory: refuse (AF_EINVAL) a non-empty one agroflux did
 * not write unless force; a complete output (index.json) makes the run staged (a fresh work
 * directory beside it, kept for --resume when it holds a journal); otherwise shards numbered
 * nshards or more are removed. Writes the marker file in the work directory.
 */
int af__outdir_prepare(const char *final, int force, int resume, size_t nshards, af_outdir *od, af_error *err);
/** Rank 0, after the index is in od->work: a staged run swaps it with od->final and removes the old output. */
int af__outdir_publish(const af_outdir *od, af_error *err);

/* ---- progress.c: rank 0's progress reports and OUTDIR/progress.json ---- */
typedef struct af_progress_tracker {
    af_progress p;
    const af_run_opts *opts;
    char path[4400];               /* progress.json; "" on ranks other than 0 */
    double t_start, t_loop, t_last;
    int days_loop;                 /* days done when this run's block loop began */
    int warned;
} af_progress_tracker;

void af__progress_init(af_progress_tracker *t, MPI_Comm comm, const af_run_opts *opts, double t_start);
/** Once the layout is known (rank 0 learns where to write progress.json). */
void af__progress_layout(af_progress_tracker *t, const char *outdir, const char *pipeline, size_t nsamples,
                         int ndays, int days_done);
/** Rank 0: report if forced or progress_interval has passed. No-op elsewhere. */
void af__progress_report(af_progress_tracker *t, const char *state, const char *stage, int days_done,
                         int force);

#endif
