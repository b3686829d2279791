// Shared by the x86 int8 paths (GEMM epilogues, depthwise interior): requantization of a vector
// of int32 accumulators with one (multiplier, shift), exactly the contract's
// clamp(z + ((acc·m + 2ⁿ⁻¹) >> n), qmin, qmax), n = 31 + shift, in 64-bit lanes.
#ifndef FLOTILLA_Q8_X86_REQUANT_H
#define FLOTILLA_Q8_X86_REQUANT_H

#if defined(__x86_64__)
#include <immintrin.h>

#include "q8_internal.h"

// The 32-bit form, for n = 31 + shift ≥ 33 (shift ≥ 2: every multiplier below 1/4, i.e. nearly
// every conv, GEMM and pool): 2ⁿ⁻¹ is then a multiple of 2³², so
// (p + 2ⁿ⁻¹) >> n = ((p >> 32) + 2ⁿ⁻³³) >> (n − 32) exactly (a floor of a floor is the floor of
// the whole quotient). Only the products' high dwords matter: |p| < 2⁶² puts p >> 32 in
// [−2³⁰, 2³⁰) and the rounded sum (+ at most 2²⁹) inside int32, so the rounding, shift, zero
// point and clamp all run in 32-bit lanes (VPSRAD, VPMAXSD…) instead of 64-bit ones, and one
// shuffle merges the even and odd products. Below n = 33 the rounding carries out of the low
// dword and the 64-bit form is kept.
static inline bool flotilla_q8_requant_hi_ok(int32_t shift) { return shift >= 2; }

// q = (p + 2ⁿ⁻¹) >> n of the 16 products x·m (n ≥ 33), as int32, before zero point and clamp.
// rnd = 2ⁿ⁻³³ in every lane, cnt = n − 32.
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m512i flotilla_q8_requant16_hi_avx512(
    __m512i x, __m512i m, __m512i rnd, __m128i cnt) {
    const __m512i even = _mm512_mul_epi32(x, m);
    const __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), m);
    // Even dword positions take the even products' high dwords (dword 1 and 3 of each 128-bit
    // lane: imm 0xF5), odd positions keep the odd products' high dwords.
    const __m512i hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, (_MM_PERM_ENUM)0xF5);
    return _mm512_sra_epi32(_mm512_add_epi32(hi, rnd), cnt);
}

// The same for 8 lanes, AVX2.
static inline __attribute__((target("avx2,fma"))) __m256i flotilla_q8_requant8_hi_avx2(__m256i x, __m256i m,
                                                                                       __m256i rnd, __m128i cnt) {
    const __m256i even = _mm256_mul_epi32(x, m);
    const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m);
    const __m256i hi = _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xF5), odd, 0xAA);
    return _mm256_sra_epi32(_mm256_add_epi32(hi, rnd), cnt);
}

// 8 lanes, AVX2; the output bytes in the low qword. AVX2 has no 64-bit arithmetic shift or
// min/max: the rounded product is biased by 2⁶² so a logical shift is exact
// ((p + 2ⁿ⁻¹ + 2⁶²) >> n = q + 2^(62−n), all non-negative), clamped with 64-bit compares in
// the biased domain, and the bias is removed together with the zero point in 32-bit arithmetic.
static inline __attribute__((target("avx2,fma"))) __m128i flotilla_q8_requant8_avx2(
    __m256i x, int32_t mult, int32_t shift, int32_t zp, int32_t qmin, int32_t qmax) {
    const int n = 31 + shift;
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    if (flotilla_q8_requant_hi_ok(shift)) {
        __m256i q = flotilla_q8_requant8_hi_avx2(x, _mm256_set1_epi32(mult), _mm256_set1_epi32(1 << (n - 33)),
                                                 _mm_cvtsi32_si128(n - 32));
        q = _mm256_add_epi32(q, _mm256_set1_epi32(zp));
        q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(qmin)), _mm256_set1_epi32(qmax));
        q = _mm256_shuffle_epi8(q, pick);
        q = _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
        return _mm256_castsi256_si128(q);
    }
    const int64_t bias = (int64_t)1 << (62 - n);
    const __m256i m = _mm256_set1_epi32(mult);
    const __m256i rnd = _mm256_set1_epi64x((int64_t)(((uint64_t)1 << (n - 1)) + ((uint64_t)1 << 62)));
    const __m128i cnt = _mm_cvtsi32_si128(n);
    const __m256i lo = _mm256_set1_epi64x(qmin - zp + bias), hi = _mm256_set1_epi64x(qmax - zp + bias);
    __m256i even = _mm256_mul_epi32(x, m);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m);
    even = _mm256_srl_epi64(_mm256_add_epi64(even, rnd), cnt);
    odd = _mm256_srl_epi64(_mm256_add_epi64(odd, rnd), cnt);
    even = _mm256_blendv_epi8(even, lo, _mm256_cmpgt_epi64(lo, even));
    even = _mm256_blendv_epi8(even, hi, _mm256_cmpgt_epi64(even, hi));
    odd = _mm256_blendv_epi8(odd, lo, _mm256_cmpgt_epi64(lo, odd));
    odd = _mm256_blendv_epi8(odd, hi, _mm256_cmpgt_epi64(odd, hi));
    __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    v = _mm256_add_epi32(v, _mm256_set1_epi32((int32_t)(uint32_t)((uint64_t)(int64_t)zp - (uint64_t)bias)));
    // Byte 0 of each dword to the front of its 128-bit lane, then the two lanes' dwords together.
    v = _mm256_shuffle_epi8(v, pick);
    v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    return _mm256_castsi256_si128(v);
}

// 16 lanes, AVX-512.
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m128i flotilla_q8_requant16_avx512(
    __m512i x, int32_t mult, int32_t shift, int32_t zp, int32_t qmin, int32_t qmax) {
    const int n = 31 + shift;
    const __m512i m = _mm512_set1_epi32(mult);
    if (flotilla_q8_requant_hi_ok(shift)) {
        __m512i q = flotilla_q8_requant16_hi_avx512(x, m, _mm512_set1_epi32(1 << (n - 33)), _mm_cvtsi32_si128(n - 32));
        q = _mm512_add_epi32(q, _mm512_set1_epi32(zp));
        q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(qmin)), _mm512_set1_epi32(qmax));
        return _mm512_cvtepi32_epi8(q);
    }
    const __m512i rnd = _mm512_set1_epi64((int64_t)1 << (n - 1));
    const __m128i cnt = _mm_cvtsi32_si128(n);
    const __m512i lo = _mm512_set1_epi64(qmin - zp), hi = _mm512_set1_epi64(qmax - zp);
    // VPMULDQ multiplies the sign-extended low dword of each qword: even lanes, then odd lanes.
    __m512i even = _mm512_mul_epi32(x, m);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), m);
    even = _mm512_sra_epi64(_mm512_add_epi64(even, rnd), cnt);
    odd = _mm512_sra_epi64(_mm512_add_epi64(odd, rnd), cnt);
    // Clamp before adding the zero point: clamp(z + q, qmin, qmax) = z + clamp(q, qmin−z, qmax−z).
    even = _mm512_min_epi64(_mm512_max_epi64(even, lo), hi);
    odd = _mm512_min_epi64(_mm512_max_epi64(odd, lo), hi);
    __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    v = _mm512_add_epi32(v, _mm512_set1_epi32(zp));
    return _mm512_cvtepi32_epi8(v);  // in range already: truncation keeps the byte
}

// 8 lanes with one (multiplier, n = 31 + shift) per lane, AVX2: the biased logical-shift method
// of flotilla_q8_requant8_avx2 with per-lane rounding constants, biases 2^(62 − n) and clamp
// bounds (variable shifts VPSLLVQ/VPSRLVQ); the output bytes in the low qword.
static inline __attribute__((target("avx2,fma"))) __m256i flotilla_q8_requant_lanes_half_avx2(
    __m256i p, __m256i n, int32_t zp, int32_t qmin, int32_t qmax) {
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i rnd = _mm256_add_epi64(_mm256_sllv_epi64(one, _mm256_sub_epi64(n, one)),
                                         _mm256_set1_epi64x((int64_t)1 << 62));
    const __m256i bias = _mm256_sllv_epi64(one, _mm256_sub_epi64(_mm256_set1_epi64x(62), n));
    __m256i q = _mm256_srlv_epi64(_mm256_add_epi64(p, rnd), n);
    const __m256i lo = _mm256_add_epi64(_mm256_set1_epi64x(qmin - zp), bias);
    const __m256i hi = _mm256_add_epi64(_mm256_set1_epi64x(qmax - zp), bias);
    q = _mm256_blendv_epi8(q, lo, _mm256_cmpgt_epi64(lo, q));
    q = _mm256_blendv_epi8(q, hi, _mm256_cmpgt_epi64(q, hi));
    return _mm256_add_epi64(q, _mm256_sub_epi64(_mm256_set1_epi64x(zp), bias));  // low dword exact
}

static inline __attribute__((target("avx2,fma"))) __m128i flotilla_q8_requant8_lanes_avx2(
    __m256i x, __m256i mult, __m256i n, int32_t zp, int32_t qmin, int32_t qmax) {
    const __m256i ne = _mm256_and_si256(n, _mm256_set1_epi64x(0xFFFFFFFF)), no = _mm256_srli_epi64(n, 32);
    const __m256i even = flotilla_q8_requant_lanes_half_avx2(_mm256_mul_epi32(x, mult), ne, zp, qmin, qmax);
    const __m256i odd = flotilla_q8_requant_lanes_half_avx2(
        _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)), no, zp, qmin, qmax);
    __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    v = _mm256_shuffle_epi8(v, pick);
    v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    return _mm256_castsi256_si128(v);
}

// 8 lanes with one (multiplier, n = 31 + shift) per lane, AVX-512VL: the row-vectorized GEMM
// tail, whose lanes are output rows (channels) rather than columns. Same arithmetic as above,
// with per-lane rounding constants (1 << (n − 1)) and variable 64-bit shifts.
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m128i flotilla_q8_requant8_lanes_avx512(
    __m256i x, __m256i mult, __m256i n, int32_t zp, int32_t qmin, int32_t qmax) {
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i ne = _mm256_and_si256(n, _mm256_set1_epi64x(0xFFFFFFFF)), no = _mm256_srli_epi64(n, 32);
    __m256i even = _mm256_mul_epi32(x, mult);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32));
    even = _mm256_srav_epi64(_mm256_add_epi64(even, _mm256_sllv_epi64(one, _mm256_sub_epi64(ne, one))), ne);
    odd = _mm256_srav_epi64(_mm256_add_epi64(odd, _mm256_sllv_epi64(one, _mm256_sub_epi64(no, one))), no);
    const __m256i lo = _mm256_set1_epi64x(qmin - zp), hi = _mm256_set1_epi64x(qmax - zp);
    even = _mm256_min_epi64(_mm256_max_epi64(even, lo), hi);
    odd = _mm256_min_epi64(_mm256_max_epi64(odd, lo), hi);
    __m256i v = _mm256_mask_blend_epi32(0xAA, even, _mm256_slli_epi64(odd, 32));
    v = _mm256_add_epi32(v, _mm256_set1_epi32(zp));
    return _mm256_cvtepi32_epi8(v);  // 8 bytes, in range already
}

// Requantizes a run of n accumulators into n bytes (vector body, scalar tail).
static inline __attribute__((target("avx2,fma"))) void flotilla_q8_requant_run_avx2(
    const int32_t *acc, size_t n, int32_t mult, int32_t shift, const flotilla_q8_requant *rq, uint8_t *out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(acc + i));
        _mm_storel_epi64((__m128i *)(void *)(out + i),
                         flotilla_q8_requant8_avx2(x, mult, shift, rq->zero_point, rq->qmin, rq->qmax));
    }
    for (; i < n; i++) {
        out[i] = (uint8_t)flotilla_q8_requant_scalar(acc[i], mult, shift, rq->zero_point, rq->qmin, rq->qmax);
    }
}

static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void flotilla_q8_requant_run_avx512(
    const int32_t *acc, size_t n, int32_t mult, int32_t shift, const flotilla_q8_requant *rq, uint8_t *out) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i x = _mm512_loadu_si512((const void *)(acc + i));
        _mm_storeu_si128((__m128i *)(void *)(out + i),
                         flotilla_q8_requant16_avx512(x, mult, shift, rq->zero_point, rq->qmin, rq->qmax));
    }
    for (; i < n; i++) {
        out[i] = (uint8_t)flotilla_q8_requant_scalar(acc[i], mult, shift, rq->zero_point, rq->qmin, rq->qmax);
    }
}

// 16 lanes with one (multiplier, n = 31 + shift) per lane, AVX-512: the channels-last depthwise,
// whose lanes are channels. The arithmetic of flotilla_q8_requant8_lanes_avx512 on a zmm, split
// into the per-lane constants (computed once per channel block) and the per-vector work.
typedef struct flotilla_q8_lanes16_avx512 {
    __m512i mult, mult_odd;    // multipliers; odd lanes' in the low dwords
    __m512i rnd_even, rnd_odd; // 2ⁿ⁻¹ per 64-bit lane
    __m512i n_even, n_odd;     // n per 64-bit lane
} flotilla_q8_lanes16_avx512;

static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) flotilla_q8_lanes16_avx512
flotilla_q8_lanes16_make_avx512(__m512i mult, __m512i n) {
    const __m512i one = _mm512_set1_epi64(1);
    flotilla_q8_lanes16_avx512 c;
    c.mult = mult;
    c.mult_odd = _mm512_srli_epi64(mult, 32);
    c.n_even = _mm512_and_si512(n, _mm512_set1_epi64(0xFFFFFFFF));
    c.n_odd = _mm512_srli_epi64(n, 32);
    c.rnd_even = _mm512_sllv_epi64(one, _mm512_sub_epi64(c.n_even, one));
    c.rnd_odd = _mm512_sllv_epi64(one, _mm512_sub_epi64(c.n_odd, one));
    return c;
}

// lo = qmin − zp, hi = qmax − zp (64-bit lanes), zp (32-bit lanes).
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m128i flotilla_q8_requant16_lanes_pre_avx512(
    __m512i x, const flotilla_q8_lanes16_avx512 *c, __m512i lo, __m512i hi, __m512i zp) {
    __m512i even = _mm512_mul_epi32(x, c->mult);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), c->mult_odd);
    even = _mm512_srav_epi64(_mm512_add_epi64(even, c->rnd_even), c->n_even);
    odd = _mm512_srav_epi64(_mm512_add_epi64(odd, c->rnd_odd), c->n_odd);
    // Clamp before adding the zero point: clamp(z + q, qmin, qmax) = z + clamp(q, qmin−z, qmax−z).
    even = _mm512_min_epi64(_mm512_max_epi64(even, lo), hi);
    odd = _mm512_min_epi64(_mm512_max_epi64(odd, lo), hi);
    const __m512i v = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(v, zp));  // 16 bytes, in range already
}

static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m128i flotilla_q8_requant16_lanes_avx512(
    __m512i x, __m512i mult, __m512i n, int32_t zp, int32_t qmin, int32_t qmax) {
    const flotilla_q8_lanes16_avx512 c = flotilla_q8_lanes16_make_avx512(mult, n);
    return flotilla_q8_requant16_lanes_pre_avx512(x, &c, _mm512_set1_epi64(qmin - zp), _mm512_set1_epi64(qmax - zp),
                                                  _mm512_set1_epi32(zp));
}

// The 32-bit form with one (multiplier, shift) per lane, for blocks whose every lane has
// shift ≥ 2 (the caller checks once per block of channels): the channels-last depthwise and the
// GEMM's row-vectorized tails, whose lanes are channels. m_odd = m >> 32 per qword (the odd
// lanes' multipliers where VPMULDQ reads them), rnd = 2ⁿ⁻³³ and cnt = n − 32 per lane
// (VPSRAVD). Same floor-of-a-floor argument as flotilla_q8_requant16_hi_avx512.
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m512i flotilla_q8_requant16_hi_lanes_avx512(
    __m512i x, __m512i m, __m512i m_odd, __m512i rnd, __m512i cnt) {
    const __m512i even = _mm512_mul_epi32(x, m);
    const __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), m_odd);
    const __m512i hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, (_MM_PERM_ENUM)0xF5);
    return _mm512_srav_epi32(_mm512_add_epi32(hi, rnd), cnt);
}

// The same for 8 lanes, AVX2.
static inline __attribute__((target("avx2,fma"))) __m256i flotilla_q8_requant8_hi_lanes_avx2(__m256i x, __m256i m,
                                                                                             __m256i m_odd, __m256i rnd,
                                                                                             __m256i cnt) {
    const __m256i even = _mm256_mul_epi32(x, m);
    const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
    const __m256i hi = _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xF5), odd, 0xAA);
    return _mm256_srav_epi32(_mm256_add_epi32(hi, rnd), cnt);
}
#endif

#endif
