/* SPDX-License-Identifier: MIT */
/*
 * resume.c: how a run starts (af__resume_decide). Without --resume, or without a
 * usable journal, a run starts fresh. With --resume, rank 0 reads the journal and
 * accepts it only if the config SHA-256 and the layout hash match this run:
 * a "writing" journal continues at its days_done (the .partial files are reopened
 * by the caller), a "sealed" journal keeps every shard that verifies against its
 * recorded SHA-256 (final name, or .partial renamed now). Anything else starts
 * over, and the log says why. The decision is broadcast to every rank.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"

/* Rank 0, sealed journal: every shard verifies under its final or .partial name. */
static int check_sealed(const char *outdir, const af_journal *j, size_t nshards, char *why, size_t nwhy,
                        af_error *err)
{
    int rc = AF_OK;
    char fin[4400], part[4420], hex[65];
    if (j->nshards != nshards) {
        snprintf(why, nwhy, "the journal lists %zu shards, this run has %zu", j->nshards, nshards);
        return AF_OK;
    }
    for (size_t k = 0; k < j->nshards; k++) {
        const af_shard_info *s = &j->shards[k];
        AF_CHECK(af_path_join(outdir, s->path, fin, sizeof fin, err));
        snprintf(part, sizeof part, "%s.partial", fin);
        af_error e = AF_ERROR_INIT;
        if (af_file_readable(fin) && af_file_sha256(fin, hex, &e) == AF_OK && !strcmp(hex, s->sha256)) continue;
        if (af_file_readable(part) && af_file_sha256(part, hex, &e) == AF_OK && !strcmp(hex, s->sha256)) continue;
        snprintf(why, nwhy, "shard %s does not verify against its journaled SHA-256 %.12s...", s->path, s->sha256);
        return AF_OK;
    }
cleanup:
    return rc;
}

/* Rank 0, sealed and verified: rename the .partial files that are not yet under final names, then
 * make the renames durable with one fsync of the directory (as af_shardset_publish does), not one
 * per shard. */
static int publish_sealed(const char *outdir, const af_journal *j, af_error *err)
{
    int rc = AF_OK, renamed = 0;
    char fin[4400], part[4420], hex[65];
    for (size_t k = 0; k < j->nshards; k++) {
        AF_CHECK(af_path_join(outdir, j->shards[k].path, fin, sizeof fin, err));
        snprintf(part, sizeof part, "%s.partial", fin);
        af_error e = AF_ERROR_INIT;
        if (af_file_readable(fin) && af_file_sha256(fin, hex, &e) == AF_OK && !strcmp(hex, j->shards[k].sha256))
            continue;
        AF_CHECK(af_rename(part, fin, err));
        renamed = 1;
    }
cleanup:
    /* the renames done before an error are durable too */
    if (renamed) {
        af_error e = AF_ERROR_INIT;
        int frc = af_fsync_path(outdir, rc == AF_OK ? err : &e);
        if (rc == AF_OK) rc = frc;
    }
    return rc;
}

/* Rank 0: read the journal and decide; why explains a start-over. */
static int decide_rank0(const char *outdir, const af_layout *l, const char *settings, af_journal *j, af_start *st,
                        char *why, size_t nwhy, af_error *err)
{
    int rc = AF_OK;
    char lhash[65];
    af_error jerr = AF_ERROR_INIT;
    int jrc = af__journal_read(outdir, j, &jerr);
    if (jrc == AF_ENOTFOUND) { snprintf(why, nwhy, "no journal in '%s'", outdir); goto cleanup; }
    if (jrc != AF_OK) { snprintf(why, nwhy, "unreadable journal: %s", jerr.msg); goto cleanup; }
    AF_CHECK(af__layout_sha256(l, lhash, err));
    if (j->output_sha256[0]) {
        /* l->config_sha256 is the hash of the settings that fix the output: performance-only keys
         * (block_days) may change between the runs */
        if (strcmp(j->output_sha256, l->config_sha256 ? l->config_sha256 : "") != 0) {
            af__settings_diff(j->settings ? j->settings : "", settings ? settings : "", why, nwhy);
            goto cleanup;
        }
    } else if (strcmp(j->config_sha256, l->config_sha256 ? l->config_sha256 : "") != 0) {
        snprintf(why, nwhy, "the pipeline file changed (config SHA-256 %.12s... in the journal, %.12s... now)",
                 j->config_sha256, l->config_sha256 ? l->config_sha256 : "");
        goto cleanup;
    }
    if (strcmp(j->layout_sha256, lhash) != 0 || j->ndays != af_calendar_ndays(l->cal)) {
        snprintf(why, nwhy, "the output layout changed (samples, variables, calendar or shard size)");
        goto cleanup;
    }
    if (j->sealed) {
        size_t nshards = af_output_nshards(l->nsamples, l->shard_samples);
        AF_CHECK(check_sealed(outdir, j, nshards, why, nwhy, err));
        if (why[0]) goto cleanup;
        AF_CHECK(publish_sealed(outdir, j, err));
        st->mode = AF_START_PUBLISH;
        st->days_done = j->ndays;
    } else {
        st->mode = AF_START_CONTINUE;
        st->days_done = j->days_done;
    }
cleanup:
    return rc;
}

/* Every rank gets rank 0's decision (and the journaled shards in PUBLISH mode). */
static int broadcast_start(MPI_Comm comm, af_start *st, af_error *err)
{
    int rc = AF_OK;
    long long hdr[3] = { (long long)st->mode, st->days_done, (long long)st->nshards };
    AF_CHECK_MPI(MPI_Bcast(hdr, 3, MPI_LONG_LONG, 0, comm));
    st->mode = (af_start_mode)hdr[0];
    st->days_done = (int)hdr[1];
    st->nshards = (size_t)hdr[2];
    if (st->mode != AF_START_PUBLISH) goto cleanup;
    if (!st->shards) {
        st->shards = calloc(st->nshards ? st->nshards : 1, sizeof *st->shards);
        AF_CHECK_ALLOC(st->shards);
    }
    AF_CHECK_MPI(MPI_Bcast(st->shards, (int)(st->nshards * sizeof *st->shards), MPI_BYTE, 0, comm));
cleanup:
    return rc;
}

int af__resume_decide(MPI_Comm comm, const char *outdir, const af_layout *l, const char *settings, int want_resume,
                      af_start *out, af_error *err)
{
    int rc = AF_OK, rank;
    af_journal j;
    char why[1200] = "";
    memset(&j, 0, sizeof j);
    memset(out, 0, sizeof *out);
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && want_resume) {
        if (decide_rank0(outdir, l, settings, &j, out, why, sizeof why, err) == AF_OK) {
            if (out->mode == AF_START_FRESH)
                af_log(AF_LOG_WARN, "resume", "starting over from the first day: %s", why);
            else if (out->mode == AF_START_CONTINUE && j.days_done >= j.ndays)
                af_log(AF_LOG_INFO, "resume", "all %d days are written; finishing the shards", j.ndays);
            else if (out->mode == AF_START_CONTINUE)
                af_log(AF_LOG_INFO, "resume", "continuing at day %d of %d from the journal", j.days_done + 1, j.ndays);
            else
                af_log(AF_LOG_INFO, "resume", "all %zu shards verify against the journal; publishing", j.nshards);
            if (out->mode == AF_START_PUBLISH) {
                out->shards = j.shards;
                out->nshards = j.nshards;
                j.shards = NULL;
            }
        }
    }
    if (rank == 0 && !want_resume) {
        char jpath[4400];
        if (af__journal_path(outdir, jpath, sizeof jpath, err) == AF_OK && access(jpath, F_OK) == 0)
            af_log(AF_LOG_WARN, "resume", "'%s' of an interrupted run is discarded: starting from the first day "
                   "(run with --resume to continue it)", jpath);
    }
    AF_CHECK(af_error_sync(comm, err));
    AF_CHECK(broadcast_start(comm, out, err));
cleanup:
    af__journal_dispose(&j);
    if (rc != AF_OK) {
        free(out->shards);
        out->shards = NULL;
    }
    return rc;
}
