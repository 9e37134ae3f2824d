/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c: libFuzzer harness for the pipeline-file loader (src/config:
 * libinih line reader, key tables, scenarios, splits, --set overrides, the
 * config hash). The input up to its first NUL byte is the pipeline file; the
 * NUL-separated texts after it (at most 8) are --set overrides. Paths resolve
 * in the harness's private directory, which holds a few empty files the seeds
 * name (counties.geojson, counties.csv, sites.csv, weather.csv, targets.csv).
 * Invariants: a loaded pipeline has a name, start <= end, samples, features with
 * a known source kind, a 64-hex-digit hash; a failed load says why.
 */
#include <string.h>

#include "agroflux/config.h"
#include "agroflux/pipeline.h"
#include "agroflux/source.h"
#include "fuzz_common.h"

#define MAX_SETS 8

static void make_data_files(void)
{
    static int done;
    static const char *const names[] = { "counties.geojson", "counties.csv", "sites.csv", "weather.csv",
                                         "targets.csv" };
    char path[4200];
    if (done) return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) fz_write(names[i], (const uint8_t *)"", 0, path, sizeof path);
    done = 1;
}

static void check_config(const af_config *cfg)
{
    FZ_ASSERT(af_date_to_epoch(cfg->start) <= af_date_to_epoch(cfg->end));
    FZ_ASSERT(cfg->has_counties || cfg->has_sites);
    FZ_ASSERT(strlen(cfg->sha256) == 64);
    for (size_t i = 0; i < cfg->nfeatures; i++) {
        FZ_ASSERT(af_source_kind_find(cfg->features[i].source) != NULL);
        FZ_ASSERT(cfg->features[i].name[0] != '\0' && cfg->features[i].section != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    const uint8_t *nul = memchr(data, '\0', size);
    size_t flen = nul ? (size_t)(nul - data) : size;
    make_data_files();
    fz_write("pipeline.ini", data, flen, path, sizeof path);

    char *rest = nul ? fz_strndup(nul + 1, size - flen - 1) : NULL;
    const char *sets[MAX_SETS];
    size_t nsets = 0;
    if (rest) {
        /* the overrides: NUL-separated after the file (fz_strndup ends the last one) */
        const char *p = rest, *end = rest + (size - flen - 1);
        while (p <= end && nsets < MAX_SETS) {
            sets[nsets++] = p;
            p += strlen(p) + 1;
        }
    }
    af_error err = AF_ERROR_INIT;
    af_config *cfg = NULL;
    /* the loader of run and plan: config, then each feature's source kind and its keys */
    if (af_pipeline_config_load(path, sets, nsets, &cfg, &err) == AF_OK) {
        check_config(cfg);
        FZ_ASSERT(cfg->nsets == nsets);
        af_config_destroy(&cfg);
        FZ_ASSERT(cfg == NULL);
    } else {
        fz_rejected("pipeline file", &err);
        FZ_ASSERT(cfg == NULL && err.msg[0] != '\0');
    }
    free(rest);
    return 0;
}
