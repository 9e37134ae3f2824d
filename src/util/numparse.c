/* SPDX-License-Identifier: MIT */
/*
 * numparse.c: exact parsing of the Fortran-style numbers in model outputs
 * (Ecosys, DayCent) without strtod on the common path. Up to 19 significant
 * digits go into a uint64 mantissa m with a decimal exponent e; when
 * m <= 2^53 and |e| <= 22 both m and 10^|e| are exact doubles, so the one
 * IEEE multiplication or division m * 10^e / m / 10^-e is the correctly
 * rounded result (Clinger's fast path), bit-identical to strtod. Everything
 * else (more digits, larger exponents, subnormals) is rewritten to C syntax
 * and handed to strtod, as before. Needs FLT_EVAL_METHOD == 0 (SSE doubles)
 * and round-to-nearest; otherwise every number takes the strtod path.
 * Not collective; no allocation, no locale.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"

#define NP_MAX_LEN 126 /* texts of this length or longer are rejected (as they always were) */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int af_numparse_strtod(const char *text, size_t len, double *out)
{
    char buf[NP_MAX_LEN + 2];
    size_t n = 0, i = 0;
    if (!text || len == 0 || len >= NP_MAX_LEN) return 0;
    if (text[i] == '+' || text[i] == '-') buf[n++] = text[i++];
    int digits = 0;
    while (i < len && is_digit(text[i])) { buf[n++] = text[i++]; digits++; }
    if (i < len && text[i] == '.') {
        buf[n++] = text[i++];
        while (i < len && is_digit(text[i])) { buf[n++] = text[i++]; digits++; }
    }
    if (!digits) return 0;
    if (i < len) {
        /* exponent: [EeDd][+-]?digits, or a bare [+-]digits (letter crowded out) */
        char c = text[i];
        if (c == 'E' || c == 'e' || c == 'D' || c == 'd') i++;
        else if (c != '+' && c != '-') return 0;
        buf[n++] = 'e';
        if (i < len && (text[i] == '+' || text[i] == '-')) buf[n++] = text[i++];
        int edigits = 0;
        while (i < len && is_digit(text[i])) { buf[n++] = text[i++]; edigits++; }
        if (!edigits || i != len) return 0;
    }
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (!end || *end) return 0;
    *out = v;
    return 1;
}

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int af_numparse(const char *text, size_t len, double *out)
{
    if (!text || len == 0 || len >= NP_MAX_LEN) return 0;
    const char *p = text, *end = text + len, *d0, *s0;
    int neg = 0, scale = 0;
    size_t ndig, nsig;
    uint64_t m = 0; /* wraps past 19 digits: then the strtod path is taken */
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    d0 = p;
    while (p < end && *p == '0') p++;
    s0 = p;
    while (p < end && is_digit(*p)) m = m * 10 + (uint64_t)(*p++ - '0');
    nsig = (size_t)(p - s0);
    ndig = (size_t)(p - d0);
    if (p < end && *p == '.') {
        const char *f0 = ++p;
        if (m == 0)
            while (p < end && *p == '0') p++; /* zeros before the first significant digit */
        const char *f1 = p;
        while (p < end && is_digit(*p)) m = m * 10 + (uint64_t)(*p++ - '0');
        nsig += (size_t)(p - f1);
        ndig += (size_t)(p - f0);
        scale = -(int)(p - f0);
    }
    if (!ndig) return 0;
    if (p < end) {
        int eneg = 0;
        long ev = 0;
        if (*p == 'E' || *p == 'e' || *p == 'D' || *p == 'd') p++;
        else if (*p != '+' && *p != '-') return 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        const char *e0 = p;
        for (; p < end && is_digit(*p); p++)
            if (ev < 100000) ev = ev * 10 + (*p - '0');
        if (p == e0 || p != end) return 0;
        scale += (int)(eneg ? -ev : ev);
    }
    if (nsig > 19) return af_numparse_strtod(text, len, out);
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
#if FLT_EVAL_METHOD == 0
    if (m <= (UINT64_C(1) << 53) && scale >= -22 && scale <= 22) {
        double v = (double)m;
        v = scale >= 0 ? v * pow10_exact[scale] : v / pow10_exact[-scale];
        *out = neg ? -v : v;
        return 1;
    }
#endif
    return af_numparse_strtod(text, len, out);
}
