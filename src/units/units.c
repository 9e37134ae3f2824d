/* SPDX-License-Identifier: MIT */
/*
 * units.c: implements agroflux/units.h. Each unit has a canonical spelling,
 * accepted aliases, a quantity, and an affine map to the quantity's base unit;
 * a conversion is base(from) followed by inverse base(to); each spelling also
 * has a UDUNITS-2 form for NetCDF `units` and a qualifier (carbon, nitrogen,
 * pH ...) that output metadata carries. Adding a unit is one
 * row here; docs/formats.md prints the same table.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "af_check.h"
#include "agroflux/units.h"

typedef struct unit_row {
    const char *canonical;
    const char *aliases;   /* '|'-separated, compared case-sensitively after trimming */
    const char *quantity;
    double scale, offset;  /* value_in_base = value * scale + offset */
    const char *note;
    const char *cf;        /* UDUNITS-2 spelling written to NetCDF `units` */
    const char *cf_aliases;/* '|'-separated, parallel to aliases; an empty item means `cf` */
    const char *qualifier; /* what the amount is of ("carbon", "nitrogen", "pH"), "" if nothing */
} unit_row;

/* Base units: degC, mm d-1, MJ m-2 d-1, g N m-2 d-1, g C m-2 d-1, g N m-2, g C m-2,
 * Mg m-3, g kg-1, cmol kg-1, 1 (fraction), kPa, m s-1, mm, s. */
static const unit_row rows[] = {
    { "degC", "C|celsius|deg C|degrees C|degree_Celsius", "temperature", 1, 0, "",
      "degC", "", "" },
    { "K", "kelvin|degK", "temperature", 1, -273.15, "K - 273.15 = degC",
      "K", "", "" },
    { "mm d-1", "mm/day|mm day-1|kg m-2 d-1|kg m-2|mm", "water flux (daily)", 1, 0, "precipitation kg m-2 = mm",
      "mm d-1", "||kg m-2 d-1|kg m-2|mm", "" },
    { "cm d-1", "cm/day|cm", "water flux (daily)", 10, 0, "DayCent ppt",
      "cm d-1", "|cm", "" },
    { "MJ m-2 d-1", "MJ/m2/day", "radiation (daily)", 1, 0, "",
      "MJ m-2 d-1", "", "" },
    { "W m-2", "W/m2|W m-2 (daily mean)", "radiation (daily)", 0.0864, 0, "daily mean W m-2 x 0.0864",
      "W m-2", "", "" },
    { "J m-2 d-1", "J/m2/day", "radiation (daily)", 1e-6, 0, "Daymet srad x dayl (daylight-mean W m-2 x seconds of daylight)",
      "J m-2 d-1", "", "" },
    { "g N m-2 d-1", "gN m-2 d-1|g N m-2", "nitrogen flux (daily)", 1, 0, "",
      "g m-2 d-1", "|g m-2", "nitrogen" },
    { "kg N ha-1 d-1", "kg N ha-1|kgN/ha", "nitrogen flux (daily)", 0.1, 0, "",
      "kg ha-1 d-1", "kg ha-1|kg ha-1", "nitrogen" },
    { "g N ha-1 d-1", "gN/ha/day", "nitrogen flux (daily)", 1e-4, 0, "DayCent nflux",
      "g ha-1 d-1", "", "nitrogen" },
    { "g C m-2 d-1", "gC m-2 d-1|g C m-2", "carbon flux (daily)", 1, 0, "",
      "g m-2 d-1", "|g m-2", "carbon" },
    { "g C ha-1 d-1", "gC/ha/day", "carbon flux (daily)", 1e-4, 0, "",
      "g ha-1 d-1", "", "carbon" },
    { "umol CO2 m-2 s-1 (daily mean)", "umol m-2 s-1", "carbon flux (daily)", 1.03772448, 0,
      "86400 s x 12.01e-6 g C/umol (ONEFlux)",
      "umol m-2 s-1", "", "CO2" },
    { "Mg m-3", "g cm-3|t m-3", "density", 1, 0, "",
      "Mg m-3", "", "" },
    { "kg m-3", "", "density", 0.001, 0, "",
      "kg m-3", "", "" },
    { "cg cm-3", "", "density", 0.01, 0, "SoilGrids bdod",
      "cg cm-3", "", "" },
    { "g kg-1", "g/kg", "mass fraction", 1, 0, "",
      "g kg-1", "", "" },
    { "%", "percent|pct", "mass fraction", 10, 0, "percent by mass = 10 g kg-1",
      "percent", "", "" },
    { "dg kg-1", "", "mass fraction", 0.1, 0, "SoilGrids soc, sand, silt, clay",
      "dg kg-1", "", "" },
    { "kg kg-1", "kg/kg", "mass fraction", 1000, 0, "gridMET sph (specific humidity)",
      "kg kg-1", "", "" },
    { "% RH", "percent RH|%RH", "relative humidity", 1, 0, "gridMET rmax/rmin (declare % RH: a bare % is a mass fraction)",
      "percent", "", "relative humidity" },
    { "1 RH", "fraction RH", "relative humidity", 100, 0, "relative humidity as a 0..1 fraction",
      "1", "", "relative humidity" },
    { "cmol kg-1", "cmol(+) kg-1|meq 100g-1", "charge per mass", 1, 0, "",
      "cmol kg-1", "", "charge (cmol of charge)" },
    { "mmol kg-1", "mmol(c) kg-1", "charge per mass", 0.1, 0, "SoilGrids cec",
      "mmol kg-1", "", "charge (mmol of charge)" },
    { "1", "fraction|-|unitless|m3 m-3", "dimensionless", 1, 0, "",
      "1", "|||m3 m-3", "" },
    { "kPa", "", "pressure", 1, 0, "",
      "kPa", "", "" },
    { "Pa", "", "pressure", 0.001, 0, "",
      "Pa", "", "" },
    { "m s-1", "m/s", "speed", 1, 0, "",
      "m s-1", "", "" },
    { "mph", "", "speed", 0.44704, 0, "",
      "mi h-1", "", "" },
    { "s", "seconds", "duration", 1, 0, "",
      "s", "", "" },
    { "pH", "", "pH", 1, 0, "",
      "1", "", "pH" },
    { "pH x 10", "pHx10", "pH", 0.1, 0, "SoilGrids phh2o",
      "0.1", "", "pH" },
    { "class", "category", "category", 1, 0, "class codes are never converted",
      "1", "", "class code" },
    { "flag", "", "flag", 1, 0, "0/1",
      "1", "", "flag" },
};

/* The n-th '|'-separated item of list into buf ("" when the list is shorter). */
static void list_item(const char *list, int n, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; list && *list; i++) {
        const char *bar = strchr(list, '|');
        size_t len = bar ? (size_t)(bar - list) : strlen(list);
        if (i == n) {
            snprintf(buf, size, "%.*s", (int)len, list);
            return;
        }
        if (!bar) return;
        list = bar + 1;
    }
}

/* The row of a spelling; *alias = which alias matched, -1 for the canonical name. */
static const unit_row *find_spelling(const char *u, int *alias)
{
    size_t n = sizeof rows / sizeof rows[0];
    *alias = -1;
    if (!u) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].canonical, u)) return &rows[i];
    for (size_t i = 0; i < n; i++) {
        const char *a = rows[i].aliases;
        size_t len = strlen(u);
        for (int k = 0; a && *a; k++) {
            const char *bar = strchr(a, '|');
            size_t al = bar ? (size_t)(bar - a) : strlen(a);
            if (al == len && !strncmp(a, u, len)) {
                *alias = k;
                return &rows[i];
            }
            if (!bar) break;
            a = bar + 1;
        }
    }
    return NULL;
}

static const unit_row *find(const char *u)
{
    int alias;
    return find_spelling(u, &alias);
}

int af_units_cf(const char *units, char *udunits, size_t size, const char **qualifier)
{
    int alias;
    const unit_row *r = find_spelling(units, &alias);
    if (!r || size == 0) return AF_EUNITS;
    char item[64] = "";
    if (alias >= 0) list_item(r->cf_aliases, alias, item, sizeof item);
    snprintf(udunits, size, "%s", item[0] ? item : r->cf);
    if (qualifier) *qualifier = r->qualifier;
    return AF_OK;
}

const char *af_units_canonical(const char *units)
{
    const unit_row *r = find(units);
    return r ? r->canonical : NULL;
}

int af_units_conversion(const char *from, const char *to, af_unit_conv *out, af_error *err)
{
    int rc = AF_OK;
    const unit_row *a = find(from), *b = find(to);
    if (!a) AF_FAIL(AF_EUNITS, "unknown units '%s' (see the units table in docs/formats.md)", from ? from : "");
    if (!b) AF_FAIL(AF_EUNITS, "unknown units '%s' (see the units table in docs/formats.md)", to ? to : "");
    if (strcmp(a->quantity, b->quantity))
        AF_FAIL(AF_EUNITS, "cannot convert '%s' (%s) to '%s' (%s)", from, a->quantity, to, b->quantity);
    /* base = v*sa + oa ; out = (base - ob) / sb  =>  v*(sa/sb) + (oa-ob)/sb */
    out->scale = a->scale / b->scale;
    out->offset = (a->offset - b->offset) / b->scale;
cleanup:
    return rc;
}

/* "`cf`", plus "(`x` for alias)" for each alias written differently. */
static void print_cf(const unit_row *r, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "`%s`", r->cf);
    for (int k = 0; n < size; k++) {
        char alias[64], item[64];
        list_item(r->aliases, k, alias, sizeof alias);
        if (!alias[0]) break;
        list_item(r->cf_aliases, k, item, sizeof item);
        if (item[0] && strcmp(item, r->cf))
            n += (size_t)snprintf(buf + n, size - n, "; `%s` for %s", item, alias);
    }
}

void af_units_print_markdown(void *vfp)
{
    FILE *fp = vfp;
    fprintf(fp, "| units | also accepted | quantity | to base unit | NetCDF `units` (UDUNITS-2) | of | note |\n"
                "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char aliases[256];
        size_t n = 0;
        for (const char *a = rows[i].aliases; *a && n + 3 < sizeof aliases; a++) {
            if (*a == '|') { aliases[n++] = ','; aliases[n++] = ' '; }
            else aliases[n++] = *a;
        }
        aliases[n] = '\0';
        char cf[256] = "";
        print_cf(&rows[i], cf, sizeof cf);
        fprintf(fp, "| `%s` | %s | %s | x %.10g %+g | %s | %s | %s |\n", rows[i].canonical, aliases,
                rows[i].quantity, rows[i].scale, rows[i].offset, cf, rows[i].qualifier, rows[i].note);
    }
}
