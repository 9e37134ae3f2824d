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
    uint64_t comma; /**< ',' (computed only when asked: comma-separated rows) */
} af_scan_masks;

/** af__scan64's masks, portably, eight bytes a step (the comma mask when `comma`, else 0). */
AF_NP_INLINE void af__scan64_swar(const char *p, af_scan_masks *m, int comma)
{
    uint64_t t = 0, b = 0, d = 0, o = 0, n = 0, c = 0;
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
        if (comma) c |= af__scan_gather8(af__scan_zero8(x ^ ',' * ones)) << 8 * i;
    }
    m->tok = t;
    m->blank = b;
    m->digit = d;
    m->dot = o;
    m->minus = n;
    m->comma = c;
}

/** The masks of the 64 bytes at p: by SSE2 where the compiler targets it, else af__scan64_swar. */
AF_NP_INLINE void af__scan64(const char *p, af_scan_masks *m, int comma)
{
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi8((char)0x80), lim = _mm_set1_epi8((char)(0x20 ^ 0x80));
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), d0 = _mm_set1_epi8('0' - 1);
    const __m128i d9 = _mm_set1_epi8('9' + 1), pt = _mm_set1_epi8('.'), mn = _mm_set1_epi8('-');
    const __m128i cm = _mm_set1_epi8(',');
    uint64_t t = 0, b = 0, d = 0, o = 0, n = 0, c = 0;
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
        if (comma) c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cm)) << 16 * i;
    }
    m->tok = t;
    m->blank = b;
    m->digit = d;
    m->dot = o;
    m->minus = n;
    m->comma = c;
#else
    af__scan64_swar(p, m, comma);
#endif
}

#ifdef AF_NUMPARSE_FAST
/* The field of len bytes at q (bits s..s+len-1 of the masks m) if it is a decimal of at most 8 bytes after
 * an optional '-', digits with at most one '.' (at least one digit), or `0.` and up to 8 digits (%.6g below
 * 1: `0.0123456`): 1 with its digits as byte values 0..9 in *dig (the last digit in the top byte, zero
 * bytes before the first: the form af__np_swar8 converts; m < 10^8), the count after the point in *frac
 * and the sign bit in *sign; m / 10^frac is then exact (Clinger's case: what strtod gives). Else 0. One
 * 8-byte load; the point is taken out by masks. */
AF_NP_INLINE int af__scan_decimal(const char *q, const af_scan_masks *m, unsigned s, unsigned len, uint64_t *dig,
                                  unsigned *frac, uint64_t *sign)
{
    uint64_t all = (UINT64_C(1) << len) - 1; /* len < 64 */
    unsigned neg = (unsigned)(m->minus >> s) & 1;
    uint64_t dots = (m->dot >> s) & all, other = (~(m->digit | m->dot) >> s) & all & ~(uint64_t)neg;
    unsigned point = dots != 0, ndig = len - neg - point;
    uint64_t w;
    *sign = (uint64_t)neg << 63;
    if (!(other | (dots & (dots - 1))) && ndig - 1 < 8 && len - neg <= 8) {
        memcpy(&w, q + neg, 8);
        unsigned pb = 8 * ((unsigned)af__scan_ctz(dots | UINT64_C(1) << 63) - neg); /* the point's bit in w */
        uint64_t low = (UINT64_C(1) << (pb & 63)) - 1;
        uint64_t t = point ? (w & low) | ((w >> 8) & ~low) : w; /* the point taken out */
        *dig = (t - UINT64_C(0x3030303030303030)) << (64 - 8 * ndig);
        *frac = point ? len - 1 - (unsigned)af__scan_ctz(dots) : 0;
        return 1;
    }
    if (!other && point && len - neg - 3 < 8 && q[neg] == '0' && dots == UINT64_C(2) << neg) {
        memcpy(&w, q + neg + 2, 8); /* `0.`: the digits after the point */
        *dig = (w - UINT64_C(0x3030303030303030)) << (64 - 8 * (len - neg - 2));
        *frac = len - neg - 2;
        return 1;
    }
    return 0;
}
#endif

/* The field of len bytes at q (bits s..s+len-1 of the masks m), as af__models_field would convert it (the
 * same value): 1 and *v, or 0 if it is no number. af__scan_decimal's shapes are converted from their
 * digits by af__np_swar8 and one division; any other takes af__numparse_fast, then "NaN"/"nan" and
 * af_numparse on the field's len bytes (infinities as NaN), as af__models_field_slow does. */
AF_NP_INLINE int af__models_field_len(const char *q, const af_scan_masks *m, unsigned s, unsigned len, double *v)
{
    const char *e;
#ifdef AF_NUMPARSE_FAST
    uint64_t dig, sign;
    unsigned frac;
    if (af__scan_decimal(q, m, s, len, &dig, &frac, &sign)) {
        double d = (double)af__np_swar8(dig) / af__np_pow10_exact[frac]; /* / 10^0 too: exact */
        *v = sign ? -d : d;
        return 1;
    }
#else
    (void)m, (void)s;
#endif
    if (af__numparse_fast(q, &e, v) && e == q + len) return 1;
    if (af__models_is_nan_n(q, len)) {
        *v = NAN;
        return 1;
    }
    if (!af_numparse(q, len, v)) return 0;
    if (!isfinite(*v)) *v = NAN; /* 1e400: missing, as af_missing_value says */
    return 1;
}

/* Where field k of a row goes: the first nh into head, the others into rest. */
#define AF_SCAN_DST(k, nh, head, rest) ((k) < (nh) ? (head) + (k) : (rest) + ((k) - (nh)))

/* The decimals of a row waiting for their conversion in pairs (af__models_row_scan2): digits, point
 * counts and signs by field; the fields of other shapes, converted already, with their indices. */
#define AF_SCAN_PAIRS_MAX 256
typedef struct af_scan_row {
    uint64_t dig[AF_SCAN_PAIRS_MAX + 1], sign[AF_SCAN_PAIRS_MAX + 1];
    unsigned frac[AF_SCAN_PAIRS_MAX + 1];
    double other[AF_SCAN_PAIRS_MAX];
    int other_k[AF_SCAN_PAIRS_MAX], nother;
} af_scan_row;

/* The commas among the bits [a, b) of comma (a <= b <= 64): 0, 1, or 2 for two or more. */
AF_NP_INLINE unsigned af__scan_commas(uint64_t comma, unsigned a, unsigned b)
{
    uint64_t below_b = b >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << b) - 1, c = comma & below_b & ~((UINT64_C(1) << a) - 1);
    return (c != 0) + ((c & (c - 1)) != 0);
}

/* The walk over a row's fields that af__models_row_scan and af__models_row_scan2 share (see there): each
 * field converted at once into its place (rw NULL), or its digits kept in rw for the conversion in pairs.
 * csv: fields are separated by one comma (blanks around it allowed) and the row may end in one more (a
 * comma is no field text then); a comma before the first field or two between fields decline the row. */
AF_NP_INLINE int af__scan_walk(const char *p, int n, int nh, double *head, double *rest, af_scan_row *rw, int csv,
                               const char **end)
{
    int k = 0;
    unsigned gap = 0; /* csv: commas since the last field (or the row's start), across steps */
    for (;;) {
        af_scan_masks m;
        af__scan64(p, &m, csv);
        uint64_t tok = m.tok & ~m.comma, other = ~(m.tok | m.blank);
        if (other) tok &= (other & (0 - other)) - 1; /* the fields before the row's end (or a stray byte) */
        uint64_t starts = tok & ~(tok << 1);       /* p is a row start or a field start: bit 0 starts one */
        unsigned step = 64, from = 0;              /* from: the first bit after the last field (csv) */
        if (!other && tok >> 63) { /* the last field goes on past these 64 bytes: the next step starts it */
            step = (unsigned)af__scan_top(starts);
            if (step == 0) return 0; /* a field of 64 bytes or more */
            starts &= ~(UINT64_C(1) << step);
        }
        while (starts) {
            unsigned s = (unsigned)af__scan_ctz(starts), len = (unsigned)af__scan_ctz(~(tok >> s));
            double v;
            if (k == n) return 0; /* more fields than expected */
            if (csv) {
                if (gap + af__scan_commas(m.comma, from, s) != (k > 0)) return 0; /* one comma between */
                gap = 0;
                from = s + len;
            }
#ifdef AF_NUMPARSE_FAST
            if (rw) {
                if (!af__scan_decimal(p + s, &m, s, len, &rw->dig[k], &rw->frac[k], &rw->sign[k])) {
                    if (!af__models_field_len(p + s, &m, s, len, &v)) return 0;
                    rw->dig[k] = rw->sign[k] = 0; /* converted here; its place is filled after the pairs */
                    rw->frac[k] = 0;
                    rw->other[rw->nother] = v;
                    rw->other_k[rw->nother++] = k;
                }
                k++;
                starts &= starts - 1;
                continue;
            }
#endif
            if (!af__models_field_len(p + s, &m, s, len, &v)) return 0;
            *AF_SCAN_DST(k, nh, head, rest) = af__models_sentinel(v);
            k++;
            starts &= starts - 1;
        }
        if (other) {
            unsigned o = (unsigned)af__scan_ctz(other);
            const char *q = p + o;
            if (csv && gap + af__scan_commas(m.comma, from, o) > 1) return 0; /* one trailing comma at most */
            while (*q == '\r') q++;
            if (*q != '\n' || k != n) return 0;
            *end = q + 1;
            return 1;
        }
        if (csv) gap += af__scan_commas(m.comma, from, step);
        p += step;
    }
}

/**
 * Exactly n whitespace-separated numbers at p (a row start: blanks, fields separated by ' ' and '\t',
 * then blanks, any '\r', '\n'; csv: separated by one comma each, blanks around it allowed, and one more
 * comma allowed after the last field, as DayCent's dc_sip.csv and harvest.csv end their rows), each converted as af__models_field does (the same values) and passed
 * through af__models_sentinel (-9999, -6999: NaN): the first nh into head[0..nh), the others into
 * rest[0..n-nh). Returns 1 with *end past the '\n', or 0 for anything else (fewer or more fields, a
 * field that is no number or of 64 bytes or more, another byte such as NUL or '\r' inside the row, a
 * row not ended in the buffer); head and rest may then hold some of the row. Each 64-byte step starts at
 * the field the step before cut (so every field is whole in one step, its length from the masks), and is
 * taken only after a step without a byte that is neither field text nor blank: the buffer must stay
 * readable 64 bytes past the first NUL after p (AF_MBUF_PAD). One field at a time; see
 * af__models_row_scan2 for the same in pairs.
 */
AF_NP_INLINE int af__models_row_scan(const char *p, int n, int nh, double *head, double *rest, int csv,
                                     const char **end)
{
    return af__scan_walk(p, n, nh, head, rest, NULL, csv, end);
}

#if defined(__SSE2__) && defined(AF_NUMPARSE_FAST)
/* Two digit words (af__scan_decimal's form) converted at once, divided by 10^fa and 10^fb and signed:
 * af__np_swar8's steps in 16-, 32- and 64-bit lanes (exact integers below 10^8), then one division per
 * lane (what the scalar path computes, bit for bit), -9999 and -6999 as NaN (af__models_sentinel). */
AF_NP_INLINE __m128d af__scan_convert2(uint64_t a, uint64_t b, unsigned fa, unsigned fb, uint64_t sa, uint64_t sb)
{
    __m128i x = _mm_set_epi64x((long long)b, (long long)a);
    /* 16-bit lanes: 10 x the first digit of each pair + the second (the high byte of each lane: junk) */
    __m128i p2 = _mm_and_si128(_mm_add_epi16(_mm_mullo_epi16(x, _mm_set1_epi16(10)), _mm_srli_epi16(x, 8)),
                               _mm_set1_epi16(0xFF));
    __m128i p4 = _mm_madd_epi16(p2, _mm_set1_epi32(0x00010064)); /* 32-bit lanes: 100 x first pair + second */
    __m128i p8 = _mm_add_epi64(_mm_mul_epu32(p4, _mm_set1_epi32(10000)), _mm_srli_epi64(p4, 32));
    __m128d d = _mm_cvtepi32_pd(_mm_shuffle_epi32(p8, _MM_SHUFFLE(3, 1, 2, 0))); /* below 10^8: int32 */
    d = _mm_div_pd(d, _mm_set_pd(af__np_pow10_exact[fb], af__np_pow10_exact[fa]));
    d = _mm_or_pd(d, _mm_castsi128_pd(_mm_set_epi64x((long long)sb, (long long)sa))); /* d >= 0: signed */
    __m128d miss = _mm_or_pd(_mm_cmpeq_pd(d, _mm_set1_pd(-9999.0)), _mm_cmpeq_pd(d, _mm_set1_pd(-6999.0)));
    return _mm_or_pd(_mm_andnot_pd(miss, d), _mm_and_pd(miss, _mm_set1_pd(NAN)));
}

/** af__models_row_scan (the same values into the same places) with the decimals converted two at a time
 *  in SSE2 lanes: fewer instructions per field on rows of short fields such as DayCent's. */
AF_NP_INLINE int af__models_row_scan2(const char *p, int n, int nh, double *head, double *rest, int csv,
                                      const char **end)
{
    af_scan_row rw;
    if (n > AF_SCAN_PAIRS_MAX) return af__scan_walk(p, n, nh, head, rest, NULL, csv, end);
    rw.nother = 0;
    if (!af__scan_walk(p, n, nh, head, rest, &rw, csv, end)) return 0;
    int k = 0;
    for (; k + 1 < n; k += 2) {
        __m128d d = af__scan_convert2(rw.dig[k], rw.dig[k + 1], rw.frac[k], rw.frac[k + 1], rw.sign[k], rw.sign[k + 1]);
        _mm_storel_pd(AF_SCAN_DST(k, nh, head, rest), d);
        _mm_storeh_pd(AF_SCAN_DST(k + 1, nh, head, rest), d);
    }
    if (k < n) _mm_storel_pd(AF_SCAN_DST(k, nh, head, rest), af__scan_convert2(rw.dig[k], 0, rw.frac[k], 0, rw.sign[k], 0));
    for (int i = 0; i < rw.nother; i++)
        *AF_SCAN_DST(rw.other_k[i], nh, head, rest) = af__models_sentinel(rw.other[i]);
    return 1;
}
#else
/** Without SSE2: af__models_row_scan. */
AF_NP_INLINE int af__models_row_scan2(const char *p, int n, int nh, double *head, double *rest, int csv,
                                      const char **end)
{
    return af__models_row_scan(p, n, nh, head, rest, csv, end);
}
#endif

#endif
