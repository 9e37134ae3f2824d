/* SPDX-License-Identifier: MIT */
/*
 * keys.c: the key tables of the fixed sections ([pipeline], [counties],
 * [sites]) and the keys every feature section has, and the Markdown printer
 * that makes docs/pipelines.md from them (the source kinds' tables are printed
 * by the sources module), so that docs, validation and --help agree.
 */
#include <stdio.h>
#include <string.h>

#include "af_util.h"
#include "agroflux/config.h"
#include "config_impl.h"

static const af_key_spec pipeline_keys[] = {
    { "name", AF_KEY_STRING, 1, NULL, NULL, "Pipeline name, recorded in shards and index." },
    { "start", AF_KEY_DATE, 1, NULL, NULL, "First day of the daily axis, YYYY-MM-DD." },
    { "end", AF_KEY_DATE, 1, NULL, NULL, "Last day of the daily axis (inclusive), YYYY-MM-DD." },
    { "calendar", AF_KEY_CHOICE, 0, "standard", "standard|noleap",
      "standard: every day; noleap: Dec 31 of leap years dropped (AgroFlux and Daymet)." },
    { "data_root", AF_KEY_STRING, 0, "", NULL,
      "Root of the raw-data tree (relative to this file or absolute); any path that starts with {root} is under it, so pointing a pipeline at another copy of the data is one line." },
    { "data_url", AF_KEY_STRING, 0, "", NULL,
      "Base URL of a mirror of the raw-data tree: the value of {data_url} in `url` templates (`agroflux fetch`), e.g. http://HOST:PORT." },
    { "output", AF_KEY_PATH, 0, "output", NULL,
      "Output directory (created); `agroflux run --output` overrides it." },
    { "shard_samples", AF_KEY_INT, 0, "64", NULL,
      "Samples per shard file. Shard k holds samples [k*S, (k+1)*S) in global order." },
    { "format", AF_KEY_CHOICE, 0, "cdf2", "cdf2|cdf5",
      "NetCDF classic variant: cdf2 (64-bit offset; GDAL, scipy, netCDF4 read it) or cdf5." },
    { "block_days", AF_KEY_INT, 0, "366", NULL,
      "Days processed per block; memory is bounded by samples-per-rank x block_days." },
    { "read_split", AF_KEY_CHOICE, 0, "auto", "auto|days|samples",
      "How ranks share the gridded sources' reads (never what is written): days: each rank decodes whole chunks in "
      "time of the block for every sample and the values move to their owners (no chunk decoded twice; ranks beyond "
      "the block's chunks in time, e.g. 6 for 366 days of gridMET, get no gridded work); samples: each rank reads "
      "the window of its own samples; auto: days on up to 4 ranks, samples above." },
    { "coverage_min_fraction", AF_KEY_DOUBLE, 0, "0.5", NULL,
      "Coverage accounting (coverage.json): a year of a source file whose valid share of the sample-days read from "
      "it is below this (0..1) is a warning, an error under `run --strict`; 0 turns this check off (a file or year "
      "with no valid day is always reported)." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static const af_key_spec counties_keys[] = {
    { "layer", AF_KEY_PATH, 1, NULL, NULL, "County polygons, any OGR format (GeoJSON, GeoPackage, Shapefile)." },
    { "layer_name", AF_KEY_STRING, 0, "", NULL, "Layer inside the file; default the first." },
    { "id_field", AF_KEY_STRING, 0, "", NULL,
      "Attribute with the 5-digit FIPS (e.g. GEOID); empty: the feature id." },
    { "select", AF_KEY_PATH, 0, "", NULL,
      "CSV with a 'fips' column listing the counties to keep (e.g. site_lists/*.csv); default all. "
      "Its row order is the county list order of the AgroFlux export and the spatial split blocks "
      "(without it: FIPS order); the shards keep the global order." },
    { "scenarios", AF_KEY_LIST, 0, "base", NULL,
      "Comma-separated scenario names; each county gives one sample per scenario (id FIPS:SCENARIO)." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static const af_key_spec sites_keys[] = {
    { "list", AF_KEY_PATH, 1, NULL, NULL, "CSV with columns site_id, lat, lon (more columns allowed)." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

static const af_key_spec feature_keys[] = {
    { "source", AF_KEY_CHOICE, 1, NULL, NULL, "Source kind (see below)." },
    { "units", AF_KEY_STRING, 1, NULL, NULL,
      "Output units. The source declares its own; the conversion comes from the units table." },
    { "long_name", AF_KEY_STRING, 0, "", NULL, "CF long_name." },
    { "sign", AF_KEY_STRING, 0, "", NULL, "Sign convention, for fluxes (recorded in CF attributes and index)." },
    { "applies_to", AF_KEY_CHOICE, 0, "all", "all|counties|sites",
      "Which samples the feature is read for; the others get missing values." },
    { "fetch", AF_KEY_CHOICE, 0, "copy", "copy|crop|tiles",
      "How `agroflux fetch` makes `path` from `url`: copy = the file as downloaded; crop = `url` is a national raster or a zip holding one GeoTIFF (CDL): the window of whole source pixels covering the pipeline's counties and sites (+ `fetch_margin`) is cut out, no resampling; tiles = the 1x1 degree `tile_url` tiles covering the region are downloaded and `path` becomes their VRT (POLARIS)." },
    { "fetch_margin", AF_KEY_INT, 0, "8", NULL,
      "fetch = crop: source pixels kept around the region's box (in the raster's CRS)." },
    { "fetch_cache", AF_KEY_PATH, 0, "", NULL,
      "fetch = crop: directory where the downloaded archive is kept (reused by other regions); empty: it is downloaded next to `path` and deleted after the crop." },
    { "tile_url", AF_KEY_STRING, 0, "", NULL,
      "fetch = tiles: URL template of one 1x1 degree tile, with {lat0} {lat1} {lon0} {lon1} (integer degrees of its edges) besides the path placeholders; tiles are kept in PATH_STEM.tiles/." },
    { "sha256sums", AF_KEY_STRING, 0, "", NULL,
      "URL template of a SHA256SUMS file (`sha256sum` output: HASH  NAME) listing the downloaded files by name: `fetch` checks each download against it before renaming (mirrors can publish one)." },
    { NULL, 0, 0, NULL, NULL, NULL }
};

const af_key_spec *af__config_pipeline_keys(void) { return pipeline_keys; }
const af_key_spec *af__config_counties_keys(void) { return counties_keys; }
const af_key_spec *af__config_sites_keys(void) { return sites_keys; }
const af_key_spec *af_feature_common_keys(void) { return feature_keys; }

const af_key_spec *af__config_find_key(const af_key_spec *table, const char *key)
{
    for (const af_key_spec *k = table; k && k->key; k++)
        if (!strcmp(k->key, key)) return k;
    return NULL;
}

const af_key_spec *af__config_near_key(const af_key_spec *table, const char *key)
{
    for (const af_key_spec *k = table; k && k->key; k++)
        if (af_one_edit_apart(k->key, key)) return k;
    return NULL;
}

static const char *type_name(af_key_type t)
{
    switch (t) {
    case AF_KEY_STRING: return "string";
    case AF_KEY_PATH: return "path";
    case AF_KEY_INT: return "integer";
    case AF_KEY_DOUBLE: return "number";
    case AF_KEY_DATE: return "date";
    case AF_KEY_LIST: return "list";
    case AF_KEY_CHOICE: return "choice";
    }
    return "?";
}

void af_config_print_key_table(FILE *fp, const char *title, const af_key_spec *keys)
{
    fprintf(fp, "### %s\n\n| key | type | required | default | meaning |\n|---|---|---|---|---|\n", title);
    for (const af_key_spec *k = keys; k->key; k++) {
        char choices[256] = "";
        for (size_t i = 0, n = 0; k->choices && k->choices[i] && n + 2 < sizeof choices; i++)
            choices[n++] = k->choices[i] == '|' ? '/' : k->choices[i], choices[n] = '\0';
        fprintf(fp, "| `%s` | %s%s%s | %s | %s%s%s | %s |\n", k->key, type_name(k->type),
                k->choices ? ": " : "", choices, k->required ? "yes" : "no",
                k->def && k->def[0] ? "`" : "", k->def && k->def[0] ? k->def : "",
                k->def && k->def[0] ? "`" : "", k->help);
    }
    fprintf(fp, "\n");
}

void af_config_print_keys_markdown(FILE *fp)
{
    af_config_print_key_table(fp, "[pipeline]", pipeline_keys);
    af_config_print_key_table(fp, "[counties]", counties_keys);
    af_config_print_key_table(fp, "[sites]", sites_keys);
    af_config_print_key_table(fp, "[scenario.NAME]: one management scenario (counties)", af__config_scenario_keys());
    af_config_print_key_table(fp, "[splits]", af__config_splits_keys());
    af_config_print_key_table(fp, "[input.NAME] and [target.NAME]: keys of every source", feature_keys);
}
