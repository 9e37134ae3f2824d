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
 * af_numparse first tries the eight-digits-at-a-time af__numparse_fast
 * (numparse.h) on a padded copy of the field; the digit-by-digit path below
 * decides whatever that one does not claim. Not collective; no allocation,
 * no locale.
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

/* Digit by digit: every text of the grammar, exact (Clinger's case here, strtod beyond it). */
static int numparse_exact(const char *text, size_t len, double *out)
{
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

/* Any number of the grammar at p in Clinger's case, eight digits a step: the af__numparse_fast path
 * for the shapes without a loop of their own. */
#ifdef AF_NUMPARSE_FAST
int af__numparse_general(const char *p, const char **end, double *out)
{
    int neg = *p == '-';
    p += *p == '-' || *p == '+';
    int n, nd = 0, scale = 0;
    uint64_t m = 0, v;
    do {
        n = af__np_digits8(p, &v);
        m = m * af__np_pow10_u64[n] + v;
        p += n;
        nd += n;
    } while (n == 8 && nd <= 19);
    if (*p == '.') {
        const char *f0 = ++p;
        do {
            n = af__np_digits8(p, &v);
            m = m * af__np_pow10_u64[n] + v;
            p += n;
            nd += n;
        } while (n == 8 && nd <= 19);
        scale = -(int)(p - f0);
    }
    if (nd == 0 || nd > 19) return 0;
    if (af__np_is_exp((unsigned char)*p)) {
        p += *p != '+' && *p != '-'; /* the letter; `1.0-100` has none */
        int eneg = *p == '-';
        p += *p == '-' || *p == '+';
        n = af__np_digits8(p, &v);
        if (n == 0 || n == 8) return 0;
        p += n;
        scale += eneg ? -(int)v : (int)v;
    }
    double d;
    if (!af__np_clinger(m, scale, &d)) return 0;
    *out = neg ? -d : d;
    *end = p;
    return 1;
}
#endif

int af_numparse(const char *text, size_t len, double *out)
{
    if (!text || len == 0 || len >= NP_MAX_LEN) return 0;
    char buf[NP_MAX_LEN + AF_NUMPARSE_PAD];
    const char *end;
    double v;
    memcpy(buf, text, len);
    memset(buf + len, 0, AF_NUMPARSE_PAD); /* a NUL ends the number; the pad keeps the 8-byte reads inside buf */
    if (af__numparse_fast(buf, &end, &v) && end == buf + len) {
        *out = v;
        return 1;
    }
    return numparse_exact(text, len, out);
}
