// AVX-512 VNNI int8 GEMM: 8×32 register tile of int32 accumulators, VPDPBUSD (u8 × s8, four
// products summed per lane, no saturation). Weights are the broadcast s8 operand (4 k of one row
// as one dword), activations the u8 vector operand in 4-k quads per column. s8 activations are
// made u8 by XOR 0x80 (= +128); the pack folds the +128 into acc_init (z_eff = z_x + 128).
//
// Why 8×32: 16 zmm accumulators cover VPDPBUSD's latency × throughput (Zen 4 issues one zmm
// VPDPBUSD per cycle on its two 256-bit pipes), 2 B loads + 8 broadcasts per 16 VPDPBUSD keep
// the load ports under their limit, and MobileNet channel counts are multiples of 8.
#include "q8_internal.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

enum { MR = 8, NR = 32 };

size_t flotilla_q8_gemm_pack_size__avx512vnni(size_t M, size_t K) {
    const size_t mp = flotilla_q8_round_up(M, MR);
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(mp * sizeof(int32_t), 64) +
           mp * flotilla_q8_round_up(K, 4);
}

flotilla_q8_status flotilla_q8_gemm_pack_8x32__avx512vnni(const flotilla_q8_gemm_pack_params *p,
                                                          const int8_t *W, size_t ldw,
                                                          const int32_t *bias, void *packed) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t offset = flotilla_q8_write_header(packed, p, FLOTILLA_Q8_LAYOUT_AVX512VNNI, MR, 4);
    const int32_t z_eff = p->x_type == FLOTILLA_Q8_S8 ? p->x_zero_point + 128 : p->x_zero_point;
    int32_t *acc_init = (int32_t *)((uint8_t *)packed + sizeof(flotilla_q8_packed_header));
    flotilla_q8_pack_acc_init(p, W, ldw, bias, z_eff, flotilla_q8_round_up(p->M, MR), acc_init);
    flotilla_q8_pack_quads(p->M, p->K, W, ldw, MR, (int8_t *)packed + offset);
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_workspace_size__avx512vnni(size_t N, size_t K) {
    return flotilla_q8_pack_b_quads_size(N, K, NR);
}

// Per-row epilogue constants, computed once per block of rows (not per tile): the multiplier,
// the 32-bit form's rounding 2ⁿ⁻³³ and shift n − 32 (q8_x86_requant.h), cnt = 0 marking a row
// whose shift needs the 64-bit form.
typedef struct row_requant {
    int32_t mult, shift, rnd, cnt;
} row_requant;

static void row_requants(const flotilla_q8_requant *rq, size_t m0, size_t rows, row_requant *out) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t mult = rq->per_channel ? rq->multiplier[m0 + r] : rq->multiplier[0];
        const int32_t shift = rq->per_channel ? rq->shift[m0 + r] : rq->shift[0];
        const bool hi = flotilla_q8_requant_hi_ok(shift);
        out[r] = (row_requant){mult, shift, hi ? 1 << (31 + shift - 33) : 0, hi ? 31 + shift - 32 : 0};
    }
}

// C[rows × nr] for one tile; a: packed weights of the tile's panel, b: quads of its columns.
// The epilogue loop is unrolled over MR with constant indices so the accumulators stay in
// registers (a runtime-indexed acc[r] made GCC keep all 16 in memory); full 32-column rows are
// stored as one 32-byte store (a VPMOVDB straight to memory, which GCC fuses a narrowing plus
// masked store into, is slow on Zen 4).
static inline __attribute__((always_inline)) TARGET void tile_store(__m512i acc[MR][2], const row_requant *rr,
                                                                    const flotilla_q8_requant *rq, uint8_t *c,
                                                                    size_t ldc, size_t rows, size_t nr) {
    // 32-bit rows: both halves' q saturate to int16 in one VPACKSSDW; zero point and clamp then
    // run on 32 int16 lanes (saturation cannot change a clamped result: |q| ≥ 2¹⁵ lies beyond
    // every clamp bound ± zero point), one more pack to bytes, and one dword permute undoes the
    // packs' 128-bit lane interleave. Out-of-range shift rows take the 64-bit form.
    const __m512i zp16 = _mm512_set1_epi16((int16_t)rq->zero_point);
    const __m512i lo16 = _mm512_set1_epi16((int16_t)rq->qmin), hi16 = _mm512_set1_epi16((int16_t)rq->qmax);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    const bool u8 = rq->type == FLOTILLA_Q8_U8;
    const __mmask32 mask = nr >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << nr) - 1u);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; r++) {
        if (r >= rows) break;
        __m256i y;
        if (rr[r].cnt != 0) {
            const __m512i m = _mm512_set1_epi32(rr[r].mult), rnd = _mm512_set1_epi32(rr[r].rnd);
            const __m128i cnt = _mm_cvtsi32_si128(rr[r].cnt);
            const __m512i q0 = flotilla_q8_requant16_hi_avx512(acc[r][0], m, rnd, cnt);
            const __m512i q1 = flotilla_q8_requant16_hi_avx512(acc[r][1], m, rnd, cnt);
            __m512i v = _mm512_adds_epi16(_mm512_packs_epi32(q0, q1), zp16);
            v = _mm512_min_epi16(_mm512_max_epi16(v, lo16), hi16);
            v = u8 ? _mm512_packus_epi16(v, v) : _mm512_packs_epi16(v, v);
            y = _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, v));
        } else {
            const __m128i y0 = flotilla_q8_requant16_avx512(acc[r][0], rr[r].mult, rr[r].shift, rq->zero_point, rq->qmin, rq->qmax);
            const __m128i y1 = flotilla_q8_requant16_avx512(acc[r][1], rr[r].mult, rr[r].shift, rq->zero_point, rq->qmin, rq->qmax);
            y = _mm256_inserti128_si256(_mm256_castsi128_si256(y0), y1, 1);
        }
        if (nr >= 32) {
            _mm256_storeu_si256((__m256i *)(void *)(c + r * ldc), y);
        } else {
            _mm256_mask_storeu_epi8(c + r * ldc, mask, y);
        }
    }
}

static __attribute__((noinline)) TARGET void tile(size_t k4, const int8_t *a, const uint8_t *b, const int32_t *acc_init,
                        const row_requant *rr, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc,
                        size_t rows, size_t nr) {
    __m512i acc[MR][2];
    // Accumulators start at acc_init (bias − z_eff·Σw; zero on padding rows).
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_set1_epi32(acc_init[r]);
    for (size_t g = 0; g < k4; g++) {
        const __m512i b0 = _mm512_loadu_si512((const void *)b);
        const __m512i b1 = _mm512_loadu_si512((const void *)(b + 64));
#pragma GCC unroll 8
        for (size_t r = 0; r < MR; r++) {
            int32_t w;
            memcpy(&w, a + 4 * r, sizeof w);
            const __m512i av = _mm512_set1_epi32(w);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, av);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, av);
        }
        a += 4 * MR;
        b += 4 * NR;
    }
    tile_store(acc, rr, rq, c, ldc, rows, nr);
}

// Column tail of at most TAIL_MAX columns (N = 1 GEMMs, 3×3 and 6×6 batch-1 planes, the
// leftover of N mod 32): the 8×32 tile would multiply mostly padding there (a 4-column tail does
// 16 zmm VPDPBUSD per quad for 4 live columns). Here the lanes are output rows: per quad, one
// ymm VPDPBUSD of a broadcast activation quad against a panel's 8 rows × 4 k, i.e. one
// instruction per 8 rows and live column. Two panels × 4 columns = 8 accumulators.
// bt: the tail's quads, [k/4][tw][4] with tw = round_up(nr, 4) (zero past nr).
enum { TAIL_MAX = 16 };

// acc[0][j], acc[1][j] = the two panels' 8 rows · column j's quads, for j < cols. Named
// accumulators, not an indexed array: GCC kept an array in memory across the k loop.
static inline __attribute__((always_inline)) TARGET __m256i bcast_quad(const uint8_t *q) {
    return _mm256_broadcastd_epi32(_mm_loadu_si32((const void *)q));
}

static inline __attribute__((always_inline)) TARGET void tail_dot(size_t k4, const int8_t *a0, const int8_t *a1,
                                                                  const uint8_t *q, size_t tw, size_t cols,
                                                                  __m256i acc[2][4]) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c02 = c00, c03 = c00;
    __m256i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (size_t g = 0; g < k4; g++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + g * 4 * MR));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + g * 4 * MR));
        // Each column's quad broadcast straight from memory (a load-port VPBROADCASTD); read
        // into general registers first, GCC moved each one across with a 2-uop GPR broadcast.
        const __m256i x0 = bcast_quad(q);
        c00 = _mm256_dpbusd_epi32(c00, x0, w0);
        c10 = _mm256_dpbusd_epi32(c10, x0, w1);
        if (cols > 1) {
            const __m256i x1 = bcast_quad(q + 4);
            c01 = _mm256_dpbusd_epi32(c01, x1, w0);
            c11 = _mm256_dpbusd_epi32(c11, x1, w1);
        }
        if (cols > 2) {
            const __m256i x2 = bcast_quad(q + 8);
            c02 = _mm256_dpbusd_epi32(c02, x2, w0);
            c12 = _mm256_dpbusd_epi32(c12, x2, w1);
        }
        if (cols > 3) {
            const __m256i x3 = bcast_quad(q + 12);
            c03 = _mm256_dpbusd_epi32(c03, x3, w0);
            c13 = _mm256_dpbusd_epi32(c13, x3, w1);
        }
        q += 4 * tw;
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[0][2] = c02, acc[0][3] = c03;
    acc[1][0] = c10, acc[1][1] = c11, acc[1][2] = c12, acc[1][3] = c13;
}

// One or two columns (the last of N = 9, N = 1): tail_dot would leave 2 or 4 accumulators each
// a chain of k4 dependent VPDPBUSD, latency-bound; here even and odd quad groups go to separate
// accumulators summed at the end (int32 addition in another order: the same sums).
static inline __attribute__((always_inline)) TARGET void tail_dot_narrow(size_t k4, const int8_t *a0,
                                                                         const int8_t *a1, const uint8_t *q,
                                                                         size_t tw, size_t cols,
                                                                         __m256i acc[2][4]) {
    __m256i e00 = _mm256_setzero_si256(), e01 = e00, e10 = e00, e11 = e00;
    __m256i o00 = e00, o01 = e00, o10 = e00, o11 = e00;
    size_t g = 0;
    for (; g + 1 < k4; g += 2) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + g * 4 * MR));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + g * 4 * MR));
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + (g + 1) * 4 * MR));
        const __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + (g + 1) * 4 * MR));
        const __m256i x0 = bcast_quad(q), y0 = bcast_quad(q + 4 * tw);
        e00 = _mm256_dpbusd_epi32(e00, x0, w0);
        e10 = _mm256_dpbusd_epi32(e10, x0, w1);
        o00 = _mm256_dpbusd_epi32(o00, y0, v0);
        o10 = _mm256_dpbusd_epi32(o10, y0, v1);
        if (cols > 1) {
            const __m256i x1 = bcast_quad(q + 4), y1 = bcast_quad(q + 4 * tw + 4);
            e01 = _mm256_dpbusd_epi32(e01, x1, w0);
            e11 = _mm256_dpbusd_epi32(e11, x1, w1);
            o01 = _mm256_dpbusd_epi32(o01, y1, v0);
            o11 = _mm256_dpbusd_epi32(o11, y1, v1);
        }
        q += 8 * tw;
    }
    if (g < k4) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + g * 4 * MR));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + g * 4 * MR));
        const __m256i x0 = bcast_quad(q);
        e00 = _mm256_dpbusd_epi32(e00, x0, w0);
        e10 = _mm256_dpbusd_epi32(e10, x0, w1);
        if (cols > 1) {
            const __m256i x1 = bcast_quad(q + 4);
            e01 = _mm256_dpbusd_epi32(e01, x1, w0);
            e11 = _mm256_dpbusd_epi32(e11, x1, w1);
        }
    }
    const __m256i z = _mm256_setzero_si256();
    acc[0][0] = _mm256_add_epi32(e00, o00), acc[0][1] = _mm256_add_epi32(e01, o01), acc[0][2] = z, acc[0][3] = z;
    acc[1][0] = _mm256_add_epi32(e10, o10), acc[1][1] = _mm256_add_epi32(e11, o11), acc[1][2] = z, acc[1][3] = z;
}

// 8 lanes with one multiplier, rounding 2ⁿ⁻³³ and shift n − 32 per lane (all n ≥ 33): the
// 32-bit form of flotilla_q8_requant8_lanes_avx512 (only the products' high dwords, VPSRAVD),
// zero point and clamp in 32-bit lanes; the output bytes in the low qword.
static inline __attribute__((always_inline)) TARGET __m128i requant8_lanes_hi(__m256i x, __m256i mult, __m256i rnd,
                                                                              __m256i cnt, __m256i zp, __m256i qlo,
                                                                              __m256i qhi) {
    const __m256i even = _mm256_mul_epi32(x, mult);
    const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32));
    const __m256i hi = _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xF5), odd, 0xAA);
    __m256i q = _mm256_add_epi32(_mm256_srav_epi32(_mm256_add_epi32(hi, rnd), cnt), zp);
    q = _mm256_min_epi32(_mm256_max_epi32(q, qlo), qhi);
    return _mm256_cvtepi32_epi8(q);  // in range already: truncation keeps the byte
}

static __attribute__((noinline)) TARGET void tail_rows(size_t M, size_t k4, const int8_t *w, const uint8_t *bt, size_t nr,
                             const int32_t *acc_init, const flotilla_q8_requant *rq, uint8_t *c,
                             size_t ldc) {
    const size_t tw = flotilla_q8_round_up(nr, 4), panels = flotilla_q8_round_up(M, MR) / MR;
    for (size_t p = 0; p < panels; p += 2) {
        const size_t m0 = p * MR;
        const size_t rows = M - m0 < 2 * MR ? M - m0 : 2 * MR;
        // The odd last panel runs against itself; its second half is discarded.
        const int8_t *a0 = w + p * k4 * 4 * MR, *a1 = p + 1 < panels ? a0 + k4 * 4 * MR : a0;
        int32_t mult[2 * MR] = {0}, nsh[2 * MR], init[2 * MR] = {0};
        int32_t sh[2 * MR] = {0};
        flotilla_q8_tile_requant(rq, m0, rows, mult, sh);
        // Per-lane 32-bit form (q8_x86_requant.h) when every live row's shift allows it;
        // padding rows get harmless constants (their bytes are never stored).
        int32_t hrnd[2 * MR], hcnt[2 * MR];
        bool all_hi = true;
        for (size_t r = 0; r < 2 * MR; r++) {
            nsh[r] = 31 + sh[r];
            if (r < rows) init[r] = acc_init[m0 + r];
            const bool ok = r >= rows || flotilla_q8_requant_hi_ok(sh[r]);
            all_hi = all_hi && ok;
            hrnd[r] = ok && r < rows ? 1 << (31 + sh[r] - 33) : 1;
            hcnt[r] = ok && r < rows ? 31 + sh[r] - 32 : 1;
        }
        const __m256i mv0 = _mm256_loadu_si256((const __m256i *)(const void *)mult);
        const __m256i mv1 = _mm256_loadu_si256((const __m256i *)(const void *)(mult + MR));
        const __m256i nv0 = _mm256_loadu_si256((const __m256i *)(const void *)nsh);
        const __m256i nv1 = _mm256_loadu_si256((const __m256i *)(const void *)(nsh + MR));
        const __m256i iv0 = _mm256_loadu_si256((const __m256i *)(const void *)init);
        const __m256i iv1 = _mm256_loadu_si256((const __m256i *)(const void *)(init + MR));
        for (size_t c0 = 0; c0 < nr; c0 += 4) {
            __m256i acc[2][4];
            const size_t cols = nr - c0 < 4 ? nr - c0 : 4;
            // A constant column count per call, so a 1-column GEMM (N = 1) does 1/4 of the work.
            switch (cols) {
            case 1: tail_dot_narrow(k4, a0, a1, bt + c0 * 4, tw, 1, acc); break;
            case 2: tail_dot_narrow(k4, a0, a1, bt + c0 * 4, tw, 2, acc); break;
            case 3: tail_dot(k4, a0, a1, bt + c0 * 4, tw, 3, acc); break;
            default: tail_dot(k4, a0, a1, bt + c0 * 4, tw, 4, acc); break;
            }
            // Requantize the 4 columns × 16 rows, then transpose to 16 rows × 4 bytes (the
            // pack_b_quads shuffle) so each output row takes one store, not one per column.
            __m128i y[4];
            if (all_hi) {
                const __m256i rv0 = _mm256_loadu_si256((const __m256i *)(const void *)hrnd);
                const __m256i rv1 = _mm256_loadu_si256((const __m256i *)(const void *)(hrnd + MR));
                const __m256i cv0 = _mm256_loadu_si256((const __m256i *)(const void *)hcnt);
                const __m256i cv1 = _mm256_loadu_si256((const __m256i *)(const void *)(hcnt + MR));
                const __m256i zp = _mm256_set1_epi32(rq->zero_point);
                const __m256i qlo = _mm256_set1_epi32(rq->qmin), qhi = _mm256_set1_epi32(rq->qmax);
#pragma GCC unroll 4
                for (size_t j = 0; j < 4; j++) {
                    const __m128i lo = requant8_lanes_hi(_mm256_add_epi32(acc[0][j], iv0), mv0, rv0, cv0, zp, qlo, qhi);
                    const __m128i hi = requant8_lanes_hi(_mm256_add_epi32(acc[1][j], iv1), mv1, rv1, cv1, zp, qlo, qhi);
                    y[j] = _mm_unpacklo_epi64(lo, hi);
                }
            } else {
#pragma GCC unroll 4
                for (size_t j = 0; j < 4; j++) {
                    const __m128i lo = flotilla_q8_requant8_lanes_avx512(_mm256_add_epi32(acc[0][j], iv0), mv0, nv0,
                                                                         rq->zero_point, rq->qmin, rq->qmax);
                    const __m128i hi = flotilla_q8_requant8_lanes_avx512(_mm256_add_epi32(acc[1][j], iv1), mv1, nv1,
                                                                         rq->zero_point, rq->qmin, rq->qmax);
                    y[j] = _mm_unpacklo_epi64(lo, hi);
                }
            }
            const __m128i t0 = _mm_unpacklo_epi8(y[0], y[1]), t1 = _mm_unpackhi_epi8(y[0], y[1]);
            const __m128i t2 = _mm_unpacklo_epi8(y[2], y[3]), t3 = _mm_unpackhi_epi8(y[2], y[3]);
            uint8_t rowwise[16 * 4];
            _mm_storeu_si128((__m128i *)(void *)rowwise, _mm_unpacklo_epi16(t0, t2));
            _mm_storeu_si128((__m128i *)(void *)(rowwise + 16), _mm_unpackhi_epi16(t0, t2));
            _mm_storeu_si128((__m128i *)(void *)(rowwise + 32), _mm_unpacklo_epi16(t1, t3));
            _mm_storeu_si128((__m128i *)(void *)(rowwise + 48), _mm_unpackhi_epi16(t1, t3));
            uint8_t *cr = c + m0 * ldc + c0;
            if (cols == 4) {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, 4);
            } else {
                for (size_t r = 0; r < rows; r++) memcpy(cr + r * ldc, rowwise + 4 * r, cols);
            }
        }
    }
}

// Small K (≤ 16, the expand and project 1×1 convs of the first MobileNet blocks): a 32-column
// panel's quads are k4 ≤ 4 zmm pairs, so they are built in registers from the activation rows
// (the pack_b_quads unpacking, same bytes) and stay there while every weight panel of M passes.
// No repack pass over B into the workspace and back: at K = 8 that pass moved as many bytes as
// the dot products read.
enum { SMALL_K4 = 4 };

// 16 columns × rows k..k+3 of B as 16 quads (rows past K zero, live rows XOR flip).
static inline __attribute__((always_inline)) TARGET __m512i quads16(const uint8_t *s, size_t ldb, size_t live_rows,
                                                                    __m128i f) {
    const __m128i z = _mm_setzero_si128();
    const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)s), f);
    const __m128i r1 = live_rows > 1 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + ldb)), f) : z;
    const __m128i r2 = live_rows > 2 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + 2 * ldb)), f) : z;
    const __m128i r3 = live_rows > 3 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + 3 * ldb)), f) : z;
    const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
    const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
    __m512i v = _mm512_castsi128_si512(_mm_unpacklo_epi16(t0, t2));
    v = _mm512_inserti32x4(v, _mm_unpackhi_epi16(t0, t2), 1);
    v = _mm512_inserti32x4(v, _mm_unpacklo_epi16(t1, t3), 2);
    return _mm512_inserti32x4(v, _mm_unpackhi_epi16(t1, t3), 3);
}

// Full 32-column panels [0, N) with K4 (a constant per instantiation) quad groups.
static inline __attribute__((always_inline)) TARGET void small_k_panels(size_t K4, size_t M, size_t N, size_t K,
                                                                        const int8_t *w, const int32_t *acc_init,
                                                                        const uint8_t *B, size_t ldb, uint8_t flip,
                                                                        const flotilla_q8_requant *rq, uint8_t *C,
                                                                        size_t ldc) {
    enum { RB = 64 };
    row_requant rr[RB];
    const __m128i f = _mm_set1_epi8((char)flip);
    for (size_t mb = 0; mb < M; mb += RB) {
        const size_t mb_rows = M - mb < RB ? M - mb : RB;
        row_requants(rq, mb, mb_rows, rr);
        for (size_t n0 = 0; n0 < N; n0 += NR) {
            __m512i bv[SMALL_K4][2];
#pragma GCC unroll 4
            for (size_t g = 0; g < K4; g++) {
                const size_t live = K - 4 * g < 4 ? K - 4 * g : 4;
                bv[g][0] = quads16(B + 4 * g * ldb + n0, ldb, live, f);
                bv[g][1] = quads16(B + 4 * g * ldb + n0 + 16, ldb, live, f);
            }
            for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                const int8_t *a = w + (m0 / MR) * K4 * 4 * MR;
                __m512i acc[MR][2];
#pragma GCC unroll 8
                for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_set1_epi32(acc_init[m0 + r]);
#pragma GCC unroll 4
                for (size_t g = 0; g < K4; g++) {
#pragma GCC unroll 8
                    for (size_t r = 0; r < MR; r++) {
                        int32_t wq;
                        memcpy(&wq, a + g * 4 * MR + 4 * r, sizeof wq);
                        const __m512i av = _mm512_set1_epi32(wq);
                        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], bv[g][0], av);
                        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], bv[g][1], av);
                    }
                }
                const size_t rows = M - m0 < MR ? M - m0 : MR;
                tile_store(acc, rr + (m0 - mb), rq, C + m0 * ldc + n0, ldc, rows, NR);
            }
        }
    }
}

#define SMALL_K(n)                                                                                                  \
    static __attribute__((noinline)) TARGET void small_k_##n(size_t M, size_t N, size_t K, const int8_t *w,        \
                                                             const int32_t *acc_init, const uint8_t *B, size_t ldb, \
                                                             uint8_t flip, const flotilla_q8_requant *rq,           \
                                                             uint8_t *C, size_t ldc) {                              \
        small_k_panels(n, M, N, K, w, acc_init, B, ldb, flip, rq, C, ldc);                                          \
    }
SMALL_K(1)
SMALL_K(2)
SMALL_K(3)
SMALL_K(4)

// Columns [0, N) through the packed-quad tiles and the row-vectorized tail.
static TARGET void gemm_packed_b(size_t M, size_t N, size_t K, size_t k4, uint8_t flip, const void *packed,
                                 const void *B, size_t ldb, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                 void *workspace) {
    // Full-tile columns [0, n_tiles) in 32-column panels; a tail of ≤ TAIL_MAX columns goes to
    // tail_rows, packed at its own width right after (the workspace holds round_up(N, 32) columns).
    const size_t tail = N % NR <= TAIL_MAX ? N % NR : 0, n_tiles = N - tail;
    uint8_t *bq = (uint8_t *)workspace;
    flotilla_q8_pack_b_quads(n_tiles, K, (const uint8_t *)B, ldb, NR, flip, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    // Blocks of RB rows (their epilogue constants computed once), in each the N panels, in
    // each the block's weight panels: a panel's quads (K × 32 bytes) stay in L1 while the
    // block's weights (RB × K bytes) pass.
    enum { RB = 64 };
    row_requant rr[RB];
    for (size_t mb = 0; n_tiles > 0 && mb < M; mb += RB) {
        const size_t mb_rows = M - mb < RB ? M - mb : RB;
        row_requants(rq, mb, mb_rows, rr);
        for (size_t n0 = 0; n0 < n_tiles; n0 += NR) {
            const size_t nr = n_tiles - n0 < NR ? n_tiles - n0 : NR;
            const uint8_t *bp = bq + (n0 / NR) * k4 * 4 * NR;
            for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                const size_t rows = M - m0 < MR ? M - m0 : MR;
                tile(k4, w + (m0 / MR) * k4 * 4 * MR, bp, acc_init + m0, rr + (m0 - mb), rq,
                     (uint8_t *)C + m0 * ldc + n0, ldc, rows, nr);
            }
        }
    }
    if (tail > 0) {
        uint8_t *bt = bq + flotilla_q8_pack_b_quads_size(n_tiles, K, NR);
        const size_t tw = flotilla_q8_round_up(tail, 4);
        flotilla_q8_pack_b_quads(tail, K, (const uint8_t *)B + n_tiles, ldb, tw, flip, bt);
        tail_rows(M, k4, w, bt, tail, acc_init, rq, (uint8_t *)C + n_tiles, ldc);
    }
}

TARGET flotilla_q8_status flotilla_q8_gemm_8x32__avx512vnni(size_t M, size_t N, size_t K,
                                                            const void *packed, const void *B,
                                                            size_t ldb, const flotilla_q8_requant *rq,
                                                            void *C, size_t ldc, void *workspace) {
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_AVX512VNNI, FLOTILLA_Q8_LAYOUT_AVX512VNNI);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const size_t k4 = h->k_padded / 4;
    const uint8_t flip = h->x_type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    size_t done = 0;
    // k4 = 3, 4 leave too few zmm for the 16 accumulators, the 2·k4 quads and the epilogue
    // constants: the compiler spills quads inside the row loop, which cost more than the pack
    // saves once there are several 8-row tiles (96×144×16: 3.2 → 3.5 µs); with one or two
    // tiles (8×2304×16) skipping the pack still wins (5.4 → 4.8 µs).
    const bool small_k = k4 <= 2 || (k4 <= SMALL_K4 && M <= 2 * MR);
    if (K > 0 && small_k && N >= NR) {
        done = N - N % NR;
        const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
        const int8_t *w = flotilla_q8_packed_weights(packed);
        const uint8_t *b = (const uint8_t *)B;
        switch (k4) {
        case 1: small_k_1(M, done, K, w, acc_init, b, ldb, flip, rq, (uint8_t *)C, ldc); break;
        case 2: small_k_2(M, done, K, w, acc_init, b, ldb, flip, rq, (uint8_t *)C, ldc); break;
        case 3: small_k_3(M, done, K, w, acc_init, b, ldb, flip, rq, (uint8_t *)C, ldc); break;
        default: small_k_4(M, done, K, w, acc_init, b, ldb, flip, rq, (uint8_t *)C, ldc); break;
        }
    }
    if (done < N) {
        gemm_packed_b(M, N - done, K, k4, flip, packed, (const uint8_t *)B + done, ldb, rq, (uint8_t *)C + done,
                      ldc, workspace);
    }
    return FLOTILLA_Q8_OK;
}

#endif

// ---- Small-Cin convolution (the table's `conv`, see q8_conv_small.c) ----------------------------
//
// The stem (3 → 16 channels, 3×3, stride 2, 96×96 → 48×48) as bands of output pixels: each
// band's im2col rows are built with masked loads (stride 1: the bytes; stride 2: the low bytes
// of 16-bit loads, VPMOVWB) into an L1 buffer, turned into the tile's 4-k quads 64 columns at a
// time in zmm registers, and multiplied by the 8×32 tile at once. The whole-image path spent
// 8.7 µs in im2col (a byte loop per output row and tap) and 11.5 µs in the GEMM, half of it the
// repack of B through 16-byte vectors.
#if defined(__x86_64__)

// Output rows [oy0, oy0 + rows) of every im2col row (stride 1 or 2, kernel_w ≤ CONV_MAX_KW,
// OW ≤ 32·CONV_MAX_CHUNKS) into out[k·ld + (oy − oy0)·OW + ox]. The in-image lanes of each
// 32-column chunk depend only on kx, so their masks are computed once per band; per row and
// tap only a masked load (stride 2: 16-bit lanes whose low bytes VPMOVWB keeps) and a store
// remain, and the taps kx of one input row are done together. Lanes outside the image are
// masked off (never read) and take the pad byte. Stores are whole 32-byte vectors: the bytes
// past a row's end are overwritten by the next output row, or land in the 32 spare bytes at the
// end of each k-row (conv_ld).
enum { CONV_MAX_KW = 16, CONV_MAX_CHUNKS = 8 };

static bool band_fast_ok(const flotilla_f32_conv2d_geometry *g) {
    return g->stride_w <= 2 && g->kernel_w <= CONV_MAX_KW &&
           flotilla_f32_conv2d_out_w(g) <= 32 * CONV_MAX_CHUNKS;
}

static TARGET void band_im2col_rows(const flotilla_f32_conv2d_geometry *g, const uint8_t *input, uint8_t pad_byte,
                                    size_t oy0, size_t rows, uint8_t *out, size_t ld) {
    const size_t ow = flotilla_f32_conv2d_out_w(g), chunks = (ow + 31) / 32;
    const size_t sw = g->stride_w, pl = g->pad_left, w = g->in_w;
    __mmask32 in_mask[CONV_MAX_KW][CONV_MAX_CHUNKS];
    for (size_t kx = 0; kx < g->kernel_w; kx++) {
        const size_t off = kx * g->dilation_w;
        size_t x0 = pl > off ? (pl - off + sw - 1) / sw : 0;
        size_t x1 = w - 1 + pl >= off ? (w - 1 + pl - off) / sw + 1 : 0;
        if (x1 > ow) x1 = ow;
        if (x0 > x1) x0 = x1;
        for (size_t j = 0; j < chunks; j++) {
            const size_t cs = 32 * j, ce = cs + 32;
            const size_t lo = x0 > cs ? x0 - cs : 0, hi = x1 > cs ? (x1 < ce ? x1 - cs : 32) : 0;
            in_mask[kx][j] = lo < hi ? (hi >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << hi) - 1u)) &
                                           ~(((__mmask32)1 << lo) - 1u)
                                     : 0;
        }
    }
    const __m256i padv = _mm256_set1_epi8((char)pad_byte);
    const __m512i pad16 = _mm512_set1_epi16((short)pad_byte);
    // Per (channel, ky, output row): the input row once, then every kx's chunks (its k-row).
    const size_t kw = g->kernel_w;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = input + c * g->in_h * w;
        const bool last_plane = c + 1 == g->channels;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            uint8_t *rows_out = out + (c * g->kernel_h + ky) * kw * ld;
            for (size_t r = 0; r < rows; r++) {
                const ptrdiff_t iy =
                    (ptrdiff_t)((oy0 + r) * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                uint8_t *dst0 = rows_out + r * ow;
                if (iy < 0 || iy >= (ptrdiff_t)g->in_h) {
                    for (size_t kx = 0; kx < kw; kx++) {
                        for (size_t j = 0; j < chunks; j++) {
                            _mm256_storeu_si256((__m256i *)(void *)(dst0 + kx * ld + 32 * j), padv);
                        }
                    }
                    continue;
                }
                const uintptr_t src_row = (uintptr_t)(plane + (size_t)iy * w) - pl;
                if (sw == 1) {
                    for (size_t kx = 0; kx < kw; kx++) {
                        const uintptr_t src = src_row + kx * g->dilation_w;
                        for (size_t j = 0; j < chunks; j++) {
                            const __m256i v = _mm256_mask_loadu_epi8(padv, in_mask[kx][j], (const void *)(src + 32 * j));
                            _mm256_storeu_si256((__m256i *)(void *)(dst0 + kx * ld + 32 * j), v);
                        }
                    }
                } else if (!last_plane || (size_t)iy + 1 < g->in_h) {
                    for (size_t kx = 0; kx < kw; kx++) {
                        const uintptr_t src = src_row + kx * g->dilation_w;
                        for (size_t j = 0; j < chunks; j++) {
                            __m256i v = _mm512_cvtepi16_epi8(
                                _mm512_mask_loadu_epi16(pad16, in_mask[kx][j], (const void *)(src + 64 * j)));
                            // Kept in a register: fused into a VPMOVWB to memory (what the
                            // compilers emit) it was this loop's slowest instruction on Zen 4.
                            __asm__("" : "+v"(v));
                            _mm256_storeu_si256((__m256i *)(void *)(dst0 + kx * ld + 32 * j), v);
                        }
                    }
                } else {
                    // The input's last row: a 16-bit lane at its last byte would read one
                    // byte past the input, so this row is copied byte by byte.
                    for (size_t kx = 0; kx < kw; kx++) {
                        const uintptr_t src = src_row + kx * g->dilation_w;
                        for (size_t ox = 0; ox < ow; ox++) {
                            const bool inside = (in_mask[kx][ox / 32] >> (ox % 32)) & 1u;
                            dst0[kx * ld + ox] = inside ? *(const uint8_t *)(src + 2 * ox) : pad_byte;
                        }
                    }
                }
            }
        }
    }
}

// Quads of band columns [0, cols) (strips: K rows of stride ld ≥ round_up(cols, 64)) into
// 32-column panels [panel][k4][32][4], 64 columns per step: a dword permute per row puts column
// dwords (0, 4, 8, 12 | 1, 5, 9, 13 | …) in each 128-bit lane so the lane-local byte and word
// unpacks come out as quads of columns 0–15, 16–31, 32–47, 48–63 in order.
static TARGET void band_quads(size_t K, size_t k4, const uint8_t *strips, size_t ld, size_t cols, uint8_t flip,
                              uint8_t *bq) {
    const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i f = _mm512_set1_epi8((char)flip), z = _mm512_setzero_si512();
    for (size_t c0 = 0; c0 < cols; c0 += 64) {
        uint8_t *p0 = bq + (c0 / NR) * k4 * 4 * NR, *p1 = p0 + k4 * 4 * NR;
        const bool second = c0 + NR < cols;
        for (size_t g = 0; g < k4; g++) {
            __m512i r[4];
#pragma GCC unroll 4
            for (size_t j = 0; j < 4; j++) {
                const size_t k = 4 * g + j;
                r[j] = k < K ? _mm512_xor_si512(_mm512_permutexvar_epi32(
                                                    perm, _mm512_loadu_si512((const void *)(strips + k * ld + c0))),
                                                f)
                             : z;
            }
            const __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
            const __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
            _mm512_storeu_si512((void *)(p0 + g * 4 * NR), _mm512_unpacklo_epi16(t0, t2));
            _mm512_storeu_si512((void *)(p0 + g * 4 * NR + 64), _mm512_unpackhi_epi16(t0, t2));
            if (second) {
                _mm512_storeu_si512((void *)(p1 + g * 4 * NR), _mm512_unpacklo_epi16(t1, t3));
                _mm512_storeu_si512((void *)(p1 + g * 4 * NR + 64), _mm512_unpackhi_epi16(t1, t3));
            }
        }
    }
}

// Bands of whole output rows, about flotilla_q8_conv_band_width(K) columns each (at least one
// row); the strips' row stride is the band's columns plus 32 bytes for band_im2col_rows'
// whole-vector stores past a k-row's last output row (the k-rows of one input row are written
// together, so that overrun must not reach the next k-row), rounded up to 64 (band_quads reads
// 64 columns at a time).
static size_t conv_band_rows(const flotilla_f32_conv2d_geometry *g, size_t K) {
    const size_t ow = flotilla_f32_conv2d_out_w(g), nb = flotilla_q8_conv_band_width(K);
    size_t rows = ow == 0 || nb / ow == 0 ? 1 : nb / ow;
    // A whole number of 32-column panels per band when that costs at most half the rows (OW = 48:
    // 8 rows, 12 panels, instead of 9 rows ending in a 16-column tail every band).
    size_t gcd = 32, r = ow % 32;
    for (size_t a = ow; r != 0;) a = gcd, gcd = r, r = a % r;
    const size_t step = ow == 0 ? 1 : 32 / gcd;
    if (step > 1 && step <= rows && rows / step * step * 2 >= rows) rows = rows / step * step;
    return rows;
}
static size_t conv_ld(const flotilla_f32_conv2d_geometry *g, size_t K) {
    return flotilla_q8_round_up(conv_band_rows(g, K) * flotilla_f32_conv2d_out_w(g) + 32, 64);
}
static size_t conv_strips_bytes(size_t K, size_t ld) { return flotilla_q8_round_up(K * ld + 32, 64); }
static size_t conv_quads_bytes(size_t K, size_t ld) { return flotilla_q8_pack_b_quads_size(ld, K, NR); }

size_t flotilla_q8_conv_workspace_size__avx512vnni(const flotilla_f32_conv2d_geometry *g) {
    const size_t K = g->channels * g->kernel_h * g->kernel_w, ld = conv_ld(g, K);
    return conv_strips_bytes(K, ld) + conv_quads_bytes(K, ld) + flotilla_q8_pack_b_quads_size(TAIL_MAX, K, 4);
}

TARGET flotilla_q8_status flotilla_q8_conv__avx512vnni(const flotilla_f32_conv2d_geometry *g, size_t M,
                                                       const void *packed, const void *input,
                                                       const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                       void *workspace) {
    const size_t K = g->channels * g->kernel_h * g->kernel_w, ld = conv_ld(g, K), band_rows = conv_band_rows(g, K);
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_AVX512VNNI, FLOTILLA_Q8_LAYOUT_AVX512VNNI);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g), k4 = h->k_padded / 4;
    const bool fast = band_fast_ok(g);
    const uint8_t flip = h->x_type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    const uint8_t pad_byte = (uint8_t)(h->x_zero_point & 0xFF);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    uint8_t *strips = (uint8_t *)workspace, *bq = strips + conv_strips_bytes(K, ld);
    uint8_t *bt = bq + conv_quads_bytes(K, ld);
    enum { RB = 64 };
    row_requant rr[RB];
    for (size_t oy0 = 0; oy0 < oh; oy0 += band_rows) {
        const size_t rows = oh - oy0 < band_rows ? oh - oy0 : band_rows, n0 = oy0 * ow, cols = rows * ow;
        if (fast) {
            band_im2col_rows(g, (const uint8_t *)input, pad_byte, oy0, rows, strips, ld);
        } else {
            flotilla_q8_im2col_band(g, (const uint8_t *)input, pad_byte, n0, cols, strips, ld);
        }
        // As gemm_packed_b: a last ≤ TAIL_MAX columns go to the row-vectorized tail.
        const size_t tail = cols % NR <= TAIL_MAX ? cols % NR : 0, n_tiles = cols - tail;
        band_quads(K, k4, strips, ld, n_tiles, flip, bq);
        uint8_t *cb = (uint8_t *)C + n0;
        for (size_t mb = 0; n_tiles > 0 && mb < M; mb += RB) {
            const size_t mb_rows = M - mb < RB ? M - mb : RB;
            row_requants(rq, mb, mb_rows, rr);
            for (size_t c0 = 0; c0 < n_tiles; c0 += NR) {
                const size_t nr = n_tiles - c0 < NR ? n_tiles - c0 : NR;
                const uint8_t *bp = bq + (c0 / NR) * k4 * 4 * NR;
                for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                    const size_t rows = M - m0 < MR ? M - m0 : MR;
                    tile(k4, w + (m0 / MR) * k4 * 4 * MR, bp, acc_init + m0, rr + (m0 - mb), rq, cb + m0 * ldc + c0,
                         ldc, rows, nr);
                }
            }
        }
        if (tail > 0) {
            const size_t tw = flotilla_q8_round_up(tail, 4);
            flotilla_q8_pack_b_quads(tail, K, strips + n_tiles, ld, tw, flip, bt);
            tail_rows(M, k4, w, bt, tail, acc_init, rq, cb + n_tiles, ldc);
        }
    }
    return FLOTILLA_Q8_OK;
}
#endif
