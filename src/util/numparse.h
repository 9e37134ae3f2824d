/* SPDX-License-Identifier: MIT */
/*
 * numparse.h (private): exact decimal-to-double parsing of the Fortran-style
 * numbers model outputs write (numparse.c), without strtod on the common path.
 */
#ifndef AF_NUMPARSE_H
#define AF_NUMPARSE_H

#include <stddef.h>

/**
 * Parse the whole of text[0..len) as a Fortran-style number: [+-] digits with
 * an optional '.', at least one digit, then optionally an exponent written
 * [EeDd][+-]digits or a bare [+-]digits (letter crowded out, `1.0-100`).
 * Returns 1 and sets *out to the correctly rounded double (bit-identical to
 * strtod on the same text with 'e' as the exponent letter), 0 if the text is
 * not such a number or is 126 characters or longer. NaN/sentinel handling is
 * the caller's (af_missing_value).
 */
int af_numparse(const char *text, size_t len, double *out);

/** The same grammar, always converted by strtod (reference and benchmark baseline). */
int af_numparse_strtod(const char *text, size_t len, double *out);

#endif
