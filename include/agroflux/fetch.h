/* SPDX-License-Identifier: MIT */
/*
 * agroflux/fetch.h: the files a pipeline needs, and downloading the missing ones.
 *
 * af_fetch_list_build expands every path key of a pipeline ([counties] layer and
 * select, [sites] list, and path, multiply_path, cropland_weights, events, join,
 * soils, class_table of every feature) over the pipeline's years, soil layers and samples, exactly as the
 * sources do, and pairs each file with its `url` / `KEY_url` template expanded the
 * same way ({data_url} is [pipeline] data_url). af_fetch_run downloads items with
 * libcurl: several transfers at once, each written to PATH.part and resumed from
 * there with an HTTP Range request (If-Range with the validator kept in PATH.part.etag),
 * retried with backoff, checked (the announced
 * size; a raster, NetCDF, vector or zip file must open with GDAL) and only then
 * fsynced and renamed to PATH. Not collective; progress goes to a callback, errors
 * to the af_error and to each item.
 */
#ifndef AGROFLUX_FETCH_H
#define AGROFLUX_FETCH_H

#include <stddef.h>
#include "agroflux/config.h"
#include "agroflux/error.h"
#include "agroflux/samples.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One file a pipeline reads. Strings are owned by the list (af_fetch_list_dispose). */
typedef struct af_fetch_item {
    char key[160];          /**< the pipeline key naming the file, e.g. "input.TMAX_AIR.path" */
    char url_key[160];      /**< its URL key ("input.TMAX_AIR.url"), "" if the pipeline has none */
    int line;               /**< line of the URL key, else of the path key */
    char *path;             /**< local final path (a glob path: its directory + the URL's file name) */
    char *pattern;          /**< the expanded path when it is a glob (tower files), else NULL */
    char *url;              /**< expanded URL, NULL if none */
    int present;            /**< the file exists locally (a glob: something matches) */
    int remote;             /**< the path itself is remote or virtual (/vsicurl/, https://): read in place */
    int optional;           /**< the feature has missing_file = missing: a 404 is not an error */
    int mode;               /**< AF_FETCH_COPY, or how `fetch` makes path from a download (`fetch` key) */
    char *tile_url;         /**< AF_FETCH_TILES: the `tile_url` template, {lat0} {lat1} {lon0} {lon1} left */
    char *src_path;         /**< AF_FETCH_CROP: where the archive is downloaded; AF_FETCH_TILES: tile directory */
    int keep_src;           /**< AF_FETCH_CROP: the archive stays (fetch_cache set), else it is deleted */
    int margin;             /**< AF_FETCH_CROP: source pixels added around the region */
    char *sums_url;         /**< `sha256sums` template expanded: a SHA256SUMS file listing the URL's file */
    char doc[48];           /**< section of docs/data-sources.md for a file without a URL */
    char expect_sha[65];    /**< the SHA-256 the checksum file gives ("" none), filled by af_fetch_run */
    long long size;         /**< bytes: local size when present, else the remote size once known, else -1 */
    /* after af_fetch_run */
    int status;             /**< AF_OK, or the af_status of this file's failure */
    int skipped;            /**< optional file the server does not have */
    long http_status;       /**< last HTTP status (0: none) */
    char *error;            /**< this file's error, NULL if none */
} af_fetch_item;

/** af_fetch_item.mode: the `fetch` key of the section. */
enum { AF_FETCH_COPY = 0, AF_FETCH_CROP = 1, AF_FETCH_TILES = 2 };

typedef struct af_fetch_list {
    af_fetch_item *items;
    size_t n, cap;
    int partial;            /**< built without samples: per-sample files are not listed */
} af_fetch_list;

/**
 * Every file of the pipeline, deduplicated, in pipeline order. With set == NULL only
 * the files that do not depend on samples are listed (list->partial = 1): the county
 * layer, select list and site list must be present before samples can be enumerated.
 * A `url` template using {data_url} while [pipeline] data_url is empty, or an unknown
 * placeholder, is AF_ECONFIG naming the key and line.
 */
int af_fetch_list_build(const af_config *cfg, const af_sampleset *set, int flags, af_fetch_list *out, af_error *err);
/** Flag of af_fetch_list_build: with data_url unset, keep "{data_url}" in URLs instead of failing (listing). */
#define AF_FETCH_LIST_KEEP_DATA_URL 1
void af_fetch_list_dispose(af_fetch_list *list);

/** The samples of a pipeline (county layer, select list, site list), as a run loads them. */
int af_fetch_load_samples(const af_config *cfg, af_sampleset **out, af_error *err);

/** What the progress callback sees. */
typedef struct af_fetch_progress {
    size_t nfiles, files_done, files_failed;
    long long bytes_done;   /**< received by this call, resumed bytes included */
    long long bytes_total;  /**< known sizes so far (estimated for files not started) */
    double elapsed, rate;   /**< seconds; bytes per second of this call */
    double eta;             /**< seconds left, -1 if unknown */
    int final;              /**< 1 on the last call */
} af_fetch_progress;

typedef void (*af_fetch_progress_fn)(const af_fetch_progress *p, void *payload);

typedef struct af_fetch_opts {
    int jobs;               /**< transfers at once (>= 1) */
    int retries;            /**< further attempts of a file after a transient failure */
    double backoff;         /**< seconds before the first retry; doubled each time, at most 60 */
    double stall_seconds;   /**< abandon (and retry) a transfer that receives nothing this long */
    int head_only;          /**< dry run: HEAD requests for sizes and availability, write nothing */
    af_fetch_progress_fn progress;
    void *progress_payload;
    void (*notice)(const char *msg, void *payload); /**< one-off remarks (a resume restarted), payload as progress */
    double progress_interval; /**< seconds between progress calls */
} af_fetch_opts;

#define AF_FETCH_OPTS_INIT { 4, 4, 1.0, 60.0, 0, NULL, NULL, NULL, 1.0 }

typedef struct af_fetch_summary {
    size_t fetched, failed, skipped;
    long long bytes;        /**< bytes received (or, with head_only, announced) */
    double seconds;
} af_fetch_summary;

/**
 * Fetch items (each needs a url; present or remote items are left alone). Returns AF_OK
 * when every file arrived (or, head_only, answered); otherwise the first failure's
 * status, err saying how many failed and naming the first (URL, HTTP status, pipeline
 * key); every item's own outcome is in item->status / item->error. Nothing carries its
 * final name unless it is complete and checked; an interrupted or truncated transfer
 * leaves PATH.part, which the next call resumes.
 */
int af_fetch_run(af_fetch_item *const *items, size_t n, const af_fetch_opts *opts, af_fetch_summary *sum,
                 af_error *err);

/**
 * The downloads behind the derived items (mode CROP or TILES) of items that are missing: the
 * archive of a crop (unless already at its src_path) and the tiles covering the region (the
 * counties and sites of set, in lon/lat) that are not yet in the tile directory. Appended to
 * out (its items own their strings; `key` and `url_key` name the derived item's keys).
 */
int af_fetch_derived_downloads(af_fetch_item *const *items, size_t n, const af_sampleset *set, af_fetch_list *out,
                               af_error *err);

/**
 * Make a derived item's file once its downloads are present: CROP finds the GeoTIFF in the
 * archive (VSIReadDir on /vsizip/), cuts the window of whole source pixels covering the region
 * transformed into the raster's CRS plus it->margin pixels (GDALTranslate -srcwin: no
 * resampling) and writes it to PATH; TILES builds a VRT of the region's tiles at PATH
 * (GDALBuildVRT). Both write PATH.part, fsync and rename; a crop deletes the archive unless
 * keep_src. Errors name the key and the file.
 */
int af_fetch_derive(af_fetch_item *it, const af_sampleset *set, af_error *err);

/** The region of set (county polygons and site points) as a box in the CRS given as WKT or
 *  user input ("EPSG:4326": lon/lat order): b = {xmin, ymin, xmax, ymax}. */
int af_fetch_region_bounds(const af_sampleset *set, const char *crs, double b[4], af_error *err);

/** Check a downloaded file before it takes its final name: raster/NetCDF, vector or zip by
 *  content and name, with GDAL; other files pass. AF_EFORMAT with GDAL's reason. */
int af_fetch_check_file(const char *tmp_path, const char *final_path, af_error *err);

/** Size and SHA-256 (64 hex + NUL) of a file read through GDAL's virtual file systems
 *  (/vsicurl/, /vsizip/, /vsis3/, ...): the provenance of a remote input. */
int af_fetch_vsi_sha256(const char *path, long long *bytes, char hex[65], af_error *err);

#ifdef __cplusplus
}
#endif
#endif
