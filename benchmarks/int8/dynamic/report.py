#!/usr/bin/env python3
"""Prints the dynamic-quantization comparison (Markdown) from the JSON files run.sh wrote."""
import json
import os
import sys

import onnx
import onnxruntime as ort


def main():
    out, models = sys.argv[1], sys.argv[2:]
    head = ["model (quantize_dynamic)", "integer ops", "input", "Flotilla p50 / mean µs", "ORT p50 / mean µs",
            "Flotilla/ORT p50"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    kernels = "-"
    for m in models:
        with open(os.path.join(out, f"{m}.flotilla.json")) as f:
            fl = json.load(f)
        with open(os.path.join(out, f"{m}.ort.json")) as f:
            ox = json.load(f)
        kernels = fl.get("kernels", "-")
        ops = {}
        for n in onnx.load(os.path.join(out, f"{m}.dynamic.onnx")).graph.node:
            if n.op_type in ("MatMulInteger", "ConvInteger"):
                ops[n.op_type] = ops.get(n.op_type, 0) + 1
        f50, fmean = fl["latency_us"]["p50"], fl["latency_us"]["mean"]
        o50, omean = ox["latency_us"]["p50"], ox["latency_us"]["mean"]
        shape = "x".join(map(str, ox["input_shape"]))
        opstr = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
        lines.append(f"| {m} | {opstr} | {shape} | {f50:.1f} / {fmean:.1f} | {o50:.1f} / {omean:.1f} | {f50 / o50:.2f}× |")
    print("\n".join(lines))
    print()
    print(f"{os.cpu_count()} cores (shared); Flotilla kernels: {kernels} (automatic); onnxruntime {ort.__version__}, "
          "CPUExecutionProvider, ORT_ENABLE_ALL; single thread, batch 1; load: " + open("/proc/loadavg").read().split()[0])


if __name__ == "__main__":
    main()
