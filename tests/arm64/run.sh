#!/usr/bin/env bash
# int8 kernels bit-exactness in plain C: cross-compiles the CKernels sources and q8_test.c for
# ARM64 and runs them under qemu as a NEON-only core (cortex-a53: neon) and a dot-product core
# (-cpu max: neon + neondot), then runs the x86 build natively (avx2, avx512vnni when present).
# Idempotent: installs the cross toolchain and qemu only when missing. Prints each run's
# count of identical cases and exits non-zero on any mismatch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
qemu="$(command -v qemu-aarch64 || command -v qemu-aarch64-static)"

flags=(-std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels")
sources=("$root"/Sources/CKernels/*.c "$here/q8_test.c")

# Static so qemu needs no ARM64 sysroot at run time.
aarch64-linux-gnu-gcc "${flags[@]}" -static "${sources[@]}" -o "$bin/q8_test_arm64" -lpthread -lm
gcc "${flags[@]}" "${sources[@]}" -o "$bin/q8_test_x86" -lpthread -lm

echo "== arm64, qemu -cpu cortex-a53 (ARMv8.0 NEON, no dot product)"
"$qemu" -cpu cortex-a53 "$bin/q8_test_arm64" neon
echo "== arm64, qemu -cpu max (NEON + dot product)"
"$qemu" -cpu max "$bin/q8_test_arm64" neon,neondot
echo "== x86-64, native"
expect=""
grep -q avx2 /proc/cpuinfo && expect="avx2"
grep -q avx512_vnni /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo && expect="$expect,avx512vnni"
"$bin/q8_test_x86" ${expect#,}
