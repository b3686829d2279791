// int8 kernels for the quantized runtime. One numeric contract (docs/int8-numerics.md), a plain
// reference (`__ref`) and per-ISA paths (AVX2, AVX-512 VNNI, NEON, NEON dot product) that
// produce exactly the reference's bytes.
//
// Plan time: flotilla_q8_quantize_multiplier, flotilla_q8_requant_check, the *_params_init
// functions and flotilla_q8_lut_build turn real scales into integers once; gemm_pack packs
// weights with bias and column sums (and refuses weights or sizes outside the contract).
// Execution: kernels only run. Geometry uses the fp32 struct (it is type-independent): check it
// with flotilla_f32_conv2d_geometry_check at plan time.
#ifndef FLOTILLA_CKERNELS_Q8_H
#define FLOTILLA_CKERNELS_Q8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ckernels_f32.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Largest reduction length of a GEMM: with |bias| ≤ FLOTILLA_Q8_MAX_ABS_BIAS every exact
/// accumulator bias + Σ (x − z_x)·w stays inside int32 (32768·255·127 + 2³⁰ < 2³¹).
#define FLOTILLA_Q8_MAX_K 32768
#define FLOTILLA_Q8_MAX_ABS_BIAS (1 << 30)

/// Element type of an 8-bit tensor.
typedef enum flotilla_q8_type {
    FLOTILLA_Q8_U8 = 0,  ///< uint8, zero point in [0, 255]
    FLOTILLA_Q8_S8 = 1,  ///< int8, zero point in [-128, 127]
} flotilla_q8_type;

/// Why a plan-time call or a GEMM refused its input; FLOTILLA_Q8_OK when it did not.
typedef enum flotilla_q8_status {
    FLOTILLA_Q8_OK = 0,
    FLOTILLA_Q8_BAD_SCALE = 1,              ///< a real multiplier/scale is NaN, ∞, ≤ 0 or ≥ 2³⁰
    FLOTILLA_Q8_BAD_REQUANT = 2,            ///< multiplier outside [0, 2³¹) or shift outside [-30, 31]
    FLOTILLA_Q8_BAD_ZERO_POINT = 3,         ///< zero point outside its type's range
    FLOTILLA_Q8_BAD_CLAMP = 4,              ///< qmin > qmax or outside the output type's range
    FLOTILLA_Q8_K_TOO_LARGE = 5,            ///< K > FLOTILLA_Q8_MAX_K
    FLOTILLA_Q8_WEIGHT_OUT_OF_RANGE = 6,    ///< a weight is -128, or beyond ±63 in 7-bit mode
    FLOTILLA_Q8_BIAS_OUT_OF_RANGE = 7,      ///< |bias| > FLOTILLA_Q8_MAX_ABS_BIAS
    FLOTILLA_Q8_PACK_MISMATCH = 8,          ///< packed by another path/layout or for other M, K
    FLOTILLA_Q8_EMPTY = 9,                  ///< M, K or a dimension is 0
} flotilla_q8_status;

/// A one-line English description of a status, saying what to fix.
const char *flotilla_q8_status_message(flotilla_q8_status status);

/// Real multiplier m > 0 → Q31 fixed point: m ≈ multiplier · 2^-(31 + shift), multiplier in
/// [2³⁰, 2³¹) rounded half away from zero from m's binary mantissa, shift in [-30, 31] (negative
/// for m ≥ 1). m < 2⁻³² gives multiplier 0, shift 0 (every accumulator then requantizes to 0).
/// BAD_SCALE when m is not finite, m ≤ 0 or m ≥ 2³⁰ (outputs are unchanged then).
flotilla_q8_status flotilla_q8_quantize_multiplier(double m, int32_t *multiplier, int32_t *shift);

/// The contract's one rounding: round(value / 2ⁿ) with ties toward +∞, i.e. (value + 2ⁿ⁻¹) >> n
/// (arithmetic shift), for n in [1, 62] and |value| < 2⁶².
int64_t flotilla_q8_round_shift(int64_t value, int32_t n);

/// clamp(zero_point + round_shift(acc · multiplier, 31 + shift), qmin, qmax): the scalar
/// requantization every kernel implements (exactly, in 64-bit arithmetic).
int32_t flotilla_q8_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                               int32_t qmin, int32_t qmax);

/// Requantization of int32 accumulators to an 8-bit output, per output channel or per tensor.
typedef struct flotilla_q8_requant {
    const int32_t *multiplier;  ///< one per channel (per_channel) or one
    const int32_t *shift;       ///< same count as multiplier
    bool per_channel;
    flotilla_q8_type type;      ///< output type
    int32_t zero_point;         ///< output zero point
    int32_t qmin, qmax;         ///< output clamp (type range, narrowed by a fused Relu/Clip)
} flotilla_q8_requant;

/// Plan-time check of a requant for `channels` output channels.
flotilla_q8_status flotilla_q8_requant_check(const flotilla_q8_requant *rq, size_t channels);

/// Output clamp [qmin, qmax] of a fused activation: the real range [lo, hi] (±INFINITY for
/// none) quantized with round-half-to-even and intersected with the type's range.
flotilla_q8_status flotilla_q8_clamp_range(flotilla_q8_type type, double scale, int32_t zero_point,
                                           double lo, double hi, int32_t *qmin, int32_t *qmax);

/// How weights are packed for a GEMM. Weights are int8 symmetric in [-127, 127] ([-63, 63] with
/// seven_bit); activations (B) are `x_type` with zero point `x_zero_point`.
typedef struct flotilla_q8_gemm_pack_params {
    size_t M, K;
    flotilla_q8_type x_type;
    int32_t x_zero_point;
    bool seven_bit;  ///< the class profile asks for 7-bit weights: refuse any |w| > 63
} flotilla_q8_gemm_pack_params;

/// Packed-buffer layout ids, recorded in every packed buffer's header.
enum {
    FLOTILLA_Q8_LAYOUT_REFERENCE = 1,     ///< row-major weights, raw bias
    FLOTILLA_Q8_LAYOUT_AVX512VNNI = 2,    ///< 8-row panels of 4-k quads
    FLOTILLA_Q8_LAYOUT_AVX2_WIDEN = 3,    ///< 4-row panels of int16 pairs (k0,k2)(k1,k3)
    FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS = 4,  ///< 4-row panels of 4-k quads, |w| ≤ 63 verified
    FLOTILLA_Q8_LAYOUT_NEON = 5,          ///< 4-row panels of int16 per k
    FLOTILLA_Q8_LAYOUT_NEONDOT = 6,       ///< 4-row panels of 4-k quads
};

/// Depthwise convolution (depth multiplier 1) parameters: weights C×kh×kw int8 in [-127, 127],
/// bias C int32 or NULL, requant per channel (C values) or per tensor.
typedef struct flotilla_q8_dwconv_params {
    flotilla_q8_type x_type;
    int32_t x_zero_point;
    const int8_t *weights;
    const int32_t *bias;
    flotilla_q8_requant requant;
} flotilla_q8_dwconv_params;

/// Elementwise Add/Mul of two quantized tensors (same element count) into a third.
typedef struct flotilla_q8_binary_params {
    flotilla_q8_type a_type, b_type, y_type;
    int32_t a_zero_point, b_zero_point, y_zero_point;
    int32_t a_multiplier, a_shift;  ///< Add: input a's rescale to the common int32 (Mul: unused)
    int32_t b_multiplier, b_shift;  ///< Add: input b's rescale (Mul: unused)
    int32_t y_multiplier, y_shift;  ///< final requantization
    int32_t qmin, qmax;
} flotilla_q8_binary_params;

/// Left shift applied to (x − z) before the per-input rescale of Add (TFLite's headroom).
#define FLOTILLA_Q8_ADD_LEFT_SHIFT 20

/// Plan-time Add parameters from real scales (see docs/int8-numerics.md).
flotilla_q8_status flotilla_q8_add_params_init(flotilla_q8_binary_params *p, flotilla_q8_type a_type,
                                               double a_scale, int32_t a_zero_point,
                                               flotilla_q8_type b_type, double b_scale,
                                               int32_t b_zero_point, flotilla_q8_type y_type,
                                               double y_scale, int32_t y_zero_point,
                                               int32_t qmin, int32_t qmax);
/// Plan-time Mul parameters: y = requant((a − z_a)(b − z_b), s_a·s_b/s_y).
flotilla_q8_status flotilla_q8_mul_params_init(flotilla_q8_binary_params *p, flotilla_q8_type a_type,
                                               double a_scale, int32_t a_zero_point,
                                               flotilla_q8_type b_type, double b_scale,
                                               int32_t b_zero_point, flotilla_q8_type y_type,
                                               double y_scale, int32_t y_zero_point,
                                               int32_t qmin, int32_t qmax);

/// Tensor → tensor requantization (Concat inputs, type changes): y = requant(x − z_x, s_x/s_y).
typedef struct flotilla_q8_rescale_params {
    flotilla_q8_type x_type, y_type;
    int32_t x_zero_point, y_zero_point;
    int32_t multiplier, shift;
    int32_t qmin, qmax;
} flotilla_q8_rescale_params;

flotilla_q8_status flotilla_q8_rescale_params_init(flotilla_q8_rescale_params *p,
                                                   flotilla_q8_type x_type, double x_scale,
                                                   int32_t x_zero_point, flotilla_q8_type y_type,
                                                   double y_scale, int32_t y_zero_point);

/// Average pooling: y = requant(Σ_window (x − z_x), s_x / (s_y · count)) where count is the
/// number of taps inside the input (or kh·kw with count_include_pad). One multiplier per count
/// 1…kh·kw is computed at plan time into `multiplier`/`shift` (kh·kw entries each, index count−1).
typedef struct flotilla_q8_avgpool_params {
    flotilla_q8_type type;  ///< input and output type
    int32_t x_zero_point, y_zero_point;
    bool count_include_pad;
    const int32_t *multiplier, *shift;
    int32_t qmin, qmax;
} flotilla_q8_avgpool_params;

/// Fills multiplier/shift[0 … taps−1] for average pooling with s_x/(s_y·count), count = index+1.
flotilla_q8_status flotilla_q8_avgpool_multipliers(double x_scale, double y_scale, size_t taps,
                                                   int32_t *multiplier, int32_t *shift);

/// Activation functions evaluated through a 256-entry table.
typedef enum flotilla_q8_lut_function {
    FLOTILLA_Q8_LUT_LEAKY_RELU = 0,    ///< x ≥ 0 ? x : alpha·x
    FLOTILLA_Q8_LUT_SIGMOID = 1,       ///< 1 / (1 + e^-x)
    FLOTILLA_Q8_LUT_HARD_SIGMOID = 2,  ///< max(0, min(1, alpha·x + beta))
    FLOTILLA_Q8_LUT_HARD_SWISH = 3,    ///< x · max(0, min(1, x/6 + 1/2))
    FLOTILLA_Q8_LUT_TANH = 4,
} flotilla_q8_lut_function;

/// Builds table[i] = q(f(s_x · (v(i) − z_x))) where v(i) is byte i read as x_type, f in double
/// precision, q(r) = clamp(round_half_even(r / s_y) + z_y, type range). Index = the input byte.
flotilla_q8_status flotilla_q8_lut_build(flotilla_q8_lut_function function, double alpha, double beta,
                                         flotilla_q8_type x_type, double x_scale, int32_t x_zero_point,
                                         flotilla_q8_type y_type, double y_scale, int32_t y_zero_point,
                                         uint8_t table[256]);

/// Exact int32 GEMM of two 8-bit matrices (ONNX MatMulInteger, ConvInteger as im2col + GEMM):
/// Y[m][n] = Σ_k (A[m][k] − za[m]) · (B[k][n] − zb[n]) in int32 with two's-complement
/// wrap-around (ONNX's int32 output: a sum beyond 2³¹ wraps, it does not saturate). A is M×K
/// (row stride lda), B K×N, Y M×N int32 (row stride ldy); each side u8 or s8; zero points per
/// row of A / per column of B, or one for the whole matrix. No requantization, no K limit.
/// B is packed (`gemm_s32_pack`): once at plan time when it is a constant, else per call.
typedef struct flotilla_q8_gemm_s32_b_params {
    size_t K, N;
    flotilla_q8_type b_type;
    const int32_t *b_zero_point;  ///< N values (per_column) or one; NULL means 0
    bool per_column;
} flotilla_q8_gemm_s32_b_params;

/// The A side of a gemm_s32 call: its type and zero points (read at call time, so a zero point
/// computed at run time by DynamicQuantizeLinear needs no re-pack).
typedef struct flotilla_q8_gemm_s32_a_params {
    flotilla_q8_type a_type;
    const int32_t *a_zero_point;  ///< M values (per_row) or one; NULL means 0
    bool per_row;
} flotilla_q8_gemm_s32_a_params;

/// One int8 kernel path. Tables are static and immutable.
///
/// GEMM (conv as GEMM, NCHW): C[M×N] = requant(bias[m] + Σ_k (B[k][n] − z_x) · W[m][k]) with W the
/// weights (M = Cout rows, K = Cin·kh·kw, packed at plan time with bias and z_x), B the
/// activations K×N row-major (row stride ldb ≥ N; x_type), C row-major 8-bit (ldc ≥ N; the
/// requant's type), requant per row m or per tensor. Bytes of C between N and ldc are untouched.
typedef struct flotilla_q8_kernels {
    /// "reference", "avx2", "avx512vnni", "neon" or "neondot".
    const char *name;
    /// Register tile of the GEMM microkernel (rows × columns of C).
    size_t gemm_mr, gemm_nr;

    /// Bytes of a packed weight buffer for M×K (64-byte header included).
    size_t (*gemm_pack_size)(size_t M, size_t K);
    /// Validates and packs W (M×K int8 row-major, row stride ldw) and bias (M int32 or NULL).
    flotilla_q8_status (*gemm_pack)(const flotilla_q8_gemm_pack_params *p, const int8_t *W,
                                    size_t ldw, const int32_t *bias, void *packed);
    /// Bytes of workspace `gemm` needs for N columns and K rows of B (may be 0).
    size_t (*gemm_workspace_size)(size_t N, size_t K);
    /// Runs the GEMM; PACK_MISMATCH when `packed` was not packed by this path for M and K.
    flotilla_q8_status (*gemm)(size_t M, size_t N, size_t K, const void *packed, const void *B,
                               size_t ldb, const flotilla_q8_requant *rq, void *C, size_t ldc,
                               void *workspace);

    /// im2col of one NCHW 8-bit image into (C·kh·kw) × (OH·OW); padding is `pad_byte` (the
    /// activation zero point's byte, so padded taps contribute (z − z)·w = 0).
    void (*im2col)(const flotilla_f32_conv2d_geometry *g, const uint8_t *input, uint8_t pad_byte,
                   uint8_t *columns);
    /// Depthwise convolution of one NCHW image: input C×H×W, output C×OH×OW.
    void (*dwconv)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                   const void *input, void *output);
    /// Elementwise quantized Add and Mul over n elements.
    void (*add)(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
    void (*mul)(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p);
    /// y = requant(x) from one (scale, zero point, type) to another.
    void (*rescale)(size_t n, const void *x, void *y, const flotilla_q8_rescale_params *p);
    /// y[i] = table[x[i]].
    void (*lut)(size_t n, const uint8_t *x, const uint8_t table[256], uint8_t *y);
    /// u8 ↔ s8 with the zero point moved by 128: y = x ^ 0x80 (exact both ways).
    void (*flip_sign)(size_t n, const uint8_t *x, uint8_t *y);
    /// Average pooling of one NCHW image.
    void (*avgpool)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                    const void *input, void *output);
    /// QuantizeLinear of n float32 values (ONNX arithmetic): t = x / scale in float32 (a true
    /// division: a reciprocal multiply rounds differently), rounded half to even, plus the zero
    /// point, clamped to [qmin, qmax]; NaN gives the zero point. y holds the low byte (u8 or s8).
    void (*quantize)(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                     uint8_t *y);

    /// Bytes of a packed B (K×N) for gemm_s32 (header included).
    size_t (*gemm_s32_pack_size)(size_t K, size_t N);
    /// Validates (zero points in range, K and N ≥ 1: EMPTY otherwise) and packs B (row stride ldb).
    flotilla_q8_status (*gemm_s32_pack)(const flotilla_q8_gemm_s32_b_params *p, const void *B, size_t ldb,
                                        void *packed);
    /// Bytes of workspace gemm_s32 needs for M rows of A and K (may be 0).
    size_t (*gemm_s32_workspace_size)(size_t M, size_t K);
    /// Y = the exact int32 product above. PACK_MISMATCH when `packed` is not this path's pack of
    /// a K×N B; BAD_ZERO_POINT when an A zero point is outside its type. M may be 0.
    flotilla_q8_status (*gemm_s32)(size_t M, size_t N, size_t K, const void *A, size_t lda,
                                   const flotilla_q8_gemm_s32_a_params *a, const void *packed, int32_t *Y,
                                   size_t ldy, void *workspace);
    /// Max pooling of one NCHW image of `type` (C = g->channels planes): each output is the
    /// largest input inside its window (padding never wins); a window with no input tap (pads ≥
    /// kernel) gives the type's lowest value. Exact: bytes are compared, nothing is rounded.
    void (*maxpool)(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input, void *output);

    /// Bytes of workspace `conv` needs for geometry g (g->channels = the input channels of one
    /// group; K = channels·kh·kw).
    size_t (*conv_workspace_size)(const flotilla_f32_conv2d_geometry *g);
    /// A k×k convolution of one NCHW image, M output rows, weights packed by this table's
    /// gemm_pack for M × K: exactly the bytes of im2col (padding = the packed zero point) followed
    /// by gemm into C (M × OH·OW, row stride ldc), without the whole column matrix: the columns
    /// are built band by band in L1 (for small input channel counts, where im2col and the GEMM's
    /// repack cost more than the dot products). PACK_MISMATCH as gemm. Both NULL on paths without
    /// it (callers then run im2col + gemm).
    flotilla_q8_status (*conv)(const flotilla_f32_conv2d_geometry *g, size_t M, const void *packed,
                               const void *input, const flotilla_q8_requant *rq, void *C, size_t ldc,
                               void *workspace);
    /// Plan-time depthwise pack: bytes of the pack `dwconv_pack` writes for geometry g, or 0 when
    /// this path packs nothing for g (the reference; geometries it runs planar): call `dwconv`.
    size_t (*dwconv_pack_size)(const flotilla_f32_conv2d_geometry *g);
    /// Packs p's weights, bias and requant constants (the per-channel work `dwconv` does per
    /// call) into `packed` (dwconv_pack_size bytes, 64-byte aligned). PACK_MISMATCH when the size
    /// is 0 or `packed` is misaligned; EMPTY when g has no channels.
    flotilla_q8_status (*dwconv_pack)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                      void *packed);
    /// `dwconv` with a pack from dwconv_pack for the same g and p (bit for bit the same output);
    /// `packed` NULL runs `dwconv`. PACK_MISMATCH, nothing written, when `packed` is another
    /// path's, geometry's or activation type/zero point's.
    flotilla_q8_status (*dwconv_packed)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                        const void *packed, const void *input, void *output);

    // Channels-last (NHWC) entries. The planner keeps int8 activations NHWC between the ops that
    // have them (docs/int8-runtime.md, "Channels-last activations"), so no kernel transposes
    // planes in and out. NULL on a path without them: the planner keeps NCHW around that op.

    /// Bytes of workspace gemm_nhwc needs for N rows of A and K (may be 0).
    size_t (*gemm_nhwc_workspace_size)(size_t N, size_t K);
    /// The 1×1 conv on channels-last activations, gemm's arithmetic with activations and output
    /// transposed: C[n][m] = requant(bias[m] + Σ_k (A[n][k] − z_x) · W[m][k]). `packed` is the
    /// buffer this table's gemm_pack wrote for M×K (the same one gemm reads); A is N×K row-major
    /// (row stride lda ≥ K; x_type), C N×M row-major (row stride ldc ≥ M; the requant's type),
    /// requant per column m or per tensor. Nothing outside [A, A + (N−1)·lda + K) is read and
    /// the bytes of C between M and ldc are untouched. PACK_MISMATCH as gemm; N may be 0.
    flotilla_q8_status (*gemm_nhwc)(size_t M, size_t N, size_t K, const void *packed, const void *A, size_t lda,
                                    const flotilla_q8_requant *rq, void *C, size_t ldc, void *workspace);
    /// Depthwise convolution of one NHWC image: input H×W×C, output OH×OW×C (C = g->channels,
    /// both dense), the arithmetic of dwconv. The pack entries mirror dwconv_pack_size /
    /// dwconv_pack (a size of 0: nothing to pack, call dwconv_nhwc with NULL); dwconv_nhwc with
    /// `packed` NULL computes the per-channel constants itself, with a pack it returns
    /// PACK_MISMATCH (nothing written) when the pack is another path's, geometry's or activation
    /// type/zero point's.
    size_t (*dwconv_nhwc_pack_size)(const flotilla_f32_conv2d_geometry *g);
    flotilla_q8_status (*dwconv_nhwc_pack)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                           void *packed);
    flotilla_q8_status (*dwconv_nhwc)(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                      const void *packed, const void *input, void *output);
    /// Byte matrix transpose: dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols (the
    /// NCHW ↔ NHWC move of one image: rows = C, cols = H·W, or the reverse). Regions must not
    /// overlap; bytes between cols and lds (rows and ldd) are neither read nor written.
    void (*transpose8)(size_t rows, size_t cols, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd);
} flotilla_q8_kernels;

/// The int8 table for this process, chosen once from flotilla_cpu_features_detect() (widest
/// path the CPU runs). FLOTILLA_KERNELS=reference forces the reference; a path name asks for
/// that path (ignored when unknown or not runnable). Never NULL.
const flotilla_q8_kernels *flotilla_q8_kernels_get(void);

/// The table named "reference", "avx2", "avx512vnni", "neon" or "neondot", or NULL when unknown
/// or not runnable on this CPU.
const flotilla_q8_kernels *flotilla_q8_kernels_named(const char *name);

/// A path's int8 weight packing alone, for a packed buffer built off the target CPU: the
/// coordinator packs a NEON class's weights on x86. The pack functions are plain C compiled on
/// every host (no target attribute, no intrinsics) and give the bytes the path's own table packs.
typedef struct flotilla_q8_gemm_packer {
    const char *name;
    size_t (*gemm_pack_size)(size_t M, size_t K);
    flotilla_q8_status (*gemm_pack)(const flotilla_q8_gemm_pack_params *p, const int8_t *W, size_t ldw,
                                    const int32_t *bias, void *packed);
} flotilla_q8_gemm_packer;

/// The packer for "reference", "avx2", "avx512vnni", "neon" or "neondot" on any host; NULL
/// when the name is unknown.
const flotilla_q8_gemm_packer *flotilla_q8_gemm_packer_named(const char *name);

/// Recovers the M×K int8 weights (row-major, row stride K) of a packed buffer of any layout, on
/// any host: every layout only rearranges (and, for int16 layouts, widens) the weights, so
/// packing them again gives the same bytes. PACK_MISMATCH when `size` bytes do not hold a valid
/// header and that layout's buffer for the header's M and K.
flotilla_q8_status flotilla_q8_gemm_unpack_weights(const void *packed, size_t size, int8_t *W);

#ifdef __cplusplus
}
#endif

#endif
