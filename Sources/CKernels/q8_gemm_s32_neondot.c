// ARM64 NEON dot-product exact int32 GEMM (gemm_s32): 4×16 register tile, SDOT (s8 × s8, four
// products summed per int32 lane; the accumulate wraps modulo 2³²). B is packed as s8 4-k quads
// per column, A repacked per call as s8 rows. u8 operands become s8 by XOR 0x80 (value − 128,
// zero point − 128, x − z unchanged); the raw products are then corrected with
//   Σ (a' − za')(b' − zb') = Σ a'b' − zb'·Σa' − za'·(Σb' − K·zb'),
// exact modulo 2³² (q8_internal.h). UDOT would spare the flips only for u8 × u8, and the flip is
// free here: A is repacked per call anyway and B once, so one SDOT kernel serves every type pair.
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
#include <arm_neon.h>

enum { MR = 4, NR = 16, KG = 4 };

size_t flotilla_q8_gemm_s32_pack_size__neondot(size_t K, size_t N) {
    return flotilla_q8_s32_pack_size(K, N, NR, KG, 1);
}

flotilla_q8_status flotilla_q8_gemm_s32_pack__neondot(const flotilla_q8_gemm_s32_b_params *p, const void *B,
                                                      size_t ldb, void *packed) {
    flotilla_q8_status status;
    flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_pack_begin(p, packed, FLOTILLA_Q8_S32_LAYOUT_NEONDOT, NR, KG, 1, &status);
    if (h == NULL) return status;
    flotilla_q8_s32_pack_b_s8_quads(p, (const uint8_t *)B, ldb, h);
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_s32_workspace_size__neondot(size_t M, size_t K) {
    return flotilla_q8_round_up(M * flotilla_q8_round_up(K, KG), 64) + 2 * flotilla_q8_round_up(M * sizeof(int32_t), 64);
}

static inline __attribute__((always_inline)) DOT_TARGET void tile(size_t k4, size_t kp, const int8_t *a,
                                                                  const int8_t *b, const int32_t *row_sum,
                                                                  const int32_t *za, const int32_t *zb,
                                                                  const int32_t *terms, int32_t *y, size_t ldy,
                                                                  size_t nr, const size_t ROWS) {
    int32x4_t acc[MR][4];
    for (size_t r = 0; r < MR; r++) {
        for (size_t j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
    }
    for (size_t g = 0; g < k4; g++) {
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
        for (size_t r = 0; r < ROWS; r++) {
            int32_t quad;
            memcpy(&quad, a + r * kp + 4 * g, sizeof quad);
            const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(quad));
            acc[r][0] = vdotq_s32(acc[r][0], b0, av);
            acc[r][1] = vdotq_s32(acc[r][1], b1, av);
            acc[r][2] = vdotq_s32(acc[r][2], b2, av);
            acc[r][3] = vdotq_s32(acc[r][3], b3, av);
        }
        b += 4 * NR;
    }
    int32x4_t zbv[4], tv[4];
    for (size_t j = 0; j < 4; j++) zbv[j] = vld1q_s32(zb + 4 * j), tv[j] = vld1q_s32(terms + 4 * j);
    for (size_t r = 0; r < ROWS; r++) {
        const int32x4_t rs = vdupq_n_s32(row_sum[r]), zr = vdupq_n_s32(za[r]);
        int32_t tmp[NR];
        int32_t *yr = y + r * ldy, *dst = nr == NR ? yr : tmp;
        for (size_t j = 0; j < 4; j++) vst1q_s32(dst + 4 * j, vmlsq_s32(vmlsq_s32(acc[r][j], zbv[j], rs), tv[j], zr));
        if (nr != NR) memcpy(yr, tmp, nr * sizeof(int32_t));
    }
}

DOT_TARGET flotilla_q8_status flotilla_q8_gemm_s32_4x16__neondot(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                                            const flotilla_q8_gemm_s32_a_params *a,
                                                            const void *packed, int32_t *Y, size_t ldy,
                                                            void *workspace) {
    const flotilla_q8_s32_packed_header *h = flotilla_q8_s32_packed_check(packed, K, N, FLOTILLA_Q8_S32_LAYOUT_NEONDOT);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const flotilla_q8_status s = flotilla_q8_s32_a_check(M, a);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t kp = h->k_padded, k4 = kp / 4;
    uint8_t *ap = (uint8_t *)workspace;
    int32_t *row_sum = (int32_t *)(void *)(ap + flotilla_q8_round_up(M * kp, 64));
    int32_t *za = row_sum + flotilla_q8_round_up(M * sizeof(int32_t), 64) / sizeof(int32_t);
    flotilla_q8_s32_pack_a_bytes(M, K, (const uint8_t *)A, lda, a, true, kp, ap, row_sum, za);
    const uint8_t *base = (const uint8_t *)packed;
    const int8_t *bp = (const int8_t *)(base + h->data_offset);
    const int32_t *zb = (const int32_t *)(const void *)(base + h->zb_offset);
    const int32_t *terms = (const int32_t *)(const void *)(base + h->terms_offset);
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const int8_t *panel = bp + (n0 / NR) * kp * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const int8_t *ar = (const int8_t *)ap + m0 * kp;
            int32_t *yt = Y + m0 * ldy + n0;
            const int32_t *rs = row_sum + m0, *zr = za + m0, *zc = zb + n0, *tc = terms + n0;
            switch (M - m0 < MR ? M - m0 : MR) {
            case 1: tile(k4, kp, ar, panel, rs, zr, zc, tc, yt, ldy, nr, 1); break;
            case 2: tile(k4, kp, ar, panel, rs, zr, zc, tc, yt, ldy, nr, 2); break;
            case 3: tile(k4, kp, ar, panel, rs, zr, zc, tc, yt, ldy, nr, 3); break;
            default: tile(k4, kp, ar, panel, rs, zr, zc, tc, yt, ldy, nr, 4); break;
            }
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
