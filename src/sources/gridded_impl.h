/* SPDX-License-Identifier: MIT */
/*
 * gridded_impl.h (private): shared state of the gridded daily weather source
 * ("source = gridded"): gridded.c (keys, open/fill/close), gridded_read.c
 * (GDAL raster I/O: per-year files, time axis, packed values, windowed reads)
 * and gridded_weights.c (reprojection of counties and sites into the raster
 * CRS, exact-coverage weights and their on-disk cache).
 */
#ifndef AF_GRIDDED_IMPL_H
#define AF_GRIDDED_IMPL_H

#include <stddef.h>
#include <gdal.h>

#include "agroflux/coverage.h"
#include "agroflux/source.h"
#include "agroflux/units.h"

typedef enum gr_format { GR_GRIDMET = 0, GR_DAYMET = 1, GR_STACK = 2 } gr_format;
typedef enum gr_stat { GR_MEAN = 0, GR_MIN = 1, GR_MAX = 2, GR_STD = 3 } gr_stat;

/** One opened raster (one year of one variable). */
typedef struct gr_file {
    char path[4096];       /* the file on disk (provenance) */
    char dsname[4200];     /* what GDAL opens: NETCDF:"path":var or path */
    int year;              /* 0 when the path has no {year} */
    GDALDatasetH ds;
    int nbands;
    long *epoch;           /* real date (epoch days) of each band */
    double scale, offset;  /* packed values: v = raw * scale + offset */
    int has_nodata, has_missing;
    double nodata, missing;
    /* NetCDF: the same variable through GDAL's multidimensional API, so a block of days is one
     * hyperslab read (each compressed chunk decoded once), not one read per band; NULL otherwise. */
    GDALDatasetH mds;
    GDALMDArrayH marr;
    int mflip;             /* 1: file rows run south to north (GDAL's band view flips them) */
    int tchunk;            /* days per chunk of the NetCDF variable (0: unknown or not chunked) */
    long nx, ny;           /* raster size (checked at open) */
    int mdim;              /* 1: read through marr alone (open_multidim succeeded at open); the classic
                            * dataset, whose opening reads every band's metadata, is then not reopened */
    GDALDataType rtype;    /* type of raw reads: af__gridded_read_type of the stored type; Float32 for band reads */
    char units[64];        /* the variable's units attribute ("" when it has none) */
    /* what af__gridded_describe_file found, on the rank that described the file (gridded_scan.c
     * passes it to the others); af__gridded_adopt_file checks it against the group's grid */
    double gt[6];
    char *wkt;             /* malloc'd WKT of the file's CRS (NULL once adopted) */
    int geographic;        /* the CRS is geographic */
    int has_ellps;         /* semi_major / inv_flattening were read from the CRS */
    double semi_major, inv_flattening;
    int dcode;             /* AF_OK, or why the file could not be described (dmsg, malloc'd) */
    char *dmsg;
} gr_file;

/** One distinct variable read by the group, with its per-year files; with multiply_path, the
 * multiplier's files too (same years, grid and days), multiplied in cell by cell before aggregation. */
typedef struct gr_var {
    char name[128];
    gr_file *files;
    size_t nfiles;
    char mtmpl[4096];      /* multiply_path template ("" : no multiplier) */
    char mname[128];       /* multiply_variable */
    const af_config_section *msec; /* the section that declared the multiplier (errors) */
    gr_file *mfiles;       /* [nfiles] or NULL */
    const af_config_section *sec; /* the first section reading it (its source_units are checked) */
} gr_var;

typedef struct gr_feat {
    const af_feature_cfg *f;
    size_t var;            /* index into vars */
    gr_stat stat;
    af_unit_conv conv;
} gr_feat;

typedef struct gr_scan gr_scan; /* gridded_scan.c: a scan waiting for its join */

typedef struct gr_state {
    const af_source_ctx *ctx;
    gr_scan *scan;         /* between af__gridded_scan_files and af__gridded_join_files, else NULL */
    size_t nlocal;
    gr_format format;
    char crs_key[256];
    long stack_start;      /* epoch day of band 1 (format = stack) */
    double min_valid;
    af_grid_interp site_method;
    char cache_dir[4096];
    char cropland[4096];
    int crop_classes[256];  /* cropland_classes: the cropland raster holds classes; these count as crop */
    size_t ncrop_classes;
    gr_feat *feats;
    size_t nfeat;
    gr_var *vars;
    size_t nvars;
    const char **paths;    /* provenance: every file of every variable */
    size_t npaths;
    /* grid and its CRS (of the first file; every other file must match) */
    af_grid grid;
    double gt[6];
    char *grid_wkt;        /* CPLMalloc'd WKT of the raster CRS */
    /* counties: one polygon per distinct county among the local samples */
    size_t npoly;
    long *sample_poly;     /* [nlocal]: polygon index or -1 */
    af_weights *weights;
    double *inside;        /* [npoly]: area_inside / area_total */
    /* sites: position in the raster CRS */
    double *site_x, *site_y; /* [nlocal], NaN for counties */
    int prepared;          /* geometry built (first fill: plan opens sources and must write nothing) */
    af_window agg_win;     /* st->win in the weights' grid (the window sub-grid when cropland weights are used) */
    af_window win;         /* what a block reads: union of county windows and site neighbourhoods */
    af_aggregator *agg;    /* the counties' prepared aggregation over agg_win (after prepare) */
    int has_sites;         /* some local sample is a site (needs unpacked planes) */
    gr_file *held, *held_m; /* the file (and multiplier) read last, kept attached for the next read
                              * (read_days); NULL: none */
    float *lut, *mlut;     /* [65536] unpacking tables of lut_for / mlut_for, kept from fill to fill
                            * (the days of one file span several blocks) */
    const gr_file *lut_for, *mlut_for;
} gr_state;

/* gridded_read.c */
/** netCDF chunk cache per open variable, bytes (set explicitly before every open; see gridded_read.c). */
#define AF_GRIDDED_CHUNK_CACHE (2u << 20)
/** gf->dsname of gf->path and var (NETCDF:"path":var, or the path for stacks). */
void af__gridded_dsname(const gr_state *st, gr_file *gf, const char *var);
/** Open gf, read its grid, CRS, days and packing into gf, and close it again (the description
 * stays; af__gridded_attach reopens it for the blocks that read it). Uses only the group's keys. */
int af__gridded_describe_file(const gr_state *st, gr_file *gf, const char *var, af_error *err);
/** A described gf: the group's grid and CRS when it is the first, else checked against them. */
int af__gridded_adopt_file(gr_state *st, gr_file *gf, af_error *err);
/** Reopen gf's GDAL handles for reading (no-op when open). */
int af__gridded_attach(const gr_state *st, gr_file *gf, const char *var, af_error *err);
/** Close gf's GDAL handles, keeping its description. */
void af__gridded_detach(gr_file *gf);
void af__gridded_close_file(gr_file *gf);
/**
 * Type of the hyperslab reads of a NetCDF variable stored as `stored`: never narrower than it.
 * GDAL's netCDF multidimensional driver (3.6) reads a hyperslab into a narrower buffer type one value
 * at a time (nc_get_var1 per value), and each such call decodes the value's whole compressed chunk
 * when the chunk is larger than the chunk cache (AF_GRIDDED_CHUNK_CACHE): a float64 variable read as
 * float32 took hours per block. Byte, UInt16, Int16: as stored (table unpacking); Float32 and other
 * 1-byte types: Float32; 32/64-bit integers and Float64: Float64; anything else (complex):
 * GDT_Unknown, read through the band API.
 */
GDALDataType af__gridded_read_type(GDALDataType stored);
/** Bytes per raw value of gf's reads (gf->rtype). */
size_t af__gridded_raw_size(const gr_file *gf);
/** Read bands [b0, b1] of gf over st->win into buf[(b1-b0+1)][win rows][win cols] of gf->rtype, as stored
 * (no unpacking; rows in the file's order, see mflip). */
int af__gridded_read_raw(const gr_state *st, const gr_file *gf, int b0, int b1, void *buf, af_error *err);
/** For 8/16-bit rtype: lut (256 or 65536 floats) maps each stored value to its unpacked float (fill -> NaN). */
void af__gridded_build_lut(const gr_file *gf, float *lut);
/** One day plane of raw (as read) into out[win rows][win cols], storage rows north-up as the band view:
 * fill and missing values -> NaN, scale and offset applied. */
void af__gridded_unpack_plane(const gr_state *st, const gr_file *gf, const void *raw, const float *lut, float *out);

/* gridded_scan.c: every year of every distinct variable (and of its multiplier) described, checked
 * and listed in st->paths, in two steps so that the pipeline can describe every group's share before
 * any exchange. With ctx->share, each rank describes a share of the files and the join gathers the
 * descriptions (one allgather, always called); errors come out alike on every rank, the first in
 * file order. */
/** Step 1: list the files and describe this rank's share (into st->scan); a failure is kept for the
 * join to pass on (only running out of memory for st->scan fails here). */
int af__gridded_scan_files(gr_state *st, const af_config_section *sec, af_error *err);
/** Step 2: exchange the descriptions (collective with a share), then check them in file order. Frees st->scan. */
int af__gridded_join_files(gr_state *st, af_error *err);
void af__gridded_scan_free(gr_state *st);

/* gridded_weights.c */
/** Counties: polygons into the raster CRS, weights (cached), inside fractions; sites: x, y; st->win. */
int af__gridded_prepare_geometry(gr_state *st, af_error *err);
/** Open-time check (writes nothing, for `agroflux plan` too): the layer and site CRSs transform into the raster's. */
int af__gridded_check_crs(const gr_state *st, af_error *err);

#endif
