// Private to CKernels: the packed-weights header, the scalar pieces of the int8 contract that
// every path shares (so borders and edges compute exactly what the reference computes), and the
// per-path entry points (XNNPACK-style names: datatype, op, tile, ISA).
#ifndef FLOTILLA_Q8_INTERNAL_H
#define FLOTILLA_Q8_INTERNAL_H

#include "ckernels.h"

#include <string.h>

#define FLOTILLA_Q8_PACK_MAGIC 0x50385146u  // "FQ8P"

// First 64 bytes of every packed weight buffer; the rest is path-specific: int32 acc_init per
// row (padded to the panel height), then the weights in the path's layout.
typedef struct flotilla_q8_packed_header {
    uint32_t magic;
    uint32_t layout;  // FLOTILLA_Q8_LAYOUT_*
    uint32_t M, K;
    uint32_t x_type;
    int32_t x_zero_point;
    uint32_t mr;             // panel height
    uint32_t k_padded;       // K rounded up to the layout's k group
    uint32_t weights_offset; // bytes from the buffer start
    uint32_t reserved[7];
} flotilla_q8_packed_header;

_Static_assert(sizeof(flotilla_q8_packed_header) == 64, "packed header is 64 bytes");

static inline size_t flotilla_q8_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// Value of an 8-bit element of type t.
static inline int32_t flotilla_q8_load(const void *p, size_t i, flotilla_q8_type t) {
    const uint8_t b = ((const uint8_t *)p)[i];
    return t == FLOTILLA_Q8_U8 ? (int32_t)b : (int32_t)(int8_t)b;
}

static inline void flotilla_q8_store(void *p, size_t i, int32_t v) {
    ((uint8_t *)p)[i] = (uint8_t)(v & 0xFF);  // v is already inside the type's range
}

static inline int32_t flotilla_q8_type_min(flotilla_q8_type t) { return t == FLOTILLA_Q8_U8 ? 0 : -128; }
static inline int32_t flotilla_q8_type_max(flotilla_q8_type t) { return t == FLOTILLA_Q8_U8 ? 255 : 127; }

// The contract's requantization (docs/int8-numerics.md): 64-bit product, one rounding
// (add 2ⁿ⁻¹, arithmetic shift right by n; GCC and Clang define >> of negatives as arithmetic),
// then zero point and clamp, exactly.
static inline int32_t flotilla_q8_requant_scalar(int32_t acc, int32_t multiplier, int32_t shift,
                                                 int32_t zero_point, int32_t qmin, int32_t qmax) {
    const int n = 31 + shift;
    const int64_t p = (int64_t)acc * (int64_t)multiplier;
    const int64_t q = (p + ((int64_t)1 << (n - 1))) >> n;
    int64_t y = q + zero_point;
    if (y < qmin) y = qmin;
    if (y > qmax) y = qmax;
    return (int32_t)y;
}

// Validates a packed buffer for the layouts a path accepts; returns its header or NULL.
static inline const flotilla_q8_packed_header *flotilla_q8_packed_check(const void *packed, size_t M,
                                                                      size_t K, uint32_t layout_a,
                                                                      uint32_t layout_b) {
    const flotilla_q8_packed_header *h = (const flotilla_q8_packed_header *)packed;
    if (h == NULL || h->magic != FLOTILLA_Q8_PACK_MAGIC) return NULL;
    if (h->layout != layout_a && h->layout != layout_b) return NULL;
    if (h->M != M || h->K != K) return NULL;
    return h;
}

static inline const int32_t *flotilla_q8_packed_acc_init(const void *packed) {
    return (const int32_t *)((const uint8_t *)packed + sizeof(flotilla_q8_packed_header));
}

static inline const int8_t *flotilla_q8_packed_weights(const void *packed) {
    const flotilla_q8_packed_header *h = (const flotilla_q8_packed_header *)packed;
    return (const int8_t *)packed + h->weights_offset;
}

// One depthwise output pixel's exact accumulator, every tap bounds-checked: the reference inner
// loop and the optimized paths' border pixels. Padded taps are absent (= value z_x).
static inline int32_t flotilla_q8_dwconv_pixel_acc(const flotilla_f32_conv2d_geometry *g,
                                                   const uint8_t *plane, flotilla_q8_type t,
                                                   int32_t zx, const int8_t *w, int32_t bias,
                                                   size_t oy, size_t ox) {
    int32_t acc = bias;
    for (size_t ky = 0; ky < g->kernel_h; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
        if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
            if (ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
            const int32_t x = flotilla_q8_load(plane, (size_t)iy * g->in_w + (size_t)ix, t);
            acc += (x - zx) * (int32_t)w[ky * g->kernel_w + kx];
        }
    }
    return acc;
}

// Average pooling whose one window is the whole plane (GlobalAveragePool): every tap inside, so
// count = kh·kw for every output. The optimized paths' fast case; other geometries take the reference.
static inline bool flotilla_q8_avgpool_is_global(const flotilla_f32_conv2d_geometry *g) {
    return g->kernel_h == g->in_h && g->kernel_w == g->in_w && g->pad_top == 0 && g->pad_left == 0 &&
           g->pad_bottom == 0 && g->pad_right == 0 && g->dilation_h == 1 && g->dilation_w == 1 &&
           flotilla_f32_conv2d_out_h(g) == 1 && flotilla_f32_conv2d_out_w(g) == 1;
}

// Writes a packed header and returns the byte offset of the weights (64-byte aligned).
size_t flotilla_q8_write_header(void *packed, const flotilla_q8_gemm_pack_params *p, uint32_t layout,
                                size_t mr, size_t k_group);
// Checks pack inputs against the contract (K limit, weight and bias ranges, zero point).
flotilla_q8_status flotilla_q8_pack_check(const flotilla_q8_gemm_pack_params *p, const int8_t *W,
                                          size_t ldw, const int32_t *bias);
// Fills acc_init[m] = bias[m] − z_eff · Σ_k W[m][k] for m < M, 0 for padding rows up to M_pad.
void flotilla_q8_pack_acc_init(const flotilla_q8_gemm_pack_params *p, const int8_t *W, size_t ldw,
                               const int32_t *bias, int32_t z_eff, size_t m_padded, int32_t *acc_init);
// W into panels of mr rows, k in groups of 4: [panel][k/4][mr][4], zero padded.
void flotilla_q8_pack_quads(size_t M, size_t K, const int8_t *W, size_t ldw, size_t mr, int8_t *out);
// B (K×N bytes, row stride ldb) into panels of nr columns, k in groups of 4:
// [panel][k/4][nr][4], each byte XORed with `flip` (0 or 0x80), zero padded.
void flotilla_q8_pack_b_quads(size_t N, size_t K, const uint8_t *B, size_t ldb, size_t nr,
                              uint8_t flip, uint8_t *out);
size_t flotilla_q8_pack_b_quads_size(size_t N, size_t K, size_t nr);
// Per-row requant values of rows [m0, m0 + rows) (per channel or broadcast of the one value).
static inline void flotilla_q8_tile_requant(const flotilla_q8_requant *rq, size_t m0, size_t rows,
                                            int32_t *mult, int32_t *shift) {
    for (size_t r = 0; r < rows; r++) {
        mult[r] = rq->per_channel ? rq->multiplier[m0 + r] : rq->multiplier[0];
        shift[r] = rq->per_channel ? rq->shift[m0 + r] : rq->shift[0];
    }
}

// Reference path.
size_t flotilla_q8_gemm_pack_size__ref(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_pack__ref(const flotilla_q8_gemm_pack_params *p, const int8_t *W,
                                              size_t ldw, const int32_t *bias, void *packed);
size_t flotilla_q8_gemm_workspace_size__ref(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm__ref(size_t M, size_t N, size_t K, const void *packed,
                                         const void *B, size_t ldb, const flotilla_q8_requant *rq,
                                         void *C, size_t ldc, void *workspace);
flotilla_q8_status flotilla_q8_gemm_nhwc__ref(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                              size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                              void *workspace);
void flotilla_q8_dwconv_nhwc__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                  const void *input, void *output);
void flotilla_q8_transpose8__ref(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd);
void flotilla_q8_im2col__ref(const flotilla_f32_conv2d_geometry *g, const uint8_t *input,
                             uint8_t pad_byte, uint8_t *columns);
void flotilla_q8_dwconv__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                             const void *input, void *output);
void flotilla_q8_add__ref(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
void flotilla_q8_mul__ref(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
void flotilla_q8_rescale__ref(size_t n, const void *x, void *y, const flotilla_q8_rescale_params *p);
void flotilla_q8_lut__ref(size_t n, const uint8_t *x, const uint8_t table[256], uint8_t *y);
void flotilla_q8_flip_sign__ref(size_t n, const uint8_t *x, uint8_t *y);
void flotilla_q8_avgpool__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                              const void *input, void *output);
void flotilla_q8_quantize__ref(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                               int32_t qmax, uint8_t *y);

// Portable im2col (row copies), shared by the optimized paths: data movement only.
void flotilla_q8_im2col__rowcopy(const flotilla_f32_conv2d_geometry *g, const uint8_t *input,
                                 uint8_t pad_byte, uint8_t *columns);
// Depthwise: the shared body of q8_dwconv_body.h with each ISA's tap kernel (q8_dwconv.c,
// q8_dwconv_neondot.c).
void flotilla_q8_dwconv__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output);
void flotilla_q8_dwconv__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                    const flotilla_q8_dwconv_params *p, const void *input, void *output);
void flotilla_q8_dwconv__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output);
void flotilla_q8_dwconv__neondot(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                 const void *input, void *output);
// The channels-last depthwise (q8_dwconv_cl.h; q8_dwconv_cl_x86.c, q8_dwconv_cl_neon.c,
// q8_dwconv_neondot.c): false, having written nothing, when the geometry has no channels-last
// plan (more than 64 taps, a row band too wide for the scratch). The entry points above call it
// when flotilla_q8_dwconv_prefers_cl says so.
bool flotilla_q8_dwconv_cl__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                 const void *input, void *output);
bool flotilla_q8_dwconv_cl__avx512vnni(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                       const void *input, void *output);
bool flotilla_q8_dwconv_cl__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                 const void *input, void *output);
bool flotilla_q8_dwconv_cl__neondot(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                    const void *input, void *output);
// The planar body alone (the entry points' other choice), for tests and measurements.
void flotilla_q8_dwconv_planar__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                     const void *input, void *output);
void flotilla_q8_dwconv_planar__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                           const flotilla_q8_dwconv_params *p, const void *input, void *output);
void flotilla_q8_dwconv_planar__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                     const void *input, void *output);
void flotilla_q8_dwconv_planar__neondot(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                        const void *input, void *output);

// SIMD Add, global average pooling and QuantizeLinear (q8_elementwise_x86.c, q8_elementwise_neon.c).
void flotilla_q8_add__avx2(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
void flotilla_q8_add__avx512vnni(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
void flotilla_q8_add__neon(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
void flotilla_q8_avgpool__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                               const void *input, void *output);
void flotilla_q8_avgpool__avx512vnni(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                                     const void *input, void *output);
void flotilla_q8_avgpool__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                               const void *input, void *output);
// SIMD QuantizeLinear (same files).
void flotilla_q8_quantize__avx2(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                                int32_t qmax, uint8_t *y);
void flotilla_q8_quantize__avx512vnni(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                                      int32_t qmax, uint8_t *y);
void flotilla_q8_quantize__neon(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                                int32_t qmax, uint8_t *y);

// x86 AVX2: 4×16 tile, int16 widening (VPMADDWD), or VPMADDUBSW when the pack verified |w| ≤ 63.
size_t flotilla_q8_gemm_pack_size__avx2(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_pack_4x16__avx2(const flotilla_q8_gemm_pack_params *p,
                                                    const int8_t *W, size_t ldw, const int32_t *bias,
                                                    void *packed);
size_t flotilla_q8_gemm_workspace_size__avx2(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_4x16__avx2(size_t M, size_t N, size_t K, const void *packed,
                                               const void *B, size_t ldb, const flotilla_q8_requant *rq,
                                               void *C, size_t ldc, void *workspace);
// x86 AVX-512 VNNI: 8×32 tile, VPDPBUSD.
size_t flotilla_q8_gemm_pack_size__avx512vnni(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_pack_8x32__avx512vnni(const flotilla_q8_gemm_pack_params *p,
                                                          const int8_t *W, size_t ldw,
                                                          const int32_t *bias, void *packed);
size_t flotilla_q8_gemm_workspace_size__avx512vnni(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_8x32__avx512vnni(size_t M, size_t N, size_t K, const void *packed,
                                                     const void *B, size_t ldb,
                                                     const flotilla_q8_requant *rq, void *C,
                                                     size_t ldc, void *workspace);
// ARM64 NEON (ARMv8.0): 4×16 tile, SMLAL widening.
size_t flotilla_q8_gemm_pack_size__neon(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_pack_4x16__neon(const flotilla_q8_gemm_pack_params *p,
                                                    const int8_t *W, size_t ldw, const int32_t *bias,
                                                    void *packed);
size_t flotilla_q8_gemm_workspace_size__neon(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_4x16__neon(size_t M, size_t N, size_t K, const void *packed,
                                               const void *B, size_t ldb, const flotilla_q8_requant *rq,
                                               void *C, size_t ldc, void *workspace);
// ARM64 NEON dot product: 4×16 tile, SDOT.
size_t flotilla_q8_gemm_pack_size__neondot(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_pack_4x16__neondot(const flotilla_q8_gemm_pack_params *p,
                                                       const int8_t *W, size_t ldw,
                                                       const int32_t *bias, void *packed);
size_t flotilla_q8_gemm_workspace_size__neondot(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_4x16__neondot(size_t M, size_t N, size_t K, const void *packed,
                                                  const void *B, size_t ldb,
                                                  const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                  void *workspace);

// ---- Exact int32 GEMM (gemm_s32: MatMulInteger, ConvInteger) ----------------------------------
//
// Every path computes Y = Σ (a − za)(b − zb) modulo 2³² (unsigned arithmetic, so the wrap is
// defined C). The int16 paths (avx2, neon) store b − zb at pack time and widen a − za per call:
// each product is at most 255² and exact, no correction terms. The dot-product paths (avx512vnni:
// u8 × s8; neondot: s8 × s8) multiply raw bytes moved to the instruction's signedness by XOR 0x80
// (which shifts the zero point by ±128 and changes nothing else), then subtract the zero-point
// terms, exact modulo 2³² because the expansion is a ring identity:
//   Σ (a' − za')(b' − zb') = Σ a'b' − zb'·Σa' − za'·(Σb' − K·zb').
// Σa' per row is computed when A is repacked per call, Σb' − K·zb' per column at pack time.
#define FLOTILLA_Q8_S32_PACK_MAGIC 0x53385146u  // "FQ8S"

enum {
    FLOTILLA_Q8_S32_LAYOUT_REFERENCE = 1,  // B row-major K×N raw, zb per column
    FLOTILLA_Q8_S32_LAYOUT_AVX2 = 2,       // 16-column panels of int16 k-pairs (b − zb)
    FLOTILLA_Q8_S32_LAYOUT_AVX512VNNI = 3, // 32-column panels of s8 4-k quads, zb', column terms
    FLOTILLA_Q8_S32_LAYOUT_NEON = 4,       // 16-column panels of int16 per k (b − zb)
    FLOTILLA_Q8_S32_LAYOUT_NEONDOT = 5,    // 16-column panels of s8 4-k quads, zb', column terms
};

typedef struct flotilla_q8_s32_packed_header {
    uint32_t magic;
    uint32_t layout;       // FLOTILLA_Q8_S32_LAYOUT_*
    uint64_t K, N;
    uint32_t b_type;
    uint32_t nr;           // panel width (columns)
    uint64_t k_padded;     // K rounded up to the layout's k group
    uint64_t zb_offset;    // int32 per padded column: the zero point in the packed encoding
    uint64_t terms_offset; // int32 per padded column: Σ_k b' − K·zb' (dot paths), else unused
    uint64_t data_offset;  // the packed values
} flotilla_q8_s32_packed_header;

_Static_assert(sizeof(flotilla_q8_s32_packed_header) == 64, "s32 packed header is 64 bytes");

// Zero point of B's column n (0 when none was given).
static inline int32_t flotilla_q8_s32_zb(const flotilla_q8_gemm_s32_b_params *p, size_t n) {
    if (p->b_zero_point == NULL) return 0;
    return p->per_column ? p->b_zero_point[n] : p->b_zero_point[0];
}

static inline int32_t flotilla_q8_s32_za(const flotilla_q8_gemm_s32_a_params *a, size_t m) {
    if (a->a_zero_point == NULL) return 0;
    return a->per_row ? a->a_zero_point[m] : a->a_zero_point[0];
}

// Pack size for `nr`-column panels of `elem` bytes per value, k rounded up to `k_group`, with
// the two per-column int32 arrays.
size_t flotilla_q8_s32_pack_size(size_t K, size_t N, size_t nr, size_t k_group, size_t elem);
// Checks B's parameters (K, N ≥ 1, type, zero points in range) and writes the header; returns
// the header (inside `packed`) or NULL with *status set.
flotilla_q8_s32_packed_header *flotilla_q8_s32_pack_begin(const flotilla_q8_gemm_s32_b_params *p, void *packed,
                                                          uint32_t layout, size_t nr, size_t k_group, size_t elem,
                                                          flotilla_q8_status *status);
// The header when `packed` is a `layout` pack of a K×N B, else NULL.
const flotilla_q8_s32_packed_header *flotilla_q8_s32_packed_check(const void *packed, size_t K, size_t N,
                                                                  uint32_t layout);
// BAD_ZERO_POINT when an A zero point of rows [0, M) is outside its type (or the type is unknown).
flotilla_q8_status flotilla_q8_s32_a_check(size_t M, const flotilla_q8_gemm_s32_a_params *a);
// B into [panel][k / k_group][nr][k_group] int16 values b − zb for k < kp (a multiple of
// k_group), zero past K and N.
void flotilla_q8_s32_pack_b_i16(const flotilla_q8_gemm_s32_b_params *p, const uint8_t *B, size_t ldb, size_t nr,
                                size_t k_group, size_t kp, int16_t *out);
// Dot paths: B as s8 quads (u8 XOR 0x80), zb' = the zero point moved alike, and the column
// terms Σ_k b' − K·zb' (modulo 2³²); padding columns get 0.
void flotilla_q8_s32_pack_b_s8_quads(const flotilla_q8_gemm_s32_b_params *p, const uint8_t *B, size_t ldb,
                                     flotilla_q8_s32_packed_header *h);
// A rows (M×K, stride lda) as int16 a − za into [M][kp], zero past K.
void flotilla_q8_s32_pack_a_i16(size_t M, size_t K, const uint8_t *A, size_t lda,
                                const flotilla_q8_gemm_s32_a_params *a, size_t kp, int16_t *out);
// A rows as bytes of the dot instruction's signedness (`to_signed`) into [M][kp], zero past K,
// with each row's Σ a' and its moved zero point za' (both per row).
void flotilla_q8_s32_pack_a_bytes(size_t M, size_t K, const uint8_t *A, size_t lda,
                                  const flotilla_q8_gemm_s32_a_params *a, bool to_signed, size_t kp, uint8_t *out,
                                  int32_t *row_sum, int32_t *za_moved);

size_t flotilla_q8_gemm_s32_pack_size__ref(size_t K, size_t N);
flotilla_q8_status flotilla_q8_gemm_s32_pack__ref(const flotilla_q8_gemm_s32_b_params *p, const void *B, size_t ldb,
                                                  void *packed);
size_t flotilla_q8_gemm_s32_workspace_size__ref(size_t M, size_t K);
flotilla_q8_status flotilla_q8_gemm_s32__ref(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                             const flotilla_q8_gemm_s32_a_params *a, const void *packed, int32_t *Y,
                                             size_t ldy, void *workspace);
#define FLOTILLA_Q8_S32_DECLARE(isa, tile)                                                                        \
    size_t flotilla_q8_gemm_s32_pack_size__##isa(size_t K, size_t N);                                             \
    flotilla_q8_status flotilla_q8_gemm_s32_pack__##isa(const flotilla_q8_gemm_s32_b_params *p, const void *B,    \
                                                        size_t ldb, void *packed);                                \
    size_t flotilla_q8_gemm_s32_workspace_size__##isa(size_t M, size_t K);                                        \
    flotilla_q8_status flotilla_q8_gemm_s32_##tile##__##isa(size_t M, size_t N, size_t K, const void *A, size_t lda, \
                                                   const flotilla_q8_gemm_s32_a_params *a, const void *packed,    \
                                                   int32_t *Y, size_t ldy, void *workspace);
// x86: avx2 4×16 int16 VPMADDWD; avx512vnni 4×32 VPDPBUSD. ARM64: neon 4×16 SMLAL; neondot 4×16 SDOT.
FLOTILLA_Q8_S32_DECLARE(avx2, 4x16)
FLOTILLA_Q8_S32_DECLARE(avx512vnni, 4x32)
FLOTILLA_Q8_S32_DECLARE(neon, 4x16)
FLOTILLA_Q8_S32_DECLARE(neondot, 4x16)

// ---- int8 max pooling ------------------------------------------------------------------------
void flotilla_q8_maxpool__ref(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input,
                              void *output);
// SIMD (16-byte vectors: SSE4/AVX2 encodings on x86, NEON on ARM64), q8_maxpool_simd.c.
void flotilla_q8_maxpool__avx2(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input,
                               void *output);
void flotilla_q8_maxpool__neon(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input,
                               void *output);

// flotilla_q8_pack_b_quads with nr = 32, AVX-512BW (q8_pack.c; x86-64 only): the same bytes.
#if defined(__x86_64__)
void flotilla_q8_pack_b_quads_32__avx512(size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip,
                                         uint8_t *out);
// A tail of N ≤ 16 columns at width round_up(N, 4), AVX-512BW/VL (the same bytes).
void flotilla_q8_pack_b_quads_tail__avx512(size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip,
                                           uint8_t *out);
// flotilla_q8_pack_b_quads with nr = 16, AVX2 (q8_pack.c): the same bytes.
void flotilla_q8_pack_b_quads_16__avx2(size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip,
                                       uint8_t *out);
#endif

// ---- Small-Cin convolution by bands (q8_conv_small.c; the avx512vnni kernel at the end of
// q8_gemm_avx512vnni.c, the only path with a `conv` for now) -------------------------------------
// im2col rows [0, K) × flattened output columns [n0, n0 + nb) into out[k·ld + n − n0].
void flotilla_q8_im2col_band(const flotilla_f32_conv2d_geometry *g, const uint8_t *input, uint8_t pad_byte,
                             size_t n0, size_t nb, uint8_t *out, size_t ld);
// Columns per band for K rows (a multiple of 64).
size_t flotilla_q8_conv_band_width(size_t K);
#define FLOTILLA_Q8_CONV_DECLARE(isa)                                                                             \
    size_t flotilla_q8_conv_workspace_size__##isa(const flotilla_f32_conv2d_geometry *g);                         \
    flotilla_q8_status flotilla_q8_conv__##isa(const flotilla_f32_conv2d_geometry *g, size_t M, const void *packed, \
                                               const void *input, const flotilla_q8_requant *rq, void *C,         \
                                               size_t ldc, void *workspace);
FLOTILLA_Q8_CONV_DECLARE(avx512vnni)

// Plan-time channels-last depthwise packs (q8_dwconv_cl.h: cl_pack; per ISA in
// q8_dwconv_cl_x86.c, q8_dwconv_cl_neon.c, q8_dwconv_neondot.c).
#if defined(__x86_64__)
size_t flotilla_q8_dwconv_pack_size__avx512vnni(const flotilla_f32_conv2d_geometry *g);
flotilla_q8_status flotilla_q8_dwconv_pack__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                       const flotilla_q8_dwconv_params *p, void *packed);
flotilla_q8_status flotilla_q8_dwconv_packed__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                         const flotilla_q8_dwconv_params *p, const void *packed,
                                                         const void *input, void *output);
size_t flotilla_q8_dwconv_pack_size__avx2(const flotilla_f32_conv2d_geometry *g);
flotilla_q8_status flotilla_q8_dwconv_pack__avx2(const flotilla_f32_conv2d_geometry *g,
                                                 const flotilla_q8_dwconv_params *p, void *packed);
flotilla_q8_status flotilla_q8_dwconv_packed__avx2(const flotilla_f32_conv2d_geometry *g,
                                                   const flotilla_q8_dwconv_params *p, const void *packed,
                                                   const void *input, void *output);
#endif
#if defined(__aarch64__)
size_t flotilla_q8_dwconv_pack_size__neon(const flotilla_f32_conv2d_geometry *g);
flotilla_q8_status flotilla_q8_dwconv_pack__neon(const flotilla_f32_conv2d_geometry *g,
                                                 const flotilla_q8_dwconv_params *p, void *packed);
flotilla_q8_status flotilla_q8_dwconv_packed__neon(const flotilla_f32_conv2d_geometry *g,
                                                   const flotilla_q8_dwconv_params *p, const void *packed,
                                                   const void *input, void *output);
size_t flotilla_q8_dwconv_pack_size__neondot(const flotilla_f32_conv2d_geometry *g);
flotilla_q8_status flotilla_q8_dwconv_pack__neondot(const flotilla_f32_conv2d_geometry *g,
                                                    const flotilla_q8_dwconv_params *p, void *packed);
flotilla_q8_status flotilla_q8_dwconv_packed__neondot(const flotilla_f32_conv2d_geometry *g,
                                                      const flotilla_q8_dwconv_params *p, const void *packed,
                                                      const void *input, void *output);
#endif

// Channels-last 1×1 GEMMs on ARM64 (q8_gemm_nhwc_neon.c, q8_gemm_nhwc_neondot.c; shared pieces in
// q8_gemm_nhwc_arm.h): the table's gemm_nhwc over the same NEON / NEONDOT packs gemm reads.
#if defined(__aarch64__)
size_t flotilla_q8_gemm_nhwc_workspace_size__neon(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_nhwc__neon(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                               size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                               void *workspace);
size_t flotilla_q8_gemm_nhwc_workspace_size__neondot(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_nhwc__neondot(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                                  size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                  void *workspace);
#endif

// Channels-last 1×1 GEMM (gemm_nhwc) on the NCHW kernels' packed weights, vectorized over output
// channels (q8_gemm_nhwc_avx512vnni.c, q8_gemm_nhwc_avx2.c). No workspace.
#if defined(__x86_64__)
size_t flotilla_q8_gemm_nhwc_workspace_size__avx512vnni(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_nhwc__avx512vnni(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                                     size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                     void *workspace);
size_t flotilla_q8_gemm_nhwc_workspace_size__avx2(size_t N, size_t K);
flotilla_q8_status flotilla_q8_gemm_nhwc__avx2(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                               size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                               void *workspace);
#endif
// Channels-last (NHWC) depthwise entries (q8_dwconv_cl.h: cl_drive_nhwc; per ISA in
// q8_dwconv_cl_x86.c, q8_dwconv_cl_neon.c, q8_dwconv_neondot.c) and the SIMD byte transposes
// (q8_transpose.c).
#define FLOTILLA_Q8_DWCONV_NHWC_DECLARE(isa)                                                                      \
    size_t flotilla_q8_dwconv_nhwc_pack_size__##isa(const flotilla_f32_conv2d_geometry *g);                      \
    flotilla_q8_status flotilla_q8_dwconv_nhwc_pack__##isa(const flotilla_f32_conv2d_geometry *g,                \
                                                           const flotilla_q8_dwconv_params *p, void *packed);    \
    flotilla_q8_status flotilla_q8_dwconv_nhwc__##isa(const flotilla_f32_conv2d_geometry *g,                     \
                                                      const flotilla_q8_dwconv_params *p, const void *packed,    \
                                                      const void *input, void *output);
#if defined(__x86_64__)
FLOTILLA_Q8_DWCONV_NHWC_DECLARE(avx512vnni)
FLOTILLA_Q8_DWCONV_NHWC_DECLARE(avx2)
void flotilla_q8_transpose8__avx2(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd);
void flotilla_q8_transpose8__avx512(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst,
                                    size_t ldd);
#endif
#if defined(__aarch64__)
FLOTILLA_Q8_DWCONV_NHWC_DECLARE(neon)
FLOTILLA_Q8_DWCONV_NHWC_DECLARE(neondot)
void flotilla_q8_transpose8__neon(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd);
#endif

#endif
