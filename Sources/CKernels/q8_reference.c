// Reference int8 kernels: the contract of docs/int8-numerics.md written as directly as possible.
// Every optimized path must reproduce these bytes exactly. This file is also the fallback path
// (FLOTILLA_KERNELS=reference) and the coordinator's evaluation engine. No floating point.
#include "q8_internal.h"

size_t flotilla_q8_gemm_pack_size__ref(size_t M, size_t K) {
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(M * sizeof(int32_t), 64) + M * K;
}

// The reference "packed" weights: raw bias (0 when NULL) and W row-major M×K.
flotilla_q8_status flotilla_q8_gemm_pack__ref(const flotilla_q8_gemm_pack_params *p, const int8_t *W,
                                              size_t ldw, const int32_t *bias, void *packed) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t offset = flotilla_q8_write_header(packed, p, FLOTILLA_Q8_LAYOUT_REFERENCE, 1, 1);
    int32_t *b = (int32_t *)((uint8_t *)packed + sizeof(flotilla_q8_packed_header));
    int8_t *w = (int8_t *)packed + offset;
    for (size_t m = 0; m < p->M; m++) {
        b[m] = bias != NULL ? bias[m] : 0;
        for (size_t k = 0; k < p->K; k++) w[m * p->K + k] = W[m * ldw + k];
    }
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_workspace_size__ref(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

flotilla_q8_status flotilla_q8_gemm__ref(size_t M, size_t N, size_t K, const void *packed,
                                         const void *B, size_t ldb, const flotilla_q8_requant *rq,
                                         void *C, size_t ldc, void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_REFERENCE, FLOTILLA_Q8_LAYOUT_REFERENCE);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const int32_t *bias = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    const flotilla_q8_type xt = (flotilla_q8_type)h->x_type;
    const int32_t zx = h->x_zero_point;
    for (size_t m = 0; m < M; m++) {
        const int32_t mult = rq->per_channel ? rq->multiplier[m] : rq->multiplier[0];
        const int32_t shift = rq->per_channel ? rq->shift[m] : rq->shift[0];
        for (size_t n = 0; n < N; n++) {
            // acc = bias + Σ (x − z_x)·w, in int64; it fits int32 by the pack-time limits.
            int64_t acc = bias[m];
            for (size_t k = 0; k < K; k++) {
                acc += (int64_t)(flotilla_q8_load(B, k * ldb + n, xt) - zx) * w[m * K + k];
            }
            const int32_t y = flotilla_q8_requant_scalar((int32_t)acc, mult, shift, rq->zero_point,
                                                         rq->qmin, rq->qmax);
            flotilla_q8_store(C, m * ldc + n, y);
        }
    }
    return FLOTILLA_Q8_OK;
}

void flotilla_q8_im2col__ref(const flotilla_f32_conv2d_geometry *g, const uint8_t *input,
                             uint8_t pad_byte, uint8_t *columns) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    size_t row = 0;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = input + c * g->in_h * g->in_w;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++, row++) {
                uint8_t *out = columns + row * oh * ow;
                for (size_t oy = 0; oy < oh; oy++) {
                    for (size_t ox = 0; ox < ow; ox++) {
                        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                        const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                        const bool inside = iy >= 0 && iy < (ptrdiff_t)g->in_h && ix >= 0 && ix < (ptrdiff_t)g->in_w;
                        // Padding is the zero point's byte: its tap adds (z − z)·w = 0.
                        out[oy * ow + ox] = inside ? plane[(size_t)iy * g->in_w + (size_t)ix] : pad_byte;
                    }
                }
            }
        }
    }
}

// memcpy of n bytes without a library call for short runs (batch-1 planes of 4–8 columns made
// the row copy's per-row memset/memcpy calls the digits CNN's largest cost): overlapping
// fixed-size moves, never outside [0, n).
static inline void copy_short(uint8_t *d, const uint8_t *s, size_t n) {
    if (n >= 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8), memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8), memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4), memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4), memcpy(d + n - 4, &b, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2), memcpy(&b, s + n - 2, 2);
        memcpy(d, &a, 2), memcpy(d + n - 2, &b, 2);
    } else if (n == 1) {
        d[0] = s[0];
    }
}

void flotilla_q8_im2col__rowcopy(const flotilla_f32_conv2d_geometry *g, const uint8_t *input,
                                 uint8_t pad_byte, uint8_t *columns) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t sw = g->stride_w, pl = g->pad_left, w = g->in_w;
    uint8_t *out = columns;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = input + c * g->in_h * w;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++) {
                // The in-row columns form one range [x0, x1), the same for every output row.
                const size_t off = kx * g->dilation_w;
                size_t x0 = pl > off ? (pl - off + sw - 1) / sw : 0;
                size_t x1 = w - 1 + pl >= off ? (w - 1 + pl - off) / sw + 1 : 0;
                if (x1 > ow) x1 = ow;
                if (x0 > x1) x0 = x1;
                // Padding first, for the whole oh × ow block in one call when it has any (the
                // zero point's byte), then only the in-range runs are copied over it.
                if (x0 > 0 || x1 < ow || g->pad_top > 0 || g->pad_bottom > 0) memset(out, pad_byte, oh * ow);
                for (size_t oy = 0; oy < oh; oy++, out += ow) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    if (iy < 0 || iy >= (ptrdiff_t)g->in_h || x0 == x1) continue;
                    const uint8_t *src = plane + (size_t)iy * w + (x0 * sw + off - pl);
                    if (sw == 1) {
                        copy_short(out + x0, src, x1 - x0);
                    } else if (sw == 2) {
                        // A constant stride the compilers vectorize (even bytes of 2n); the
                        // stride-2 stem conv spent most of its im2col in the general loop.
                        uint8_t *dst = out + x0;
                        const size_t n = x1 - x0;
                        for (size_t i = 0; i < n; i++) dst[i] = src[2 * i];
                    } else {
                        for (size_t ox = x0; ox < x1; ox++) out[ox] = src[(ox - x0) * sw];
                    }
                }
            }
        }
    }
}

void flotilla_q8_dwconv__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                             const void *input, void *output) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    const flotilla_q8_requant *rq = &p->requant;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = (const uint8_t *)input + c * g->in_h * g->in_w;
        const int32_t bias = p->bias != NULL ? p->bias[c] : 0;
        const int32_t mult = rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
        const int32_t shift = rq->per_channel ? rq->shift[c] : rq->shift[0];
        for (size_t oy = 0; oy < oh; oy++) {
            for (size_t ox = 0; ox < ow; ox++) {
                const int32_t acc = flotilla_q8_dwconv_pixel_acc(g, plane, p->x_type, p->x_zero_point,
                                                                 p->weights + c * taps, bias, oy, ox);
                const int32_t y = flotilla_q8_requant_scalar(acc, mult, shift, rq->zero_point, rq->qmin, rq->qmax);
                flotilla_q8_store(output, (c * oh + oy) * ow + ox, y);
            }
        }
    }
}

// The channels-last twins of gemm and dwconv: the same sums and requantization, indexed NHWC.
flotilla_q8_status flotilla_q8_gemm_nhwc__ref(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                              size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                              void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_REFERENCE, FLOTILLA_Q8_LAYOUT_REFERENCE);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const int32_t *bias = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    const flotilla_q8_type xt = (flotilla_q8_type)h->x_type;
    const int32_t zx = h->x_zero_point;
    for (size_t n = 0; n < N; n++) {
        for (size_t m = 0; m < M; m++) {
            const int32_t mult = rq->per_channel ? rq->multiplier[m] : rq->multiplier[0];
            const int32_t shift = rq->per_channel ? rq->shift[m] : rq->shift[0];
            int64_t acc = bias[m];
            for (size_t k = 0; k < K; k++) acc += (int64_t)(flotilla_q8_load(A, n * lda + k, xt) - zx) * w[m * K + k];
            const int32_t y = flotilla_q8_requant_scalar((int32_t)acc, mult, shift, rq->zero_point, rq->qmin, rq->qmax);
            flotilla_q8_store(C, n * ldc + m, y);
        }
    }
    return FLOTILLA_Q8_OK;
}

void flotilla_q8_dwconv_nhwc__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                  const void *input, void *output) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g), C = g->channels;
    const size_t taps = g->kernel_h * g->kernel_w;
    const flotilla_q8_requant *rq = &p->requant;
    for (size_t oy = 0; oy < oh; oy++) {
        for (size_t ox = 0; ox < ow; ox++) {
            for (size_t c = 0; c < C; c++) {
                int32_t acc = p->bias != NULL ? p->bias[c] : 0;
                for (size_t ky = 0; ky < g->kernel_h; ky++) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
                    for (size_t kx = 0; kx < g->kernel_w; kx++) {
                        const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                        if (ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;  // padded taps add (z − z)·w = 0
                        const int32_t x = flotilla_q8_load(input, ((size_t)iy * g->in_w + (size_t)ix) * C + c, p->x_type);
                        acc += (x - p->x_zero_point) * (int32_t)p->weights[c * taps + ky * g->kernel_w + kx];
                    }
                }
                const int32_t mult = rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
                const int32_t shift = rq->per_channel ? rq->shift[c] : rq->shift[0];
                flotilla_q8_store(output, (oy * ow + ox) * C + c,
                                  flotilla_q8_requant_scalar(acc, mult, shift, rq->zero_point, rq->qmin, rq->qmax));
            }
        }
    }
}

// In 32×32 blocks so both sides stay in cache whatever the matrix width.
void flotilla_q8_transpose8__ref(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    enum { T = 32 };
    for (size_t r0 = 0; r0 < rows; r0 += T) {
        const size_t r1 = r0 + T < rows ? r0 + T : rows;
        for (size_t c0 = 0; c0 < cols; c0 += T) {
            const size_t c1 = c0 + T < cols ? c0 + T : cols;
            for (size_t c = c0; c < c1; c++) {
                for (size_t r = r0; r < r1; r++) dst[c * ldd + r] = src[r * lds + c];
            }
        }
    }
}

// One input of Add at the common scale: round_shift((x − z)·2²⁰ · M, 31 + shift), no clamp.
static inline int32_t add_operand(int32_t x, int32_t z, int32_t mult, int32_t shift) {
    const int64_t v = (int64_t)(x - z) * ((int64_t)1 << FLOTILLA_Q8_ADD_LEFT_SHIFT);
    const int n = 31 + shift;
    return (int32_t)((v * mult + ((int64_t)1 << (n - 1))) >> n);
}

void flotilla_q8_add__ref(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p) {
    for (size_t i = 0; i < n; i++) {
        const int32_t va = add_operand(flotilla_q8_load(a, i, p->a_type), p->a_zero_point, p->a_multiplier, p->a_shift);
        const int32_t vb = add_operand(flotilla_q8_load(b, i, p->b_type), p->b_zero_point, p->b_multiplier, p->b_shift);
        flotilla_q8_store(y, i, flotilla_q8_requant_scalar(va + vb, p->y_multiplier, p->y_shift,
                                                           p->y_zero_point, p->qmin, p->qmax));
    }
}

void flotilla_q8_mul__ref(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p) {
    for (size_t i = 0; i < n; i++) {
        const int32_t va = flotilla_q8_load(a, i, p->a_type) - p->a_zero_point;
        const int32_t vb = flotilla_q8_load(b, i, p->b_type) - p->b_zero_point;
        flotilla_q8_store(y, i, flotilla_q8_requant_scalar(va * vb, p->y_multiplier, p->y_shift,
                                                           p->y_zero_point, p->qmin, p->qmax));
    }
}

void flotilla_q8_rescale__ref(size_t n, const void *x, void *y, const flotilla_q8_rescale_params *p) {
    for (size_t i = 0; i < n; i++) {
        const int32_t v = flotilla_q8_load(x, i, p->x_type) - p->x_zero_point;
        flotilla_q8_store(y, i, flotilla_q8_requant_scalar(v, p->multiplier, p->shift, p->y_zero_point,
                                                           p->qmin, p->qmax));
    }
}

void flotilla_q8_lut__ref(size_t n, const uint8_t *x, const uint8_t table[256], uint8_t *y) {
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

void flotilla_q8_flip_sign__ref(size_t n, const uint8_t *x, uint8_t *y) {
    for (size_t i = 0; i < n; i++) y[i] = (uint8_t)(x[i] ^ 0x80u);
}

void flotilla_q8_avgpool__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                              const void *input, void *output) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = (const uint8_t *)input + c * g->in_h * g->in_w;
        for (size_t oy = 0; oy < oh; oy++) {
            for (size_t ox = 0; ox < ow; ox++) {
                int32_t sum = 0;
                size_t count = 0;
                for (size_t ky = 0; ky < g->kernel_h; ky++) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    for (size_t kx = 0; kx < g->kernel_w; kx++) {
                        const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                        if (iy < 0 || iy >= (ptrdiff_t)g->in_h || ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
                        sum += flotilla_q8_load(plane, (size_t)iy * g->in_w + (size_t)ix, p->type) - p->x_zero_point;
                        count++;
                    }
                }
                if (p->count_include_pad) count = taps;
                // count ≥ 1: a geometry that passed the check has a tap inside the input.
                const size_t i = count > 0 ? count - 1 : 0;
                const int32_t y = flotilla_q8_requant_scalar(sum, p->multiplier[i], p->shift[i],
                                                             p->y_zero_point, p->qmin, p->qmax);
                flotilla_q8_store(output, (c * oh + oy) * ow + ox, y);
            }
        }
    }
}

void flotilla_q8_quantize__ref(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax, uint8_t *y) {
    for (size_t i = 0; i < n; i++) {
        const float t = x[i] / scale;
        int32_t v = zero_point;
        if (t == t) {
            // |t| ≤ 2²² saturates anyway; inside it, adding and removing 1.5·2²³ rounds to an
            // integer half to even (float32, default rounding mode): no libm call.
            const float c = t < -4194304.0f ? -4194304.0f : (t > 4194304.0f ? 4194304.0f : t);
            const float r = (c + 12582912.0f) - 12582912.0f;
            v = (int32_t)r + zero_point;
            v = v < qmin ? qmin : (v > qmax ? qmax : v);
        }
        y[i] = (uint8_t)(v & 0xFF);
    }
}

// ---- Exact int32 GEMM (MatMulInteger, ConvInteger) --------------------------------------------

size_t flotilla_q8_gemm_s32_pack_size__ref(size_t K, size_t N) {
    return flotilla_q8_s32_pack_size(K, N, 1, 1, 1);
}

// The reference "packed" B: B's bytes row-major K×N as given, and the zero point of each column.
flotilla_q8_status flotilla_q8_gemm_s32_pack__ref(const flotilla_q8_gemm_s32_b_params *p, const void *B, size_t ldb,
                                                  void *packed) {
    flotilla_q8_status status;
    flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_pack_begin(p, packed, FLOTILLA_Q8_S32_LAYOUT_REFERENCE, 1, 1, 1, &status);
    if (h == NULL) return status;
    uint8_t *data = (uint8_t *)packed + h->data_offset;
    for (size_t k = 0; k < p->K; k++) memcpy(data + k * p->N, (const uint8_t *)B + k * ldb, p->N);
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_s32_workspace_size__ref(size_t M, size_t K) {
    (void)M, (void)K;
    return 0;
}

// Y[m][n] = Σ_k (a − za[m])·(b − zb[n]). Each product is exact in int32 (|·| ≤ 255²); the sum is
// taken in uint32, which is the int32 wrap-around ONNX defines for its int32 output, in C
// without signed-overflow undefined behaviour.
flotilla_q8_status flotilla_q8_gemm_s32__ref(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                             const flotilla_q8_gemm_s32_a_params *a, const void *packed, int32_t *Y,
                                             size_t ldy, void *workspace) {
    (void)workspace;
    const flotilla_q8_s32_packed_header *h =
        flotilla_q8_s32_packed_check(packed, K, N, FLOTILLA_Q8_S32_LAYOUT_REFERENCE);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    const flotilla_q8_status s = flotilla_q8_s32_a_check(M, a);
    if (s != FLOTILLA_Q8_OK) return s;
    const uint8_t *B = (const uint8_t *)packed + h->data_offset;
    const int32_t *zb = (const int32_t *)(const void *)((const uint8_t *)packed + h->zb_offset);
    const flotilla_q8_type bt = (flotilla_q8_type)h->b_type;
    for (size_t m = 0; m < M; m++) {
        const int32_t za = flotilla_q8_s32_za(a, m);
        for (size_t n = 0; n < N; n++) {
            uint32_t acc = 0;
            for (size_t k = 0; k < K; k++) {
                const int32_t x = flotilla_q8_load(A, m * lda + k, a->a_type) - za;
                const int32_t w = flotilla_q8_load(B, k * N + n, bt) - zb[n];
                acc += (uint32_t)(x * w);
            }
            Y[m * ldy + n] = (int32_t)acc;
        }
    }
    return FLOTILLA_Q8_OK;
}

// ---- int8 max pooling -------------------------------------------------------------------------

// Every tap bounds-checked; values compared as their type. The optimized paths' border outputs
// call this per output (flotilla_q8_maxpool_pixel in q8_maxpool_simd.c computes the same).
void flotilla_q8_maxpool__ref(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input,
                              void *output) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = (const uint8_t *)input + c * g->in_h * g->in_w;
        for (size_t oy = 0; oy < oh; oy++) {
            for (size_t ox = 0; ox < ow; ox++) {
                // No tap inside (pads ≥ kernel): the type's lowest value, the quantized −∞.
                int32_t best = flotilla_q8_type_min(type);
                for (size_t ky = 0; ky < g->kernel_h; ky++) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
                    for (size_t kx = 0; kx < g->kernel_w; kx++) {
                        const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                        if (ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
                        const int32_t v = flotilla_q8_load(plane, (size_t)iy * g->in_w + (size_t)ix, type);
                        if (v > best) best = v;
                    }
                }
                flotilla_q8_store(output, (c * oh + oy) * ow + ox, best);
            }
        }
    }
}
