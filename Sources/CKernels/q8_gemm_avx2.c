// AVX2 int8 GEMM: 4×16 register tile (8 ymm int32 accumulators). Activations arrive as u8
// 4-k quads per column (s8 XORed with 0x80, the +128 folded into acc_init as for VNNI).
//
// VPMADDUBSW (u8 × s8 → int16 pair sums) SATURATES: 255·127·2 = 64770 > 32767. So it is used
// only when the pack step verified every |w| ≤ 63 (255·63·2 = 32130 fits; layout
// AVX2_MADDUBS). Otherwise the pack stores weights as int16 pairs and the kernel splits each
// quad into its even and odd bytes (zero-extended to int16) and uses VPMADDWD, whose int32 pair
// sums cannot overflow for these ranges (layout AVX2_WIDEN). Both are exact.
#include "q8_internal.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

enum { MR = 4, NR = 16 };

size_t flotilla_q8_gemm_pack_size__avx2(size_t M, size_t K) {
    const size_t mp = flotilla_q8_round_up(M, MR);
    // The widening layout needs 2 bytes per weight; the maddubs one uses half of that.
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(mp * sizeof(int32_t), 64) +
           mp * flotilla_q8_round_up(K, 4) * 2;
}

flotilla_q8_status flotilla_q8_gemm_pack_4x16__avx2(const flotilla_q8_gemm_pack_params *p,
                                                    const int8_t *W, size_t ldw, const int32_t *bias,
                                                    void *packed) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    bool small = true;  // every |w| ≤ 63: VPMADDUBSW cannot saturate
    for (size_t m = 0; m < p->M && small; m++) {
        for (size_t k = 0; k < p->K; k++) {
            if (W[m * ldw + k] > 63 || W[m * ldw + k] < -63) {
                small = false;
                break;
            }
        }
    }
    const uint32_t layout = small ? FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS : FLOTILLA_Q8_LAYOUT_AVX2_WIDEN;
    const size_t offset = flotilla_q8_write_header(packed, p, layout, MR, 4);
    const int32_t z_eff = p->x_type == FLOTILLA_Q8_S8 ? p->x_zero_point + 128 : p->x_zero_point;
    int32_t *acc_init = (int32_t *)((uint8_t *)packed + sizeof(flotilla_q8_packed_header));
    flotilla_q8_pack_acc_init(p, W, ldw, bias, z_eff, flotilla_q8_round_up(p->M, MR), acc_init);
    int8_t *out = (int8_t *)packed + offset;
    if (small) {
        flotilla_q8_pack_quads(p->M, p->K, W, ldw, MR, out);
        return FLOTILLA_Q8_OK;
    }
    // [panel][k/4][row] → int16 (w0, w2), (w1, w3): matches the even/odd byte split of a quad.
    int16_t *o = (int16_t *)(void *)out;
    const size_t k4 = flotilla_q8_round_up(p->K, 4) / 4, panels = flotilla_q8_round_up(p->M, MR) / MR;
    static const size_t order[4] = {0, 2, 1, 3};
    for (size_t pn = 0; pn < panels; pn++) {
        for (size_t g = 0; g < k4; g++) {
            for (size_t r = 0; r < MR; r++) {
                for (size_t j = 0; j < 4; j++) {
                    const size_t m = pn * MR + r, k = g * 4 + order[j];
                    *o++ = (int16_t)((m < p->M && k < p->K) ? W[m * ldw + k] : 0);
                }
            }
        }
    }
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_workspace_size__avx2(size_t N, size_t K) {
    return flotilla_q8_pack_b_quads_size(N, K, NR);
}

static inline TARGET void store8(uint8_t *dst, __m128i bytes, size_t count) {
    if (count >= 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, bytes);
        return;
    }
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)(void *)tmp, bytes);
    memcpy(dst, tmp, count);
}

static inline TARGET void epilogue(__m256i acc[MR][2], const int32_t *acc_init, const int32_t *mult,
                                   const int32_t *shift, const flotilla_q8_requant *rq, uint8_t *c,
                                   size_t ldc, size_t rows, size_t nr) {
    for (size_t r = 0; r < rows; r++) {
        const __m256i init = _mm256_set1_epi32(acc_init[r]);
        uint8_t *cr = c + r * ldc;
        store8(cr, flotilla_q8_requant8_avx2(_mm256_add_epi32(acc[r][0], init), mult[r], shift[r], rq->zero_point, rq->qmin, rq->qmax), nr);
        if (nr > 8) {
            store8(cr + 8, flotilla_q8_requant8_avx2(_mm256_add_epi32(acc[r][1], init), mult[r], shift[r], rq->zero_point, rq->qmin, rq->qmax), nr - 8);
        }
    }
}

// Widening tile: per quad, even bytes (k0, k2) and odd bytes (k1, k3) as int16 against the
// weight pairs (w0, w2) and (w1, w3): two VPMADDWD give the quad's four products summed.
static TARGET void tile_widen(size_t k4, const int16_t *a, const uint8_t *b, const int32_t *acc_init,
                              const int32_t *mult, const int32_t *shift, const flotilla_q8_requant *rq,
                              uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    __m256i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const __m256i low_bytes = _mm256_set1_epi16(0x00FF);
    for (size_t g = 0; g < k4; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32));
        const __m256i e0 = _mm256_and_si256(b0, low_bytes), o0 = _mm256_srli_epi16(b0, 8);
        const __m256i e1 = _mm256_and_si256(b1, low_bytes), o1 = _mm256_srli_epi16(b1, 8);
#pragma GCC unroll 4
        for (size_t r = 0; r < MR; r++) {
            int32_t we, wo;
            memcpy(&we, a + 4 * r, sizeof we);
            memcpy(&wo, a + 4 * r + 2, sizeof wo);
            const __m256i ae = _mm256_set1_epi32(we), ao = _mm256_set1_epi32(wo);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_add_epi32(_mm256_madd_epi16(e0, ae), _mm256_madd_epi16(o0, ao)));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_add_epi32(_mm256_madd_epi16(e1, ae), _mm256_madd_epi16(o1, ao)));
        }
        a += 4 * MR;
        b += 4 * NR;
    }
    epilogue(acc, acc_init, mult, shift, rq, c, ldc, rows, nr);
}

// 7-bit tile: VPMADDUBSW (exact since |w| ≤ 63) then VPMADDWD by 1 to int32.
static TARGET void tile_maddubs(size_t k4, const int8_t *a, const uint8_t *b, const int32_t *acc_init,
                                const int32_t *mult, const int32_t *shift, const flotilla_q8_requant *rq,
                                uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    __m256i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t g = 0; g < k4; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32));
#pragma GCC unroll 4
        for (size_t r = 0; r < MR; r++) {
            int32_t w;
            memcpy(&w, a + 4 * r, sizeof w);
            const __m256i av = _mm256_set1_epi32(w);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(b0, av), ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(b1, av), ones));
        }
        a += 4 * MR;
        b += 4 * NR;
    }
    epilogue(acc, acc_init, mult, shift, rq, c, ldc, rows, nr);
}

TARGET flotilla_q8_status flotilla_q8_gemm_4x16__avx2(size_t M, size_t N, size_t K, const void *packed,
                                                      const void *B, size_t ldb,
                                                      const flotilla_q8_requant *rq, void *C,
                                                      size_t ldc, void *workspace) {
    const flotilla_q8_packed_header *h = flotilla_q8_packed_check(
        packed, M, K, FLOTILLA_Q8_LAYOUT_AVX2_WIDEN, FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const bool widen = h->layout == FLOTILLA_Q8_LAYOUT_AVX2_WIDEN;
    const size_t k4 = h->k_padded / 4;
    uint8_t *bq = (uint8_t *)workspace;
    flotilla_q8_pack_b_quads(N, K, (const uint8_t *)B, ldb, NR, h->x_type == FLOTILLA_Q8_S8 ? 0x80 : 0, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    int32_t mult[MR], shift[MR];
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const uint8_t *bp = bq + (n0 / NR) * k4 * 4 * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const size_t rows = M - m0 < MR ? M - m0 : MR;
            flotilla_q8_tile_requant(rq, m0, rows, mult, shift);
            uint8_t *c = (uint8_t *)C + m0 * ldc + n0;
            const size_t panel = (m0 / MR) * k4 * 4 * MR;
            if (widen) {
                tile_widen(k4, (const int16_t *)(const void *)w + panel, bp, acc_init + m0, mult, shift, rq, c, ldc, rows, nr);
            } else {
                tile_maddubs(k4, w + panel, bp, acc_init + m0, mult, shift, rq, c, ldc, rows, nr);
            }
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
