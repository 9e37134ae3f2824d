/* SPDX-License-Identifier: MIT */
/*
 * gridded_util.c: implements gridded_util.h for test_gridded.c and
 * test_gridded_daymet.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "agroflux/pipeline.h"
#include "gridded_util.h"

int gt_write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    if (!fp) return 1;
    fputs(text, fp);
    return fclose(fp) != 0;
}

int gt_run(const char *dir, const char *ini, const char *out, af_error *err)
{
    char p[512], o[512];
    snprintf(p, sizeof p, "%s/%s", dir, ini);
    snprintf(o, sizeof o, "%s/%s", dir, out);
    af_run_opts opts = AF_RUN_OPTS_INIT;
    opts.output = o;
    af_run_summary sum;
    int rc = af_pipeline_run(MPI_COMM_WORLD, p, &opts, &sum, err);
    af_run_summary_dispose(&sum);
    return rc;
}

/* Length of a dimension, 0 if the shard has none (zero inputs or targets). */
static int dim_len(int nc, const char *name, int *out)
{
    int id;
    size_t n = 0;
    *out = 0;
    if (nc_inq_dimid(nc, name, &id) != NC_NOERR) return 0;
    NCK(nc_inq_dimlen(nc, id, &n));
    *out = (int)n;
    return 0;
}

/* A shard variable NAME(time, sample) into component comp of out[sample][time][n], or a
 * stacked NAME(time, sample, n) into all of it (comp 0). Allocates *out on first use. */
static int get_mapped(int nc, const char *name, int ns, int nt, int n, int comp, float **out)
{
    int id;
    if (n == 0) return 0;
    if (!*out && !(*out = malloc((size_t)ns * (size_t)nt * (size_t)n * sizeof **out))) return 1;
    size_t start[3] = { 0, 0, 0 }, count[3] = { (size_t)nt, (size_t)ns, (size_t)n };
    ptrdiff_t stride[3] = { 1, 1, 1 }, imap[3] = { n, (ptrdiff_t)nt * n, 1 };
    NCK(nc_inq_varid(nc, name, &id));
    NCK(nc_get_varm_float(nc, id, start, count, stride, imap, *out + comp));
    return 0;
}

/* Every feature variable of a role ("input", "target") into out[sample][time][n]. */
static int get_role(int nc, const char *role, int ns, int nt, int n, float **out)
{
    int id;
    char names[64][64];
    *out = NULL;
    if (n == 0) return 0;
    if (n > 64) return 1;
    NCK(nc_inq_varid(nc, role, &id));
    for (int k = 0; k < n; k++) {
        size_t start[2] = { (size_t)k, 0 }, count[2] = { 1, 63 };
        memset(names[k], 0, sizeof names[k]);
        NCK(nc_get_vara_text(nc, id, start, count, names[k]));
        if (get_mapped(nc, names[k], ns, nt, n, k, out)) return 1;
    }
    return 0;
}

int gt_read_shard(const char *dir, const char *out, gt_shard *s)
{
    char p[512];
    int nc, id;
    memset(s, 0, sizeof *s);
    snprintf(p, sizeof p, "%s/%s/shard-00000.nc", dir, out);
    NCK(nc_open(p, NC_NOWRITE, &nc));
    if (dim_len(nc, "sample", &s->ns) || dim_len(nc, "time", &s->nt) || dim_len(nc, "input", &s->ni) ||
        dim_len(nc, "target", &s->ntg))
        return 1;
    char *buf = malloc((size_t)s->ns * 64 + 1);
    s->ids = calloc((size_t)s->ns + 1, sizeof *s->ids);
    s->time = malloc(((size_t)s->nt + 1) * sizeof *s->time);
    if (!buf || !s->ids || !s->time) { free(buf); return 1; }
    NCK(nc_inq_varid(nc, "sample_id", &id));
    NCK(nc_get_var_text(nc, id, buf));
    for (int i = 0; i < s->ns; i++) { memcpy(s->ids[i], buf + 64 * i, 64); s->ids[i][64] = '\0'; }
    free(buf);
    NCK(nc_inq_varid(nc, "time", &id));
    NCK(nc_get_var_double(nc, id, s->time));
    if (get_role(nc, "input", s->ns, s->nt, s->ni, &s->x) || get_role(nc, "target", s->ns, s->nt, s->ntg, &s->y) ||
        get_mapped(nc, "x_qc", s->ns, s->nt, s->ni, 0, &s->xqc) ||
        get_mapped(nc, "y_qc", s->ns, s->nt, s->ntg, 0, &s->yqc))
        return 1;
    NCK(nc_close(nc));
    return 0;
}

void gt_shard_free(gt_shard *s)
{
    free(s->ids);
    free(s->time);
    free(s->x);
    free(s->xqc);
    free(s->y);
    free(s->yqc);
    memset(s, 0, sizeof *s);
}

int gt_find_sample(const gt_shard *s, const char *id)
{
    for (int i = 0; i < s->ns; i++)
        if (!strcmp(s->ids[i], id)) return i;
    return -1;
}

int gt_max_failed(int failed)
{
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return failed;
}

int gt_remove_dir(const char *dir)
{
    if (getenv("AF_KEEP")) return 0;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0;
}
