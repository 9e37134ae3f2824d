/* SPDX-License-Identifier: MIT */
/*
 * provenance.c: the inputs that fed a run, with size and SHA-256. Every rank
 * lists the files its sources read (per-sample files differ by rank); rank 0
 * merges and sorts the list, then file i is hashed by rank i mod P and the
 * results are combined, so the list and its order never depend on P.
 * Collective.
 */
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/fetch.h"
#include "pipeline_impl.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Paths under the pipeline file's directory are recorded relative to it. */
static const char *relative(const af_config *cfg, const char *path)
{
    size_t n = strlen(cfg->dir);
    if (strcmp(cfg->dir, ".") && !strncmp(path, cfg->dir, n) && path[n] == '/') return path + n + 1;
    return path;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, af_error *err)
{
    int rc = AF_OK;
    size_t sl = strlen(s) + 1;
    if (*len + sl > *cap) {
        size_t nc = (*cap + sl) * 2;
        char *nb = realloc(*buf, nc);
        AF_CHECK_ALLOC(nb);
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, sl);
    *len += sl;
cleanup:
    return rc;
}

int af__provenance_collect(MPI_Comm comm, const af_ctx *ctx, af_prov_file **out, size_t *nout,
                           af_error *err)
{
    int rc = AF_OK;
    int rank, size;
    char *mine = NULL, *all = NULL, **list = NULL;
    int *lens = NULL, *displs = NULL;
    af_prov_file *files = NULL;
    size_t len = 0, cap = 0, nfiles = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const af_config *cfg = ctx->cfg;
    /* This rank's files: config-level ones plus every source group's. */
    AF_CHECK(append(&mine, &len, &cap, cfg->path, err));
    if (cfg->has_counties) AF_CHECK(append(&mine, &len, &cap, cfg->county_layer, err));
    if (cfg->county_select[0]) AF_CHECK(append(&mine, &len, &cap, cfg->county_select, err));
    if (cfg->has_sites) AF_CHECK(append(&mine, &len, &cap, cfg->site_list, err));
    for (size_t j = 0; j < ctx->ngroups; j++) {
        const char *const *paths = NULL;
        size_t np = 0;
        if (!ctx->groups[j].state) continue;
        AF_CHECK(ctx->groups[j].kind->files(ctx->groups[j].state, &paths, &np, err));
        for (size_t i = 0; i < np; i++) AF_CHECK(append(&mine, &len, &cap, paths[i], err));
    }
    /* Gather to rank 0. */
    int mylen = (int)len, total = 0;
    lens = calloc((size_t)size, sizeof *lens);
    displs = calloc((size_t)size, sizeof *displs);
    AF_CHECK_ALLOC(lens);
    AF_CHECK_ALLOC(displs);
    AF_CHECK_MPI(MPI_Gather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, 0, comm));
    for (int r = 0; r < size; r++) { displs[r] = total; total += lens[r]; }
    all = malloc(rank == 0 ? (size_t)total + 1 : 1);
    AF_CHECK_ALLOC(all);
    AF_CHECK_MPI(MPI_Gatherv(mine, mylen, MPI_CHAR, all, lens, displs, MPI_CHAR, 0, comm));
    /* Rank 0: unique sorted list, re-joined; then broadcast. */
    int joined = 0;
    if (rank == 0) {
        size_t cnt = 0;
        for (int i = 0; i < total; i++) if (all[i] == '\0') cnt++;
        list = calloc(cnt ? cnt : 1, sizeof *list);
        AF_CHECK_ALLOC(list);
        for (int i = 0; i < total; i += (int)strlen(all + i) + 1) list[nfiles++] = all + i;
        qsort(list, nfiles, sizeof *list, cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < nfiles; i++) if (u == 0 || strcmp(list[i], list[u - 1])) list[u++] = list[i];
        nfiles = u;
        len = 0;
        for (size_t i = 0; i < nfiles; i++) AF_CHECK(append(&mine, &len, &cap, list[i], err));
        joined = (int)len;
    }
    AF_CHECK_MPI(MPI_Bcast(&joined, 1, MPI_INT, 0, comm));
    if (rank != 0) {
        if ((size_t)joined > cap) {
            char *nb = realloc(mine, (size_t)joined);
            AF_CHECK_ALLOC(nb);
            mine = nb;
            cap = (size_t)joined;
        }
    }
    AF_CHECK_MPI(MPI_Bcast(mine, joined, MPI_CHAR, 0, comm));
    nfiles = 0;
    for (int i = 0; i < joined; i += (int)strlen(mine + i) + 1) nfiles++;
    files = calloc(nfiles ? nfiles : 1, sizeof *files);
    AF_CHECK_ALLOC(files);
    /* Hash file i on rank i mod P; OR the zero-initialised records together. */
    size_t i = 0;
    af_error local = AF_ERROR_INIT;
    for (int off = 0; off < joined; off += (int)strlen(mine + off) + 1, i++) {
        if ((int)(i % (size_t)size) != rank || local.code != AF_OK) continue;
        snprintf(files[i].path, sizeof files[i].path, "%s", relative(cfg, mine + off));
        if (af_path_is_virtual(mine + off)) /* /vsicurl/, /vsizip/, URLs: read through GDAL */
            af_fetch_vsi_sha256(mine + off, &files[i].bytes, files[i].sha256, &local);
        else if (af_file_size(mine + off, &files[i].bytes, &local) == AF_OK)
            af_file_sha256(mine + off, files[i].sha256, &local);
    }
    if (af_error_sync(comm, &local) != AF_OK) {
        *err = local;
        rc = local.code;
        goto cleanup;
    }
    AF_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, files, (int)(nfiles * sizeof *files), MPI_BYTE, MPI_BOR, comm));
    *out = files;
    *nout = nfiles;
    files = NULL;
cleanup:
    free(files);
    free(list);
    free(all);
    free(mine);
    free(lens);
    free(displs);
    return rc;
}
