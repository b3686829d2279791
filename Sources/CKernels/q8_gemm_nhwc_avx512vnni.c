// AVX-512 VNNI channels-last int8 GEMM (the table's gemm_nhwc): C[n][m] = requant(acc_init[m] +
// Σ_k A[n][k]·W[m][k]) on the weights gemm_pack wrote for the NCHW kernel (8-row panels of k
// quads), with no repack of anything per call.
//
// Lanes are output channels: two 8-row panels side by side are one zmm of 16 channels × 4 k
// (the s8 operand of VPDPBUSD), a pixel's 4 activation bytes are broadcast as the u8 operand
// (s8 activations XORed with 0x80; the pack folded the +128 into acc_init). A tile is R ≤ 6
// pixels × up to 4 zmm (64 channels): the weights of a quad group are loaded once per tile and
// used by every pixel. Channel blocks of 64 are the outer loop, so each block's per-lane
// requant constants are computed once and its weights (64·K bytes) stay in L1 over all N.
//
// Blocks of ≤ 8 channels (M = 8) run one ymm per pixel instead (pairs_run, below).
//
// A's reads: whole quads for k < 4·⌊K/4⌋; the last K mod 4 bytes of each row with a masked
// load (masked-off bytes are never touched, so nothing past A + (N−1)·lda + K is read even
// when A ends at a page boundary).
#include "q8_internal.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

enum { MR = 8, CB = 64, NC_MAX = 4, R_MAX = 6 };
// How a block's lanes requantize: the per-lane 32-bit form with the output zero point folded
// into the rounding term, the 32-bit form with a separate zero point add, or (some lane's shift
// < 2) the 64-bit per-lane form. See q8_x86_requant.h and q8_gemm_avx512vnni.c's row_block.
enum { MODE_FOLD = 0, MODE_HI = 1, MODE_64 = 2 };

size_t flotilla_q8_gemm_nhwc_workspace_size__avx512vnni(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

// One block of up to 64 output channels: its weight panels, its accumulator start values and
// its requant constants, per 16-channel chunk.
typedef struct block {
    __m512i init[NC_MAX], mult[NC_MAX], m_odd[NC_MAX], rnd[NC_MAX], cnt[NC_MAX];
    flotilla_q8_lanes16_avx512 wide[NC_MAX];  // MODE_64 only
    __m512i lo64, hi64, zp32, zp16, lo8, hi8;
    const int8_t *w0[NC_MAX], *w1[NC_MAX];  // the chunk's two panels (w1 = w0 past the last panel)
    __mmask64 live_mask;                    // the block's live output bytes of one pixel
    size_t live;
    int mode;
    bool clamp, u8;
} block;

// Vectorized per 16-lane chunk (a scalar setup cost as much as the dot products of a 9-pixel
// layer): masked loads of the live lanes; dead lanes get multiplier 0, shift 2 and init 0
// (harmless, never stored).
static TARGET void block_setup(size_t M, size_t m0, size_t k4, const int8_t *w, const int32_t *acc_init,
                               const flotilla_q8_requant *rq, block *b) {
    const size_t live = M - m0 < CB ? M - m0 : CB, panels = flotilla_q8_round_up(M, MR) / MR;
    const size_t nc = (live + 15) / 16;
    const int32_t z = rq->zero_point, az = z < 0 ? -z : z;
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    __m512i sh[NC_MAX];
    bool hi = true, fold = true;
    for (size_t c = 0; c < nc; c++) {
        const size_t left = live - 16 * c;
        const __mmask16 lm = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        if (rq->per_channel) {
            b->mult[c] = _mm512_maskz_loadu_epi32(lm, rq->multiplier + m0 + 16 * c);
            sh[c] = _mm512_mask_loadu_epi32(two, lm, rq->shift + m0 + 16 * c);
        } else {
            b->mult[c] = _mm512_maskz_mov_epi32(lm, _mm512_set1_epi32(rq->multiplier[0]));
            sh[c] = _mm512_mask_mov_epi32(two, lm, _mm512_set1_epi32(rq->shift[0]));
        }
        b->init[c] = _mm512_maskz_loadu_epi32(lm, acc_init + m0 + 16 * c);
        // flotilla_q8_requant_hi_ok per lane; the fold test (2|z| + 1)·2ⁿ⁻³³ ≤ 2³⁰ as
        // 2³⁰ >> (shift − 2) ≥ 2|z| + 1 (a negative count shifts everything out: not folded).
        if (_mm512_cmplt_epi32_mask(sh[c], two) != 0) hi = false;
        const __m512i room = _mm512_srlv_epi32(_mm512_set1_epi32(1 << 30), _mm512_sub_epi32(sh[c], two));
        if (_mm512_cmplt_epi32_mask(room, _mm512_set1_epi32(2 * az + 1)) != 0) fold = false;
    }
    fold = fold && hi;
    b->mode = fold ? MODE_FOLD : hi ? MODE_HI : MODE_64;
    const __m512i unit = fold ? _mm512_set1_epi32(2 * z + 1) : one;
    for (size_t c = 0; c < nc; c++) {
        const __m512i s = _mm512_max_epi32(sh[c], two);
        b->cnt[c] = _mm512_sub_epi32(s, one);                   // n − 32
        b->rnd[c] = _mm512_sllv_epi32(unit, _mm512_sub_epi32(s, two));  // 2ⁿ⁻³³, or (2z + 1)·2ⁿ⁻³³
        b->m_odd[c] = _mm512_srli_epi64(b->mult[c], 32);
        if (b->mode == MODE_64) {
            b->wide[c] = flotilla_q8_lanes16_make_avx512(b->mult[c], _mm512_add_epi32(sh[c], _mm512_set1_epi32(31)));
        }
        const size_t p = m0 / MR + 2 * c;
        b->w0[c] = w + p * k4 * 4 * MR;
        b->w1[c] = p + 1 < panels ? b->w0[c] + k4 * 4 * MR : b->w0[c];
    }
    b->lo64 = _mm512_set1_epi64(rq->qmin - z), b->hi64 = _mm512_set1_epi64(rq->qmax - z);
    b->zp32 = _mm512_set1_epi32(z), b->zp16 = _mm512_set1_epi16((int16_t)z);
    b->lo8 = _mm512_set1_epi8((char)rq->qmin), b->hi8 = _mm512_set1_epi8((char)rq->qmax);
    b->u8 = rq->type == FLOTILLA_Q8_U8;
    b->clamp = rq->qmin > (b->u8 ? 0 : -128) || rq->qmax < (b->u8 ? 255 : 127);
    b->live = live;
    b->live_mask = live >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << live) - 1u);
}

// Rows g of the chunk's two panels as one zmm: channels 0–7 from w0, 8–15 from w1.
static inline __attribute__((always_inline)) TARGET __m512i panel_pair(const int8_t *w0, const int8_t *w1, size_t g) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(w0 + g * 4 * MR));
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(w1 + g * 4 * MR));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// The 64-bit per-lane form (a lane's multiplier ≥ 1/4: rare), from accumulators in memory.
static __attribute__((noinline, cold)) TARGET void store_64(const int32_t *acc, size_t R, size_t NC, const block *b,
                                                            uint8_t *c, size_t ldc) {
    for (size_t r = 0; r < R; r++) {
        for (size_t ch = 0; ch < NC; ch++) {
            const __m128i y = flotilla_q8_requant16_lanes_pre_avx512(
                _mm512_loadu_si512((const void *)(acc + r * CB + 16 * ch)), &b->wide[ch], b->lo64, b->hi64, b->zp32);
            _mm_mask_storeu_epi8(c + r * ldc + 16 * ch, (__mmask16)(b->live_mask >> (16 * ch)), y);
        }
    }
}

// One pixel's NC chunks → its bytes in channel order. After the int16 and byte packs, 128-bit
// lane L holds, in dword j, chunk j's channels 4L … 4L + 3; one dword permute puts dword (L, j)
// at 4j + L. Saturation in the packs cannot change a clamped result (|q| ≥ 2¹⁵ lies beyond every
// clamp bound ± zero point), and with the type's whole range the saturating byte pack is the clamp.
static inline __attribute__((always_inline)) TARGET void pixel_store(const size_t NC, const __m512i acc[NC_MAX],
                                                                     const block *b, bool fold, bool full,
                                                                     __m512i order, uint8_t *c) {
    __m512i q[NC_MAX];
#pragma GCC unroll 4
    for (size_t j = 0; j < NC; j++) {
        q[j] = flotilla_q8_requant16_hi_lanes_avx512(acc[j], b->mult[j], b->m_odd[j], b->rnd[j], b->cnt[j]);
    }
    __m512i v01 = _mm512_packs_epi32(q[0], NC > 1 ? q[1] : q[0]);
    if (!fold) v01 = _mm512_adds_epi16(v01, b->zp16);
    __m512i v23 = v01;
    if (NC > 2) {
        v23 = _mm512_packs_epi32(q[2], NC > 3 ? q[3] : q[2]);
        if (!fold) v23 = _mm512_adds_epi16(v23, b->zp16);
    }
    __m512i y = b->u8 ? _mm512_packus_epi16(v01, v23) : _mm512_packs_epi16(v01, v23);
    if (b->clamp) {
        y = b->u8 ? _mm512_min_epu8(_mm512_max_epu8(y, b->lo8), b->hi8)
                  : _mm512_min_epi8(_mm512_max_epi8(y, b->lo8), b->hi8);
    }
    y = _mm512_permutexvar_epi32(order, y);
    if (!full) {
        _mm512_mask_storeu_epi8(c, b->live_mask, y);
    } else if (NC == 1) {
        _mm_storeu_si128((__m128i *)(void *)c, _mm512_castsi512_si128(y));
    } else if (NC == 2) {
        _mm256_storeu_si256((__m256i *)(void *)c, _mm512_castsi512_si256(y));
    } else if (NC == 3) {
        _mm256_storeu_si256((__m256i *)(void *)c, _mm512_castsi512_si256(y));
        _mm_storeu_si128((__m128i *)(void *)(c + 32), _mm512_extracti32x4_epi32(y, 2));
    } else {
        _mm512_storeu_si512((void *)c, y);
    }
}

// R pixels (rows of A and C) × NC chunks of the block; R and NC are constants per instantiation.
static inline __attribute__((always_inline)) TARGET void tile(const bool s8, const size_t NC, const size_t R,
                                                              size_t k4f, size_t ktail, const uint8_t *a, size_t lda,
                                                              const block *b, uint8_t *c, size_t ldc) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[R_MAX][NC_MAX];
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 4
        for (size_t j = 0; j < NC; j++) acc[r][j] = b->init[j];
    }
    size_t g = 0;
    for (; g < k4f; g++) {
        __m512i w[NC_MAX];
#pragma GCC unroll 4
        for (size_t j = 0; j < NC; j++) w[j] = panel_pair(b->w0[j], b->w1[j], g);
#pragma GCC unroll 6
        for (size_t r = 0; r < R; r++) {
            int32_t quad;
            memcpy(&quad, a + r * lda + 4 * g, sizeof quad);
            const __m512i x = s8 ? _mm512_xor_si512(_mm512_set1_epi32(quad), flip) : _mm512_set1_epi32(quad);
#pragma GCC unroll 4
            for (size_t j = 0; j < NC; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], x, w[j]);
        }
    }
    if (ktail > 0) {  // the last K mod 4 bytes per row; the padding bytes meet zero weights
        const __mmask16 km = (__mmask16)((1u << ktail) - 1u);
        __m512i w[NC_MAX];
#pragma GCC unroll 4
        for (size_t j = 0; j < NC; j++) w[j] = panel_pair(b->w0[j], b->w1[j], g);
#pragma GCC unroll 6
        for (size_t r = 0; r < R; r++) {
            const __m128i bytes = _mm_maskz_loadu_epi8(km, a + r * lda + 4 * g);
            const __m512i x = s8 ? _mm512_xor_si512(_mm512_broadcastd_epi32(bytes), flip) : _mm512_broadcastd_epi32(bytes);
#pragma GCC unroll 4
            for (size_t j = 0; j < NC; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], x, w[j]);
        }
    }
    if (b->mode == MODE_64) {
        _Alignas(64) int32_t buf[R_MAX * CB];
#pragma GCC unroll 6
        for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 4
            for (size_t j = 0; j < NC; j++) _mm512_store_si512((void *)(buf + r * CB + 16 * j), acc[r][j]);
        }
        store_64(buf, R, NC, b, c, ldc);
        return;
    }
    const bool fold = b->mode == MODE_FOLD, full = b->live == 16 * NC;
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) pixel_store(NC, acc[r], b, fold, full, order, c + r * ldc);
}

// Every pixel of A against one block of NC chunks: tiles of R_MAX pixels, then the remainder
// as one tile of its own size. u8 and s8 activations are separate instantiations (no XOR for u8).
static inline __attribute__((always_inline)) TARGET void block_run(const bool s8, const size_t NC, size_t N, size_t K,
                                                                   const uint8_t *a, size_t lda, const block *b,
                                                                   uint8_t *c, size_t ldc) {
    const size_t k4f = K / 4, kt = K % 4;
    size_t n = 0;
    for (; n + R_MAX <= N; n += R_MAX) tile(s8, NC, R_MAX, k4f, kt, a + n * lda, lda, b, c + n * ldc, ldc);
    a += n * lda, c += n * ldc;
    switch (N - n) {
    case 1: tile(s8, NC, 1, k4f, kt, a, lda, b, c, ldc); break;
    case 2: tile(s8, NC, 2, k4f, kt, a, lda, b, c, ldc); break;
    case 3: tile(s8, NC, 3, k4f, kt, a, lda, b, c, ldc); break;
    case 4: tile(s8, NC, 4, k4f, kt, a, lda, b, c, ldc); break;
    case 5: tile(s8, NC, 5, k4f, kt, a, lda, b, c, ldc); break;
    default: break;
    }
}

typedef void (*block_fn)(size_t N, size_t K, const uint8_t *a, size_t lda, const block *b, uint8_t *c, size_t ldc);
#define BLOCK_RUN(name, s8, nc)                                                                                   \
    static __attribute__((noinline)) TARGET void name(size_t N, size_t K, const uint8_t *a, size_t lda,           \
                                                      const block *b, uint8_t *c, size_t ldc) {                   \
        block_run(s8, nc, N, K, a, lda, b, c, ldc);                                                               \
    }
BLOCK_RUN(block_u8_1, false, 1)
BLOCK_RUN(block_u8_2, false, 2)
BLOCK_RUN(block_u8_3, false, 3)
BLOCK_RUN(block_u8_4, false, 4)
BLOCK_RUN(block_s8_1, true, 1)
BLOCK_RUN(block_s8_2, true, 2)
BLOCK_RUN(block_s8_3, true, 3)
BLOCK_RUN(block_s8_4, true, 4)

// A block of at most 8 channels (M ≤ 8: the 8-channel projections of the first MobileNet
// blocks): one panel would fill half a zmm, so each zmm holds two pixels instead — the panel's
// quad row broadcast to both halves, pixel n's activation quad in lanes 0–7 and pixel n + 1's in
// lanes 8–15. Tiles of up to PAIRS_MAX pairs; the requant constants are chunk 0's first 8 lanes
// in both halves. The permute of pixel_store's packs then leaves pixel 2j + s's 8 bytes at byte
// 16j + 8s: pixels in order, 8 bytes each (q_j's lane L = 2s + h holds its channels 4h … 4h + 3).
enum { PAIRS_MAX = 8 };

static inline __attribute__((always_inline)) TARGET __m512i dup8(__m512i v) {
    return _mm512_shuffle_i64x2(v, v, 0x44);  // lanes 0–7 to 8–15
}

// Pixel quad (bytes = 4, or K mod 4 by a masked load) broadcast to 8 lanes, XORed for s8.
static inline __attribute__((always_inline)) TARGET __m256i quad8(const bool s8, const uint8_t *p, size_t bytes) {
    __m256i x;
    if (bytes == 4) {
        int32_t q;
        memcpy(&q, p, sizeof q);
        x = _mm256_set1_epi32(q);
    } else {
        x = _mm256_broadcastd_epi32(_mm_maskz_loadu_epi8((__mmask16)((1u << bytes) - 1u), p));
    }
    return s8 ? _mm256_xor_si256(x, _mm256_set1_epi8((char)0x80)) : x;
}

// P pairs (a constant per instantiation) covering pixels [0, npix), npix > 2P − 2; an odd last
// pixel is computed twice and stored once. The dot products run on ymm (8 lanes, VPDPBUSD with
// the weights as its memory operand: a broadcast load and the instruction per pixel and quad,
// no shuffle), the two pixels of a pair join one zmm for the epilogue.
static inline __attribute__((always_inline)) TARGET void pair_tile(const bool s8, const size_t P, size_t npix,
                                                                   size_t K, const uint8_t *a, size_t lda,
                                                                   const block *b, const __m512i pc[4], uint8_t *c,
                                                                   size_t ldc) {
    __m256i accy[2 * PAIRS_MAX];
    const __m256i init = _mm512_castsi512_si256(b->init[0]);
#pragma GCC unroll 16
    for (size_t i = 0; i < 2 * P; i++) accy[i] = init;
    const uint8_t *row[2 * PAIRS_MAX];
#pragma GCC unroll 16
    for (size_t i = 0; i < 2 * P; i++) row[i] = a + (i < npix ? i : npix - 1) * lda;
    const size_t k4f = K / 4;
    for (size_t g = 0; g < k4f; g++) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(b->w0[0] + 32 * g));
#pragma GCC unroll 16
        for (size_t i = 0; i < 2 * P; i++) accy[i] = _mm256_dpbusd_epi32(accy[i], quad8(s8, row[i] + 4 * g, 4), w);
    }
    if (K % 4 != 0) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(b->w0[0] + 32 * k4f));
#pragma GCC unroll 16
        for (size_t i = 0; i < 2 * P; i++) accy[i] = _mm256_dpbusd_epi32(accy[i], quad8(s8, row[i] + 4 * k4f, K % 4), w);
    }
    __m512i acc[PAIRS_MAX];
#pragma GCC unroll 8
    for (size_t j = 0; j < P; j++) acc[j] = _mm512_inserti64x4(_mm512_castsi256_si512(accy[2 * j]), accy[2 * j + 1], 1);
    if (b->mode == MODE_64) {
        _Alignas(64) int32_t buf[2 * PAIRS_MAX * CB];
#pragma GCC unroll 8
        for (size_t j = 0; j < P; j++) {
            // Pixel 2j's lanes to row 2j of buf, pixel 2j + 1's to row 2j + 1 (lanes 0–7 each).
            _mm512_store_si512((void *)(buf + 2 * j * CB), acc[j]);
            _mm512_store_si512((void *)(buf + (2 * j + 1) * CB), _mm512_shuffle_i64x2(acc[j], acc[j], 0xEE));
        }
        store_64(buf, npix, 1, b, c, ldc);
        return;
    }
    const bool fold = b->mode == MODE_FOLD;
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const bool dense = b->live == 8 && ldc == 8;
    const __mmask16 lm = (__mmask16)((1u << b->live) - 1u);
#pragma GCC unroll 2
    for (size_t j0 = 0; j0 < P; j0 += 4) {
        __m512i q[4];
#pragma GCC unroll 4
        for (size_t j = 0; j < 4; j++) {
            q[j] = j0 + j < P ? flotilla_q8_requant16_hi_lanes_avx512(acc[j0 + j], pc[0], pc[1], pc[2], pc[3]) : _mm512_setzero_si512();
        }
        __m512i v01 = _mm512_packs_epi32(q[0], q[1]), v23 = _mm512_packs_epi32(q[2], q[3]);
        if (!fold) v01 = _mm512_adds_epi16(v01, b->zp16), v23 = _mm512_adds_epi16(v23, b->zp16);
        __m512i y = b->u8 ? _mm512_packus_epi16(v01, v23) : _mm512_packs_epi16(v01, v23);
        if (b->clamp) {
            y = b->u8 ? _mm512_min_epu8(_mm512_max_epu8(y, b->lo8), b->hi8)
                      : _mm512_min_epi8(_mm512_max_epi8(y, b->lo8), b->hi8);
        }
        y = _mm512_permutexvar_epi32(order, y);
        const size_t p0 = 2 * j0, np = npix - p0 < 8 ? npix - p0 : 8;
        uint8_t *cp = c + p0 * ldc;
        if (dense) {
            _mm512_mask_storeu_epi8(cp, np >= 8 ? ~(__mmask64)0 : (((__mmask64)1 << (8 * np)) - 1u), y);
            continue;
        }
#pragma GCC unroll 4
        for (size_t l = 0; l < 4; l++) {
            if (2 * l >= np) break;
            const __m128i lane = l == 0 ? _mm512_castsi512_si128(y)
                                 : l == 1 ? _mm512_extracti32x4_epi32(y, 1)
                                 : l == 2 ? _mm512_extracti32x4_epi32(y, 2)
                                          : _mm512_extracti32x4_epi32(y, 3);
            _mm_mask_storeu_epi8(cp + 2 * l * ldc, lm, lane);
            if (2 * l + 1 < np) _mm_mask_storeu_epi8(cp + (2 * l + 1) * ldc, lm, _mm_unpackhi_epi64(lane, lane));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void pairs_run(const bool s8, size_t N, size_t K,
                                                                   const uint8_t *a, size_t lda, const block *b,
                                                                   uint8_t *c, size_t ldc) {
    const __m512i pc[4] = {dup8(b->mult[0]), dup8(b->m_odd[0]), dup8(b->rnd[0]), dup8(b->cnt[0])};
    size_t n = 0;
    for (; n + 2 * PAIRS_MAX <= N; n += 2 * PAIRS_MAX) {
        pair_tile(s8, PAIRS_MAX, 2 * PAIRS_MAX, K, a + n * lda, lda, b, pc, c + n * ldc, ldc);
    }
    const size_t rest = N - n;
    a += n * lda, c += n * ldc;
    switch ((rest + 1) / 2) {
    case 1: pair_tile(s8, 1, rest, K, a, lda, b, pc, c, ldc); break;
    case 2: pair_tile(s8, 2, rest, K, a, lda, b, pc, c, ldc); break;
    case 3: pair_tile(s8, 3, rest, K, a, lda, b, pc, c, ldc); break;
    case 4: pair_tile(s8, 4, rest, K, a, lda, b, pc, c, ldc); break;
    case 5: pair_tile(s8, 5, rest, K, a, lda, b, pc, c, ldc); break;
    case 6: pair_tile(s8, 6, rest, K, a, lda, b, pc, c, ldc); break;
    case 7: pair_tile(s8, 7, rest, K, a, lda, b, pc, c, ldc); break;
    case 8: pair_tile(s8, 8, rest, K, a, lda, b, pc, c, ldc); break;
    default: break;
    }
}

static __attribute__((noinline)) TARGET void pairs_run_u8(size_t N, size_t K, const uint8_t *a, size_t lda,
                                                          const block *b, uint8_t *c, size_t ldc) {
    pairs_run(false, N, K, a, lda, b, c, ldc);
}

static __attribute__((noinline)) TARGET void pairs_run_s8(size_t N, size_t K, const uint8_t *a, size_t lda,
                                                          const block *b, uint8_t *c, size_t ldc) {
    pairs_run(true, N, K, a, lda, b, c, ldc);
}

TARGET flotilla_q8_status flotilla_q8_gemm_nhwc__avx512vnni(size_t M, size_t N, size_t K, const void *packed,
                                                            const void *A, size_t lda, const flotilla_q8_requant *rq,
                                                            void *C, size_t ldc, void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_AVX512VNNI, FLOTILLA_Q8_LAYOUT_AVX512VNNI);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    if (N == 0 || M == 0 || K == 0) return FLOTILLA_Q8_OK;
    const size_t k4 = h->k_padded / 4;
    const bool s8 = h->x_type == FLOTILLA_Q8_S8;
    static const block_fn fns[2][NC_MAX] = {{block_u8_1, block_u8_2, block_u8_3, block_u8_4},
                                            {block_s8_1, block_s8_2, block_s8_3, block_s8_4}};
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    block b;
    for (size_t m0 = 0; m0 < M; m0 += b.live) {
        // A last block of 16j + (1…8) channels (24, 56) runs as 16j channels, then the ≤ 8-channel
        // pass: a quarter less work than a zmm chunk with 8 dead lanes. The shortened M only
        // limits the block (every panel it uses exists).
        const size_t left = M - m0 < CB ? M - m0 : CB, odd = left % 16;
        block_setup(left > 16 && odd > 0 && odd <= 8 ? m0 + left - odd : M, m0, k4, w, acc_init, rq, &b);
        uint8_t *c = (uint8_t *)C + m0;
        if (b.live <= 8) {
            (s8 ? pairs_run_s8 : pairs_run_u8)(N, K, (const uint8_t *)A, lda, &b, c, ldc);
        } else {
            fns[s8][(b.live + 15) / 16 - 1](N, K, (const uint8_t *)A, lda, &b, c, ldc);
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
