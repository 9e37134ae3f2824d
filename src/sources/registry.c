/* SPDX-License-Identifier: MIT */
/*
 * registry.c: the fixed, ordered list of source kinds (agroflux/source.h).
 * A new raw format is one af_source_kind in its own file plus one line here.
 */
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
