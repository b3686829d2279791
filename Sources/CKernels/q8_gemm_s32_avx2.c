// AVX2 exact int32 GEMM (gemm_s32): 4×16 register tile, int16 widening + VPMADDWD. B is packed
// as int16 b − zb in k-pairs per column, A repacked per call as int16 a − za: one VPMADDWD lane
// is (a₀ − za)(b₀ − zb) + (a₁ − za)(b₁ − zb) ≤ 2·255² — exact, never the one saturating case
// (−32768)². VPMADDUBSW is not used: its int16 pair sums saturate (255·127·2 > 32767).
// Accumulators add modulo 2³², the wrap-around ONNX defines.
#include "q8_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

enum { MR = 4, NR = 16, KG = 4 };  // A rows padded to 4 k (pairs + the k-pair loop's bound)

size_t flotilla_q8_gemm_s32_pack_size__avx2(size_t K, size_t N) {
    return flotilla_q8_s32_pack_size(K, N, NR, KG, sizeof(int16_t));
}

flotilla_q8_status flotilla_q8_gemm_s32_pack__avx2(const flotilla_q8_gemm_s32_b_params *p, const void *B, size_t ldb,
                                                   void *packed) {
    flotilla_q8_status status;
    flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_pack_begin(p, packed, FLOTILLA_Q8_S32_LAYOUT_AVX2, NR, KG, sizeof(int16_t), &status);
    if (h == NULL) return status;
    // [panel][k/2][16 columns][2]: the k-pair of a column is one int32 lane of VPMADDWD.
    flotilla_q8_s32_pack_b_i16(p, (const uint8_t *)B, ldb, NR, 2, h->k_padded, (int16_t *)(void *)((uint8_t *)packed + h->data_offset));
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_s32_workspace_size__avx2(size_t M, size_t K) {
    return M * flotilla_q8_round_up(K, KG) * sizeof(int16_t);
}

// Rows [0, ROWS) of A' (stride kp int16) against one 16-column panel; ROWS is a constant after
// inlining, so an M = 1 product runs one row's work, not four.
static inline __attribute__((always_inline)) TARGET void tile(size_t kp, const int16_t *a, const int16_t *b,
                                                              int32_t *y, size_t ldy, size_t nr, const size_t ROWS) {
    __m256i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (size_t k = 0; k < kp; k += 2) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 16));
#pragma GCC unroll 4
        for (size_t r = 0; r < ROWS; r++) {
            int32_t pair;
            memcpy(&pair, a + r * kp + k, sizeof pair);
            const __m256i av = _mm256_set1_epi32(pair);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b0, av));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b1, av));
        }
        b += 2 * NR;
    }
#pragma GCC unroll 4
    for (size_t r = 0; r < ROWS; r++) {
        int32_t *yr = y + r * ldy;
        if (nr == NR) {
            _mm256_storeu_si256((__m256i *)(void *)yr, acc[r][0]);
            _mm256_storeu_si256((__m256i *)(void *)(yr + 8), acc[r][1]);
        } else {
            int32_t tmp[NR];
            _mm256_storeu_si256((__m256i *)(void *)tmp, acc[r][0]);
            _mm256_storeu_si256((__m256i *)(void *)(tmp + 8), acc[r][1]);
            memcpy(yr, tmp, nr * sizeof(int32_t));
        }
    }
}

TARGET flotilla_q8_status flotilla_q8_gemm_s32_4x16__avx2(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                                     const flotilla_q8_gemm_s32_a_params *a, const void *packed,
                                                     int32_t *Y, size_t ldy, void *workspace) {
    const flotilla_q8_s32_packed_header *h = flotilla_q8_s32_packed_check(packed, K, N, FLOTILLA_Q8_S32_LAYOUT_AVX2);
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
