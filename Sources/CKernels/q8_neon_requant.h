// Shared by the two ARM64 GEMM paths: requantization of a row of 16 int32 lanes and the store
// of its 16 bytes. SRSHL by −n is exactly the contract's rounding: (p + 2ⁿ⁻¹) >> n, computed
// without intermediate overflow. SQXTN saturates q to int32 before the clamp; every clamp bound
// lies inside int32, so saturating first cannot change the clamped result.
#ifndef FLOTILLA_Q8_NEON_REQUANT_H
#define FLOTILLA_Q8_NEON_REQUANT_H

#if defined(__aarch64__)
#include <arm_neon.h>

#include "q8_internal.h"

static inline int32x4_t flotilla_q8_neon_requant4(int32x4_t x, int32_t mult, int64x2_t neg_n,
                                                  int32x4_t lo, int32x4_t hi, int32x4_t zp) {
    const int32x2_t m = vdup_n_s32(mult);
    const int64x2_t p0 = vrshlq_s64(vmull_s32(vget_low_s32(x), m), neg_n);
    const int64x2_t p1 = vrshlq_s64(vmull_high_s32(x, vdupq_n_s32(mult)), neg_n);
    const int32x4_t q = vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1));
    return vaddq_s32(vminq_s32(vmaxq_s32(q, lo), hi), zp);
}

// acc[0..3] (+ acc_init) → 16 bytes of row r, `count` of them stored.
static inline void flotilla_q8_neon_requant_row(const int32x4_t acc[4], int32_t init, int32_t mult,
                                                int32_t shift, const flotilla_q8_requant *rq,
                                                uint8_t *dst, size_t count) {
    const int64x2_t neg_n = vdupq_n_s64(-(int64_t)(31 + shift));
    const int32x4_t lo = vdupq_n_s32(rq->qmin - rq->zero_point), hi = vdupq_n_s32(rq->qmax - rq->zero_point);
    const int32x4_t zp = vdupq_n_s32(rq->zero_point), vi = vdupq_n_s32(init);
    int32x4_t y[4];
    for (int j = 0; j < 4; j++) y[j] = flotilla_q8_neon_requant4(vaddq_s32(acc[j], vi), mult, neg_n, lo, hi, zp);
    // Values are inside the output type: narrowing keeps the low byte, the wanted bit pattern.
    const int16x8_t h0 = vcombine_s16(vmovn_s32(y[0]), vmovn_s32(y[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(y[2]), vmovn_s32(y[3]));
    const uint8x16_t bytes = vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    if (count >= 16) {
        vst1q_u8(dst, bytes);
    } else {
        uint8_t tmp[16];
        vst1q_u8(tmp, bytes);
        memcpy(dst, tmp, count);
    }
}

// Four lanes with one (multiplier, shift) per lane: the channels-last depthwise, whose lanes are
// channels. neg_n_lo / neg_n_hi: −(31 + shift) of lanes 0–1 / 2–3.
static inline int32x4_t flotilla_q8_neon_requant4_lanes(int32x4_t x, int32x4_t mult, int64x2_t neg_n_lo,
                                                        int64x2_t neg_n_hi, int32x4_t lo, int32x4_t hi,
                                                        int32x4_t zp) {
    const int64x2_t p0 = vrshlq_s64(vmull_s32(vget_low_s32(x), vget_low_s32(mult)), neg_n_lo);
    const int64x2_t p1 = vrshlq_s64(vmull_high_s32(x, mult), neg_n_hi);
    const int32x4_t q = vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1));
    return vaddq_s32(vminq_s32(vmaxq_s32(q, lo), hi), zp);
}

// acc[0..3] (channels 0–15, per-lane multipliers and −(31 + shift) pairs) → 16 bytes at dst.
static inline void flotilla_q8_neon_requant_lanes_row(const int32x4_t acc[4], const int32x4_t mult[4],
                                                      const int64x2_t neg_n[4][2], const flotilla_q8_requant *rq,
                                                      uint8_t *dst) {
    const int32x4_t lo = vdupq_n_s32(rq->qmin - rq->zero_point), hi = vdupq_n_s32(rq->qmax - rq->zero_point);
    const int32x4_t zp = vdupq_n_s32(rq->zero_point);
    int32x4_t y[4];
    for (int q = 0; q < 4; q++) {
        y[q] = flotilla_q8_neon_requant4_lanes(acc[q], mult[q], neg_n[q][0], neg_n[q][1], lo, hi, zp);
    }
    // Values are inside the output type: narrowing keeps the low byte, the wanted bit pattern.
    const int16x8_t h0 = vcombine_s16(vmovn_s32(y[0]), vmovn_s32(y[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(y[2]), vmovn_s32(y[3]));
    vst1q_u8(dst, vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h0), vmovn_s16(h1))));
}

#endif
#endif
