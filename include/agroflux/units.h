/* SPDX-License-Identifier: MIT */
/*
 * agroflux/units.h: the one table of unit conversions. Every source declares
 * its units; every feature declares its output units; the conversion between
 * them is looked up here and nowhere else. An unknown unit, or a pair with no
 * conversion, is AF_EUNITS naming both. Conversions are affine:
 * out = in * scale + offset. Not collective.
 */
#ifndef AGROFLUX_UNITS_H
#define AGROFLUX_UNITS_H

#include <stddef.h>

#include "agroflux/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct af_unit_conv {
    double scale, offset;
} af_unit_conv;

/** Canonical spelling of a unit ("K", "degC", "mm d-1", ...), or NULL if unknown. */
const char *af_units_canonical(const char *units);

/** Conversion from -> to. AF_EUNITS if either is unknown or they measure different things. */
int af_units_conversion(const char *from, const char *to, af_unit_conv *out, af_error *err);

/** Apply a conversion (double arithmetic, the same in every build). */
static inline double af_units_apply(af_unit_conv c, double v) { return v * c.scale + c.offset; }

/**
 * The UDUNITS-2 spelling of an agroflux unit for a NetCDF `units` attribute
 * (e.g. "g C m-2 d-1" -> "g m-2 d-1"; aliases keep their own dimension, e.g.
 * "g C m-2" -> "g m-2") and what the amount is of (*qualifier: "carbon",
 * "nitrogen", "pH", ... or "", static storage). AF_EUNITS if the unit is unknown.
 */
int af_units_cf(const char *units, char *udunits, size_t size, const char **qualifier);

/** Verdicts of af_units_file_agrees. */
enum { AF_UNITS_AGREE = 0, AF_UNITS_DISAGREE = 1, AF_UNITS_INCOMPATIBLE = 2, AF_UNITS_NOT_UNDERSTOOD = 3 };

/**
 * Whether a file's own `units` attribute means the same as the declared source_units: the units
 * table first, UDUNITS-2 for spellings it does not know (e.g. "kelvin" agrees with "K", "m" and
 * "degC" do not). *verdict: AF_UNITS_AGREE, AF_UNITS_DISAGREE (the same quantity with another
 * scale or offset), AF_UNITS_INCOMPATIBLE (another quantity) or AF_UNITS_NOT_UNDERSTOOD (neither
 * knows file_units). AF_EUNITS if source_units is
 * unknown or UDUNITS-2 cannot load its database.
 */
int af_units_file_agrees(const char *file_units, const char *source_units, int *verdict, af_error *err);

/** Print the table as Markdown (docs/formats.md embeds it). */
void af_units_print_markdown(void *fp /* FILE* */);

#ifdef __cplusplus
}
#endif
#endif
