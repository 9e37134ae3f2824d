/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c: the pieces of resume below the CLI. journal.json round trip and
 * every read error; the layout hash (stable, and sensitive to samples, coordinates
 * and shard size); af_shardset_reopen: a shardset written for days [0, 4), left
 * as .partial files, reopened and completed, gives the same SHA-256 as one written
 * in one go (and the values read back are the tagged fixture values), and reopen
 * refuses a missing file, another config and another layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_test.h"
#include "af_util.h"
#include "pipeline_impl.h"
#include "../output/output_fixture.h"

static char g_root[] = "/tmp/af-journal-XXXXXX";

static void dir_of(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", g_root, name);
    af_error e = AF_ERROR_INIT;
    af_mkdirs(out, &e);
}

static void put(const char *dir, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/journal.json", dir);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static void test_journal_round_trip(void)
{
    char dir[512];
    dir_of("rt", dir, sizeof dir);
    af_shard_info sh[2];
    memset(sh, 0, sizeof sh);
    for (int k = 0; k < 2; k++) {
        snprintf(sh[k].path, sizeof sh[k].path, "shard-%05d.nc", k);
        sh[k].sample_start = (size_t)k * 7;
        sh[k].sample_count = 7 - (size_t)k;
        sh[k].bytes = 1000 + k;
        memset(sh[k].sha256, 'a' + k, 64);
    }
    af_journal j, r;
    memset(&j, 0, sizeof j);
    memset(j.config_sha256, 'c', 64);
    memset(j.layout_sha256, 'd', 64);
    j.ndays = 730;
    j.days_done = 400;
    AF_TEST_PASS(af__journal_write(dir, &j, err));
    AF_TEST_PASS(af__journal_read(dir, &r, err));
    AF_EXPECT(r.days_done == 400 && r.ndays == 730 && !r.sealed && r.nshards == 0);
    AF_EXPECT(!strcmp(r.config_sha256, j.config_sha256) && !strcmp(r.layout_sha256, j.layout_sha256));
    AF_EXPECT(r.output_sha256[0] == '\0' && r.settings == NULL); /* absent: matched by config_sha256 */
    af__journal_dispose(&r);
    /* the settings that fix the output round-trip, and name the key that differs */
    memset(j.output_sha256, 'e', 64);
    j.settings = "pipeline.name=a\ninput.T.units=degC\n";
    AF_TEST_PASS(af__journal_write(dir, &j, err));
    AF_TEST_PASS(af__journal_read(dir, &r, err));
    AF_EXPECT(!strcmp(r.output_sha256, j.output_sha256) && r.settings && !strcmp(r.settings, j.settings));
    char why[400];
    af__settings_diff(r.settings ? r.settings : "", "pipeline.name=a\ninput.T.units=K\n", why, sizeof why);
    AF_EXPECT(strstr(why, "input.T.units changed: 'degC' in the interrupted run, 'K' now") != NULL);
    af__settings_diff("pipeline.name=a\n", "pipeline.name=a\npipeline.end=2005-01-01\n", why, sizeof why);
    AF_EXPECT(strstr(why, "pipeline.end is set now ('2005-01-01') but not in the interrupted run") != NULL);
    AF_EXPECT(af__settings_is_perf_key("pipeline", "block_days") && !af__settings_is_perf_key("pipeline", "end"));
    af__journal_dispose(&r);
    j.settings = NULL;
    j.output_sha256[0] = '\0';
    j.sealed = 1;
    j.days_done = 730;
    j.shards = sh;
    j.nshards = 2;
    AF_TEST_PASS(af__journal_write(dir, &j, err));
    AF_TEST_PASS(af__journal_read(dir, &r, err));
    AF_EXPECT(r.sealed && r.nshards == 2 && r.shards != NULL);
    if (r.shards) {
        AF_EXPECT(!strcmp(r.shards[1].path, "shard-00001.nc") && r.shards[1].sample_start == 7 &&
                  r.shards[1].sample_count == 6 && r.shards[1].bytes == 1001 && !strcmp(r.shards[1].sha256, sh[1].sha256));
    }
    af__journal_dispose(&r);
    AF_TEST_PASS(af__journal_remove(dir, err));
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "no journal", af__journal_read(dir, &r, err));
    AF_TEST_PASS(af__journal_remove(dir, err)); /* absent is fine */
}

static void test_journal_errors(void)
{
    char dir[512];
    af_journal r;
    dir_of("bad", dir, sizeof dir);
    const char *ok = "\"config_sha256\": \"c\", \"layout_sha256\": \"d\", \"ndays\": 10";
    char text[512];
    put(dir, "{\"schema\": ");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "line", af__journal_read(dir, &r, err));
    put(dir, "{\"schema\": \"other\", \"version\": 1}");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "not an agroflux journal", af__journal_read(dir, &r, err));
    put(dir, "{\"schema\": \"agroflux-journal\", \"version\": 1}"); /* before checks were recorded */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "not an agroflux journal", af__journal_read(dir, &r, err));
    put(dir, "{\"schema\": \"agroflux-journal\", \"version\": 2, \"ndays\": 10}");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "'config_sha256'", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"output_sha256\": \"e\", "
             "\"settings\": 3, \"days_done\": 1, \"state\": \"writing\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "settings is not a string", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 11, \"state\": \"writing\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "days_done 11 > ndays 10", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": -1, \"state\": \"writing\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "'days_done'", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 3, \"state\": \"done\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "unknown state 'done'", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 10, \"state\": \"sealed\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "'shards' array", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 10, \"state\": \"sealed\", "
             "\"shards\": [{\"path\": \"shard-00000.nc\", \"sample_start\": 0, \"sample_count\": 3, \"bytes\": 9}]}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "'sha256'", af__journal_read(dir, &r, err));
    const char *h = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"";
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 6, \"state\": "
             "\"writing\", \"checks\": {\"days\": [4, 4], \"shards\": [{}]}}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "checks.days[1] is not a day after 4", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 6, \"state\": "
             "\"writing\", \"checks\": {\"days\": [4, 6], \"shards\": [{\"bytes\": 5, \"static_sha256\": %s, "
             "\"days_sha256\": [%s]}]}}", ok, h, h);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "days_sha256 needs 2 digests", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 6, \"state\": "
             "\"writing\", \"checks\": {\"days\": [4, 6], \"shards\": [{\"bytes\": 5, \"static_sha256\": %s, "
             "\"days_sha256\": [%s, \"ab\"]}]}}", ok, h, h);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "days_sha256[1] is not a SHA-256", af__journal_read(dir, &r, err));
    /* 64-bit counts that would wrap to small ints (2^32 + 10 is 10 as an int) are out of range */
    put(dir, "{\"schema\": \"agroflux-journal\", \"version\": 2, \"config_sha256\": \"c\", \"layout_sha256\": \"d\", "
             "\"ndays\": 4294967306, \"days_done\": 3, \"state\": \"writing\"}");
    AF_TEST_FAILS_WITH(AF_EFORMAT, "field 'ndays' is 4294967306, out of range 0..2147483647", af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 9223372036854775807, "
             "\"state\": \"writing\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "journal.json': field 'days_done' is 9223372036854775807, out of range",
                       af__journal_read(dir, &r, err));
    snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": \"3\", "
             "\"state\": \"writing\"}", ok);
    put(dir, text);
    AF_TEST_FAILS_WITH(AF_EFORMAT, "field 'days_done' is missing or not an integer", af__journal_read(dir, &r, err));
    /* a NUL byte: refused with its offset (jansson would stop at it, or ignore what follows) */
    {
        char p[600];
        snprintf(p, sizeof p, "%s/journal.json", dir);
        snprintf(text, sizeof text, "{\"schema\": \"agroflux-journal\", \"version\": 2, %s, \"days_done\": 3, "
                 "\"state\": \"writing\"}", ok);
        size_t n = strlen(text);
        FILE *f = fopen(p, "wb");
        AF_EXPECT(f != NULL);
        if (f) {
            fwrite(text, 1, n, f);
            fwrite("\0garbage", 1, 8, f);
            fclose(f);
        }
        char want[64];
        snprintf(want, sizeof want, "journal.json': NUL byte at offset %zu", n);
        AF_TEST_FAILS_WITH(AF_EFORMAT, want, af__journal_read(dir, &r, err));
    }
}

/* Checks round-trip: two checkpoints of two shards, then only the first kept. */
static void test_journal_checks(void)
{
    char dir[512];
    dir_of("checks", dir, sizeof dir);
    af_journal j, r;
    memset(&j, 0, sizeof j);
    memset(j.config_sha256, 'c', 64);
    memset(j.layout_sha256, 'd', 64);
    j.ndays = 100;
    af_shard_digest d[2];
    memset(d, 0, sizeof d);
    for (int k = 0; k < 2; k++) {
        d[k].bytes = 500 + k;
        memset(d[k].static_sha256, 's' - k, 64);
        memset(d[k].days_sha256, '0' + k, 64);
    }
    AF_TEST_PASS(af__journal_add_checks(&j, 30, d, 2, err));
    d[0].bytes = 900;
    memset(d[0].days_sha256, '7', 64);
    AF_TEST_PASS(af__journal_add_checks(&j, 60, d, 2, err));
    AF_TEST_FAILS_WITH(AF_EINTERNAL, "checkpoint of 1 shards", af__journal_add_checks(&j, 90, d, 1, err));
    j.days_done = 60;
    AF_TEST_PASS(af__journal_write(dir, &j, err));
    AF_TEST_PASS(af__journal_read(dir, &r, err));
    AF_EXPECT(r.nseg == 2 && r.ncheck == 2 && r.seg_end[0] == 30 && r.seg_end[1] == 60);
    if (r.nseg == 2 && r.ncheck == 2) {
        AF_EXPECT(r.check_bytes[0] == 900 && r.check_bytes[1] == 501);
        AF_EXPECT(r.check_static[1][0] == 'r' && r.check_seg[0][0] == '0' && r.check_seg[1][0] == '1' &&
                  r.check_seg[2][0] == '7' && r.check_seg[3][0] == '1');
    }
    af__journal_keep_checks(&r, 1);
    AF_EXPECT(r.nseg == 1 && r.ncheck == 2);
    af__journal_keep_checks(&r, 0);
    AF_EXPECT(r.nseg == 0 && r.ncheck == 0 && r.seg_end == NULL);
    af__journal_dispose(&r);
    af__journal_dispose(&j);
}

static void test_layout_hash(void)
{
    fixture a, b;
    char ha[65], hb[65];
    AF_EXPECT(fx_init(&a, 7, 3, 0) == 0 && fx_init(&b, 7, 3, 0) == 0);
    AF_TEST_PASS(af__layout_sha256(&a.layout, ha, err));
    AF_TEST_PASS(af__layout_sha256(&b.layout, hb, err));
    AF_EXPECT(strlen(ha) == 64 && !strcmp(ha, hb));
    b.samples[4].lat += 1e-9;
    AF_TEST_PASS(af__layout_sha256(&b.layout, hb, err));
    AF_EXPECT(strcmp(ha, hb) != 0);
    b.samples[4].lat = a.samples[4].lat;
    b.layout.shard_samples = 4;
    AF_TEST_PASS(af__layout_sha256(&b.layout, hb, err));
    AF_EXPECT(strcmp(ha, hb) != 0);
    b.layout.shard_samples = 3;
    snprintf(b.targets[2].units, sizeof b.targets[2].units, "kg m-2");
    AF_TEST_PASS(af__layout_sha256(&b.layout, hb, err));
    AF_EXPECT(strcmp(ha, hb) != 0);
    fx_free(&a);
    fx_free(&b);
}

static int file_hash(const char *dir, const char *name, char hex[65])
{
    char p[1024];
    af_error e = AF_ERROR_INIT;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return af_file_sha256(p, hex, &e);
}

static void test_reopen_completes_byte_identical(void)
{
    fixture f;
    char one[512], two[512], p[700];
    af_shardset *ss = NULL;
    af_shard_info *in1 = NULL, *in2 = NULL;
    size_t n1 = 0, n2 = 0;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0);
    int nd = af_calendar_ndays(f.cal);
    dir_of("one", one, sizeof one);
    dir_of("two", two, sizeof two);
    /* in one go */
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, one, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, nd, err));
    AF_TEST_PASS(af_shardset_finish(ss, &in1, &n1, err));
    af_shardset_destroy(&ss);
    /* days [0, 4), flushed, left behind as .partial files */
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, two, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 0, 4, err));
    AF_TEST_PASS(af_shardset_sync(ss, err));
    af_shardset_keep_partial(ss, 1);
    af_shardset_destroy(&ss);
    snprintf(p, sizeof p, "%s/shard-00002.nc.partial", two);
    AF_EXPECT(access(p, F_OK) == 0);
    /* reopen, finish the days (rewriting day 3 as a resumed block would), publish */
    AF_TEST_PASS(af_shardset_reopen(MPI_COMM_WORLD, two, &f.layout, &ss, err));
    AF_TEST_PASS(fx_write(ss, &f, 0, 7, 3, nd - 3, err));
    AF_TEST_PASS(af_shardset_finish(ss, &in2, &n2, err));
    af_shardset_destroy(&ss);
    AF_EXPECT(n1 == 3 && n2 == 3);
    for (size_t k = 0; k < n1 && k < n2 && in1 && in2; k++) {
        char h[65] = "";
        AF_EXPECT(!strcmp(in1[k].sha256, in2[k].sha256) && in1[k].bytes == in2[k].bytes);
        AF_EXPECT(file_hash(two, in2[k].path, h) == AF_OK && !strcmp(h, in1[k].sha256));
    }
    int bad = 0;
    snprintf(p, sizeof p, "%s/shard-00001.nc", two);
    AF_EXPECT(fx_check_row(p, 2, 5, &f, &bad) == AF_OK && bad == 0);
    free(in1);
    free(in2);
    fx_free(&f);
}

static void test_reopen_refuses(void)
{
    fixture f, g;
    char dir[512], p[700];
    af_shardset *ss = NULL;
    AF_EXPECT(fx_init(&f, 7, 3, 0) == 0 && fx_init(&g, 7, 4, 0) == 0);
    dir_of("refuse", dir, sizeof dir);
    AF_TEST_FAILS_WITH(AF_ENOTFOUND, "shard-00000.nc.partial' is missing",
                       af_shardset_reopen(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    AF_EXPECT(ss == NULL);
    AF_TEST_PASS(af_shardset_create(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    af_shardset_keep_partial(ss, 1);
    af_shardset_destroy(&ss);
    /* shard_samples 4: shard 0 has 4 rows, the file 3 */
    AF_TEST_FAILS_WITH(AF_EFORMAT, "dimension sample is 3, this run needs 4",
                       af_shardset_reopen(MPI_COMM_WORLD, dir, &g.layout, &ss, err));
    f.layout.config_sha256 = "1111111111111111111111111111111111111111111111111111111111111111";
    AF_TEST_FAILS_WITH(AF_EFORMAT, "was written for config 0000",
                       af_shardset_reopen(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    /* a failed reopen keeps the files; a destroy without keep removes them */
    snprintf(p, sizeof p, "%s/shard-00001.nc.partial", dir);
    AF_EXPECT(access(p, F_OK) == 0);
    f.layout.config_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    AF_TEST_PASS(af_shardset_reopen(MPI_COMM_WORLD, dir, &f.layout, &ss, err));
    af_shardset_keep_partial(ss, 0);
    af_shardset_destroy(&ss);
    AF_EXPECT(access(p, F_OK) != 0);
    fx_free(&f);
    fx_free(&g);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        return 1;
    }
    AF_RUN(test_journal_round_trip);
    AF_RUN(test_journal_errors);
    AF_RUN(test_journal_checks);
    AF_RUN(test_layout_hash);
    AF_RUN(test_reopen_completes_byte_identical);
    AF_RUN(test_reopen_refuses);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
    int rc = AF_TEST_END();
    MPI_Finalize();
    return rc;
}
