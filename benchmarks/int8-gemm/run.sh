#!/usr/bin/env bash
# int8 GEMM benchmark: builds the CKernels C sources with gcc -O2 as a plain C program, measures
# the CPU's VPDPBUSD peak (zmm and ymm), and prints single-thread GOP/s per int8 path beside the
# fp32 GEMM's GFLOP/s at MobileNetV2 and large shapes. `--quick` skips the two largest squares.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
    "$root"/Sources/CKernels/*.c "$here/bench.c" -o "$bin/bench" -lpthread -lm
"$bin/bench" "$@"
