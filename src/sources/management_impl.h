/* SPDX-License-Identifier: MIT */
/*
 * management_impl.h: internals of the management source kind (private),
 * shared by management.c (the kind: keys, events, fill) and
 * management_files.c (the planting-date table and the site fertilizer-event
 * files, read whole: they hold a few rows per key and year).
 */
#ifndef AF_MANAGEMENT_IMPL_H
#define AF_MANAGEMENT_IMPL_H

#include <stddef.h>
#include "agroflux/config.h"
#include "agroflux/samples.h"

/** One row of a planting table: key (state, FIPS or site id), year, crop, dates. */
typedef struct mg_row {
    char key[AF_ID_MAX];
    int year;
    int crop;              /* CDL code */
    long plant;            /* epoch days */
    long harvest;          /* epoch days, or -1 when the field is empty or the column absent */
    long line;
    size_t file;           /* index of its file in the source's file list (set by the caller) */
} mg_row;

/** One fertilizer event of a site events file (amount in the file's units). */
typedef struct mg_fert {
    char site[AF_ID_MAX];
    long epoch;
    double amount;
    char units[64];        /* the row's units (units column or events_units) */
    long line;
} mg_fert;

/** A loaded file: planting rows (sorted by key, year, crop) or fertilizer events. */
typedef struct mg_file {
    char path[4096];
    mg_row *rows;
    size_t nrows;
    mg_fert *ferts;
    size_t nferts;
} mg_file;

/** Column names of the planting table. */
typedef struct mg_columns {
    char key[128], year[128], crop[128], plant[128], harvest[128];
} mg_columns;

/** Read a planting table: every row checked (dates in their year, harvest >= plant, no duplicates). */
int af__mg_read_planting(const char *path, const mg_columns *c, mg_file *out, af_error *err);
/** Read a site fertilizer-event file (columns site, date, amount, optional units). */
int af__mg_read_events(const char *path, const char *declared_units, mg_file *out, af_error *err);
/** Rows of key and year (any crop): first index and count (0 if none). */
size_t af__mg_find(const mg_file *f, const char *key, int year, size_t *first);
void af__mg_file_dispose(mg_file *f);

#endif
