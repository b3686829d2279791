#include "ckernels.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

// XCR0 tells which register state the OS saves on context switch: a CPU that has AVX-512 but
// an OS that does not save ZMM state must not run AVX-512 code.
static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static flotilla_cpu_features detect(void) {
    flotilla_cpu_features f;
    memset(&f, 0, sizeof f);
    f.x86_64 = true;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool osxsave = (c >> 27) & 1;
    const bool avx = (c >> 28) & 1;
    const bool fma = (c >> 12) & 1;
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = read_xcr0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;
    const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
    if (!ymm_state) return f;
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.fma = fma;
    if (zmm_state) {
        f.avx512f = (b >> 16) & 1;
        f.avx512bw = (b >> 30) & 1;
        f.avx512vl = (b >> 31) & 1;
        f.avx512vnni = (c >> 11) & 1;
    }
    __cpuid_count(7, 1, a, b, c, d);
    f.avxvnni = (a >> 4) & 1;
    return f;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

static flotilla_cpu_features detect(void) {
    flotilla_cpu_features f;
    memset(&f, 0, sizeof f);
    f.arm64 = true;
    const unsigned long hw = getauxval(AT_HWCAP);
    f.neon = (hw & HWCAP_ASIMD) != 0;
    f.dotprod = (hw & HWCAP_ASIMDDP) != 0;
    return f;
}

#else
static flotilla_cpu_features detect(void) {
    flotilla_cpu_features f;
    memset(&f, 0, sizeof f);
    return f;
}
#endif

static flotilla_cpu_features cached;
static pthread_once_t cached_once = PTHREAD_ONCE_INIT;
static void fill_cache(void) { cached = detect(); }

flotilla_cpu_features flotilla_cpu_features_detect(void) {
    pthread_once(&cached_once, fill_cache);
    return cached;
}
