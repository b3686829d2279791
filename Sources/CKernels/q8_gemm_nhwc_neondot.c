// ARM64 NEON dot-product channels-last int8 GEMM (the 1×1 conv on NHWC activations):
// C[n][m] = requant(bias[m] + Σ_k (A[n][k] − z_x)·W[m][k]) from the NEONDOT pack that gemm reads
// (q8_gemm_weight_pack.c: 4-row panels of 4-k quads, zero past K; acc_init = bias − z_eff·Σw
// with z_eff = z_x − 128 for u8). Lanes are output channels: one 16-byte weight vector is 4
// channels' quads at k … k + 3, and SDOT by lane multiplies it with the quad at k of one
// pixel. A pixel's row of A is already a run of quads, so 16 bytes loaded from it are the
// four quads that lanes 0–3 select: no per-call repack, no workspace (XOR 0x80 for u8).
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
#include "q8_gemm_nhwc_arm.h"

enum { MR = 4 };

size_t flotilla_q8_gemm_nhwc_workspace_size__neondot(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

// acc[p][j] += panel p's quad vector wq · pixel j's quad in lane `lane` of x[j].
#define DOT_Q(wq, lane)                                                                  \
    do {                                                                                 \
        NHWC_UNROLL for (size_t j = 0; j < px; j++) {                                    \
            acc[p][j] = vdotq_laneq_s32(acc[p][j], wq, x[j], lane);                      \
        }                                                                                \
    } while (0)
#define DOT_D(wq, lane)                                                                  \
    do {                                                                                 \
        NHWC_UNROLL for (size_t j = 0; j < px; j++) {                                    \
            acc[p][j] = vdotq_lane_s32(acc[p][j], wq, x[j], lane);                       \
        }                                                                                \
    } while (0)

// One tile: np panels (4·np channels) × px pixels (rows of A from `a`), both constants once
// inlined.
static inline __attribute__((always_inline)) DOT_TARGET void tile(size_t K, size_t k4, const int8_t *w,
                                                                  const int32_t *init, const uint8_t *a, size_t lda,
                                                                  uint8_t flip, const nhwc_rq16 *r, uint8_t *c,
                                                                  size_t ldc, size_t count, const size_t np,
                                                                  const size_t px) {
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
    const size_t panel = k4 * 4 * MR;  // bytes per panel
    size_t k = 0;
    {
        const uint8x16_t f = vdupq_n_u8(flip);
        for (; k + 16 <= K; k += 16) {
            int8x16_t x[NHWC_PX_MAX];
            NHWC_UNROLL
            for (size_t j = 0; j < px; j++) x[j] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(row[j] + k), f));
            NHWC_UNROLL
            for (size_t p = 0; p < np; p++) {
                const int8_t *wp = w + p * panel + k * MR;
                const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16), w2 = vld1q_s8(wp + 32),
                                w3 = vld1q_s8(wp + 48);
                DOT_Q(w0, 0);
                DOT_Q(w1, 1);
                DOT_Q(w2, 2);
                DOT_Q(w3, 3);
            }
        }
    }
    // K % 16 tail: 8 k, then 4, then the last partial quad (its weights past K are zero in the
    // pack; its activation bytes past K are not read but zero-filled).
    const uint8x8_t f = vdup_n_u8(flip);
    if (k + 8 <= K) {
        int8x8_t x[NHWC_PX_MAX];
        NHWC_UNROLL
        for (size_t j = 0; j < px; j++) x[j] = vreinterpret_s8_u8(veor_u8(vld1_u8(row[j] + k), f));
        NHWC_UNROLL
        for (size_t p = 0; p < np; p++) {
            const int8_t *wp = w + p * panel + k * MR;
            const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16);
            DOT_D(w0, 0);
            DOT_D(w1, 1);
        }
        k += 8;
    }
    if (k < K) {
        const size_t take = K - k < 4 ? K - k : 4;
        const bool more = K - k > 4;  // a partial quad follows a whole one
        int8x8_t x[NHWC_PX_MAX];
        NHWC_UNROLL
        for (size_t j = 0; j < px; j++) {
            uint32_t q0 = 0, q1 = 0;
            memcpy(&q0, row[j] + k, take);
            if (more) memcpy(&q1, row[j] + k + 4, K - k - 4);
            x[j] = vreinterpret_s8_u8(veor_u8(vreinterpret_u8_u32(vset_lane_u32(q1, vdup_n_u32(q0), 1)), f));
        }
        NHWC_UNROLL
        for (size_t p = 0; p < np; p++) {
            const int8_t *wp = w + p * panel + k * MR;
            const int8x16_t w0 = vld1q_s8(wp);
            DOT_D(w0, 0);
            if (more) {
                const int8x16_t w1 = vld1q_s8(wp + 16);
                DOT_D(w1, 1);
            }
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
static inline __attribute__((always_inline)) DOT_TARGET void block(size_t N, size_t K, size_t k4, const int8_t *w,
                                                                   const int32_t *init, const uint8_t *A, size_t lda,
                                                                   uint8_t flip, const nhwc_rq16 *r, uint8_t *C,
                                                                   size_t ldc, size_t count, const size_t np) {
    const size_t px = NHWC_PX_FOR(np);
    size_t n0 = 0;
    for (; n0 + px <= N; n0 += px) tile(K, k4, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, px);
    // Leftover pixels without duplicated work: 4 at once after 8-pixel tiles, then one by one.
    if (px == 8 && n0 + 4 <= N) {
        tile(K, k4, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, 4);
        n0 += 4;
    }
    for (; n0 < N; n0++) tile(K, k4, w, init, A + n0 * lda, lda, flip, r, C + n0 * ldc, ldc, count, np, 1);
}

DOT_TARGET flotilla_q8_status flotilla_q8_gemm_nhwc__neondot(size_t M, size_t N, size_t K, const void *packed,
                                                             const void *A, size_t lda, const flotilla_q8_requant *rq,
                                                             void *C, size_t ldc, void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_NEONDOT, FLOTILLA_Q8_LAYOUT_NEONDOT);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const uint8_t flip = h->x_type == FLOTILLA_Q8_U8 ? 0x80 : 0;
    const size_t k4 = h->k_padded / 4;
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    // Channel blocks outside, pixels inside: a block's weights (16·K bytes) stay in L1 while A
    // streams past, and its requant constants are built once.
    for (size_t m0 = 0; m0 < M && N > 0; m0 += NHWC_MB) {
        const size_t count = M - m0 < NHWC_MB ? M - m0 : NHWC_MB;
        nhwc_rq16 r;
        nhwc_rq16_init(rq, m0, count, &r);
        const int8_t *wb = w + (m0 / MR) * k4 * 4 * MR;
        uint8_t *cb = (uint8_t *)C + m0;
        switch ((count + MR - 1) / MR) {
        case 4: block(N, K, k4, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 4); break;
        case 3: block(N, K, k4, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 3); break;
        case 2: block(N, K, k4, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 2); break;
        default: block(N, K, k4, wb, acc_init + m0, A, lda, flip, &r, cb, ldc, count, 1); break;
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
