/* SPDX-License-Identifier: MIT */
/*
 * split.c: the fill of a group whose work divides by days rather than by samples
 * (source kinds with split_days / fill_days, e.g. gridded: its compressed chunks
 * span every county, so splitting samples would have every rank decode every
 * chunk). On more than one rank such a group is opened on every sample; per
 * block each rank fills every sample for its share of the days, and one
 * MPI_Alltoallv per array moves each (sample, day) to the rank owning the
 * sample. Each value is computed exactly as the per-sample fill computes it, so
 * the output does not depend on the rank count. Collective over the run's
 * communicator: every rank calls it for the same groups in the same order, and
 * a failure on any rank (also an earlier one, passed in err) is agreed on
 * before the exchange. Waits for other ranks sleep instead of spinning
 * (af__wait_idle): Open MPI polls in blocking calls, which burns the CPU a
 * rank ahead of the others would leave to them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_check.h"
#include "log.h"
#include "pipeline_impl.h"

int af__wait_idle(MPI_Request *req)
{
    long ns = 20000; /* 20 us, doubling to 1 ms */
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || done) return rc;
        struct timespec ts = { 0, ns };
        nanosleep(&ts, NULL);
        if (ns < 1000000) ns *= 2;
    }
}

int af__barrier_idle(MPI_Comm comm)
{
    MPI_Request req;
    int rc = MPI_Ibarrier(comm, &req);
    return rc == MPI_SUCCESS ? af__wait_idle(&req) : rc;
}

/* MPI_Alltoallv, waiting without spinning. */
static int alltoallv_idle(const void *sb, const int *sc, const int *sd, MPI_Datatype t, void *rb, const int *rcnt,
                          const int *rd, MPI_Comm comm)
{
    MPI_Request req;
    int rc = MPI_Ialltoallv(sb, sc, sd, t, rb, rcnt, rd, t, comm, &req);
    return rc == MPI_SUCCESS ? af__wait_idle(&req) : rc;
}

/* Per part q: how many of the block's days it fills (nd[q]). */
static int count_parts(const af_group *g, const int *part, int t0, int nt, int size, int *nd, af_error *err)
{
    int rc = AF_OK;
    for (int q = 0; q < size; q++) nd[q] = 0;
    for (int t = 0; t < nt; t++) {
        if (part[t] < 0 || part[t] >= size)
            AF_FAIL(AF_EINTERNAL, "source %s ([%s]): day %d given to part %d of %d", g->kind->name,
                    g->feats[0]->section->name, t0 + t, part[t], size);
        nd[part[t]]++;
    }
cleanup:
    return rc;
}

/* Counts and displacements of one exchange, in elements of nfeat values: sent, my days of the samples
 * of rank q (contiguous, since the fill is sample-major); received, q's days of my samples. */
static int exchange_counts(const af_range *ranges, int rank, int size, const int *nd, size_t nf, int *sc, int *sd,
                           int *rcnt, int *rd, af_error *err)
{
    int rc = AF_OK;
    size_t nlocal = ranges[rank].end - ranges[rank].begin, roff = 0;
    for (int q = 0; q < size; q++) {
        size_t s = (ranges[q].end - ranges[q].begin) * (size_t)nd[rank] * nf;
        size_t so = ranges[q].begin * (size_t)nd[rank] * nf;
        size_t r = nlocal * (size_t)nd[q] * nf;
        if (s > INT_MAX || so > INT_MAX || r > INT_MAX || roff > INT_MAX)
            AF_FAIL(AF_EINVAL, "a block of %d days is too large to exchange (over 2^31 values): lower block_days",
                    nd[rank]);
        sc[q] = (int)s;
        sd[q] = (int)so;
        rcnt[q] = (int)r;
        rd[q] = (int)roff;
        roff += r;
    }
cleanup:
    return rc;
}

int af__split_fill(MPI_Comm comm, const af_range *ranges, af_group *g, int t0, int nt, double *load, float *val,
                   unsigned char *valid, float *qc, af_error *err)
{
    int rc = AF_OK, rank, size;
    int *part = NULL, *nd = NULL, *cnt = NULL;
    float *mv = NULL, *mq = NULL, *rv = NULL, *rq = NULL;
    unsigned char *mk = NULL, *rk = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t nf = g->nfeat, nall = ranges[size - 1].end, nlocal = ranges[rank].end - ranges[rank].begin;
    if (err->code == AF_OK) {
        part = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *part);
        nd = calloc((size_t)size, sizeof *nd);
        cnt = malloc(4 * (size_t)size * sizeof *cnt);
        if (!part || !nd || !cnt) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    if (err->code == AF_OK && g->kind->split_days(g->state, t0, nt, size, load, part, err) == AF_OK &&
        count_parts(g, part, t0, nt, size, nd, err) == AF_OK) {
        size_t mine = nall * (size_t)nd[rank] * nf, theirs = 0;
        for (int q = 0; q < size; q++) theirs += nlocal * (size_t)nd[q] * nf;
        mv = malloc((mine + 1) * sizeof *mv);
        mq = malloc((mine + 1) * sizeof *mq);
        mk = malloc(mine + 1);
        rv = malloc((theirs + 1) * sizeof *rv);
        rq = malloc((theirs + 1) * sizeof *rq);
        rk = malloc(theirs + 1);
        if (!mv || !mq || !mk || !rv || !rq || !rk)
            af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for %d days of every sample",
                         nd[rank]);
        else if (g->kind->fill_days(g->state, t0, nt, part, rank, mv, mk, mq, err) == AF_OK)
            exchange_counts(ranges, rank, size, nd, nf, cnt, cnt + size, cnt + 2 * size, cnt + 3 * size, err);
    }
    double c0 = af__cpu_seconds();
    AF_CHECK_MPI(af__barrier_idle(comm)); /* every rank here: the agreement then does not spin */
    if (af_error_sync(comm, err) != AF_OK) {
        g->exchange_cpu += af__cpu_seconds() - c0;
        rc = err->code;
        goto cleanup;
    }
    af_log(AF_LOG_DEBUG, "split", "[%s] days %d..%d: %d of %d filled here for all %zu samples", g->feats[0]->section->name,
           t0 + 1, t0 + nt, nd[rank], nt, nall);
    int *sc = cnt, *sd = cnt + size, *rcnt = cnt + 2 * size, *rd = cnt + 3 * size;
    AF_CHECK_MPI(alltoallv_idle(mv, sc, sd, MPI_FLOAT, rv, rcnt, rd, comm));
    AF_CHECK_MPI(alltoallv_idle(mq, sc, sd, MPI_FLOAT, rq, rcnt, rd, comm));
    AF_CHECK_MPI(alltoallv_idle(mk, sc, sd, MPI_UNSIGNED_CHAR, rk, rcnt, rd, comm));
    g->exchange_cpu += af__cpu_seconds() - c0;
    /* from part q: [nlocal][nd[q]][nf], its days in increasing order, into [nlocal][nt][nf] */
    for (int q = 0; q < size; q++) {
        size_t j = 0;
        for (int t = 0; t < nt; t++) {
            if (part[t] != q) continue;
            for (size_t i = 0; i < nlocal; i++) {
                size_t src = (size_t)rd[q] + (i * (size_t)nd[q] + j) * nf, dst = (i * (size_t)nt + (size_t)t) * nf;
                memcpy(val + dst, rv + src, nf * sizeof *val);
                memcpy(qc + dst, rq + src, nf * sizeof *qc);
                memcpy(valid + dst, rk + src, nf);
            }
            j++;
        }
    }
cleanup:
    free(part);
    free(nd);
    free(cnt);
    free(mv);
    free(mq);
    free(mk);
    free(rv);
    free(rq);
    free(rk);
    return rc;
}
