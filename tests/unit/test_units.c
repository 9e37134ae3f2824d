/* SPDX-License-Identifier: MIT */
/*
 * test_units.c: unit tests of agroflux/units.h: every conversion the docs and
 * the pipelines use, against values computed by hand here (not from the
 * table in units.c), the accepted aliases, and the AF_EUNITS errors.
 */
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/units.h"

/* Convert v from -> to; returns NaN (and flags the case) if the conversion fails. */
static double conv(const char *from, const char *to, double v)
{
    af_unit_conv c = { NAN, NAN };
    af_error e = AF_ERROR_INIT;
    if (af_units_conversion(from, to, &c, &e) != AF_OK) {
        fprintf(stderr, "conversion '%s' -> '%s' failed: %s\n", from, to, e.msg);
        af_test_case_failed = 1;
        return NAN;
    }
    return af_units_apply(c, v);
}

static void test_temperature(void)
{
    AF_EXPECT_NEAR(conv("K", "degC", 273.15), 0.0, 1e-12);
    AF_EXPECT_NEAR(conv("K", "degC", 300.0), 26.85, 1e-12);
    AF_EXPECT_NEAR(conv("K", "degC", 0.0), -273.15, 1e-12);
    AF_EXPECT_NEAR(conv("degC", "K", 0.0), 273.15, 1e-12);
    AF_EXPECT_NEAR(conv("degC", "K", -40.0), 233.15, 1e-12);
    AF_EXPECT_NEAR(conv("degC", "degC", 12.5), 12.5, 0);
    AF_EXPECT_NEAR(conv("K", "K", 288.16), 288.16, 0);
    /* the synth weather: 288.16 K = 15.01 degC */
    AF_EXPECT_NEAR(conv("K", "degC", 288.16), 15.01, 1e-12);
    /* aliases */
    AF_EXPECT_NEAR(conv("kelvin", "C", 273.15), 0.0, 1e-12);
    AF_EXPECT_NEAR(conv("degK", "celsius", 283.15), 10.0, 1e-12);
    AF_EXPECT_NEAR(conv("K", "deg C", 274.15), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("K", "degree_Celsius", 274.15), 1.0, 1e-12);
}

static void test_radiation(void)
{
    /* 1 W m-2 over a day = 86400 J m-2 = 0.0864 MJ m-2 */
    AF_EXPECT_NEAR(conv("W m-2", "MJ m-2 d-1", 1.0), 0.0864, 1e-15);
    AF_EXPECT_NEAR(conv("W m-2", "MJ m-2 d-1", 250.0), 21.6, 1e-12);
    AF_EXPECT_NEAR(conv("MJ m-2 d-1", "W m-2", 21.6), 250.0, 1e-9);
    AF_EXPECT_NEAR(conv("W/m2", "MJ/m2/day", 100.0), 8.64, 1e-12);
    AF_EXPECT_NEAR(conv("W m-2 (daily mean)", "MJ m-2 d-1", 10.0), 0.864, 1e-12);
    /* Daymet: srad 300 W m-2 (daylight mean) x dayl 50400 s (14 h) = 15.12 MJ m-2 d-1 */
    AF_EXPECT_NEAR(conv("J m-2 d-1", "MJ m-2 d-1", 300.0 * 50400.0), 15.12, 1e-9);
    AF_EXPECT_NEAR(conv("J/m2/day", "W m-2", 86400.0), 1.0, 1e-12);
}

static void test_humidity(void)
{
    /* relative humidity is its own quantity: % RH, never the soil's % by mass */
    AF_EXPECT_NEAR(conv("% RH", "% RH", 65.5), 65.5, 0);
    AF_EXPECT_NEAR(conv("1 RH", "% RH", 0.655), 65.5, 1e-12);
    AF_EXPECT_NEAR(conv("%RH", "fraction RH", 40.0), 0.4, 1e-15);
    /* gridMET sph: 0.008 kg kg-1 = 8 g kg-1 */
    AF_EXPECT_NEAR(conv("kg kg-1", "g kg-1", 0.008), 8.0, 1e-12);
    af_unit_conv c;
    AF_TEST_FAILS_WITH(AF_EUNITS, "relative humidity", af_units_conversion("% RH", "%", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "mass fraction", af_units_conversion("%", "% RH", &c, err));
}

static void test_nitrogen(void)
{
    /* 1 ha = 1e4 m2 */
    AF_EXPECT_NEAR(conv("g N ha-1 d-1", "g N m-2 d-1", 1.0), 1e-4, 1e-18);
    AF_EXPECT_NEAR(conv("g N ha-1 d-1", "g N m-2 d-1", 20.16), 0.002016, 1e-15);
    AF_EXPECT_NEAR(conv("gN/ha/day", "g N m-2 d-1", 50.0), 0.005, 1e-15);
    /* 1 kg N ha-1 = 1000 g / 1e4 m2 = 0.1 g N m-2 */
    AF_EXPECT_NEAR(conv("kg N ha-1", "g N m-2", 1.0), 0.1, 1e-15);
    AF_EXPECT_NEAR(conv("kg N ha-1", "g N m-2", 336.0), 33.6, 1e-12);
    AF_EXPECT_NEAR(conv("kg N ha-1 d-1", "g N m-2 d-1", 2.0), 0.2, 1e-15);
    AF_EXPECT_NEAR(conv("kgN/ha", "gN m-2 d-1", 10.0), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("g N m-2 d-1", "kg N ha-1 d-1", 1.0), 10.0, 1e-12);
    AF_EXPECT_NEAR(conv("g N m-2 d-1", "g N ha-1 d-1", 1.0), 1e4, 1e-8);
}

static void test_carbon(void)
{
    /* umol CO2 m-2 s-1 as a daily mean -> g C m-2 d-1: the documented factor 1.03772448 */
    AF_EXPECT_NEAR(conv("umol CO2 m-2 s-1 (daily mean)", "g C m-2 d-1", 1.0), 1.03772448, 1e-12);
    AF_EXPECT_NEAR(conv("umol CO2 m-2 s-1 (daily mean)", "g C m-2 d-1", 10.0), 10.3772448, 1e-11);
    AF_EXPECT_NEAR(conv("umol m-2 s-1", "g C m-2 d-1", -5.0), -5.1886224, 1e-12);
    AF_EXPECT_NEAR(conv("g C m-2 d-1", "umol m-2 s-1", 1.03772448), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("g C ha-1 d-1", "g C m-2 d-1", 1e4), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("gC/ha/day", "gC m-2 d-1", 500.0), 0.05, 1e-15);
    AF_EXPECT_NEAR(conv("g C m-2", "g C m-2 d-1", 3.5), 3.5, 0);
}

static void test_water_and_length(void)
{
    AF_EXPECT_NEAR(conv("cm", "mm", 1.0), 10.0, 1e-12);
    AF_EXPECT_NEAR(conv("cm d-1", "mm d-1", 2.54), 25.4, 1e-12);
    AF_EXPECT_NEAR(conv("cm/day", "mm/day", 0.1), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("mm d-1", "cm d-1", 25.0), 2.5, 1e-12);
    /* 1 kg of water over 1 m2 = 1 mm */
    AF_EXPECT_NEAR(conv("kg m-2", "mm d-1", 1.16), 1.16, 0);
    AF_EXPECT_NEAR(conv("kg m-2 d-1", "mm d-1", 7.0), 7.0, 0);
    AF_EXPECT_NEAR(conv("mm day-1", "mm", 3.0), 3.0, 0);
}

static void test_soil_and_misc(void)
{
    /* 1 % by mass = 10 g per kg */
    AF_EXPECT_NEAR(conv("%", "g kg-1", 1.0), 10.0, 1e-12);
    AF_EXPECT_NEAR(conv("percent", "g/kg", 2.5), 25.0, 1e-12);
    AF_EXPECT_NEAR(conv("pct", "g kg-1", 0.3), 3.0, 1e-12);
    AF_EXPECT_NEAR(conv("g kg-1", "%", 10.0), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("Pa", "kPa", 101325.0), 101.325, 1e-9);
    AF_EXPECT_NEAR(conv("Pa", "kPa", 1000.0), 1.0, 1e-12);
    AF_EXPECT_NEAR(conv("kPa", "Pa", 1.5), 1500.0, 1e-9);
    AF_EXPECT_NEAR(conv("kg m-3", "Mg m-3", 1350.0), 1.35, 1e-12);
    AF_EXPECT_NEAR(conv("g cm-3", "Mg m-3", 1.35), 1.35, 0);
    AF_EXPECT_NEAR(conv("t m-3", "kg m-3", 1.0), 1000.0, 1e-9);
    AF_EXPECT_NEAR(conv("mph", "m s-1", 10.0), 4.4704, 1e-12);
    AF_EXPECT_NEAR(conv("m/s", "mph", 4.4704), 10.0, 1e-9);
    AF_EXPECT_NEAR(conv("fraction", "1", 0.25), 0.25, 0);
    AF_EXPECT_NEAR(conv("m3 m-3", "unitless", 0.3), 0.3, 0);
    AF_EXPECT_NEAR(conv("cmol(+) kg-1", "cmol kg-1", 12.0), 12.0, 0);
    AF_EXPECT_NEAR(conv("meq 100g-1", "cmol kg-1", 12.0), 12.0, 0);
    AF_EXPECT_NEAR(conv("seconds", "s", 60.0), 60.0, 0);
    AF_EXPECT_NEAR(conv("pH", "pH", 6.5), 6.5, 0);
    AF_EXPECT_NEAR(conv("category", "class", 3.0), 3.0, 0);
    AF_EXPECT_NEAR(conv("flag", "flag", 1.0), 1.0, 0);
}

static void test_canonical(void)
{
    AF_EXPECT(af_units_canonical("kelvin") && !strcmp(af_units_canonical("kelvin"), "K"));
    AF_EXPECT(af_units_canonical("C") && !strcmp(af_units_canonical("C"), "degC"));
    AF_EXPECT(af_units_canonical("kg m-2") && !strcmp(af_units_canonical("kg m-2"), "mm d-1"));
    AF_EXPECT(af_units_canonical("mm") && !strcmp(af_units_canonical("mm"), "mm d-1"));
    AF_EXPECT(af_units_canonical("umol m-2 s-1") &&
              !strcmp(af_units_canonical("umol m-2 s-1"), "umol CO2 m-2 s-1 (daily mean)"));
    AF_EXPECT(af_units_canonical("gN/ha/day") && !strcmp(af_units_canonical("gN/ha/day"), "g N ha-1 d-1"));
    AF_EXPECT(af_units_canonical("percent") && !strcmp(af_units_canonical("percent"), "%"));
    AF_EXPECT(af_units_canonical("Pa") && !strcmp(af_units_canonical("Pa"), "Pa"));
    AF_EXPECT(af_units_canonical("furlongs") == NULL);
    AF_EXPECT(af_units_canonical("") == NULL);
    AF_EXPECT(af_units_canonical(NULL) == NULL);
    /* aliases are case-sensitive: "k" is not kelvin, "pa" is not pascal */
    AF_EXPECT(af_units_canonical("k") == NULL);
    AF_EXPECT(af_units_canonical("pa") == NULL);
}

static void test_errors(void)
{
    af_unit_conv c;
    AF_TEST_FAILS_WITH(AF_EUNITS, "furlongs", af_units_conversion("furlongs", "mm", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "furlongs", af_units_conversion("mm", "furlongs", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown units", af_units_conversion("degF", "degC", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "degF", af_units_conversion("degF", "degC", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown units ''", af_units_conversion(NULL, "degC", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown units ''", af_units_conversion("", "degC", &c, err));
    /* incompatible quantities: both names and both quantities in the message */
    AF_TEST_FAILS_WITH(AF_EUNITS, "'K'", af_units_conversion("K", "mm d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'mm d-1'", af_units_conversion("K", "mm d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "temperature", af_units_conversion("K", "mm d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "water flux", af_units_conversion("K", "mm d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'g N ha-1 d-1'", af_units_conversion("g N ha-1 d-1", "g C m-2 d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'g C m-2 d-1'", af_units_conversion("g N ha-1 d-1", "g C m-2 d-1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'W m-2'", af_units_conversion("W m-2", "kPa", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'kPa'", af_units_conversion("W m-2", "kPa", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'%'", af_units_conversion("%", "1", &c, err));
    AF_TEST_FAILS_WITH(AF_EUNITS, "'class'", af_units_conversion("class", "flag", &c, err));
}

/* A file's units attribute against source_units: the table's spellings, then UDUNITS-2's. */
static int verdict(const char *file_units, const char *source_units)
{
    int v = -1;
    af_error e = AF_ERROR_INIT;
    if (af_units_file_agrees(file_units, source_units, &v, &e) != AF_OK) {
        fprintf(stderr, "af_units_file_agrees('%s', '%s'): %s\n", file_units, source_units, e.msg);
        af_test_case_failed = 1;
    }
    return v;
}

static void test_file_units(void)
{
    AF_EXPECT(verdict("K", "K") == AF_UNITS_AGREE);
    AF_EXPECT(verdict("kelvin", "K") == AF_UNITS_AGREE);            /* UDUNITS-2 spelling */
    AF_EXPECT(verdict("degree_Celsius", "degC") == AF_UNITS_AGREE);
    AF_EXPECT(verdict("W/m^2", "W m-2") == AF_UNITS_AGREE);
    AF_EXPECT(verdict("degC", "K") == AF_UNITS_DISAGREE);           /* table: offset 273.15 */
    AF_EXPECT(verdict("degree_Celsius", "K") == AF_UNITS_DISAGREE);   /* UDUNITS-2: offset */
    AF_EXPECT(verdict("mW m-2", "W m-2") == AF_UNITS_DISAGREE);     /* UDUNITS-2: scale 1e-3 */
    AF_EXPECT(verdict("mm d-1", "K") == AF_UNITS_INCOMPATIBLE);     /* table: other quantity */
    AF_EXPECT(verdict("m", "K") == AF_UNITS_INCOMPATIBLE);          /* UDUNITS-2: not convertible */
    AF_EXPECT(verdict("kelvin_like", "K") == AF_UNITS_NOT_UNDERSTOOD);
    int v;
    AF_TEST_FAILS_WITH(AF_EUNITS, "unknown units 'Kelvinn'", af_units_file_agrees("K", "Kelvinn", &v, err));
}

static void test_markdown(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    AF_EXPECT(fp != NULL);
    if (!fp) return;
    af_units_print_markdown(fp);
    fclose(fp);
    static const char *must[] = { "`K`", "`degC`", "`W m-2`", "`g N ha-1 d-1`", "`kg N ha-1 d-1`",
                                  "`umol CO2 m-2 s-1 (daily mean)`", "`%`", "`Pa`", "`cm d-1`", "1.03772448" };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(buf, must[i])) {
            fprintf(stderr, "units markdown lacks %s\n", must[i]);
            af_test_case_failed = 1;
        }
    free(buf);
}

int main(void)
{
    AF_RUN(test_temperature);
    AF_RUN(test_radiation);
    AF_RUN(test_humidity);
    AF_RUN(test_nitrogen);
    AF_RUN(test_carbon);
    AF_RUN(test_water_and_length);
    AF_RUN(test_soil_and_misc);
    AF_RUN(test_canonical);
    AF_RUN(test_errors);
    AF_RUN(test_file_units);
    AF_RUN(test_markdown);
    return AF_TEST_END();
}
