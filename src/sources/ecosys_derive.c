/* SPDX-License-Identifier: MIT */
/*
 * ecosys_derive.c: the derived-variable engine of the model sources
 * (ecosys_impl.h): the `variable` expression (sums and differences of
 * columns, |absolute values|) and one year of derived values from a parsed
 * Ecosys or DayCent table: differencing of running totals, unit conversion,
 * annual values (last, delta, events) and the sign flip, in that order.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "af_check.h"
#include "agroflux/calendar.h"
#include "ecosys_impl.h"

static const char *skip_ws(const char *p, int *skipped)
{
    const char *s = p;
    while (isspace((unsigned char)*p)) p++;
    if (skipped) *skipped = p > s;
    return p;
}

/* One term at p: NAME or |NAME|; returns the position after it or NULL. */
static const char *parse_term(const char *p, af_models_term *t)
{
    size_t n = 0;
    t->abs = *p == '|';
    if (t->abs) p++;
    while (*p && !isspace((unsigned char)*p) && *p != '+' && *p != '|') {
        if (n + 1 >= sizeof t->name) return NULL;
        t->name[n++] = *p++;
    }
    t->name[n] = '\0';
    if (n == 0) return NULL;
    if (t->abs) {
        if (*p != '|') return NULL;
        p++;
    }
    return p;
}

int af__models_parse_expr(const char *text, af_models_term *terms, int *nterms, af_error *err)
{
    int rc = AF_OK;
    const char *p = skip_ws(text ? text : "", NULL);
    int n = 0, sign = 1, sp = 0;
    if (*p == '+' || *p == '-') { sign = *p == '-' ? -1 : 1; p = skip_ws(p + 1, NULL); }
    for (;;) {
        if (n == AF_MODELS_MAX_TERMS)
            AF_FAIL(AF_ECONFIG, "variable '%s': more than %d terms", text, AF_MODELS_MAX_TERMS);
        const char *q = parse_term(p, &terms[n]);
        if (!q) AF_FAIL(AF_ECONFIG, "variable '%s': expected a column name or |name| at '%s'", text ? text : "", p);
        terms[n++].sign = sign;
        p = skip_ws(q, &sp);
        if (!*p) break;
        if (*p == '+') sign = 1;
        else if (*p == '-' && sp && isspace((unsigned char)p[1])) sign = -1;
        else AF_FAIL(AF_ECONFIG, "variable '%s': expected ' + ' or ' - ' (a minus needs spaces around it) at '%s'",
                     text, p);
        p = skip_ws(p + 1, NULL);
    }
    *nterms = n;
cleanup:
    return rc;
}

static double term_value(const af_models_spec *s, int i, double raw)
{
    double v = af_units_apply(s->conv, raw);
    if (s->terms[i].abs) v = fabs(v);
    return s->terms[i].sign * v;
}

/* AF_ANNUAL_EVENTS: sum of the combined value of every row dated in the year. */
static double events_sum(const af_model_table *t, const int *cols, const af_models_spec *spec, int year)
{
    double sum = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (t->year[r] != year) continue;
        for (int i = 0; i < spec->nterms; i++) sum += term_value(spec, i, af_model_table_at(t, r, (size_t)cols[i]));
    }
    return sum;
}

int af__models_derive_year(const af_model_table *t, const int *cols, const af_models_spec *spec, int year,
                           double out[367], af_error *err)
{
    int rc = AF_OK;
    double raw[367], daily[367];
    unsigned char seen[367];
    int ndays = af_date_is_leap(year) ? 366 : 365;
    for (int d = 0; d < 367; d++) out[d] = NAN;
    if (spec->annual == AF_ANNUAL_EVENTS) {
        double a = events_sum(t, cols, spec, year);
        for (int d = 1; d <= ndays; d++) out[d] = spec->sign_flip ? -a : a;
        goto cleanup;
    }
    memset(seen, 0, sizeof seen);
    for (size_t r = 0; r < t->nrows; r++) {
        if (t->year[r] != year) continue;
        int d = t->doy[r];
        if (seen[d]) AF_FAIL(AF_EFORMAT, "%s: two rows for year %d day %d", t->path, year, d);
        seen[d] = 1;
    }
    for (int d = 1; d <= ndays; d++) out[d] = 0;
    for (int i = 0; i < spec->nterms; i++) {
        for (int d = 0; d < 367; d++) raw[d] = NAN;
        for (size_t r = 0; r < t->nrows; r++)
            if (t->year[r] == year) raw[t->doy[r]] = af_model_table_at(t, r, (size_t)cols[i]);
        if (spec->cumulative) af_model_decumulate(raw, ndays, daily);
        else memcpy(daily, raw, sizeof daily);
        for (int d = 1; d <= ndays; d++) out[d] += term_value(spec, i, daily[d]);
    }
    if (spec->annual == AF_ANNUAL_LAST || spec->annual == AF_ANNUAL_DELTA) {
        double a = spec->annual == AF_ANNUAL_LAST ? out[ndays] : out[ndays] - out[1];
        for (int d = 1; d <= ndays; d++) out[d] = a;
    }
    if (spec->sign_flip)
        for (int d = 1; d <= ndays; d++) out[d] = -out[d];
cleanup:
    return rc;
}
