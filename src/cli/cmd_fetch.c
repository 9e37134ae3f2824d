/* SPDX-License-Identifier: MIT */
/*
 * cmd_fetch.c: `agroflux fetch` (download the missing raw files of a pipeline
 * from its `url` templates; alone or under MPI, where rank 0 fetches the county
 * and site lists first and then the ranks split the remaining files) and
 * `agroflux plan --list-files` (every file, present or missing, with sizes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "agroflux/fetch.h"
#include "cli.h"

enum { OPT_SET = 1, OPT_DRY_RUN, OPT_JOBS, OPT_RETRIES };

static const cli_opt fetch_opts[] = {
    { OPT_SET, "set", "SECTION.KEY=VALUE", "as for run (repeatable), e.g. --set pipeline.data_url=URL\n"
      "--set pipeline.data_root=DIR" },
    { OPT_DRY_RUN, "dry-run", NULL, "list what would be fetched and the total size (HEAD\n"
      "requests); nothing is written under data_root" },
    { OPT_JOBS, "jobs", "N", "transfers at once (default 4; per rank under MPI)" },
    { OPT_RETRIES, "retries", "N", "further attempts after a transient failure (default 4)" },
    { 0, NULL, NULL, NULL }
};

static int fetch_main(const cli_command *cmd, const cli_args *a);

const cli_command cli_cmd_fetch = {
    .name = "fetch",
    .synopsis = "PIPELINE.ini [--set SECTION.KEY=VALUE]... [--dry-run] [--jobs N] [--retries N]",
    .summary = "download the pipeline's missing raw files from its url keys",
    .description =
        "Downloads the raw files the pipeline reads (its years, layers, counties, scenarios and\n"
        "sites) that are missing under data_root, from the `url` / `KEY_url` templates beside\n"
        "the paths ({data_url} = [pipeline] data_url; --set pipeline.data_url=http://HOST:PORT\n"
        "points a whole tree at a mirror). Each file is received as PATH.part, resumed with an\n"
        "HTTP Range request after an interruption, retried with backoff, checked (announced size;\n"
        "rasters, NetCDF, vectors and zips must open with GDAL; sha256sums lists), fsynced and only\n"
        "then renamed. A .part the server gave no ETag or Last-Modified for starts over. Sections\n"
        "with fetch = crop cut the downloaded national raster (a zip) to the counties and sites;\n"
        "fetch = tiles joins the region's tile_url tiles in a VRT.\n"
        "The county layer, select list and site list come first (they define the samples).\n"
        "Under mpirun the ranks split the files (file i of the missing ones goes to rank i mod\n"
        "size; rank 0 fetches the county and site lists first; --jobs is per rank; rank 0 shows\n"
        "its progress and the summary of all ranks). Exit 0 when every missing file\n"
        "arrived, 1 when any failed (each failure names URL, HTTP status and pipeline key), 2 for\n"
        "a usage or pipeline-file error. docs/data-sources.md: where each source comes from.\n",
    .opts = fetch_opts,
    .operands = "PIPELINE.ini",
    .min_operands = 1, .max_operands = 1,
    .mpi = CLI_MPI_ALWAYS,
    .run = fetch_main,
};

static void human(long long b, char *buf, size_t n)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    if (b < 0) { snprintf(buf, n, "?"); return; }
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void hms(double s, char *buf, size_t n)
{
    if (s < 0) { snprintf(buf, n, "?"); return; }
    long v = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

static void show_progress(const af_fetch_progress *p, void *payload)
{
    int tty = *(const int *)payload;
    char done[32], total[32], rate[32], eta[32];
    human(p->bytes_done, done, sizeof done);
    human(p->bytes_total, total, sizeof total);
    human((long long)p->rate, rate, sizeof rate);
    hms(p->eta, eta, sizeof eta);
    char line[256];
    snprintf(line, sizeof line, "agroflux fetch: %zu/%zu files, %s of ~%s, %s/s, ETA %s%s", p->files_done,
             p->nfiles, done, total, rate, eta, p->files_failed ? " (some failed)" : "");
    if (tty) fprintf(stderr, "\r%-100s%s", line, p->final ? "\n" : "");
    else fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

static void show_notice(const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "agroflux fetch: %s\n", msg);
    fflush(stderr);
}

/* How many items from i on are, like v[i], missing without a URL under the same key (a key's files are
 * listed together): one line stands for them all (an Ecosys tree is 10^5 files without a URL). */
static size_t manual_run(af_fetch_item *const *v, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && !v[j]->url && !v[j]->tile_url && !strcmp(v[j]->key, v[i]->key)) j++;
    return j - i;
}

/* Print the items' failures (every rank prints its own: they are different files). */
static void print_failures(af_fetch_item *const *v, size_t n, int rank, int size)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->error && !v[i]->skipped) {
            size_t run = v[i]->url ? 1 : manual_run(v, n, i);
            char more[256] = "";
            if (run > 1) snprintf(more, sizeof more, " (and %zu more files of %s without a URL)", run - 1, v[i]->key);
            if (size > 1) fprintf(stderr, "agroflux fetch: [rank %d] %s%s\n", rank, v[i]->error, more);
            else fprintf(stderr, "agroflux fetch: %s%s\n", v[i]->error, more);
            i += run - 1;
        }
}

/* Items this rank fetches: missing, not remote; phase 1 = the sample-defining keys only. */
static size_t pick(af_fetch_list *l, int phase1, int rank, int size, af_fetch_item ***out)
{
    size_t k = 0, j = 0;
    *out = calloc(l->n ? l->n : 1, sizeof **out);
    if (!*out) return 0;
    for (size_t i = 0; i < l->n; i++) {
        af_fetch_item *it = &l->items[i];
        int defining = !strncmp(it->key, "counties.", 9) || !strncmp(it->key, "sites.", 6);
        if (it->present || it->remote || (phase1 && !defining) || it->mode != AF_FETCH_COPY) continue;
        if (phase1 ? rank == 0 : (int)(j++ % (size_t)size) == rank) (*out)[k++] = it;
    }
    return k;
}

static void print_dry(af_fetch_item *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        human(v[i]->size, sz, sizeof sz);
        if (v[i]->url && v[i]->status == AF_OK && !v[i]->skipped)
            printf("fetch  %14lld  %10s  %s -> %s\n", v[i]->size, sz, v[i]->url, v[i]->path);
        else if (!v[i]->url) {
            size_t run = manual_run(v, n, i);
            char more[64] = "";
            if (run > 1) snprintf(more, sizeof more, ", and %zu more like it", run - 1);
            printf("manual  %s  (%s%s): no URL; see docs/data-sources.md#%s\n", v[i]->path, v[i]->key, more,
                   v[i]->doc[0] ? v[i]->doc : "layout-the-reference-pipelines-expect");
            i += run - 1;
        }
    }
}

/*
 * Dry run: the county layer and the select and site lists define the samples, so they are
 * downloaded into a temporary directory (and the config pointed there) only to enumerate the
 * per-sample files; nothing is written under data_root. The directory is removed by the caller.
 */
static int dry_defining(af_config *cfg, af_fetch_item **v, size_t k, const af_fetch_opts *o, char *tmpdir,
                        af_error *err)
{
    af_fetch_opts q = *o;
    q.head_only = 0;
    q.progress = NULL;
    af_fetch_summary s;
    char **orig = calloc(k ? k : 1, sizeof *orig);
    if (!orig || !mkdtemp(tmpdir)) { free(orig); return af_error_set(err, AF_EIO, __FILE__, __LINE__, __func__, "cannot create a temporary directory"); }
    for (size_t i = 0; i < k; i++) {
        const char *base = strrchr(v[i]->path, '/');
        size_t n = strlen(tmpdir) + strlen(base ? base : v[i]->path) + 16;
        char *p = malloc(n);
        if (!p) break;
        snprintf(p, n, "%s/%zu-%s", tmpdir, i, base ? base + 1 : v[i]->path);
        orig[i] = v[i]->path;
        v[i]->path = p;
    }
    int rc = af_fetch_run(v, k, &q, &s, err);
    for (size_t i = 0; i < k && orig[i]; i++) {
        char *dst = !strcmp(v[i]->key, "counties.layer") ? cfg->county_layer
                  : !strcmp(v[i]->key, "counties.select") ? cfg->county_select
                  : !strcmp(v[i]->key, "sites.list") ? cfg->site_list : NULL;
        /* the config path names the file, or holds it (/vsizip/ARCHIVE/member): swap the file */
        char *at = dst && v[i]->present ? strstr(dst, orig[i]) : NULL;
        if (at) {
            char swapped[4096];
            snprintf(swapped, sizeof swapped, "%.*s%s%s", (int)(at - dst), dst, v[i]->path, at + strlen(orig[i]));
            snprintf(dst, 4096, "%s", swapped);
        }
        free(v[i]->path);
        v[i]->path = orig[i];
        v[i]->present = 0;
    }
    free(orig);
    return rc;
}

/*
 * The derived files (fetch = crop / tiles) of this rank (derived file i goes to rank i mod size):
 * their downloads (archives, tiles) with the engine, then the crop or VRT of each whose downloads
 * all arrived. With head_only only the downloads are asked for (HEAD) and listed.
 */
static int fetch_derived(af_fetch_list *l, const af_sampleset *set, const af_fetch_opts *o, int rank, int size,
                         af_fetch_summary *sum, af_error *err)
{
    af_fetch_item **mine = calloc(l->n ? l->n : 1, sizeof *mine), **subv = NULL;
    af_fetch_list sub = { 0 };
    size_t k = 0, j = 0;
    int rc = mine ? AF_OK : af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (size_t i = 0; rc == AF_OK && i < l->n; i++)
        if (l->items[i].mode != AF_FETCH_COPY && !l->items[i].present && (int)(j++ % (size_t)size) == rank)
            mine[k++] = &l->items[i];
    if (rc == AF_OK && k) rc = af_fetch_derived_downloads(mine, k, set, &sub, err);
    if (rc == AF_OK && k) {
        subv = calloc(sub.n ? sub.n : 1, sizeof *subv);
        if (!subv) rc = af_error_set(err, AF_ENOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (size_t i = 0; subv && i < sub.n; i++) subv[i] = &sub.items[i];
        af_error e2 = AF_ERROR_INIT;
        if (subv) rc = af_fetch_run(subv, sub.n, o, sum, &e2);
        if (rc != AF_OK) *err = e2;
        if (!o->head_only) sum->fetched = 0; /* the derived files are counted, not their downloads */
        print_failures(subv, sub.n, rank, size);
        if (o->head_only) print_dry(subv, sub.n);
    }
    for (size_t i = 0; !o->head_only && subv && i < k; i++) {
        int ok = 1;
        size_t sl = strlen(mine[i]->src_path);
        for (size_t t = 0; t < sub.n; t++) /* this file's downloads (its archive, or its tile directory's) */
            if (sub.items[t].status != AF_OK && !strncmp(sub.items[t].path, mine[i]->src_path, sl) &&
                (sub.items[t].path[sl] == '\0' || (mine[i]->mode == AF_FETCH_TILES && sub.items[t].path[sl] == '/')))
                ok = 0;
        if (!ok) continue;
        af_error e2 = AF_ERROR_INIT;
        if (af_fetch_derive(mine[i], set, &e2) != AF_OK) {
            if (size > 1) fprintf(stderr, "agroflux fetch: [rank %d] %s (%s): %s\n", rank, mine[i]->path, mine[i]->key, e2.msg);
            else fprintf(stderr, "agroflux fetch: %s (%s): %s\n", mine[i]->path, mine[i]->key, e2.msg);
            sum->failed++;
            if (rc == AF_OK) { rc = e2.code; *err = e2; }
        } else {
            sum->fetched++;
        }
    }
    af_fetch_list_dispose(&sub);
    free(subv);
    free(mine);
    return rc;
}

static void remove_dir(const char *dir)
{
    char path[4200];
    if (!dir[0]) return;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    rmdir(dir);
}

static int fetch_main(const cli_command *cmd, const cli_args *a)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *sets[CLI_MAX_ARGS];
    size_t nsets = 0;
    af_fetch_opts o = AF_FETCH_OPTS_INIT;
    for (size_t i = 0; i < a->nopts; i++) {
        const cli_opt *op = a->opt[i].opt;
        long v;
        switch (op->id) {
        case OPT_SET: sets[nsets++] = a->opt[i].value; break;
        case OPT_DRY_RUN: o.head_only = 1; break;
        case OPT_JOBS: if (!cli_value_long(cmd, op, a->opt[i].value, 1, 1000, &v)) return AF_EXIT_USAGE; o.jobs = (int)v; break;
        case OPT_RETRIES: if (!cli_value_long(cmd, op, a->opt[i].value, 0, 1000, &v)) return AF_EXIT_USAGE; o.retries = (int)v; break;
        }
    }
    const char *pipeline = a->operand[0];
    const char *bo = getenv("AGROFLUX_FETCH_BACKOFF"); /* tests: seconds before the first retry */
    if (bo && *bo) o.backoff = atof(bo);
    int tty = isatty(2);
    if (!cli_quiet) o.notice = show_notice;
    if (rank == 0 && !cli_quiet) {
        o.progress = show_progress;
        o.progress_payload = &tty;
        o.progress_interval = tty ? 0.5 : 10.0;
    }
    af_error err = AF_ERROR_INIT;
    af_config *cfg = NULL;
    af_sampleset *set = NULL;
    af_fetch_list list = { 0 };
    af_fetch_item **mine = NULL;
    af_fetch_summary s1 = { 0 }, s2 = { 0 };
    int rc = af_config_load_flags(pipeline, sets, nsets, AF_CONFIG_NO_PATH_CHECK, &cfg, &err);
    /* phase 1 (rank 0): the files that define the samples */
    if (rc == AF_OK) rc = af_fetch_list_build(cfg, NULL, 0, &list, &err);
    char tmpdir[64] = "";
    if (rc == AF_OK) {
        size_t k = pick(&list, 1, rank, size, &mine);
        if (k && o.head_only) {
            snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/agroflux-fetch-XXXXXX");
            rc = dry_defining(cfg, mine, k, &o, tmpdir, &err);
        } else if (k) {
            rc = af_fetch_run(mine, k, &o, &s1, &err);
        }
        if (rank == 0) print_failures(mine, k, rank, 1);
        free(mine);
        mine = NULL;
    }
    rc = af_error_sync(MPI_COMM_WORLD, &err);
    int listed = 0;
    if (rc == AF_OK) {
        af_fetch_list_dispose(&list);
        af_error e2 = AF_ERROR_INIT;
        int lr = af_fetch_load_samples(cfg, &set, &e2);
        if (lr != AF_OK && !o.head_only) { rc = lr; err = e2; }
        if (lr == AF_OK || o.head_only) {
            if (lr != AF_OK && rank == 0)
                fprintf(stderr, "agroflux fetch: per-sample files not listed until the samples load: %s\n", e2.msg);
            if (rc == AF_OK) rc = af_fetch_list_build(cfg, set, 0, &list, &err);
            listed = rc == AF_OK;
        }
    }
    /* every rank lists before any rank downloads: the split depends on what is missing */
    rc = af_error_sync(MPI_COMM_WORLD, &err);
    if (rc != AF_OK) listed = 0;
    if (listed && o.head_only && rank != 0) listed = 0; /* a dry run lists on rank 0 only */
    if (listed) {
        size_t k = o.head_only ? pick(&list, 0, 0, 1, &mine) : pick(&list, 0, rank, size, &mine);
        rc = af_fetch_run(mine, k, &o, &s2, &err);
        print_failures(mine, k, rank, size);
        if (o.head_only) print_dry(mine, k);
        af_fetch_summary s3 = { 0 };
        af_error e3 = AF_ERROR_INIT;
        int r3 = o.head_only && !set ? AF_OK : fetch_derived(&list, set, &o, o.head_only ? 0 : rank,
                                                               o.head_only ? 1 : size, &s3, &e3);
        if (r3 != AF_OK && rc == AF_OK) { rc = r3; err = e3; }
        s2.fetched += s3.fetched, s2.failed += s3.failed, s2.skipped += s3.skipped;
        s2.bytes += s3.bytes, s2.seconds += s3.seconds;
    }
    rc = af_error_sync(MPI_COMM_WORLD, &err);
    unsigned long long c[4] = { s1.fetched + s2.fetched, s1.failed + s2.failed, s1.skipped + s2.skipped,
                                (unsigned long long)(s1.bytes + s2.bytes) };
    MPI_Allreduce(MPI_IN_PLACE, c, 4, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && !cli_quiet) {
        char b[32];
        human((long long)c[3], b, sizeof b);
        size_t present = 0, remote = 0;
        for (size_t i = 0; i < list.n; i++) present += list.items[i].present, remote += list.items[i].remote;
        if (o.head_only)
            printf("agroflux fetch --dry-run: %llu file%s to fetch, %s (%llu bytes; sizes the servers announced); "
                   "%llu unavailable; %zu files listed%s\n", c[0], c[0] == 1 ? "" : "s", b, c[3], c[1] + c[2], list.n,
                   list.partial ? " (per-sample files not listed)" : "");
        else
            printf("agroflux fetch: %llu fetched (%s in %.1f s), %llu failed, %llu not on the server (optional); "
                   "%zu of %zu files present, %zu read remotely\n", c[0], b, s1.seconds + s2.seconds, c[1], c[2],
                   present, list.n, remote);
    }
    if (rc != AF_OK) cli_report("fetch", &err, rank);
    remove_dir(tmpdir);
    free(mine);
    af_fetch_list_dispose(&list);
    af_sampleset_destroy(&set);
    af_config_destroy(&cfg);
    return rc != AF_OK ? (rc == AF_ECONFIG ? AF_EXIT_USAGE : AF_EXIT_FAILURE) : AF_EXIT_OK;
}

int cli_list_files(const char *pipeline, const char *const *sets, size_t nsets)
{
    af_error err = AF_ERROR_INIT;
    af_config *cfg = NULL;
    af_sampleset *set = NULL;
    af_fetch_list list = { 0 };
    int code = AF_EXIT_OK;
    int rc = af_config_load_flags(pipeline, sets, nsets, AF_CONFIG_NO_PATH_CHECK, &cfg, &err);
    if (rc != AF_OK) { cli_report("plan", &err, 0); return cli_exit_code(rc); }
    af_error e2 = AF_ERROR_INIT;
    if (af_fetch_load_samples(cfg, &set, &e2) != AF_OK)
        fprintf(stderr, "agroflux plan: per-sample files not listed: the samples do not load: %s\n", e2.msg);
    rc = af_fetch_list_build(cfg, set, AF_FETCH_LIST_KEEP_DATA_URL, &list, &err);
    if (rc != AF_OK) { cli_report("plan", &err, 0); code = cli_exit_code(rc); goto done; }
    long long have = 0;
    size_t nmiss = 0, nurl = 0;
    printf("%-8s %12s  %-28s %s\n", "status", "bytes", "key", "path [<- url]");
    for (size_t i = 0; i < list.n; i++) {
        const af_fetch_item *it = &list.items[i];
        const char *st = it->remote ? "remote" : it->present ? "present" : "missing";
        char sz[32] = "-";
        if (it->size >= 0) snprintf(sz, sizeof sz, "%lld", it->size);
        const char *how = it->mode == AF_FETCH_CROP ? " <- crop of " : it->mode == AF_FETCH_TILES ? " <- VRT of tiles "
                        : it->url ? " <- " : "";
        const char *from = it->mode == AF_FETCH_TILES ? it->tile_url : it->url ? it->url : "";
        char manual[128] = "";
        if (!it->url && !it->tile_url && !it->present && !it->remote)
            snprintf(manual, sizeof manual, " <- manual: see docs/data-sources.md#%s",
                     it->doc[0] ? it->doc : "layout-the-reference-pipelines-expect");
        printf("%-8s %12s  %-28s %s%s%s%s\n", st, sz, it->key, it->pattern && !it->present ? it->pattern : it->path,
               how, from, manual);
        if (it->present) have += it->size > 0 ? it->size : 0;
        if (!it->present && !it->remote) { nmiss++; nurl += it->url != NULL || it->tile_url != NULL; }
    }
    char b[32];
    human(have, b, sizeof b);
    printf("files: %zu, present %zu (%s), missing %zu (%zu with a URL: agroflux fetch)%s\n", list.n,
           list.n - nmiss, b, nmiss, nurl, list.partial ? "; per-sample files not listed" : "");
    if (nmiss || list.partial) code = AF_EXIT_FAILURE;
done:
    af_fetch_list_dispose(&list);
    af_sampleset_destroy(&set);
    af_config_destroy(&cfg);
    return code;
}
