/* SPDX-License-Identifier: MIT */
/*
 * fuzz_journal.c: libFuzzer harness for the journal.json reader of --resume
 * (src/pipeline/journal.c): the input is parsed as a journal; one that parses is
 * written back with af__journal_write and read again from OUTDIR/journal.json.
 * Invariants: a parsed journal is consistent (days_done <= ndays; shards only
 * when sealed; checkpoint segments end on increasing days within the axis, with
 * one 64-hex-digit digest per segment and shard); what the writer makes of it
 * reads back as the same journal; a failed parse leaves nothing allocated.
 */
#include <string.h>

#include "fuzz_common.h"
#include "pipeline_impl.h"

static void check_journal(const af_journal *j)
{
    FZ_ASSERT(j->days_done >= 0 && j->days_done <= j->ndays);
    FZ_ASSERT(j->sealed || j->nshards == 0);
    FZ_ASSERT((j->nseg > 0) == (j->ncheck > 0));
    for (int i = 0; i < j->nseg; i++) {
        FZ_ASSERT(j->seg_end[i] >= 1 && j->seg_end[i] <= j->ndays);
        if (i) FZ_ASSERT(j->seg_end[i] > j->seg_end[i - 1]);
    }
    for (size_t k = 0; k < (size_t)j->nseg * j->ncheck; k++) FZ_ASSERT(strlen(j->check_seg[k]) == 64);
    for (size_t k = 0; k < j->ncheck; k++) FZ_ASSERT(j->check_bytes[k] >= 0);
}

static int same_journal(const af_journal *a, const af_journal *b)
{
    if (strcmp(a->config_sha256, b->config_sha256) || strcmp(a->layout_sha256, b->layout_sha256) ||
        a->ndays != b->ndays || a->days_done != b->days_done || a->sealed != b->sealed ||
        a->nshards != b->nshards || a->nseg != b->nseg || a->ncheck != b->ncheck)
        return 0;
    for (size_t k = 0; k < a->nshards; k++) {
        const af_shard_info *x = &a->shards[k], *y = &b->shards[k];
        if (strcmp(x->path, y->path) || strcmp(x->sha256, y->sha256) || x->sample_start != y->sample_start ||
            x->sample_count != y->sample_count || x->bytes != y->bytes)
            return 0;
    }
    for (int i = 0; i < a->nseg; i++)
        if (a->seg_end[i] != b->seg_end[i]) return 0;
    for (size_t k = 0; k < a->ncheck; k++)
        if (a->check_bytes[k] != b->check_bytes[k] || strcmp(a->check_static[k], b->check_static[k])) return 0;
    for (size_t k = 0; k < (size_t)a->nseg * a->ncheck; k++)
        if (strcmp(a->check_seg[k], b->check_seg[k])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    af_error err = AF_ERROR_INIT;
    af_journal j, back;
    char *text = fz_strndup(data, size);
    if (af__journal_parse(text, AF_JOURNAL_NAME, &j, &err) == AF_OK) {
        check_journal(&j);
        FZ_ASSERT(af__journal_write(fz_dir(), &j, &err) == AF_OK);
        FZ_ASSERT(af__journal_read(fz_dir(), &back, &err) == AF_OK);
        FZ_ASSERT(same_journal(&j, &back));
        af__journal_dispose(&back);
        af__journal_dispose(&j);
    } else {
        fz_rejected("journal", &err);
        FZ_ASSERT(err.msg[0] != '\0' && j.shards == NULL && j.seg_end == NULL && j.check_seg == NULL);
    }
    free(text);
    return 0;
}
