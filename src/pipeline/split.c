/* SPDX-License-Identifier: MIT */
/*
 * split.c: the fill of a group whose work divides by days rather than by samples
 * (source kinds with split_days / fill_days, e.g. gridded: its compressed chunks
 * span every county, so splitting samples would have every rank decode every
 * chunk). On more than one rank such a group is opened on every sample; per
 * block each rank fills every sample for its share of the days and packs them
 * per destination (af__split_fill_mine, not collective); once the ranks agreed
 * that every split group's fill succeeded (one agreement per block for all of
 * them, so one group's uneven share is made up by the next before anyone
 * waits), one MPI_Alltoallv per group (values, qc and valid flags packed
 * together) moves each (sample, day) to the rank owning the sample
 * (af__split_exchange). Each value is computed exactly as the per-sample fill
 * computes it, so the output does not depend on the rank count. Every rank
 * exchanges the same groups in the same order. Waits for other ranks sleep instead of spinning
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

void af__split_xchg_free(af_split_xchg *x)
{
    if (!x) return;
    free(x->part);
    free(x->nd);
    free(x->cnt);
    free(x->sbuf);
    free(x->rbuf);
    memset(x, 0, sizeof *x);
}

int af__split_fill_mine(MPI_Comm comm, const af_range *ranges, af_group *g, int t0, int nt, double *load,
                        af_error *err)
{
    int rc = AF_OK, rank, size;
    af_split_xchg *x = &g->xchg;
    float *mv = NULL, *mq = NULL;
    unsigned char *mk = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    af__split_xchg_free(x);
    if (err->code != AF_OK) return err->code;
    size_t nf = g->nfeat, nall = ranges[size - 1].end, nlocal = ranges[rank].end - ranges[rank].begin;
    x->part = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *x->part);
    x->nd = calloc((size_t)size, sizeof *x->nd);
    x->cnt = malloc(6 * (size_t)size * sizeof *x->cnt);
    AF_CHECK_ALLOC(x->part);
    AF_CHECK_ALLOC(x->nd);
    AF_CHECK_ALLOC(x->cnt);
    AF_CHECK(g->kind->split_days(g->state, t0, nt, size, load, x->part, err));
    AF_CHECK(count_parts(g, x->part, t0, nt, size, x->nd, err));
    size_t mine = nall * (size_t)x->nd[rank] * nf, theirs = 0;
    for (int q = 0; q < size; q++) theirs += nlocal * (size_t)x->nd[q] * nf;
    mv = malloc((mine + 1) * sizeof *mv);
    mq = malloc((mine + 1) * sizeof *mq);
    mk = malloc(mine + 1);
    x->sbuf = malloc(mine * SPLIT_VALUE_BYTES + 1);
    x->rbuf = malloc(theirs * SPLIT_VALUE_BYTES + 1); /* here, so that running out of memory is agreed on */
    if (!mv || !mq || !mk || !x->sbuf || !x->rbuf)
        AF_FAIL(AF_ENOMEM, "out of memory for %d days of every sample", x->nd[rank]);
    AF_CHECK(g->kind->fill_days(g->state, t0, nt, x->part, rank, mv, mk, mq, err));
    int *sc = x->cnt, *sd = x->cnt + size, *rcnt = x->cnt + 2 * size, *rd = x->cnt + 3 * size;
    AF_CHECK(exchange_counts(ranges, rank, size, x->nd, nf, sc, sd, rcnt, rd, err));
    pack_parts(size, sc, sd, mv, mq, mk, x->sbuf, x->cnt + 4 * size, x->cnt + 5 * size);
    af_log(AF_LOG_DEBUG, "split", "[%s] days %d..%d: %d of %d filled here for all %zu samples", g->feats[0]->section->name,
           t0 + 1, t0 + nt, x->nd[rank], nt, nall);
cleanup:
    free(mv);
    free(mq);
    free(mk);
    if (rc != AF_OK) af__split_xchg_free(x);
    return rc;
}

int af__split_exchange(MPI_Comm comm, const af_range *ranges, af_group *g, int nt, float *val, unsigned char *valid,
                       float *qc, af_error *err)
{
    int rc = AF_OK, rank, size;
    af_split_xchg *x = &g->xchg;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    AF_CHECK_ARG(x->sbuf != NULL && x->rbuf != NULL);
    size_t nf = g->nfeat, nlocal = ranges[rank].end - ranges[rank].begin;
    unsigned char *rbuf = x->rbuf;
    double c0 = af__cpu_seconds();
    int *rcnt = x->cnt + 2 * size, *rd = x->cnt + 3 * size, *bc = x->cnt + 4 * size, *bd = x->cnt + 5 * size;
    int *rbc = x->cnt, *rbd = x->cnt + size; /* the send counts are packed: their slots take the received bytes */
    for (int q = 0; q < size; q++) {
        rbc[q] = (int)((size_t)rcnt[q] * SPLIT_VALUE_BYTES);
        rbd[q] = (int)((size_t)rd[q] * SPLIT_VALUE_BYTES);
    }
    AF_CHECK_MPI(alltoallv_idle(x->sbuf, bc, bd, rbuf, rbc, rbd, comm));
    g->exchange_cpu += af__cpu_seconds() - c0;
    /* from part q: [nlocal][nd[q]][nf] values, then as many qc, then valid bytes, its days in
     * increasing order, into [nlocal][nt][nf] */
    for (int q = 0; q < size; q++) {
        size_t n = (size_t)rcnt[q];
        const unsigned char *seg = rbuf + rbd[q];
        size_t j = 0;
        for (int t = 0; t < nt; t++) {
            if (x->part[t] != q) continue;
            for (size_t i = 0; i < nlocal; i++) {
                size_t src = (i * (size_t)x->nd[q] + j) * nf, dst = (i * (size_t)nt + (size_t)t) * nf;
                memcpy(val + dst, seg + src * sizeof(float), nf * sizeof *val);
                memcpy(qc + dst, seg + (n + src) * sizeof(float), nf * sizeof *qc);
                memcpy(valid + dst, seg + 2 * n * sizeof(float) + src, nf);
            }
            j++;
        }
    }
cleanup:
    af__split_xchg_free(x);
    return rc;
}
