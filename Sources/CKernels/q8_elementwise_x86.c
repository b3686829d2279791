// x86 int8 Add (with requantization), global average pooling and QuantizeLinear, AVX2 and
// AVX-512, bit-exact with the reference. Add computes each input's rescale round((x − z)·2²⁰·M / 2ⁿ) in 64-bit
// lanes (|product| < 2⁵⁹: exact), truncates to int32 as the reference's cast does, and
// requantizes the sum with the shared vector requantization. s8 inputs are XORed with 0x80 and
// their zero point raised by 128, so every input widens as u8 and x − z is unchanged.
#include "q8_internal.h"

#if defined(__x86_64__)
#include "q8_x86_requant.h"

static inline int32_t flip_zero_point(flotilla_q8_type t, int32_t z) { return t == FLOTILLA_Q8_S8 ? z + 128 : z; }
static inline char flip_byte(flotilla_q8_type t) { return t == FLOTILLA_Q8_S8 ? (char)0x80 : 0; }

// 16 bytes → their rescaled int32 values (AVX-512 has the 64-bit arithmetic shift).
static inline __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m512i add_operand16(
    __m128i bytes, __m128i flip, __m512i z, __m512i m, __m512i rnd, __m128i cnt) {
    const __m512i v = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_xor_si128(bytes, flip)), z),
                                        FLOTILLA_Q8_ADD_LEFT_SHIFT);
    __m512i even = _mm512_mul_epi32(v, m);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(v, 32), m);
    even = _mm512_sra_epi64(_mm512_add_epi64(even, rnd), cnt);
    odd = _mm512_sra_epi64(_mm512_add_epi64(odd, rnd), cnt);
    return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// The operand rescale in 32-bit lanes. With d = x − z (|d| ≤ 255), s = n − 20 ≥ 1 and the
// multiplier split M = Mh·2¹⁶ + Ml: d·2²⁰·M + 2ⁿ⁻¹ = 2²⁰·(d·M + 2^(s−1)) exactly, so the
// contract's (d·2²⁰·M + 2ⁿ⁻¹) >> n is (d·M + 2^(s−1)) >> s, and with A = d·Mh (|A| < 2²³) and
// B = d·Ml (|B| < 2²⁴), both VPMULLD:
//   s ≤ 16: A·2^(16−s) + ((B + 2^(s−1)) >> s)  (A·2¹⁶ is a multiple of 2^s; the first term
//           wraps modulo 2³² exactly where the reference's int32 cast of the 64-bit value does);
//   s ≥ 17: (A + 2^(s−17) + (B >> 16)) >> (s − 16)  (floor of a floor; every sum < 2²⁶).
// Against the 64-bit form: two VPMULLD and four 32-bit ops instead of two VPMULDQ, a 64-bit
// shift and round per half and the merge. n < 21 (shift < −10, never produced by
// add_params_init, whose operand multipliers are ≤ 1/2) keeps the 64-bit form.
typedef struct add_operand_c {
    int32_t mh, ml, rnd, c1, c2;  // s ≤ 16: rnd = 2^(s−1), c1 = 16 − s, c2 = s; s ≥ 17: rnd = 2^(s−17), c2 = s − 16
    bool small;                   // s ≤ 16
} add_operand_c;

static inline bool add_operand_c_make(int32_t mult, int32_t shift, add_operand_c *c) {
    const int n = 31 + shift;
    if (n < 21) return false;
    const int s = n - 20;
    c->mh = (int32_t)((uint32_t)mult >> 16);
    c->ml = mult & 0xFFFF;
    c->small = s <= 16;
    c->rnd = c->small ? 1 << (s - 1) : 1 << (s - 17);
    c->c1 = c->small ? 16 - s : 0;
    c->c2 = c->small ? s : s - 16;
    return true;
}

static inline __attribute__((always_inline, target("avx2,fma,avx512f,avx512bw,avx512vl"))) __m512i add_operand16_32(
    __m128i bytes, __m128i flip, __m512i z, const add_operand_c *c, bool small) {
    const __m512i d = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_xor_si128(bytes, flip)), z);
    const __m512i A = _mm512_mullo_epi32(d, _mm512_set1_epi32(c->mh));
    const __m512i B = _mm512_mullo_epi32(d, _mm512_set1_epi32(c->ml));
    const __m512i rnd = _mm512_set1_epi32(c->rnd);
    if (small) {
        return _mm512_add_epi32(_mm512_sll_epi32(A, _mm_cvtsi32_si128(c->c1)),
                                _mm512_sra_epi32(_mm512_add_epi32(B, rnd), _mm_cvtsi32_si128(c->c2)));
    }
    return _mm512_sra_epi32(_mm512_add_epi32(_mm512_add_epi32(A, rnd), _mm512_srai_epi32(B, 16)),
                            _mm_cvtsi32_si128(c->c2));
}

static inline __attribute__((always_inline, target("avx2,fma,avx512f,avx512bw,avx512vl"))) size_t add32_avx512(
    size_t n, const uint8_t *pa, const uint8_t *pb, uint8_t *py, const flotilla_q8_binary_params *p,
    const add_operand_c *ca, const add_operand_c *cb, bool sa, bool sb) {
    const __m128i fa = _mm_set1_epi8(flip_byte(p->a_type)), fb = _mm_set1_epi8(flip_byte(p->b_type));
    const __m512i za = _mm512_set1_epi32(flip_zero_point(p->a_type, p->a_zero_point));
    const __m512i zb = _mm512_set1_epi32(flip_zero_point(p->b_type, p->b_zero_point));
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i va = add_operand16_32(_mm_loadu_si128((const __m128i *)(const void *)(pa + i)), fa, za, ca, sa);
        const __m512i vb = add_operand16_32(_mm_loadu_si128((const __m128i *)(const void *)(pb + i)), fb, zb, cb, sb);
        _mm_storeu_si128((__m128i *)(void *)(py + i),
                         flotilla_q8_requant16_avx512(_mm512_add_epi32(va, vb), p->y_multiplier, p->y_shift,
                                                      p->y_zero_point, p->qmin, p->qmax));
    }
    return i;
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_add__avx512vnni(
    size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p) {
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    const __m128i fa = _mm_set1_epi8(flip_byte(p->a_type)), fb = _mm_set1_epi8(flip_byte(p->b_type));
    const __m512i za = _mm512_set1_epi32(flip_zero_point(p->a_type, p->a_zero_point));
    const __m512i zb = _mm512_set1_epi32(flip_zero_point(p->b_type, p->b_zero_point));
    const __m512i ma = _mm512_set1_epi32(p->a_multiplier), mb = _mm512_set1_epi32(p->b_multiplier);
    const int na = 31 + p->a_shift, nb = 31 + p->b_shift;
    const __m512i ra = _mm512_set1_epi64((int64_t)1 << (na - 1)), rb = _mm512_set1_epi64((int64_t)1 << (nb - 1));
    const __m128i ca = _mm_cvtsi32_si128(na), cb = _mm_cvtsi32_si128(nb);
    size_t i = 0;
    add_operand_c oa, ob;
    if (add_operand_c_make(p->a_multiplier, p->a_shift, &oa) && add_operand_c_make(p->b_multiplier, p->b_shift, &ob)) {
        // Each input's s ≤ 16 or not as a constant per loop.
        if (oa.small && ob.small) i = add32_avx512(n, pa, pb, py, p, &oa, &ob, true, true);
        else if (oa.small) i = add32_avx512(n, pa, pb, py, p, &oa, &ob, true, false);
        else if (ob.small) i = add32_avx512(n, pa, pb, py, p, &oa, &ob, false, true);
        else i = add32_avx512(n, pa, pb, py, p, &oa, &ob, false, false);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512i va = add_operand16(_mm_loadu_si128((const __m128i *)(const void *)(pa + i)), fa, za, ma, ra, ca);
        const __m512i vb = add_operand16(_mm_loadu_si128((const __m128i *)(const void *)(pb + i)), fb, zb, mb, rb, cb);
        _mm_storeu_si128((__m128i *)(void *)(py + i),
                         flotilla_q8_requant16_avx512(_mm512_add_epi32(va, vb), p->y_multiplier, p->y_shift,
                                                      p->y_zero_point, p->qmin, p->qmax));
    }
    if (i < n) flotilla_q8_add__ref(n - i, pa + i, pb + i, py + i, p);
}

// 8 bytes → rescaled int32 values. AVX2 has no 64-bit arithmetic shift: the rounded product is
// biased by 2⁶² (|p| < 2⁵⁹, so it stays positive below 2⁶³) and shifted logically, which adds
// exactly 2^(62−n) (n ≤ 62); the low dwords then lose that bias in 32-bit arithmetic.
static inline __attribute__((target("avx2,fma"))) __m256i add_operand8(__m128i bytes, __m128i flip, __m256i z,
                                                                      __m256i m, __m256i rnd, __m128i cnt,
                                                                      __m256i unbias) {
    const __m256i v = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_xor_si128(bytes, flip)), z),
                                        FLOTILLA_Q8_ADD_LEFT_SHIFT);
    __m256i even = _mm256_mul_epi32(v, m);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(v, 32), m);
    even = _mm256_srl_epi64(_mm256_add_epi64(even, rnd), cnt);
    odd = _mm256_srl_epi64(_mm256_add_epi64(odd, rnd), cnt);
    return _mm256_sub_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), unbias);
}

static inline __attribute__((always_inline, target("avx2,fma"))) __m256i add_operand8_32(__m128i bytes, __m128i flip,
                                                                                        __m256i z, const add_operand_c *c,
                                                                                        bool small) {
    const __m256i d = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_xor_si128(bytes, flip)), z);
    const __m256i A = _mm256_mullo_epi32(d, _mm256_set1_epi32(c->mh));
    const __m256i B = _mm256_mullo_epi32(d, _mm256_set1_epi32(c->ml));
    const __m256i rnd = _mm256_set1_epi32(c->rnd);
    if (small) {
        return _mm256_add_epi32(_mm256_sll_epi32(A, _mm_cvtsi32_si128(c->c1)),
                                _mm256_sra_epi32(_mm256_add_epi32(B, rnd), _mm_cvtsi32_si128(c->c2)));
    }
    return _mm256_sra_epi32(_mm256_add_epi32(_mm256_add_epi32(A, rnd), _mm256_srai_epi32(B, 16)),
                            _mm_cvtsi32_si128(c->c2));
}

static inline __attribute__((always_inline, target("avx2,fma"))) size_t add32_avx2(
    size_t n, const uint8_t *pa, const uint8_t *pb, uint8_t *py, const flotilla_q8_binary_params *p,
    const add_operand_c *ca, const add_operand_c *cb, bool sa, bool sb) {
    const __m128i fa = _mm_set1_epi8(flip_byte(p->a_type)), fb = _mm_set1_epi8(flip_byte(p->b_type));
    const __m256i za = _mm256_set1_epi32(flip_zero_point(p->a_type, p->a_zero_point));
    const __m256i zb = _mm256_set1_epi32(flip_zero_point(p->b_type, p->b_zero_point));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i va = add_operand8_32(_mm_loadl_epi64((const __m128i *)(const void *)(pa + i)), fa, za, ca, sa);
        const __m256i vb = add_operand8_32(_mm_loadl_epi64((const __m128i *)(const void *)(pb + i)), fb, zb, cb, sb);
        _mm_storel_epi64((__m128i *)(void *)(py + i),
                         flotilla_q8_requant8_avx2(_mm256_add_epi32(va, vb), p->y_multiplier, p->y_shift,
                                                   p->y_zero_point, p->qmin, p->qmax));
    }
    return i;
}

__attribute__((target("avx2,fma"))) void flotilla_q8_add__avx2(size_t n, const void *a, const void *b, void *y,
                                                              const flotilla_q8_binary_params *p) {
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    const __m128i fa = _mm_set1_epi8(flip_byte(p->a_type)), fb = _mm_set1_epi8(flip_byte(p->b_type));
    const __m256i za = _mm256_set1_epi32(flip_zero_point(p->a_type, p->a_zero_point));
    const __m256i zb = _mm256_set1_epi32(flip_zero_point(p->b_type, p->b_zero_point));
    const __m256i ma = _mm256_set1_epi32(p->a_multiplier), mb = _mm256_set1_epi32(p->b_multiplier);
    const int na = 31 + p->a_shift, nb = 31 + p->b_shift;
    const __m256i ra = _mm256_set1_epi64x((int64_t)(((uint64_t)1 << (na - 1)) + ((uint64_t)1 << 62)));
    const __m256i rb = _mm256_set1_epi64x((int64_t)(((uint64_t)1 << (nb - 1)) + ((uint64_t)1 << 62)));
    const __m256i ua = _mm256_set1_epi32((int32_t)(uint32_t)((uint64_t)1 << (62 - na)));
    const __m256i ub = _mm256_set1_epi32((int32_t)(uint32_t)((uint64_t)1 << (62 - nb)));
    const __m128i ca = _mm_cvtsi32_si128(na), cb = _mm_cvtsi32_si128(nb);
    size_t i = 0;
    add_operand_c oa, ob;
    if (add_operand_c_make(p->a_multiplier, p->a_shift, &oa) && add_operand_c_make(p->b_multiplier, p->b_shift, &ob)) {
        if (oa.small && ob.small) i = add32_avx2(n, pa, pb, py, p, &oa, &ob, true, true);
        else if (oa.small) i = add32_avx2(n, pa, pb, py, p, &oa, &ob, true, false);
        else if (ob.small) i = add32_avx2(n, pa, pb, py, p, &oa, &ob, false, true);
        else i = add32_avx2(n, pa, pb, py, p, &oa, &ob, false, false);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256i va = add_operand8(_mm_loadl_epi64((const __m128i *)(const void *)(pa + i)), fa, za, ma, ra, ca, ua);
        const __m256i vb = add_operand8(_mm_loadl_epi64((const __m128i *)(const void *)(pb + i)), fb, zb, mb, rb, cb, ub);
        _mm_storel_epi64((__m128i *)(void *)(py + i),
                         flotilla_q8_requant8_avx2(_mm256_add_epi32(va, vb), p->y_multiplier, p->y_shift,
                                                   p->y_zero_point, p->qmin, p->qmax));
    }
    if (i < n) flotilla_q8_add__ref(n - i, pa + i, pb + i, py + i, p);
}

typedef void (*requant_run_fn)(const int32_t *acc, size_t n, int32_t mult, int32_t shift,
                               const flotilla_q8_requant *rq, uint8_t *out);

// Global average pooling (window = the whole plane, no padding): every output averages all
// taps, so count = kh·kw for every channel and one (multiplier, shift) serves them all. Channel
// sums Σx − taps·z_x go to a block of int32 and are requantized as a vector run. Other
// geometries take the reference.
// Σ (x ⊕ flip) − zsum of `count` planes of `taps` bytes each.
typedef void (*plane_sums_fn)(const uint8_t *planes, size_t count, size_t taps, uint8_t flip, int32_t zsum,
                              int32_t *sums);

static void plane_sums_scalar(const uint8_t *planes, size_t count, size_t taps, uint8_t flip, int32_t zsum,
                              int32_t *sums) {
    for (size_t c = 0; c < count; c++) {
        const uint8_t *plane = planes + c * taps;
        uint32_t s = 0;
        for (size_t i = 0; i < taps; i++) s += (uint8_t)(plane[i] ^ flip);
        sums[c] = (int32_t)(s - (uint32_t)zsum);
    }
}

// Planes of ≤ 16 taps (the 3×3 and 4×4 heads of batch-1 classifiers: 1280 × 9 in MobileNet):
// one masked 16-byte load per plane (exactly its bytes; the masked-off lanes are zero and never
// read), the flip under the same mask, and VPSADBW's two 8-byte sums. The scalar loop spent
// about 8 cycles per 9-byte plane.
static __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) void plane_sums_avx512(
    const uint8_t *planes, size_t count, size_t taps, uint8_t flip, int32_t zsum, int32_t *sums) {
    if (taps > 16) {
        plane_sums_scalar(planes, count, taps, flip, zsum, sums);
        return;
    }
    const __mmask16 live = (__mmask16)((1u << taps) - 1u);
    const __m128i f = _mm_maskz_mov_epi8(live, _mm_set1_epi8((char)flip)), z = _mm_setzero_si128();
    for (size_t c = 0; c < count; c++) {
        const __m128i v = _mm_xor_si128(_mm_maskz_loadu_epi8(live, planes + c * taps), f);
        const __m128i sad = _mm_sad_epu8(v, z);
        sums[c] = (int32_t)((uint32_t)_mm_cvtsi128_si32(_mm_add_epi32(sad, _mm_unpackhi_epi64(sad, sad))) - (uint32_t)zsum);
    }
}

// The same with AVX2: a plain 16-byte load ANDed with the live bytes, while the load stays
// inside these planes; the last planes take the scalar sum.
static __attribute__((target("avx2,fma"))) void plane_sums_avx2(const uint8_t *planes, size_t count, size_t taps,
                                                                uint8_t flip, int32_t zsum, int32_t *sums) {
    size_t c = 0;
    if (taps <= 16) {
        const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m128i live = _mm_cmpgt_epi8(_mm_set1_epi8((char)taps), iota);
        const __m128i f = _mm_and_si128(live, _mm_set1_epi8((char)flip)), z = _mm_setzero_si128();
        for (; c * taps + 16 <= count * taps; c++) {
            const __m128i raw = _mm_loadu_si128((const __m128i *)(const void *)(planes + c * taps));
            const __m128i sad = _mm_sad_epu8(_mm_xor_si128(_mm_and_si128(raw, live), f), z);
            sums[c] = (int32_t)((uint32_t)_mm_cvtsi128_si32(_mm_add_epi32(sad, _mm_unpackhi_epi64(sad, sad))) -
                                (uint32_t)zsum);
        }
    }
    plane_sums_scalar(planes + c * taps, count - c, taps, flip, zsum, sums + c);
}

static inline __attribute__((always_inline)) void avgpool_body(const flotilla_f32_conv2d_geometry *g,
                                                                const flotilla_q8_avgpool_params *p,
                                                                const void *input, void *output,
                                                                requant_run_fn requant_run, plane_sums_fn plane_sums) {
    if (!flotilla_q8_avgpool_is_global(g)) {
        flotilla_q8_avgpool__ref(g, p, input, output);
        return;
    }
    const size_t taps = g->in_h * g->in_w;
    const flotilla_q8_requant rq = {.multiplier = p->multiplier, .shift = p->shift, .per_channel = false,
                                    .type = p->type, .zero_point = p->y_zero_point, .qmin = p->qmin, .qmax = p->qmax};
    const uint8_t flip = p->type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    const int32_t zsum = (int32_t)taps * flip_zero_point(p->type, p->x_zero_point);
    int32_t sums[256];
    for (size_t c0 = 0; c0 < g->channels; c0 += 256) {
        const size_t count = g->channels - c0 < 256 ? g->channels - c0 : 256;
        plane_sums((const uint8_t *)input + c0 * taps, count, taps, flip, zsum, sums);
        requant_run(sums, count, p->multiplier[taps - 1], p->shift[taps - 1], &rq, (uint8_t *)output + c0);
    }
}

__attribute__((target("avx2,fma"))) void flotilla_q8_avgpool__avx2(const flotilla_f32_conv2d_geometry *g,
                                                                   const flotilla_q8_avgpool_params *p,
                                                                   const void *input, void *output) {
    avgpool_body(g, p, input, output, flotilla_q8_requant_run_avx2, plane_sums_avx2);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_avgpool__avx512vnni(
    const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p, const void *input, void *output) {
    avgpool_body(g, p, input, output, flotilla_q8_requant_run_avx512, plane_sums_avx512);
}
// QuantizeLinear: VDIVPS is IEEE division, lane for lane the reference's x / scale; the clamp to
// ±2²² then round-to-nearest-even conversion is the reference's rounding (explicit rounding
// mode, independent of MXCSR); NaN lanes (unordered) take the zero point.
__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_quantize__avx512vnni(
    size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax, uint8_t *y) {
    const __m512 s = _mm512_set1_ps(scale), lim_lo = _mm512_set1_ps(-4194304.0f), lim_hi = _mm512_set1_ps(4194304.0f);
    const __m512i z = _mm512_set1_epi32(zero_point), lo = _mm512_set1_epi32(qmin), hi = _mm512_set1_epi32(qmax);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 t = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
        const __mmask16 nan = _mm512_cmp_ps_mask(t, t, _CMP_UNORD_Q);
        const __m512 c = _mm512_min_ps(_mm512_max_ps(t, lim_lo), lim_hi);
        __m512i v = _mm512_add_epi32(_mm512_cvt_roundps_epi32(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
        v = _mm512_mask_blend_epi32(nan, _mm512_min_epi32(_mm512_max_epi32(v, lo), hi), z);
        _mm_storeu_si128((__m128i *)(void *)(y + i), _mm512_cvtepi32_epi8(v));
    }
    if (i < n) flotilla_q8_quantize__ref(n - i, x + i, scale, zero_point, qmin, qmax, y + i);
}

__attribute__((target("avx2,fma"))) void flotilla_q8_quantize__avx2(size_t n, const float *x, float scale,
                                                                   int32_t zero_point, int32_t qmin, int32_t qmax,
                                                                   uint8_t *y) {
    const __m256 s = _mm256_set1_ps(scale), lim_lo = _mm256_set1_ps(-4194304.0f), lim_hi = _mm256_set1_ps(4194304.0f);
    const __m256i z = _mm256_set1_epi32(zero_point), lo = _mm256_set1_epi32(qmin), hi = _mm256_set1_epi32(qmax);
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 t = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(t, t, _CMP_UNORD_Q));
        const __m256 c = _mm256_min_ps(_mm256_max_ps(t, lim_lo), lim_hi);
        const __m256 r = _mm256_round_ps(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256i v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(r), z), lo), hi);
        v = _mm256_blendv_epi8(v, z, nan);
        // Byte 0 of each dword to the front of its lane, then the two lanes' dwords together.
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
        _mm_storel_epi64((__m128i *)(void *)(y + i), _mm256_castsi256_si128(v));
    }
    if (i < n) flotilla_q8_quantize__ref(n - i, x + i, scale, zero_point, qmin, qmax, y + i);
}
#endif
