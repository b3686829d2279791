// The x86 channels-last depthwise's per-block packs and ISA parts, shared by the NCHW path
// (q8_dwconv_cl_x86.c, which defines them) and the NHWC entries (q8_dwconv_nhwc_x86.c).
#ifndef FLOTILLA_Q8_DWCONV_CL_X86_H
#define FLOTILLA_Q8_DWCONV_CL_X86_H

#include "q8_dwconv_cl.h"

#if defined(__x86_64__)
#include "q8_x86_requant.h"

#define T512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#define T256 __attribute__((target("avx2,fma")))

// AVX-512: 64 channels, four accumulators of 16 (accumulator q: channels 16q … 16q + 15).
typedef struct cl_pack512 {
    __m512i w[CL_TAPS_MAX / 4][4];  // tap group g, accumulator q: dword j = channel 16q + j's 4 taps
    __m512i init[4];
    flotilla_q8_lanes16_avx512 rq[4];
    // The 32-bit requant form (q8_x86_requant.h), when every live lane has 2 ≤ shift ≤ 31:
    // per lane 2ⁿ⁻³³ and n − 32.
    __m512i rnd32[4], cnt32[4];
    bool hi;
} cl_pack512;

// AVX2: 32 channels, four accumulators of 8 (accumulator q: channels 8q … 8q + 7).
typedef struct cl_pack256 {
    __m256i w[CL_TAPS_MAX / 2][4];  // tap pair g, accumulator q: dword j = channel 8q + j's int16 pair
    __m256i init[4], mult[4], n[4];
    // The 32-bit requant form when every live lane has 2 ≤ shift ≤ 31 (as cl_pack512).
    __m256i mult_odd[4], rnd32[4], cnt32[4];
    bool hi;
} cl_pack256;

// prep / run of the 64-channel (AVX-512 VNNI) and 32-channel (AVX2) blocks (cl_prep_fn, cl_run_fn).
T512 void flotilla_q8_cl_prep__avx512vnni(const cl_ctx *x, size_t c0, void *packed);
T512 void flotilla_q8_cl_run__avx512vnni(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr,
                                          size_t oy0, size_t oy1, uint8_t *out, size_t ldo, size_t keep);
T256 void flotilla_q8_cl_prep__avx2(const cl_ctx *x, size_t c0, void *packed);
T256 void flotilla_q8_cl_run__avx2(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                                   size_t oy1, uint8_t *out, size_t ldo, size_t keep);
#endif

#endif
