#!/usr/bin/env bash
# int8 single-thread, batch-1 latency, in one run: Flotilla int8 (the ORT-made QDQ per-channel
# u8s8 fixture, fused by QDQFusion at plan time, automatic kernels) beside ONNX Runtime on the
# same file, and Flotilla fp32 (and ORT fp32, for scale) on the fp32 model.
# Usage: bash benchmarks/int8/run.sh  (RUNS=..., WARMUP=...)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-1000}
WARMUP=${WARMUP:-100}
OUT=benchmarks/int8/out
FIX=Tests/Fixtures
MODELS="digits_cnn mobilenetv2_shaped"
mkdir -p "$OUT"

# shellcheck source=../lib/flotilla.sh
source benchmarks/lib/flotilla.sh
build_flotilla release
require_onnxruntime

# The same batch-1 float32 input for every run (the QDQ models take float32 and quantize it
# with their first QuantizeLinear): the first test digit, and the MobileNet fixture input.
python3 - "$FIX" "$OUT" <<'PY'
import sys, numpy as np
fix, out = sys.argv[1:]
np.save(f"{out}/digits_cnn.input.npy", np.ascontiguousarray(np.load(f"{fix}/digits/test_x.npy")[:1]))
np.save(f"{out}/mobilenetv2_shaped.input.npy", np.load(f"{fix}/mobilenetv2_shaped.input.npy"))
PY

for m in $MODELS; do
    q8="$FIX/quantized/$m.qdq.u8s8.perchannel.onnx"
    f32="$FIX/$m.onnx"
    in="$OUT/$m.input.npy"
    echo "== $m: flotilla int8" >&2
    "$BIN" bench "$q8" --input "$in" --runs "$RUNS" --warmup "$WARMUP" --json > "$OUT/$m.int8.flotilla.json"
    "$BIN" bench "$q8" --input "$in" --runs 200 --warmup 20 --profile > "$OUT/$m.int8.profile.txt"
    echo "== $m: flotilla fp32" >&2
    "$BIN" bench "$f32" --input "$in" --runs "$RUNS" --warmup "$WARMUP" --json > "$OUT/$m.fp32.flotilla.json"
    echo "== $m: onnxruntime int8" >&2
    python3 benchmarks/int8/ort_bench.py --model "$q8" --input "$in" --runs "$RUNS" --warmup "$WARMUP" > "$OUT/$m.int8.ort.json"
    echo "== $m: onnxruntime fp32" >&2
    python3 benchmarks/int8/ort_bench.py --model "$f32" --input "$in" --runs "$RUNS" --warmup "$WARMUP" > "$OUT/$m.fp32.ort.json"
done

"$BIN" cpu > "$OUT/cpu.txt" 2>&1 || true
python3 benchmarks/int8/report.py "$OUT" $MODELS | tee "$OUT/table.md"
# `--profile` times each step of the plan as it executes, after QDQFusion: a fused
# DequantizeLinear → Conv → QuantizeLinear is one QLinearConv step (OpProfiler.swift).
echo "(per-step profiles of the fused int8 plans: $OUT/<model>.int8.profile.txt)"
