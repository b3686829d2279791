// ARM64 NEON (ARMv8.0) channels-last int8 GEMM (the 1×1 conv on NHWC activations):
// C[n][m] = requant(bias[m] + Σ_k (A[n][k] − z_x)·W[m][k]) from the NEON pack that gemm reads
// (q8_gemm_weight_pack.c: 4-row panels of int16 per k, acc_init = bias − z_eff·Σw with z_eff =
// z_x − 128 for u8). Lanes are output channels: one int16x4 of a panel holds 4 channels' weight
// at k, and SMLAL by lane multiplies it by one pixel's activation at k, widened to int16 from
// the pixel's own row of A (8 k per load, XOR 0x80 for u8). A is read where it lies: no per-call
// repack, no workspace.
#include "q8_internal.h"

#if defined(__aarch64__)
#include "q8_gemm_nhwc_arm.h"

enum { MR = 4 };

size_t flotilla_q8_gemm_nhwc_workspace_size__neon(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

// acc[p][j] += the 4 channels of panel p at k … k + 7 times pixel j's 8 activations (x[j]).
#define MLA_PAIR(w, lane_lo, lane_hi)                                                     \
    do {                                                                                  \
        NHWC_UNROLL for (size_t j = 0; j < px; j++) {                                     \
            acc[p][j] = vmlal_laneq_s16(acc[p][j], vget_low_s16(w), x[j], lane_lo);      \
            acc[p][j] = vmlal_high_laneq_s16(acc[p][j], w, x[j], lane_hi);               \
        }                                                                                 \
    } while (0)

// One tile: np panels (4·np channels) × px pixels (rows of A from `a`), both constants once
// inlined.
static inline __attribute__((always_inline)) void tile(size_t K, const int16_t *w, const int32_t *init,
                                                       const uint8_t *a, size_t lda, uint8_t flip,
                                                       const nhwc_rq16 *r, uint8_t *c, size_t ldc, size_t count,
                                                       const size_t np, const size_t px) {
    int32x4_t acc[4][NHWC_PX_MAX];
    NHWC_UNROLL
    for (size_t p = 0; p < np; p++) {
        const int32x4_t i = vld1q_s32(init + MR * p);
        NHWC_UNROLL
        for (size_t j = 0; j < px; j++) acc[p][j] = i;
    }
    const uint8_t *row[NHWC_PX_MAX];
    NHWC_UNROLL
    for (size_t j = 0; j < px; j++) row[j] = a + j * lda;
    const size_t panel = K * MR;  // int16 values per panel
    const uint8x8_t f = vdup_n_u8(flip);
    size_t k = 0;
    for (; k + 8 <= K; k += 8) {
        int16x8_t x[NHWC_PX_MAX];
        NHWC_UNROLL
        for (size_t j = 0; j < px; j++) x[j] = vmovl_s8(vreinterpret_s8_u8(veor_u8(vld1_u8(row[j] + k), f)));
        NHWC_UNROLL
        for (size_t p = 0; p < np; p++) {
            const int16_t *wp = w + p * panel + k * MR;
            const int16x8_t w01 = vld1q_s16(wp), w23 = vld1q_s16(wp + 8);
            const int16x8_t w45 = vld1q_s16(wp + 16), w67 = vld1q_s16(wp + 24);
            MLA_PAIR(w01, 0, 1);
            MLA_PAIR(w23, 2, 3);
            MLA_PAIR(w45, 4, 5);
            MLA_PAIR(w67, 6, 7);
        }
    }
    // K % 8 tail (and K < 8): one k at a time, each pixel's byte broadcast by SMLAL by scalar;
    // only bytes below K are read.
    for (; k < K; k++) {
        int16_t x[NHWC_PX_MAX];
        NHWC_UNROLL
        for (size_t j = 0; j < px; j++) x[j] = (int16_t)(int8_t)(row[j][k] ^ flip);
        NHWC_UNROLL
        for (size_t p = 0; p < np; p++) {
            const int16x4_t wk = vld1_s16(w + p * panel + k * MR);
            NHWC_UNROLL
            for (size_t j = 0; j < px; j++) acc[p][j] = vmlal_n_s16(acc[p][j], wk, x[j]);
        }
    }
    NHWC_UNROLL
    for (size_t j = 0; j < px; j++) {
        int32x4_t col[4];
        NHWC_UNROLL
        for (size_t p = 0; p < np; p++) col[p] = acc[p][j];
        nhwc_store16(col, np, r, c + j * ldc, count);
    }
}

// Every pixel tile of one channel block, for a constant (np, px).
static inline __attribute__((always_inline)) void block(size_t N, size_t K, const int16_t *w, const int32_t *init,
                                                        const uint8_t *A, size_t lda, uint8_t flip, const nhwc_rq16 *r,
                                                        uint8_t *C, size_t ldc, size_t count, const size_t np) {
    const size_t px = NHWC_PX_FOR(np);
    size_t n0 = 0;
    for (; n0 + px <= N; n0 += px) tile(K, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, px);
    // Leftover pixels without duplicated work: 4 at once after 8-pixel tiles, then one by one.
    if (px == 8 && n0 + 4 <= N) {
        tile(K, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, 4);
        n0 += 4;
    }
    for (; n0 < N; n0++) tile(K, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, 1);
}

flotilla_q8_status flotilla_q8_gemm_nhwc__neon(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                               size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                               void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_NEON, FLOTILLA_Q8_LAYOUT_NEON);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const uint8_t flip = h->x_type == FLOTILLA_Q8_U8 ? 0x80 : 0;
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int16_t *w = (const int16_t *)(const void *)flotilla_q8_packed_weights(packed);
    // Channel blocks outside, pixels inside: a block's weights (16·K int16) stay in L1 while A
    // streams past, and its requant constants are built once.
    for (size_t m0 = 0; m0 < M && N > 0; m0 += NHWC_MB) {
        const size_t count = M - m0 < NHWC_MB ? M - m0 : NHWC_MB;
        nhwc_rq16 r;
        nhwc_rq16_init(rq, m0, count, &r);
        const int16_t *wb = w + (m0 / MR) * K * MR;
        uint8_t *cb = (uint8_t *)C + m0;
        switch ((count + MR - 1) / MR) {
        case 4: block(N, K, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 4); break;
        case 3: block(N, K, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 3); break;
        case 2: block(N, K, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 2); break;
        default: block(N, K, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 1); break;
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
