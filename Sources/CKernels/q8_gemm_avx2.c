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

// Column tail of at most TAIL_MAX columns (N = 1, 3×3 planes, N mod 16 leftovers): the 4×16
// tile computes all 16 columns whatever is live; here the lanes are 8 output rows (two 4-row
// panels) and each live column costs one VPMADDUBSW+VPMADDWD (7-bit layout) or two VPMADDWD
// (widening layout) per quad and 8 rows. bt: the tail's quads, [k/4][tw][4], tw = round_up(nr, 4).
enum { TAIL_MAX = 12 };

// 7-bit layout: a panel's quad group is 4 rows × 4 k bytes; the two panels side by side make
// one ymm of 8 rows, against the broadcast activation quad. Lanes = rows m0 … m0 + 7. Named
// accumulators (an indexed array stayed in memory across the k loop).
static inline __attribute__((always_inline)) TARGET void tail_dot_maddubs(size_t k4, const int8_t *a0,
                                                                          const int8_t *a1, const uint8_t *q,
                                                                          size_t tw, size_t cols, __m256i acc[4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
    for (size_t g = 0; g < k4; g++) {
        const __m256i w = _mm256_loadu2_m128i((const __m128i *)(const void *)(a1 + g * 4 * MR),
                                              (const __m128i *)(const void *)(a0 + g * 4 * MR));
        int32_t x[4];
        memcpy(x, q, cols * sizeof x[0]);
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi32(x[0]), w), ones));
        if (cols > 1) c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi32(x[1]), w), ones));
        if (cols > 2) c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi32(x[2]), w), ones));
        if (cols > 3) c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi32(x[3]), w), ones));
        q += 4 * tw;
    }
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3;
}

// Widening layout: a panel's quad group is 4 rows × int16 (w0, w2, w1, w3); the activation quad
// as int16 (x0, x2, x1, x3) repeated makes each row's two dwords its two pair sums (added at the end).
static inline __attribute__((always_inline)) TARGET __m256i spread_quad(const uint8_t *q) {
    const __m128i spread = _mm_setr_epi8(0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1);
    int32_t x;
    memcpy(&x, q, sizeof x);
    return _mm256_broadcastsi128_si256(_mm_shuffle_epi8(_mm_cvtsi32_si128(x), spread));
}

static inline __attribute__((always_inline)) TARGET void tail_dot_widen(size_t k4, const int16_t *a0,
                                                                        const int16_t *a1, const uint8_t *q,
                                                                        size_t tw, size_t cols, __m256i acc[2][4]) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c02 = c00, c03 = c00;
    __m256i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (size_t g = 0; g < k4; g++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + g * 4 * MR));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + g * 4 * MR));
        const __m256i x0 = spread_quad(q);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, w0));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x0, w1));
        if (cols > 1) {
            const __m256i x1 = spread_quad(q + 4);
            c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x1, w0));
            c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, w1));
        }
        if (cols > 2) {
            const __m256i x2 = spread_quad(q + 8);
            c02 = _mm256_add_epi32(c02, _mm256_madd_epi16(x2, w0));
            c12 = _mm256_add_epi32(c12, _mm256_madd_epi16(x2, w1));
        }
        if (cols > 3) {
            const __m256i x3 = spread_quad(q + 12);
            c03 = _mm256_add_epi32(c03, _mm256_madd_epi16(x3, w0));
            c13 = _mm256_add_epi32(c13, _mm256_madd_epi16(x3, w1));
        }
        q += 4 * tw;
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[0][2] = c02, acc[0][3] = c03;
    acc[1][0] = c10, acc[1][1] = c11, acc[1][2] = c12, acc[1][3] = c13;
}

static TARGET void tail_rows(bool widen, size_t M, size_t k4, const int8_t *w, const uint8_t *bt, size_t nr,
                             const int32_t *acc_init, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    const size_t tw = flotilla_q8_round_up(nr, 4), panels = flotilla_q8_round_up(M, MR) / MR;
    const size_t panel_bytes = k4 * 4 * MR * (widen ? 2 : 1);
    for (size_t p = 0; p < panels; p += 2) {
        const size_t m0 = p * MR;
        const size_t rows = M - m0 < 2 * MR ? M - m0 : 2 * MR;
        // The odd last panel runs against itself; its second half is discarded.
        const int8_t *a0 = w + p * panel_bytes, *a1 = p + 1 < panels ? a0 + panel_bytes : a0;
        int32_t mult[2 * MR] = {0}, sh[2 * MR] = {0}, nsh[2 * MR], init[2 * MR] = {0};
        flotilla_q8_tile_requant(rq, m0, rows, mult, sh);
        for (size_t r = 0; r < 2 * MR; r++) {
            nsh[r] = 31 + sh[r];
            if (r < rows) init[r] = acc_init[m0 + r];
        }
        const __m256i mv = _mm256_loadu_si256((const __m256i *)(const void *)mult);
        const __m256i nv = _mm256_loadu_si256((const __m256i *)(const void *)nsh);
        const __m256i iv = _mm256_loadu_si256((const __m256i *)(const void *)init);
        for (size_t c0 = 0; c0 < nr; c0 += 4) {
            const size_t cols = nr - c0 < 4 ? nr - c0 : 4;
            const uint8_t *q = bt + c0 * 4;
            __m256i acc[4];
            if (widen) {
                __m256i pair[2][4];
                const int16_t *h0 = (const int16_t *)(const void *)a0, *h1 = (const int16_t *)(const void *)a1;
                // A constant column count per call, so N = 1 does a quarter of the work.
                switch (cols) {
                case 1: tail_dot_widen(k4, h0, h1, q, tw, 1, pair); break;
                case 2: tail_dot_widen(k4, h0, h1, q, tw, 2, pair); break;
                case 3: tail_dot_widen(k4, h0, h1, q, tw, 3, pair); break;
                default: tail_dot_widen(k4, h0, h1, q, tw, 4, pair); break;
                }
                // Per 128-bit lane: rows (0, 1) of panel 0, (0, 1) of panel 1 | rows (2, 3) of each.
                const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
#pragma GCC unroll 4
                for (size_t j = 0; j < 4; j++) {
                    acc[j] = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(pair[0][j], pair[1][j]), order);
                }
            } else {
                switch (cols) {
                case 1: tail_dot_maddubs(k4, a0, a1, q, tw, 1, acc); break;
                case 2: tail_dot_maddubs(k4, a0, a1, q, tw, 2, acc); break;
                case 3: tail_dot_maddubs(k4, a0, a1, q, tw, 3, acc); break;
                default: tail_dot_maddubs(k4, a0, a1, q, tw, 4, acc); break;
                }
            }
            // Requantize 4 columns × 8 rows, transpose to 8 rows × 4 bytes, one store per row.
            __m128i y[4];
#pragma GCC unroll 4
            for (size_t j = 0; j < 4; j++) {
                y[j] = flotilla_q8_requant8_lanes_avx2(_mm256_add_epi32(acc[j], iv), mv, nv, rq->zero_point,
                                                       rq->qmin, rq->qmax);
            }
            const __m128i t0 = _mm_unpacklo_epi8(y[0], y[1]), t2 = _mm_unpacklo_epi8(y[2], y[3]);
            uint8_t rowwise[8 * 4];
            _mm_storeu_si128((__m128i *)(void *)rowwise, _mm_unpacklo_epi16(t0, t2));
            _mm_storeu_si128((__m128i *)(void *)(rowwise + 16), _mm_unpackhi_epi16(t0, t2));
            uint8_t *cr = c + m0 * ldc + c0;
            if (cols == 4) {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, 4);
            } else {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, cols);
            }
        }
    }
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
    const uint8_t flip = h->x_type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    // Full-tile columns in 16-column panels; a tail of ≤ TAIL_MAX columns goes to tail_rows,
    // packed at its own width right after (the workspace holds round_up(N, 16) columns).
    const size_t tail = N % NR <= TAIL_MAX ? N % NR : 0, n_tiles = N - tail;
    uint8_t *bq = (uint8_t *)workspace;
    flotilla_q8_pack_b_quads(n_tiles, K, (const uint8_t *)B, ldb, NR, flip, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    int32_t mult[MR], shift[MR];
    for (size_t n0 = 0; n0 < n_tiles; n0 += NR) {
        const size_t nr = n_tiles - n0 < NR ? n_tiles - n0 : NR;
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
    if (tail > 0) {
        uint8_t *bt = bq + flotilla_q8_pack_b_quads_size(n_tiles, K, NR);
        flotilla_q8_pack_b_quads(tail, K, (const uint8_t *)B + n_tiles, ldb, flotilla_q8_round_up(tail, 4), flip, bt);
        tail_rows(widen, M, k4, w, bt, tail, acc_init, rq, (uint8_t *)C + n_tiles, ldc);
    }
    return FLOTILLA_Q8_OK;
}

#endif
