// ARM64 NEON dot-product int8 GEMM: 4×16 tile, SDOT by lane (s8 × s8, four products summed per
// int32 lane, no saturation). Weights: 4 rows × 4 k per 16-byte vector; activations: 4-k quads
// per column in s8 (u8 XORed with 0x80 = −128, folded into acc_init: z_eff = z_x − 128).
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
#include "q8_neon_requant.h"

enum { MR = 4, NR = 16 };

size_t flotilla_q8_gemm_workspace_size__neondot(size_t N, size_t K) {
    return flotilla_q8_pack_b_quads_size(N, K, NR);
}

#define DOT_ROW(r)                                             \
    do {                                                       \
        acc[r][0] = vdotq_laneq_s32(acc[r][0], b0, a, r);      \
        acc[r][1] = vdotq_laneq_s32(acc[r][1], b1, a, r);      \
        acc[r][2] = vdotq_laneq_s32(acc[r][2], b2, a, r);      \
        acc[r][3] = vdotq_laneq_s32(acc[r][3], b3, a, r);      \
    } while (0)

static DOT_TARGET void tile(size_t k4, const int8_t *a_panel, const int8_t *b, const int32_t *acc_init,
                            const int32_t *mult, const int32_t *shift, const flotilla_q8_requant *rq,
                            uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    int32x4_t acc[MR][4];
    for (int r = 0; r < MR; r++) {
        for (int j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
    }
    for (size_t g = 0; g < k4; g++) {
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
        const int8x16_t a = vld1q_s8(a_panel);
        DOT_ROW(0);
        DOT_ROW(1);
        DOT_ROW(2);
        DOT_ROW(3);
        a_panel += 4 * MR;
        b += 4 * NR;
    }
    for (size_t r = 0; r < rows; r++) {
        flotilla_q8_neon_requant_row(acc[r], acc_init[r], mult[r], shift[r], rq, c + r * ldc, nr);
    }
}

DOT_TARGET flotilla_q8_status flotilla_q8_gemm_4x16__neondot(size_t M, size_t N, size_t K,
                                                             const void *packed, const void *B,
                                                             size_t ldb, const flotilla_q8_requant *rq,
                                                             void *C, size_t ldc, void *workspace) {
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_NEONDOT, FLOTILLA_Q8_LAYOUT_NEONDOT);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const size_t k4 = h->k_padded / 4;
    uint8_t *bq = (uint8_t *)workspace;
    flotilla_q8_pack_b_quads(N, K, (const uint8_t *)B, ldb, NR, h->x_type == FLOTILLA_Q8_U8 ? 0x80 : 0, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    int32_t mult[MR], shift[MR];
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const int8_t *bp = (const int8_t *)bq + (n0 / NR) * k4 * 4 * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const size_t rows = M - m0 < MR ? M - m0 : MR;
            flotilla_q8_tile_requant(rq, m0, rows, mult, shift);
            tile(k4, w + (m0 / MR) * k4 * 4 * MR, bp, acc_init + m0, mult, shift, rq,
                 (uint8_t *)C + m0 * ldc + n0, ldc, rows, nr);
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
