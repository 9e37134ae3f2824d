/* SPDX-License-Identifier: MIT */
/* synth_io.c: the shared file helper of the synth writers (synth_io.h). */
#include <stdio.h>

#include "af_check.h"
#include "af_util.h"
#include "synth_io.h"

int af__synth_open(const char *dir, const char *rel, af_synth_file *f, af_error *err)
{
    int rc = AF_OK;
    char d[4096];
    f->fp = NULL;
    AF_CHECK(af_path_join(dir, rel, f->path, sizeof f->path, err));
    af_path_dirname(f->path, d, sizeof d);
    AF_CHECK(af_mkdirs(d, err));
    snprintf(f->tmp, sizeof f->tmp, "%s.partial", f->path);
    f->fp = fopen(f->tmp, "w");
    if (!f->fp) AF_FAIL(AF_EIO, "cannot create '%s'", f->tmp);
cleanup:
    return rc;
}

int af__synth_close(af_synth_file *f, af_error *err)
{
    int rc = AF_OK;
    FILE *fp = f->fp;
    f->fp = NULL;
    AF_CHECK_ARG(fp);
    if (ferror(fp)) { fclose(fp); remove(f->tmp); AF_FAIL(AF_EIO, "write error on '%s'", f->tmp); }
    if (fclose(fp) != 0) { remove(f->tmp); AF_FAIL(AF_EIO, "cannot close '%s'", f->tmp); }
    AF_CHECK(af_fsync_path(f->tmp, err));
    AF_CHECK(af_rename_durable(f->tmp, f->path, err));
cleanup:
    return rc;
}

void af__synth_abort(af_synth_file *f)
{
    if (f && f->fp) { fclose(f->fp); remove(f->tmp); f->fp = NULL; }
}

void af__synth_put_hundredths(FILE *fp, long h)
{
    long a = h < 0 ? -h : h;
    fprintf(fp, "%s%ld.%02ld", h < 0 ? "-" : "", a / 100, a % 100);
}
