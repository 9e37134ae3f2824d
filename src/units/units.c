/* SPDX-License-Identifier: MIT */
/*
 * units.c: implements agroflux/units.h. Each unit has a canonical spelling,
 * accepted aliases, a quantity, and an affine map to the quantity's base unit;
 * a conversion is base(from) followed by inverse base(to). Adding a unit is one
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
} unit_row;

/* Base units: degC, mm d-1, MJ m-2 d-1, g N m-2 d-1, g C m-2 d-1, g N m-2, g C m-2,
 * Mg m-3, g kg-1, cmol kg-1, 1 (fraction), kPa, m s-1, mm, s. */
static const unit_row rows[] = {
    { "degC", "C|celsius|deg C|degree_Celsius", "temperature", 1, 0, "" },
    { "K", "kelvin|degK", "temperature", 1, -273.15, "K - 273.15 = degC" },
    { "mm d-1", "mm/day|mm day-1|kg m-2 d-1|kg m-2|mm", "water flux (daily)", 1, 0, "precipitation kg m-2 = mm" },
    { "cm d-1", "cm/day|cm", "water flux (daily)", 10, 0, "DayCent ppt" },
    { "MJ m-2 d-1", "MJ/m2/day", "radiation (daily)", 1, 0, "" },
    { "W m-2", "W/m2|W m-2 (daily mean)", "radiation (daily)", 0.0864, 0, "daily mean W m-2 x 0.0864" },
    { "J m-2 d-1", "J/m2/day", "radiation (daily)", 1e-6, 0, "Daymet srad x dayl (daylight-mean W m-2 x seconds of daylight)" },
    { "g N m-2 d-1", "gN m-2 d-1|g N m-2", "nitrogen flux (daily)", 1, 0, "" },
    { "kg N ha-1 d-1", "kg N ha-1|kgN/ha", "nitrogen flux (daily)", 0.1, 0, "" },
    { "g N ha-1 d-1", "gN/ha/day", "nitrogen flux (daily)", 1e-4, 0, "DayCent nflux" },
    { "g C m-2 d-1", "gC m-2 d-1|g C m-2", "carbon flux (daily)", 1, 0, "" },
    { "g C ha-1 d-1", "gC/ha/day", "carbon flux (daily)", 1e-4, 0, "" },
    { "umol CO2 m-2 s-1 (daily mean)", "umol m-2 s-1", "carbon flux (daily)", 1.03772448, 0,
      "86400 s x 12.01e-6 g C/umol (ONEFlux)" },
    { "Mg m-3", "g cm-3|t m-3", "density", 1, 0, "" },
    { "kg m-3", "", "density", 0.001, 0, "" },
    { "cg cm-3", "", "density", 0.01, 0, "SoilGrids bdod" },
    { "g kg-1", "g/kg", "mass fraction", 1, 0, "" },
    { "%", "percent|pct", "mass fraction", 10, 0, "percent by mass = 10 g kg-1" },
    { "dg kg-1", "", "mass fraction", 0.1, 0, "SoilGrids soc, sand, silt, clay" },
    { "kg kg-1", "kg/kg", "mass fraction", 1000, 0, "gridMET sph (specific humidity)" },
    { "% RH", "percent RH|%RH", "relative humidity", 1, 0, "gridMET rmax/rmin (declare % RH: a bare % is a mass fraction)" },
    { "1 RH", "fraction RH", "relative humidity", 100, 0, "relative humidity as a 0..1 fraction" },
    { "cmol kg-1", "cmol(+) kg-1|meq 100g-1", "charge per mass", 1, 0, "" },
    { "mmol kg-1", "mmol(c) kg-1", "charge per mass", 0.1, 0, "SoilGrids cec" },
    { "1", "fraction|-|unitless|m3 m-3", "dimensionless", 1, 0, "" },
    { "kPa", "", "pressure", 1, 0, "" },
    { "Pa", "", "pressure", 0.001, 0, "" },
    { "m s-1", "m/s", "speed", 1, 0, "" },
    { "mph", "", "speed", 0.44704, 0, "" },
    { "s", "seconds", "duration", 1, 0, "" },
    { "pH", "", "pH", 1, 0, "" },
    { "pH x 10", "pHx10", "pH", 0.1, 0, "SoilGrids phh2o" },
    { "class", "category", "category", 1, 0, "class codes are never converted" },
    { "flag", "", "flag", 1, 0, "0/1" },
};

static const unit_row *find(const char *u)
{
    if (!u) return NULL;
    size_t n = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].canonical, u)) return &rows[i];
    for (size_t i = 0; i < n; i++) {
        const char *a = rows[i].aliases;
        size_t len = strlen(u);
        while (a && *a) {
            const char *bar = strchr(a, '|');
            size_t al = bar ? (size_t)(bar - a) : strlen(a);
            if (al == len && !strncmp(a, u, len)) return &rows[i];
            if (!bar) break;
            a = bar + 1;
        }
    }
    return NULL;
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

void af_units_print_markdown(void *vfp)
{
    FILE *fp = vfp;
    fprintf(fp, "| units | also accepted | quantity | to base unit | note |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char aliases[256];
        size_t n = 0;
        for (const char *a = rows[i].aliases; *a && n + 3 < sizeof aliases; a++) {
            if (*a == '|') { aliases[n++] = ','; aliases[n++] = ' '; }
            else aliases[n++] = *a;
        }
        aliases[n] = '\0';
        fprintf(fp, "| `%s` | %s | %s | x %.10g %+g | %s |\n", rows[i].canonical, aliases,
                rows[i].quantity, rows[i].scale, rows[i].offset, rows[i].note);
    }
}
