// ARM64 NEON (ARMv8.0) int8 GEMM: 4×16 tile of int32 accumulators (16 q registers), SMLAL by
// lane (int16 × int16 → int32, widening, no saturation). Activations are repacked per call into
// s8 rows of 16 columns (u8 XORed with 0x80 = −128, folded into acc_init: z_eff = z_x − 128),
// widened with SXTL; weights are stored as int16, 4 rows per k.
#include "q8_internal.h"

#if defined(__aarch64__)
#include "q8_neon_requant.h"

enum { MR = 4, NR = 16 };

size_t flotilla_q8_gemm_workspace_size__neon(size_t N, size_t K) {
    return flotilla_q8_round_up(N, NR) * K;
}

// B (K×N) → [panel][k][16] bytes, XOR flip, columns past N zero.
static void pack_b_rows(size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip, uint8_t *out) {
    const uint8x16_t f = vdupq_n_u8(flip);
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        for (size_t k = 0; k < K; k++, out += NR) {
            const uint8_t *s = B + k * ldb + n0;
            if (nr == NR) {
                vst1q_u8(out, veorq_u8(vld1q_u8(s), f));
            } else {
                for (size_t j = 0; j < NR; j++) out[j] = j < nr ? (uint8_t)(s[j] ^ flip) : 0;
            }
        }
    }
}

#define MLA_ROW(r)                                                   \
    do {                                                             \
        acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(bl), a, r); \
        acc[r][1] = vmlal_high_lane_s16(acc[r][1], bl, a, r);          \
        acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(bh), a, r); \
        acc[r][3] = vmlal_high_lane_s16(acc[r][3], bh, a, r);          \
    } while (0)

static void tile(size_t K, const int16_t *a_panel, const int8_t *b, const int32_t *acc_init,
                 const int32_t *mult, const int32_t *shift, const flotilla_q8_requant *rq, uint8_t *c,
                 size_t ldc, size_t rows, size_t nr) {
    int32x4_t acc[MR][4];
    for (int r = 0; r < MR; r++) {
        for (int j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);
    }
    for (size_t k = 0; k < K; k++) {
        const int8x16_t bv = vld1q_s8(b + k * NR);
        const int16x8_t bl = vmovl_s8(vget_low_s8(bv)), bh = vmovl_high_s8(bv);
        const int16x4_t a = vld1_s16(a_panel + k * MR);
        MLA_ROW(0);
        MLA_ROW(1);
        MLA_ROW(2);
        MLA_ROW(3);
    }
    for (size_t r = 0; r < rows; r++) {
        flotilla_q8_neon_requant_row(acc[r], acc_init[r], mult[r], shift[r], rq, c + r * ldc, nr);
    }
}

flotilla_q8_status flotilla_q8_gemm_4x16__neon(size_t M, size_t N, size_t K, const void *packed,
                                               const void *B, size_t ldb, const flotilla_q8_requant *rq,
                                               void *C, size_t ldc, void *workspace) {
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_NEON, FLOTILLA_Q8_LAYOUT_NEON);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    uint8_t *bp = (uint8_t *)workspace;
    pack_b_rows(N, K, (const uint8_t *)B, ldb, h->x_type == FLOTILLA_Q8_U8 ? 0x80 : 0, bp);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int16_t *w = (const int16_t *)(const void *)flotilla_q8_packed_weights(packed);
    int32_t mult[MR], shift[MR];
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const int8_t *b = (const int8_t *)bp + (n0 / NR) * K * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const size_t rows = M - m0 < MR ? M - m0 : MR;
            flotilla_q8_tile_requant(rq, m0, rows, mult, shift);
            tile(K, w + (m0 / MR) * K * MR, b, acc_init + m0, mult, shift, rq,
                 (uint8_t *)C + m0 * ldc + n0, ldc, rows, nr);
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
