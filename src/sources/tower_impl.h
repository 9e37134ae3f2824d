/* SPDX-License-Identifier: MIT */
/*
 * tower_impl.h: private layout of af_tower_file shared by tower_file.c (open,
 * timestamps, column lookup and reads) and tower_daily.c (ONEFlux daily rules).
 * Invariant: start[] is strictly increasing, in minutes since 1970-01-01 local
 * standard time; for HH/HR every gap is a whole number of steps. Not collective.
 */
#ifndef AF_TOWER_IMPL_H
#define AF_TOWER_IMPL_H

#include "agroflux/calendar.h"
#include "agroflux/tower.h"
#include "af_util.h"

struct af_tower_file {
    af_csv csv;            /**< open file; header kept in csv.header */
    af_tower_kind kind;
    af_tower_res res;
    int step;              /**< minutes: 30, 60, 1440 (DD); 0 for WW/MM/YY */
    int ts_col, te_col;    /**< TIMESTAMP_START (or TIMESTAMP) and TIMESTAMP_END (-1) */
    long nrec;
    long long *start;      /**< [nrec] record start, epoch minutes */
    long data_offset;      /**< byte offset of the first data record */
    long data_line;        /**< csv.line just before the first data record */
};

/** floor(a / b) for b > 0. */
static inline long long af__tower_floordiv(long long a, long long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

#endif
