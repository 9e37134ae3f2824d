/* SPDX-License-Identifier: MIT */
/*
 * soil_impl.h (private): state of the soil property source ("source = soil",
 * soil.c) and its pure helpers in soil_depth.c: depth layers and the
 * depth-weighted profile mean's layer weights.
 */
#ifndef AF_SOIL_IMPL_H
#define AF_SOIL_IMPL_H

#include <stddef.h>

#include "agroflux/source.h"
#include "agroflux/units.h"
#include "raster_zonal.h"

#define SO_MAX_LAYERS 32

typedef struct so_layer {
    char text[32];          /* as written in layers (substituted for {layer}) */
    double top, bottom;     /* cm */
    rz_raster r;
} so_layer;

typedef struct so_feat {
    const af_feature_cfg *f;
    double w[SO_MAX_LAYERS];/* depth weights (overlap / depth thickness), sum 1 */
    af_unit_conv conv;
} so_feat;

typedef struct so_state {
    const af_source_ctx *ctx;
    size_t nlocal;
    so_layer *layers;
    size_t nlayers;
    int log10v;
    af_grid_interp site_method;
    double min_valid;
    rz_raster crop;         /* cropland_weights (ds NULL if none) */
    int crop_warp;          /* its grid differs from the soil rasters': averaged onto each strip */
    GDALDatasetH crop_vrt;  /* class-mask VRT of crop when warping with cropland_classes */
    int crop_classes[256];
    size_t ncrop_classes;
    so_feat *feats;
    size_t nfeat;
    const char **paths;
    size_t npaths;
    int prepared;
    rz_geom geom;
    double *mean, *share;   /* [layer][poly] */
    double *site;           /* [layer][local sample] */
} so_state;

/**
 * Parse "0-5,5-15,15-30" (or 0_5,...): ascending, non-overlapping, top < bottom, at most
 * SO_MAX_LAYERS. *out is calloc'd (free it). AF_EINVAL naming the item.
 */
int af__soil_parse_layers(const char *spec, so_layer **out, size_t *n, af_error *err);

/**
 * Weights w[l] = overlap(layer l, depth) / thickness(depth) for depth "a-b" ("" = from the
 * first layer's top to the last layer's bottom). AF_EINVAL for a malformed depth or one the
 * layers do not cover without gaps.
 */
int af__soil_depth_weights(const char *depth, const so_layer *layers, size_t n, double *w, af_error *err);

#endif
