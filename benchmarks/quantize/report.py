#!/usr/bin/env python3
"""Reads benchmarks/quantize/out and prints the markdown tables for docs/benchmarks.md."""
import json
import re
import sys


def rusage(path):
    text = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return wall, rss / 1024


def main():
    out, classes = sys.argv[1], sys.argv[2:]
    ort = json.load(open(f"{out}/ort-1000.json"))
    ort_wall, ort_rss = rusage(f"{out}/ort-1000.time")
    best_method, best = max(ort["methods"].items(), key=lambda kv: kv[1]["int8_accuracy"])
    ort_seconds = sum(m["seconds"] for m in ort["methods"].values())
    print(f"digits CNN, 1000 calibration samples, 400 test samples; fp32 top-1 {ort['fp32_accuracy'] * 100:.2f}%.")
    print(f"ONNX Runtime quantize_static (per-channel QDQ u8s8): "
          + ", ".join(f"{k} {v['int8_accuracy'] * 100:.2f}% in {v['seconds']:.2f} s" for k, v in sorted(ort["methods"].items()))
          + f"; best {best_method}. ORT time below = the three quantize_static calls ({ort_seconds:.2f} s), "
          + "the peer of our tuner, which tries calibrators itself.\n")
    print("| class | flotilla wall s (quantize + tune + evaluate + artifact) | int8 top-1 | ORT best top-1 | ORT s | time ratio flotilla/ORT | drop vs ORT best (pt) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in classes:
        wall, _ = rusage(f"{out}/flotilla-{c}-1000.time")
        try:
            report = json.load(open(f"{out}/flotilla-{c}-1000/report.json"))
            acc = report["classes"][0]["evaluation"]["int8Accuracy"]
            acc_s = f"{acc * 100:.2f}%"
            diff = f"{(best['int8_accuracy'] - acc) * 100:+.2f}"
        except (OSError, KeyError, IndexError):
            acc_s, diff = "failed", "-"
        print(f"| {c} | {wall:.2f} | {acc_s} | {best['int8_accuracy'] * 100:.2f}% | {ort_seconds:.2f} | {wall / ort_seconds:.2f} | {diff} |")
    print()
    print("Peak resident memory of the whole process (/usr/bin/time -v), 100 vs 1000 calibration samples:\n")
    print("| | 100 samples MiB | 1000 samples MiB | growth MiB |")
    print("| --- | --- | --- | --- |")
    _, a = rusage(f"{out}/flotilla-x86_64-avx2-100.time")
    _, b = rusage(f"{out}/flotilla-x86_64-avx2-1000.time")
    print(f"| flotilla quantize --artifacts, x86_64-avx2 (every calibrator it tries) | {a:.1f} | {b:.1f} | {b - a:+.1f} |")
    _, a = rusage(f"{out}/ort-entropy-100.time")
    _, b = rusage(f"{out}/ort-entropy-1000.time")
    _, base = rusage(f"{out}/ort-baseline.time")
    print(f"| ORT quantize_static, Entropy (python + imports alone: {base:.1f}) | {a:.1f} | {b:.1f} | {b - a:+.1f} |")


if __name__ == "__main__":
    main()
