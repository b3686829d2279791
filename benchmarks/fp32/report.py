#!/usr/bin/env python3
"""Reads the JSON written by run.sh and prints the comparison table (also as Markdown)."""
import json
import os
import platform
import sys

import onnxruntime as ort

TARGETS = {"digits_cnn": 1.2, "mobilenetv2_shaped": 1.5}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_bytes(n):
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def main():
    out = sys.argv[1]
    models = sys.argv[2:]
    rows = []
    for m in models:
        fl = json.load(open(os.path.join(out, f"{m}.flotilla.json")))
        ox = json.load(open(os.path.join(out, f"{m}.ort.json")))
        f50, o50 = fl["latency_us"]["p50"], ox["latency_us"]["p50"]
        ratio = f50 / o50
        target = TARGETS.get(m)
        verdict = "-" if target is None else ("pass" if ratio <= target else "FAIL")
        rows.append({
            "model": m, "shape": "x".join(map(str, ox["input_shape"])), "kernels": fl["kernels"],
            "f50": f50, "fmean": fl["latency_us"]["mean"], "o50": o50, "omean": ox["latency_us"]["mean"],
            "ometh": ox["method"], "ratio": ratio, "target": target, "verdict": verdict,
            "arena": fl["peak_arena_bytes"], "constants": fl["constant_bytes"], "ort_rss": ox["peak_rss_growth_bytes"],
        })
    header = ["model", "input", "Flotilla p50 µs", "Flotilla mean µs", "ORT p50 µs", "ORT mean µs", "ratio p50", "target", "result",
              "Flotilla arena", "Flotilla constants", "ORT peak-RSS growth"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        target = f"≤{r['target']}×" if r["target"] else "none"
        lines.append(f"| {r['model']} | {r['shape']} | {r['f50']:.1f} | {r['fmean']:.1f} | {r['o50']:.1f} | {r['omean']:.1f} | "
                     f"{r['ratio']:.2f}× | {target} | {r['verdict']} | {fmt_bytes(r['arena'])} | {fmt_bytes(r['constants'])} | "
                     f"{fmt_bytes(r['ort_rss'])} |")
    print("\n".join(lines))
    print()
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores (shared), Flotilla kernels: {rows[0]['kernels'] if rows else '-'}, "
          f"onnxruntime {ort.__version__} ({rows[0]['ometh'] if rows else '-'} loop), single thread, batch 1")


if __name__ == "__main__":
    main()
