/* SPDX-License-Identifier: MIT */
/*
 * agroflux/samples.h: the sample set and its partition over MPI ranks.
 *
 * A sample is a (county, scenario) pair or a flux-tower site. The set is loaded
 * from a county polygon layer (any OGR format; FIPS from an attribute or the
 * feature id), an optional selection list, a scenario list, and a site list CSV.
 * Global order (the row order of the output): counties sorted along a Hilbert
 * curve over their centroids (ties by FIPS), each county's scenarios in declared
 * order; then sites along the same curve (ties by site id). This order depends on
 * nothing but the inputs, so output is identical for any rank count. Each county
 * also keeps its county list position (county_rank): its row in the selection
 * list, or its FIPS order without one; the AgroFlux export and the spatial
 * split blocks follow that list order, shards keep the global order.
 * Not collective: every rank loads the same set.
 */
#ifndef AGROFLUX_SAMPLES_H
#define AGROFLUX_SAMPLES_H

#include <stddef.h>
#include "agroflux/config.h"
#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AF_ID_MAX 64

typedef enum af_sample_kind { AF_SAMPLE_COUNTY = 0, AF_SAMPLE_SITE = 1 } af_sample_kind;

typedef struct af_sample {
    char id[AF_ID_MAX];       /**< "FIPS:SCENARIO" for counties (e.g. "19001:N0"), the site id for sites */
    af_sample_kind kind;
    char fips[8];             /**< 5-digit county FIPS; "" for sites */
    char scenario[AF_ID_MAX]; /**< scenario name; "" for sites */
    int scenario_index;       /**< 0-based index in the declared scenario list; -1 for sites */
    double lat, lon;          /**< county centroid or site location, degrees (geographic CRS of the layer) */
    size_t unit;              /**< index of the county (af_sampleset_county_*) or of the site */
    double work;              /**< relative cost estimate used by the partition (>= 0) */
    long county_rank;         /**< 0-based county list position: row of the FIPS in the selection
                                   list (data rows, comments skipped), or the FIPS order without a
                                   list; -1 for sites and when unknown (an index written without it) */
} af_sample;

/** Where the samples come from. Paths are already resolved by the caller. */
typedef struct af_sample_opts {
    const char *county_layer;       /**< OGR-readable polygon file; NULL for no counties */
    const char *county_layer_name;  /**< layer inside it; NULL for the first */
    const char *id_field;           /**< attribute with the 5-digit FIPS; NULL or "" = feature id */
    const char *select_csv;         /**< CSV with a header column 'fips' (or 'FIPS', 'geoid'); NULL = all */
    const char *const *scenarios;   /**< scenario names in order; NULL/0 = one scenario "base" */
    size_t nscenarios;
    const char *site_csv;           /**< CSV with header columns site_id, lat, lon; NULL = no sites */
    double site_work;               /**< partition work of a site, a county sample being 1 (<= 0: 1) */
} af_sample_opts;

/**
 * Estimated work of a site whose targets come from tower or chamber files, a county sample being 1.
 * Measured on the synth AgroFlux pipeline (64 counties x 4 scenarios + 3 sites, bench_scale): the
 * 3 sites' tower fill and chamber read take ~0.10 s CPU on the rank holding them, a county sample's
 * Ecosys targets ~2.7 ms, so a site is worth ~12 county samples. Without tower or chamber features
 * a site reads what a county sample reads (or less): 1.
 */
#define AF_SITE_WORK_OBS 12.0

/** AF_SITE_WORK_OBS when a tower or chamber feature of cfg applies to sites, else 1 (config only). */
double af_sample_site_work(const af_config *cfg);

/**
 * The text of path placeholder `name` ({year}, {id}, {fips}, {state}, {scenario}, {site}) for
 * sample s (NULL: only {year}) and year (<= 0: none), or NULL when they cannot fill it. {id} writes
 * "FIPS:SCENARIO" as FIPS_SCENARIO, so no file name has a ':'. buf holds computed values.
 */
const char *af_sample_field(const char *name, const af_sample *s, int year, char *buf, size_t n);

/** The sample options a pipeline's [counties] and [sites] sections give (borrowed from cfg),
 * site_work from af_sample_site_work. */
void af_sample_opts_from_config(const af_config *cfg, af_sample_opts *opts);

typedef struct af_sampleset af_sampleset;

/**
 * Not collective. Load and order the sample set. Errors: AF_ENOTFOUND (file,
 * layer, field, or a selected FIPS absent from the layer: message names it),
 * AF_EGDAL, AF_EFORMAT (bad CSV row: file:line and field), AF_EINVAL (empty
 * selection, duplicate FIPS or site id, non-polygon geometry).
 */
int af_sampleset_load(const af_sample_opts *opts, af_sampleset **out, af_error *err);
void af_sampleset_destroy(af_sampleset **set);

/**
 * Not collective. The whole set as one byte string (*buf malloc'ed, the caller frees it), for
 * af_sampleset_unpack in another process running the same build: one rank of a job loads the
 * counties and sites, the others receive them. Not a file format (structs as in memory).
 */
int af_sampleset_pack(const af_sampleset *set, unsigned char **buf, size_t *len, af_error *err);
/** Not collective. The set that af_sampleset_pack packed; AF_EFORMAT if buf is not one. */
int af_sampleset_unpack(const unsigned char *buf, size_t len, af_sampleset **out, af_error *err);

size_t af_sampleset_count(const af_sampleset *set);
/** Borrowed pointer to sample i in global order. */
const af_sample *af_sampleset_get_ref(const af_sampleset *set, size_t i);
/** Global index of the sample with this id, or -1. */
long af_sampleset_find(const af_sampleset *set, const char *id);

size_t af_sampleset_ncounties(const af_sampleset *set);
size_t af_sampleset_nsites(const af_sampleset *set);
/** County polygon as ISO WKB in the layer's CRS (borrowed). */
const unsigned char *af_sampleset_county_wkb_ref(const af_sampleset *set, size_t county,
                                                 size_t *len);
/** FIPS of county index `county` (borrowed). */
const char *af_sampleset_county_fips_ref(const af_sampleset *set, size_t county);
/** The layer's CRS as WKT (borrowed; "" if the layer has none). */
const char *af_sampleset_county_crs_wkt_ref(const af_sampleset *set);

/** A rank's contiguous slice [begin, end) of the global order. */
typedef struct af_range {
    size_t begin, end;
} af_range;

/**
 * Not collective (pure). Split the global order into nranks contiguous slices
 * balanced by sample work, never splitting one county's scenarios across ranks.
 * Slices may be empty when there are more ranks than counties and sites.
 */
int af_sampleset_partition(const af_sampleset *set, int nranks, af_range *ranges,
                           af_error *err);

/** Hilbert index of (x, y) in [0, 2^order)^2; exposed for tests. */
unsigned long long af_hilbert_index(unsigned order, unsigned long x, unsigned long y);

#ifdef __cplusplus
}
#endif
#endif
