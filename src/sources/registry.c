/* SPDX-License-Identifier: MIT */
/*
 * registry.c: the fixed, ordered list of source kinds (agroflux/source.h).
 * A new raw format is one af_source_kind in its own file plus one line here.
 */
#include <stdio.h>
#include <string.h>

#include "agroflux/source.h"

extern const af_source_kind af__source_table;
extern const af_source_kind af__source_gridded;
extern const af_source_kind af__source_management;
extern const af_source_kind af__source_tower;
extern const af_source_kind af__source_chamber;
extern const af_source_kind af__source_ecosys;
extern const af_source_kind af__source_daycent;
extern const af_source_kind af__source_soil;
extern const af_source_kind af__source_cdl;

static const af_source_kind *const kinds[] = {
    &af__source_table,
    &af__source_gridded,
    &af__source_management,
    &af__source_tower,
    &af__source_chamber,
    &af__source_ecosys,
    &af__source_daycent,
    &af__source_soil,
    &af__source_cdl,
    NULL
};

const af_source_kind *const *af_source_kinds(void) { return kinds; }

const af_source_kind *af_source_kind_find(const char *name)
{
    for (const af_source_kind *const *k = kinds; *k; k++)
        if (name && !strcmp((*k)->name, name)) return *k;
    return NULL;
}

void af_source_kind_names(char *out, size_t n)
{
    size_t used = 0;
    if (n) out[0] = '\0';
    for (const af_source_kind *const *k = kinds; *k && used < n; k++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", k == kinds ? "" : "|", (*k)->name);
}

void af_source_print_keys_markdown(FILE *fp)
{
    for (const af_source_kind *const *k = kinds; *k; k++) {
        char title[160];
        snprintf(title, sizeof title, "source = %s: %s", (*k)->name, (*k)->help);
        af_config_print_key_table(fp, title, (*k)->keys);
    }
}
