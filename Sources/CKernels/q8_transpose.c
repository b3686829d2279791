// Byte matrix transposes (the `transpose8` entry: NCHW ↔ NHWC at the edges of a channels-last
// region, e.g. the stem's 16 × 2304 output and a 1280 × 9 head). Built on the 16×16 byte
// transpose of q8_dwconv_cl.h (four rounds of byte interleaves, registers indexed by constants).
// Edges are exact: partial tiles load only the rows × cols bytes (masked loads or bounded
// copies) and store only inside the destination region, so bytes between cols and lds (rows
// and ldd) are neither read nor written.
#include "q8_dwconv_cl.h"

#if defined(__x86_64__)
#include <immintrin.h>

// One tile of nr ≤ 16 rows × nc ≤ 16 columns at (r0, c0).
__attribute__((target("avx2"))) static inline void tile16_sse(size_t nr, size_t nc, const uint8_t *src, size_t lds,
                                                               uint8_t *dst, size_t ldd) {
    __m128i r[16];
    const bool full = nr == 16 && nc == 16;
    if (full) {
#define LD(j) r[j] = _mm_loadu_si128((const __m128i *)(const void *)(src + (j) * lds));
        CL_EACH16(LD)
#undef LD
    } else {
        for (size_t j = 0; j < 16; j++) {
            uint8_t tmp[16] = {0};
            if (j < nr) memcpy(tmp, src + j * lds, nc);
            r[j] = _mm_loadu_si128((const __m128i *)(const void *)tmp);
        }
    }
    CL_TRANSPOSE(__m128i, _mm_unpacklo_epi8, _mm_unpackhi_epi8, r);
    if (full) {
#define ST(k) _mm_storeu_si128((__m128i *)(void *)(dst + (k) * ldd), r[k]);
        CL_EACH16(ST)
#undef ST
        return;
    }
    for (size_t k = 0; k < nc; k++) {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, r[k]);
        memcpy(dst + k * ldd, tmp, nr);
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
// 16×16 tiles with ZIP1/ZIP2 (which span the register); partial tiles through bounded copies.
static inline void tile16_neon(size_t nr, size_t nc, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    uint8x16_t r[16];
    const bool full = nr == 16 && nc == 16;
    if (full) {
#define LD(j) r[j] = vld1q_u8(src + (j) * lds);
        CL_EACH16(LD)
#undef LD
    } else {
        for (size_t j = 0; j < 16; j++) {
            uint8_t tmp[16] = {0};
            if (j < nr) memcpy(tmp, src + j * lds, nc);
            r[j] = vld1q_u8(tmp);
        }
    }
    CL_TRANSPOSE(uint8x16_t, vzip1q_u8, vzip2q_u8, r);
    if (full) {
#define ST(k) vst1q_u8(dst + (k) * ldd, r[k]);
        CL_EACH16(ST)
#undef ST
        return;
    }
    for (size_t k = 0; k < nc; k++) {
        uint8_t tmp[16];
        vst1q_u8(tmp, r[k]);
        memcpy(dst + k * ldd, tmp, nr);
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
