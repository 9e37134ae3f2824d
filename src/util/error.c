/* SPDX-License-Identifier: MIT */
/*
 * error.c: implements agroflux/error.h: recording, formatting and the
 * collective agreement (af_error_sync) that lets every rank leave a stage
 * together with the lowest failing rank's message, and the MPI helpers it
 * rests on (sleeping waits, the MPI tuning set before MPI_Init).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agroflux/error.h"

void af_error_clear(af_error *err)
{
    if (!err) return;
    err->code = AF_OK;
    err->rank = -1;
    err->msg[0] = '\0';
    err->nframes = 0;
}

/* "cannot open 'x': " (a library gave an empty reason) becomes "cannot open 'x': no reason given". */
static void no_empty_reason(char *msg, size_t cap)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t' || msg[n - 1] == '\n')) n--;
    if (n == 0 || msg[n - 1] != ':') return;
    snprintf(msg + n, cap - n, " no reason given");
}

int af_error_set(af_error *err, int code, const char *file, int line, const char *func,
                 const char *fmt, ...)
{
    if (!err) return code;
    va_list ap;
    err->code = code;
    int initialized = 0;
    MPI_Initialized(&initialized);
    err->rank = -1;
    if (initialized) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Comm_rank(MPI_COMM_WORLD, &err->rank);
    }
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    no_empty_reason(err->msg, sizeof err->msg);
    err->nframes = 0;
    af_error_push(err, file, line, func);
    return code;
}

void af_error_prefix(af_error *err, const char *fmt, ...)
{
    if (!err || err->code == AF_OK) return;
    char ctx[AF_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    size_t n = strlen(ctx), m = strlen(err->msg), cap = sizeof err->msg;
    if (n == 0 || (!strncmp(err->msg, ctx, n) && err->msg[n] == ':')) return;
    if (n + 2 + m >= cap) m = cap - n - 3; /* keep the start of the old message */
    memmove(err->msg + n + 2, err->msg, m);
    err->msg[n + 2 + m] = '\0';
    memcpy(err->msg, ctx, n);
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
}

void af_error_push(af_error *err, const char *file, int line, const char *func)
{
    if (!err || err->nframes >= AF_ERROR_MAX_FRAMES) return;
    err->frames[err->nframes].file = file;
    err->frames[err->nframes].line = line;
    err->frames[err->nframes].func = func;
    err->nframes++;
}

const char *af_status_name(int code)
{
    switch (code) {
    case AF_OK: return "AF_OK";
    case AF_ENOMEM: return "AF_ENOMEM";
    case AF_EINVAL: return "AF_EINVAL";
    case AF_EIO: return "AF_EIO";
    case AF_ENOTFOUND: return "AF_ENOTFOUND";
    case AF_ECONFIG: return "AF_ECONFIG";
    case AF_EFORMAT: return "AF_EFORMAT";
    case AF_EUNITS: return "AF_EUNITS";
    case AF_ECRS: return "AF_ECRS";
    case AF_EGDAL: return "AF_EGDAL";
    case AF_EPROJ: return "AF_EPROJ";
    case AF_ENC: return "AF_ENC";
    case AF_EMPI: return "AF_EMPI";
    case AF_EVERIFY: return "AF_EVERIFY";
    case AF_EINTERRUPTED: return "AF_EINTERRUPTED";
    case AF_EINTERNAL: return "AF_EINTERNAL";
    default: return "AF_E?";
    }
}

void af_error_format(const af_error *err, int with_frames, char *buf, size_t bufsize)
{
    if (!buf || bufsize == 0) return;
    buf[0] = '\0';
    if (!err) return;
    size_t used = 0;
    int n = snprintf(buf, bufsize, "error: %s", err->msg);
    if (n < 0) return;
    used = (size_t)n < bufsize ? (size_t)n : bufsize - 1;
    if (!with_frames) return;
    for (int i = 0; i < err->nframes && used + 1 < bufsize; i++) {
        const af_error_frame *f = &err->frames[i];
        n = snprintf(buf + used, bufsize - used, "\n  #%d %s() at %s:%d", i, f->func ? f->func : "?",
                     f->file ? f->file : "?", f->line);
        if (n < 0) return;
        used += (size_t)n < bufsize - used ? (size_t)n : bufsize - used - 1;
    }
}

/* A partner that is already there answers within microseconds, but a large message needs both
 * sides to poll through its rendezvous: sleeping from the first test added up to a millisecond to
 * every step of it (~0.2 s of a 2 s run on 2 ranks: the day-split exchange and the error
 * agreements, ~300 waits). So poll for AF_WAIT_SPIN_S first, then sleep in steps that grow to
 * AF_WAIT_SLEEP_MAX_NS, which bounds the oversleep of a long wait (a rank ahead of the others). */
#define AF_WAIT_SPIN_S 100e-6
#define AF_WAIT_SLEEP_MIN_NS 20000L
#define AF_WAIT_SLEEP_MAX_NS 200000L

int af_mpi_wait_idle(MPI_Request *req)
{
    double t0 = MPI_Wtime();
    long ns = AF_WAIT_SLEEP_MIN_NS;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || done) return rc;
        if (MPI_Wtime() - t0 < AF_WAIT_SPIN_S) continue;
        struct timespec ts = { 0, ns };
        nanosleep(&ts, NULL);
        if (ns < AF_WAIT_SLEEP_MAX_NS) ns = ns * 2 < AF_WAIT_SLEEP_MAX_NS ? ns * 2 : AF_WAIT_SLEEP_MAX_NS;
    }
}

void af_mpi_init_defaults(void)
{
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
}

int af_error_sync(MPI_Comm comm, af_error *err)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = (err && err->code != AF_OK) ? rank : size;
    int first = size;
    MPI_Request req;
    if (MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm, &req) == MPI_SUCCESS) af_mpi_wait_idle(&req);
    if (first == size) return AF_OK;
    /* Broadcast the lowest failing rank's error so rank 0 can report it once. */
    int code = (rank == first && err) ? err->code : 0;
    char msg[AF_ERROR_MSG_MAX];
    if (rank == first && err) memcpy(msg, err->msg, sizeof msg);
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, comm);
    if (err && rank != first) {
        err->code = code;
        err->rank = first;
        memcpy(err->msg, msg, sizeof msg);
        err->msg[sizeof err->msg - 1] = '\0';
        err->nframes = 0;
    } else if (err) {
        err->rank = first;
    }
    return code;
}
