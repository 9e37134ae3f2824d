/* SPDX-License-Identifier: MIT */
/*
 * test_output.c: unit tests of agroflux/output.h and agroflux/index.h on one
 * rank: shard round trip, zero inputs, publish (and a vanished .partial),
 * index write/read round trip, and every
 * error path of af_index_read and af_index_verify (missing shard, flipped byte,
 * truncated file, wrong dims, wrong sample id, shard coverage, bad JSON,
 * missing field, wrong schema_version, absent index).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mpi.h>

#include "af_test.h"
#include "af_util.h"
#include "agroflux/index.h"
#include "agroflux/stats.h"
#include "output_fixture.h"

static char g_root[256];
static int g_dirs = 0;

static void new_dir(char *out, size_t n)
{
    snprintf(out, n, "%s/d%d", g_root, g_dirs++);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", out);
    if (system(cmd) != 0) fprintf(stderr, "mkdir failed\n");
}

/* Write the fixture (7 samples, S=3 unless given) into dir in two day blocks; fill idx. */
static int make_output(const char *dir, fixture *f, size_t nin, af_index *idx, af_error *err)
{
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    int rc = AF_OK;
    f->layout.ninputs = nin;
    if ((rc = af_shardset_create(MPI_COMM_WORLD, dir, &f->layout, &ss, err)) != AF_OK) goto done;
    if ((rc = fx_write(ss, f, 0, 4, 0, 4, err)) != AF_OK) goto done;
    if ((rc = fx_write(ss, f, 4, f->layout.nsamples - 4, 0, 4, err)) != AF_OK) goto done;
    if ((rc = fx_write(ss, f, 0, f->layout.nsamples, 4, 3, err)) != AF_OK) goto done;
    if ((rc = af_shardset_finish(ss, &infos, &ninfos, err)) != AF_OK) goto done;
    memset(idx, 0, sizeof *idx);
    idx->schema_version = AF_INDEX_SCHEMA_VERSION;
    snprintf(idx->pipeline_name, sizeof idx->pipeline_name, "fixture");
    snprintf(idx->config_sha256, sizeof idx->config_sha256, "%s", f->layout.config_sha256);
    snprintf(idx->calendar, sizeof idx->calendar, "noleap");
    idx->start = af_calendar_start(f->cal);
    idx->end = af_calendar_end(f->cal);
    idx->ndays = af_calendar_ndays(f->cal);
    snprintf(idx->format, sizeof idx->format, "cdf2");
    idx->shard_samples = f->layout.shard_samples;
    idx->inputs = malloc(sizeof f->inputs);
    memcpy(idx->inputs, f->inputs, sizeof f->inputs);
    idx->ninputs = nin;
    idx->targets = malloc(sizeof f->targets);
    memcpy(idx->targets, f->targets, sizeof f->targets);
    idx->ntargets = FX_NTG;
    idx->shards = infos;
    idx->nshards = ninfos;
    infos = NULL;
    idx->samples = malloc(f->layout.nsamples * sizeof *idx->samples);
    memcpy(idx->samples, f->samples, f->layout.nsamples * sizeof *idx->samples);
    idx->nsamples = f->layout.nsamples;
    snprintf(idx->software, sizeof idx->software, "agroflux test");
    snprintf(idx->created, sizeof idx->created, "2024-01-02T03:04:05Z");
    idx->ranks = 1;
    idx->peak_rss_bytes = 123456789;
    idx->prov_inputs = calloc(1, sizeof *idx->prov_inputs);
    snprintf(idx->prov_inputs[0].path, sizeof idx->prov_inputs[0].path, "in/a.csv");
    idx->prov_inputs[0].bytes = 42;
    memset(idx->prov_inputs[0].sha256, 'a', 64);
    idx->nprov_inputs = 1;
    /* a provenance file the index references (verify checks its size and hash) */
    static const char prov_text[] = "{\"files\": []}\n";
    char prov_path[400];
    snprintf(prov_path, sizeof prov_path, "%s/provenance.json", dir);
    if ((rc = af_write_atomic(prov_path, prov_text, strlen(prov_text), err)) != AF_OK) goto done;
    snprintf(idx->prov_ref.path, sizeof idx->prov_ref.path, "provenance.json");
    idx->prov_ref.bytes = (long long)strlen(prov_text);
    idx->prov_ref.count = 3;
    idx->rank_max_fds = calloc(2, sizeof *idx->rank_max_fds);
    if (idx->rank_max_fds) { idx->rank_max_fds[0] = 40; idx->rank_max_fds[1] = 41; idx->nrank_max_fds = 2; }
    af_sha256_hex(prov_text, strlen(prov_text), idx->prov_ref.sha256);
    /* and a coverage file with the warning counts (verify checks it like provenance.json) */
    static const char cov_text[] = "{\"features\": [1, 2]}";
    snprintf(prov_path, sizeof prov_path, "%s/coverage.json", dir);
    if ((rc = af_write_atomic(prov_path, cov_text, strlen(cov_text), err)) != AF_OK) goto done;
    snprintf(idx->coverage_ref.path, sizeof idx->coverage_ref.path, "coverage.json");
    idx->coverage_ref.bytes = (long long)strlen(cov_text);
    idx->coverage_ref.count = 2;
    af_sha256_hex(cov_text, strlen(cov_text), idx->coverage_ref.sha256);
    idx->has_coverage_warnings = 1;
    for (int k = 0; k < AF_COV_NWARN; k++) idx->coverage_warnings[k] = 10 + k;
    idx->timings = calloc(2, sizeof *idx->timings);
    snprintf(idx->timings[0].stage, sizeof idx->timings[0].stage, "read");
    idx->timings[0].min = 0.5;
    idx->timings[0].mean = 0.75;
    idx->timings[0].max = 1.25;
    idx->timings[0].cpu_min = 0.25;
    idx->timings[0].cpu_max = 0.5;
    snprintf(idx->timings[1].stage, sizeof idx->timings[1].stage, "write");
    idx->timings[1].cpu_min = idx->timings[1].cpu_max = -1; /* not recorded: written without them */
    idx->ntimings = 2;
    idx->extra_json = strdup("{\"splits\": {\"train\": [0, 1], \"test\": [2]}, \"scale\": 0.5}");
    rc = af_index_write(dir, idx, err);
done:
    free(infos);
    af_shardset_destroy(&ss);
    return rc;
}

static void test_output_shard__roundtrip(void)
{
    char dir[300], path[400];
    fixture f;
    af_index idx;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, FX_NIN, &idx, err));
    AF_EXPECT(idx.nshards == 3);
    AF_EXPECT(idx.nshards == 3 && idx.shards[2].sample_start == 6 && idx.shards[2].sample_count == 1);
    AF_EXPECT(strcmp(idx.shards[1].path, "shard-00001.nc") == 0);
    int bad = 0;
    for (size_t s = 0; s < 7; s++) {
        snprintf(path, sizeof path, "%s/shard-%05zu.nc", dir, s / 3);
        fx_check_row(path, s % 3, s, &f, &bad);
    }
    AF_EXPECT(bad == 0);
    snprintf(path, sizeof path, "%s/shard-00000.nc.partial", dir);
    AF_EXPECT(access(path, F_OK) != 0);
    /* a rectangle: rows 1..2 of shard 1 (samples 4, 5) x days 2..5, feature-interleaved */
    float bx[2 * 4 * FX_NIN], by[2 * 4 * FX_NTG];
    snprintf(path, sizeof path, "%s/shard-00001.nc", dir);
    AF_TEST_PASS(af_shard_read_block(path, 1, 2, 2, 4, bx, by, err));
    for (size_t r = 0; r < 2; r++)
        for (int t = 0; t < 4; t++) {
            for (size_t i = 0; i < FX_NIN; i++) bad += bx[(r * 4 + (size_t)t) * FX_NIN + i] != fx_x(4 + r, 2 + t, i);
            for (size_t j = 0; j < FX_NTG; j++) bad += by[(r * 4 + (size_t)t) * FX_NTG + j] != fx_y(4 + r, 2 + t, j);
        }
    AF_EXPECT(bad == 0);
    AF_TEST_FAILS_WITH(AF_EINVAL, "rows 2..4 x days 0..1 outside 3 x 7",
                       af_shard_read_block(path, 2, 2, 0, 1, bx, by, err));
    snprintf(path, sizeof path, "%s/shard-00002.nc", dir);
    AF_TEST_FAILS_WITH(AF_EINVAL, "row 1 outside", af_shard_read_row(path, 1, NULL, NULL, NULL, NULL, NULL, err));
    AF_TEST_FAILS_WITH(AF_ENC, "nope.nc", af_shard_read_row("/nonexistent/nope.nc", 0, NULL, NULL, NULL, NULL, NULL, err));
    AF_EXPECT(af_output_nshards(7, 3) == 3 && af_output_nshards(6, 3) == 2 && af_output_nshards(0, 3) == 0);
    long long est = af_output_estimate_bytes(&f.layout), actual = 0;
    for (size_t k = 0; k < idx.nshards; k++) actual += idx.shards[k].bytes;
    AF_EXPECT(est > actual * 3 / 4 && est < actual * 3 / 2);
    if (!(est > actual * 3 / 4 && est < actual * 3 / 2)) fprintf(stderr, "estimate %lld, actual %lld\n", est, actual);
    af_index_dispose(&idx);
    fx_free(&f);
}

static void test_output_shard__zero_inputs(void)
{
    char dir[300], path[400];
    fixture f;
    af_index idx;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, 0, &idx, err));
    int bad = 0;
    snprintf(path, sizeof path, "%s/shard-00001.nc", dir);
    fx_check_row(path, 2, 5, &f, &bad);
    AF_EXPECT(bad == 0);
    size_t n = 0;
    AF_TEST_PASS(af_index_verify(dir, &idx, &n, err));
    AF_EXPECT(n == 3);
    af_index_dispose(&idx);
    fx_free(&f);
}

static void test_output_shard__errors(void)
{
    char dir[300], path[400];
    fixture f;
    af_shardset *ss = NULL;
    AF_EXPECT(fx_init(&f, 5, 2, 0) == 0);
    new_dir(dir, sizeof dir);
    f.layout.shard_samples = 0;
    AF_TEST_FAILS_WITH(AF_EINVAL, "shard_samples", af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    f.layout.shard_samples = 2;
    AF_TEST_FAILS_WITH(AF_ENC, "/nonexistent/dir", af_shardset_create(MPI_COMM_WORLD, "/nonexistent/dir", &f.layout, &ss, err));
    AF_EXPECT(ss == NULL);
    /* one NetCDF variable per feature: names must not collide, units must be known */
    snprintf(f.inputs[1].name, sizeof f.inputs[1].name, "lat");
    AF_TEST_FAILS_WITH(AF_EINVAL, "input 'lat': the shard layout uses this name",
                       af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    snprintf(f.inputs[1].name, sizeof f.inputs[1].name, "GPP");
    AF_TEST_FAILS_WITH(AF_EINVAL, "'GPP' is both an input and a target",
                       af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    snprintf(f.inputs[1].name, sizeof f.inputs[1].name, "PRCP");
    snprintf(f.targets[2].units, sizeof f.targets[2].units, "furlong");
    AF_TEST_FAILS_WITH(AF_EUNITS, "target 'YIELD': unknown units 'furlong'",
                       af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    snprintf(f.targets[2].units, sizeof f.targets[2].units, "g C m-2");
    AF_EXPECT(ss == NULL);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    float dummy[64] = { 0 };
    unsigned char v[64] = { 0 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "t0", af_shardset_write_block(ss, 0, 1, 5, 3, dummy, NULL, dummy, v, dummy, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "nsamples", af_shardset_write_block(ss, 4, 2, 0, 1, dummy, NULL, dummy, v, dummy, err));
    snprintf(path, sizeof path, "%s/shard-00002.nc.partial", dir);
    AF_EXPECT(access(path, F_OK) == 0);
    af_shardset_destroy(&ss); /* unfinished: removes the temporary files */
    AF_EXPECT(ss == NULL);
    AF_EXPECT(access(path, F_OK) != 0);
    af_shardset_destroy(&ss);
    af_shardset_destroy(NULL);
    /* owned samples: outside the layout, then a write outside the rank's own range */
    AF_TEST_FAILS_WITH(AF_EINVAL, "outside the layout",
                       af_shardset_create_owned(MPI_COMM_WORLD, dir, &f.layout, 3, 3, &ss, err));
    AF_EXPECT(ss == NULL);
    AF_TEST_PASS(af_shardset_create_owned(MPI_COMM_WORLD, dir, &f.layout, 0, 5, &ss, err));
    af_shardset_destroy(&ss);
    fx_free(&f);
}

/* A rank that owns samples 0..1 opens only shard 0, may not write sample 2, and cannot seal or
 * digest shards nobody wrote. */
static void test_output_shard__owned(void)
{
    char dir[300], path[400];
    fixture f;
    af_shardset *ss = NULL;
    AF_EXPECT(fx_init(&f, 5, 2, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create_owned(MPI_COMM_WORLD, dir, &f.layout, 0, 2, &ss, err));
    snprintf(path, sizeof path, "%s/shard-00000.nc.partial", dir);
    AF_EXPECT(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/shard-00001.nc.partial", dir);
    AF_EXPECT(access(path, F_OK) != 0); /* nobody owns it in this one-rank test */
    AF_TEST_FAILS_WITH(AF_EINVAL, "not this rank's", fx_write(ss, &f, 2, 1, 0, 1, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 2, 0, 7, err));
    /* shards 1 and 2 have no writer, hence no file and no rank to hash or digest them */
    af_shard_info *infos = NULL;
    af_shard_digest dg[3];
    size_t ninfos = 0;
    AF_TEST_FAILS_WITH(AF_EINVAL, "shard 1 holds samples that no rank wrote",
                       af_shardset_digest(ss, 1, 0, 7, dg, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "shard 1 holds samples that no rank wrote",
                       af_shardset_seal(ss, &infos, &ninfos, err));
    AF_EXPECT(infos == NULL && ninfos == 0);
    af_shardset_destroy(&ss);
    fx_free(&f);
}

/* Publish renames every sealed .partial to its final name (the bytes the seal hashed), and a
 * .partial that vanished between seal and publish fails naming it, leaving nothing half-renamed
 * behind the first failure. */
static void test_output_shard__publish(void)
{
    char dir[300], part[400], fin[400];
    fixture f;
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    AF_EXPECT(fx_init(&f, 5, 2, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 5, 0, 7, err));
    AF_TEST_PASS(af_shardset_seal(ss, &infos, &ninfos, err));
    AF_EXPECT(ninfos == 3);
    AF_TEST_PASS(af_shardset_publish(ss, err));
    for (size_t k = 0; k < ninfos; k++) {
        char sha[65];
        snprintf(part, sizeof part, "%s/shard-%05zu.nc.partial", dir, k);
        snprintf(fin, sizeof fin, "%s/shard-%05zu.nc", dir, k);
        AF_EXPECT(access(part, F_OK) != 0);
        AF_TEST_PASS(af_file_sha256(fin, sha, err));
        AF_EXPECT(strcmp(sha, infos[k].sha256) == 0);
    }
    free(infos);
    af_shardset_destroy(&ss);

    new_dir(dir, sizeof dir);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 5, 0, 7, err));
    AF_TEST_PASS(af_shardset_seal(ss, &infos, &ninfos, err));
    snprintf(part, sizeof part, "%s/shard-00001.nc.partial", dir);
    AF_EXPECT(unlink(part) == 0);
    AF_TEST_FAILS_WITH(AF_EIO, "shard-00001.nc.partial' to '", af_shardset_publish(ss, err));
    snprintf(fin, sizeof fin, "%s/shard-00002.nc.partial", dir);
    AF_EXPECT(access(fin, F_OK) == 0); /* not renamed after the failure */
    free(infos);
    af_shardset_keep_partial(ss, 1);
    af_shardset_destroy(&ss);
    fx_free(&f);
}

static void test_output_index__roundtrip(void)
{
    char dir[300];
    fixture f;
    af_index idx, back;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, FX_NIN, &idx, err));
    AF_TEST_PASS(af_index_read(dir, &back, err));
    AF_EXPECT(back.schema_version == 1);
    AF_EXPECT(strcmp(back.pipeline_name, "fixture") == 0);
    AF_EXPECT(strcmp(back.calendar, "noleap") == 0 && back.ndays == 7);
    AF_EXPECT(back.start.year == 2020 && back.start.month == 12 && back.start.day == 28);
    AF_EXPECT(back.end.year == 2021 && back.end.month == 1 && back.end.day == 4);
    AF_EXPECT(strcmp(back.format, "cdf2") == 0 && back.shard_samples == 3);
    AF_EXPECT(back.ninputs == 2 && back.ntargets == 3);
    AF_EXPECT(back.ntargets == 3 && strcmp(back.targets[1].sign, "positive upward") == 0);
    AF_EXPECT(back.ntargets == 3 && strcmp(back.targets[2].units, "g C m-2") == 0);
    AF_EXPECT(back.nshards == 3 && back.nsamples == 7);
    for (size_t k = 0; k < back.nshards && k < 3; k++) {
        AF_EXPECT(strcmp(back.shards[k].path, idx.shards[k].path) == 0);
        AF_EXPECT(strcmp(back.shards[k].sha256, idx.shards[k].sha256) == 0);
        AF_EXPECT(back.shards[k].bytes == idx.shards[k].bytes);
        AF_EXPECT(back.shards[k].sample_start == idx.shards[k].sample_start);
    }
    for (size_t i = 0; i < back.nsamples && i < 7; i++) {
        AF_EXPECT(strcmp(back.samples[i].id, f.samples[i].id) == 0);
        AF_EXPECT(back.samples[i].kind == f.samples[i].kind);
        AF_EXPECT(strcmp(back.samples[i].fips, f.samples[i].fips) == 0);
        AF_EXPECT(strcmp(back.samples[i].scenario, f.samples[i].scenario) == 0);
        AF_EXPECT_NEAR(back.samples[i].lat, f.samples[i].lat, 1e-8);
        AF_EXPECT_NEAR(back.samples[i].lon, f.samples[i].lon, 1e-8);
    }
    AF_EXPECT(strcmp(back.created, "2024-01-02T03:04:05Z") == 0 && back.ranks == 1);
    AF_EXPECT(back.peak_rss_bytes == 123456789);
    AF_EXPECT(back.nprov_inputs == 1 && back.prov_inputs[0].bytes == 42);
    AF_EXPECT(strcmp(back.prov_ref.path, "provenance.json") == 0 && back.prov_ref.bytes == 14 &&
              back.prov_ref.count == 3 && strcmp(back.prov_ref.sha256, idx.prov_ref.sha256) == 0);
    AF_EXPECT(strcmp(back.coverage_ref.path, "coverage.json") == 0 && back.coverage_ref.bytes == 20 &&
              back.coverage_ref.count == 2 && strcmp(back.coverage_ref.sha256, idx.coverage_ref.sha256) == 0);
    AF_EXPECT(back.has_coverage_warnings && back.coverage_warnings[AF_COV_FILE_EMPTY] == 10 &&
              back.coverage_warnings[AF_COV_SAMPLE] == 13);
    AF_EXPECT(strcmp(af_index_coverage_warning_name(AF_COV_YEAR_MISSING), "year_missing") == 0 &&
              strcmp(af_index_coverage_warning_name(AF_COV_NWARN), "?") == 0);
    AF_EXPECT(back.nrank_max_fds == 2 && back.rank_max_fds[0] == 40 && back.rank_max_fds[1] == 41);
    AF_EXPECT(back.ntimings == 2 && back.timings[0].mean == 0.75 && strcmp(back.timings[1].stage, "write") == 0);
    AF_EXPECT(back.timings[0].cpu_min == 0.25 && back.timings[0].cpu_max == 0.5);
    AF_EXPECT(back.timings[1].cpu_min == -1 && back.timings[1].cpu_max == -1); /* an index from before 2026-12 */
    AF_EXPECT(back.extra_json && strstr(back.extra_json, "\"splits\"") && strstr(back.extra_json, "0.5"));
    AF_EXPECT(af_index_find_sample(&back, "US-X6") == 6);
    AF_EXPECT(af_index_find_sample(&back, "19001:N1") == 1);
    AF_EXPECT(af_index_find_sample(&back, "nope") == -1);
    size_t n = 0;
    AF_TEST_PASS(af_index_verify(dir, &back, &n, err));
    AF_EXPECT(n == 3);
    /* re-writing what was read gives the same bytes */
    char dir2[300], p1[400], p2[400];
    new_dir(dir2, sizeof dir2);
    AF_TEST_PASS(af_index_write(dir2, &back, err));
    snprintf(p1, sizeof p1, "%s/index.json", dir);
    snprintf(p2, sizeof p2, "%s/index.json", dir2);
    char h1[65] = "", h2[65] = "";
    AF_TEST_PASS(af_file_sha256(p1, h1, err));
    AF_TEST_PASS(af_file_sha256(p2, h2, err));
    AF_EXPECT(strcmp(h1, h2) == 0);
    af_index_dispose(&back);
    af_index_dispose(&idx);
    af_index_dispose(&idx);
    fx_free(&f);
}

/* Mutate a shard file of dir with a shell command, run verify, then restore it. */
static void verify_after(const char *dir, const af_index *idx, const char *cmd_fmt, const char *needle)
{
    char cmd[1200], path[400];
    snprintf(path, sizeof path, "%s/shard-00001.nc", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s.bak' && ", path, path);
    size_t len = strlen(cmd);
    snprintf(cmd + len, sizeof cmd - len, cmd_fmt, path);
    AF_EXPECT(system(cmd) == 0);
    AF_TEST_FAILS_WITH(AF_EVERIFY, needle, af_index_verify(dir, idx, NULL, err));
    snprintf(cmd, sizeof cmd, "mv -f '%s.bak' '%s'", path, path);
    AF_EXPECT(system(cmd) == 0);
}

static void test_output_verify__errors(void)
{
    char dir[300];
    fixture f;
    af_index idx;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, FX_NIN, &idx, err));
    verify_after(dir, &idx, "rm -f '%s'", "shard-00001.nc: missing");
    verify_after(dir, &idx, "printf '\\377' | dd of='%s' bs=1 seek=2000 conv=notrunc status=none",
                 "shard-00001.nc: sha256 mismatch: index says ");
    verify_after(dir, &idx, "truncate -s -10 '%s'", "shard-00001.nc: size mismatch");
    char cov[400];
    snprintf(cov, sizeof cov, "%s/coverage.json", dir);
    FILE *cf = fopen(cov, "a");
    AF_EXPECT(cf != NULL);
    if (cf) { fputs(" ", cf); fclose(cf); }
    AF_TEST_FAILS_WITH(AF_EVERIFY, "coverage.json: does not match the index (21 bytes", af_index_verify(dir, &idx, NULL, err));
    unlink(cov);
    AF_TEST_FAILS_WITH(AF_EVERIFY, "coverage.json: missing", af_index_verify(dir, &idx, NULL, err));
    cf = fopen(cov, "w");
    if (cf) { fputs("{\"features\": [1, 2]}", cf); fclose(cf); }
    size_t n = 99;
    AF_TEST_PASS(af_index_verify(dir, &idx, &n, err));
    AF_EXPECT(n == 3);

    idx.ninputs = 1;
    AF_TEST_FAILS_WITH(AF_EVERIFY, "shard-00000.nc: dimension input: index says 1, file has 2",
                       af_index_verify(dir, &idx, &n, err));
    AF_EXPECT(n == 0);
    idx.ninputs = 2;
    idx.ndays = 8;
    AF_TEST_FAILS_WITH(AF_EVERIFY, "dimension time", af_index_verify(dir, &idx, NULL, err));
    idx.ndays = 7;
    snprintf(idx.targets[1].name, sizeof idx.targets[1].name, "NOPE");
    AF_TEST_FAILS_WITH(AF_EVERIFY, "shard-00000.nc: target variable NOPE is missing",
                       af_index_verify(dir, &idx, NULL, err));
    snprintf(idx.targets[1].name, sizeof idx.targets[1].name, "x_qc");
    AF_TEST_FAILS_WITH(AF_EVERIFY, "shard-00000.nc: variable x_qc: expected 2 dimensions starting (time, sample)",
                       af_index_verify(dir, &idx, NULL, err));
    snprintf(idx.targets[1].name, sizeof idx.targets[1].name, "NEE");
    snprintf(idx.samples[4].id, sizeof idx.samples[4].id, "19099:N9");
    AF_TEST_FAILS_WITH(AF_EVERIFY, "shard-00001.nc: sample_id of row 1: index says '19099:N9', file has '19003:N0'",
                       af_index_verify(dir, &idx, &n, err));
    AF_EXPECT(n == 1);
    snprintf(idx.samples[4].id, sizeof idx.samples[4].id, "19003:N0");
    idx.shards[1].sample_count = 2;
    AF_TEST_FAILS_WITH(AF_EVERIFY, "index 5) lies in no shard", af_index_verify(dir, &idx, NULL, err));
    idx.shards[1].sample_count = 4;
    AF_TEST_FAILS_WITH(AF_EVERIFY, "more than one shard", af_index_verify(dir, &idx, NULL, err));
    idx.shards[1].sample_count = 3;
    idx.format[3] = '5';
    AF_TEST_FAILS_WITH(AF_EVERIFY, "format: index says cdf5, file is cdf2", af_index_verify(dir, &idx, NULL, err));
    idx.format[3] = '2';
    AF_TEST_PASS(af_index_verify(dir, &idx, NULL, err));
    af_index_dispose(&idx);
    fx_free(&f);
}

/* Load dir/index.json, apply edit, write it back. */
static void edit_index(const char *dir, void (*edit)(json_t *root))
{
    char path[400];
    snprintf(path, sizeof path, "%s/index.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    AF_EXPECT(root != NULL);
    if (!root) return;
    edit(root);
    AF_EXPECT(json_dump_file(root, path, JSON_INDENT(2)) == 0);
    json_decref(root);
}

static void del_format(json_t *r) { json_object_del(r, "format"); }
static void bump_version(json_t *r) { json_object_set_new(r, "schema_version", json_integer(2)); }
static void bad_kind(json_t *r)
{
    json_object_set_new(json_array_get(json_object_get(r, "samples"), 2), "kind", json_string("farm"));
}
static void del_sample_lat(json_t *r) { json_object_del(json_array_get(json_object_get(r, "samples"), 3), "lat"); }
static void bad_ndays(json_t *r) { json_object_set_new(json_object_get(r, "calendar"), "ndays", json_integer(8)); }
static void bad_sha(json_t *r)
{
    json_object_set_new(json_array_get(json_object_get(r, "shards"), 0), "sha256", json_string("xyz"));
}
static void bad_row(json_t *r) { json_object_set_new(json_array_get(json_object_get(r, "samples"), 4), "row", json_integer(0)); }
static void bad_prov_file(json_t *r)
{
    json_object_set_new(json_object_get(json_object_get(r, "provenance"), "inputs_file"), "path",
                        json_string("../elsewhere.json"));
}
/* 64-bit values that used to wrap when narrowed to int: 2^32 + 8 days, 2^32 + 1 ranks */
static void huge_ndays(json_t *r) { json_object_set_new(json_object_get(r, "calendar"), "ndays", json_integer(4294967304LL)); }
static void huge_ranks(json_t *r)
{
    json_object_set_new(json_object_get(r, "provenance"), "ranks", json_integer(4294967297LL));
}
static void neg_ranks(json_t *r) { json_object_set_new(json_object_get(r, "provenance"), "ranks", json_integer(-3)); }
static void bad_cov_file(json_t *r)
{
    json_object_set_new(json_object_get(json_object_get(r, "provenance"), "coverage_file"), "sha256",
                        json_string("abc"));
}
static void str_cov_file(json_t *r) { json_object_set_new(json_object_get(r, "provenance"), "coverage_file", json_string("x")); }
static void str_cov_warn(json_t *r)
{
    json_object_set_new(json_object_get(r, "provenance"), "coverage_warnings", json_integer(3));
}
static void del_cov_warn(json_t *r)
{
    json_object_del(json_object_get(json_object_get(r, "provenance"), "coverage_warnings"), "year_missing");
}
/* one stage's timing, with CPU seconds as given (NULL: the key is left out) */
static void set_timing(json_t *r, json_t *cpu_min, json_t *cpu_max)
{
    json_t *t = json_pack("{s:s, s:f, s:f, s:f}", "stage", "read", "min", 1.0, "mean", 1.0, "max", 1.0);
    if (cpu_min) json_object_set_new(t, "cpu_min", cpu_min);
    if (cpu_max) json_object_set_new(t, "cpu_max", cpu_max);
    json_object_set_new(json_object_get(r, "provenance"), "timings", json_pack("[o]", t));
}
static void str_cpu_min(json_t *r) { set_timing(r, json_string("x"), json_real(1.0)); }
static void half_cpu(json_t *r) { set_timing(r, json_real(1.0), NULL); }
static void neg_cpu(json_t *r) { set_timing(r, json_real(0.5), json_real(-1.0)); }
static void str_units(json_t *r) { json_object_set_new(json_array_get(json_object_get(r, "inputs"), 1), "units", json_integer(3)); }

static void test_output_index__read_errors(void)
{
    char dir[300], path[400];
    fixture f;
    af_index idx, back;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, FX_NIN, &idx, err));
    struct { void (*edit)(json_t *); const char *needle; } cases[] = {
        { del_format, "field 'format' is missing" },
        { bump_version, "field 'schema_version' is 2, this agroflux reads 1" },
        { bad_kind, "field 'samples[2].kind' is not" },
        { del_sample_lat, "field 'samples[3].lat' is missing" },
        { bad_ndays, "field 'calendar.ndays' is 8" },
        { bad_sha, "field 'shards[0].sha256'" },
        { bad_row, "field 'samples[4].row' does not match" },
        { str_units, "field 'inputs[1].units' is not a string" },
        { bad_prov_file, "field 'provenance.inputs_file' needs a file name" },
        { huge_ndays, "index.json': field 'calendar.ndays' is 4294967304, out of range (above 2147483647)" },
        { huge_ranks, "index.json': field 'provenance.ranks' is 4294967297, out of range (above 2147483647)" },
        { neg_ranks, "index.json': field 'provenance.ranks' is -3, out of range (below 1)" },
        { bad_cov_file, "field 'provenance.coverage_file' needs a file name in the output directory and a 64-hex" },
        { str_cov_file, "field 'provenance.coverage_file' is not an object" },
        { str_cov_warn, "field 'provenance.coverage_warnings' is not an object" },
        { del_cov_warn, "field 'provenance.coverage_warnings.year_missing' is missing" },
        { str_cpu_min, "field 'provenance.timings[0].cpu_min' is not a number" },
        { half_cpu, "field 'provenance.timings[0].cpu_max' is missing" },
        { neg_cpu, "field 'provenance.timings[0].cpu_max' is negative" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        AF_TEST_PASS(af_index_write(dir, &idx, err));
        edit_index(dir, cases[c].edit);
        memset(&back, 0x5a, sizeof back);
        AF_TEST_FAILS_WITH(AF_EFORMAT, cases[c].needle, af_index_read(dir, &back, err));
        AF_EXPECT(back.samples == NULL && back.shards == NULL && back.extra_json == NULL);
    }
    snprintf(path, sizeof path, "%s/index.json", dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"schema\": \"agroflux-index\", ", fp);
    fclose(fp);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "index.json': line", af_index_read(dir, &back, err));
    fp = fopen(path, "w");
    fputs("[1, 2]\n", fp);
    fclose(fp);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "not a JSON object", af_index_read(dir, &back, err));
    fp = fopen(path, "wb");
    fwrite("{\"schema\": \0\"agroflux-index\"}", 1, 29, fp);
    fclose(fp);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "index.json': NUL byte at offset 11", af_index_read(dir, &back, err));
    unlink(path);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "index.json", af_index_read(dir, &back, err));
    free(idx.extra_json);
    idx.extra_json = strdup("[1]");
    AF_TEST_FAILS_WITH(AF_EINVAL, "extra_json", af_index_write(dir, &idx, err));
    free(idx.extra_json);
    idx.extra_json = NULL;
    AF_TEST_FAILS_WITH(AF_EIO, "/nonexistent", af_index_write("/nonexistent/out", &idx, err));
    af_index_dispose(&idx);
    fx_free(&f);
}

static const af_stats_row *stats_row(const af_stats *st, size_t var, af_sample_kind kind, int year)
{
    for (size_t i = 0; i < st->nrows; i++)
        if (st->rows[i].var == var && st->rows[i].kind == kind && st->rows[i].year == year) return &st->rows[i];
    return NULL;
}

/* af_stats_compute on the fixture, whose values are known functions (output_fixture.h):
 * 5 counties and 2 sites over 2020-12-28..2021-01-04 (noleap: 3 days of 2020, 4 of 2021). */
static void test_output_stats__fixture(void)
{
    char dir[300];
    fixture f;
    af_index idx;
    af_stats st = { 0 };
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    new_dir(dir, sizeof dir);
    AF_TEST_PASS(make_output(dir, &f, FX_NIN, &idx, err));
    AF_TEST_PASS(af_stats_compute(dir, &idx, &st, err));
    AF_EXPECT(st.nrows == (FX_NIN + FX_NTG) * 2 * 2);
    /* TMAX_AIR (x = s*1000 + t) for counties s = 0..4 in 2020 (days 0..2) */
    const af_stats_row *r = stats_row(&st, 0, AF_SAMPLE_COUNTY, 2020);
    AF_EXPECT(r && r->cells == 15 && r->valid == 15 && r->missing == 0);
    AF_EXPECT(r && r->min == 0 && r->max == 4002 && fabs(r->mean - 2001) < 1e-9);
    AF_EXPECT(r && r->above == 12 && r->below == 0); /* over 60 degC: every value of samples 1..4 */
    /* sites s = 5, 6 in 2021 (days 3..6) */
    r = stats_row(&st, 0, AF_SAMPLE_SITE, 2021);
    AF_EXPECT(r && r->cells == 8 && r->min == 5003 && r->max == 6006 && fabs(r->mean - 5504.5) < 1e-9);
    /* GPP (y = -(s*1000 + t), units gC m-2 d-1): all but sample 0 day 0 below 0 */
    r = stats_row(&st, FX_NIN, AF_SAMPLE_COUNTY, 2020);
    AF_EXPECT(r && r->is_target && r->cells == 15 && r->below == 14 && r->above == 0);
    /* PRCP has no bounds: nothing counted */
    r = stats_row(&st, 1, AF_SAMPLE_COUNTY, 2021);
    AF_EXPECT(r && r->below == 0 && r->above == 0 && r->cells == 20);
    af_stats_dispose(&st);
    af_stats_dispose(&st);

    double lo, hi;
    const char *why = NULL;
    AF_EXPECT(af_stats_bounds("TMAX_AIR", "K", &lo, &hi, &why) == 1 && fabs(lo - 213.15) < 1e-9 &&
              fabs(hi - 333.15) < 1e-9 && why && why[0]);
    AF_EXPECT(af_stats_bounds("TMAX_SOIL_3", "degC", &lo, &hi, NULL) == 1 && lo == -50 && hi == 70);
    AF_EXPECT(af_stats_bounds("TMAX_AIR", "mm d-1", &lo, &hi, NULL) == 0 && isinf(lo) && isinf(hi));
    AF_EXPECT(af_stats_bounds("NO_SUCH", "degC", &lo, &hi, NULL) == 0);

    /* error paths: an index that does not match its calendar, a shard outside the index */
    idx.ndays = 8;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "calendar gives 7 days, ndays is 8", af_stats_compute(dir, &idx, &st, err));
    idx.ndays = 7;
    idx.shards[2].sample_count = 3;
    AF_TEST_FAILS_WITH(AF_EFORMAT, "shard-00002.nc: samples outside the index", af_stats_compute(dir, &idx, &st, err));
    idx.shards[2].sample_count = 1;
    snprintf(idx.shards[1].path, sizeof idx.shards[1].path, "nope.nc");
    AF_TEST_FAILS_WITH(AF_ENC, "cannot open shard", af_stats_compute(dir, &idx, &st, err));
    AF_EXPECT(st.rows == NULL && st.nrows == 0);
    af_index_dispose(&idx);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    snprintf(g_root, sizeof g_root, "/tmp/af_test_output_XXXXXX");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        MPI_Finalize();
        return 1;
    }
    AF_RUN(test_output_shard__roundtrip);
    AF_RUN(test_output_shard__zero_inputs);
    AF_RUN(test_output_shard__errors);
    AF_RUN(test_output_shard__owned);
    AF_RUN(test_output_shard__publish);
    AF_RUN(test_output_index__roundtrip);
    AF_RUN(test_output_verify__errors);
    AF_RUN(test_output_stats__fixture);
    AF_RUN(test_output_index__read_errors);
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
