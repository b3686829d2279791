// Byte matrix transposes (the `transpose8` entry: NCHW ↔ NHWC at the edges of a channels-last
// region, e.g. the stem's 16 × 2304 output and a 1280 × 9 head). Built on the 16×16 byte
// transpose of q8_dwconv_cl.h (four rounds of byte interleaves, registers indexed by constants).
// Edges are exact: partial tiles load only the rows × cols bytes (masked loads or bounded
// copies) and store only inside the destination region, so bytes between cols and lds (rows
// and ldd) are neither read nor written.
#include "q8_dwconv_cl.h"

// n < 16 bytes as a vector (the rest zero) and back, in 8/4/2/1-byte pieces: a partial tile's
// rows (the 9-column edge of a 1280 × 9 head) without a variable-length copy per row.
static inline void piece_load(const uint8_t *p, size_t n, uint64_t v[2]) {
    v[0] = v[1] = 0;
    size_t k = 0, w = 0;
    if (n & 8) memcpy(&v[0], p, 8), k = 8, w = 1;
    uint64_t t = 0;
    unsigned sh = 0;
    if (n & 4) {
        uint32_t a;
        memcpy(&a, p + k, 4);
        t |= a, k += 4, sh = 32;
    }
    if (n & 2) {
        uint16_t a;
        memcpy(&a, p + k, 2);
        t |= (uint64_t)a << sh, k += 2, sh += 16;
    }
    if (n & 1) t |= (uint64_t)p[k] << sh;
    v[w] = t;
}

static inline void piece_store(uint8_t *p, size_t n, const uint64_t v[2]) {
    size_t k = 0, w = 0;
    if (n & 8) memcpy(p, &v[0], 8), k = 8, w = 1;
    uint64_t t = v[w];
    if (n & 4) {
        const uint32_t a = (uint32_t)t;
        memcpy(p + k, &a, 4);
        t >>= 32, k += 4;
    }
    if (n & 2) {
        const uint16_t a = (uint16_t)t;
        memcpy(p + k, &a, 2);
        t >>= 16, k += 2;
    }
    if (n & 1) p[k] = (uint8_t)t;
}

#if defined(__x86_64__)
#include <immintrin.h>

// One tile of nr ≤ 16 rows × nc ≤ 16 columns: whole 16-byte rows when nc = 16 (loads) or
// nr = 16 (stores), pieces otherwise; rows past nr are zero, columns past nc never stored.
__attribute__((target("avx2"))) static inline void tile16_sse(size_t nr, size_t nc, const uint8_t *src, size_t lds,
                                                               uint8_t *dst, size_t ldd) {
    __m128i r[16];
    if (nr == 16 && nc == 16) {
        // Constant register indices throughout (a run-time loop kept r[] in memory under clang).
#define LD(j) r[j] = _mm_loadu_si128((const __m128i *)(const void *)(src + (j) * lds));
#define ST(k) _mm_storeu_si128((__m128i *)(void *)(dst + (k) * ldd), r[k]);
        CL_EACH16(LD)
        CL_TRANSPOSE(__m128i, _mm_unpacklo_epi8, _mm_unpackhi_epi8, r);
        CL_EACH16(ST)
#undef LD
#undef ST
        return;
    }
    for (size_t j = 0; j < 16; j++) {
        if (j >= nr) {
            r[j] = _mm_setzero_si128();
        } else if (nc == 16) {
            r[j] = _mm_loadu_si128((const __m128i *)(const void *)(src + j * lds));
        } else {
            uint64_t v[2];
            piece_load(src + j * lds, nc, v);
            r[j] = _mm_set_epi64x((long long)v[1], (long long)v[0]);
        }
    }
    CL_TRANSPOSE(__m128i, _mm_unpacklo_epi8, _mm_unpackhi_epi8, r);
    for (size_t k = 0; k < nc; k++) {
        if (nr == 16) {
            _mm_storeu_si128((__m128i *)(void *)(dst + k * ldd), r[k]);
        } else {
            const uint64_t v[2] = {(uint64_t)_mm_cvtsi128_si64(r[k]), (uint64_t)_mm_extract_epi64(r[k], 1)};
            piece_store(dst + k * ldd, nr, v);
        }
    }
}

__attribute__((target("avx2"))) void flotilla_q8_transpose8__avx2(size_t rows, size_t cols, const uint8_t *src,
                                                                  size_t lds, uint8_t *dst, size_t ldd) {
    for (size_t r0 = 0; r0 < rows; r0 += 16) {
        const size_t nr = rows - r0 < 16 ? rows - r0 : 16;
        for (size_t c0 = 0; c0 < cols; c0 += 16) {
            const size_t nc = cols - c0 < 16 ? cols - c0 : 16;
            tile16_sse(nr, nc, src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
        }
    }
}

#define T512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))

// 16 rows × 64 columns: one masked 64-byte load per row (four tiles side by side in the 128-bit
// lanes); after the transpose r[k], lane L is column 16L + k: a masked 16-byte store each.
T512 static inline void wide16x64(size_t nr, size_t nc, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    const __mmask64 cm = nc >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << nc) - 1);
    const __mmask16 rm = (__mmask16)((1u << nr) - 1);
    __m512i r[16];
#define LD(j) r[j] = (j) < nr ? _mm512_maskz_loadu_epi8(cm, src + (j) * lds) : _mm512_setzero_si512();
    CL_EACH16(LD)
#undef LD
    CL_TRANSPOSE(__m512i, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8, r);
    for (size_t k = 0; k < 16; k++) {
        const __m128i l[4] = {_mm512_castsi512_si128(r[k]), _mm512_extracti32x4_epi32(r[k], 1),
                              _mm512_extracti32x4_epi32(r[k], 2), _mm512_extracti32x4_epi32(r[k], 3)};
        for (size_t L = 0; L < 4; L++) {
            const size_t c = 16 * L + k;
            if (c >= nc) continue;
            if (nr == 16) {
                _mm_storeu_si128((__m128i *)(void *)(dst + c * ldd), l[L]);
            } else {
                _mm_mask_storeu_epi8(dst + c * ldd, rm, l[L]);
            }
        }
    }
}

// 64 rows × 16 columns: lane L of register j holds row 16L + j (masked 16-byte loads); after
// the transpose r[k] is column k's 64 rows: one masked 64-byte store per column.
T512 static inline void tall64x16(size_t nr, size_t nc, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    const __mmask16 cm = (__mmask16)(nc >= 16 ? 0xFFFFu : (1u << nc) - 1);
    const __mmask64 rm = nr >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << nr) - 1);
    __m512i r[16];
    for (size_t j = 0; j < 16; j++) {
        __m128i l[4];
        for (size_t L = 0; L < 4; L++) {
            const size_t row = 16 * L + j;
            l[L] = row < nr ? _mm_maskz_loadu_epi8(cm, src + row * lds) : _mm_setzero_si128();
        }
        r[j] = _mm512_inserti32x4(
            _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(l[0]), l[1], 1), l[2], 2), l[3], 3);
    }
    CL_TRANSPOSE(__m512i, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8, r);
#define ST(k)                                                                                     \
    if ((k) < nc) {                                                                               \
        if (nr == 64) {                                                                           \
            _mm512_storeu_si512((void *)(dst + (k) * ldd), r[k]);                                 \
        } else {                                                                                  \
            _mm512_mask_storeu_epi8(dst + (k) * ldd, rm, r[k]);                                   \
        }                                                                                         \
    }
    CL_EACH16(ST)
#undef ST
}

// Tall blocks when there are 64 rows to fill their 64-byte stores (2304 × 16, 1280 × 9), else
// wide ones (16 × 2304, 9 × 1280).
T512 void flotilla_q8_transpose8__avx512(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst,
                                        size_t ldd) {
    if (rows >= 64) {
        for (size_t r0 = 0; r0 < rows; r0 += 64) {
            const size_t nr = rows - r0 < 64 ? rows - r0 : 64;
            for (size_t c0 = 0; c0 < cols; c0 += 16) {
                const size_t nc = cols - c0 < 16 ? cols - c0 : 16;
                tall64x16(nr, nc, src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
            }
        }
        return;
    }
    for (size_t r0 = 0; r0 < rows; r0 += 16) {
        const size_t nr = rows - r0 < 16 ? rows - r0 : 16;
        for (size_t c0 = 0; c0 < cols; c0 += 64) {
            const size_t nc = cols - c0 < 64 ? cols - c0 : 64;
            wide16x64(nr, nc, src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
        }
    }
}
#endif

#if defined(__aarch64__)
// 16×16 tiles with ZIP1/ZIP2 (which span the register); partial tiles as tile16_sse.
static inline void tile16_neon(size_t nr, size_t nc, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    uint8x16_t r[16];
    if (nr == 16 && nc == 16) {
#define LD(j) r[j] = vld1q_u8(src + (j) * lds);
#define ST(k) vst1q_u8(dst + (k) * ldd, r[k]);
        CL_EACH16(LD)
        CL_TRANSPOSE(uint8x16_t, vzip1q_u8, vzip2q_u8, r);
        CL_EACH16(ST)
#undef LD
#undef ST
        return;
    }
    for (size_t j = 0; j < 16; j++) {
        if (j >= nr) {
            r[j] = vdupq_n_u8(0);
        } else if (nc == 16) {
            r[j] = vld1q_u8(src + j * lds);
        } else {
            uint64_t v[2];
            piece_load(src + j * lds, nc, v);
            r[j] = vreinterpretq_u8_u64(vcombine_u64(vcreate_u64(v[0]), vcreate_u64(v[1])));
        }
    }
    CL_TRANSPOSE(uint8x16_t, vzip1q_u8, vzip2q_u8, r);
    for (size_t k = 0; k < nc; k++) {
        if (nr == 16) {
            vst1q_u8(dst + k * ldd, r[k]);
        } else {
            const uint64_t v[2] = {vgetq_lane_u64(vreinterpretq_u64_u8(r[k]), 0),
                                   vgetq_lane_u64(vreinterpretq_u64_u8(r[k]), 1)};
            piece_store(dst + k * ldd, nr, v);
        }
    }
}

void flotilla_q8_transpose8__neon(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    for (size_t r0 = 0; r0 < rows; r0 += 16) {
        const size_t nr = rows - r0 < 16 ? rows - r0 : 16;
        for (size_t c0 = 0; c0 < cols; c0 += 16) {
            const size_t nc = cols - c0 < 16 ? cols - c0 : 16;
            tile16_neon(nr, nc, src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
        }
    }
}
#endif
