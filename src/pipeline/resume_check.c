/* SPDX-License-Identifier: MIT */
/*
 * resume_check.c: before --resume continues an interrupted run, the .partial
 * shards must match what the journal recorded at its checkpoints (journal.c,
 * "checks"): each file at least as large as at the last checkpoint (a shorter
 * one was truncated: start over), the same header and static variables (else
 * start over), and the same digest for every segment of days. The run continues
 * after the last segment that verifies in every shard, so a damaged block is
 * written again; the log names each file and what did not match. Shards are
 * checked spread over ranks (rank r: shards r, r+P, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"

#define WHY_LEN 512

/* Rank 0 reads the journal text and every rank parses the same text. */
static int share_journal(MPI_Comm comm, const char *outdir, af_journal *j, af_error *err)
{
    int rc = AF_OK, rank;
    char path[4400];
    char *text = NULL;
    long long len = 0;
    MPI_Comm_rank(comm, &rank);
    AF_CHECK(af__journal_path(outdir, path, sizeof path, err));
    if (rank == 0) {
        size_t n = 0;
        if (af_read_file(path, &text, &n, err) == AF_OK) len = (long long)n;
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm));
    if (rank != 0) {
        text = calloc((size_t)len + 1, 1);
        if (!text) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Bcast(text, (int)len, MPI_BYTE, 0, comm));
    af__journal_parse(text, path, j, err);
    AF_CHECK(af_error_sync(comm, err));
cleanup:
    free(text);
    return rc;
}

/* Segments of shard k that verify, in order (0 when the size or static part does not); why says what failed. */
static int check_shard(const char *outdir, const af_journal *j, size_t k, char *why, size_t nwhy)
{
    char name[64], path[4400];
    af_shard_digest d;
    af_error e = AF_ERROR_INIT;
    snprintf(name, sizeof name, "shard-%05zu.nc.partial", k);
    if (af_path_join(outdir, name, path, sizeof path, &e) != AF_OK) return 0;
    if (!af_file_readable(path)) {
        snprintf(why, nwhy, "'%s' is missing", name);
        return 0;
    }
    if (af_shard_digest_file(path, 1, 0, 0, &d, &e) != AF_OK) {
        snprintf(why, nwhy, "'%s' cannot be checked: %.300s", name, e.msg);
        return 0;
    }
    if (d.bytes < j->check_bytes[k]) {
        snprintf(why, nwhy, "'%s' is %lld bytes, the journal recorded %lld at day %d: it was truncated", name,
                 d.bytes, j->check_bytes[k], j->seg_end[j->nseg - 1]);
        return 0;
    }
    if (strcmp(d.static_sha256, j->check_static[k]) != 0) {
        snprintf(why, nwhy, "'%s': the header or static variables do not match the journal", name);
        return 0;
    }
    for (int i = 0; i < j->nseg; i++) {
        int t0 = i ? j->seg_end[i - 1] : 0, t1 = j->seg_end[i];
        const char *want = j->check_seg[(size_t)i * j->ncheck + k];
        if (af_shard_digest_file(path, 0, t0, t1, &d, &e) != AF_OK) {
            snprintf(why, nwhy, "'%s': days %d..%d cannot be read: %.300s", name, t0 + 1, t1, e.msg);
            return i;
        }
        if (strcmp(d.days_sha256, want) != 0) {
            snprintf(why, nwhy, "'%s': days %d..%d do not match their journaled SHA-256 %.12s...", name, t0 + 1,
                     t1, want);
            return i;
        }
    }
    return j->nseg;
}

/* Rank 0 logs every rank's reasons, in rank order. */
static int log_reasons(MPI_Comm comm, const char *mine, af_error *err)
{
    int rc = AF_OK, rank, size;
    char *all = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (rank == 0) {
        all = malloc((size_t)size * WHY_LEN);
        if (!all) af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK_MPI(MPI_Gather(mine, WHY_LEN, MPI_CHAR, all, WHY_LEN, MPI_CHAR, 0, comm));
    if (rank == 0)
        for (int r = 0; r < size; r++) {
            const char *w = all + (size_t)r * WHY_LEN;
            for (size_t off = 0; off < WHY_LEN && w[off]; off += strlen(w + off) + 1)
                af_log(AF_LOG_WARN, "resume", "%s", w + off);
        }
cleanup:
    free(all);
    return rc;
}

int af__resume_verify(MPI_Comm comm, const char *outdir, const af_layout *l, af_start *st, af_journal *kept,
                      af_error *err)
{
    int rc = AF_OK, rank, size;
    char why[WHY_LEN];
    memset(why, 0, sizeof why);
    memset(kept, 0, sizeof *kept);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    AF_CHECK(share_journal(comm, outdir, kept, err));
    size_t nshards = af_output_nshards(l->nsamples, l->shard_samples);
    if (kept->ncheck != nshards || kept->nseg == 0 || kept->seg_end[kept->nseg - 1] != kept->days_done) {
        if (rank == 0)
            af_log(AF_LOG_WARN, "resume", "starting over from the first day: the journal records no checksums "
                   "of the %d days written (or not for %zu shards), so the .partial files cannot be trusted",
                   kept->days_done, nshards);
        af__journal_keep_checks(kept, 0);
        st->mode = AF_START_FRESH;
        st->days_done = 0;
        goto cleanup;
    }
    /* good: segments that verify in every shard of this rank */
    int good = kept->nseg;
    size_t used = 0;
    for (size_t k = (size_t)rank; k < nshards; k += (size_t)size) {
        char one[WHY_LEN] = "";
        int g = check_shard(outdir, kept, k, one, sizeof one);
        if (g < good) good = g;
        if (one[0] && used + strlen(one) + 1 < WHY_LEN) {
            memcpy(why + used, one, strlen(one) + 1);
            used += strlen(one) + 1;
        }
    }
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &good, 1, MPI_INT, MPI_MIN, comm));
    AF_CHECK(log_reasons(comm, why, err));
    af__journal_keep_checks(kept, good);
    int from = good ? kept->seg_end[good - 1] : 0;
    if (rank == 0 && from == 0)
        af_log(AF_LOG_WARN, "resume", "starting over from the first day: the .partial files do not match the journal");
    else if (rank == 0 && from < st->days_done)
        af_log(AF_LOG_WARN, "resume", "rewriting from day %d: only days 1..%d of %d verify against the journal",
               from + 1, from, st->days_done);
    st->days_done = from;
    kept->days_done = from;
    if (from == 0) st->mode = AF_START_FRESH;
cleanup:
    return rc;
}
