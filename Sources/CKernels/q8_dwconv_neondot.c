// Optimized int8 depthwise convolution, ARM64 with the dot product: the shared body
// (q8_dwconv_body.h) with an SDOT tap kernel. Bytes are s8 here (u8 inputs XORed with 0x80 in the
// padded copy, z_eff = z_x − 128), weights s8: SDOT sums four s8 × s8 products into each int32
// lane exactly, so the accumulators equal the reference's.
#include "q8_internal.h"

#if defined(__aarch64__)
#if !defined(__clang__)
// GCC enables the dot-product intrinsics for this file only; the table selects this path only
// when HWCAP reports ASIMDDP.
#pragma GCC target("arch=armv8.2-a+dotprod")
#define DOT_TARGET
#else
#define DOT_TARGET __attribute__((target("dotprod")))
#endif
#include "q8_dwconv_body.h"
#include "q8_neon_requant.h"

// 16 outputs per block, four taps per SDOT: ZIP1/ZIP2 on bytes then on halfwords turn four tap
// runs into per-output quads in output order (NEON zips span the whole register). A short last
// group repeats tap 0's run with weight 0.
DOT_TARGET static void taps_neondot(const uint8_t *pp, const size_t *tap_off, size_t taps, const int8_t *w,
                                    int32_t init, size_t n, int32_t mult, int32_t shift,
                                    const flotilla_q8_requant *rq, uint8_t *flat) {
    const size_t groups = (taps + 3) / 4;
    size_t off[PADDED_TAPS];
    int8x16_t wq[PADDED_TAPS / 4];
    for (size_t q = 0; q < groups; q++) {
        uint32_t word = 0;
        for (size_t j = 0; j < 4; j++) {
            const size_t k = 4 * q + j;
            off[k] = k < taps ? tap_off[k] : tap_off[0];
            word |= (uint32_t)(uint8_t)(k < taps ? w[k] : 0) << (8 * j);
        }
        wq[q] = vreinterpretq_s8_u32(vdupq_n_u32(word));
    }
    for (size_t j = 0; j < n; j += 16) {
        int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (size_t q = 0; q < groups; q++) {
            const uint8_t *s = pp + j;
            const uint8x16_t a = vld1q_u8(s + off[4 * q]), b = vld1q_u8(s + off[4 * q + 1]);
            const uint8x16_t c = vld1q_u8(s + off[4 * q + 2]), d = vld1q_u8(s + off[4 * q + 3]);
            const uint16x8_t ab_lo = vreinterpretq_u16_u8(vzip1q_u8(a, b)), ab_hi = vreinterpretq_u16_u8(vzip2q_u8(a, b));
            const uint16x8_t cd_lo = vreinterpretq_u16_u8(vzip1q_u8(c, d)), cd_hi = vreinterpretq_u16_u8(vzip2q_u8(c, d));
            acc[0] = vdotq_s32(acc[0], vreinterpretq_s8_u16(vzip1q_u16(ab_lo, cd_lo)), wq[q]);
            acc[1] = vdotq_s32(acc[1], vreinterpretq_s8_u16(vzip2q_u16(ab_lo, cd_lo)), wq[q]);
            acc[2] = vdotq_s32(acc[2], vreinterpretq_s8_u16(vzip1q_u16(ab_hi, cd_hi)), wq[q]);
            acc[3] = vdotq_s32(acc[3], vreinterpretq_s8_u16(vzip2q_u16(ab_hi, cd_hi)), wq[q]);
        }
        flotilla_q8_neon_requant_row(acc, init, mult, shift, rq, flat + j, 16);
    }
}

DOT_TARGET void flotilla_q8_dwconv__neondot(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                            const void *input, void *output) {
    dwconv_body(g, p, input, output, requant_run_scalar, taps_neondot, true);
}
#endif
