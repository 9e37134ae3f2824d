/* SPDX-License-Identifier: MIT */
/*
 * outdir.c: where a run writes and how its output replaces a previous one (rank 0).
 * A directory agroflux writes holds a marker file (.agroflux-output); a non-empty
 * directory without it (nor an index or journal of an older agroflux) is refused
 * unless the run is forced. A rerun into a directory that holds a complete output
 * (index.json) writes beside it, in DIR.agroflux-next, and swaps the two only once
 * the new index is written (renameat2 RENAME_EXCHANGE, or two renames where the
 * file system cannot exchange), so a failed or interrupted rerun leaves the
 * previous output published and verifiable; --resume finds the interrupted rerun
 * in DIR.agroflux-next again. Files of the user's in DIR move into the new output. Otherwise the run writes in place, and shard files
 * beyond this run's count are removed so the directory never mixes runs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* renameat2 */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_check.h"
#include "af_util.h"
#include "log.h"
#include "pipeline_impl.h"

#define MARKER_NAME ".agroflux-output"
#define NEXT_SUFFIX ".agroflux-next"

/* 1 if dir/name exists. */
static int has(const char *dir, const char *name)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* A file name agroflux writes in an output directory (or its temporary name NAME.partial...). */
static int ours(const char *name)
{
    static const char *const files[] = { AF_INDEX_NAME, AF_JOURNAL_NAME, AF_PROGRESS_NAME, AF_PROVENANCE_NAME,
                                         AF_COVERAGE_NAME, NULL };
    unsigned long k;
    char tail[16];
    if (!strcmp(name, MARKER_NAME) || sscanf(name, "shard-%5lu.n%15s", &k, tail) == 2) return 1;
    for (int i = 0; files[i]; i++)
        if (!strcmp(name, files[i]) || (!strncmp(name, files[i], strlen(files[i])) && strstr(name, ".partial")))
            return 1;
    return 0;
}

/* Entries of dir other than . and ..: count, and the first one that is not agroflux's. */
static int scan(const char *dir, int *n, char *foreign, size_t nforeign, af_error *err)
{
    int rc = AF_OK;
    DIR *d = opendir(dir);
    *n = 0;
    foreign[0] = '\0';
    if (!d) AF_FAIL(AF_EIO, "cannot list '%s': %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        (*n)++;
        if (!foreign[0] && !ours(de->d_name)) snprintf(foreign, nforeign, "%s", de->d_name);
    }
cleanup:
    if (d) closedir(d);
    return rc;
}

/* Remove agroflux's files from dir: all of them (all), or only the shards numbered nshards or more. */
static int clean(const char *dir, size_t nshards, int all, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    DIR *d = opendir(dir);
    if (!d) AF_FAIL(AF_EIO, "cannot list '%s': %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned long k;
        char tail[16];
        int shard = sscanf(de->d_name, "shard-%5lu.n%15s", &k, tail) == 2;
        if (!(all ? ours(de->d_name) : (shard && k >= nshards))) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            AF_FAIL(AF_EIO, "cannot remove '%s': %s", path, strerror(errno));
    }
cleanup:
    if (d) closedir(d);
    return rc;
}

static int write_marker(const char *dir, af_error *err)
{
    int rc = AF_OK;
    char path[4400];
    static const char text[] = "This directory is written by agroflux (run --output); agroflux may replace "
                               "its shard-*.nc, index.json, journal.json, progress.json, provenance.json and coverage.json.\n";
    if (has(dir, MARKER_NAME)) goto cleanup;
    AF_CHECK(af_path_join(dir, MARKER_NAME, path, sizeof path, err));
    AF_CHECK(af_write_atomic(path, text, sizeof text - 1, err));
cleanup:
    return rc;
}

int af__outdir_prepare(const char *final, int force, int resume, size_t nshards, af_outdir *od, af_error *err)
{
    int rc = AF_OK, n = 0;
    char foreign[256];
    struct stat st;
    memset(od, 0, sizeof *od);
    AF_CHECK(af_strlcpy_checked(od->final, final, sizeof od->final, "output directory", err));
    snprintf(od->work, sizeof od->work, "%s", final);
    if (stat(final, &st) == 0 && !S_ISDIR(st.st_mode))
        AF_FAIL(AF_EINVAL, "output '%s' exists and is not a directory", final);
    AF_CHECK(af_mkdirs(final, err));
    AF_CHECK(scan(final, &n, foreign, sizeof foreign, err));
    int owned = has(final, MARKER_NAME) || has(final, AF_INDEX_NAME) || has(final, AF_JOURNAL_NAME);
    if (n > 0 && !owned && !force)
        AF_FAIL(AF_EINVAL, "output directory '%s' is not empty ('%s') and was not written by agroflux (no %s): "
                "choose another --output, or pass --force to write into it", final, foreign[0] ? foreign : "?",
                MARKER_NAME);
    if (has(final, AF_INDEX_NAME)) {
        /* a complete output stays published until this run's index exists */
        od->staged = 1;
        if (snprintf(od->work, sizeof od->work, "%s%s", final, NEXT_SUFFIX) >= (int)sizeof od->work)
            AF_FAIL(AF_EINVAL, "output directory '%s' is too long", final);
        AF_CHECK(af_mkdirs(od->work, err));
        int keep = resume && has(od->work, AF_JOURNAL_NAME);
        AF_CHECK(clean(od->work, nshards, !keep, err));
        AF_CHECK(scan(od->work, &n, foreign, sizeof foreign, err));
        if (foreign[0])
            AF_FAIL(AF_EINVAL, "'%s' holds '%s', which agroflux did not write: remove it to rerun into '%s'",
                    od->work, foreign, final);
        af_log(AF_LOG_INFO, "run", "'%s' holds a complete output: it stays published while this run writes '%s'",
               final, od->work);
    } else {
        AF_CHECK(clean(final, nshards, 0, err));
    }
    AF_CHECK(write_marker(od->work, err));
cleanup:
    return rc;
}

/* Entries of from that are not agroflux's move into to (the user's files follow the output). */
static int move_foreign(const char *from, const char *to, af_error *err)
{
    int rc = AF_OK;
    char a[4400], b[4600];
    DIR *d = opendir(from);
    if (!d) AF_FAIL(AF_EIO, "cannot list '%s': %s", from, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || ours(de->d_name)) continue;
        snprintf(a, sizeof a, "%s/%s", from, de->d_name);
        snprintf(b, sizeof b, "%s/%s", to, de->d_name);
        if (rename(a, b) != 0) AF_FAIL(AF_EIO, "cannot move '%s' to '%s': %s", a, b, strerror(errno));
    }
cleanup:
    if (d) closedir(d);
    return rc;
}

/* The parent directory of path, fsynced (a rename is durable once its directory is). */
static int fsync_parent(const char *path, af_error *err)
{
    char parent[4400];
    af_path_dirname(path, parent, sizeof parent);
    return af_fsync_path(parent[0] ? parent : ".", err);
}

int af__outdir_publish(const af_outdir *od, af_error *err)
{
    int rc = AF_OK, n = 0;
    char old[4400], foreign[256];
    if (!od->staged) goto cleanup;
    AF_CHECK(move_foreign(od->final, od->work, err));
    if (renameat2(AT_FDCWD, od->work, AT_FDCWD, od->final, RENAME_EXCHANGE) == 0) {
        snprintf(old, sizeof old, "%s", od->work);
    } else {
        /* no atomic exchange here (EINVAL/ENOSYS on some file systems): two renames, the old output aside first */
        int e = errno;
        snprintf(old, sizeof old, "%s.agroflux-old", od->final);
        af_log(AF_LOG_DEBUG, "run", "renameat2 RENAME_EXCHANGE: %s; renaming twice", strerror(e));
        if (rename(od->final, old) != 0)
            AF_FAIL(AF_EIO, "cannot move the previous output '%s' aside to '%s': %s", od->final, old, strerror(errno));
        if (rename(od->work, od->final) != 0)
            AF_FAIL(AF_EIO, "cannot rename '%s' to '%s' (the previous output is in '%s'): %s", od->work, od->final,
                    old, strerror(errno));
    }
    AF_CHECK(fsync_parent(od->final, err));
    /* the previous output: agroflux's files go, anything else stays where it is now */
    AF_CHECK(clean(old, 0, 1, err));
    AF_CHECK(scan(old, &n, foreign, sizeof foreign, err));
    if (n == 0) {
        if (rmdir(old) != 0) AF_FAIL(AF_EIO, "cannot remove '%s': %s", old, strerror(errno));
    } else {
        af_log(AF_LOG_WARN, "run", "the previous output's other files (e.g. '%s') stay in '%s'", foreign, old);
    }
cleanup:
    return rc;
}
