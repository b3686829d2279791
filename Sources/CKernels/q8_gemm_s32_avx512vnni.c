// AVX-512 VNNI exact int32 GEMM (gemm_s32): 4×32 register tile, VPDPBUSD (u8 × s8, four
// products summed per int32 lane, no saturation, the add wraps modulo 2³²).
//
// VPDPBUSD's operands are u8 (A, broadcast) and s8 (B, one 4-k quad per column). Other
// signedness combinations are moved there exactly by XOR 0x80, which adds 128 to an s8 value
// (A: s8 → u8) or subtracts 128 from a u8 one (B: u8 → s8) and moves the zero point by the same
// amount, so each (x − z) is unchanged. The raw products are then corrected with
//   Σ (a' − za')(b' − zb') = Σ a'b' − zb'·Σa' − za'·(Σb' − K·zb'),
// a ring identity, hence exact modulo 2³² like every step here (see q8_internal.h).
#include "q8_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

enum { MR = 4, NR = 32, KG = 4 };

size_t flotilla_q8_gemm_s32_pack_size__avx512vnni(size_t K, size_t N) {
    return flotilla_q8_s32_pack_size(K, N, NR, KG, 1);
}

flotilla_q8_status flotilla_q8_gemm_s32_pack__avx512vnni(const flotilla_q8_gemm_s32_b_params *p, const void *B,
                                                         size_t ldb, void *packed) {
    flotilla_q8_status status;
    flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_pack_begin(p, packed, FLOTILLA_Q8_S32_LAYOUT_AVX512VNNI, NR, KG, 1, &status);
    if (h == NULL) return status;
    flotilla_q8_s32_pack_b_s8_quads(p, (const uint8_t *)B, ldb, h);
    return FLOTILLA_Q8_OK;
}

// A' (u8, [M][kp]) then Σa' and za' per row, 64-byte aligned parts.
size_t flotilla_q8_gemm_s32_workspace_size__avx512vnni(size_t M, size_t K) {
    return flotilla_q8_round_up(M * flotilla_q8_round_up(K, KG), 64) + 2 * flotilla_q8_round_up(M * sizeof(int32_t), 64);
}

static inline __attribute__((always_inline)) TARGET void tile(size_t k4, size_t kp, const uint8_t *a, const int8_t *b,
                                                              const int32_t *row_sum, const int32_t *za,
                                                              const int32_t *zb, const int32_t *terms, int32_t *y,
                                                              size_t ldy, size_t nr, const size_t ROWS) {
    __m512i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    for (size_t g = 0; g < k4; g++) {
        const __m512i b0 = _mm512_loadu_si512((const void *)b);
        const __m512i b1 = _mm512_loadu_si512((const void *)(b + 64));
#pragma GCC unroll 4
        for (size_t r = 0; r < ROWS; r++) {
            int32_t quad;
            memcpy(&quad, a + r * kp + 4 * g, sizeof quad);
            const __m512i av = _mm512_set1_epi32(quad);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, b1);
        }
        b += 4 * NR;
    }
    const __m512i zb0 = _mm512_loadu_si512((const void *)zb), zb1 = _mm512_loadu_si512((const void *)(zb + 16));
    const __m512i t0 = _mm512_loadu_si512((const void *)terms), t1 = _mm512_loadu_si512((const void *)(terms + 16));
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1u) : 0;
#pragma GCC unroll 4
    for (size_t r = 0; r < ROWS; r++) {
        const __m512i rs = _mm512_set1_epi32(row_sum[r]), zr = _mm512_set1_epi32(za[r]);
        const __m512i y0 = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][0], _mm512_mullo_epi32(zb0, rs)), _mm512_mullo_epi32(t0, zr));
        const __m512i y1 = _mm512_sub_epi32(_mm512_sub_epi32(acc[r][1], _mm512_mullo_epi32(zb1, rs)), _mm512_mullo_epi32(t1, zr));
        _mm512_mask_storeu_epi32(y + r * ldy, m0, y0);
        if (m1 != 0) _mm512_mask_storeu_epi32(y + r * ldy + 16, m1, y1);
    }
}

TARGET flotilla_q8_status flotilla_q8_gemm_s32_4x32__avx512vnni(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                                           const flotilla_q8_gemm_s32_a_params *a, const void *packed,
                                                           int32_t *Y, size_t ldy, void *workspace) {
    const flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_packed_check(packed, K, N, FLOTILLA_Q8_S32_LAYOUT_AVX512VNNI);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const flotilla_q8_status s = flotilla_q8_s32_a_check(M, a);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t kp = h->k_padded, k4 = kp / 4;
    uint8_t *ap = (uint8_t *)workspace;
    int32_t *row_sum = (int32_t *)(void *)(ap + flotilla_q8_round_up(M * kp, 64));
    int32_t *za = row_sum + flotilla_q8_round_up(M * sizeof(int32_t), 64) / sizeof(int32_t);
    flotilla_q8_s32_pack_a_bytes(M, K, (const uint8_t *)A, lda, a, false, kp, ap, row_sum, za);
    const uint8_t *base = (const uint8_t *)packed;
    const int8_t *bp = (const int8_t *)(base + h->data_offset);
    const int32_t *zb = (const int32_t *)(const void *)(base + h->zb_offset);
    const int32_t *terms = (const int32_t *)(const void *)(base + h->terms_offset);
    for (size_t n0 = 0; n0 < N; n0 += NR) {
        const size_t nr = N - n0 < NR ? N - n0 : NR;
        const int8_t *panel = bp + (n0 / NR) * kp * NR;
        for (size_t m0 = 0; m0 < M; m0 += MR) {
            const uint8_t *ar = ap + m0 * kp;
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
