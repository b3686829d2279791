#!/usr/bin/env bash
# Channels-last int8 GEMM benchmark: builds the CKernels C sources with clang -O2 (what SwiftPM's
# release build uses; gcc when there is no clang; CC overrides) as a plain C program and prints,
# per x86 path this CPU runs, the NCHW gemm (its per-call B repack included) and gemm_nhwc on
# the MobileNetV2-shaped 1×1 convs, best of many runs, with the load average beside them.
# Flags: --seven-bit (weights in [-63, 63]: the AVX2 VPMADDUBSW layout), --s8 (s8 activations).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"
cc="${CC:-$(command -v clang || command -v gcc)}"
"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
    "$root"/Sources/CKernels/*.c "$here/bench.c" -o "$bin/bench" -lpthread -lm
uptime
"$bin/bench" "$@"
uptime
