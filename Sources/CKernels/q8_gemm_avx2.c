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
// Column tails of at most TAIL_MAX columns take the row-vectorized paths (tail_rows, tail_widen).
enum { TAIL_MAX = 12 };

// The widening layout's column tail also spreads its activations: 32 bytes per quad and column.
size_t flotilla_q8_gemm_workspace_size__avx2(size_t N, size_t K) {
    return flotilla_q8_pack_b_quads_size(N, K, NR) + 8 * TAIL_MAX * flotilla_q8_round_up(K, 4);
}

// Per-row epilogue constants, computed once per block of RB rows (not per tile), as in the
// avx512vnni path: multiplier, shift, and for the 32-bit form (q8_x86_requant.h) the rounding
// 2ⁿ⁻³³ and the shift n − 32 — with the output zero point folded into the rounding,
// ((h + (2z + 1)·2ⁿ⁻³³) >> (n − 32)) = ((h + 2ⁿ⁻³³) >> (n − 32)) + z exactly, when
// (2|z| + 1)·2ⁿ⁻³³ ≤ 2³⁰ keeps the sum inside int32 (h = p >> 32 lies in [−2³⁰, 2³⁰)).
// mode per 4-row tile: TILE_FOLD every row folded, TILE_HI every row shift ≥ 2, TILE_64 some row
// needs the 64-bit form (multipliers ≥ 1/4: rare; per row, out of line).
enum { RB = 64 };
enum { TILE_FOLD = 0, TILE_HI = 1, TILE_64 = 2 };
typedef struct row_block {
    int32_t mult[RB], shift[RB], rnd[RB], cnt[RB];
    uint8_t mode[RB / MR];
} row_block;

static void row_requants(const flotilla_q8_requant *rq, size_t m0, size_t rows, row_block *out) {
    const int32_t z = rq->zero_point, az21 = 2 * (z < 0 ? -z : z) + 1;
    for (size_t t = 0; t < rows; t += MR) {
        bool all_hi = true, all_fold = true;
        for (size_t r = t; r < t + MR && r < rows; r++) {
            const int32_t m = rq->per_channel ? rq->multiplier[m0 + r] : rq->multiplier[0];
            const int32_t sh = rq->per_channel ? rq->shift[m0 + r] : rq->shift[0];
            out->mult[r] = m, out->shift[r] = sh, out->rnd[r] = 0, out->cnt[r] = 0;
            if (!flotilla_q8_requant_hi_ok(sh)) {
                all_hi = all_fold = false;
                continue;
            }
            out->cnt[r] = sh - 1;  // n − 32
            if (((int32_t)1 << 30) >> (sh - 2) < az21) all_fold = false;
        }
        // The zero point is folded into a tile's rows only when it can be into all of them.
        for (size_t r = t; r < t + MR && r < rows; r++) {
            if (out->cnt[r] > 0) out->rnd[r] = (all_fold ? 2 * z + 1 : 1) * ((int32_t)1 << (out->cnt[r] - 1));
        }
        out->mode[t / MR] = (uint8_t)(all_fold ? TILE_FOLD : all_hi ? TILE_HI : TILE_64);
    }
    // The padding rows of a partial last tile are computed (two rows at a time) and discarded.
    for (size_t r = rows; r < flotilla_q8_round_up(rows, MR); r++) {
        out->mult[r] = out->shift[r] = out->rnd[r] = out->cnt[r] = 0;
    }
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

static inline __attribute__((always_inline)) TARGET void store16(uint8_t *dst, __m128i bytes, size_t count) {
    if (count >= 16) {
        _mm_storeu_si128((__m128i *)(void *)dst, bytes);
        return;
    }
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)(void *)tmp, bytes);
    memcpy(dst, tmp, count);
}

// A tile with a row whose shift needs the 64-bit form, from its accumulators in memory.
static __attribute__((noinline, cold)) TARGET void tile_store_64(const int32_t acc[MR][NR], const row_block *rb,
                                                                 size_t r0, const flotilla_q8_requant *rq,
                                                                 uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t m = rb->mult[r0 + r], sh = rb->shift[r0 + r];
        uint8_t *cr = c + r * ldc;
        store8(cr, flotilla_q8_requant8_avx2(_mm256_loadu_si256((const __m256i *)(const void *)acc[r]), m, sh,
                                             rq->zero_point, rq->qmin, rq->qmax), nr);
        if (nr > 8) {
            store8(cr + 8, flotilla_q8_requant8_avx2(_mm256_loadu_si256((const __m256i *)(const void *)(acc[r] + 8)),
                                                     m, sh, rq->zero_point, rq->qmin, rq->qmax), nr - 8);
        }
    }
}

// 32-bit rows, two at a time: the four 8-lane q saturate to int16 in two VPACKSSDW, the zero
// point (unless folded) is a saturating int16 add, one VPACKUSWB/VPACKSSWB makes both rows'
// bytes and the clamp runs on bytes (saturation cannot change a clamped result: |q| ≥ 2¹⁵ lies
// beyond every clamp bound ± zero point); one dword permute undoes the packs' lane interleave.
// With the type's whole range as the clamp, the saturating pack is the clamp.
static inline __attribute__((always_inline)) TARGET void tile_store_hi(const bool fold, __m256i acc[MR][2],
                                                                       const row_block *rb, size_t r0,
                                                                       const flotilla_q8_requant *rq, uint8_t *c,
                                                                       size_t ldc, size_t rows, size_t nr) {
    const __m256i zp16 = _mm256_set1_epi16((int16_t)rq->zero_point);
    const bool u8 = rq->type == FLOTILLA_Q8_U8;
    const bool clamp = rq->qmin > (u8 ? 0 : -128) || rq->qmax < (u8 ? 255 : 127);
    const __m256i lo8 = _mm256_set1_epi8((char)rq->qmin), hi8 = _mm256_set1_epi8((char)rq->qmax);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
#pragma GCC unroll 2
    for (size_t r = 0; r < MR; r += 2) {
        if (r >= rows) break;
        __m256i v[2];
#pragma GCC unroll 2
        for (size_t i = 0; i < 2; i++) {
            const __m256i m = _mm256_set1_epi32(rb->mult[r0 + r + i]);
            const __m256i rnd = _mm256_set1_epi32(rb->rnd[r0 + r + i]);
            const __m128i cnt = _mm_cvtsi32_si128(rb->cnt[r0 + r + i]);
            const __m256i q0 = flotilla_q8_requant8_hi_avx2(acc[r + i][0], m, rnd, cnt);
            const __m256i q1 = flotilla_q8_requant8_hi_avx2(acc[r + i][1], m, rnd, cnt);
            v[i] = _mm256_packs_epi32(q0, q1);
            if (!fold) v[i] = _mm256_adds_epi16(v[i], zp16);
        }
        __m256i b = u8 ? _mm256_packus_epi16(v[0], v[1]) : _mm256_packs_epi16(v[0], v[1]);
        if (clamp) {
            b = u8 ? _mm256_min_epu8(_mm256_max_epu8(b, lo8), hi8) : _mm256_min_epi8(_mm256_max_epi8(b, lo8), hi8);
        }
        b = _mm256_permutevar8x32_epi32(b, order);
        store16(c + r * ldc, _mm256_castsi256_si128(b), nr);
        if (r + 1 < rows) store16(c + (r + 1) * ldc, _mm256_extracti128_si256(b, 1), nr);
    }
}

// acc already holds acc_init. The tile's mode is one test; the 64-bit case goes out of line.
static inline __attribute__((always_inline)) TARGET void epilogue(__m256i acc[MR][2], const row_block *rb, size_t r0,
                                                                  const flotilla_q8_requant *rq, uint8_t *c,
                                                                  size_t ldc, size_t rows, size_t nr) {
    const int mode = rb->mode[r0 / MR];
    if (mode == TILE_FOLD) {
        tile_store_hi(true, acc, rb, r0, rq, c, ldc, rows, nr);
    } else if (mode == TILE_HI) {
        tile_store_hi(false, acc, rb, r0, rq, c, ldc, rows, nr);
    } else {
        int32_t buf[MR][NR];
#pragma GCC unroll 4
        for (size_t r = 0; r < MR; r++) {
            _mm256_storeu_si256((__m256i *)(void *)buf[r], acc[r][0]);
            _mm256_storeu_si256((__m256i *)(void *)(buf[r] + 8), acc[r][1]);
        }
        tile_store_64(buf, rb, r0, rq, c, ldc, rows, nr);
    }
}

// Widening tile: per quad, even bytes (k0, k2) and odd bytes (k1, k3) as int16 against the
// weight pairs (w0, w2) and (w1, w3): two VPMADDWD give the quad's four products summed.
static TARGET void tile_widen(size_t k4, const int16_t *a, const uint8_t *b, const int32_t *acc_init,
                              const row_block *rb, size_t r0, const flotilla_q8_requant *rq,
                              uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    __m256i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_set1_epi32(acc_init[r]);
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
    epilogue(acc, rb, r0, rq, c, ldc, rows, nr);
}

// 7-bit tile: VPMADDUBSW (exact since |w| ≤ 63) then VPMADDWD by 1 to int32.
static TARGET void tile_maddubs(size_t k4, const int8_t *a, const uint8_t *b, const int32_t *acc_init,
                                const row_block *rb, size_t r0, const flotilla_q8_requant *rq,
                                uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    __m256i acc[MR][2];
#pragma GCC unroll 4
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_set1_epi32(acc_init[r]);
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
    epilogue(acc, rb, r0, rq, c, ldc, rows, nr);
}

// Column tail of at most TAIL_MAX columns (N = 1, 3×3 planes, N mod 16 leftovers): the 4×16
// tile computes all 16 columns whatever is live; here the lanes are 8 output rows (two 4-row
// panels) and each live column costs one VPMADDUBSW+VPMADDWD per quad and 8 rows (7-bit layout;
// the widening layout's tail is tail_widen below). bt: the tail's quads, [k/4][tw][4],
// tw = round_up(nr, 4).

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
// as int16 (x0, x2, x1, x3) repeated makes each row's two dwords its two pair sums.
static inline __attribute__((always_inline)) TARGET __m256i spread_quad(const uint8_t *q) {
    const __m128i spread = _mm_setr_epi8(0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1);
    int32_t x;
    memcpy(&x, q, sizeof x);
    return _mm256_broadcastsi128_si256(_mm_shuffle_epi8(_mm_cvtsi32_si128(x), spread));
}

static TARGET void tail_rows(size_t M, size_t k4, const int8_t *w, const uint8_t *bt, size_t nr,
                             const int32_t *acc_init, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    const size_t tw = flotilla_q8_round_up(nr, 4), panels = flotilla_q8_round_up(M, MR) / MR;
    const size_t panel_bytes = k4 * 4 * MR;
    for (size_t p = 0; p < panels; p += 2) {
        const size_t m0 = p * MR;
        const size_t rows = M - m0 < 2 * MR ? M - m0 : 2 * MR;
        // The odd last panel runs against itself; its second half is discarded.
        const int8_t *a0 = w + p * panel_bytes, *a1 = p + 1 < panels ? a0 + panel_bytes : a0;
        int32_t mult[2 * MR] = {0}, sh[2 * MR] = {0}, nsh[2 * MR], init[2 * MR] = {0};
        int32_t rnd[2 * MR], cnt[2 * MR];
        flotilla_q8_tile_requant(rq, m0, rows, mult, sh);
        // Every live row's shift ≥ 2: the per-lane 32-bit form (dead lanes: multiplier 0).
        bool hi = true;
        for (size_t r = 0; r < 2 * MR; r++) {
            nsh[r] = 31 + sh[r];
            if (r < rows) init[r] = acc_init[m0 + r];
            if (r < rows && !flotilla_q8_requant_hi_ok(sh[r])) hi = false;
            cnt[r] = r < rows && sh[r] >= 2 ? sh[r] - 1 : 1;
            rnd[r] = (int32_t)1 << (cnt[r] - 1);
        }
        const __m256i mv = _mm256_loadu_si256((const __m256i *)(const void *)mult);
        const __m256i nv = _mm256_loadu_si256((const __m256i *)(const void *)nsh);
        const __m256i iv = _mm256_loadu_si256((const __m256i *)(const void *)init);
        const __m256i rv = _mm256_loadu_si256((const __m256i *)(const void *)rnd);
        const __m256i cv = _mm256_loadu_si256((const __m256i *)(const void *)cnt);
        const __m256i m_odd = _mm256_srli_epi64(mv, 32);
        const __m256i zp16 = _mm256_set1_epi16((int16_t)rq->zero_point);
        const bool u8 = rq->type == FLOTILLA_Q8_U8;
        const __m256i lo8 = _mm256_set1_epi8((char)rq->qmin), hi8 = _mm256_set1_epi8((char)rq->qmax);
        // Byte 4j + i of each 128-bit lane (column j, row 4L + i) to 4i + j: rows in order.
        const __m256i tr = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
        for (size_t c0 = 0; c0 < nr; c0 += 4) {
            const size_t cols = nr - c0 < 4 ? nr - c0 : 4;
            const uint8_t *q = bt + c0 * 4;
            __m256i acc[4];
            switch (cols) {
            case 1: tail_dot_maddubs(k4, a0, a1, q, tw, 1, acc); break;
            case 2: tail_dot_maddubs(k4, a0, a1, q, tw, 2, acc); break;
            case 3: tail_dot_maddubs(k4, a0, a1, q, tw, 3, acc); break;
            default: tail_dot_maddubs(k4, a0, a1, q, tw, 4, acc); break;
            }
            // Requantize 4 columns × 8 rows, transpose to 8 rows × 4 bytes, one store per row.
            uint8_t rowwise[8 * 4];
            if (hi) {
                // As tile_store_hi: int16 packs, zero point, byte pack and clamp, then the
                // in-lane transpose (packs keep rows 0–3 in lane 0, 4–7 in lane 1).
                __m256i q[4];
#pragma GCC unroll 4
                for (size_t j = 0; j < 4; j++) {
                    q[j] = flotilla_q8_requant8_hi_lanes_avx2(_mm256_add_epi32(acc[j], iv), mv, m_odd, rv, cv);
                }
                const __m256i v01 = _mm256_adds_epi16(_mm256_packs_epi32(q[0], q[1]), zp16);
                const __m256i v23 = _mm256_adds_epi16(_mm256_packs_epi32(q[2], q[3]), zp16);
                __m256i b = u8 ? _mm256_packus_epi16(v01, v23) : _mm256_packs_epi16(v01, v23);
                b = u8 ? _mm256_min_epu8(_mm256_max_epu8(b, lo8), hi8) : _mm256_min_epi8(_mm256_max_epi8(b, lo8), hi8);
                _mm256_storeu_si256((__m256i *)(void *)rowwise, _mm256_shuffle_epi8(b, tr));
            } else {
                __m128i y[4];
#pragma GCC unroll 4
                for (size_t j = 0; j < 4; j++) {
                    y[j] = flotilla_q8_requant8_lanes_avx2(_mm256_add_epi32(acc[j], iv), mv, nv, rq->zero_point,
                                                           rq->qmin, rq->qmax);
                }
                const __m128i t0 = _mm_unpacklo_epi8(y[0], y[1]), t2 = _mm_unpacklo_epi8(y[2], y[3]);
                _mm_storeu_si128((__m128i *)(void *)rowwise, _mm_unpacklo_epi16(t0, t2));
                _mm_storeu_si128((__m128i *)(void *)(rowwise + 16), _mm_unpackhi_epi16(t0, t2));
            }
            uint8_t *cr = c + m0 * ldc + c0;
            if (cols == 4) {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, 4);
            } else {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, cols);
            }
        }
    }
}

// Widening layout, one pass over the weights for every column of the tail (the 4-column passes
// above read a 1280×112 layer's int16 weights three times for N = 9, and spread each activation
// quad again for every panel pair). The tail's activations are spread once per call into xs:
// per quad group and column 32 bytes, the int16 (x0, x2, x1, x3) four times, so each panel's
// product is one VPMADDWD with a memory operand. Lanes: one 4-row panel, dwords (row r, pair p)
// at 2r + p; per column pair, VPHADDD makes [r0 c, r1 c, r0 c', r1 c' | r2 c, r3 c, r2 c', r3 c'].
static TARGET void spread_tail(size_t k4, const uint8_t *bt, size_t nr, uint8_t *xs) {
    const size_t tw = flotilla_q8_round_up(nr, 4);
    for (size_t g = 0; g < k4; g++) {
        for (size_t j = 0; j < nr; j++) {
            _mm256_storeu_si256((__m256i *)(void *)(xs + (g * nr + j) * 32), spread_quad(bt + g * 4 * tw + 4 * j));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void tail_panel_widen(const size_t C, size_t k4, const int16_t *a,
                                                                          const uint8_t *xs, size_t m0, size_t rows,
                                                                          const int32_t *acc_init,
                                                                          const flotilla_q8_requant *rq, uint8_t *c,
                                                                          size_t ldc) {
    __m256i acc[TAIL_MAX];
#pragma GCC unroll 12
    for (size_t j = 0; j < C; j++) acc[j] = _mm256_setzero_si256();
    for (size_t g = 0; g < k4; g++) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(a + g * 4 * MR));
#pragma GCC unroll 12
        for (size_t j = 0; j < C; j++) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(xs + j * 32));
            acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(w, x));
        }
        xs += C * 32;
    }
    // Per-lane constants in the (r0, r1, r0, r1 | r2, r3, r2, r3) order; dead rows multiplier 0.
    int32_t mult[MR] = {0}, sh[MR] = {0}, init[MR] = {0};
    flotilla_q8_tile_requant(rq, m0, rows, mult, sh);
    bool hi = true;
    for (size_t r = 0; r < rows; r++) {
        init[r] = acc_init[m0 + r];
        if (!flotilla_q8_requant_hi_ok(sh[r])) hi = false;
    }
    static const int32_t lane_row[8] = {0, 1, 0, 1, 2, 3, 2, 3};
    int32_t lm[8], ln[8], li[8], lr[8], lc[8];
    for (size_t l = 0; l < 8; l++) {
        const int32_t r = lane_row[l], s = (size_t)r < rows && sh[r] >= 2 ? sh[r] : 2;
        lm[l] = mult[r], ln[l] = 31 + sh[r], li[l] = init[r];
        lc[l] = s - 1, lr[l] = (int32_t)1 << (s - 2);
    }
    const __m256i mv = _mm256_loadu_si256((const __m256i *)(const void *)lm);
    const __m256i iv = _mm256_loadu_si256((const __m256i *)(const void *)li);
    uint8_t out[MR][TAIL_MAX + 4];
    if (hi) {
        const __m256i rv = _mm256_loadu_si256((const __m256i *)(const void *)lr);
        const __m256i cv = _mm256_loadu_si256((const __m256i *)(const void *)lc);
        const __m256i m_odd = _mm256_srli_epi64(mv, 32);
        const __m256i zp16 = _mm256_set1_epi16((int16_t)rq->zero_point);
        const bool u8 = rq->type == FLOTILLA_Q8_U8;
        const __m256i lo8 = _mm256_set1_epi8((char)rq->qmin), hi8 = _mm256_set1_epi8((char)rq->qmax);
        // Bytes (r0 c, r1 c) pairs per lane → row 2L's columns, then row 2L + 1's.
        const __m256i split = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
        __m256i q[TAIL_MAX / 2 + 2];
#pragma GCC unroll 6
        for (size_t j = 0; j < C; j += 2) {
            const __m256i h = _mm256_hadd_epi32(acc[j], j + 1 < C ? acc[j + 1] : _mm256_setzero_si256());
            q[j / 2] = flotilla_q8_requant8_hi_lanes_avx2(_mm256_add_epi32(h, iv), mv, m_odd, rv, cv);
        }
#pragma GCC unroll 2
        for (size_t j = (C + 1) / 2; j < TAIL_MAX / 2 + 2; j++) q[j] = _mm256_setzero_si256();
        // 8 columns per byte vector: lane L holds rows 2L, 2L + 1.
#pragma GCC unroll 2
        for (size_t b = 0; b < C; b += 8) {
            const __m256i v01 = _mm256_adds_epi16(_mm256_packs_epi32(q[b / 2], q[b / 2 + 1]), zp16);
            const __m256i v23 = _mm256_adds_epi16(_mm256_packs_epi32(q[b / 2 + 2], q[b / 2 + 3]), zp16);
            __m256i y = u8 ? _mm256_packus_epi16(v01, v23) : _mm256_packs_epi16(v01, v23);
            y = u8 ? _mm256_min_epu8(_mm256_max_epu8(y, lo8), hi8) : _mm256_min_epi8(_mm256_max_epi8(y, lo8), hi8);
            y = _mm256_shuffle_epi8(y, split);
            const __m128i y0 = _mm256_castsi256_si128(y), y1 = _mm256_extracti128_si256(y, 1);
            _mm_storel_epi64((__m128i *)(void *)(out[0] + b), y0);
            _mm_storel_epi64((__m128i *)(void *)(out[1] + b), _mm_unpackhi_epi64(y0, y0));
            _mm_storel_epi64((__m128i *)(void *)(out[2] + b), y1);
            _mm_storel_epi64((__m128i *)(void *)(out[3] + b), _mm_unpackhi_epi64(y1, y1));
        }
    } else {
        const __m256i nv = _mm256_loadu_si256((const __m256i *)(const void *)ln);
        for (size_t j = 0; j < C; j += 2) {
            const __m256i h = _mm256_hadd_epi32(acc[j], j + 1 < C ? acc[j + 1] : _mm256_setzero_si256());
            uint8_t y[16];
            _mm_storeu_si128((__m128i *)(void *)y, flotilla_q8_requant8_lanes_avx2(_mm256_add_epi32(h, iv), mv, nv,
                                                                                  rq->zero_point, rq->qmin, rq->qmax));
            for (size_t l = 0; l < 8; l++) out[lane_row[l]][j + ((l >> 1) & 1)] = y[l];
        }
    }
    for (size_t r = 0; r < rows; r++) memcpy(c + r * ldc, out[r], C);
}

static inline __attribute__((always_inline)) TARGET void tail_widen_panels(const size_t C, size_t M, size_t k4,
                                                                           const int16_t *w, const uint8_t *xs,
                                                                           const int32_t *acc_init,
                                                                           const flotilla_q8_requant *rq, uint8_t *c,
                                                                           size_t ldc) {
    for (size_t m0 = 0; m0 < M; m0 += MR) {
        const size_t rows = M - m0 < MR ? M - m0 : MR;
        tail_panel_widen(C, k4, w + (m0 / MR) * k4 * 4 * MR, xs, m0, rows, acc_init, rq, c + m0 * ldc, ldc);
    }
}

#define TAIL_WIDEN(n)                                                                                          \
    static __attribute__((noinline)) TARGET void tail_widen_##n(size_t M, size_t k4, const int16_t *w,       \
                                                                const uint8_t *xs, const int32_t *acc_init,    \
                                                                const flotilla_q8_requant *rq, uint8_t *c,     \
                                                                size_t ldc) {                                  \
        tail_widen_panels(n, M, k4, w, xs, acc_init, rq, c, ldc);                                              \
    }
TAIL_WIDEN(1)
TAIL_WIDEN(2)
TAIL_WIDEN(3)
TAIL_WIDEN(4)
TAIL_WIDEN(5)
TAIL_WIDEN(6)
TAIL_WIDEN(7)
TAIL_WIDEN(8)
TAIL_WIDEN(9)
TAIL_WIDEN(10)
TAIL_WIDEN(11)
TAIL_WIDEN(12)

static TARGET void tail_widen(size_t M, size_t k4, const int16_t *w, const uint8_t *bt, size_t nr, uint8_t *xs,
                              const int32_t *acc_init, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    typedef void (*tail_fn)(size_t, size_t, const int16_t *, const uint8_t *, const int32_t *,
                            const flotilla_q8_requant *, uint8_t *, size_t);
    static const tail_fn fns[TAIL_MAX] = {tail_widen_1, tail_widen_2, tail_widen_3,  tail_widen_4,
                                          tail_widen_5, tail_widen_6, tail_widen_7,  tail_widen_8,
                                          tail_widen_9, tail_widen_10, tail_widen_11, tail_widen_12};
    if (nr == 0 || nr > TAIL_MAX) return;
    spread_tail(k4, bt, nr, xs);
    fns[nr - 1](M, k4, w, xs, acc_init, rq, c, ldc);
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
    flotilla_q8_pack_b_quads_16__avx2(n_tiles, K, (const uint8_t *)B, ldb, flip, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    // Blocks of RB rows (their epilogue constants computed once), in each the N panels, in each
    // the block's weight panels.
    row_block rb;
    for (size_t mb = 0; n_tiles > 0 && mb < M; mb += RB) {
        const size_t mb_rows = M - mb < RB ? M - mb : RB;
        row_requants(rq, mb, mb_rows, &rb);
        for (size_t n0 = 0; n0 < n_tiles; n0 += NR) {
            const size_t nr = n_tiles - n0 < NR ? n_tiles - n0 : NR;
            const uint8_t *bp = bq + (n0 / NR) * k4 * 4 * NR;
            for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                const size_t rows = M - m0 < MR ? M - m0 : MR;
                uint8_t *c = (uint8_t *)C + m0 * ldc + n0;
                const size_t panel = (m0 / MR) * k4 * 4 * MR;
                if (widen) {
                    tile_widen(k4, (const int16_t *)(const void *)w + panel, bp, acc_init + m0, &rb, m0 - mb, rq, c,
                               ldc, rows, nr);
                } else {
                    tile_maddubs(k4, w + panel, bp, acc_init + m0, &rb, m0 - mb, rq, c, ldc, rows, nr);
                }
            }
        }
    }
    if (tail > 0) {
        uint8_t *bt = bq + flotilla_q8_pack_b_quads_size(n_tiles, K, NR);
        flotilla_q8_pack_b_quads(tail, K, (const uint8_t *)B + n_tiles, ldb, flotilla_q8_round_up(tail, 4), flip, bt);
        if (widen) {
            uint8_t *xs = bt + flotilla_q8_pack_b_quads_size(tail, K, flotilla_q8_round_up(tail, 4));
            tail_widen(M, k4, (const int16_t *)(const void *)w, bt, tail, xs, acc_init, rq, (uint8_t *)C + n_tiles,
                       ldc);
        } else {
            tail_rows(M, k4, w, bt, tail, acc_init, rq, (uint8_t *)C + n_tiles, ldc);
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
