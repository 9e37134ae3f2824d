/* SPDX-License-Identifier: MIT */
/*
 * fetch_impl.h: what the files of src/fetch share (not public): checksum lists
 * (fetch_sums.c) used by the engine (fetch_engine.c).
 */
#ifndef AGROFLUX_FETCH_IMPL_H
#define AGROFLUX_FETCH_IMPL_H

#include "agroflux/fetch.h"

/* Fill expect_sha of the items with a sums_url (each checksum file read once); an item whose
 * file is not listed, or whose checksum file cannot be read, gets its error and status set.
 * Returns how many items failed so, or -1 (msg) when out of memory. */
int af__fetch_sums_resolve(af_fetch_item *const *items, size_t n, char *msg, size_t msgn);

#endif
