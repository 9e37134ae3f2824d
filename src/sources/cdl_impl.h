/* SPDX-License-Identifier: MIT */
/*
 * cdl_impl.h (private): state of the Cropland Data Layer source
 * ("source = cdl", cdl.c) and the class lists of cdl_classes.c (codes, or
 * names through a class table CSV with columns code,name).
 */
#ifndef AF_CDL_IMPL_H
#define AF_CDL_IMPL_H

#include <stddef.h>

#include "agroflux/source.h"
#include "agroflux/units.h"
#include "raster_zonal.h"

typedef enum cd_stat { CD_FRACTION = 0, CD_DOMINANT = 1, CD_DOMINANT_IN = 2 } cd_stat;

/** Class names by code (from class_table), "" where none. */
typedef struct cd_table {
    char name[RZ_NCLASS][64];
    int loaded;
} cd_table;

typedef struct cd_feat {
    const af_feature_cfg *f;
    cd_stat stat;
    int other;              /* classes = other: valid classes not among crop_classes */
    unsigned char in[RZ_NCLASS];
    af_unit_conv conv;
} cd_feat;

typedef struct cd_state {
    const af_source_ctx *ctx;
    size_t nlocal;
    int crop[RZ_NCLASS];    /* crop_classes in declared order (dominance ties: first listed) */
    size_t ncrop;
    unsigned char is_crop[RZ_NCLASS];
    cd_feat *feats;
    size_t nfeat;
    int y0, y1;
    rz_raster *years;       /* [y1-y0+1] */
    const char **paths;
    size_t npaths;
    int prepared;
    rz_geom geom;
    int cur_year;           /* year of hist/denom/site_class, 0 if none */
    double *hist;           /* [poly][RZ_NCLASS] covered area per class */
    double *denom;          /* [poly] county area */
    double *site_class;     /* [local] class at the site, NaN if none */
} cd_state;

/** Load a class table CSV (columns code,name). AF_EFORMAT/AF_ENOTFOUND naming the file and line. */
int af__cdl_table_load(const char *path, cd_table *t, af_error *err);

/**
 * Resolve a comma list of class codes or names (names need a loaded table; case-insensitive;
 * a name may cover several codes) into in[code] = 1, and optionally the codes in order into
 * list (*n of them). AF_EINVAL naming an unknown class.
 */
int af__cdl_resolve(const char *spec, const cd_table *t, unsigned char *in, int *list, size_t *n, af_error *err);

#endif
