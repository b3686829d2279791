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

size_t flotilla_q8_gemm_workspace_size__avx512vnni(size_t N, size_t K) {
    return flotilla_q8_pack_b_quads_size(N, K, NR);
}

// Per-row epilogue constants, computed once per block of rows (not per tile): the multiplier,
// the 32-bit form's rounding 2ⁿ⁻³³ and shift n − 32 (q8_x86_requant.h), cnt = 0 marking a row
// whose shift needs the 64-bit form. When it cannot overflow, the output zero point is folded
// into the rounding term: ((h + 2ⁿ⁻³³ + z·2ⁿ⁻³²) >> (n − 32)) = ((h + 2ⁿ⁻³³) >> (n − 32)) + z
// exactly (z an integer), which saves the zero-point add per vector; h = p >> 32 lies in
// [−2³⁰, 2³⁰), so |z|·2ⁿ⁻³² + 2ⁿ⁻³³ ≤ 2³⁰ keeps the sum inside int32.
// Rows of a block, as arrays (filled 16 rows per step).
enum { RB = 64 };
// mode per 8-row tile: TILE_FOLD every row has shift ≥ 2 and the zero point folded, TILE_HI
// every row shift ≥ 2, TILE_64 some row needs the 64-bit form — one test per tile, and the rare
// case out of line, instead of tests per row (clang's per-row variants made small_k_2 8 k lines).
enum { TILE_FOLD = 0, TILE_HI = 1, TILE_64 = 2 };
typedef struct row_block {
    int32_t mult[RB], shift[RB], rnd[RB], cnt[RB];
    uint8_t mode[RB / MR];
} row_block;

// The fold test as 2|z| + 1 ≤ 2^(31 − cnt) (the bound above divided by 2ⁿ⁻³³), the folded term
// as (2z + 1)·2ⁿ⁻³³; for shift < 2 cnt and rnd are 0.
static TARGET void row_requants(const flotilla_q8_requant *rq, size_t m0, size_t rows, row_block *out) {
    const int32_t z = rq->zero_point, az = z < 0 ? -z : z;
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __m512i z21 = _mm512_set1_epi32(2 * z + 1), az21 = _mm512_set1_epi32(2 * az + 1);
    const __m512i lim = _mm512_set1_epi32(1 << 30);
    for (size_t r = 0; r < rows; r += 16) {
        const __mmask16 live = rows - r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (rows - r)) - 1u);
        __m512i mult, sh;
        if (rq->per_channel) {
            mult = _mm512_maskz_loadu_epi32(live, rq->multiplier + m0 + r);
            sh = _mm512_maskz_loadu_epi32(live, rq->shift + m0 + r);
        } else {
            mult = _mm512_set1_epi32(rq->multiplier[0]);
            sh = _mm512_set1_epi32(rq->shift[0]);
        }
        const __mmask16 hi = _mm512_cmpge_epi32_mask(sh, two);  // flotilla_q8_requant_hi_ok
        const __m512i cnt = _mm512_maskz_sub_epi32(hi, sh, one), c1 = _mm512_sub_epi32(cnt, one);
        const __mmask16 fold = _mm512_mask_cmpge_epi32_mask(hi, _mm512_srlv_epi32(lim, c1), az21);
        // The zero point is folded into a tile's rows only when it can be into all of them.
        unsigned tile_fold = 0;
        for (size_t h = 0; h < 2 && r + MR * h < rows; h++) {
            const unsigned g = (unsigned)(live >> (MR * h)) & 0xFFu;
            const unsigned gh = (unsigned)(hi >> (MR * h)) & g, gf = (unsigned)(fold >> (MR * h)) & g;
            const int mode = gf == g ? TILE_FOLD : gh == g ? TILE_HI : TILE_64;
            out->mode[(r + MR * h) / MR] = (uint8_t)mode;
            if (mode == TILE_FOLD) tile_fold |= 0xFFu << (MR * h);
        }
        __m512i rnd = _mm512_maskz_sllv_epi32(hi, one, c1);
        rnd = _mm512_mask_sllv_epi32(rnd, (__mmask16)tile_fold, z21, c1);
        _mm512_mask_storeu_epi32(out->mult + r, live, mult);
        _mm512_mask_storeu_epi32(out->shift + r, live, sh);
        _mm512_mask_storeu_epi32(out->rnd + r, live, rnd);
        _mm512_mask_storeu_epi32(out->cnt + r, live, cnt);
    }
}

static inline __attribute__((always_inline)) TARGET void store_row32(uint8_t *c, __m256i y, size_t nr) {
    if (nr >= 32) {
        _mm256_storeu_si256((__m256i *)(void *)c, y);
    } else {
        _mm256_mask_storeu_epi8(c, (((__mmask32)1 << nr) - 1u), y);
    }
}

// A tile with a row whose shift needs the 64-bit form (multipliers ≥ 1/4: rare), from its
// accumulators in memory.
static __attribute__((noinline, cold)) TARGET void tile_store_64(const int32_t acc[MR][32], const row_block *rb,
                                                                 size_t r0, const flotilla_q8_requant *rq,
                                                                 uint8_t *c, size_t ldc, size_t rows, size_t nr) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t m = rb->mult[r0 + r], sh = rb->shift[r0 + r];
        const __m128i y0 = flotilla_q8_requant16_avx512(_mm512_loadu_si512((const void *)acc[r]), m, sh,
                                                        rq->zero_point, rq->qmin, rq->qmax);
        const __m128i y1 = flotilla_q8_requant16_avx512(_mm512_loadu_si512((const void *)(acc[r] + 16)), m, sh,
                                                        rq->zero_point, rq->qmin, rq->qmax);
        store_row32(c + r * ldc, _mm256_inserti128_si256(_mm256_castsi128_si256(y0), y1, 1), nr);
    }
}

// 32-bit rows, the zero point folded (a constant per instantiation) or added: both halves' q
// saturate to int16 in one VPACKSSDW; zero point and clamp then run on 32 int16 lanes
// (saturation cannot change a clamped result: |q| ≥ 2¹⁵ lies beyond every clamp bound ± zero
// point), one more pack to bytes, and one dword permute undoes the packs' 128-bit lane
// interleave. With the type's whole range as the clamp, the saturating byte pack is the clamp.
static inline __attribute__((always_inline)) TARGET void tile_store_hi(const bool fold, __m512i acc[MR][2],
                                                                       const row_block *rb, size_t r0,
                                                                       const flotilla_q8_requant *rq, uint8_t *c,
                                                                       size_t ldc, size_t rows, size_t nr) {
    const __m512i zp16 = _mm512_set1_epi16((int16_t)rq->zero_point);
    const __m512i lo16 = _mm512_set1_epi16((int16_t)rq->qmin), hi16 = _mm512_set1_epi16((int16_t)rq->qmax);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    const bool u8 = rq->type == FLOTILLA_Q8_U8;
    const bool clamp = rq->qmin > (u8 ? 0 : -128) || rq->qmax < (u8 ? 255 : 127);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; r++) {
        if (r >= rows) break;
        const __m512i m = _mm512_set1_epi32(rb->mult[r0 + r]), rnd = _mm512_set1_epi32(rb->rnd[r0 + r]);
        const __m128i cnt = _mm_cvtsi32_si128(rb->cnt[r0 + r]);
        const __m512i q0 = flotilla_q8_requant16_hi_avx512(acc[r][0], m, rnd, cnt);
        const __m512i q1 = flotilla_q8_requant16_hi_avx512(acc[r][1], m, rnd, cnt);
        __m512i v = _mm512_packs_epi32(q0, q1);
        if (!fold) v = _mm512_adds_epi16(v, zp16);
        if (clamp) v = _mm512_min_epi16(_mm512_max_epi16(v, lo16), hi16);
        v = u8 ? _mm512_packus_epi16(v, v) : _mm512_packs_epi16(v, v);
        store_row32(c + r * ldc, _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, v)), nr);
    }
}

// C[rows × nr] for one tile. The epilogue loop is unrolled over MR with constant indices so
// the accumulators stay in registers (a runtime-indexed acc[r] made GCC keep all 16 in memory);
// full 32-column rows are stored as one 32-byte store (a VPMOVDB straight to memory, which GCC
// fuses a narrowing plus masked store into, is slow on Zen 4).
static inline __attribute__((always_inline)) TARGET void tile_store(__m512i acc[MR][2], const row_block *rb, size_t r0,
                                                                    const flotilla_q8_requant *rq, uint8_t *c,
                                                                    size_t ldc, size_t rows, size_t nr) {
    const int mode = rb->mode[r0 / MR];
    if (mode == TILE_FOLD) {
        tile_store_hi(true, acc, rb, r0, rq, c, ldc, rows, nr);
    } else if (mode == TILE_HI) {
        tile_store_hi(false, acc, rb, r0, rq, c, ldc, rows, nr);
    } else {
        int32_t buf[MR][32];
#pragma GCC unroll 8
        for (size_t r = 0; r < MR; r++) {
            _mm512_storeu_si512((void *)buf[r], acc[r][0]);
            _mm512_storeu_si512((void *)(buf[r] + 16), acc[r][1]);
        }
        tile_store_64(buf, rb, r0, rq, c, ldc, rows, nr);
    }
}

static __attribute__((noinline)) TARGET void tile(size_t k4, const int8_t *a, const uint8_t *b, const int32_t *acc_init,
                        const row_block *rb, size_t r0, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc,
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
    tile_store(acc, rb, r0, rq, c, ldc, rows, nr);
}

// Column tail of at most TAIL_MAX columns (N = 1 GEMMs, 3×3 and 6×6 batch-1 planes, the
// leftover of N mod 32): the 8×32 tile would multiply mostly padding there (a 4-column tail does
// 16 zmm VPDPBUSD per quad for 4 live columns). Here the lanes are output rows: two 8-row weight
// panels side by side fill a zmm (16 rows × 4 k), and per quad group each live column's
// activation quad is broadcast against it — one zmm VPDPBUSD per 16 rows and live column, every
// column of the tail in one pass (the weights are read once: N = 9 took three passes before).
// bt: the tail's quads, [k/4][tw][4] with tw = round_up(nr, 4) (zero past nr).
enum { TAIL_MAX = 16 };

static inline __attribute__((always_inline)) TARGET __m512i bcast_quad(const uint8_t *q) {
    int32_t v;
    memcpy(&v, q, sizeof v);
    return _mm512_set1_epi32(v);
}

// Rows 0–7 of quad group g from panel a0, rows 8–15 from a1.
static inline __attribute__((always_inline)) TARGET __m512i panel_pair(const int8_t *a0, const int8_t *a1, size_t g) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(a0 + g * 4 * MR));
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(a1 + g * 4 * MR));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// acc[j] = the 16 rows · column j's quads, j < C (a constant per instantiation). Up to 8
// columns, even and odd quad groups go to separate accumulators summed at the end (int32
// addition in another order: the same sums): with C chains of k4 dependent VPDPBUSD and C < 4
// the pass was latency-bound.
static inline __attribute__((always_inline)) TARGET void tail_dot(const size_t C, size_t k4, const int8_t *a0,
                                                                  const int8_t *a1, const uint8_t *q, size_t tw,
                                                                  __m512i acc[TAIL_MAX]) {
    __m512i e[TAIL_MAX], o[TAIL_MAX];
    const bool split = C <= 8;
#pragma GCC unroll 16
    for (size_t j = 0; j < C; j++) e[j] = o[j] = _mm512_setzero_si512();
    size_t g = 0;
    if (split) {
        for (; g + 1 < k4; g += 2) {
            const __m512i w0 = panel_pair(a0, a1, g), w1 = panel_pair(a0, a1, g + 1);
#pragma GCC unroll 16
            for (size_t j = 0; j < C; j++) {
                e[j] = _mm512_dpbusd_epi32(e[j], bcast_quad(q + 4 * j), w0);
                o[j] = _mm512_dpbusd_epi32(o[j], bcast_quad(q + 4 * tw + 4 * j), w1);
            }
            q += 8 * tw;
        }
    }
    for (; g < k4; g++) {
        const __m512i w = panel_pair(a0, a1, g);
#pragma GCC unroll 16
        for (size_t j = 0; j < C; j++) e[j] = _mm512_dpbusd_epi32(e[j], bcast_quad(q + 4 * j), w);
        q += 4 * tw;
    }
#pragma GCC unroll 16
    for (size_t j = 0; j < C; j++) acc[j] = split ? _mm512_add_epi32(e[j], o[j]) : e[j];
}

// After the two packs, byte (128-bit lane L, 4j + i) of group vector z[k] holds column 4k + j of
// row 4L + i. One in-lane byte shuffle per group makes it (L, 4i + j): row 4L + i's 4 columns of
// the group in dword i; a 4×4 dword transpose across the groups (in-lane unpacks) then gives
// r[i] with row 4L + i's 16 columns in lane L. (No VPERMB: VBMI is not part of this path.)
static inline __attribute__((always_inline)) TARGET void tail_rows_of(__m512i z[4], __m512i r[4]) {
    const __m512i tr = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i a = _mm512_shuffle_epi8(z[0], tr), b = _mm512_shuffle_epi8(z[1], tr);
    const __m512i c = _mm512_shuffle_epi8(z[2], tr), d = _mm512_shuffle_epi8(z[3], tr);
    const __m512i t0 = _mm512_unpacklo_epi32(a, b), t1 = _mm512_unpackhi_epi32(a, b);
    const __m512i t2 = _mm512_unpacklo_epi32(c, d), t3 = _mm512_unpackhi_epi32(c, d);
    r[0] = _mm512_unpacklo_epi64(t0, t2), r[1] = _mm512_unpackhi_epi64(t0, t2);
    r[2] = _mm512_unpacklo_epi64(t1, t3), r[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Up to 4 rows (n live) of up to 16 bytes (mask m), one masked store each.
static inline __attribute__((always_inline)) TARGET void store_rows4(uint8_t *c, size_t ldc, __mmask16 m, size_t n,
                                                                     __m128i x0, __m128i x1, __m128i x2, __m128i x3) {
    _mm_mask_storeu_epi8(c, m, x0);
    if (n > 1) _mm_mask_storeu_epi8(c + ldc, m, x1);
    if (n > 2) _mm_mask_storeu_epi8(c + 2 * ldc, m, x2);
    if (n > 3) _mm_mask_storeu_epi8(c + 3 * ldc, m, x3);
}

// 16 rows (live: `rows`) × C columns of one panel pair. The epilogue constants are per lane
// (row): the per-lane 32-bit requant form (q8_x86_requant.h) when every live row's shift ≥ 2,
// then int16 zero point and clamp and the byte packs as in tile_store, a transpose into row
// order (tail_rows_of), each row one masked store; otherwise the 64-bit per-lane form through a
// small buffer.
static inline __attribute__((always_inline)) TARGET void tail_pair(const size_t C, size_t k4, const int8_t *a0,
                                                                   const int8_t *a1, const uint8_t *bt, size_t tw,
                                                                   size_t m0, size_t rows, const int32_t *acc_init,
                                                                   const flotilla_q8_requant *rq, uint8_t *c,
                                                                   size_t ldc) {
    __m512i acc[TAIL_MAX];
    tail_dot(C, k4, a0, a1, bt, tw, acc);
    const __mmask16 live = rows >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rows) - 1u);
    __m512i mult, sh;
    if (rq->per_channel) {
        mult = _mm512_maskz_loadu_epi32(live, rq->multiplier + m0);
        sh = _mm512_maskz_loadu_epi32(live, rq->shift + m0);
    } else {
        mult = _mm512_set1_epi32(rq->multiplier[0]);
        sh = _mm512_set1_epi32(rq->shift[0]);
    }
    // Padding rows of the last 8-row panel have acc_init 0; rows past that are never loaded.
    const __m512i init = _mm512_maskz_loadu_epi32(live, acc_init + m0);
    // Every live lane's shift ≥ 2 (flotilla_q8_requant_hi_ok); dead lanes get don't-care values.
    const __mmask16 hi_ok = _mm512_mask_cmpge_epi32_mask(live, sh, _mm512_set1_epi32(2));
    const __mmask16 cmask = (__mmask16)((1u << C) - 1u);
    if (hi_ok == live) {
        const __m512i one = _mm512_set1_epi32(1);
        const __m512i cnt = _mm512_sub_epi32(sh, one);                              // n − 32
        const __m512i rnd = _mm512_sllv_epi32(one, _mm512_sub_epi32(sh, _mm512_set1_epi32(2)));  // 2ⁿ⁻³³
        const __m512i m_odd = _mm512_srli_epi64(mult, 32);
        const __m512i zp16 = _mm512_set1_epi16((int16_t)rq->zero_point);
        const __m512i lo16 = _mm512_set1_epi16((int16_t)rq->qmin), hi16 = _mm512_set1_epi16((int16_t)rq->qmax);
        const bool u8 = rq->type == FLOTILLA_Q8_U8;
        __m512i q[TAIL_MAX + 3];
#pragma GCC unroll 16
        for (size_t j = 0; j < C; j++) {
            q[j] = flotilla_q8_requant16_hi_lanes_avx512(_mm512_add_epi32(acc[j], init), mult, m_odd, rnd, cnt);
        }
#pragma GCC unroll 3
        for (size_t j = C; j < TAIL_MAX + 3; j++) q[j] = _mm512_setzero_si512();
        __m512i z[4];
#pragma GCC unroll 4
        for (size_t k = 0; k < 4; k++) {
            if (4 * k >= C) {
                z[k] = _mm512_setzero_si512();
                continue;
            }
            // Saturation to int16 cannot change a clamped result (see tile_store).
            __m512i v01 = _mm512_adds_epi16(_mm512_packs_epi32(q[4 * k], q[4 * k + 1]), zp16);
            __m512i v23 = _mm512_adds_epi16(_mm512_packs_epi32(q[4 * k + 2], q[4 * k + 3]), zp16);
            v01 = _mm512_min_epi16(_mm512_max_epi16(v01, lo16), hi16);
            v23 = _mm512_min_epi16(_mm512_max_epi16(v23, lo16), hi16);
            z[k] = u8 ? _mm512_packus_epi16(v01, v23) : _mm512_packs_epi16(v01, v23);
        }
        __m512i r[4];
        tail_rows_of(z, r);
        // Row 4L + i from lane L of r[i].
        store_rows4(c, ldc, cmask, rows, _mm512_castsi512_si128(r[0]), _mm512_castsi512_si128(r[1]),
                    _mm512_castsi512_si128(r[2]), _mm512_castsi512_si128(r[3]));
        if (rows <= 4) return;
        store_rows4(c + 4 * ldc, ldc, cmask, rows - 4, _mm512_extracti32x4_epi32(r[0], 1),
                    _mm512_extracti32x4_epi32(r[1], 1), _mm512_extracti32x4_epi32(r[2], 1),
                    _mm512_extracti32x4_epi32(r[3], 1));
        if (rows <= 8) return;
        store_rows4(c + 8 * ldc, ldc, cmask, rows - 8, _mm512_extracti32x4_epi32(r[0], 2),
                    _mm512_extracti32x4_epi32(r[1], 2), _mm512_extracti32x4_epi32(r[2], 2),
                    _mm512_extracti32x4_epi32(r[3], 2));
        if (rows <= 12) return;
        store_rows4(c + 12 * ldc, ldc, cmask, rows - 12, _mm512_extracti32x4_epi32(r[0], 3),
                    _mm512_extracti32x4_epi32(r[1], 3), _mm512_extracti32x4_epi32(r[2], 3),
                    _mm512_extracti32x4_epi32(r[3], 3));
        return;
    }
    const __m512i n = _mm512_add_epi32(sh, _mm512_set1_epi32(31));
    uint8_t cols[TAIL_MAX][16];
#pragma GCC unroll 16
    for (size_t j = 0; j < C; j++) {
        _mm_storeu_si128((__m128i *)(void *)cols[j],
                         flotilla_q8_requant16_lanes_avx512(_mm512_add_epi32(acc[j], init), mult, n, rq->zero_point,
                                                            rq->qmin, rq->qmax));
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < C; j++) c[r * ldc + j] = cols[j][r];
    }
}

// All panel pairs for a tail of C columns.
static inline __attribute__((always_inline)) TARGET void tail_pairs(const size_t C, size_t M, size_t k4,
                                                                    const int8_t *w, const uint8_t *bt,
                                                                    const int32_t *acc_init,
                                                                    const flotilla_q8_requant *rq, uint8_t *c,
                                                                    size_t ldc) {
    const size_t tw = flotilla_q8_round_up(C, 4), panels = flotilla_q8_round_up(M, MR) / MR;
    for (size_t p = 0; p < panels; p += 2) {
        const size_t m0 = p * MR;
        const size_t rows = M - m0 < 2 * MR ? M - m0 : 2 * MR;
        // The odd last panel runs against itself; its second half is discarded.
        const int8_t *a0 = w + p * k4 * 4 * MR, *a1 = p + 1 < panels ? a0 + k4 * 4 * MR : a0;
        tail_pair(C, k4, a0, a1, bt, tw, m0, rows, acc_init, rq, c + m0 * ldc, ldc);
    }
}

#define TAIL_ROWS(n)                                                                                          \
    static __attribute__((noinline)) TARGET void tail_rows_##n(size_t M, size_t k4, const int8_t *w,         \
                                                               const uint8_t *bt, const int32_t *acc_init,    \
                                                               const flotilla_q8_requant *rq, uint8_t *c,     \
                                                               size_t ldc) {                                  \
        tail_pairs(n, M, k4, w, bt, acc_init, rq, c, ldc);                                                    \
    }
TAIL_ROWS(1)
TAIL_ROWS(2)
TAIL_ROWS(3)
TAIL_ROWS(4)
TAIL_ROWS(5)
TAIL_ROWS(6)
TAIL_ROWS(7)
TAIL_ROWS(8)
TAIL_ROWS(9)
TAIL_ROWS(10)
TAIL_ROWS(11)
TAIL_ROWS(12)
TAIL_ROWS(13)
TAIL_ROWS(14)
TAIL_ROWS(15)
TAIL_ROWS(16)

// The column count as a constant: a 1-column GEMM (N = 1) does 1/9 of the N = 9 work.
static TARGET void tail_rows(size_t M, size_t k4, const int8_t *w, const uint8_t *bt, size_t nr,
                             const int32_t *acc_init, const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    typedef void (*tail_fn)(size_t, size_t, const int8_t *, const uint8_t *, const int32_t *,
                            const flotilla_q8_requant *, uint8_t *, size_t);
    static const tail_fn fns[TAIL_MAX] = {tail_rows_1,  tail_rows_2,  tail_rows_3,  tail_rows_4,
                                          tail_rows_5,  tail_rows_6,  tail_rows_7,  tail_rows_8,
                                          tail_rows_9,  tail_rows_10, tail_rows_11, tail_rows_12,
                                          tail_rows_13, tail_rows_14, tail_rows_15, tail_rows_16};
    if (nr == 0 || nr > TAIL_MAX) return;
    fns[nr - 1](M, k4, w, bt, acc_init, rq, c, ldc);
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

// 64 columns × rows k..k+3 of B as 4 × 16 quads (columns 16i.. in q[i]; rows past K zero, live
// rows XOR flip): the zmm form of quads16, as flotilla_q8_pack_b_quads_32__avx512 does it — a
// dword transpose per row, then the in-lane byte and word unpacks.
static inline __attribute__((always_inline)) TARGET void quads64(const uint8_t *s, size_t ldb, size_t live_rows,
                                                                 __m512i f, __m512i q[4]) {
    const __m512i z = _mm512_setzero_si512();
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i r0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)s), f);
    __m512i r1 = live_rows > 1 ? _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + ldb)), f) : z;
    __m512i r2 = live_rows > 2 ? _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + 2 * ldb)), f) : z;
    __m512i r3 = live_rows > 3 ? _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + 3 * ldb)), f) : z;
    r0 = _mm512_permutexvar_epi32(idx, r0), r1 = _mm512_permutexvar_epi32(idx, r1);
    r2 = _mm512_permutexvar_epi32(idx, r2), r3 = _mm512_permutexvar_epi32(idx, r3);
    const __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
    const __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
    q[0] = _mm512_unpacklo_epi16(t0, t2), q[1] = _mm512_unpackhi_epi16(t0, t2);
    q[2] = _mm512_unpacklo_epi16(t1, t3), q[3] = _mm512_unpackhi_epi16(t1, t3);
}

// One 32-column panel (quads bv) against the weight rows [mb, mb + mb_rows).
static inline __attribute__((always_inline)) TARGET void small_k_rows(size_t K4, __m512i bv[SMALL_K4][2], size_t M,
                                                                      size_t mb, size_t mb_rows, const int8_t *w,
                                                                      const int32_t *acc_init, const row_block *rb,
                                                                      const flotilla_q8_requant *rq, uint8_t *C,
                                                                      size_t ldc) {
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
        // Full tiles with a constant row count: no per-row exit test in the epilogue.
        if (M - m0 >= MR) {
            tile_store(acc, rb, m0 - mb, rq, C + m0 * ldc, ldc, MR, NR);
        } else {
            tile_store(acc, rb, m0 - mb, rq, C + m0 * ldc, ldc, M - m0, NR);
        }
    }
}

// Full 32-column panels [0, N) with K4 (a constant per instantiation) quad groups; pairs of
// panels build their quads 64 columns at a time on zmm (3.4× fewer shuffles than quads16).
static inline __attribute__((always_inline)) TARGET void small_k_panels(size_t K4, size_t M, size_t N, size_t K,
                                                                        const int8_t *w, const int32_t *acc_init,
                                                                        const uint8_t *B, size_t ldb, uint8_t flip,
                                                                        const flotilla_q8_requant *rq, uint8_t *C,
                                                                        size_t ldc) {
    row_block rb;
    const __m128i f = _mm_set1_epi8((char)flip);
    const __m512i f512 = _mm512_set1_epi8((char)flip);
    for (size_t mb = 0; mb < M; mb += RB) {
        const size_t mb_rows = M - mb < RB ? M - mb : RB;
        row_requants(rq, mb, mb_rows, &rb);
        size_t n0 = 0;
        for (; n0 + 2 * NR <= N; n0 += 2 * NR) {
            __m512i q[SMALL_K4][4];
#pragma GCC unroll 4
            for (size_t g = 0; g < K4; g++) {
                const size_t live = K - 4 * g < 4 ? K - 4 * g : 4;
                quads64(B + 4 * g * ldb + n0, ldb, live, f512, q[g]);
            }
            __m512i bv[SMALL_K4][2];
#pragma GCC unroll 4
            for (size_t g = 0; g < K4; g++) bv[g][0] = q[g][0], bv[g][1] = q[g][1];
            small_k_rows(K4, bv, M, mb, mb_rows, w, acc_init, &rb, rq, C + n0, ldc);
#pragma GCC unroll 4
            for (size_t g = 0; g < K4; g++) bv[g][0] = q[g][2], bv[g][1] = q[g][3];
            small_k_rows(K4, bv, M, mb, mb_rows, w, acc_init, &rb, rq, C + n0 + NR, ldc);
        }
        for (; n0 < N; n0 += NR) {
            __m512i bv[SMALL_K4][2];
#pragma GCC unroll 4
            for (size_t g = 0; g < K4; g++) {
                const size_t live = K - 4 * g < 4 ? K - 4 * g : 4;
                bv[g][0] = quads16(B + 4 * g * ldb + n0, ldb, live, f);
                bv[g][1] = quads16(B + 4 * g * ldb + n0 + 16, ldb, live, f);
            }
            small_k_rows(K4, bv, M, mb, mb_rows, w, acc_init, &rb, rq, C + n0, ldc);
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
    flotilla_q8_pack_b_quads_32__avx512(n_tiles, K, (const uint8_t *)B, ldb, flip, bq);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    // Blocks of RB rows (their epilogue constants computed once), in each the N panels, in
    // each the block's weight panels: a panel's quads (K × 32 bytes) stay in L1 while the
    // block's weights (RB × K bytes) pass.
    row_block rb;
    for (size_t mb = 0; n_tiles > 0 && mb < M; mb += RB) {
        const size_t mb_rows = M - mb < RB ? M - mb : RB;
        row_requants(rq, mb, mb_rows, &rb);
        for (size_t n0 = 0; n0 < n_tiles; n0 += NR) {
            const size_t nr = n_tiles - n0 < NR ? n_tiles - n0 : NR;
            const uint8_t *bp = bq + (n0 / NR) * k4 * 4 * NR;
            for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                const size_t rows = M - m0 < MR ? M - m0 : MR;
                tile(k4, w + (m0 / MR) * k4 * 4 * MR, bp, acc_init + m0, &rb, m0 - mb, rq,
                     (uint8_t *)C + m0 * ldc + n0, ldc, rows, nr);
            }
        }
    }
    if (tail > 0) {
        uint8_t *bt = bq + flotilla_q8_pack_b_quads_size(n_tiles, K, NR);
        flotilla_q8_pack_b_quads_tail__avx512(tail, K, (const uint8_t *)B + n_tiles, ldb, flip, bt);
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
    row_block rb;
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
            row_requants(rq, mb, mb_rows, &rb);
            for (size_t c0 = 0; c0 < n_tiles; c0 += NR) {
                const size_t nr = n_tiles - c0 < NR ? n_tiles - c0 : NR;
                const uint8_t *bp = bq + (c0 / NR) * k4 * 4 * NR;
                for (size_t m0 = mb; m0 < mb + mb_rows; m0 += MR) {
                    const size_t rows = M - m0 < MR ? M - m0 : MR;
                    tile(k4, w + (m0 / MR) * k4 * 4 * MR, bp, acc_init + m0, &rb, m0 - mb, rq, cb + m0 * ldc + c0,
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
