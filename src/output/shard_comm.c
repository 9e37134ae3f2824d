/* SPDX-License-Identifier: MIT */
/*
 * shard_comm.c: which ranks take part in each shard. Shard k's collective
 * PnetCDF calls (create, open, wait_all, sync, close) involve only the ranks
 * that write samples of it, on a communicator made for that set of ranks, so a
 * rank holds open only the shards it writes (descriptors and MPI-IO buffers
 * scale with its own samples, not with the whole output). Every rank walks its
 * shards shared with other ranks first, in increasing k (a global order: the
 * members of the lowest pending one are always all ready, so no collective can
 * deadlock), then its own (af__shard_turn).
 * Consecutive shards with the same member set share one communicator; the set
 * of all ranks uses the shardset's own duplicate.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "shard_impl.h"

int af__shard_keep_error(af_error *err, const af_error *e)
{
    if (e->code != AF_OK && err && err->code == AF_OK) *err = *e;
    return e->code;
}

/* Ranks whose range [b, b+n) meets shard k's samples, into members (n of them). */
static int shard_members(const af_shardset *ss, const unsigned long long *ranges, size_t k, int *members)
{
    size_t S = ss->layout.shard_samples, lo = k * S, hi = lo + af__shard_rows(&ss->layout, k);
    int n = 0;
    for (int r = 0; r < ss->size; r++) {
        size_t b = (size_t)ranges[2 * r], e = b + (size_t)ranges[2 * r + 1];
        if (b < hi && e > lo && e > b) members[n++] = r;
    }
    return n;
}

static int contains(const int *m, int n, int rank)
{
    for (int i = 0; i < n; i++)
        if (m[i] == rank) return 1;
    return 0;
}

/* Which rank hashes each shard (who[k], -1 for a shard nobody writes): one of its writers, with
 * the rows to hash balanced over ranks. A shard written by one rank alone is that rank's; each
 * shard shared at a range boundary then goes to the writer with the fewest rows so far (ties: the
 * lower rank). Every rank computes the same from the gathered ranges. */
static void assign_hashers(const af_shardset *ss, const unsigned long long *ranges, int *members,
                           unsigned long long *load, int *who)
{
    memset(load, 0, (size_t)ss->size * sizeof *load);
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < ss->nshards; k++) {
            int n = shard_members(ss, ranges, k, members);
            if (n == 0) who[k] = -1;
            if (n == 0 || (pass == 0) != (n == 1)) continue;
            int best = members[0];
            for (int i = 1; i < n; i++)
                if (load[members[i]] < load[best]) best = members[i];
            who[k] = best;
            load[best] += af__shard_rows(&ss->layout, k);
        }
}

/* A communicator over members (MPI_Comm_create_group: only the members call it). */
static int make_comm(af_shardset *ss, MPI_Group world, const int *members, int n, size_t k, MPI_Comm *out,
                     af_error *err)
{
    int rc = AF_OK;
    MPI_Group g = MPI_GROUP_NULL;
    *out = MPI_COMM_NULL;
    if (n == ss->size) {
        *out = ss->comm;
        goto cleanup;
    }
    AF_CHECK_MPI(MPI_Group_incl(world, n, members, &g));
    AF_CHECK_MPI(MPI_Comm_create_group(ss->comm, g, (int)(k % 32768), out));
    AF_CHECK_MPI(MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN));
    ss->comms[ss->ncomms++] = *out;
cleanup:
    if (g != MPI_GROUP_NULL) MPI_Group_free(&g);
    return rc;
}

int af__shard_comms_build(af_shardset *ss, size_t s0, size_t ns, af_error *err)
{
    int rc = AF_OK;
    unsigned long long *ranges = NULL;
    int *members = NULL, *prev = NULL, *who = NULL, nprev = -1;
    unsigned long long *load = NULL;
    MPI_Group world = MPI_GROUP_NULL;
    MPI_Comm cur = MPI_COMM_NULL;
    ss->own_begin = s0;
    ss->own_end = s0 + ns;
    ranges = malloc(2 * (size_t)ss->size * sizeof *ranges);
    members = malloc((size_t)ss->size * sizeof *members);
    prev = malloc((size_t)ss->size * sizeof *prev);
    load = malloc((size_t)ss->size * sizeof *load);
    who = malloc((ss->nshards ? ss->nshards : 1) * sizeof *who);
    ss->comms = calloc(ss->nshards ? ss->nshards : 1, sizeof *ss->comms);
    if (!ranges || !members || !prev || !load || !who || !ss->comms)
        af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    AF_CHECK(af_error_sync(ss->comm, err));
    unsigned long long mine[2] = { (unsigned long long)s0, (unsigned long long)ns };
    AF_CHECK_MPI(MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, ranges, 2, MPI_UNSIGNED_LONG_LONG, ss->comm));
    AF_CHECK_MPI(MPI_Comm_group(ss->comm, &world));
    assign_hashers(ss, ranges, members, load, who);
    af_error local = AF_ERROR_INIT;
    ss->orphan = -1;
    for (size_t k = 0; k < ss->nshards; k++) {
        int n = shard_members(ss, ranges, k, members);
        if (n == 0 && ss->orphan < 0) ss->orphan = (long long)k;
        if (!contains(members, n, ss->rank)) {
            nprev = -1; /* a later shard with the same set as an earlier one gets its own communicator */
            continue;
        }
        if (n != nprev || memcmp(members, prev, (size_t)n * sizeof *members) != 0) {
            if (make_comm(ss, world, members, n, k, &cur, &local) != AF_OK) break;
            memcpy(prev, members, (size_t)n * sizeof *members);
            nprev = n;
        }
        ss->sh[k].comm = cur;
        int r;
        MPI_Comm_rank(cur, &r);
        ss->sh[k].lead = r == 0;
        ss->sh[k].shared = n > 1;
        ss->sh[k].hasher = who[k] == ss->rank;
    }
    af__shard_keep_error(err, &local);
    AF_CHECK(af_error_sync(ss->comm, err));
cleanup:
    if (world != MPI_GROUP_NULL) MPI_Group_free(&world);
    free(ranges);
    free(members);
    free(prev);
    free(load);
    free(who);
    return rc;
}

void af__shard_comms_free(af_shardset *ss)
{
    for (size_t i = 0; ss->comms && i < ss->ncomms; i++)
        if (ss->comms[i] != MPI_COMM_NULL) MPI_Comm_free(&ss->comms[i]);
    free(ss->comms);
    ss->comms = NULL;
    ss->ncomms = 0;
    for (size_t k = 0; ss->sh && k < ss->nshards; k++) {
        ss->sh[k].comm = MPI_COMM_NULL;
        ss->sh[k].hasher = 0;
    }
}
