/* SPDX-License-Identifier: MIT */
/*
 * split.c: the fill of a group whose work divides by days rather than by samples
 * (source kinds with split_days / fill_days, e.g. gridded: its compressed chunks
 * span every county, so splitting samples would have every rank decode every
 * chunk). On more than one rank such a group is opened on every sample; per
 * block each rank fills every sample for its share of the days, and one
 * MPI_Alltoallv (values, qc and valid flags packed together) moves each
 * (sample, day) to the rank owning the sample. Each value is computed exactly as the per-sample fill computes it, so
 * the output does not depend on the rank count. Collective over the run's
 * communicator: every rank calls it for the same groups in the same order, and
 * a failure on any rank (also an earlier one, passed in err) is agreed on
 * before the exchange. Waits for other ranks sleep instead of spinning
 * (af_mpi_wait_idle): Open MPI polls in blocking calls, which burns the CPU a
 * rank ahead of the others would leave to them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "log.h"
#include "pipeline_impl.h"

/* MPI_Alltoallv of bytes, waiting without spinning. */
static int alltoallv_idle(const void *sb, const int *sc, const int *sd, void *rb, const int *rcnt, const int *rd,
                          MPI_Comm comm)
{
    MPI_Request req;
    int rc = MPI_Ialltoallv(sb, sc, sd, MPI_BYTE, rb, rcnt, rd, MPI_BYTE, comm, &req);
    return rc == MPI_SUCCESS ? af_mpi_wait_idle(&req) : rc;
}

/* Bytes per exchanged value: its float value, its float qc and its valid byte. */
#define SPLIT_VALUE_BYTES (2 * sizeof(float) + 1)

/* One exchange instead of three (values, qc, valid: every collective costs each rank a wait):
 * rank q's segment of the send buffer holds its sc[q] values, then their qc, then their valid
 * bytes; counts and displacements, in values, become bytes. */
static void pack_parts(int size, const int *sc, const int *sd, const float *v, const float *q,
                       const unsigned char *k, unsigned char *out, int *bc, int *bd)
{
    size_t off = 0;
    for (int p = 0; p < size; p++) {
        size_t n = (size_t)sc[p], at = (size_t)sd[p];
        memcpy(out + off, v + at, n * sizeof *v);
        memcpy(out + off + n * sizeof *v, q + at, n * sizeof *q);
        memcpy(out + off + 2 * n * sizeof *v, k + at, n);
        bc[p] = (int)(n * SPLIT_VALUE_BYTES);
        bd[p] = (int)off;
        off += n * SPLIT_VALUE_BYTES;
    }
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
        if (s > INT_MAX / SPLIT_VALUE_BYTES || so > INT_MAX / SPLIT_VALUE_BYTES || r > INT_MAX / SPLIT_VALUE_BYTES ||
            roff > INT_MAX / SPLIT_VALUE_BYTES)
            AF_FAIL(AF_EINVAL, "a block of %d days is too large to exchange (over 2^31 bytes to one rank): lower block_days",
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
    float *mv = NULL, *mq = NULL;
    unsigned char *mk = NULL, *sbuf = NULL, *rbuf = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t nf = g->nfeat, nall = ranges[size - 1].end, nlocal = ranges[rank].end - ranges[rank].begin;
    if (err->code == AF_OK) {
        part = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *part);
        nd = calloc((size_t)size, sizeof *nd);
        cnt = malloc(6 * (size_t)size * sizeof *cnt);
        if (!part || !nd || !cnt) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    if (err->code == AF_OK && g->kind->split_days(g->state, t0, nt, size, load, part, err) == AF_OK &&
        count_parts(g, part, t0, nt, size, nd, err) == AF_OK) {
        size_t mine = nall * (size_t)nd[rank] * nf, theirs = 0;
        for (int q = 0; q < size; q++) theirs += nlocal * (size_t)nd[q] * nf;
        mv = malloc((mine + 1) * sizeof *mv);
        mq = malloc((mine + 1) * sizeof *mq);
        mk = malloc(mine + 1);
        sbuf = malloc(mine * SPLIT_VALUE_BYTES + 1);
        rbuf = malloc(theirs * SPLIT_VALUE_BYTES + 1);
        if (!mv || !mq || !mk || !sbuf || !rbuf)
            af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory for %d days of every sample",
                         nd[rank]);
        else if (g->kind->fill_days(g->state, t0, nt, part, rank, mv, mk, mq, err) == AF_OK)
            exchange_counts(ranges, rank, size, nd, nf, cnt, cnt + size, cnt + 2 * size, cnt + 3 * size, err);
    }
    double c0 = af__cpu_seconds();
    /* every rank here, agreeing (a rank that arrives first sleeps: af_error_sync) */
    if (af_error_sync(comm, err) != AF_OK) {
        g->exchange_cpu += af__cpu_seconds() - c0;
        rc = err->code;
        goto cleanup;
    }
    af_log(AF_LOG_DEBUG, "split", "[%s] days %d..%d: %d of %d filled here for all %zu samples", g->feats[0]->section->name,
           t0 + 1, t0 + nt, nd[rank], nt, nall);
    int *sc = cnt, *sd = cnt + size, *rcnt = cnt + 2 * size, *rd = cnt + 3 * size, *bc = cnt + 4 * size,
        *bd = cnt + 5 * size;
    pack_parts(size, sc, sd, mv, mq, mk, sbuf, bc, bd);
    int *rbc = sc, *rbd = sd; /* the send counts are packed: their slots take the received bytes */
    for (int q = 0; q < size; q++) {
        rbc[q] = (int)((size_t)rcnt[q] * SPLIT_VALUE_BYTES);
        rbd[q] = (int)((size_t)rd[q] * SPLIT_VALUE_BYTES);
    }
    AF_CHECK_MPI(alltoallv_idle(sbuf, bc, bd, rbuf, rbc, rbd, comm));
    g->exchange_cpu += af__cpu_seconds() - c0;
    /* from part q: [nlocal][nd[q]][nf] values, then as many qc, then valid bytes, its days in
     * increasing order, into [nlocal][nt][nf] */
    for (int q = 0; q < size; q++) {
        size_t n = (size_t)rcnt[q];
        const unsigned char *seg = rbuf + rbd[q];
        size_t j = 0;
        for (int t = 0; t < nt; t++) {
            if (part[t] != q) continue;
            for (size_t i = 0; i < nlocal; i++) {
                size_t src = (i * (size_t)nd[q] + j) * nf, dst = (i * (size_t)nt + (size_t)t) * nf;
                memcpy(val + dst, seg + src * sizeof(float), nf * sizeof *val);
                memcpy(qc + dst, seg + (n + src) * sizeof(float), nf * sizeof *qc);
                memcpy(valid + dst, seg + 2 * n * sizeof(float) + src, nf);
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
    free(sbuf);
    free(rbuf);
    return rc;
}
