/* SPDX-License-Identifier: MIT */
/*
 * test_calendar.c: unit tests of agroflux/calendar.h: Gregorian leap rules,
 * epoch days against an independent day-count loop (own days-in-month table),
 * day of year, strict date parsing and its errors, and the daily axis under
 * both policies (noleap drops Dec 31 of leap years, standard keeps every day).
 */
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/calendar.h"

/* Independent of calendar.c: a plain table and the textbook rule. */
static int my_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int my_dim(int y, int m)
{
    static const int t[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return t[m - 1] + (m == 2 && my_leap(y) ? 1 : 0);
}

static void test_leap_rules(void)
{
    AF_EXPECT(!af_date_is_leap(1900));
    AF_EXPECT(af_date_is_leap(2000));
    AF_EXPECT(af_date_is_leap(2004));
    AF_EXPECT(!af_date_is_leap(2100));
    AF_EXPECT(!af_date_is_leap(2003));
    AF_EXPECT(af_date_is_leap(1600));
    AF_EXPECT(af_date_days_in_month(1900, 2) == 28);
    AF_EXPECT(af_date_days_in_month(2000, 2) == 29);
    AF_EXPECT(af_date_days_in_month(2004, 2) == 29);
    AF_EXPECT(af_date_days_in_month(2100, 2) == 28);
    AF_EXPECT(af_date_days_in_month(2003, 4) == 30);
    AF_EXPECT(af_date_days_in_month(2003, 12) == 31);
    AF_EXPECT(af_date_days_in_month(2003, 0) == 0);
    AF_EXPECT(af_date_days_in_month(2003, 13) == 0);
}

/* Every day 1900-01-01 .. 2100-12-31: to_epoch equals a running counter started
 * at the known epoch of 1900-01-01 (-25567: 70 years, 17 leap days 1904..1968),
 * from_epoch inverts it, doy counts within the year. */
static void test_epoch_round_trip(void)
{
    long e = -25567;
    int bad = 0;
    /* cross-check the start value by counting years 1900..1969 forward */
    long days_1900_to_1970 = 0;
    for (int y = 1900; y < 1970; y++)
        for (int m = 1; m <= 12; m++) days_1900_to_1970 += my_dim(y, m);
    AF_EXPECT(days_1900_to_1970 == 25567);
    for (int y = 1900; y <= 2100; y++) {
        int doy = 0;
        for (int m = 1; m <= 12; m++) {
            AF_EXPECT(af_date_days_in_month(y, m) == my_dim(y, m));
            for (int d = 1; d <= my_dim(y, m); d++, e++) {
                af_date dt = { y, m, d };
                doy++;
                long got = af_date_to_epoch(dt);
                af_date back = af_date_from_epoch(e);
                if (got != e || back.year != y || back.month != m || back.day != d ||
                    af_date_doy(dt) != doy || !af_date_valid(dt)) {
                    if (bad++ < 5)
                        fprintf(stderr, "%04d-%02d-%02d: epoch %ld (want %ld) back %d-%d-%d doy %d (want %d)\n", y,
                                m, d, got, e, back.year, back.month, back.day, af_date_doy(dt), doy);
                }
            }
        }
        AF_EXPECT(doy == (my_leap(y) ? 366 : 365));
    }
    AF_EXPECT(bad == 0);
    af_date epoch0 = { 1970, 1, 1 };
    AF_EXPECT(af_date_to_epoch(epoch0) == 0);
    af_date d2000 = { 2000, 3, 1 };
    AF_EXPECT(af_date_to_epoch(d2000) == 11017);
}

static void test_doy(void)
{
    af_date a = { 2004, 12, 31 }, b = { 2003, 12, 31 }, c = { 2004, 3, 1 }, d = { 2003, 3, 1 }, j = { 2100, 1, 1 };
    AF_EXPECT(af_date_doy(a) == 366);
    AF_EXPECT(af_date_doy(b) == 365);
    AF_EXPECT(af_date_doy(c) == 61);
    AF_EXPECT(af_date_doy(d) == 60);
    AF_EXPECT(af_date_doy(j) == 1);
}

static void test_format_parse(void)
{
    af_date d = { 0, 0, 0 };
    char buf[11];
    AF_TEST_PASS(af_date_parse("2004-02-29", &d, err));
    AF_EXPECT(d.year == 2004 && d.month == 2 && d.day == 29);
    af_date_format(d, buf);
    AF_EXPECT(!strcmp(buf, "2004-02-29"));
    AF_TEST_PASS(af_date_parse("0001-01-01", &d, err));
    AF_EXPECT(d.year == 1 && d.month == 1 && d.day == 1);
    af_date_format(d, buf);
    AF_EXPECT(!strcmp(buf, "0001-01-01"));
}

static void test_parse_errors(void)
{
    af_date d = { 7, 7, 7 };
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2004/01/01", af_date_parse("2004/01/01", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2004-1-1", af_date_parse("2004-1-1", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "04-01-2004", af_date_parse("04-01-2004", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2004-01-01x", af_date_parse("2004-01-01x", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, " 2004-01-01", af_date_parse(" 2004-01-01", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "abcd-ef-gh", af_date_parse("abcd-ef-gh", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "", af_date_parse("", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2004-02-30", af_date_parse("2004-02-30", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2023-02-29", af_date_parse("2023-02-29", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2023-13-01", af_date_parse("2023-13-01", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2023-00-10", af_date_parse("2023-00-10", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2023-04-31", af_date_parse("2023-04-31", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "2023-04-00", af_date_parse("2023-04-00", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "1900-02-29", af_date_parse("1900-02-29", &d, err));
    AF_TEST_FAILS_WITH(AF_EFORMAT, "", af_date_parse(NULL, &d, err));
    /* failed parses leave the output alone */
    AF_EXPECT(d.year == 7 && d.month == 7 && d.day == 7);
}

static void test_kind_parse(void)
{
    af_calendar_kind k = AF_CAL_NOLEAP;
    AF_TEST_PASS(af_calendar_kind_parse("standard", &k, err));
    AF_EXPECT(k == AF_CAL_STANDARD);
    AF_TEST_PASS(af_calendar_kind_parse("noleap", &k, err));
    AF_EXPECT(k == AF_CAL_NOLEAP);
    AF_TEST_PASS(af_calendar_kind_parse("gregorian", &k, err));
    AF_EXPECT(k == AF_CAL_STANDARD);
    AF_TEST_PASS(af_calendar_kind_parse("365_day_drop_dec31", &k, err));
    AF_EXPECT(k == AF_CAL_NOLEAP);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "julian", af_calendar_kind_parse("julian", &k, err));
    AF_EXPECT(!strcmp(af_calendar_kind_name(AF_CAL_NOLEAP), "noleap"));
    AF_EXPECT(!strcmp(af_calendar_kind_name(AF_CAL_STANDARD), "standard"));
}

static void check_inverse(const af_calendar *cal)
{
    int n = af_calendar_ndays(cal), bad = 0;
    for (int t = 0; t < n; t++) {
        long e = af_calendar_epoch(cal, t);
        af_date d = af_calendar_date(cal, t);
        if (af_calendar_index_epoch(cal, e) != t || af_calendar_index(cal, d) != t ||
            af_date_to_epoch(d) != e || (t > 0 && af_calendar_epoch(cal, t - 1) >= e))
            bad++;
    }
    AF_EXPECT(bad == 0);
}

static void test_axis_noleap(void)
{
    af_calendar *cal = NULL;
    af_date a = { 2003, 1, 1 }, b = { 2005, 12, 31 };
    AF_TEST_PASS(af_calendar_create(a, b, AF_CAL_NOLEAP, &cal, err));
    if (!cal) return;
    AF_EXPECT(af_calendar_ndays(cal) == 1095);
    AF_EXPECT(af_calendar_kind_of(cal) == AF_CAL_NOLEAP);
    af_date feb29 = { 2004, 2, 29 }, dec31 = { 2004, 12, 31 }, dec30 = { 2004, 12, 30 };
    af_date jan1 = { 2005, 1, 1 }, dec31_03 = { 2003, 12, 31 }, before = { 2002, 12, 31 }, after = { 2006, 1, 1 };
    af_date bogus = { 2003, 2, 29 };
    AF_EXPECT(af_calendar_index(cal, feb29) == 365 + 59);
    AF_EXPECT(af_calendar_index(cal, dec31) == -1);
    AF_EXPECT(af_calendar_index_epoch(cal, af_date_to_epoch(dec31)) == -1);
    AF_EXPECT(af_calendar_index(cal, dec30) == 729);
    AF_EXPECT(af_calendar_index(cal, jan1) == 730);
    AF_EXPECT(af_calendar_index(cal, dec31_03) == 364);
    AF_EXPECT(af_calendar_index(cal, a) == 0);
    AF_EXPECT(af_calendar_index(cal, b) == 1094);
    AF_EXPECT(af_calendar_index(cal, before) == -1);
    AF_EXPECT(af_calendar_index(cal, after) == -1);
    AF_EXPECT(af_calendar_index(cal, bogus) == -1);
    af_date s = af_calendar_start(cal), e = af_calendar_end(cal);
    AF_EXPECT(s.year == 2003 && s.month == 1 && s.day == 1);
    AF_EXPECT(e.year == 2005 && e.month == 12 && e.day == 31);
    af_date d730 = af_calendar_date(cal, 730);
    AF_EXPECT(d730.year == 2005 && d730.month == 1 && d730.day == 1);
    AF_EXPECT(af_calendar_epoch(cal, 730) - af_calendar_epoch(cal, 729) == 2); /* the gap */
    check_inverse(cal);
    af_calendar_destroy(&cal);
    AF_EXPECT(cal == NULL);
    af_calendar_destroy(&cal); /* NULL-safe */
}

static void test_axis_standard(void)
{
    af_calendar *cal = NULL;
    af_date a = { 2003, 1, 1 }, b = { 2005, 12, 31 };
    AF_TEST_PASS(af_calendar_create(a, b, AF_CAL_STANDARD, &cal, err));
    if (!cal) return;
    AF_EXPECT(af_calendar_ndays(cal) == 1096);
    af_date dec31 = { 2004, 12, 31 }, jan1 = { 2005, 1, 1 };
    AF_EXPECT(af_calendar_index(cal, dec31) == 730);
    AF_EXPECT(af_calendar_index(cal, jan1) == 731);
    for (int t = 0; t < 1096; t++)
        if (af_calendar_epoch(cal, t) != af_date_to_epoch(a) + t) { AF_EXPECT(!"contiguous"); break; }
    check_inverse(cal);
    af_calendar_destroy(&cal);

    /* one day; noleap over a non-leap Dec 31 keeps it; 1900 is not leap */
    af_date one = { 2003, 12, 31 };
    AF_TEST_PASS(af_calendar_create(one, one, AF_CAL_NOLEAP, &cal, err));
    if (cal) AF_EXPECT(af_calendar_ndays(cal) == 1);
    af_calendar_destroy(&cal);
    af_date c0 = { 1900, 1, 1 }, c1 = { 1900, 12, 31 };
    AF_TEST_PASS(af_calendar_create(c0, c1, AF_CAL_NOLEAP, &cal, err));
    if (cal) AF_EXPECT(af_calendar_ndays(cal) == 365);
    af_calendar_destroy(&cal);
    af_date l0 = { 2000, 1, 1 }, l1 = { 2000, 12, 31 };
    AF_TEST_PASS(af_calendar_create(l0, l1, AF_CAL_NOLEAP, &cal, err));
    if (cal) AF_EXPECT(af_calendar_ndays(cal) == 365);
    af_calendar_destroy(&cal);
    AF_TEST_PASS(af_calendar_create(l0, l1, AF_CAL_STANDARD, &cal, err));
    if (cal) AF_EXPECT(af_calendar_ndays(cal) == 366);
    af_calendar_destroy(&cal);
}

static void test_axis_errors(void)
{
    af_calendar *cal = (af_calendar *)0x1;
    af_date a = { 2005, 1, 1 }, b = { 2004, 12, 30 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "2004-12-30", af_calendar_create(a, b, AF_CAL_STANDARD, &cal, err));
    AF_EXPECT(cal == NULL);
    AF_TEST_FAILS_WITH(AF_EINVAL, "2005-01-01", af_calendar_create(a, b, AF_CAL_NOLEAP, &cal, err));
    /* the only day is dropped by the policy: empty axis */
    af_date d = { 2004, 12, 31 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "empty", af_calendar_create(d, d, AF_CAL_NOLEAP, &cal, err));
    AF_EXPECT(cal == NULL);
    /* ... but the standard policy keeps it */
    AF_TEST_PASS(af_calendar_create(d, d, AF_CAL_STANDARD, &cal, err));
    if (cal) AF_EXPECT(af_calendar_ndays(cal) == 1);
    af_calendar_destroy(&cal);
    /* invalid dates */
    af_date bad = { 2003, 2, 29 }, ok = { 2003, 3, 1 }, m13 = { 2003, 13, 1 };
    AF_TEST_FAILS_WITH(AF_EINVAL, "invalid", af_calendar_create(bad, ok, AF_CAL_STANDARD, &cal, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "invalid", af_calendar_create(ok, m13, AF_CAL_STANDARD, &cal, err));
    AF_TEST_FAILS_WITH(AF_EINVAL, "", af_calendar_create(ok, ok, AF_CAL_STANDARD, NULL, err));
}

int main(void)
{
    AF_RUN(test_leap_rules);
    AF_RUN(test_epoch_round_trip);
    AF_RUN(test_doy);
    AF_RUN(test_format_parse);
    AF_RUN(test_parse_errors);
    AF_RUN(test_kind_parse);
    AF_RUN(test_axis_noleap);
    AF_RUN(test_axis_standard);
    AF_RUN(test_axis_errors);
    return AF_TEST_END();
}
