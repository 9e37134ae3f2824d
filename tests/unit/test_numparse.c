/* SPDX-License-Identifier: MIT */
/*
 * test_numparse.c: the exact number parser (src/util/numparse.c) against
 * libc strtod, the independent reference. Random numbers are generated as
 * parts (sign, digits, point, exponent) and written twice: in a Fortran
 * spelling (E/e/D/d or a bare exponent sign, as models write them) for the
 * parser and in C syntax for strtod; the doubles must be bit-identical
 * (memcmp). Edge cases: subnormals, the largest/smallest doubles, halfway
 * cases, 17-40 significant digits, huge exponents, signed zeros, and
 * malformed texts (trailing junk, no digits, hex, inf/nan) that must be
 * rejected as the parser always rejected them. The in-place fast path
 * af__numparse_fast (numparse.h: the Ecosys `0.1234567E+003` shape, short
 * decimals, eight digits a step) is checked on padded buffers: texts at the
 * edges of each shape must give strtod's bits or be declined, and on random
 * and mutated texts whatever it claims (a prefix and a value) must be what
 * the strtod path (af_numparse_strtod) makes of that prefix, and
 * af_numparse must accept and convert exactly as the strtod path does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/models.h"
#include "numparse.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) { return af_test_xorshift(&rng_state); }

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Parse fortran with af_numparse and af_ecosys_parse_number; both must give exactly strtod(c_text). */
static int check_pair(const char *fortran, const char *c_text)
{
    char *end = NULL;
    double ref = strtod(c_text, &end), got = 0, got2 = 0;
    if (*end) { fprintf(stderr, "reference '%s' not fully parsed\n", c_text); return 0; }
    if (!af_numparse(fortran, strlen(fortran), &got) || !af_ecosys_parse_number(fortran, &got2)) {
        fprintf(stderr, "'%s' rejected\n", fortran);
        return 0;
    }
    if (!same_bits(got, ref) || !same_bits(got2, ref)) {
        fprintf(stderr, "'%s': got %a, strtod('%s') = %a\n", fortran, got, c_text, ref);
        return 0;
    }
    return 1;
}

/* One random number as parts, written in a Fortran spelling and in C syntax. */
static void random_number(char *f, char *c, size_t n)
{
    char mant[64], exps[16];
    size_t nd = 1 + rng() % (rng() % 4 == 0 ? 40 : 19), k = 0;
    int point = (int)(rng() % (nd + 2)) - 1; /* -1: no point; else digits before it */
    for (size_t i = 0; i < nd; i++) {
        if ((int)i == point) mant[k++] = '.';
        int zero_run = rng() % 5 == 0;
        mant[k++] = (char)('0' + (zero_run ? 0 : rng() % 10));
    }
    if (point == (int)nd) mant[k++] = '.';
    mant[k] = '\0';
    const char *sign = (const char *[]){ "", "-", "+" }[rng() % 3];
    int has_exp = rng() % 4 != 0, ev = 0;
    char esign = '+';
    if (has_exp) {
        int r = (int)(rng() % 10);
        ev = r < 6 ? (int)(rng() % 23) : r < 9 ? (int)(rng() % 340) : (int)(rng() % 100000);
        esign = rng() % 2 ? '-' : '+';
    }
    snprintf(exps, sizeof exps, "%d", ev);
    snprintf(c, n, "%s%s%s%c%s", sign, mant, has_exp ? "e" : "", has_exp ? esign : ' ', has_exp ? exps : "");
    if (!has_exp) c[strlen(c) - 1] = '\0'; /* drop the placeholder */
    static const char *const letters[] = { "E", "e", "D", "d", "", "E" };
    const char *letter = letters[rng() % 6];
    int omit_plus = esign == '+' && letter[0] && rng() % 2;
    if (!has_exp) snprintf(f, n, "%s%s", sign, mant);
    else if (omit_plus) snprintf(f, n, "%s%s%s%s", sign, mant, letter, exps);
    else snprintf(f, n, "%s%s%s%c%s", sign, mant, letter, esign, exps);
}

static void test_random(void)
{
    char f[128], c[128];
    int bad = 0;
    for (int i = 0; i < 400000 && bad < 10; i++) {
        random_number(f, c, sizeof f);
        if (!strcmp(c, "") || !strpbrk(c, "0123456789")) continue;
        if (!check_pair(f, c)) bad++;
    }
    AF_EXPECT(bad == 0);
}

/* Random 64-bit patterns printed with %.17g (round trip) and with fewer digits: the formats models write. */
static void test_random_doubles(void)
{
    char c[64];
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 10; i++) {
        uint64_t bits = rng();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (d != d || d - d != 0) continue; /* NaN, inf */
        int prec = 1 + (int)(rng() % 20);
        snprintf(c, sizeof c, rng() % 2 ? "%.*E" : "%.*f", prec, d);
        if (strlen(c) >= 126) snprintf(c, sizeof c, "%.*E", prec, d);
        if (!check_pair(c, c)) bad++;
        snprintf(c, sizeof c, "%.17g", d);
        if (!check_pair(c, c)) bad++;
        double back;
        AF_EXPECT(af_numparse(c, strlen(c), &back) && same_bits(back, d)); /* round trip */
    }
    AF_EXPECT(bad == 0);
}

static void test_edges(void)
{
    static const char *const pairs[][2] = {
        { "0", "0" }, { "-0", "-0" }, { "+0.0", "+0.0" }, { "-0.0E+00", "-0.0e+00" }, { "0e99999", "0e99999" },
        { "4.9406564584124654E-324", "4.9406564584124654e-324" },  /* smallest subnormal */
        { "2.4703282292062327e-324", "2.4703282292062327e-324" },  /* below half of it: 0 */
        { "2.4703282292062328e-324", "2.4703282292062328e-324" },  /* above half: the subnormal */
        { "2.2250738585072011D-308", "2.2250738585072011e-308" },  /* largest subnormal */
        { "2.2250738585072014E-308", "2.2250738585072014e-308" },  /* smallest normal */
        { "1.7976931348623157E+308", "1.7976931348623157e+308" },  /* largest double */
        { "1.7976931348623159E+308", "1.7976931348623159e+308" },  /* overflows to inf, as strtod */
        { "9007199254740992", "9007199254740992" },                /* 2^53 */
        { "9007199254740993", "9007199254740993" },                /* 2^53 + 1: halfway, even */
        { "9007199254740995", "9007199254740995" },
        { "18446744073709551615", "18446744073709551615" },        /* 2^64 - 1 */
        { "1234567890123456789", "1234567890123456789" },          /* 19 digits */
        { "12345678901234567890123", "12345678901234567890123" },
        { "0.1", "0.1" }, { "0.3", "0.3" }, { "1e22", "1e22" }, { "1e23", "1e23" }, { "1e-22", "1e-22" },
        { "8.589973e9", "8.589973e9" }, { "0.1356683E+003", "0.1356683E+003" }, { ".5E+01", ".5E+01" },
        { "5.", "5." }, { "0.1234567-100", "0.1234567e-100" }, { "0.1234567+100", "0.1234567e+100" },
        { "0.1D+03", "0.1e+03" }, { "-0.9999000E+004", "-0.9999000e+004" }, { "-6999", "-6999" },
        { "2.00000000000000011102230246251565404236316680908203125",
          "2.00000000000000011102230246251565404236316680908203125" },  /* exactly halfway 2 and next */
        { "0.000000000000000000000000000000000000000000001", "0.000000000000000000000000000000000000000000001" },
        { "1000000000000000000000000000000000000000e-40", "1000000000000000000000000000000000000000e-40" },
        { "3.14159265358979323846264338327950288", "3.14159265358979323846264338327950288" },
        { "1e-400", "1e-400" }, { "1e400", "1e400" }, { "-1e400", "-1e400" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) AF_EXPECT(check_pair(pairs[i][0], pairs[i][1]));
    /* a 125-character number is accepted, 126 characters are rejected (the old buffer's limit) */
    char longnum[130];
    memset(longnum, '1', sizeof longnum);
    longnum[125] = '\0';
    AF_EXPECT(check_pair(longnum, longnum));
    double v;
    AF_EXPECT(!af_numparse(longnum, 126, &v));
}

static void test_rejects(void)
{
    static const char *const bad[] = {
        "", "+", "-", ".", "+.", "-.E5", "e5", "E+05", "1e", "1E+", "1.5x", "1.5 ", " 1.5", "1e5e", "--1",
        "+-1", "1..2", "1.2.3", "1e5.5", "0x10", "0x1p3", "inf", "-inf", "Infinity", "nan", "NaN", "1,5",
        "*******", "1e+5 junk", "1d", "1D-", "1-", "1+", "12a", "1e5\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42.0;
        int a = af_numparse(bad[i], strlen(bad[i]), &v), b = af_ecosys_parse_number(bad[i], &v);
        if (a || b) fprintf(stderr, "'%s' accepted\n", bad[i]);
        AF_EXPECT(!a && !b && v == 42.0);
    }
    double v;
    AF_EXPECT(!af_numparse("1.5\0" "5", 5, &v)); /* a NUL inside the field is not part of a number */
    AF_EXPECT(!af_numparse(NULL, 3, &v));
    AF_EXPECT(!af_ecosys_parse_number(NULL, &v));
}

/* af__numparse_fast on text + terminator in a zero-padded buffer: 1 if it declined, or claimed exactly the
 * prefix [0, end) with the bits af_numparse_strtod gives that prefix. *claimed: the prefix length (0: none). */
static int fast_consistent(const char *text, size_t len, char term, size_t *claimed)
{
    char buf[160];
    const char *end = NULL;
    double v = 0, ref = 0;
    if (len + 1 + AF_NUMPARSE_PAD > sizeof buf) return 1;
    memset(buf, 0, sizeof buf);
    memcpy(buf, text, len);
    buf[len] = term;
    *claimed = 0;
    if (!af__numparse_fast(buf, &end, &v)) return 1;
    *claimed = (size_t)(end - buf);
    if (end <= buf || end > buf + len + 1) return 0;
    if (!af_numparse_strtod(buf, *claimed, &ref) || !same_bits(v, ref)) {
        fprintf(stderr, "fast path claims '%.*s' = %a, strtod path says %a\n", (int)*claimed, buf, v, ref);
        return 0;
    }
    return 1;
}

/* af_numparse and the strtod path agree on text[0..len): both reject, or both accept with the same bits. */
static int agrees_with_strtod(const char *text, size_t len)
{
    double a = 42.0, b = 42.0;
    int ka = af_numparse(text, len, &a), kb = af_numparse_strtod(text, len, &b);
    if (ka != kb || (ka && !same_bits(a, b))) {
        fprintf(stderr, "'%.*s': af_numparse %d %a, strtod path %d %a\n", (int)len, text, ka, a, kb, b);
        return 0;
    }
    return 1;
}

/* The edges of each fast shape: strtod's bits through af_numparse, and the fast path either declines or
 * claims the whole text (followed by a blank) with the same bits. */
static void test_fast_edges(void)
{
    static const char *const texts[] = {
        /* Ecosys E14.7: exponents at Clinger's limits (scale = exponent - 7 in -22..22) and past them */
        "0.1234567E+029", "0.1234567E+030", "0.1234567E-015", "0.1234567E-016", "0.9999999E+099",
        "0.1234567E+100", "0.1234567E+999", "0.1234567E-999", "0.0000000E+000", "-0.0000000E+000",
        "0.0000000E+099", "0.0000000E-099", "-0.9999000E+004", "-0.6999000E+004", "0.9999999E+000",
        "+0.1234567E+003", "0.1234567D+003", "0.1234567e+003", "0.1234567d-003", "0.1234567E003",
        "0.1234567+003", "0.1234567-003", "0.1234567E+00", "0.12345678E+003", "0.123456E+003", "00.1234567E+003",
        "0.4940656E-323", "0.2225074E-307", "0.1797693E+309", "1.0-100", "1.0+100", "0.5D-3",
        /* short decimals: up to 7 digits before a blank, point anywhere */
        "1", "-1", "+1", "0", "-0", "1234567", "12345678", "123456789", "1.", "-1.", ".5", "-.5", "+.5",
        "9999999.", "999999.9", ".9999999", "0.000001", "1.234567", "12.3456", "-12.3456", "2001.00",
        "365.000", "0000001", "-9999", "-6999", "-9999.000", "0.123456", "-0.123456", "1.23456e-05",
        /* eight digits a step: leading zeros, 16-19 digits, 20+ (strtod), exponent digit counts */
        "0000000000000000000001.5", "000000000000000000000000", "1234567890123456789", "12345678901234567890",
        "9007199254740992", "9007199254740993", "123456789012345.6", "1e22", "1e23", "1e-22", "1e-23",
        "1e0000005", "1e00000005", "1e000000005", "4.9406564584124654E-324", "2.2250738585072014E-308",
        "1.7976931348623157E+308", "0.000000000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = strlen(texts[i]), claimed = 0;
        AF_EXPECT(agrees_with_strtod(texts[i], n));
        double v;
        AF_EXPECT(af_numparse(texts[i], n, &v)); /* every one is a number */
        AF_EXPECT(fast_consistent(texts[i], n, ' ', &claimed));
        if (claimed && claimed != n) fprintf(stderr, "'%s': fast path claimed %zu bytes\n", texts[i], claimed);
        AF_EXPECT(claimed == 0 || claimed == n);
    }
    /* the shapes the models write are claimed by the fast path (not handed on to strtod) */
    static const char *const claimed_texts[] = { "0.1234567E+003", "-0.1234567E-004", "0.1234567E+029",
                                                 "0.1234567E-015", "-0.9999000E+004", "365.000", "2001.00",
                                                 "-12.3456", "7", "1.23456e-05", "123456789012.5" };
    for (size_t i = 0; i < sizeof claimed_texts / sizeof claimed_texts[0]; i++) {
        size_t claimed = 0;
        AF_EXPECT(fast_consistent(claimed_texts[i], strlen(claimed_texts[i]), '\n', &claimed));
        AF_EXPECT(claimed == strlen(claimed_texts[i]));
    }
}

/* Near misses of the fast shapes: rejected by af_numparse as by the strtod path; the fast path declines
 * or claims only a true prefix. */
static void test_fast_rejects(void)
{
    static const char *const bad[] = {
        "0.1234567E+0x3", "0.1234567F+003", "0.1234567E*003", "0.12345a7E+003", "0.1234567E)003",
        "0.1234567E/003", "0,1234567E+003", "0.1234567E++03", "0.1234567E+-03", "0..234567E+003",
        "0.1234567E 003", "1.2.3", "1..2", "--1", "-+1", "+-1", "1e", "1E+", ".", "-", "+", "-.", "1.5x",
        "0.1234\xB5" "67E+003", "0.1234567E+0\xB0" "3", "12\x80" "4", "1.0-", "1.0-1-1", "9999999.9.",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]), claimed = 0;
        double v = 42.0;
        AF_EXPECT(!af_numparse(bad[i], n, &v) && v == 42.0);
        AF_EXPECT(agrees_with_strtod(bad[i], n));
        AF_EXPECT(fast_consistent(bad[i], n, ' ', &claimed));
        AF_EXPECT(claimed < n);
    }
}

/* Random texts over number characters, and the Ecosys shape with one byte replaced by any byte value:
 * af_numparse agrees with the strtod path, and the fast path's claims are exact prefixes. */
static void test_fast_random(void)
{
    static const char alpha[] = "0123456789012345678901234567890123456789.....EEeDd+-+- \t\n";
    static const char terms[] = { ' ', '\t', '\r', '\n', '\0', 'x', '.', 'E', '5' };
    char t[64];
    int bad = 0;
    for (int i = 0; i < 300000 && bad < 10; i++) {
        size_t n = 1 + rng() % 24, claimed = 0;
        for (size_t k = 0; k < n; k++) t[k] = alpha[rng() % (sizeof alpha - 1)];
        if (!agrees_with_strtod(t, n) || !fast_consistent(t, n, terms[rng() % sizeof terms], &claimed)) bad++;
    }
    for (int i = 0; i < 300000 && bad < 10; i++) {
        size_t claimed = 0;
        int e = (int)(rng() % 40);
        snprintf(t, sizeof t, "%s0.%07dE%c%03d", rng() % 2 ? "-" : "", (int)(rng() % 10000000), rng() % 2 ? '+' : '-', e);
        size_t n = strlen(t);
        if (rng() % 4) t[rng() % n] = (char)(rng() % 256); /* one byte of any value, sometimes none */
        if (memchr(t, '\0', n)) continue;
        if (!agrees_with_strtod(t, n) || !fast_consistent(t, n, terms[rng() % sizeof terms], &claimed)) bad++;
    }
    AF_EXPECT(bad == 0);
}

int main(void)
{
    AF_RUN(test_edges);
    AF_RUN(test_rejects);
    AF_RUN(test_random);
    AF_RUN(test_random_doubles);
    AF_RUN(test_fast_edges);
    AF_RUN(test_fast_rejects);
    AF_RUN(test_fast_random);
    return AF_TEST_END();
}
