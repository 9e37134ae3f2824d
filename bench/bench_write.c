/* SPDX-License-Identifier: MIT */
/*
 * bench_write.c: output write bandwidth of the PnetCDF shard writer
 * (af_shardset_create / write_block / finish) against plain sequential write()
 * of the same number of bytes on the same disk, measured in the same run.
 * Baselines: rank 0 alone writing one file, and every rank writing its share to
 * its own file; both use 4 MiB write() calls + fsync. Prints bytes, MB/s and the
 * ratio PnetCDF/sequential (best of --repeat runs each), the phases of the best
 * PnetCDF run with their CPU time, then removes its files. Each rank opens only the
 * shards of its own samples (af_shardset_create_owned), as a pipeline run does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "agroflux/calendar.h"
#include "agroflux/error.h"
#include "agroflux/output.h"
#include "agroflux/samples.h"
#include "af_util.h"

#define CHUNK ((size_t)4 << 20) /* 4 MiB per write() in the baseline */
#define BLOCK_DAYS 365

typedef struct opts {
    long samples, days, inputs, targets, shard_samples, repeat;
    const char *dir;
    int checkpoints; /* CK_NONE, CK_SEPARATE or CK_SEAL */
} opts;

/* --checkpoints: none; after every block as a pipeline run did before issue 16 (flush, then
 * digest the block's days, the last block too); or the last block's digests in the seal's read. */
enum { CK_NONE, CK_SEPARATE, CK_SEAL };

static int g_rank = 0;

static void usage(FILE *fp)
{
    fprintf(fp, "usage: bench_write [--samples N] [--days D] [--inputs I] [--targets T]\n"
                "                   [--shard-samples S] [--dir DIR] [--repeat R]\n"
                "                   [--checkpoints none|separate|seal]\n"
                "defaults: 512 samples, 3650 days, 11 inputs, 20 targets, 128 samples per shard,\n"
                "          DIR = ./bench_write.<pid> (created and removed), 3 repeats\n");
}

/* Abort every rank with a formatted agroflux error (errors are synced by the library). */
static void die_af(const af_error *err, const char *what)
{
    char buf[4096];
    af_error_format(err, 1, buf, sizeof buf);
    fprintf(stderr, "bench_write: rank %d: %s: %s\n", g_rank, what, buf);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void die_errno(const char *what, const char *path)
{
    fprintf(stderr, "bench_write: rank %d: %s '%s': %s\n", g_rank, what, path, strerror(errno));
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static int parse_args(int argc, char **argv, opts *o)
{
    const char *bad = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (g_rank == 0) usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            bad = a;
            goto bad;
        }
        const char *v = argv[++i];
        long *dst = NULL;
        if (strcmp(a, "--samples") == 0) dst = &o->samples;
        else if (strcmp(a, "--days") == 0) dst = &o->days;
        else if (strcmp(a, "--inputs") == 0) dst = &o->inputs;
        else if (strcmp(a, "--targets") == 0) dst = &o->targets;
        else if (strcmp(a, "--shard-samples") == 0) dst = &o->shard_samples;
        else if (strcmp(a, "--repeat") == 0) dst = &o->repeat;
        else if (strcmp(a, "--dir") == 0) { o->dir = v; continue; }
        else if (strcmp(a, "--checkpoints") == 0) {
            o->checkpoints = !strcmp(v, "none") ? CK_NONE : !strcmp(v, "separate") ? CK_SEPARATE
                           : !strcmp(v, "seal") ? CK_SEAL : -1;
            if (o->checkpoints < 0) {
                if (g_rank == 0) fprintf(stderr, "bench_write: --checkpoints: none, separate or seal, not '%s'\n", v);
                return 2;
            }
            continue;
        }
        else {
            bad = a;
            goto bad;
        }
        if (!af_parse_long(v, dst) || *dst < 0) {
            if (g_rank == 0) fprintf(stderr, "bench_write: %s: bad value '%s'\n", a, v);
            return 2;
        }
    }
    if (o->samples < 1 || o->days < 1 || o->shard_samples < 1 || o->repeat < 1 ||
        o->inputs + o->targets < 1) {
        if (g_rank == 0)
            fprintf(stderr, "bench_write: need samples, days, shard-samples, repeat >= 1 and "
                            "inputs + targets >= 1\n");
        return 2;
    }
    return 0;
bad:
    if (g_rank == 0) {
        fprintf(stderr, "bench_write: bad or incomplete argument '%s'\n", bad);
        usage(stderr);
    }
    return 2;
}

/* End date such that the noleap axis from start has exactly ndays days. */
static af_date noleap_end(af_date start, long ndays)
{
    long e = af_date_to_epoch(start), n = 0;
    af_date d = start;
    for (;; e++) {
        d = af_date_from_epoch(e);
        if (af_date_is_leap(d.year) && d.month == 12 && d.day == 31) continue;
        if (++n == ndays) break;
    }
    return d;
}

static void fill_desc(af_var_desc *v, const char *prefix, size_t i)
{
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s_%03zu", prefix, i % 1000);
    snprintf(v->units, sizeof v->units, "1");
    snprintf(v->long_name, sizeof v->long_name, "synthetic %s %zu for bench_write", prefix, i);
    snprintf(v->source, sizeof v->source, "bench");
    snprintf(v->source_units, sizeof v->source_units, "1");
}

static double max_over_ranks(double t)
{
    double m = 0.0;
    MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return m;
}

typedef struct nc_times {
    double total, create, write, checkpoint, finish;
    double cpu_write, cpu_checkpoint, cpu_finish; /* CPU seconds (user + system) summed over ranks */
    long long bytes;
} nc_times;

/* CPU seconds (user + system) of this process so far, all its threads. */
static double cpu_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sum_over_ranks(double t)
{
    double s = 0.0;
    MPI_Allreduce(&t, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return s;
}

/*
 * One PnetCDF run. Only the library calls are timed (buffer generation between
 * blocks is not); each phase time is the max over ranks of that rank's sum.
 */
static nc_times run_pnetcdf(const char *dir, const af_layout *l, int ck, size_t s0, size_t ns, float *x,
                            float *y, unsigned char *yv, float *yqc)
{
    af_shard_digest *dg = calloc(af_output_nshards(l->nsamples, l->shard_samples) + 1, sizeof *dg);
    int checked = 0;
    double tk = 0;
    if (!dg) {
        fprintf(stderr, "bench_write: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    af_error err = AF_ERROR_INIT;
    af_shardset *ss = NULL;
    af_shard_info *infos = NULL;
    size_t ninfos = 0;
    int ndays = af_calendar_ndays(l->cal);
    size_t ni = l->ninputs, nt = l->ntargets;
    nc_times r = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    double tc = 0, tw = 0, tf = 0, cw = 0, ckc = 0, cf = 0;

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    /* Each rank joins only the shards holding its samples, as a pipeline run does. */
    if (af_shardset_create_owned(MPI_COMM_WORLD, dir, l, s0, ns, &ss, &err) != AF_OK) die_af(&err, "create");
    tc = MPI_Wtime() - t0;
    for (int d0 = 0; d0 < ndays; d0 += BLOCK_DAYS) {
        int nd = ndays - d0 < BLOCK_DAYS ? ndays - d0 : BLOCK_DAYS;
        /* Deterministic values: a function of (global sample, axis day, variable). */
        for (size_t s = 0; s < ns; s++) {
            for (int t = 0; t < nd; t++) {
                size_t cell = s * (size_t)nd + (size_t)t;
                float base = (float)((s0 + s) % 1000) * 0.01f + (float)(d0 + t) * 0.001f;
                for (size_t i = 0; i < ni; i++) x[cell * ni + i] = base + (float)i;
                for (size_t k = 0; k < nt; k++) {
                    y[cell * nt + k] = base - (float)k;
                    yv[cell * nt + k] = (unsigned char)(((s0 + s) + (size_t)(d0 + t) + k) % 7 != 0);
                    yqc[cell * nt + k] = (float)(k % 4);
                }
            }
        }
        double tb = MPI_Wtime(), cb = cpu_now();
        if (af_shardset_write_block(ss, s0, ns, d0, nd, x, NULL, y, yv, yqc, &err) != AF_OK)
            die_af(&err, "write_block");
        tw += MPI_Wtime() - tb;
        cw += cpu_now() - cb;
        if (ck == CK_SEPARATE || (ck == CK_SEAL && d0 + nd < ndays)) {
            tb = MPI_Wtime();
            cb = cpu_now();
            if (af_shardset_sync(ss, &err) != AF_OK) die_af(&err, "sync");
            if (af_shardset_digest(ss, checked == 0, checked, d0 + nd, dg, &err) != AF_OK) die_af(&err, "digest");
            checked = d0 + nd;
            tk += MPI_Wtime() - tb;
            ckc += cpu_now() - cb;
        }
    }
    double tb = MPI_Wtime(), cb = cpu_now();
    af_seal_check chk = { checked == 0, checked, ndays, dg };
    if (af_shardset_seal_checked(ss, ck == CK_SEAL ? &chk : NULL, &infos, &ninfos, &err) != AF_OK ||
        af_shardset_publish(ss, &err) != AF_OK)
        die_af(&err, "finish");
    tf = MPI_Wtime() - tb;
    cf = cpu_now() - cb;
    free(dg);
    af_shardset_destroy(&ss);

    r.create = max_over_ranks(tc);
    r.write = max_over_ranks(tw);
    r.checkpoint = max_over_ranks(tk);
    r.finish = max_over_ranks(tf);
    r.total = max_over_ranks(tc + tw + tk + tf);
    r.cpu_write = sum_over_ranks(cw);
    r.cpu_checkpoint = sum_over_ranks(ckc);
    r.cpu_finish = sum_over_ranks(cf);
    for (size_t k = 0; k < ninfos; k++) r.bytes += infos[k].bytes;
    /* Remove the shards (not timed). */
    if (g_rank == 0) {
        for (size_t k = 0; k < ninfos; k++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, infos[k].path);
            if (unlink(path) != 0) die_errno("unlink", path);
        }
    }
    free(infos);
    MPI_Barrier(MPI_COMM_WORLD);
    return r;
}

/* open + write nbytes in CHUNK pieces + fsync + close. */
static void write_plain(const char *path, long long nbytes, const unsigned char *buf)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die_errno("open", path);
    long long left = nbytes;
    while (left > 0) {
        size_t n = left < (long long)CHUNK ? (size_t)left : CHUNK;
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die_errno("write", path);
        }
        left -= (long long)w;
    }
    if (fsync(fd) != 0) die_errno("fsync", path);
    if (close(fd) != 0) die_errno("close", path);
}

/*
 * One baseline run: per_rank = 0: rank 0 writes all nbytes to one file;
 * per_rank = 1: rank r writes its share to its own file. Wall time, max over ranks.
 */
static double run_plain(const char *dir, long long nbytes, int per_rank, int nranks,
                        const unsigned char *buf)
{
    char path[4400];
    long long mine = 0;
    if (per_rank) {
        long long lo = nbytes * g_rank / nranks, hi = nbytes * (g_rank + 1) / nranks;
        mine = hi - lo;
        snprintf(path, sizeof path, "%s/plain-rank%05d.bin", dir, g_rank);
    } else {
        mine = g_rank == 0 ? nbytes : 0;
        snprintf(path, sizeof path, "%s/plain-single.bin", dir);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (per_rank || g_rank == 0) write_plain(path, mine, buf);
    double t = max_over_ranks(MPI_Wtime() - t0);
    if ((per_rank || g_rank == 0) && unlink(path) != 0) die_errno("unlink", path);
    MPI_Barrier(MPI_COMM_WORLD);
    return t;
}

int main(int argc, char **argv)
{
    af_mpi_init_defaults(); /* as the agroflux CLI: what is measured is what the product does */
    MPI_Init(&argc, &argv);
    int nranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    opts o = { 512, 3650, 11, 20, 128, 3, NULL, CK_NONE };
    int prc = parse_args(argc, argv, &o);
    if (prc != 0) {
        MPI_Finalize();
        return prc == 1 ? 0 : 2;
    }

    /* Output directory: given, or ./bench_write.<pid of rank 0> created and removed here. */
    char dir[4096];
    int own_dir = 0;
    if (o.dir) {
        snprintf(dir, sizeof dir, "%s", o.dir);
    } else {
        long pid = (long)getpid();
        MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        snprintf(dir, sizeof dir, "bench_write.%ld", pid);
        own_dir = 1;
    }
    if (g_rank == 0) {
        af_error err = AF_ERROR_INIT;
        if (af_mkdirs(dir, &err) != AF_OK) die_af(&err, "mkdir");
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* Layout: synthetic county samples, a noleap calendar, variable descriptions. */
    size_t N = (size_t)o.samples, NI = (size_t)o.inputs, NT = (size_t)o.targets;
    af_sample *samples = calloc(N, sizeof *samples);
    af_var_desc *inputs = calloc(NI ? NI : 1, sizeof *inputs);
    af_var_desc *targets = calloc(NT ? NT : 1, sizeof *targets);
    if (!samples || !inputs || !targets) {
        fprintf(stderr, "bench_write: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (size_t i = 0; i < N; i++) {
        af_sample *s = &samples[i];
        snprintf(s->id, sizeof s->id, "B%05zu", i);
        s->kind = AF_SAMPLE_COUNTY;
        snprintf(s->fips, sizeof s->fips, "%05u", (unsigned)(1001 + i % 90000));
        snprintf(s->scenario, sizeof s->scenario, "base");
        s->scenario_index = 0;
        s->lat = 36.0 + (double)(i % 100) * 0.1;
        s->lon = -100.0 + (double)((i / 100) % 200) * 0.1;
        s->unit = i;
        s->work = 1.0;
    }
    for (size_t i = 0; i < NI; i++) fill_desc(&inputs[i], "IN", i);
    for (size_t i = 0; i < NT; i++) fill_desc(&targets[i], "TG", i);

    af_error err = AF_ERROR_INIT;
    af_calendar *cal = NULL;
    af_date start = { 2000, 1, 1 };
    if (af_calendar_create(start, noleap_end(start, o.days), AF_CAL_NOLEAP, &cal, &err) != AF_OK)
        die_af(&err, "calendar");
    static const char zero_sha[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    af_layout layout = {
        .pipeline_name = "bench_write",
        .cal = cal,
        .samples = samples,
        .nsamples = N,
        .inputs = inputs,
        .ninputs = NI,
        .targets = targets,
        .ntargets = NT,
        .shard_samples = (size_t)o.shard_samples,
        .cdf5 = 0,
        .config_sha256 = zero_sha,
    };

    /* This rank's contiguous slice and its block buffers. */
    size_t s0 = N * (size_t)g_rank / (size_t)nranks;
    size_t ns = N * (size_t)(g_rank + 1) / (size_t)nranks - s0;
    size_t cells = (ns ? ns : 1) * BLOCK_DAYS;
    float *x = malloc(cells * (NI ? NI : 1) * sizeof *x);
    float *y = malloc(cells * (NT ? NT : 1) * sizeof *y);
    float *yqc = malloc(cells * (NT ? NT : 1) * sizeof *yqc);
    unsigned char *yv = malloc(cells * (NT ? NT : 1));
    unsigned char *chunk = malloc(CHUNK);
    if (!x || !y || !yqc || !yv || !chunk) {
        fprintf(stderr, "bench_write: out of memory for block buffers\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (size_t i = 0; i < CHUNK; i++) chunk[i] = (unsigned char)((i * 131u + 7u) & 0xffu);

    nc_times best_nc = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    double best_single = 0, best_per_rank = 0;
    long long bytes = -1;
    for (long rep = 0; rep < o.repeat; rep++) {
        nc_times r = run_pnetcdf(dir, &layout, o.checkpoints, s0, ns, x, y, yv, yqc);
        if (bytes >= 0 && r.bytes != bytes) {
            if (g_rank == 0) fprintf(stderr, "bench_write: shard bytes changed between runs\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        bytes = r.bytes;
        if (rep == 0 || r.total < best_nc.total) best_nc = r;
        double t1 = run_plain(dir, bytes, 0, nranks, chunk);
        double tp = run_plain(dir, bytes, 1, nranks, chunk);
        if (rep == 0 || t1 < best_single) best_single = t1;
        if (rep == 0 || tp < best_per_rank) best_per_rank = tp;
        if (g_rank == 0)
            fprintf(stderr, "bench_write: run %ld/%ld: pnetcdf %.3f s (write_block %.3f s, cpu %.3f s; "
                            "finish %.3f s, cpu %.3f s), sequential rank 0 %.3f s, file per rank %.3f s\n",
                    rep + 1, o.repeat, r.total, r.write, r.cpu_write, r.finish, r.cpu_finish, t1, tp);
    }

    if (g_rank == 0) {
        double mb = (double)bytes / 1e6;
        double bw_nc = mb / best_nc.total, bw_1 = mb / best_single, bw_p = mb / best_per_rank;
        size_t nshards = af_output_nshards(N, (size_t)o.shard_samples);
        printf("bench_write: %d rank%s, %zu samples x %ld days x (%zu inputs + %zu targets), "
               "%zu shard%s of <= %ld samples, best of %ld, dir %s\n",
               nranks, nranks == 1 ? "" : "s", N, o.days, NI, NT, nshards, nshards == 1 ? "" : "s",
               o.shard_samples, o.repeat, dir);
        printf("bytes per method: %lld (%.1f MB; MB = 1e6 bytes; fsync included everywhere)\n",
               bytes, mb);
        printf("%-34s %10s %10s %22s\n", "method", "best s", "MB/s", "ratio pnetcdf/method");
        printf("%-34s %10.3f %10.1f %22s\n", "pnetcdf shards (create..finish)", best_nc.total, bw_nc,
               "-");
        printf("%-34s %10.3f %10.1f %22.3f\n", "sequential write(), rank 0 only", best_single, bw_1,
               bw_nc / bw_1);
        printf("%-34s %10.3f %10.1f %22.3f\n", "sequential write(), file per rank", best_per_rank,
               bw_p, bw_nc / bw_p);
        printf("pnetcdf phases of the best run (max over ranks): create %.3f s, write_block %.3f s, "
               "checkpoints (%s) %.3f s, finish (close+sha256%s+fsync+rename) %.3f s\n",
               best_nc.create, best_nc.write,
               o.checkpoints == CK_NONE ? "none" : o.checkpoints == CK_SEPARATE ? "flush+digest every block"
                                                                                : "flush+digest, not the last",
               best_nc.checkpoint, o.checkpoints == CK_SEAL ? "+last digests" : "", best_nc.finish);
        printf("pnetcdf CPU of the best run (user + system, summed over ranks): write_block %.3f s, "
               "checkpoints %.3f s, finish %.3f s\n", best_nc.cpu_write, best_nc.cpu_checkpoint, best_nc.cpu_finish);
        printf("RATIO pnetcdf/sequential(rank 0) = %.3f  ranks = %d\n", bw_nc / bw_1, nranks);
        if (own_dir && rmdir(dir) != 0) die_errno("rmdir", dir);
    }

    free(x);
    free(y);
    free(yqc);
    free(yv);
    free(chunk);
    af_calendar_destroy(&cal);
    free(samples);
    free(inputs);
    free(targets);
    MPI_Finalize();
    return 0;
}
