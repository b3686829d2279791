#!/usr/bin/env bash
# Formats the Swift sources with the repository's .swift-format, or checks them.
#   scripts/format.sh          rewrite files in place
#   scripts/format.sh --check  list what is not formatted and exit 1 if anything is
# Generated code (Sources/ONNXProto) is left as its generator wrote it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift-format >/dev/null || { echo "swift-format not found: it ships with the Swift toolchain (/opt/swift/usr/bin)" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.swift' | grep -v '^Sources/ONNXProto/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ "${1:-}" = "--check" ]; then
    out=$(swift-format lint --strict --parallel "${files[@]}" 2>&1 || true)
    if [ -n "$out" ]; then
        echo "$out" | head -50
        echo "format check: $(echo "$out" | wc -l) finding(s); run scripts/format.sh to fix them" >&2
        exit 1
    fi
    echo "format check: ${#files[@]} Swift files formatted"
else
    swift-format format --in-place --parallel "${files[@]}"
fi
