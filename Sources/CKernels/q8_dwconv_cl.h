// Channels-last int8 depthwise convolution, shared by the optimized paths (q8_dwconv.c: AVX-512
// VNNI, AVX2, NEON; q8_dwconv_neondot.c: NEON-dot). The planar body (q8_dwconv_body.h) pays a
// fixed cost per channel (padded-plane fill, tap grouping, a vector block for a handful of
// outputs); on MobileNet's late layers (3×3 to 12×12 planes, 96–336 channels) that cost is
// almost all of the time. Here a block of B channels (B = the ISA's lanes worth of bytes: 64,
// 32, 16) is transposed into a padded channels-last scratch, every output pixel accumulates
// its taps over the channel vector with per-channel weight vectors, is requantized with
// per-lane multipliers and shifts, and the block's outputs are transposed back to NCHW.
//
// Channel order inside a block. The x86 kernels build tap quads (pairs) with byte/word unpacks
// that work within 128-bit lanes: accumulator q, dword 4L + i then holds scratch byte
// 16L + 4q + i. The transpose-in stores channel (B/4)·q + 4L + i at that byte, so accumulator
// q holds channels (B/4)·q … (B/4)·q + B/4 − 1 in order. For B = 16 (NEON, whose zips span the
// register) the map is the identity.
//
// Bands: the scratch is bounded (CL_IN_MAX bytes of padded input, CL_OUT_MAX of outputs), so
// large planes run in bands of output rows, each with its own padded input rows.
#ifndef FLOTILLA_Q8_DWCONV_CL_H
#define FLOTILLA_Q8_DWCONV_CL_H

#include <stdbool.h>
#include <string.h>

#include "f32_internal.h"
#include "q8_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif


#define CL_IN_MAX 32768
#define CL_OUT_MAX 16384
#define CL_TAPS_MAX 64
#define CL_B_MAX 64

typedef struct cl_ctx {
    const flotilla_f32_conv2d_geometry *g;
    const flotilla_q8_dwconv_params *p;
    size_t oh, ow, taps, B;
    size_t pitch;  // scratch columns (padded), each B bytes
    size_t band;   // output rows per band
    size_t off[CL_TAPS_MAX + 4];  // tap byte offsets from a pixel's first tap; past `taps`: tap 0
    int32_t z_eff;                // zero point in the kernel's signedness (after `flip`)
    uint8_t flip, pad;            // XOR applied to input bytes; the padding byte (z_x ^ flip)
} cl_ctx;

// Whether a channels-last plan exists for g (taps, band sizes within the scratch); fills x.
static inline __attribute__((always_inline, unused)) bool cl_ctx_init(const flotilla_f32_conv2d_geometry *g,
                                                                     const flotilla_q8_dwconv_params *p,
                                                                     size_t B, bool signed_taps, cl_ctx *x) {
    x->g = g, x->p = p, x->B = B;
    x->oh = flotilla_f32_conv2d_out_h(g), x->ow = flotilla_f32_conv2d_out_w(g);
    x->taps = g->kernel_h * g->kernel_w;
    if (x->taps > CL_TAPS_MAX || x->oh == 0 || x->ow == 0) return false;
    const size_t cols = (x->ow - 1) * g->stride_w + (g->kernel_w - 1) * g->dilation_w + 1;
    // Wide enough for every input column too, so the transpose stores whole input rows.
    x->pitch = cols > g->pad_left + g->in_w ? cols : g->pad_left + g->in_w;
    if (x->pitch > CL_IN_MAX / B) return false;
    const size_t tall = (g->kernel_h - 1) * g->dilation_h + 1;
    if (tall > CL_IN_MAX / (x->pitch * B)) return false;
    const size_t rows_fit = CL_IN_MAX / (x->pitch * B);  // ≥ tall: (band − 1)·s_h + tall ≤ rows_fit
    size_t band = (rows_fit - tall) / g->stride_h + 1;
    const size_t out_fit = CL_OUT_MAX / (x->ow * B);
    if (out_fit == 0) return false;
    if (band > out_fit) band = out_fit;
    x->band = band < x->oh ? band : x->oh;
    for (size_t ky = 0; ky < g->kernel_h; ky++) {
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            x->off[ky * g->kernel_w + kx] = (ky * g->dilation_h * x->pitch + kx * g->dilation_w) * B;
        }
    }
    for (size_t k = x->taps; k < CL_TAPS_MAX + 4; k++) x->off[k] = 0;
    const bool is_u8 = p->x_type == FLOTILLA_Q8_U8;
    x->flip = is_u8 == signed_taps ? 0x80 : 0;
    x->z_eff = p->x_zero_point + (x->flip == 0 ? 0 : (is_u8 ? -128 : 128));
    x->pad = (uint8_t)((uint8_t)(p->x_zero_point & 0xFF) ^ x->flip);
    return true;
}

// The per-call choice between the planar body and the channels-last path, from the geometry
// alone (B: the path's channels per block). Channels-last costs about the same per block of B
// channels whatever number of them is live, and its scratch bands add re-read rows on large
// planes; planar costs a fixed amount per channel plus a per-output cost that is lower on
// large planes. Thresholds from benchmarks/int8-dwconv (clang, as SwiftPM builds; 3×3 pad 1,
// strides 1 and 2, avx512vnni B = 64 and avx2 B = 32; docs/kernels.md has the table): more
// channels are needed as the output plane grows, and since the planar kernels' packed requant
// (session 5) planar wins or ties on x86 past 24×24 outputs at every channel count. NEON
// (B = 16, not measurable here) keeps the earlier formula's 48×48 branch.
static inline __attribute__((unused)) bool flotilla_q8_dwconv_prefers_cl(const flotilla_f32_conv2d_geometry *g,
                                                                        size_t B) {
    const size_t ohw = flotilla_f32_conv2d_out_h(g) * flotilla_f32_conv2d_out_w(g), C = g->channels;
    if (ohw <= 144) return 4 * C >= B;
    if (ohw <= 576) return 2 * C >= B;
    if (ohw <= 2304) return B <= 16 && C >= 32;
    return false;
}

// Padded rows of the band starting at output row oy0: scratch row r is padded row oy0·s_h + r.
static inline size_t cl_band_rows(const cl_ctx *x, size_t nrows_out) {
    return (nrows_out - 1) * x->g->stride_h + (x->g->kernel_h - 1) * x->g->dilation_h + 1;
}

static inline void cl_fill_padding(const cl_ctx *x, size_t oy0, size_t rows, uint8_t *scr) {
    const flotilla_f32_conv2d_geometry *g = x->g;
    const size_t B = x->B, row_bytes = x->pitch * B;
    const size_t right = g->pad_left + g->in_w;
    for (size_t r = 0; r < rows; r++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy0 * g->stride_h + r) - (ptrdiff_t)g->pad_top;
        uint8_t *row = scr + r * row_bytes;
        if (iy < 0 || iy >= (ptrdiff_t)g->in_h) {
            memset(row, x->pad, row_bytes);
            continue;
        }
        if (g->pad_left > 0) memset(row, x->pad, g->pad_left * B);
        if (x->pitch > right) memset(row + right * B, x->pad, (x->pitch - right) * B);
    }
}

// The 16×16 byte transposes (per ISA, over 1, 2 or 4 independent 16×16 tiles side by side in
// the 128-bit lanes of a register): four rounds of interleaving row i with row i + 8 (low
// halves into row 2i, high halves into row 2i + 1). Each round rotates the 8-bit (row, byte)
// index left by one bit; four rounds swap row and byte. Written out so every register index is
// a constant (the rows stay in registers).
#define CL_ROUND(T, LO, HI, r)                                                                  \
    do {                                                                                        \
        const T t0_ = LO(r[0], r[8]), t1_ = HI(r[0], r[8]), t2_ = LO(r[1], r[9]);              \
        const T t3_ = HI(r[1], r[9]), t4_ = LO(r[2], r[10]), t5_ = HI(r[2], r[10]);            \
        const T t6_ = LO(r[3], r[11]), t7_ = HI(r[3], r[11]), t8_ = LO(r[4], r[12]);           \
        const T t9_ = HI(r[4], r[12]), t10_ = LO(r[5], r[13]), t11_ = HI(r[5], r[13]);         \
        const T t12_ = LO(r[6], r[14]), t13_ = HI(r[6], r[14]), t14_ = LO(r[7], r[15]);        \
        const T t15_ = HI(r[7], r[15]);                                                         \
        r[0] = t0_, r[1] = t1_, r[2] = t2_, r[3] = t3_, r[4] = t4_, r[5] = t5_, r[6] = t6_;     \
        r[7] = t7_, r[8] = t8_, r[9] = t9_, r[10] = t10_, r[11] = t11_, r[12] = t12_;           \
        r[13] = t13_, r[14] = t14_, r[15] = t15_;                                               \
    } while (0)
#define CL_TRANSPOSE(T, LO, HI, r) \
    do {                           \
        CL_ROUND(T, LO, HI, r);    \
        CL_ROUND(T, LO, HI, r);    \
        CL_ROUND(T, LO, HI, r);    \
        CL_ROUND(T, LO, HI, r);    \
    } while (0)
#define CL_EACH16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

// One transpose-in step: 16 pixels (from `pix` of each position's plane row src[p], p < B) to
// the B-byte scratch pixels dst[0..15], or, when dst is NULL, to run + k·B (16 consecutive
// pixels of one scratch row: no pointer table). `safe`: 16 bytes from every src[p] + pix are
// inside the input; otherwise use cl_load16_bounded. Bytes XORed with flip. `rows`: register
// rows j ≥ rows hold only channels past C in every tile (a partial block), so their loads may
// be skipped (their scratch bytes are never stored).
typedef void (*cl_tin_fn)(const uint8_t *const *src, size_t pix, bool safe, const uint8_t *end, uint8_t flip,
                          uint8_t *const *dst, uint8_t *run, size_t rows);
// One transpose-out step: 16 pixels of B-byte channel-last rows → 16 bytes of each of the
// block's `live` planes, plane m at out + m·ohw. `fast`: 16-byte stores allowed (for the live
// planes only: dead lanes are never stored); otherwise n bytes each.
typedef void (*cl_tout_fn)(const uint8_t *rows, uint8_t *out, size_t ohw, bool fast, size_t live, size_t n);

#if defined(__x86_64__) || defined(__aarch64__)
// 16 bytes from s when they lie inside [s, end); else the bytes that do, the rest zero.
static inline __attribute__((always_inline, unused)) void cl_copy16_bounded(uint8_t *tmp, const uint8_t *s,
                                                                            const uint8_t *end) {
    const size_t avail = (size_t)(end - s);
    memset(tmp, 0, 16);
    memcpy(tmp, s, avail < 16 ? avail : 16);
}

// The input rows of the band (every input pixel whose padded row lies in it) into the scratch,
// channel block [c0, c0 + B). Planes are read linearly, 16 pixels at a time (a run may cross
// input rows: each pixel's scratch column is tracked incrementally; pixels past the band go to
// `trash`); a run past a plane's end reads the next plane's bytes, which are never stored; only
// the tensor's end is guarded. Channels past C read channel C − 1 (lanes never stored).
static inline __attribute__((always_inline, unused)) void cl_transpose_in(const cl_ctx *x, const uint8_t *input,
                                                                          size_t c0, size_t oy0, size_t rows,
                                                                          uint8_t *scr, uint8_t *trash,
                                                                          cl_tin_fn step) {
    const flotilla_f32_conv2d_geometry *g = x->g;
    const size_t B = x->B, C = g->channels, hw = g->in_h * g->in_w;
    const ptrdiff_t r0 = (ptrdiff_t)(oy0 * g->stride_h) - (ptrdiff_t)g->pad_top;  // input row of scratch row 0
    const ptrdiff_t lo = r0 < 0 ? 0 : r0;
    const ptrdiff_t hi = r0 + (ptrdiff_t)rows < (ptrdiff_t)g->in_h ? r0 + (ptrdiff_t)rows : (ptrdiff_t)g->in_h;
    if (lo >= hi) return;
    const size_t p0 = (size_t)lo * g->in_w, p1 = (size_t)hi * g->in_w;
    const uint8_t *end = input + C * hw;
    const uint8_t *src[CL_B_MAX];
    for (size_t p = 0; p < B; p++) {
        size_t c = c0 + (B / 4) * ((p % 16) / 4) + 4 * (p / 16) + p % 4;
        if (c >= C) c = C - 1;
        src[p] = input + c * hw;
    }
    const uint8_t *last = input + (c0 + B - 1 < C ? c0 + B - 1 : C - 1) * hw;  // the highest src
    // Register row j holds channels c0 + (B/4)·(j/4) + 4L + j%4: live while (B/4)·(j/4) < nch.
    const size_t nch = C - c0 < B ? C - c0 : B, per = B / 4;
    const size_t live_rows = 4 * ((nch + per - 1) / per) < 16 ? 4 * ((nch + per - 1) / per) : 16;
    if (g->in_w >= 16) {
        // Row by row: each run's 16 pixels are consecutive scratch pixels; a row's last run
        // moves back to end at the row's end (re-storing a few pixels with the same bytes).
        for (size_t iy = (size_t)lo; iy < (size_t)hi; iy++) {
            uint8_t *row = scr + ((size_t)((ptrdiff_t)iy - r0) * x->pitch + g->pad_left) * B;
            for (size_t ix = 0; ix < g->in_w; ix += 16) {
                const size_t at = ix + 16 <= g->in_w ? ix : g->in_w - 16, pix = iy * g->in_w + at;
                step(src, pix, (size_t)(end - (last + pix)) >= 16, end, x->flip, NULL, row + at * B, live_rows);
            }
        }
        return;
    }
    size_t iy = (size_t)lo, ix = 0;
    for (size_t pix = p0; pix < p1; pix += 16) {
        uint8_t *dst[16];
        for (size_t k = 0; k < 16; k++) {
            if (pix + k < p1) {
                dst[k] = scr + ((size_t)((ptrdiff_t)iy - r0) * x->pitch + g->pad_left + ix) * B;
                if (++ix == g->in_w) ix = 0, iy++;
            } else {
                dst[k] = trash;
            }
        }
        step(src, pix, (size_t)(end - (last + pix)) >= 16, end, x->flip, dst, NULL, live_rows);
    }
}

// The band's outputs (pixels [q0, q1) of each output plane, channel-last in oscr with B bytes
// per pixel, channels in order) back to NCHW for channels [c0, min(c0 + B, C)). A short last
// run moves back to end at q1 when the band has 16 pixels; else (one band covering a plane of
// fewer than 16 pixels) its 16-byte stores run into the following planes, which later stores
// (channels ascending) overwrite, except at the tensor's end (exact-length copies).
static inline __attribute__((always_inline, unused)) void cl_transpose_out(const cl_ctx *x, const uint8_t *oscr,
                                                                           size_t c0, size_t q0, size_t q1,
                                                                           bool whole_plane, uint8_t *output,
                                                                           cl_tout_fn step) {
    const size_t B = x->B, C = x->g->channels, ohw = x->oh * x->ow;
    const size_t nch = C - c0 < B ? C - c0 : B;
    const uint8_t *end = output + C * ohw;
    for (size_t q = q0; q < q1; q += 16) {
        size_t start = q, n = q1 - q < 16 ? q1 - q : 16;
        if (n < 16 && q1 - q0 >= 16) start = q1 - 16, n = 16;
        uint8_t *out = output + c0 * ohw + start;
        const bool fast = n == 16 || (whole_plane && (size_t)(end - (out + (nch - 1) * ohw)) >= 16);
        step(oscr + (start - q0) * B, out, ohw, fast, nch, n);
    }
}

#if defined(__aarch64__)
// NEON (B = 16, one tile): shared by the NEON and NEON-dot paths.
static void __attribute__((unused)) cl_tin_neon(const uint8_t *const *src, size_t pix, bool safe, const uint8_t *end,
                                                uint8_t flip, uint8_t *const *dst, uint8_t *run, size_t rows) {
    (void)rows;  // one tile: the map is the identity, every row can hold a live channel
    uint8x16_t r[16];
    if (safe) {
#define CL_LD(j) r[j] = vld1q_u8(src[j] + pix);
        CL_EACH16(CL_LD)
#undef CL_LD
    } else {
        uint8_t tmp[16 * 16];
        for (size_t j = 0; j < 16; j++) cl_copy16_bounded(tmp + 16 * j, src[j] + pix, end);
#define CL_LD(j) r[j] = vld1q_u8(tmp + 16 * j);
        CL_EACH16(CL_LD)
#undef CL_LD
    }
    const uint8x16_t f = vdupq_n_u8(flip);
#define CL_X(j) r[j] = veorq_u8(r[j], f);
    CL_EACH16(CL_X)
#undef CL_X
    CL_TRANSPOSE(uint8x16_t, vzip1q_u8, vzip2q_u8, r);
    if (dst == NULL) {
#define CL_ST(k) vst1q_u8(run + 16 * (k), r[k]);
        CL_EACH16(CL_ST)
#undef CL_ST
        return;
    }
#define CL_ST(k) vst1q_u8(dst[k], r[k]);
    CL_EACH16(CL_ST)
#undef CL_ST
}

static void __attribute__((unused)) cl_tout_neon(const uint8_t *rows, uint8_t *out, size_t ohw, bool fast,
                                                 size_t live, size_t n) {
    uint8x16_t r[16];
#define CL_LD(k) r[k] = vld1q_u8(rows + 16 * k);
    CL_EACH16(CL_LD)
#undef CL_LD
    CL_TRANSPOSE(uint8x16_t, vzip1q_u8, vzip2q_u8, r);
    if (fast && live == 16) {
#define CL_ST(m) vst1q_u8(out + (m) * ohw, r[m]);
        CL_EACH16(CL_ST)
#undef CL_ST
        return;
    }
    uint8_t tmp[16 * 16];
#define CL_ST(m) vst1q_u8(tmp + 16 * (m), r[m]);
    CL_EACH16(CL_ST)
#undef CL_ST
    for (size_t m = 0; m < live; m++) memcpy(out + m * ohw, tmp + 16 * m, n);
}
#endif

// Per-lane constants of the 16-channel block at c0 (nch live), for the NEON packers: the initial
// accumulator bias − z_eff·Σw (wrapping, as the reference), the multiplier and −(31 + shift);
// dead lanes get 0 and −31.
static inline __attribute__((unused)) void cl_lane_constants16(const cl_ctx *x, size_t c0, size_t nch, int32_t init[16],
                                                              int32_t mult[16], int64_t neg_n[16]) {
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t taps = x->taps;
    const int8_t *w = x->p->weights + c0 * taps;
    for (size_t j = 0; j < 16; j++) {
        int32_t sum = 0;
        if (j < nch) {
            for (size_t t = 0; t < taps; t++) sum += w[j * taps + t];
        }
        const size_t c = c0 + j;
        const int32_t bias = j < nch && x->p->bias != NULL ? x->p->bias[c] : 0;
        init[j] = (int32_t)((uint32_t)bias - (uint32_t)x->z_eff * (uint32_t)sum);
        mult[j] = j >= nch ? 0 : rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
        neg_n[j] = -(int64_t)(31 + (j >= nch ? 0 : rq->per_channel ? rq->shift[c] : rq->shift[0]));
    }
}

// The ISA part: per channel block, pack the per-lane weights, initial accumulators
// (bias − z_eff·Σw) and requant values into `packed`; per band, compute output rows [oy0, oy1)
// from the scratch: output pixel j of the band (channels in order) goes to out + j·ldo, its
// first `keep` bytes only (NCHW: oscr, ldo = keep = B; NHWC: the output rows, ldo = C,
// keep = the block's live channels, so a partial block never writes the next pixel's bytes).
typedef void (*cl_prep_fn)(const cl_ctx *x, size_t c0, void *packed);
typedef void (*cl_run_fn)(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                          size_t oy1, uint8_t *out, size_t ldo, size_t keep);

// Output pixels read by the transpose-out past a band's end: slack so those reads stay inside.
#define CL_OSCR_SLACK (16 * CL_B_MAX)

// `prepacked` (plan-time pack, see cl_pack below): block i's constants at prepacked + i·block_bytes,
// no prep; NULL: prep into `packed` per block.
static inline __attribute__((always_inline, unused)) void cl_drive(const cl_ctx *x, const void *input, void *output,
                                                                   void *packed, const uint8_t *prepacked,
                                                                   size_t block_bytes, cl_prep_fn prep, cl_run_fn run,
                                                                   cl_tin_fn tin, cl_tout_fn tout) {
    _Alignas(64) uint8_t scr[CL_IN_MAX + CL_B_MAX];  // + the trash pixel
    _Alignas(64) uint8_t oscr[CL_OUT_MAX + CL_OSCR_SLACK];
    const size_t C = x->g->channels, B = x->B;
    const bool whole = x->band >= x->oh;
    // Blocks outer, bands inner: one prep per block. The padding is refilled per band (a band's
    // pad rows may be an earlier band's image rows); pad rows are all pad bytes, so the pad
    // columns of a row stay valid when a later band stores the row's image pixels.
    for (size_t c0 = 0; c0 < C; c0 += B) {
        const size_t nch = C - c0 < B ? C - c0 : B;
        const void *k = packed;
        if (prepacked != NULL) {
            k = prepacked + (c0 / B) * block_bytes;
        } else {
            prep(x, c0, packed);
        }
        for (size_t oy0 = 0; oy0 < x->oh; oy0 += x->band) {
            const size_t oy1 = oy0 + x->band < x->oh ? oy0 + x->band : x->oh;
            const size_t rows = cl_band_rows(x, oy1 - oy0);
            if (c0 == 0 || !whole) cl_fill_padding(x, oy0, rows, scr);
            cl_transpose_in(x, (const uint8_t *)input, c0, oy0, rows, scr, scr + CL_IN_MAX, tin);
            run(x, k, nch, scr, oy0, oy1, oscr, B, B);
            cl_transpose_out(x, oscr, c0, oy0 * x->ow, oy1 * x->ow, whole, (uint8_t *)output, tout);
        }
    }
}

// Plan-time pack (the dwconv_pack / dwconv_packed entries): a CL_PACK_HEADER-byte header, then
// every channel block's prep output (block_bytes each, a multiple of 16), so a call skips the
// weight gathers and per-lane constant prep. Packed only for geometries the path's rule runs
// channels-last (the rule depends on the geometry alone, fixed at plan time); size 0 otherwise.
// The pack is a layout of the same constants prep computes per call: the output is the same.
#define CL_PACK_MAGIC 0x31574451u  // "QDW1"
#define CL_PACK_HEADER 64

typedef struct cl_pack_header {
    uint32_t magic, layout;
    uint64_t channels, taps, block_bytes, kernel_h, kernel_w;
    int32_t x_type, x_zero_point;
} cl_pack_header;

// Packs need no per-call scratch: pack sizes depend on g alone (the zero point is checked by
// the header, not by the size).
// NHWC packs exist for every geometry with a channels-last plan (no planar alternative there).
static inline __attribute__((unused)) size_t cl_pack_size_for(const flotilla_f32_conv2d_geometry *g, size_t B,
                                                              size_t block_bytes, bool nhwc) {
    if (g->channels == 0 || (!nhwc && !flotilla_q8_dwconv_prefers_cl(g, B))) return 0;
    const flotilla_q8_dwconv_params probe = {.x_type = FLOTILLA_Q8_U8};
    cl_ctx x;
    if (!cl_ctx_init(g, &probe, B, false, &x)) return 0;
    return CL_PACK_HEADER + (g->channels + B - 1) / B * block_bytes;
}

static inline __attribute__((unused)) size_t cl_pack_size(const flotilla_f32_conv2d_geometry *g, size_t B,
                                                          size_t block_bytes) {
    return cl_pack_size_for(g, B, block_bytes, false);
}

static inline __attribute__((always_inline, unused)) flotilla_q8_status cl_pack_for(
    const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p, size_t B, bool signed_taps,
    uint32_t layout, size_t block_bytes, cl_prep_fn prep, bool nhwc, void *packed) {
    if (g->channels == 0) return FLOTILLA_Q8_EMPTY;
    cl_ctx x;
    if (cl_pack_size_for(g, B, block_bytes, nhwc) == 0 || !cl_ctx_init(g, p, B, signed_taps, &x) || packed == NULL ||
        (uintptr_t)packed % 64 != 0) {
        return FLOTILLA_Q8_PACK_MISMATCH;
    }
    const cl_pack_header h = {.magic = CL_PACK_MAGIC, .layout = layout, .channels = g->channels, .taps = x.taps,
                              .block_bytes = block_bytes, .kernel_h = g->kernel_h, .kernel_w = g->kernel_w,
                              .x_type = (int32_t)p->x_type, .x_zero_point = p->x_zero_point};
    memset(packed, 0, CL_PACK_HEADER);
    memcpy(packed, &h, sizeof h);
    uint8_t *blocks = (uint8_t *)packed + CL_PACK_HEADER;
    for (size_t c0 = 0; c0 < g->channels; c0 += B) prep(&x, c0, blocks + (c0 / B) * block_bytes);
    return FLOTILLA_Q8_OK;
}

static inline __attribute__((always_inline, unused)) flotilla_q8_status cl_pack(const flotilla_f32_conv2d_geometry *g,
                                                                                const flotilla_q8_dwconv_params *p,
                                                                                size_t B, bool signed_taps,
                                                                                uint32_t layout, size_t block_bytes,
                                                                                cl_prep_fn prep, void *packed) {
    return cl_pack_for(g, p, B, signed_taps, layout, block_bytes, prep, false, packed);
}

// Whether `packed` was packed by cl_pack for this path (layout), geometry and activation.
static inline __attribute__((unused)) bool cl_pack_matches_for(const cl_ctx *x, const void *packed, uint32_t layout,
                                                              size_t block_bytes, bool nhwc) {
    if ((uintptr_t)packed % 64 != 0 || (!nhwc && !flotilla_q8_dwconv_prefers_cl(x->g, x->B))) return false;
    cl_pack_header h;
    memcpy(&h, packed, sizeof h);
    return h.magic == CL_PACK_MAGIC && h.layout == layout && h.channels == x->g->channels && h.taps == x->taps &&
           h.block_bytes == block_bytes && h.kernel_h == x->g->kernel_h && h.kernel_w == x->g->kernel_w &&
           h.x_type == (int32_t)x->p->x_type && h.x_zero_point == x->p->x_zero_point;
}

static inline __attribute__((unused)) bool cl_pack_matches(const cl_ctx *x, const void *packed, uint32_t layout,
                                                          size_t block_bytes) {
    return cl_pack_matches_for(x, packed, layout, block_bytes, false);
}

// The packed run: PACK_MISMATCH (nothing written) unless `packed` matches; NULL runs `plain`.
#define CL_PACKED_RUN(B_, SIGNED, LAYOUT, PACK_T, PREP, RUN, TIN, TOUT, PLAIN)                                  \
    do {                                                                                                     \
        if (packed == NULL) {                                                                                \
            PLAIN(g, p, input, output);                                                                      \
            return FLOTILLA_Q8_OK;                                                                           \
        }                                                                                                    \
        cl_ctx x_;                                                                                           \
        if (!cl_ctx_init(g, p, B_, SIGNED, &x_) || !cl_pack_matches(&x_, packed, LAYOUT, sizeof(PACK_T))) { \
            return FLOTILLA_Q8_PACK_MISMATCH;                                                                \
        }                                                                                                    \
        cl_drive(&x_, input, output, NULL, (const uint8_t *)packed + CL_PACK_HEADER, sizeof(PACK_T), PREP,   \
                 RUN, TIN, TOUT);                                                                            \
        return FLOTILLA_Q8_OK;                                                                               \
    } while (0)

// Layout ids of the channels-last packs (the header's `layout`). The NHWC entries' packs hold
// the same constants but get their own ids: each entry accepts only its own table entry's pack.
enum { CL_LAYOUT_AVX512VNNI = 1, CL_LAYOUT_AVX2 = 2, CL_LAYOUT_NEON = 3, CL_LAYOUT_NEONDOT = 4 };
enum {
    CL_LAYOUT_NHWC_AVX512VNNI = 5,
    CL_LAYOUT_NHWC_AVX2 = 6,
    CL_LAYOUT_NHWC_NEON = 7,
    CL_LAYOUT_NHWC_NEONDOT = 8,
    CL_LAYOUT_NHWC_AVX512VNNI_16X4 = 9,
    CL_LAYOUT_NHWC_AVX512VNNI_32 = 10,  // the AVX2 blocks, for rows too wide for 64 (same bytes)
};
#endif

#endif
