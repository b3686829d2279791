// The int8 numeric contract's plan-time half: real scales → fixed-point multipliers and shifts,
// clamp ranges, Add/Mul/rescale/avgpool parameters and activation tables. Everything here runs
// once per model on the host or device; the kernels only consume its integers.
// Compiled with the target's flags; the only floating point is double arithmetic on scales,
// with no contraction-sensitive expressions (each result is one operation or a libm call).
#include "q8_internal.h"

#include <math.h>

// a·x + b must round twice on every platform (arm64 compilers would fuse it into an FMA).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

const char *flotilla_q8_status_message(flotilla_q8_status status) {
    switch (status) {
    case FLOTILLA_Q8_OK: return "ok";
    case FLOTILLA_Q8_BAD_SCALE:
        return "a real multiplier or scale is NaN, infinite, not positive, or >= 2^30: check the tensor scales";
    case FLOTILLA_Q8_BAD_REQUANT:
        return "a requant multiplier is outside [0, 2^31) or a shift outside [-30, 31]: compute them with flotilla_q8_quantize_multiplier";
    case FLOTILLA_Q8_BAD_ZERO_POINT:
        return "a zero point is outside its type's range (u8: 0...255, s8: -128...127)";
    case FLOTILLA_Q8_BAD_CLAMP:
        return "the output clamp is empty or outside the output type's range: check the fused activation's range";
    case FLOTILLA_Q8_K_TOO_LARGE:
        return "the reduction length K exceeds 32768, where int32 accumulation could overflow: split the reduction";
    case FLOTILLA_Q8_WEIGHT_OUT_OF_RANGE:
        return "a weight is -128 (weights are symmetric in [-127, 127]) or beyond +-63 in 7-bit mode: requantize the weights";
    case FLOTILLA_Q8_BIAS_OUT_OF_RANGE:
        return "a bias exceeds 2^30 in magnitude: the bias scale is too small for this layer";
    case FLOTILLA_Q8_PACK_MISMATCH:
        return "the packed weights were made by another kernel path or for other M/K: pack them with this path's gemm_pack";
    case FLOTILLA_Q8_EMPTY:
        return "a dimension is 0";
    }
    return "unknown flotilla_q8_status";
}

flotilla_q8_status flotilla_q8_quantize_multiplier(double m, int32_t *multiplier, int32_t *shift) {
    if (!isfinite(m) || m <= 0.0 || m >= 1073741824.0) return FLOTILLA_Q8_BAD_SCALE;
    int e = 0;
    const double f = frexp(m, &e);  // m = f · 2^e, f in [0.5, 1): exact
    // f · 2³¹ is exact in double; llround rounds its 53-bit mantissa to 31 bits, ties away.
    long long q = llround(ldexp(f, 31));
    if (q == (1LL << 31)) {  // rounded up to the next power of two
        q = 1LL << 30;
        e += 1;
    }
    // m ≈ q · 2^(e − 31): total right shift n = 31 − e = 31 + shift, valid for n in [1, 62].
    if (e > 30) return FLOTILLA_Q8_BAD_SCALE;
    if (e < -31) {
        // m < 2⁻³²: |acc · m| < 0.5 for every int32 acc, so the exact result is 0 anyway.
        *multiplier = 0;
        *shift = 0;
        return FLOTILLA_Q8_OK;
    }
    *multiplier = (int32_t)q;
    *shift = -e;
    return FLOTILLA_Q8_OK;
}

int64_t flotilla_q8_round_shift(int64_t value, int32_t n) {
    return (value + ((int64_t)1 << (n - 1))) >> n;
}

int32_t flotilla_q8_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                               int32_t qmin, int32_t qmax) {
    return flotilla_q8_requant_scalar(acc, multiplier, shift, zero_point, qmin, qmax);
}

static bool zero_point_ok(flotilla_q8_type t, int32_t zp) {
    return zp >= flotilla_q8_type_min(t) && zp <= flotilla_q8_type_max(t);
}

static bool requant_pair_ok(int32_t multiplier, int32_t shift) {
    return multiplier >= 0 && shift >= -30 && shift <= 31;
}

flotilla_q8_status flotilla_q8_requant_check(const flotilla_q8_requant *rq, size_t channels) {
    if (channels == 0) return FLOTILLA_Q8_EMPTY;
    if (rq->multiplier == NULL || rq->shift == NULL) return FLOTILLA_Q8_BAD_REQUANT;
    if (rq->type != FLOTILLA_Q8_U8 && rq->type != FLOTILLA_Q8_S8) return FLOTILLA_Q8_BAD_ZERO_POINT;
    const size_t count = rq->per_channel ? channels : 1;
    for (size_t c = 0; c < count; c++) {
        if (!requant_pair_ok(rq->multiplier[c], rq->shift[c])) return FLOTILLA_Q8_BAD_REQUANT;
    }
    if (!zero_point_ok(rq->type, rq->zero_point)) return FLOTILLA_Q8_BAD_ZERO_POINT;
    if (rq->qmin > rq->qmax || rq->qmin < flotilla_q8_type_min(rq->type) ||
        rq->qmax > flotilla_q8_type_max(rq->type))
        return FLOTILLA_Q8_BAD_CLAMP;
    return FLOTILLA_Q8_OK;
}

// Round half to even, independent of the floating-point environment's rounding mode.
static double round_half_even(double t) {
    const double r = floor(t);
    const double d = t - r;  // exact for |t| < 2⁵²
    if (d > 0.5) return r + 1.0;
    if (d < 0.5) return r;
    return fmod(r, 2.0) == 0.0 ? r : r + 1.0;
}

// round_half_even(r / scale) + zero_point clamped to [lo, hi], without converting huge doubles.
static int32_t quantize_real(double r, double scale, int32_t zero_point, int32_t lo, int32_t hi) {
    const double t = round_half_even(r / scale) + (double)zero_point;
    if (!(t >= (double)lo)) return lo;  // NaN lands on lo: callers never pass NaN
    if (t > (double)hi) return hi;
    return (int32_t)t;
}

flotilla_q8_status flotilla_q8_clamp_range(flotilla_q8_type type, double scale, int32_t zero_point,
                                           double lo, double hi, int32_t *qmin, int32_t *qmax) {
    if (!isfinite(scale) || scale <= 0.0) return FLOTILLA_Q8_BAD_SCALE;
    if (!zero_point_ok(type, zero_point)) return FLOTILLA_Q8_BAD_ZERO_POINT;
    if (isnan(lo) || isnan(hi) || lo > hi) return FLOTILLA_Q8_BAD_CLAMP;
    const int32_t tmin = flotilla_q8_type_min(type), tmax = flotilla_q8_type_max(type);
    const int32_t a = lo == -INFINITY ? tmin : quantize_real(lo, scale, zero_point, tmin, tmax);
    const int32_t b = hi == INFINITY ? tmax : quantize_real(hi, scale, zero_point, tmin, tmax);
    if (a > b) return FLOTILLA_Q8_BAD_CLAMP;
    *qmin = a;
    *qmax = b;
    return FLOTILLA_Q8_OK;
}

static flotilla_q8_status binary_common(flotilla_q8_binary_params *p, flotilla_q8_type a_type,
                                        int32_t a_zp, flotilla_q8_type b_type, int32_t b_zp,
                                        flotilla_q8_type y_type, int32_t y_zp, int32_t qmin,
                                        int32_t qmax) {
    if (!zero_point_ok(a_type, a_zp) || !zero_point_ok(b_type, b_zp) || !zero_point_ok(y_type, y_zp))
        return FLOTILLA_Q8_BAD_ZERO_POINT;
    if (qmin > qmax || qmin < flotilla_q8_type_min(y_type) || qmax > flotilla_q8_type_max(y_type))
        return FLOTILLA_Q8_BAD_CLAMP;
    memset(p, 0, sizeof *p);
    p->a_type = a_type, p->b_type = b_type, p->y_type = y_type;
    p->a_zero_point = a_zp, p->b_zero_point = b_zp, p->y_zero_point = y_zp;
    p->qmin = qmin, p->qmax = qmax;
    return FLOTILLA_Q8_OK;
}

flotilla_q8_status flotilla_q8_add_params_init(flotilla_q8_binary_params *p, flotilla_q8_type a_type,
                                               double a_scale, int32_t a_zero_point,
                                               flotilla_q8_type b_type, double b_scale,
                                               int32_t b_zero_point, flotilla_q8_type y_type,
                                               double y_scale, int32_t y_zero_point, int32_t qmin,
                                               int32_t qmax) {
    if (!(a_scale > 0.0) || !(b_scale > 0.0) || !(y_scale > 0.0) || !isfinite(a_scale) ||
        !isfinite(b_scale) || !isfinite(y_scale))
        return FLOTILLA_Q8_BAD_SCALE;
    flotilla_q8_binary_params q;
    flotilla_q8_status s = binary_common(&q, a_type, a_zero_point, b_type, b_zero_point, y_type,
                                         y_zero_point, qmin, qmax);
    if (s != FLOTILLA_Q8_OK) return s;
    // TFLite's scheme: both inputs to a common scale 2·max(s_a, s_b) / 2²⁰ (each rescale ≤ 0.5,
    // so 255 · 2²⁰ · 0.5 < 2²⁸ and the sum fits int32 with room), then one final requant.
    const double twice_max = 2.0 * (a_scale > b_scale ? a_scale : b_scale);
    if ((s = flotilla_q8_quantize_multiplier(a_scale / twice_max, &q.a_multiplier, &q.a_shift)) != FLOTILLA_Q8_OK) return s;
    if ((s = flotilla_q8_quantize_multiplier(b_scale / twice_max, &q.b_multiplier, &q.b_shift)) != FLOTILLA_Q8_OK) return s;
    const double y_real = twice_max / (ldexp(1.0, FLOTILLA_Q8_ADD_LEFT_SHIFT) * y_scale);
    if ((s = flotilla_q8_quantize_multiplier(y_real, &q.y_multiplier, &q.y_shift)) != FLOTILLA_Q8_OK) return s;
    *p = q;
    return FLOTILLA_Q8_OK;
}

flotilla_q8_status flotilla_q8_mul_params_init(flotilla_q8_binary_params *p, flotilla_q8_type a_type,
                                               double a_scale, int32_t a_zero_point,
                                               flotilla_q8_type b_type, double b_scale,
                                               int32_t b_zero_point, flotilla_q8_type y_type,
                                               double y_scale, int32_t y_zero_point, int32_t qmin,
                                               int32_t qmax) {
    if (!(a_scale > 0.0) || !(b_scale > 0.0) || !(y_scale > 0.0) || !isfinite(a_scale) ||
        !isfinite(b_scale) || !isfinite(y_scale))
        return FLOTILLA_Q8_BAD_SCALE;
    flotilla_q8_binary_params q;
    flotilla_q8_status s = binary_common(&q, a_type, a_zero_point, b_type, b_zero_point, y_type,
                                         y_zero_point, qmin, qmax);
    if (s != FLOTILLA_Q8_OK) return s;
    s = flotilla_q8_quantize_multiplier(a_scale * b_scale / y_scale, &q.y_multiplier, &q.y_shift);
    if (s != FLOTILLA_Q8_OK) return s;
    *p = q;
    return FLOTILLA_Q8_OK;
}

flotilla_q8_status flotilla_q8_rescale_params_init(flotilla_q8_rescale_params *p,
                                                   flotilla_q8_type x_type, double x_scale,
                                                   int32_t x_zero_point, flotilla_q8_type y_type,
                                                   double y_scale, int32_t y_zero_point) {
    if (!(x_scale > 0.0) || !(y_scale > 0.0) || !isfinite(x_scale) || !isfinite(y_scale))
        return FLOTILLA_Q8_BAD_SCALE;
    if (!zero_point_ok(x_type, x_zero_point) || !zero_point_ok(y_type, y_zero_point))
        return FLOTILLA_Q8_BAD_ZERO_POINT;
    flotilla_q8_rescale_params q = {
        .x_type = x_type, .y_type = y_type, .x_zero_point = x_zero_point,
        .y_zero_point = y_zero_point, .qmin = flotilla_q8_type_min(y_type),
        .qmax = flotilla_q8_type_max(y_type),
    };
    const flotilla_q8_status s = flotilla_q8_quantize_multiplier(x_scale / y_scale, &q.multiplier, &q.shift);
    if (s != FLOTILLA_Q8_OK) return s;
    *p = q;
    return FLOTILLA_Q8_OK;
}

flotilla_q8_status flotilla_q8_avgpool_multipliers(double x_scale, double y_scale, size_t taps,
                                                   int32_t *multiplier, int32_t *shift) {
    if (taps == 0) return FLOTILLA_Q8_EMPTY;
    if (!(x_scale > 0.0) || !(y_scale > 0.0) || !isfinite(x_scale) || !isfinite(y_scale))
        return FLOTILLA_Q8_BAD_SCALE;
    for (size_t i = 0; i < taps; i++) {
        const double m = x_scale / (y_scale * (double)(i + 1));
        const flotilla_q8_status s = flotilla_q8_quantize_multiplier(m, &multiplier[i], &shift[i]);
        if (s != FLOTILLA_Q8_OK) return s;
    }
    return FLOTILLA_Q8_OK;
}

static double clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

flotilla_q8_status flotilla_q8_lut_build(flotilla_q8_lut_function function, double alpha, double beta,
                                         flotilla_q8_type x_type, double x_scale, int32_t x_zero_point,
                                         flotilla_q8_type y_type, double y_scale, int32_t y_zero_point,
                                         uint8_t table[256]) {
    if (!(x_scale > 0.0) || !(y_scale > 0.0) || !isfinite(x_scale) || !isfinite(y_scale) ||
        !isfinite(alpha) || !isfinite(beta))
        return FLOTILLA_Q8_BAD_SCALE;
    if (!zero_point_ok(x_type, x_zero_point) || !zero_point_ok(y_type, y_zero_point))
        return FLOTILLA_Q8_BAD_ZERO_POINT;
    const int32_t lo = flotilla_q8_type_min(y_type), hi = flotilla_q8_type_max(y_type);
    for (int i = 0; i < 256; i++) {
        const int32_t v = x_type == FLOTILLA_Q8_U8 ? i : (int32_t)(int8_t)(uint8_t)i;
        const double x = x_scale * (double)(v - x_zero_point);
        double f;
        switch (function) {
        case FLOTILLA_Q8_LUT_LEAKY_RELU: f = x >= 0.0 ? x : alpha * x; break;
        case FLOTILLA_Q8_LUT_SIGMOID: f = 1.0 / (1.0 + exp(-x)); break;
        case FLOTILLA_Q8_LUT_HARD_SIGMOID: f = clamp01(alpha * x + beta); break;
        case FLOTILLA_Q8_LUT_HARD_SWISH: f = x * clamp01(x / 6.0 + 0.5); break;
        case FLOTILLA_Q8_LUT_TANH: f = tanh(x); break;
        default: return FLOTILLA_Q8_BAD_SCALE;
        }
        table[i] = (uint8_t)(quantize_real(f, y_scale, y_zero_point, lo, hi) & 0xFF);
    }
    return FLOTILLA_Q8_OK;
}
