#!/usr/bin/env python3
"""Reads the JSON written by run.sh and prints the int8 comparison table (Markdown)."""
import json
import os
import sys

import onnxruntime as ort

# Flotilla int8 / ORT int8 p50 (below 1.0 everywhere) and Flotilla fp32 / Flotilla int8 p50
# (at least 3× on MobileNet, on a CPU with VNNI).
INT8_VS_ORT = 1.0
FP32_VS_INT8 = {"mobilenetv2_shaped": 3.0}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def fmt_bytes(n):
    if n is None:
        return "-"
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def load(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)


def main():
    out, models = sys.argv[1], sys.argv[2:]
    lat = ["model", "input", "Flotilla int8 p50 / mean µs", "ORT int8 p50 / mean µs", "Flotilla fp32 p50 / mean µs",
           "ORT fp32 p50 µs", "int8 Flotilla/ORT (<1.0)", "Flotilla fp32/int8 (≥3× MobileNet)"]
    mem = ["model", "Flotilla int8 arena", "Flotilla int8 constants", "Flotilla int8 total", "ORT int8 RSS growth",
           "ORT int8 peak-RSS growth", "Flotilla fp32 arena + constants"]
    lines = ["| " + " | ".join(lat) + " |", "|" + "---|" * len(lat)]
    mlines = ["| " + " | ".join(mem) + " |", "|" + "---|" * len(mem)]
    kernels = "-"
    for m in models:
        fq, oq = load(out, f"{m}.int8.flotilla.json"), load(out, f"{m}.int8.ort.json")
        ff, of = load(out, f"{m}.fp32.flotilla.json"), load(out, f"{m}.fp32.ort.json")
        kernels = fq.get("kernels", "-")
        q50, qmean = fq["latency_us"]["p50"], fq["latency_us"]["mean"]
        o50, omean = oq["latency_us"]["p50"], oq["latency_us"]["mean"]
        f50, fmean = ff["latency_us"]["p50"], ff["latency_us"]["mean"]
        r_ort, r_fp = q50 / o50, f50 / q50
        v_ort = "pass" if r_ort < INT8_VS_ORT else "FAIL"
        target = FP32_VS_INT8.get(m)
        v_fp = "-" if target is None else ("pass" if r_fp >= target else "FAIL")
        shape = "x".join(map(str, oq["input_shape"]))
        lines.append(f"| {m} | {shape} | {q50:.1f} / {qmean:.1f} | {o50:.1f} / {omean:.1f} | {f50:.1f} / {fmean:.1f} | "
                     f"{of['latency_us']['p50']:.1f} | {r_ort:.2f}× {v_ort} | {r_fp:.2f}× {v_fp} |")
        qa, qc = fq["peak_arena_bytes"], fq["constant_bytes"]
        mlines.append(f"| {m} | {fmt_bytes(qa)} | {fmt_bytes(qc)} | {fmt_bytes(qa + qc)} | {fmt_bytes(oq['rss_growth_bytes'])} | "
                      f"{fmt_bytes(oq.get('peak_rss_growth_bytes'))} | "
                      f"{fmt_bytes(ff['peak_arena_bytes'] + ff['constant_bytes'])} |")
    print("\n".join(lines))
    print()
    print("\n".join(mlines))
    print()
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores (shared); Flotilla kernels: {kernels} (automatic); "
          f"onnxruntime {ort.__version__}, CPUExecutionProvider, ORT_ENABLE_ALL; single thread, batch 1")


if __name__ == "__main__":
    main()
