/* SPDX-License-Identifier: MIT */
/*
 * test_shard_plan.c: unit tests (one rank) of the digests the writing ranks take
 * from a shard's raw bytes (shard_plan.c) against af_shard_digest_file, which
 * reads every variable through PnetCDF (the independent reference): checkpoints
 * after each block, cdf2 and cdf5, before and after a reopen; the seal's single
 * read (af__digest_stream) and its fallbacks (ranges out of file order: preads;
 * no plan: PnetCDF); and every error path: a short shard at a checkpoint and at
 * the seal, a missing one, a read error, a file that shrinks while it is read,
 * days outside the axis, files no plan fits, a bad ncid.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>
#include <pnetcdf.h>

#include "af_test.h"
#include "af_util.h"
#include "output_fixture.h"
#include "shard_impl.h" /* af__shard_plan, af__digest_stream, the shardset's hasher plans */

static char g_root[256];
static int g_dirs = 0;

static void new_dir(char *out, size_t n)
{
    snprintf(out, n, "%s/d%d", g_root, g_dirs++);
    if (mkdir(out, 0755) != 0) perror(out);
}

/* The digest plan of the shard at path, made from a fresh PnetCDF open (NULL when none fits). */
static af__shard_plan *plan_of(const char *path)
{
    int ncid = -1;
    af__shard_plan *p = NULL;
    af_error e = AF_ERROR_INIT;
    if (ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid) != NC_NOERR) return NULL;
    if (af__shard_plan_new(ncid, path, &p, &e) != AF_OK) fprintf(stderr, "plan: %s\n", e.msg);
    ncmpi_close(ncid);
    return p;
}

static int same_plan(const af__shard_plan *a, const af__shard_plan *b)
{
    if (!a || !b || a->header != b->header || a->ndays != b->ndays || a->nv != b->nv) return 0;
    for (size_t i = 0; i < a->nv; i++)
        if (a->v[i].begin != b->v[i].begin || a->v[i].row != b->v[i].row || a->v[i].esz != b->v[i].esz ||
            a->v[i].timed != b->v[i].timed || strcmp(a->v[i].name, b->v[i].name) != 0)
            return 0;
    return 1;
}

static void shard_path(const char *dir, size_t k, char *out, size_t n)
{
    snprintf(out, n, "%s/shard-%05zu.nc.partial", dir, k);
}

/* got (from the plan) equals af_shard_digest_file of the file (PnetCDF), with non-empty digests asked for. */
static void expect_reference(const char *path, const af_shard_digest *got, int want_static, int t0, int t1)
{
    af_shard_digest want;
    AF_TEST_PASS(af_shard_digest_file(path, want_static, t0, t1, &want, err));
    AF_EXPECT(got->bytes == want.bytes && got->bytes > 0);
    AF_EXPECT(strcmp(got->static_sha256, want.static_sha256) == 0);
    AF_EXPECT(strcmp(got->days_sha256, want.days_sha256) == 0);
    AF_EXPECT(strlen(want.static_sha256) == (want_static ? 64u : 0u));
    AF_EXPECT(strlen(want.days_sha256) == (t1 > t0 ? 64u : 0u));
}

/* Checkpoints after each of three blocks (the first with the static part), on cdf2 and cdf5: the
 * digests af_shardset_digest takes by pread from the plan the creating rank made equal PnetCDF's.
 * The creator's plan equals one made from a fresh open of the file; after a reopen (resume) the
 * reopening rank has a plan again, and its digests still match. */
static void test_output_plan__checkpoints(void)
{
    static const int blocks[3][2] = { { 0, 3 }, { 3, 2 }, { 5, 2 } };
    for (int cdf5 = 0; cdf5 <= 1; cdf5++) {
        char dir[300], path[400];
        fixture f;
        af_shardset *ss = NULL;
        af_shard_digest got[3], first[3];
        AF_EXPECT(fx_init(&f, 7, 3, cdf5) == 0);
        new_dir(dir, sizeof dir);
        AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
        for (size_t k = 0; ss && k < 3; k++) {
            shard_path(dir, k, path, sizeof path);
            af__shard_plan *fresh = plan_of(path);
            AF_EXPECT(ss->sh[k].plan != NULL && same_plan(fresh, ss->sh[k].plan));
            AF_EXPECT(fresh && fresh->ndays == 7 && fresh->nv > 5 && fresh->header > 0);
            af__shard_plan_free(&fresh);
        }
        int checked = 0;
        for (int b = 0; ss && b < 3; b++) {
            int t1 = blocks[b][0] + blocks[b][1];
            AF_TEST_PASS(fx_write(ss, &f, 0, 7, blocks[b][0], blocks[b][1], err));
            AF_TEST_PASS(af_shardset_sync(ss, err));
            AF_TEST_PASS(af_shardset_digest(ss, checked == 0, checked, t1, got, err));
            for (size_t k = 0; k < 3; k++) {
                shard_path(dir, k, path, sizeof path);
                expect_reference(path, &got[k], checked == 0, checked, t1);
            }
            if (b == 0) memcpy(first, got, sizeof first);
            AF_EXPECT(strcmp(got[0].days_sha256, got[1].days_sha256) != 0); /* the shards' days differ */
            checked = t1;
            if (b == 1) { /* interrupted here, then resumed */
                af_shardset_keep_partial(ss, 1);
                af_shardset_destroy(&ss);
                AF_TEST_PASS(af_shardset_reopen(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
                for (size_t k = 0; ss && k < 3; k++) AF_EXPECT(ss->sh[k].plan != NULL);
                if (ss) AF_TEST_PASS(af_shardset_digest(ss, 1, 0, 0, got, err));
                for (size_t k = 0; ss && k < 3; k++)
                    AF_EXPECT(strcmp(got[k].static_sha256, first[k].static_sha256) == 0);
            }
        }
        af_shardset_destroy(&ss);
        fx_free(&f);
    }
}

/* A short shard (a lost write) fails a checkpoint and the seal with the words of
 * af__shard_check_complete; a missing one cannot be opened; a read error and a file that shrinks
 * between the size check and the reads are named; days outside the axis are refused. */
static void test_output_plan__errors(void)
{
    char dir[300], path[400], path2[400];
    fixture f;
    af_shardset *ss = NULL;
    af_shard_digest got[3];
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    long long size = 0;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 7, err));
    AF_TEST_PASS(af_shardset_sync(ss, err));
    shard_path(dir, 1, path, sizeof path);
    AF_TEST_PASS(af_file_size(path, &size, err));
    AF_EXPECT(truncate(path, (off_t)(size - 10)) == 0);
    AF_TEST_FAILS_WITH(AF_EIO, "shard-00001.nc.partial' is", af_shardset_digest(ss, 1, 0, 7, got, err));
    AF_TEST_FAILS_WITH(AF_EIO, "up to byte", af_shardset_digest(ss, 0, 6, 7, got, err));
    /* days before the cut still digest, as PnetCDF's reads give them */
    AF_TEST_PASS(af_shardset_digest(ss, 0, 0, 1, got, err));
    expect_reference(path, &got[1], 0, 0, 1);
    /* the seal hashes no short shard (closed first, so nothing PnetCDF does at close can mend it) */
    for (size_t k = 0; ss && k < 3; k++) {
        ncmpi_close(ss->sh[k].ncid);
        ss->sh[k].ncid = -1;
    }
    AF_EXPECT(truncate(path, (off_t)(size - 10)) == 0);
    AF_TEST_FAILS_WITH(AF_EIO, "a write was lost", af_shardset_seal(ss, &infos, &ninfos, err));
    AF_EXPECT(infos == NULL);

    /* the plan's own entry points, on shard 0 */
    shard_path(dir, 0, path, sizeof path);
    const af__shard_plan *p = ss ? ss->sh[0].plan : NULL;
    AF_EXPECT(p != NULL);
    AF_TEST_PASS(af_file_size(path, &size, err));
    if (p) {
        AF_TEST_FAILS_WITH(AF_EINVAL, "outside its 7 days", af__shard_plan_digest(p, path, 0, 2, 9, got, err));
        /* a directory opens, but does not read: the read error names the file and the header */
        int fd = open(dir, O_RDONLY);
        AF_EXPECT(fd >= 0);
        AF_TEST_FAILS_WITH(AF_EIO, "read error on", af__shard_plan_digest_fd(p, fd, dir, size, 1, 0, 7, got, err));
        if (fd >= 0) close(fd);
        /* a copy cut short after its size was looked at: it shrank while it was read */
        snprintf(path2, sizeof path2, "%s/short.nc", dir);
        char *text = NULL;
        size_t n = 0;
        AF_TEST_PASS(af_read_file(path, &text, &n, err));
        AF_TEST_PASS(af_write_atomic(path2, text, n - 100, err));
        free(text);
        fd = open(path2, O_RDONLY);
        AF_EXPECT(fd >= 0);
        AF_TEST_FAILS_WITH(AF_EIO, "it shrank while it was read",
                           af__shard_plan_digest_fd(p, fd, path2, size, 0, 0, 7, got, err));
        if (fd >= 0) close(fd);
        /* a vanished file */
        AF_EXPECT(unlink(path) == 0);
        AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cannot open", af__shard_plan_digest(p, path, 1, 0, 7, got, err));
    }
    af_shardset_destroy(&ss);

    /* a missing shard at a checkpoint and at the seal */
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 7, err));
    AF_TEST_PASS(af_shardset_sync(ss, err));
    shard_path(dir, 2, path, sizeof path);
    AF_EXPECT(unlink(path) == 0);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "shard-00002.nc.partial", af_shardset_digest(ss, 1, 0, 7, got, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "cannot open", af_shardset_seal(ss, &infos, &ninfos, err));
    af_shardset_destroy(&ss);
    fx_free(&f);
}

/* A file af__shard_plan_new cannot plan: *out NULL and AF_OK. */
static void expect_no_plan(const char *path, int with_time, int record, int time_second)
{
    int ncid = -1, d[2], v;
    af__shard_plan *p = NULL;
    AF_EXPECT(ncmpi_create(MPI_COMM_SELF, path, NC_CLOBBER | NC_64BIT_OFFSET, MPI_INFO_NULL, &ncid) == NC_NOERR);
    AF_EXPECT(ncmpi_def_dim(ncid, with_time ? "time" : "day", record ? NC_UNLIMITED : 4, &d[0]) == NC_NOERR);
    AF_EXPECT(ncmpi_def_dim(ncid, "sample", 3, &d[1]) == NC_NOERR);
    int dims[2] = { time_second ? d[1] : d[0], time_second ? d[0] : d[1] };
    AF_EXPECT(ncmpi_def_var(ncid, "v", NC_FLOAT, 2, dims, &v) == NC_NOERR);
    AF_EXPECT(ncmpi_enddef(ncid) == NC_NOERR);
    AF_TEST_PASS(af__shard_plan_new(ncid, path, &p, err));
    AF_EXPECT(p == NULL);
    ncmpi_close(ncid);
}

/* Without a plan (a header none fits, simulated by dropping the hasher's) checkpoints and the seal
 * digest through PnetCDF; with ranges out of file order the seal cannot stream them and digests by
 * preads of the descriptor it hashed; files with no time dimension, a record variable or time as a
 * later dimension get no plan; a bad ncid is a PnetCDF error. */
static void test_output_plan__fallbacks(void)
{
    char dir[300], path[400];
    fixture f;
    af_shardset *ss = NULL;
    af_shard_digest got[3], ref;
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 7, err));
    AF_TEST_PASS(af_shardset_sync(ss, err));
    if (ss) af__shard_plan_free(&ss->sh[2].plan);
    AF_TEST_PASS(af_shardset_digest(ss, 1, 0, 4, got, err));
    for (size_t k = 0; k < 3; k++) {
        shard_path(dir, k, path, sizeof path);
        expect_reference(path, &got[k], 1, 0, 4);
    }
    /* shard 1: a header range that runs into the variables, so no stream can follow it */
    af__shard_plan *p1 = ss ? ss->sh[1].plan : NULL;
    af__digest_stream *ds = NULL;
    AF_EXPECT(p1 != NULL && p1->nv > 0);
    if (p1) {
        p1->header = p1->v[p1->nv - 1].begin + 1;
        shard_path(dir, 1, path, sizeof path);
        AF_TEST_PASS(af__digest_stream_new(p1, path, 1, 4, 7, &ds, err));
        AF_EXPECT(ds == NULL);
        AF_TEST_PASS(af__shard_plan_digest(p1, path, 1, 4, 7, &ref, err));
    }
    af_seal_check chk = { 1, 4, 7, got };
    AF_TEST_PASS(af_shardset_seal_checked(ss, &chk, &infos, &ninfos, err));
    AF_EXPECT(ninfos == 3);
    for (size_t k = 0; k < 3 && ninfos == 3; k += 2) {
        shard_path(dir, k, path, sizeof path);
        expect_reference(path, &got[k], 1, 4, 7);
        AF_EXPECT(got[k].bytes == infos[k].bytes);
    }
    AF_EXPECT(strcmp(got[1].static_sha256, ref.static_sha256) == 0 && strcmp(got[1].days_sha256, ref.days_sha256) == 0);
    shard_path(dir, 1, path, sizeof path);
    AF_TEST_PASS(af_shard_digest_file(path, 0, 4, 7, &ref, err));
    AF_EXPECT(strcmp(got[1].days_sha256, ref.days_sha256) == 0); /* the days do not depend on the header range */
    free(infos);
    af_shardset_destroy(&ss);
    fx_free(&f);

    snprintf(path, sizeof path, "%s/odd.nc", dir);
    expect_no_plan(path, 0, 0, 0);
    expect_no_plan(path, 1, 1, 0);
    expect_no_plan(path, 1, 0, 1);
    af__shard_plan *p = NULL;
    AF_TEST_FAILS_WITH(AF_ENC, "'odd.nc'", af__shard_plan_new(12345, "odd.nc", &p, err));
    AF_EXPECT(p == NULL);
}

/* The seal's digests (one read, af__digest_stream) against af_shard_digest_file (PnetCDF reads of
 * each variable's days, the independent reference), for a first and a later checkpoint, cdf2 and
 * cdf5; the stream fed in odd pieces (elements split between reads); a short file; bad arguments. */
static void test_output_plan__seal_checked(void)
{
    static const struct { int cdf5, want_static, t0, t1; } cases[] = {
        { 0, 1, 0, 7 }, { 0, 0, 3, 7 }, { 1, 1, 0, 7 }, { 1, 0, 6, 7 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dir[300], path[400];
        fixture f;
        af_shardset *ss = NULL;
        af_shard_info *infos = NULL;
        size_t ninfos = 0;
        af_shard_digest got[3], want;
        af_seal_check chk = { cases[c].want_static, cases[c].t0, cases[c].t1, got };
        AF_EXPECT(fx_init(&f, 7, 3, cases[c].cdf5) == 0);
        new_dir(dir, sizeof dir);
        AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
        AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 4, err));
        AF_TEST_PASS(fx_write(ss, &f, 0, 7, 4, 3, err));
        AF_TEST_PASS(af_shardset_seal_checked(ss, &chk, &infos, &ninfos, err));
        AF_EXPECT(ninfos == 3);
        for (size_t k = 0; k < ninfos; k++) {
            snprintf(path, sizeof path, "%s/shard-%05zu.nc.partial", dir, k);
            AF_TEST_PASS(af_shard_digest_file(path, cases[c].want_static, cases[c].t0, cases[c].t1, &want, err));
            AF_EXPECT(got[k].bytes == want.bytes && got[k].bytes == infos[k].bytes);
            AF_EXPECT(strcmp(got[k].static_sha256, want.static_sha256) == 0);
            AF_EXPECT(strcmp(got[k].days_sha256, want.days_sha256) == 0);
            AF_EXPECT(strlen(want.days_sha256) == 64);
            AF_EXPECT(strlen(want.static_sha256) == (cases[c].want_static ? 64u : 0u));
            /* the stream itself, fed in pieces of 7 and 4093 bytes */
            af__digest_stream *ds = NULL;
            af__shard_plan *plan = plan_of(path);
            AF_EXPECT(plan != NULL);
            if (plan) AF_TEST_PASS(af__digest_stream_new(plan, path, 1, 1, 6, &ds, err));
            AF_EXPECT(ds != NULL);
            FILE *fp = fopen(path, "rb");
            AF_EXPECT(fp != NULL);
            unsigned char buf[4093];
            size_t n, piece = 7;
            while (fp && ds && (n = fread(buf, 1, piece, fp)) > 0) {
                af__digest_stream_feed(ds, buf, n);
                piece = piece == 7 ? sizeof buf : 7;
            }
            if (fp) fclose(fp);
            af_shard_digest s1, r1;
            if (ds) AF_TEST_PASS(af__digest_stream_end(ds, &s1, err));
            af__digest_stream_free(&ds);
            AF_TEST_PASS(af_shard_digest_file(path, 1, 1, 6, &r1, err));
            AF_EXPECT(strcmp(s1.static_sha256, r1.static_sha256) == 0 && strcmp(s1.days_sha256, r1.days_sha256) == 0);
            AF_EXPECT(s1.bytes == r1.bytes);
            /* a file that ends early: the stream names the shortfall */
            if (plan) AF_TEST_PASS(af__digest_stream_new(plan, path, 0, 0, 7, &ds, err));
            if (ds) {
                af__digest_stream_feed(ds, buf, 100);
                AF_TEST_FAILS_WITH(AF_EFORMAT, "shorter than its header", af__digest_stream_end(ds, &s1, err));
            }
            af__digest_stream_free(&ds);
            af__shard_plan_free(&plan);
        }
        free(infos);
        af_shardset_destroy(&ss);
        fx_free(&f);
    }
    /* days outside the axis, and t1 < t0 */
    char dir[300], path[400];
    fixture f;
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    af_shard_digest got[3];
    af__digest_stream *ds = NULL;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 7, err));
    af_seal_check bad = { 0, 5, 2, got };
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_shardset_seal_checked(ss, &bad, &infos, &ninfos, err));
    AF_TEST_PASS(af_shardset_seal_checked(ss, NULL, &infos, &ninfos, err));
    snprintf(path, sizeof path, "%s/shard-00000.nc.partial", dir);
    af__shard_plan *plan = plan_of(path);
    AF_EXPECT(plan != NULL);
    if (plan) AF_TEST_FAILS_WITH(AF_EINVAL, "outside its 7 days", af__digest_stream_new(plan, path, 0, 2, 9, &ds, err));
    AF_EXPECT(ds == NULL);
    af__shard_plan_free(&plan);
    free(infos);
    af_shardset_destroy(&ss);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    snprintf(g_root, sizeof g_root, "/tmp/af_test_plan_XXXXXX");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        MPI_Finalize();
        return 1;
    }
    AF_RUN(test_output_plan__seal_checked);
    AF_RUN(test_output_plan__checkpoints);
    AF_RUN(test_output_plan__errors);
    AF_RUN(test_output_plan__fallbacks);
    if (!af_test_failed_cases) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
        if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g_root);
    } else {
        fprintf(stderr, "test files kept in %s\n", g_root);
    }
    int rc = AF_TEST_END();
    MPI_Finalize();
    return rc;
}
