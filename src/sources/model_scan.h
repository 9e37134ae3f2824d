/* SPDX-License-Identifier: MIT */
/*
 * model_scan.h (private): a whitespace row of numbers parsed in place by a
 * field index, for the model readers' fast row paths (daycent.c). The bytes
 * of the row are classified 64 at a time into bit masks (field text, blank,
 * digit, point, minus; anything else ends the row), and each field's start,
 * length, sign, digits and point come from the masks with a few operations
 * on 64-bit words instead of a test per byte. A short decimal (`12.3456`,
 * `-3.4567`, `2001.00`, `366`: what DayCent writes) is then converted from
 * one 8-byte load by SWAR; any other field takes af__numparse_fast and
 * af__models_field_slow as before. The values are the ones af__models_next
 * gives (bit for bit: exact conversions). SSE2 (every x86-64) classifies 16
 * bytes an instruction; elsewhere an 8-byte SWAR form does
 * (af__scan64_swar, also tested on x86-64).
 */
#ifndef AF_MODEL_SCAN_H
#define AF_MODEL_SCAN_H

#include <stdint.h>

#include "ecosys_impl.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The 8 bytes at p, p[0] in the low bits on any byte order (one load where the compiler sees it is one). */
AF_NP_INLINE uint64_t af__scan_le64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | u[i];
    return x;
}

/* The index of the lowest set bit of x (x != 0). */
AF_NP_INLINE int af__scan_ctz(uint64_t x)
{
#if defined(__GNUC__)
    return __builtin_ctzll(x);
#else
    int n = 0;
    while (!(x & 1)) x >>= 1, n++;
    return n;
#endif
}

/* The index of the highest set bit of x (x != 0). */
AF_NP_INLINE int af__scan_top(uint64_t x)
{
#if defined(__GNUC__)
    return 63 - __builtin_clzll(x);
#else
    int n = 63;
    while (!(x >> 63)) x <<= 1, n--;
    return n;
#endif
}

/* The top bit of each byte of x, gathered into the low 8 bits (byte 0 -> bit 0); x holds only top bits. */
AF_NP_INLINE uint64_t af__scan_gather8(uint64_t x) { return (x * UINT64_C(0x0002040810204081)) >> 56; }

/* The top bit of each byte of x that is zero (exact: no carries between bytes). */
AF_NP_INLINE uint64_t af__scan_zero8(uint64_t x)
{
    return ~(((x & UINT64_C(0x7F7F7F7F7F7F7F7F)) + UINT64_C(0x7F7F7F7F7F7F7F7F)) | x) & UINT64_C(0x8080808080808080);
}

/** The classes of 64 bytes at p (bit i for p[i]). */
typedef struct af_scan_masks {
    uint64_t tok;   /**< above ' ' (field text; bytes >= 0x80 too) */
    uint64_t blank; /**< ' ' and '\t' (every other byte is in neither: '\r', '\n', NUL, other controls) */
    uint64_t digit; /**< '0'..'9' */
    uint64_t dot;   /**< '.' */
    uint64_t minus; /**< '-' */
} af_scan_masks;

/** af__scan64's masks, portably, eight bytes a step. */
AF_NP_INLINE void af__scan64_swar(const char *p, af_scan_masks *m)
{
    uint64_t t = 0, b = 0, d = 0, o = 0, n = 0;
    const uint64_t ones = UINT64_C(0x0101010101010101), top = UINT64_C(0x8080808080808080);
    for (int i = 0; i < 8; i++) {
        uint64_t x = af__scan_le64(p + 8 * i);
        /* byte > 0x20: its low 7 bits + 0x5F carry into the top bit, or the top bit is set already */
        uint64_t tk = (((x & ~top) + 0x5F * ones) | x) & top;
        uint64_t bl = af__scan_zero8(x ^ ' ' * ones) | af__scan_zero8(x ^ '\t' * ones);
        /* a digit: x ^ '0' below 10 (the top-bit form of af__np_nondigits, negated) */
        uint64_t y = x ^ '0' * ones;
        uint64_t dg = ~(((y & ~top) + 0x76 * ones) | y) & top;
        t |= af__scan_gather8(tk) << 8 * i;
        b |= af__scan_gather8(bl) << 8 * i;
        d |= af__scan_gather8(dg) << 8 * i;
        o |= af__scan_gather8(af__scan_zero8(x ^ '.' * ones)) << 8 * i;
        n |= af__scan_gather8(af__scan_zero8(x ^ '-' * ones)) << 8 * i;
    }
    m->tok = t;
    m->blank = b;
    m->digit = d;
    m->dot = o;
    m->minus = n;
}

/** The masks of the 64 bytes at p: by SSE2 where the compiler targets it, else af__scan64_swar. */
AF_NP_INLINE void af__scan64(const char *p, af_scan_masks *m)
{
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi8((char)0x80), lim = _mm_set1_epi8((char)(0x20 ^ 0x80));
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), d0 = _mm_set1_epi8('0' - 1);
    const __m128i d9 = _mm_set1_epi8('9' + 1), pt = _mm_set1_epi8('.'), mn = _mm_set1_epi8('-');
    uint64_t t = 0, b = 0, d = 0, o = 0, n = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        /* unsigned byte > 0x20 as a signed compare of both sides with their top bits flipped */
        __m128i tk = _mm_cmpgt_epi8(_mm_xor_si128(v, flip), lim);
        __m128i bl = _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab));
        __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, d0), _mm_cmplt_epi8(v, d9)); /* bytes >= 0x80: negative */
        t |= (uint64_t)(unsigned)_mm_movemask_epi8(tk) << 16 * i;
        b |= (uint64_t)(unsigned)_mm_movemask_epi8(bl) << 16 * i;
        d |= (uint64_t)(unsigned)_mm_movemask_epi8(dg) << 16 * i;
        o |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pt)) << 16 * i;
        n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, mn)) << 16 * i;
    }
    m->tok = t;
    m->blank = b;
    m->digit = d;
    m->dot = o;
    m->minus = n;
#else
    af__scan64_swar(p, m);
#endif
}

/* The field of len bytes at q (bits s..s+len-1 of the masks m), as af__models_field would convert it (the
 * same value): 1 and *v, or 0 if it is no number. A decimal of at most 8 bytes after an optional '-',
 * digits with at most one '.' (at least one digit), takes one 8-byte load: the point taken out by masks,
 * the digits converted by af__np_swar8, one division by 10^0..10^7 (exact: m < 10^8, Clinger's case,
 * what strtod gives); so does `0.` and up to 8 digits (m < 10^8, one division by 10^1..10^8). */
AF_NP_INLINE int af__models_field_len(const char *q, const af_scan_masks *m, unsigned s, unsigned len, double *v)
{
    const char *e;
#ifdef AF_NUMPARSE_FAST
    uint64_t all = (UINT64_C(1) << len) - 1; /* len < 64 */
    unsigned neg = (unsigned)(m->minus >> s) & 1;
    uint64_t dots = (m->dot >> s) & all, other = ~(m->digit >> s) & all & ~dots & ~(uint64_t)neg;
    unsigned point = dots != 0, ndig = len - neg - point;
    if (!(other | (dots & (dots - 1))) && ndig - 1 < 8 && len - neg <= 8) {
        uint64_t w;
        memcpy(&w, q + neg, 8);
        unsigned pb = 8 * ((unsigned)af__scan_ctz(dots | UINT64_C(1) << 63) - neg); /* the point's bit in w */
        uint64_t low = (UINT64_C(1) << (pb & 63)) - 1;
        uint64_t t = point ? (w & low) | ((w >> 8) & ~low) : w; /* the point taken out */
        double d = (double)af__np_swar8((t - UINT64_C(0x3030303030303030)) << (64 - 8 * ndig));
        d /= af__np_pow10_exact[point ? len - 1 - (unsigned)af__scan_ctz(dots) : 0]; /* / 10^0 too: exact */
        *v = neg ? -d : d;
        return 1;
    }
    if (!other && point && len - neg - 3 < 8 && q[neg] == '0' && dots == UINT64_C(2) << neg) {
        /* `0.` and 1..8 digits (%.6g below 1: `0.0123456`): the digits after the point in one load */
        uint64_t w;
        memcpy(&w, q + neg + 2, 8);
        double d = (double)af__np_swar8((w - UINT64_C(0x3030303030303030)) << (64 - 8 * (len - neg - 2)));
        d /= af__np_pow10_exact[len - neg - 2];
        *v = neg ? -d : d;
        return 1;
    }
#else
    (void)m, (void)s;
#endif
    return (af__numparse_fast(q, &e, v) && e == q + len) || af__models_field_slow(q, &e, v);
}

/**
 * Exactly n whitespace-separated numbers at p (a row start: blanks, fields separated by ' ' and '\t',
 * then blanks, any '\r', '\n'), each converted as af__models_field does (the same values) and passed
 * through af__models_sentinel (-9999, -6999: NaN): the first nh into head[0..nh), the others into
 * rest[0..n-nh). Returns 1 with *end past the '\n', or 0 for anything else (fewer or more fields, a
 * field that is no number or of 64 bytes or more, another byte such as NUL or '\r' inside the row, a
 * row not ended in the buffer); head and rest may then hold some of the row. Each 64-byte step starts at
 * the field the step before cut (so every field is whole in one step, its length from the masks), and is
 * taken only after a step without a byte that is neither field text nor blank: the buffer must stay
 * readable 64 bytes past the first NUL after p (AF_MBUF_PAD).
 */
AF_NP_INLINE int af__models_row_scan(const char *p, int n, int nh, double *head, double *rest, const char **end)
{
    int k = 0;
    for (;;) {
        af_scan_masks m;
        af__scan64(p, &m);
        uint64_t tok = m.tok, other = ~(tok | m.blank);
        if (other) tok &= (other & (0 - other)) - 1; /* the fields before the row's end (or a stray byte) */
        uint64_t starts = tok & ~(tok << 1);       /* p is a row start or a field start: bit 0 starts one */
        unsigned step = 64;
        if (!other && tok >> 63) { /* the last field goes on past these 64 bytes: the next step starts it */
            step = (unsigned)af__scan_top(starts);
            if (step == 0) return 0; /* a field of 64 bytes or more */
            starts &= ~(UINT64_C(1) << step);
        }
        while (starts) {
            unsigned s = (unsigned)af__scan_ctz(starts);
            double v;
            if (k == n) return 0; /* more fields than expected */
            if (!af__models_field_len(p + s, &m, s, (unsigned)af__scan_ctz(~(tok >> s)), &v)) return 0;
            *(k < nh ? head + k : rest + (k - nh)) = af__models_sentinel(v);
            k++;
            starts &= starts - 1;
        }
        if (other) {
            const char *q = p + af__scan_ctz(other);
            while (*q == '\r') q++;
            if (*q != '\n' || k != n) return 0;
            *end = q + 1;
            return 1;
        }
        p += step;
    }
}

#endif
