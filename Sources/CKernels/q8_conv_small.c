// Small-Cin convolution (the stem: 3 → 16 channels, 3×3, stride 2) without the full im2col
// matrix: the columns are built band by band (a few hundred output pixels, K rows) into a buffer
// that stays in L1, and each band goes straight to the GEMM. The whole-image im2col of the stem
// wrote 62 KB that the GEMM's repack then read back from L2; here every byte is produced, packed
// and consumed while it is hot. Same bytes as im2col + gemm: a band's columns are exactly the
// im2col matrix's columns [n0, n0 + nb), and every output column depends on its own column only.
#include "q8_internal.h"

// Rows k of the im2col matrix (k = (c·kh + ky)·kw + kx, the reference's order), columns
// [n0, n0 + nb) of the flattened OH·OW output, into out[k·ld + (n − n0)]. Padding is pad_byte.
void flotilla_q8_im2col_band(const flotilla_f32_conv2d_geometry *g, const uint8_t *input, uint8_t pad_byte,
                             size_t n0, size_t nb, uint8_t *out, size_t ld) {
    const size_t ow = flotilla_f32_conv2d_out_w(g);
    const size_t sw = g->stride_w, pl = g->pad_left, w = g->in_w;
    if (ow == 0 || nb == 0) return;
    const size_t oy0 = n0 / ow, ox0 = n0 % ow;
    uint8_t *row = out;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = input + c * g->in_h * w;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++, row += ld) {
                // The in-row columns [x0, x1), the same for every output row (as in rowcopy).
                const size_t off = kx * g->dilation_w;
                size_t x0 = pl > off ? (pl - off + sw - 1) / sw : 0;
                size_t x1 = w - 1 + pl >= off ? (w - 1 + pl - off) / sw + 1 : 0;
                if (x1 > ow) x1 = ow;
                if (x0 > x1) x0 = x1;
                // Segments of whole output rows, the first and last maybe partial (no division
                // per segment: a 64-bit DIV per row and tap cost more than the row's copy).
                size_t oy = oy0, oxa = ox0;
                for (size_t n = n0; n < n0 + nb; oy++, oxa = 0) {
                    const size_t oxb = ow - oxa < n0 + nb - n ? ow : oxa + (n0 + nb - n);
                    uint8_t *seg = row + (n - n0);  // column oxa
                    n += oxb - oxa;
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    const size_t a = oxa > x0 ? oxa : x0, b = oxb < x1 ? oxb : x1;
                    if (iy < 0 || iy >= (ptrdiff_t)g->in_h || a >= b) {
                        memset(seg, pad_byte, oxb - oxa);
                        continue;
                    }
                    uint8_t *dst = seg + (a - oxa);
                    if (a > oxa) memset(seg, pad_byte, a - oxa);
                    if (b < oxb) memset(seg + (b - oxa), pad_byte, oxb - b);
                    const uint8_t *src = plane + (size_t)iy * w + (a * sw + off - pl);
                    if (sw == 1) {
                        memcpy(dst, src, b - a);
                    } else if (sw == 2) {
                        for (size_t i = 0; i < b - a; i++) dst[i] = src[2 * i];
                    } else {
                        for (size_t i = 0; i < b - a; i++) dst[i] = src[i * sw];
                    }
                }
            }
        }
    }
}

// Band width: the band's columns (K × nb bytes) and the GEMM's repack of them both fit in L1.
size_t flotilla_q8_conv_band_width(size_t K) {
    size_t nb = K > 0 ? (12288 / K) / 64 * 64 : 1024;
    if (nb < 64) nb = 64;
    if (nb > 1024) nb = 1024;
    return nb;
}

size_t flotilla_q8_conv_workspace_size(const flotilla_f32_conv2d_geometry *g,
                                       size_t (*gemm_workspace_size)(size_t N, size_t K)) {
    const size_t K = g->channels * g->kernel_h * g->kernel_w, nb = flotilla_q8_conv_band_width(K);
    return flotilla_q8_round_up(K * nb, 64) + gemm_workspace_size(nb, K);
}

flotilla_q8_status flotilla_q8_conv_banded(const flotilla_f32_conv2d_geometry *g, size_t M, const void *packed,
                                           const void *input, const flotilla_q8_requant *rq,
                                           void *C, size_t ldc, void *workspace,
                                           flotilla_q8_status (*gemm)(size_t, size_t, size_t, const void *,
                                                                      const void *, size_t,
                                                                      const flotilla_q8_requant *, void *, size_t,
                                                                      void *)) {
    const size_t K = g->channels * g->kernel_h * g->kernel_w, nb = flotilla_q8_conv_band_width(K);
    const size_t N = flotilla_f32_conv2d_out_h(g) * flotilla_f32_conv2d_out_w(g);
    uint8_t *strips = (uint8_t *)workspace, *gemm_ws = strips + flotilla_q8_round_up(K * nb, 64);
    const flotilla_q8_packed_header *h = (const flotilla_q8_packed_header *)packed;
    if (h == NULL || h->magic != FLOTILLA_Q8_PACK_MAGIC) return FLOTILLA_Q8_PACK_MISMATCH;
    // Padding is the packed zero point's byte: its taps add (z − z)·w = 0.
    const uint8_t pad_byte = (uint8_t)(h->x_zero_point & 0xFF);
    for (size_t n0 = 0; n0 < N; n0 += nb) {
        const size_t cols = N - n0 < nb ? N - n0 : nb;
        flotilla_q8_im2col_band(g, (const uint8_t *)input, pad_byte, n0, cols, strips, nb);
        const flotilla_q8_status s = gemm(M, cols, K, packed, strips, nb, rq, (uint8_t *)C + n0, ldc, gemm_ws);
        if (s != FLOTILLA_Q8_OK) return s;
    }
    return FLOTILLA_Q8_OK;
}

#define BANDED(isa, gemm_fn)                                                                                      \
    size_t flotilla_q8_conv_workspace_size__##isa(const flotilla_f32_conv2d_geometry *g) {                      \
        return flotilla_q8_conv_workspace_size(g, flotilla_q8_gemm_workspace_size__##isa);                      \
    }                                                                                                             \
    flotilla_q8_status flotilla_q8_conv__##isa(const flotilla_f32_conv2d_geometry *g, size_t M, const void *packed, \
                                               const void *input, const flotilla_q8_requant *rq, void *C,         \
                                               size_t ldc, void *workspace) {                                     \
        return flotilla_q8_conv_banded(g, M, packed, input, rq, C, ldc, workspace, gemm_fn);                     \
    }

BANDED(ref, flotilla_q8_gemm__ref)
#if defined(__x86_64__)
BANDED(avx2, flotilla_q8_gemm_4x16__avx2)
#endif
#if defined(__aarch64__)
BANDED(neon, flotilla_q8_gemm_4x16__neon)
BANDED(neondot, flotilla_q8_gemm_4x16__neondot)
#endif
