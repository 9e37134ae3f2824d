/* SPDX-License-Identifier: MIT */
/*
 * fuzz_journal.c: libFuzzer harness for the journal.json reader of --resume
 * (src/pipeline/journal.c, af__journal_read): the input is written as
 * OUTDIR/journal.json and read.
 * Invariants: a journal read is consistent (days_done <= ndays; the hashes and
 * shard paths are NUL-terminated inside their fields; shards only when sealed);
 * a failed read leaves nothing allocated and says why.
 */
#include <string.h>

#include "fuzz_common.h"
#include "pipeline_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    af_error err = AF_ERROR_INIT;
    af_journal j;
    fz_write(AF_JOURNAL_NAME, data, size, path, sizeof path);
    if (af__journal_read(fz_dir(), &j, &err) == AF_OK) {
        FZ_ASSERT(j.days_done >= 0 && j.days_done <= j.ndays);
        FZ_ASSERT(memchr(j.config_sha256, '\0', sizeof j.config_sha256) != NULL);
        FZ_ASSERT(memchr(j.layout_sha256, '\0', sizeof j.layout_sha256) != NULL);
        FZ_ASSERT(j.sealed || j.nshards == 0);
        for (size_t k = 0; k < j.nshards; k++) {
            FZ_ASSERT(memchr(j.shards[k].path, '\0', sizeof j.shards[k].path) != NULL);
            FZ_ASSERT(j.shards[k].bytes >= 0);
        }
        af__journal_dispose(&j);
    } else {
        fz_rejected("journal", &err);
        FZ_ASSERT(err.msg[0] != '\0' && j.shards == NULL);
    }
    return 0;
}
