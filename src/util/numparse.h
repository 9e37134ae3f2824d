/* SPDX-License-Identifier: MIT */
/*
 * numparse.h (private): exact decimal-to-double parsing of the Fortran-style
 * numbers model outputs write (numparse.c), without strtod on the common path;
 * and af__numparse_fast, the inline digit loop the model readers call on a
 * padded read buffer (eight digits at a time, no branch per character).
 */
#ifndef AF_NUMPARSE_H
#define AF_NUMPARSE_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/** Bytes a buffer must stay readable past the first byte after a number for af__numparse_fast. */
#define AF_NUMPARSE_PAD 16

/* The per-field helpers are inlined into the row loops (a call per field costs as much as the digits). */
#if defined(__GNUC__)
#define AF_NP_INLINE static inline __attribute__((always_inline))
#else
#define AF_NP_INLINE static inline
#endif

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    FLT_EVAL_METHOD == 0
#define AF_NUMPARSE_FAST 1

/* The value of 8 digit bytes less '0' each (the first digit in the lowest byte). */
AF_NP_INLINE uint64_t af__np_swar8(uint64_t d)
{
    d = d * 10 + (d >> 8); /* bytes 0, 2, 4, 6: the 2-digit values p0..p3 (the odd bytes: junk below 100) */
    const uint64_t pairs = UINT64_C(0x000000FF000000FF);
    /* bits 32..63 of the sum: 10^6 p0 + 100 p2 + 10^4 p1 + p3 (the low halves stay below 2^32) */
    return ((d & pairs) * (100 + (UINT64_C(1000000) << 32)) + ((d >> 16) & pairs) * (1 + (UINT64_C(10000) << 32))) >>
           32;
}

/* The top bit of each byte of x that is not an ASCII digit, exact for every byte: with t = x ^ '0', a
 * byte is a digit iff t < 10, and (t & 0x7F) + 0x76 sets the top bit iff t & 0x7F >= 10 without
 * carrying into the next byte. */
AF_NP_INLINE uint64_t af__np_nondigits(uint64_t x)
{
    uint64_t t = x ^ UINT64_C(0x3030303030303030);
    return (((t & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7676767676767676)) | t) & UINT64_C(0x8080808080808080);
}

/* The leading ASCII digits among the 8 bytes at p: returns how many (0..8), their value in *val. */
AF_NP_INLINE int af__np_digits8(const char *p, uint64_t *val)
{
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t bad = af__np_nondigits(x);
    int n = bad ? __builtin_ctzll(bad) >> 3 : 8;
    *val = n ? af__np_swar8((x - UINT64_C(0x3030303030303030)) << 8 * (8 - n)) : 0; /* digits to the top */
    return n;
}

static const uint64_t af__np_pow10_u64[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
static const double af__np_pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* An exponent letter or a bare exponent sign: E e D d + - */
AF_NP_INLINE int af__np_is_exp(unsigned c) { return ((c | 0x20) - 'd') <= 1u || ((c - '+') & ~2u) == 0; }

/* m * 10^scale when Clinger's exact case holds (m <= 2^53, |scale| <= 22; m = 0 any scale). */
AF_NP_INLINE int af__np_clinger(uint64_t m, int scale, double *out)
{
    if (m == 0) {
        *out = 0.0;
        return 1;
    }
    if (m > (UINT64_C(1) << 53) || scale < -22 || scale > 22) return 0;
    double d = (double)m;
    *out = scale >= 0 ? d * af__np_pow10_exact[scale] : d / af__np_pow10_exact[-scale];
    return 1;
}

/* Ecosys' Fortran E14.7 body `0.dddddddE+0dd` (exponent sign + or -, 3 digits of which the first is 0:
 * exponents of 100 and more are beyond Clinger's case anyway) at q: two loads, each checked whole (XOR
 * with the expected text turns digits into their values and the fixed bytes '0' '.' 'E' '0' into 0;
 * adding 0x76 per byte flags a digit >= 10, adding 0x7F a fixed byte != 0, without carries between
 * bytes), the point dropped by shifts, no loop. Other letters and exponents take the general path. */
AF_NP_INLINE int af__np_e7(const char *q, const char **end, double *out)
{
    uint64_t w0, w1;
    memcpy(&w0, q, 8);
    if ((w0 & 0xFFFF) != ('0' | '.' << 8)) return 0; /* not this shape: one compare */
    memcpy(&w1, q + 8, 8);
    uint64_t t0 = w0 ^ UINT64_C(0x3030303030302E30), t1 = w1 ^ UINT64_C(0x0000303030004530);
    uint64_t bad = ((((t0 & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7676767676767F7F)) | t0) &
                    UINT64_C(0x8080808080808080)) |
                   ((((t1 & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x000076767F007F76)) | t1) &
                    UINT64_C(0x0000808080008080)); /* bytes 2 (the sign), 6 and 7 of w1 not checked here */
    unsigned sign = (unsigned)(w1 >> 16) & 0xFF;
    if (bad || (sign != '+' && sign != '-')) return 0;
    int ev = (int)(t1 >> 32 & 0xFF) * 10 + (int)(t1 >> 40 & 0xFF); /* the exponent's last 2 digits */
    int scale = (sign == '-' ? -ev : ev) - 7;
    if ((unsigned)(scale + 22) > 44u) return 0; /* beyond Clinger's exact powers */
    double d = (double)af__np_swar8((t0 >> 8) | (t1 << 56)); /* 0 and the 7 digits; m = 0 gives 0 */
    *out = scale >= 0 ? d * af__np_pow10_exact[scale] : d / af__np_pow10_exact[-scale];
    *end = q + 14;
    return 1;
}

/* A decimal of at most 7 digits with or without a point and no exponent (`365.000`, `1.2345`, `42`) that
 * ends within the 8 bytes at q, before a byte below '!' (a blank, a line end, a NUL): one load, the point
 * dropped by masks, no loop. A number going on past the 8 bytes or into an exponent takes the general path. */
AF_NP_INLINE int af__np_short(const char *q, const char **end, double *out)
{
    uint64_t w;
    memcpy(&w, q, 8);
    uint64_t bad = af__np_nondigits(w);
    if (!bad) return 0;
    unsigned sa = (unsigned)__builtin_ctzll(bad) - 7, sb = sa; /* bit offsets of the first non-digit and the end */
    unsigned point = ((w >> sa) & 0xFF) == '.';
    if (point) {
        uint64_t rest = bad & (bad - 1);
        if (!rest) return 0;
        sb = (unsigned)__builtin_ctzll(rest) - 7;
    }
    unsigned nbits = sb - 8 * point; /* 8 x the digits */
    if (nbits == 0 || ((w >> sb) & 0xFF) > ' ') return 0;
    uint64_t low = (UINT64_C(1) << sa) - 1;
    uint64_t t = (w & low) | ((w >> 8) & ~low); /* the point taken out: the digits from the lowest byte */
    double d = (double)af__np_swar8((t - UINT64_C(0x3030303030303030)) << (64 - nbits));
    *out = point ? d / af__np_pow10_exact[((sb - sa) >> 3) - 1] : d;
    *end = q + (sb >> 3);
    return 1;
}

/* Any other number of the grammar at p (sign included), eight digits a step (numparse.c). */
int af__numparse_general(const char *p, const char **end, double *out);

/**
 * Parse the number that starts at p (the af_numparse grammar), stopping at the first byte that
 * cannot continue it. Returns 1 with *end at that byte and *out the correctly rounded double when
 * the number has at most 19 digits, an exponent of at most 7 digits, and m * 10^e with m <= 2^53 and
 * |e| <= 22 (Clinger's exact case) or m = 0; returns 0 otherwise, claiming nothing: the caller then
 * takes af_numparse on the whole field. Reads up to AF_NUMPARSE_PAD bytes past *end (any values):
 * call it only on buffers padded so. The caller checks that *end is a field separator. The shapes
 * the models write (Ecosys `0.1234567E+003`, short decimals) take paths without a loop.
 */
AF_NP_INLINE int af__numparse_fast(const char *p, const char **end, double *out)
{
    int neg = *p == '-';
    double d;
    if (af__np_e7(p + neg, end, &d) || af__np_short(p + neg, end, &d)) {
        *out = neg ? -d : d;
        return 1;
    }
    return af__numparse_general(p, end, out); /* '+', and every other shape */
}
#else
/* Without the 8-byte loads: digit by digit, and no fast path for numbers (af_numparse decides). */
AF_NP_INLINE int af__np_digits8(const char *p, uint64_t *val)
{
    int n = 0;
    *val = 0;
    while (n < 8 && p[n] >= '0' && p[n] <= '9') *val = *val * 10 + (uint64_t)(p[n++] - '0');
    return n;
}

static inline int af__numparse_fast(const char *p, const char **end, double *out)
{
    (void)p, (void)end, (void)out;
    return 0;
}
#endif

#endif
