/* SPDX-License-Identifier: MIT */
/*
 * agroflux/calendar.h: dates and the pipeline's daily axis.
 *
 * Dates are proleptic Gregorian; "epoch days" count days since 1970-01-01.
 * A calendar is the axis t = 0..ndays-1 from start to end under a policy:
 *   AF_CAL_STANDARD  every real day;
 *   AF_CAL_NOLEAP    every real day except Dec 31 of leap years (the AgroFlux and
 *                    Daymet convention: Feb 29 is kept, each year has 365 days).
 * Because axis days are always real dates, the output stores real dates in CF
 * "standard" time (days since 1970-01-01), with gaps where days were dropped.
 * Not collective.
 */
#ifndef AGROFLUX_CALENDAR_H
#define AGROFLUX_CALENDAR_H

#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct af_date {
    int year, month, day;
} af_date;

typedef enum af_calendar_kind { AF_CAL_STANDARD = 0, AF_CAL_NOLEAP = 1 } af_calendar_kind;

typedef struct af_calendar af_calendar;

/** 1 if year is a Gregorian leap year. */
int af_date_is_leap(int year);
/** Days in month (1..12) of year. */
int af_date_days_in_month(int year, int month);
/** 1 if y-m-d is a real date. */
int af_date_valid(af_date d);
/** Parse strict "YYYY-MM-DD" into *out. AF_EFORMAT (message names the text) if malformed or not a real date. */
int af_date_parse(const char *text, af_date *out, af_error *err);
/** Days since 1970-01-01 (negative before). */
long af_date_to_epoch(af_date d);
/** Inverse of af_date_to_epoch. */
af_date af_date_from_epoch(long days);
/** Day of year, 1..366. */
int af_date_doy(af_date d);
/** Write "YYYY-MM-DD" (11 bytes with NUL) into buf. */
void af_date_format(af_date d, char buf[11]);

/** Parse "standard" or "noleap" (the API also accepts "gregorian" and "365_day_drop_dec31"; the pipeline file only the first two). AF_ECONFIG otherwise. */
int af_calendar_kind_parse(const char *text, af_calendar_kind *out, af_error *err);
const char *af_calendar_kind_name(af_calendar_kind kind);

/** Create the axis [start, end]. AF_EINVAL if end < start or the axis is empty. */
int af_calendar_create(af_date start, af_date end, af_calendar_kind kind, af_calendar **out,
                       af_error *err);
void af_calendar_destroy(af_calendar **cal);

int af_calendar_ndays(const af_calendar *cal);
af_calendar_kind af_calendar_kind_of(const af_calendar *cal);
af_date af_calendar_start(const af_calendar *cal);
af_date af_calendar_end(const af_calendar *cal);
/** Date of axis index t (0 <= t < ndays). */
af_date af_calendar_date(const af_calendar *cal, int t);
/** Epoch days of axis index t. */
long af_calendar_epoch(const af_calendar *cal, int t);
/** Axis index of a date, or -1 if the date is outside the axis or dropped by the policy. */
int af_calendar_index(const af_calendar *cal, af_date d);
/** Axis index of epoch day, or -1 (see af_calendar_index). */
int af_calendar_index_epoch(const af_calendar *cal, long epoch_days);

#ifdef __cplusplus
}
#endif
#endif
