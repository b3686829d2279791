// Portable pieces of the small-Cin convolution by bands (the table's `conv`; the AVX-512 VNNI
// kernel is at the end of q8_gemm_avx512vnni.c): the columns are built band by band (a few
// hundred output pixels, K rows) into a buffer that stays in L1, and each band goes straight to
// the GEMM. Same bytes as im2col + gemm: a band's columns are exactly the im2col matrix's
// columns [n0, n0 + nb), and every output column depends on its own column only.
//
// Only avx512vnni offers `conv`: through this portable builder and the AVX2 GEMM per band the
// stem took 47 µs against 42 µs for rowcopy im2col + GEMM (the builder's short row segments cost
// more than rowcopy's), so the other paths keep im2col + gemm until they have a builder of their
// own.
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
                    // Border pads are a few bytes: a byte loop, not two memset calls per row.
                    for (size_t i = 0; i < a - oxa; i++) seg[i] = pad_byte;
                    for (size_t i = b - oxa; i < oxb - oxa; i++) seg[i] = pad_byte;
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
