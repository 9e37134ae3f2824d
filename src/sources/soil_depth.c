/* SPDX-License-Identifier: MIT */
/*
 * soil_depth.c: depth layers of the soil source ("0-5,5-15,15-30" in cm) and
 * the weights of a depth-weighted profile mean: each layer weighs its overlap
 * with the requested depth over the depth's thickness. Pure functions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/opts.h"
#include "soil_impl.h"

/* "a-b" or "a_b" with 0 <= a < b. */
static int parse_range(const char *item, double *a, double *b)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", item);
    char *sep = strchr(buf + (buf[0] == '-' ? 1 : 0), '-');
    if (!sep) sep = strchr(buf, '_');
    if (!sep) return 0;
    *sep = '\0';
    return af_parse_double(af_strtrim(buf), a) && af_parse_double(af_strtrim(sep + 1), b) && isfinite(*a) &&
           isfinite(*b) && *a >= 0 && *a < *b;
}

int af__soil_parse_layers(const char *spec, so_layer **out, size_t *n, af_error *err)
{
    int rc = AF_OK;
    af_list l = AF_LIST_INIT;
    so_layer *L = calloc(SO_MAX_LAYERS, sizeof *L);
    AF_CHECK_ALLOC(L);
    size_t k = 0;
    AF_CHECK(af_list_split(spec, &l, err));
    for (size_t i = 0; i < l.n; i++) {
        if (k >= SO_MAX_LAYERS) AF_FAIL(AF_EINVAL, "more than %d layers", SO_MAX_LAYERS);
        if (strlen(l.items[i]) >= sizeof L[k].text) AF_FAIL(AF_EINVAL, "too long layer in '%s'", spec);
        snprintf(L[k].text, sizeof L[k].text, "%s", l.items[i]);
        if (!parse_range(L[k].text, &L[k].top, &L[k].bottom))
            AF_FAIL(AF_EINVAL, "layer '%s' is not top-bottom in cm with top < bottom (e.g. 0-5)", L[k].text);
        if (k > 0 && L[k].top < L[k - 1].bottom)
            AF_FAIL(AF_EINVAL, "layer '%s' starts above the bottom of '%s' (layers must be ascending, not overlapping)",
                    L[k].text, L[k - 1].text);
        k++;
    }
    if (k == 0) AF_FAIL(AF_EINVAL, "no layers in '%s'", spec);
    *out = L;
    *n = k;
    L = NULL;
cleanup:
    af_list_dispose(&l);
    free(L);
    return rc;
}

int af__soil_depth_weights(const char *depth, const so_layer *layers, size_t n, double *w, af_error *err)
{
    int rc = AF_OK;
    double a = layers[0].top, b = layers[n - 1].bottom;
    if (depth && depth[0] && !parse_range(depth, &a, &b))
        AF_FAIL(AF_EINVAL, "'%s' is not top-bottom in cm with top < bottom (e.g. 0-30)", depth);
    double covered = 0;
    for (size_t l = 0; l < n; l++) {
        double lo = fmax(a, layers[l].top), hi = fmin(b, layers[l].bottom);
        w[l] = hi > lo ? (hi - lo) / (b - a) : 0;
        covered += hi > lo ? hi - lo : 0;
    }
    if (fabs(covered - (b - a)) > 1e-9 * (b - a))
        AF_FAIL(AF_EINVAL, "depth %g-%g cm is not covered by the layers (%g of %g cm; layers %g-%g cm)", a, b, covered,
                b - a, layers[0].top, layers[n - 1].bottom);
cleanup:
    return rc;
}
