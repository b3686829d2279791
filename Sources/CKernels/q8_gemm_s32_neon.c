// ARM64 NEON (ARMv8.0) exact int32 GEMM (gemm_s32): 4×16 register tile, SMLAL by lane (int16 ×
// int16 → int32, widening; the accumulate wraps modulo 2³²). B is packed as int16 b − zb, 16
// columns per k; A repacked per call as int16 a − za, so each product (≤ 255²) is exact and no
// correction terms are needed.
#include "q8_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

enum { MR = 4, NR = 16, KG = 4 };  // A rows padded to 4 k: one 64-bit load per row and k group

size_t flotilla_q8_gemm_s32_pack_size__neon(size_t K, size_t N) {
    return flotilla_q8_s32_pack_size(K, N, NR, KG, sizeof(int16_t));
}

flotilla_q8_status flotilla_q8_gemm_s32_pack__neon(const flotilla_q8_gemm_s32_b_params *p, const void *B, size_t ldb,
                                                   void *packed) {
    flotilla_q8_status status;
    flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_pack_begin(p, packed, FLOTILLA_Q8_S32_LAYOUT_NEON, NR, KG, sizeof(int16_t), &status);
    if (h == NULL) return status;
    flotilla_q8_s32_pack_b_i16(p, (const uint8_t *)B, ldb, NR, 1, h->k_padded,
                               (int16_t *)(void *)((uint8_t *)packed + h->data_offset));
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_s32_workspace_size__neon(size_t M, size_t K) {
    return M * flotilla_q8_round_up(K, KG) * sizeof(int16_t);
}

// One k of the group: B's 16 columns (two int16x8) times lane j of each row's 4 values.
#define MLA_K(j)                                                                  \
    do {                                                                          \
        const int16x8_t bl = vld1q_s16(b + (j) * NR), bh = vld1q_s16(b + (j) * NR + 8); \
        for (size_t r = 0; r < ROWS; r++) {                                       \
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(bl), av[r], j);    \
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], bl, av[r], j);             \
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(bh), av[r], j);    \
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], bh, av[r], j);             \
        }                                                                         \
    } while (0)

static inline __attribute__((always_inline)) void tile(size_t kp, const int16_t *a, const int16_t *b, int32_t *y,
                                                       size_t ldy, size_t nr, const size_t ROWS) {
    int32x4_t acc[MR][4];
    for (size_t r = 0; r < MR; r++) {
        for (size_t j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
    }
    for (size_t k = 0; k < kp; k += 4) {
        int16x4_t av[MR];
        for (size_t r = 0; r < ROWS; r++) av[r] = vld1_s16(a + r * kp + k);
        MLA_K(0);
        MLA_K(1);
        MLA_K(2);
        MLA_K(3);
        b += 4 * NR;
    }
    for (size_t r = 0; r < ROWS; r++) {
        int32_t *yr = y + r * ldy;
        if (nr == NR) {
            for (size_t j = 0; j < 4; j++) vst1q_s32(yr + 4 * j, acc[r][j]);
        } else {
            int32_t tmp[NR];
            for (size_t j = 0; j < 4; j++) vst1q_s32(tmp + 4 * j, acc[r][j]);
            memcpy(yr, tmp, nr * sizeof(int32_t));
        }
    }
}

flotilla_q8_status flotilla_q8_gemm_s32_4x16__neon(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                              const flotilla_q8_gemm_s32_a_params *a, const void *packed, int32_t *Y,
                                              size_t ldy, void *workspace) {
    const flotilla_q8_s32_packed_header *h = flotilla_q8_s32_packed_check(packed, K, N, FLOTILLA_Q8_S32_LAYOUT_NEON);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const flotilla_q8_status s = flotilla_q8_s32_a_check(M, a);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t kp = h->k_padded;
    int16_t *ap = (int16_t *)workspace;
    flotilla_q8_s32_pack_a_i16(M, K, (const uint8_t *)A, lda, a, kp, ap);
    const int16_t *bp = (const int16_t *)(const void *)((const uint8_t *)packed + h->data_offset);
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const int16_t *panel = bp + (n0 / NR) * kp * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const int16_t *ar = ap + m0 * kp;
            int32_t *yt = Y + m0 * ldy + n0;
            switch (M - m0 < MR ? M - m0 : MR) {
            case 1: tile(kp, ar, panel, yt, ldy, nr, 1); break;
            case 2: tile(kp, ar, panel, yt, ldy, nr, 2); break;
            case 3: tile(kp, ar, panel, yt, ldy, nr, 3); break;
            default: tile(kp, ar, panel, yt, ldy, nr, 4); break;
            }
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
