/* SPDX-License-Identifier: MIT */
/*
 * export_fill.c: the missing-value policy of the AgroFlux export
 * (--missing fill|keep|error, docs/training.md "Missing values"). The
 * official training code has no mask in its t0 loss and feeds inputs
 * straight to the model, so the arrays it reads must be finite. With fill,
 * a run of at most AF_EXPORT_GAP missing days with valid days on both sides
 * in the sample's series is interpolated linearly in time (unscaled values,
 * double precision, stored as float32); longer runs and runs at either end
 * of the series take the training mean, which is the scaled value 0. Masks
 * (1 observed, 0 filled) go beside the filled arrays. This file holds the
 * fill of one series and the per-variable report. Not collective.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export_impl.h"

void af__export_fill(float *v, size_t n, size_t stride, size_t a, size_t b, int fill, unsigned char *state,
                     size_t sstride, unsigned long long *cnt)
{
    for (size_t t = a; t < b;) {
        if (isfinite(v[t * stride])) {
            state[(t - a) * sstride] = 0;
            t++;
            continue;
        }
        /* the whole run of missing days around t, in the window [0, n) */
        size_t g0 = t, g1 = t;
        while (g0 > 0 && !isfinite(v[(g0 - 1) * stride])) g0--;
        while (g1 < n && !isfinite(v[g1 * stride])) g1++;
        int interp = fill && g0 > 0 && g1 < n && g1 - g0 <= AF_EXPORT_GAP;
        double p = interp ? v[(g0 - 1) * stride] : 0.0, q = interp ? v[g1 * stride] : 0.0;
        size_t end = g1 < b ? g1 : b;
        for (; t < end; t++) {
            state[(t - a) * sstride] = interp ? 1 : 2;
            cnt[interp ? 0 : 1]++;
            if (interp) v[t * stride] = (float)(p + (q - p) * (double)(t - g0 + 1) / (double)(g1 - g0 + 1));
        }
    }
}

static void add_line(char *buf, size_t n, const char *fmt, const char *what, const char *name, unsigned long long a,
                     unsigned long long b)
{
    size_t l = strlen(buf);
    if (l + 1 < n) snprintf(buf + l, n - l, fmt, what, name, a, b);
}

/* One line per variable with missing cells: county arrays, then site inputs. */
void af__export_report(const af_export *e, char *buf, size_t n)
{
    const af_index *x = &e->idx;
    const char *fmt = e->missing == AF_MISS_FILL ? "%s %s: %llu cells interpolated, %llu set to the training mean\n"
                                                 : "%s %s: %llu + %llu cells missing\n";
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const unsigned long long *m = pass ? e->miss_site : e->miss;
        for (size_t j = 0; j < x->ninputs + x->ntargets; j++) {
            if (m[2 * j] + m[2 * j + 1] == 0) continue;
            const char *name = j < x->ninputs ? x->inputs[j].name : x->targets[j - x->ninputs].name;
            add_line(buf, n, fmt, pass ? "site input" : j < x->ninputs ? "county input" : "county target", name,
                     m[2 * j], m[2 * j + 1]);
        }
    }
    for (int k = 0; k < AF_Y_N; k++)
        if (e->ycol[k] < 0 && e->ncounty > 0) {
            size_t l = strlen(buf);
            int m = 0, j = k;
            while (j >= af__agx_module_size[m]) j -= af__agx_module_size[m++];
            if (l + 1 < n)
                snprintf(buf + l, n - l, "county target %s: not in the output (%zu cells, %s)\n",
                         af__agx_module_targets[m][j], e->ncounty * (size_t)x->ndays,
                         e->missing == AF_MISS_FILL ? "written as the scaled value 0, mask 0" : "NaN");
        }
}
