// The int8 dispatch tables and the once-per-process choice between them. Mul, rescale, LUT and
// sign flip are portable C shared by every table (see docs/kernels.md).
#include "q8_internal.h"

#include <pthread.h>
#include <stdlib.h>

#define PORTABLE_ENTRIES                          \
    .mul = flotilla_q8_mul__ref,                  \
    .rescale = flotilla_q8_rescale__ref,          \
    .lut = flotilla_q8_lut__ref,                  \
    .flip_sign = flotilla_q8_flip_sign__ref

// The reference packs nothing (its dwconv has no per-call packing to save).
static size_t dwconv_pack_size__none(const flotilla_f32_conv2d_geometry *g) {
    (void)g;
    return 0;
}

static flotilla_q8_status dwconv_pack__none(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                            void *packed) {
    (void)p, (void)packed;
    return g->channels == 0 ? FLOTILLA_Q8_EMPTY : FLOTILLA_Q8_PACK_MISMATCH;
}

static flotilla_q8_status dwconv_packed__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                             const void *packed, const void *input, void *output) {
    if (packed != NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    flotilla_q8_dwconv__ref(g, p, input, output);
    return FLOTILLA_Q8_OK;
}

static flotilla_q8_status dwconv_nhwc_pack__none(const flotilla_f32_conv2d_geometry *g,
                                                 const flotilla_q8_dwconv_params *p, void *packed) {
    return dwconv_pack__none(g, p, packed);
}

static flotilla_q8_status dwconv_nhwc__ref(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                           const void *packed, const void *input, void *output) {
    if (packed != NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    flotilla_q8_dwconv_nhwc__ref(g, p, input, output);
    return FLOTILLA_Q8_OK;
}

static const flotilla_q8_kernels reference_table = {
    .name = "reference",
    .gemm_mr = 1,
    .gemm_nr = 1,
    .gemm_pack_size = flotilla_q8_gemm_pack_size__ref,
    .gemm_pack = flotilla_q8_gemm_pack__ref,
    .gemm_workspace_size = flotilla_q8_gemm_workspace_size__ref,
    .gemm = flotilla_q8_gemm__ref,
    .im2col = flotilla_q8_im2col__ref,
    .dwconv = flotilla_q8_dwconv__ref,
    .add = flotilla_q8_add__ref,
    .avgpool = flotilla_q8_avgpool__ref,
    .quantize = flotilla_q8_quantize__ref,
    .gemm_s32_pack_size = flotilla_q8_gemm_s32_pack_size__ref,
    .gemm_s32_pack = flotilla_q8_gemm_s32_pack__ref,
    .gemm_s32_workspace_size = flotilla_q8_gemm_s32_workspace_size__ref,
    .gemm_s32 = flotilla_q8_gemm_s32__ref,
    .maxpool = flotilla_q8_maxpool__ref,
    .dwconv_pack_size = dwconv_pack_size__none,
    .dwconv_pack = dwconv_pack__none,
    .dwconv_packed = dwconv_packed__ref,
    .gemm_nhwc_workspace_size = flotilla_q8_gemm_workspace_size__ref,
    .gemm_nhwc = flotilla_q8_gemm_nhwc__ref,
    .dwconv_nhwc_pack_size = dwconv_pack_size__none,
    .dwconv_nhwc_pack = dwconv_nhwc_pack__none,
    .dwconv_nhwc = dwconv_nhwc__ref,
    .transpose8 = flotilla_q8_transpose8__ref,
    PORTABLE_ENTRIES,
};

#if defined(__x86_64__)
static const flotilla_q8_kernels avx2_table = {
    .name = "avx2",
    .gemm_mr = 4,
    .gemm_nr = 16,
    .gemm_pack_size = flotilla_q8_gemm_pack_size__avx2,
    .gemm_pack = flotilla_q8_gemm_pack_4x16__avx2,
    .gemm_workspace_size = flotilla_q8_gemm_workspace_size__avx2,
    .gemm = flotilla_q8_gemm_4x16__avx2,
    .im2col = flotilla_q8_im2col__rowcopy,
    .dwconv = flotilla_q8_dwconv__avx2,
    .dwconv_pack_size = flotilla_q8_dwconv_pack_size__avx2,
    .dwconv_pack = flotilla_q8_dwconv_pack__avx2,
    .dwconv_packed = flotilla_q8_dwconv_packed__avx2,
    .add = flotilla_q8_add__avx2,
    .avgpool = flotilla_q8_avgpool__avx2,
    .quantize = flotilla_q8_quantize__avx2,
    .gemm_s32_pack_size = flotilla_q8_gemm_s32_pack_size__avx2,
    .gemm_s32_pack = flotilla_q8_gemm_s32_pack__avx2,
    .gemm_s32_workspace_size = flotilla_q8_gemm_s32_workspace_size__avx2,
    .gemm_s32 = flotilla_q8_gemm_s32_4x16__avx2,
    .maxpool = flotilla_q8_maxpool__avx2,
    .gemm_nhwc_workspace_size = flotilla_q8_gemm_nhwc_workspace_size__avx2,
    .gemm_nhwc = flotilla_q8_gemm_nhwc__avx2,
    PORTABLE_ENTRIES,
    .dwconv_nhwc_pack_size = flotilla_q8_dwconv_nhwc_pack_size__avx2,
    .dwconv_nhwc_pack = flotilla_q8_dwconv_nhwc_pack__avx2,
    .dwconv_nhwc = flotilla_q8_dwconv_nhwc__avx2,
    .transpose8 = flotilla_q8_transpose8__avx2,
};

static const flotilla_q8_kernels avx512vnni_table = {
    .name = "avx512vnni",
    .gemm_mr = 8,
    .gemm_nr = 32,
    .gemm_pack_size = flotilla_q8_gemm_pack_size__avx512vnni,
    .gemm_pack = flotilla_q8_gemm_pack_8x32__avx512vnni,
    .gemm_workspace_size = flotilla_q8_gemm_workspace_size__avx512vnni,
    .gemm = flotilla_q8_gemm_8x32__avx512vnni,
    .im2col = flotilla_q8_im2col__rowcopy,
    .dwconv = flotilla_q8_dwconv__avx512vnni,
    .dwconv_pack_size = flotilla_q8_dwconv_pack_size__avx512vnni,
    .dwconv_pack = flotilla_q8_dwconv_pack__avx512vnni,
    .dwconv_packed = flotilla_q8_dwconv_packed__avx512vnni,
    .add = flotilla_q8_add__avx512vnni,
    .avgpool = flotilla_q8_avgpool__avx512vnni,
    .quantize = flotilla_q8_quantize__avx512vnni,
    .gemm_s32_pack_size = flotilla_q8_gemm_s32_pack_size__avx512vnni,
    .gemm_s32_pack = flotilla_q8_gemm_s32_pack__avx512vnni,
    .gemm_s32_workspace_size = flotilla_q8_gemm_s32_workspace_size__avx512vnni,
    .gemm_s32 = flotilla_q8_gemm_s32_4x32__avx512vnni,
    .maxpool = flotilla_q8_maxpool__avx2,
    .conv_workspace_size = flotilla_q8_conv_workspace_size__avx512vnni,
    .conv = flotilla_q8_conv__avx512vnni,
    .gemm_nhwc_workspace_size = flotilla_q8_gemm_nhwc_workspace_size__avx512vnni,
    .gemm_nhwc = flotilla_q8_gemm_nhwc__avx512vnni,
    PORTABLE_ENTRIES,
    .dwconv_nhwc_pack_size = flotilla_q8_dwconv_nhwc_pack_size__avx512vnni,
    .dwconv_nhwc_pack = flotilla_q8_dwconv_nhwc_pack__avx512vnni,
    .dwconv_nhwc = flotilla_q8_dwconv_nhwc__avx512vnni,
    .transpose8 = flotilla_q8_transpose8__avx512,
};
#endif

#if defined(__aarch64__)
static const flotilla_q8_kernels neon_table = {
    .name = "neon",
    .gemm_mr = 4,
    .gemm_nr = 16,
    .gemm_pack_size = flotilla_q8_gemm_pack_size__neon,
    .gemm_pack = flotilla_q8_gemm_pack_4x16__neon,
    .gemm_workspace_size = flotilla_q8_gemm_workspace_size__neon,
    .gemm = flotilla_q8_gemm_4x16__neon,
    .im2col = flotilla_q8_im2col__rowcopy,
    .dwconv = flotilla_q8_dwconv__neon,
    .dwconv_pack_size = flotilla_q8_dwconv_pack_size__neon,
    .dwconv_pack = flotilla_q8_dwconv_pack__neon,
    .dwconv_packed = flotilla_q8_dwconv_packed__neon,
    .add = flotilla_q8_add__neon,
    .avgpool = flotilla_q8_avgpool__neon,
    .quantize = flotilla_q8_quantize__neon,
    .gemm_s32_pack_size = flotilla_q8_gemm_s32_pack_size__neon,
    .gemm_s32_pack = flotilla_q8_gemm_s32_pack__neon,
    .gemm_s32_workspace_size = flotilla_q8_gemm_s32_workspace_size__neon,
    .gemm_s32 = flotilla_q8_gemm_s32_4x16__neon,
    .maxpool = flotilla_q8_maxpool__neon,
    .gemm_nhwc_workspace_size = flotilla_q8_gemm_nhwc_workspace_size__neon,
    .gemm_nhwc = flotilla_q8_gemm_nhwc__neon,
    PORTABLE_ENTRIES,
    .dwconv_nhwc_pack_size = flotilla_q8_dwconv_nhwc_pack_size__neon,
    .dwconv_nhwc_pack = flotilla_q8_dwconv_nhwc_pack__neon,
    .dwconv_nhwc = flotilla_q8_dwconv_nhwc__neon,
    .transpose8 = flotilla_q8_transpose8__neon,
};

static const flotilla_q8_kernels neondot_table = {
    .name = "neondot",
    .gemm_mr = 4,
    .gemm_nr = 16,
    .gemm_pack_size = flotilla_q8_gemm_pack_size__neondot,
    .gemm_pack = flotilla_q8_gemm_pack_4x16__neondot,
    .gemm_workspace_size = flotilla_q8_gemm_workspace_size__neondot,
    .gemm = flotilla_q8_gemm_4x16__neondot,
    .im2col = flotilla_q8_im2col__rowcopy,
    .dwconv = flotilla_q8_dwconv__neondot,
    .dwconv_pack_size = flotilla_q8_dwconv_pack_size__neondot,
    .dwconv_pack = flotilla_q8_dwconv_pack__neondot,
    .dwconv_packed = flotilla_q8_dwconv_packed__neondot,
    .add = flotilla_q8_add__neon,
    .avgpool = flotilla_q8_avgpool__neon,
    .quantize = flotilla_q8_quantize__neon,
    .gemm_s32_pack_size = flotilla_q8_gemm_s32_pack_size__neondot,
    .gemm_s32_pack = flotilla_q8_gemm_s32_pack__neondot,
    .gemm_s32_workspace_size = flotilla_q8_gemm_s32_workspace_size__neondot,
    .gemm_s32 = flotilla_q8_gemm_s32_4x16__neondot,
    .maxpool = flotilla_q8_maxpool__neon,
    .gemm_nhwc_workspace_size = flotilla_q8_gemm_nhwc_workspace_size__neondot,
    .gemm_nhwc = flotilla_q8_gemm_nhwc__neondot,
    PORTABLE_ENTRIES,
    .dwconv_nhwc_pack_size = flotilla_q8_dwconv_nhwc_pack_size__neondot,
    .dwconv_nhwc_pack = flotilla_q8_dwconv_nhwc_pack__neondot,
    .dwconv_nhwc = flotilla_q8_dwconv_nhwc__neondot,
    .transpose8 = flotilla_q8_transpose8__neon,
};
#endif

const flotilla_q8_kernels *flotilla_q8_kernels_named(const char *name) {
    if (name == NULL) return NULL;
    if (strcmp(name, "reference") == 0) return &reference_table;
    const flotilla_cpu_features f = flotilla_cpu_features_detect();
    (void)f;
#if defined(__x86_64__)
    if (strcmp(name, "avx2") == 0) return f.avx2 && f.fma ? &avx2_table : NULL;
    if (strcmp(name, "avx512vnni") == 0) {
        return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.avx2 && f.fma ? &avx512vnni_table : NULL;
    }
#endif
#if defined(__aarch64__)
    if (strcmp(name, "neon") == 0) return f.neon ? &neon_table : NULL;
    if (strcmp(name, "neondot") == 0) return f.neon && f.dotprod ? &neondot_table : NULL;
#endif
    return NULL;
}

static const flotilla_q8_kernels *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    // Same rule as the fp32 tables: FLOTILLA_KERNELS names a path; unknown or unrunnable names
    // are ignored so a stale setting never makes a device execute illegal instructions.
    const char *forced = getenv("FLOTILLA_KERNELS");
    const flotilla_q8_kernels *table = forced != NULL ? flotilla_q8_kernels_named(forced) : NULL;
    static const char *const widest_first[] = {"avx512vnni", "avx2", "neondot", "neon"};
    for (size_t i = 0; table == NULL && i < sizeof widest_first / sizeof widest_first[0]; i++) {
        table = flotilla_q8_kernels_named(widest_first[i]);
    }
    chosen = table != NULL ? table : &reference_table;
}

const flotilla_q8_kernels *flotilla_q8_kernels_get(void) {
    pthread_once(&chosen_once, choose);
    return chosen;
}
