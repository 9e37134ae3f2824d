/* SPDX-License-Identifier: MIT */
/*
 * units_file.c: does a file's own `units` attribute agree with the source_units a pipeline
 * declares for it? The units table (units.c) answers for the spellings it knows; for the
 * others UDUNITS-2 (the library CF tools use) parses both and compares them: units that are
 * not convertible, or convertible with another scale or offset, disagree (the values would be
 * converted wrongly; not convertible at all is "incompatible"), and a text that UDUNITS-2 cannot parse either is "not understood". The
 * unit system is loaded per call: this runs once per file whose units the table does not know.
 */
#include <math.h>
#include <stdio.h>
#include <udunits2.h>

#include "af_check.h"
#include "agroflux/units.h"

/* 1 when the converter is the identity (to 1e-12 relative at a few values), else 0. */
static int identity(cv_converter *cv)
{
    static const double probe[] = { 0.0, 1.0, 100.0, -40.0 };
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        double y = cv_convert_double(cv, probe[i]);
        if (!(fabs(y - probe[i]) <= 1e-12 * (1.0 + fabs(probe[i])))) return 0;
    }
    return 1;
}

int af_units_file_agrees(const char *file_units, const char *source_units, int *verdict, af_error *err)
{
    int rc = AF_OK;
    ut_system *sys = NULL;
    ut_unit *fu = NULL, *su = NULL;
    cv_converter *cv = NULL;
    af_unit_conv c;
    af_error e = AF_ERROR_INIT;
    *verdict = AF_UNITS_NOT_UNDERSTOOD;
    if (af_units_conversion(file_units, source_units, &c, &e) == AF_OK) {
        *verdict = c.scale == 1.0 && c.offset == 0.0 ? AF_UNITS_AGREE : AF_UNITS_DISAGREE;
        goto cleanup;
    }
    if (af_units_canonical(file_units) && af_units_canonical(source_units)) {
        *verdict = AF_UNITS_INCOMPATIBLE; /* both in the table, other quantities */
        goto cleanup;
    }
    char scf[128];
    if (af_units_cf(source_units, scf, sizeof scf, NULL) != AF_OK)
        AF_FAIL(AF_EUNITS, "unknown units '%s' (see the units table in docs/formats.md)", source_units);
    ut_set_error_message_handler(ut_ignore); /* UDUNITS-2 prints to stderr otherwise */
    sys = ut_read_xml(NULL);
    if (!sys) AF_FAIL(AF_EUNITS, "cannot load the UDUNITS-2 unit database (status %d)", (int)ut_get_status());
    su = ut_parse(sys, scf, UT_UTF8);
    if (!su) AF_FAIL(AF_EINTERNAL, "UDUNITS-2 does not parse '%s', the NetCDF form of '%s'", scf, source_units);
    fu = ut_parse(sys, file_units, UT_UTF8);
    if (!fu) goto cleanup; /* not understood: the caller warns */
    if (!ut_are_convertible(fu, su)) {
        *verdict = AF_UNITS_INCOMPATIBLE;
        goto cleanup;
    }
    cv = ut_get_converter(fu, su);
    if (!cv) AF_FAIL(AF_EUNITS, "UDUNITS-2 gives no converter from '%s' to '%s'", file_units, scf);
    *verdict = identity(cv) ? AF_UNITS_AGREE : AF_UNITS_DISAGREE;
cleanup:
    cv_free(cv);
    ut_free(fu);
    ut_free(su);
    ut_free_system(sys);
    return rc;
}
