#!/usr/bin/env python3
"""Reads benchmarks/quantize/out and prints the markdown tables for docs/benchmarks.md.

Usage: report.py OUT "MODEL MODEL..." CLASS...   (run.sh calls it). Exit status 0 even when a
target is missed: the tables say which.
"""
import json
import re
import sys

# Issue #5's targets, in percentage points.
MAX_DROP = 0.5
MAX_SPREAD = 0.1


def rusage(path):
    text = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return wall, rss / 1024


def ours(out, model, cls, n):
    """(fp32, int8 accuracy, calibrator) from the class's report, or None when the run failed."""
    try:
        report = json.load(open(f"{out}/flotilla-{model}-{cls}-{n}/report.json"))
        c = report["classes"][0]
        tuned = [l["node"] for l in c["fp32Layers"] if "tuning" in l["reason"]]
        return (c["evaluation"]["fp32Accuracy"], c["evaluation"]["int8Accuracy"],
                c["calibrator"] + "".join(" +" + r for r in c.get("recipes", [])), ", ".join(tuned) or "none")
    except (OSError, KeyError, IndexError):
        return None


def model_tables(out, model, classes):
    ort = json.load(open(f"{out}/{model}-ort-1000.json"))
    fp32 = ort["fp32_accuracy"]
    best_method, best = max(ort["methods"].items(), key=lambda kv: kv[1]["int8_accuracy"])
    ort_best = best["int8_accuracy"]
    ort_drop = (fp32 - ort_best) * 100
    ort_seconds = sum(m["seconds"] for m in ort["methods"].values())
    budget = open(f"{out}/{model}-budget.txt").read().strip()
    print(f"### {model}\n")
    print(f"1000 calibration samples, 400 test samples; fp32 top-1 {fp32 * 100:.2f}% (ONNX Runtime); "
          f"flotilla's --budget {float(budget):.2f} pt (ORT's best drop, at most 0.5).")
    print("ONNX Runtime quantize_static (per-channel QDQ u8s8): "
          + ", ".join(f"{k} {v['int8_accuracy'] * 100:.2f}% in {v['seconds']:.2f} s" for k, v in sorted(ort["methods"].items()))
          + f"; best {best_method}, drop {ort_drop:+.2f} pt. ORT s = the three quantize_static calls "
          + f"({ort_seconds:.2f} s), the peer of our tuner, which tries calibrators itself.\n")
    print("| class | calibrator | layers kept fp32 by tuning | flotilla int8 top-1 | flotilla drop (pt) | ORT best top-1 "
          "| ORT best drop (pt) | flotilla wall s | ORT s | time ratio | drop ≤ ORT's and ≤ 0.5 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    accuracies, misses = [], []
    for c in classes:
        wall, _ = rusage(f"{out}/flotilla-{model}-{c}-1000.time")
        r = ours(out, model, c, 1000)
        if r is None:
            misses.append(f"{c} failed")
            print(f"| {c} | - | - | failed | - | {ort_best * 100:.2f}% | {ort_drop:+.2f} | {wall:.2f} | {ort_seconds:.2f} "
                  f"| {wall / ort_seconds:.2f} | no |")
            continue
        our_fp32, acc, calibrator, tuned = r
        accuracies.append(acc)
        drop = (our_fp32 - acc) * 100
        ok = drop <= ort_drop + 1e-9 and drop <= MAX_DROP + 1e-9
        if not ok:
            misses.append(f"{c} drop {drop:.2f}")
        print(f"| {c} | {calibrator} | {tuned} | {acc * 100:.2f}% | {drop:+.2f} | {ort_best * 100:.2f}% | {ort_drop:+.2f} "
              f"| {wall:.2f} | {ort_seconds:.2f} | {wall / ort_seconds:.2f} | {'yes' if ok else 'NO'} |")
    spread = (max(accuracies) - min(accuracies)) * 100 if accuracies else float("nan")
    if not spread <= MAX_SPREAD + 1e-9:
        misses.append(f"spread {spread:.2f}")
    print(f"\nSpread of flotilla int8 top-1 between classes: {spread:.2f} pt (target ≤ {MAX_SPREAD}). "
          + ("Every target met." if not misses else "Targets missed: " + "; ".join(misses) + "."))
    print()


def memory_table(out, models):
    sizes = (100, 1000, 10000)
    print("Peak resident memory of the whole process (/usr/bin/time -v) by calibration sample count "
          "(10 000 = the training split repeated):\n")
    print("| model | process | 100 samples MiB | 1000 samples MiB | 10 000 samples MiB | growth 100 → 10 000 MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    _, base = rusage(f"{out}/ort-baseline.time")
    for m in models:
        runs = {n: sorted(rusage(f"{out}/flotilla-{m}-x86_64-avx2-{n}{r}.time")[1] for r in ("", "-run2", "-run3", "-run4", "-run5"))
                for n in sizes}
        shown = " | ".join(f"{runs[n][2]:.1f} ({runs[n][0]:.1f}–{runs[n][-1]:.1f})" for n in sizes)
        print(f"| {m} | flotilla quantize --artifacts, x86_64-avx2, median (range) of 5 runs | {shown} "
              f"| {runs[10000][2] - runs[100][2]:+.1f} |")
        ort = [rusage(f"{out}/{m}-ort-entropy-{n}.time")[1] for n in sizes]
        print(f"| {m} | ORT quantize_static, Entropy (python + imports alone: {base:.1f}) | "
              + " | ".join(f"{v:.1f}" for v in ort) + f" | {ort[-1] - ort[0]:+.1f} |")


def main():
    out, models, classes = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
    for m in models:
        model_tables(out, m, classes)
    memory_table(out, models)


if __name__ == "__main__":
    main()
