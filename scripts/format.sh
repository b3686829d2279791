#!/usr/bin/env bash
# Formats the Swift sources with the repository's .swift-format, or checks them.
#   scripts/format.sh            rewrite files in place
#   scripts/format.sh --check    list files whose formatting differs from swift-format's; exit 1 if any
#   scripts/format.sh [--check] PATH...   only those files or folders
# "Formatted" means swift-format would leave the file unchanged: long string literals it cannot
# break are not findings. Generated code (Sources/ONNXProto) is left as its generator wrote it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift-format >/dev/null || { echo "swift-format not found: it ships with the Swift toolchain (/opt/swift/usr/bin)" >&2; exit 2; }
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- "${@:-.}" | grep '\.swift$' | grep -v '^Sources/ONNXProto/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ ${#files[@]} -gt 0 ] || { echo "format: no Swift files"; exit 0; }
if [ $check -eq 0 ]; then
    swift-format format --in-place --parallel "${files[@]}"
    exit 0
fi
unformatted=$(printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -n 8 sh -c '
    for f in "$@"; do swift-format format "$f" 2>/dev/null | cmp -s - "$f" || echo "$f"; done' sh)
if [ -n "$unformatted" ]; then
    echo "$unformatted" | sed 's/^/  not formatted: /'
    echo "format check: $(echo "$unformatted" | wc -l) of ${#files[@]} files differ from swift-format's output; run scripts/format.sh to fix them" >&2
    exit 1
fi
echo "format check: ${#files[@]} Swift files formatted"
