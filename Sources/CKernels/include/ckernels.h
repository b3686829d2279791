// CKernels: Flotilla's hot loops. Each kernel has a plain reference (`*__ref`) and optional
// per-ISA variants compiled with __attribute__((target(...))) so the target as a whole builds
// for the baseline CPU. Variants are chosen once at plan time from flotilla_cpu_features().
#ifndef FLOTILLA_CKERNELS_H
#define FLOTILLA_CKERNELS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The CPU features the kernels and hardware-class detection care about.
typedef struct flotilla_cpu_features {
    bool x86_64;
    bool avx2;
    bool fma;
    bool avx512f;
    bool avx512bw;
    bool avx512vl;
    bool avx512vnni;
    bool avxvnni;
    bool arm64;
    bool neon;
    bool dotprod;
} flotilla_cpu_features;

/// Features of the CPU this process runs on, with OS support checked (XSAVE state for AVX and
/// AVX-512 registers on x86; HWCAP on Linux/arm64). Cached after the first call; thread-safe.
flotilla_cpu_features flotilla_cpu_features_detect(void);

#ifdef __cplusplus
}
#endif

#include "ckernels_f32.h"
#include "ckernels_q8.h"

#endif
