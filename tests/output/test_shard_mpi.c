/* SPDX-License-Identifier: MIT */
/*
 * test_shard_mpi.c: writes the output fixture (7 samples, 3 per shard, two
 * blocks of days) on however many ranks it runs with, using a balanced
 * contiguous split (ranks may own 0 samples; each opens only the shards of its
 * samples, af_shardset_create_owned), reads every cell back, writes and
 * verifies the index on rank 0, and writes "path sha256 bytes" per shard to
 * argv[2] so a driver can require identical files for every rank count, with
 * the checkpoint digests after the first block and the seal's of the second
 * (each taken by one of the shard's writers), checked against PnetCDF's reads.
 * Usage: test_shard_mpi OUTDIR SUMS_FILE [cdf5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "af_test.h"
#include "agroflux/index.h"
#include "output_fixture.h"

static const char *g_outdir, *g_sums;
static int g_cdf5;

static void test_output_mpi__write_read(void)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    fixture f;
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    size_t ninfos = 0, N = 7;
    AF_EXPECT(fx_init(&f, N, 3, g_cdf5) == 0);
    size_t s0 = (size_t)rank * N / (size_t)size, s1 = (size_t)(rank + 1) * N / (size_t)size;
    /* each rank opens only the shards of its samples (per-shard communicators) */
    AF_TEST_PASS(af_shardset_create_owned(MPI_COMM_WORLD, g_outdir, &f.layout, s0, s1 - s0, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, s0, s1 - s0, 0, 4, err));
    /* a checkpoint (each shard digested by one of its writers, from raw bytes), then the seal's */
    af_shard_digest cp[3], sealed[3];
    af_seal_check chk = { 0, 4, 7, sealed };
    AF_TEST_PASS(af_shardset_sync(ss, err));
    AF_TEST_PASS(af_shardset_digest(ss, 1, 0, 4, cp, err));
    AF_TEST_PASS(fx_write(ss, &f, s0, s1 - s0, 4, 3, err));
    AF_TEST_PASS(af_shardset_seal_checked(ss, &chk, &infos, &ninfos, err));
    AF_TEST_PASS(af_shardset_publish(ss, err));
    af_shardset_destroy(&ss);
    AF_EXPECT(ninfos == 3);
    int bad = 0;
    char path[1200];
    for (size_t s = 0; s < N; s++) {
        snprintf(path, sizeof path, "%s/shard-%05zu.nc", g_outdir, s / 3);
        fx_check_row(path, s % 3, s, &f, &bad);
    }
    AF_EXPECT(bad == 0);
    if (bad) fprintf(stderr, "rank %d: %d bad cells\n", rank, bad);
    if (rank == 0 && ninfos == 3) {
        FILE *fp = fopen(g_sums, "w");
        AF_EXPECT(fp != NULL);
        for (size_t k = 0; fp && k < ninfos; k++) {
            fprintf(fp, "%s %s %lld %zu %zu\n", infos[k].path, infos[k].sha256, infos[k].bytes,
                    infos[k].sample_start, infos[k].sample_count);
            /* the digests equal PnetCDF's reads of the final file (the independent reference) */
            af_shard_digest want;
            snprintf(path, sizeof path, "%s/%s", g_outdir, infos[k].path);
            AF_TEST_PASS(af_shard_digest_file(path, 1, 0, 4, &want, err));
            AF_EXPECT(strcmp(cp[k].static_sha256, want.static_sha256) == 0 && strlen(want.static_sha256) == 64);
            AF_EXPECT(strcmp(cp[k].days_sha256, want.days_sha256) == 0 && strlen(want.days_sha256) == 64);
            AF_TEST_PASS(af_shard_digest_file(path, 0, 4, 7, &want, err));
            AF_EXPECT(strcmp(sealed[k].days_sha256, want.days_sha256) == 0 && sealed[k].bytes == infos[k].bytes);
            fprintf(fp, "  checkpoint %s %s, sealed %s\n", cp[k].static_sha256, cp[k].days_sha256,
                    sealed[k].days_sha256);
        }
        if (fp) fclose(fp);
        af_index idx;
        memset(&idx, 0, sizeof idx);
        idx.schema_version = 1;
        snprintf(idx.pipeline_name, sizeof idx.pipeline_name, "fixture");
        snprintf(idx.calendar, sizeof idx.calendar, "noleap");
        idx.start = af_calendar_start(f.cal);
        idx.end = af_calendar_end(f.cal);
        idx.ndays = af_calendar_ndays(f.cal);
        snprintf(idx.format, sizeof idx.format, g_cdf5 ? "cdf5" : "cdf2");
        idx.shard_samples = 3;
        idx.inputs = f.inputs;
        idx.ninputs = FX_NIN;
        idx.targets = f.targets;
        idx.ntargets = FX_NTG;
        idx.shards = infos;
        idx.nshards = ninfos;
        idx.samples = f.samples;
        idx.nsamples = N;
        idx.ranks = size;
        AF_TEST_PASS(af_index_write(g_outdir, &idx, err));
        af_index back;
        size_t n = 0;
        AF_TEST_PASS(af_index_read(g_outdir, &back, err));
        AF_TEST_PASS(af_index_verify(g_outdir, &back, &n, err));
        AF_EXPECT(n == 3);
        af_index_dispose(&back);
    }
    /* every rank got the same infos */
    char mine[65] = "", first[65] = "";
    if (ninfos == 3) memcpy(mine, infos[2].sha256, 65);
    memcpy(first, mine, 65);
    MPI_Bcast(first, 65, MPI_CHAR, 0, MPI_COMM_WORLD);
    AF_EXPECT(strcmp(first, mine) == 0);
    free(infos);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc < 3) {
        if (rank == 0) fprintf(stderr, "usage: %s OUTDIR SUMS_FILE [cdf5]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    g_outdir = argv[1];
    g_sums = argv[2];
    g_cdf5 = argc > 3 && strcmp(argv[3], "cdf5") == 0;
    AF_RUN(test_output_mpi__write_read);
    int failed = af_test_failed_cases, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    af_test_failed_cases = any;
    int rc = 0;
    if (rank == 0) rc = AF_TEST_END();
    else rc = any ? 1 : 0;
    MPI_Finalize();
    return rc;
}
