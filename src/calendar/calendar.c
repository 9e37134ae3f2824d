/* SPDX-License-Identifier: MIT */
/*
 * calendar.c: implements agroflux/calendar.h. The axis stores the epoch day
 * of every index (8 bytes a day: 60 KB for 20 years), so index lookups are a
 * binary search and never depend on the policy's arithmetic being re-derived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agroflux/calendar.h"
#include "af_check.h"

struct af_calendar {
    af_calendar_kind kind;
    af_date start, end;
    int ndays;
    long *epoch; /* epoch day of each axis index, strictly increasing */
};

int af_date_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int af_date_days_in_month(int y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12) return 0;
    return dim[m - 1] + (m == 2 && af_date_is_leap(y));
}

int af_date_valid(af_date d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= af_date_days_in_month(d.year, d.month);
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
long af_date_to_epoch(af_date d)
{
    long y = d.year - (d.month <= 2);
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long mp = (d.month + 9) % 12;
    long doy = (153 * mp + 2) / 5 + d.day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

af_date af_date_from_epoch(long z)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    af_date out = { (int)(y + (m <= 2)), (int)m, (int)d };
    return out;
}

int af_date_doy(af_date d)
{
    af_date jan1 = { d.year, 1, 1 };
    return (int)(af_date_to_epoch(d) - af_date_to_epoch(jan1)) + 1;
}

void af_date_format(af_date d, char buf[11])
{
    unsigned y = (unsigned)d.year % 10000u, m = (unsigned)d.month % 100u, dd = (unsigned)d.day % 100u;
    snprintf(buf, 11, "%04u-%02u-%02u", y, m, dd);
}

int af_date_parse(const char *text, af_date *out, af_error *err)
{
    int rc = AF_OK;
    af_date d = { 0, 0, 0 };
    if (!text) AF_FAIL(AF_EFORMAT, "date is missing");
    size_t n = strlen(text);
    int ok = n == 10 && text[4] == '-' && text[7] == '-';
    for (size_t i = 0; ok && i < n; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) ok = 0;
    if (!ok) AF_FAIL(AF_EFORMAT, "bad date '%s': expected YYYY-MM-DD", text);
    d.year = atoi(text);
    d.month = atoi(text + 5);
    d.day = atoi(text + 8);
    if (!af_date_valid(d)) AF_FAIL(AF_EFORMAT, "bad date '%s': no such day", text);
    *out = d;
cleanup:
    return rc;
}

int af_calendar_kind_parse(const char *text, af_calendar_kind *out, af_error *err)
{
    int rc = AF_OK;
    if (text && (!strcmp(text, "standard") || !strcmp(text, "gregorian")))
        *out = AF_CAL_STANDARD;
    else if (text && (!strcmp(text, "noleap") || !strcmp(text, "365_day_drop_dec31")))
        *out = AF_CAL_NOLEAP;
    else
        AF_FAIL(AF_ECONFIG, "unknown calendar '%s': expected 'standard' or 'noleap'",
                text ? text : "");
cleanup:
    return rc;
}

const char *af_calendar_kind_name(af_calendar_kind kind)
{
    return kind == AF_CAL_NOLEAP ? "noleap" : "standard";
}

static int day_dropped(af_calendar_kind kind, af_date d)
{
    return kind == AF_CAL_NOLEAP && d.month == 12 && d.day == 31 && af_date_is_leap(d.year);
}

int af_calendar_create(af_date start, af_date end, af_calendar_kind kind, af_calendar **out,
                       af_error *err)
{
    int rc = AF_OK;
    af_calendar *cal = NULL;
    AF_CHECK_ARG(out != NULL);
    *out = NULL;
    if (!af_date_valid(start) || !af_date_valid(end)) AF_FAIL(AF_EINVAL, "invalid start or end date");
    long e0 = af_date_to_epoch(start), e1 = af_date_to_epoch(end);
    if (e1 < e0) {
        char a[11], b[11];
        af_date_format(start, a);
        af_date_format(end, b);
        AF_FAIL(AF_EINVAL, "end date %s is before start date %s", b, a);
    }
    cal = calloc(1, sizeof *cal);
    AF_CHECK_ALLOC(cal);
    cal->kind = kind;
    cal->start = start;
    cal->end = end;
    cal->epoch = malloc(sizeof(long) * (size_t)(e1 - e0 + 1));
    AF_CHECK_ALLOC(cal->epoch);
    for (long e = e0; e <= e1; e++)
        if (!day_dropped(kind, af_date_from_epoch(e))) cal->epoch[cal->ndays++] = e;
    if (cal->ndays == 0) AF_FAIL(AF_EINVAL, "calendar axis is empty under policy '%s'",
                                 af_calendar_kind_name(kind));
    *out = cal;
    cal = NULL;
cleanup:
    af_calendar_destroy(&cal);
    return rc;
}

void af_calendar_destroy(af_calendar **cal)
{
    if (!cal || !*cal) return;
    free((*cal)->epoch);
    free(*cal);
    *cal = NULL;
}

int af_calendar_ndays(const af_calendar *cal) { return cal->ndays; }
af_calendar_kind af_calendar_kind_of(const af_calendar *cal) { return cal->kind; }
af_date af_calendar_start(const af_calendar *cal) { return cal->start; }
af_date af_calendar_end(const af_calendar *cal) { return cal->end; }
long af_calendar_epoch(const af_calendar *cal, int t) { return cal->epoch[t]; }
af_date af_calendar_date(const af_calendar *cal, int t) { return af_date_from_epoch(cal->epoch[t]); }

int af_calendar_index_epoch(const af_calendar *cal, long e)
{
    int lo = 0, hi = cal->ndays - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (cal->epoch[mid] == e) return mid;
        if (cal->epoch[mid] < e) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int af_calendar_index(const af_calendar *cal, af_date d)
{
    return af_date_valid(d) ? af_calendar_index_epoch(cal, af_date_to_epoch(d)) : -1;
}
