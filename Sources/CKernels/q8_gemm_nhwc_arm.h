// Shared by the two ARM64 channels-last GEMMs (q8_gemm_nhwc_neon.c, q8_gemm_nhwc_neondot.c): the
// per-lane requantization of one pixel's 16 output channels and its store, and the tile shapes.
//
// In NHWC a vector lane is an output channel, so each lane has its own (multiplier, shift).
// Two exact forms of the contract's round_shift(acc·m, 31 + s):
// - 32-bit, when every lane of a 16-channel block has s ≥ 1 (real multiplier < 0.5, the usual
//   case): round_shift(acc·m, 31 + s) = round_shift(floor(acc·m / 2³¹), s), because the
//   rounding constant 2^(30+s) is a multiple of 2³¹ so the dropped low 31 bits can never carry
//   into the result. SQDMULH is that floor exactly (2·acc·m >> 32; it saturates only for
//   INT32_MIN · INT32_MIN, and m ≥ 0) and SRSHL by −s the single rounding shift (ties toward
//   +∞, computed without overflow). Not SQRDMULH: it would round twice.
// - 64-bit (q8_neon_requant.h, SMULL + SRSHL), any s in [-30, 31]: blocks with a lane s ≤ 0.
// The constants of a 16-channel block are built once per block and reused for every pixel.
#ifndef FLOTILLA_Q8_GEMM_NHWC_ARM_H
#define FLOTILLA_Q8_GEMM_NHWC_ARM_H

#if defined(__aarch64__)
#include "q8_neon_requant.h"

// Output channels per block (4 panels of the packs' 4 rows) and the most pixels per tile.
enum { NHWC_MB = 16, NHWC_PX_MAX = 8 };

// Accumulators are np panels × px pixels, np·px ≤ 16 (with the activations and a panel's
// weights this fills at most 28 of the 32 vector registers): 4 panels × 4 pixels for full
// channel blocks, and 8 pixels when a block (or the whole layer: M = 8) has 1 or 2 panels.
#define NHWC_PX_FOR(np) ((np) > 2 ? 4 : 8)

// Loops over panels and pixels are unrolled completely (their bounds are constants once the
// tile is inlined), so the accumulator array lives in registers: GCC at -O2 otherwise keeps
// it in memory, and Clang leaves the panel loop rolled.
#define NHWC_UNROLL _Pragma("GCC unroll 8")

typedef struct nhwc_rq16 {
    int32x4_t mult[4];
    int64x2_t neg_n[4][2];  // 64-bit form: −(31 + shift) of lanes 0–1, 2–3 of each accumulator
    int32x4_t neg_s[4];     // 32-bit form: −shift per lane
    int32x4_t lo, hi, zp;   // clamp bounds relative to the zero point, and the zero point
    bool q31;               // every lane takes the 32-bit form
} nhwc_rq16;

// The requant constants of channels [m0, m0 + count), count ≤ 16; lanes past count get
// multiplier 0 (their bytes are computed but never stored). A lane with multiplier 0 gives 0
// whatever its shift, so it takes shift 1 and never holds its block to the 64-bit form.
static inline void nhwc_rq16_init(const flotilla_q8_requant *rq, size_t m0, size_t count, nhwc_rq16 *r) {
    int32_t mult[NHWC_MB], neg_s[NHWC_MB];
    int64_t neg_n[NHWC_MB];
    r->q31 = true;
    for (size_t i = 0; i < NHWC_MB; i++) {
        const size_t m = rq->per_channel ? m0 + i : 0;
        mult[i] = i < count ? rq->multiplier[m] : 0;
        const int32_t s = mult[i] == 0 ? 1 : rq->shift[m];
        neg_n[i] = -(int64_t)(31 + s);
        neg_s[i] = -s;
        r->q31 = r->q31 && s >= 1;
    }
    for (size_t q = 0; q < 4; q++) {
        r->mult[q] = vld1q_s32(mult + 4 * q);
        r->neg_n[q][0] = vld1q_s64(neg_n + 4 * q);
        r->neg_n[q][1] = vld1q_s64(neg_n + 4 * q + 2);
        r->neg_s[q] = vld1q_s32(neg_s + 4 * q);
    }
    r->lo = vdupq_n_s32(rq->qmin - rq->zero_point);
    r->hi = vdupq_n_s32(rq->qmax - rq->zero_point);
    r->zp = vdupq_n_s32(rq->zero_point);
}

// The 32-bit form (every lane's shift ≥ 1): clamp(zp + round_shift(x·m, 31 + s)) per lane.
static inline int32x4_t nhwc_requant4_q31(int32x4_t x, int32x4_t mult, int32x4_t neg_s, int32x4_t lo, int32x4_t hi,
                                          int32x4_t zp) {
    const int32x4_t q = vrshlq_s32(vqdmulhq_s32(x, mult), neg_s);
    return vaddq_s32(vminq_s32(vmaxq_s32(q, lo), hi), zp);
}

// acc[0..np) (channels 4q … 4q + 3 of the block) → `count` bytes at dst. Accumulators past np
// are not read (their lanes are past count).
static inline void nhwc_store16(const int32x4_t *acc, size_t np, const nhwc_rq16 *r, uint8_t *dst, size_t count) {
    int32x4_t y[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    if (r->q31) {
        for (size_t q = 0; q < np; q++) y[q] = nhwc_requant4_q31(acc[q], r->mult[q], r->neg_s[q], r->lo, r->hi, r->zp);
    } else {
        for (size_t q = 0; q < np; q++) {
            y[q] = flotilla_q8_neon_requant4_lanes(acc[q], r->mult[q], r->neg_n[q][0], r->neg_n[q][1], r->lo, r->hi,
                                                   r->zp);
        }
    }
    // Values are inside the output type: narrowing keeps the low byte, the wanted bit pattern.
    const int16x8_t h0 = vcombine_s16(vmovn_s32(y[0]), vmovn_s32(y[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(y[2]), vmovn_s32(y[3]));
    const uint8x16_t bytes = vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    if (count == NHWC_MB) {
        vst1q_u8(dst, bytes);
    } else if (count == 8) {  // M = 8 layers: one d store, no memcpy call per pixel
        vst1_u8(dst, vget_low_u8(bytes));
    } else {
        uint8_t tmp[NHWC_MB];
        vst1q_u8(tmp, bytes);
        memcpy(dst, tmp, count);
    }
}

#endif
#endif
