/* SPDX-License-Identifier: MIT */
/*
 * progress.c: what rank 0 tells the user and the job monitor while a run goes.
 * At most every progress_interval seconds (and at every state change) it calls
 * the caller's callback (the CLI prints a live line or a log line) and rewrites
 * OUTDIR/progress.json atomically:
 *   {"pipeline", "state", "stage", "days_done", "days_total", "samples",
 *    "sample_days_done", "sample_days_total", "fraction", "elapsed_seconds",
 *    "sample_days_per_second", "eta_seconds" (null when unknown),
 *    "resumed_from_day", "ranks", "updated" (UTC ISO-8601)}
 * A progress file that cannot be written is a warning, never a failure.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"

void af__progress_init(af_progress_tracker *t, MPI_Comm comm, const af_run_opts *opts, double t_start)
{
    memset(t, 0, sizeof *t);
    t->opts = opts;
    t->t_start = t->t_loop = t_start;
    t->t_last = -1e30;
    MPI_Comm_size(comm, &t->p.ranks);
    int rank;
    MPI_Comm_rank(comm, &rank);
    t->p.eta = -1;
    t->p.pipeline = "";
    t->p.state = "running";
    t->p.stage = "setup";
    t->days_loop = rank == 0 ? 0 : -1; /* -1 marks "not rank 0": reports are no-ops */
}

void af__progress_layout(af_progress_tracker *t, const char *outdir, const char *pipeline, size_t nsamples,
                         int ndays, int days_done)
{
    if (t->days_loop < 0) return;
    af_error ignore = AF_ERROR_INIT;
    if (af_path_join(outdir, AF_PROGRESS_NAME, t->path, sizeof t->path, &ignore) != AF_OK) t->path[0] = '\0';
    t->p.pipeline = pipeline;
    t->p.nsamples = nsamples;
    t->p.ndays = ndays;
    t->p.days_done = days_done;
    t->p.resumed_from_day = days_done;
    t->days_loop = days_done;
    t->t_loop = MPI_Wtime();
}

static void write_file(af_progress_tracker *t)
{
    const af_progress *p = &t->p;
    char updated[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(updated, sizeof updated, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    double total = (double)p->nsamples * p->ndays, done = (double)p->nsamples * p->days_done;
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:o, s:i, s:i, s:s}",
                          "pipeline", p->pipeline, "state", p->state, "stage", p->stage, "days_done",
                          p->days_done, "days_total", p->ndays, "samples", (json_int_t)p->nsamples,
                          "sample_days_done", done, "sample_days_total", total, "fraction",
                          total > 0 ? done / total : 0.0, "elapsed_seconds", p->elapsed,
                          "sample_days_per_second", p->rate, "eta_seconds",
                          p->eta >= 0 ? json_real(p->eta) : json_null(), "resumed_from_day",
                          p->resumed_from_day, "ranks", p->ranks, "updated", updated);
    char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
    af_error e = AF_ERROR_INIT;
    if (!text || af_write_atomic(t->path, text, strlen(text), &e) != AF_OK) {
        if (!t->warned)
            af_log(AF_LOG_WARN, "progress", "cannot write %s: %s", t->path, text ? e.msg : "out of memory");
        t->warned = 1;
    }
    free(text);
    json_decref(o);
}

void af__progress_report(af_progress_tracker *t, const char *state, const char *stage, int days_done,
                         int force)
{
    if (t->days_loop < 0) return;
    double now = MPI_Wtime();
    double interval = t->opts ? t->opts->progress_interval : 10.0;
    t->p.state = state;
    t->p.stage = stage;
    t->p.days_done = days_done;
    if (!force && now - t->t_last < interval) return;
    t->t_last = now;
    t->p.elapsed = now - t->t_start;
    double dt = now - t->t_loop;
    double done = (double)(days_done - t->days_loop) * (double)t->p.nsamples;
    t->p.rate = dt > 0 && done > 0 ? done / dt : 0.0;
    double left = (double)(t->p.ndays - days_done) * (double)t->p.nsamples;
    t->p.eta = left <= 0 ? 0.0 : t->p.rate > 0 ? left / t->p.rate : -1.0;
    if (t->path[0]) write_file(t);
    if (t->opts && t->opts->progress) t->opts->progress(&t->p, t->opts->progress_payload);
}
