"""Prints the MQTT fan-out table from run.sh's results.jsonl: medians per (N, program), ratios
Swift/C against the targets, and the spread (min-max) of every median."""
import json
import statistics
import sys
from collections import defaultdict

TIME_TARGET = 1.2    # Swift time-to-last-complete within 1.2x of C
MEMORY_TARGET = 1.5  # Swift memory per client within 1.5x of C


def load(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["subscribers"], r["impl"])].append(r)
    return runs


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def spread(rows, key, fmt):
    values = [r[key] for r in rows]
    return fmt.format(min(values)) + "–" + fmt.format(max(values)) if len(values) > 1 else fmt.format(values[0])


def verdict(ratio, target):
    return "ok" if ratio <= target else "MISSED"


def main(path):
    runs = load(path)
    counts = sorted({n for n, _ in runs})
    missing = [(n, impl) for n in counts for impl in ("swift", "c") if not runs.get((n, impl))]
    if missing:
        sys.exit(f"report.py: no results for {missing} in {path}; rerun run.sh")
    print(f"| N | Swift ms | C ms | time Swift/C (≤{TIME_TARGET}) | Swift MiB/s | C MiB/s "
          f"| Swift KiB/client | C KiB/client | memory Swift/C (≤{MEMORY_TARGET}) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in counts:
        s, c = runs[(n, "swift")], runs[(n, "c")]
        st, ct = med(s, "time_ms"), med(c, "time_ms")
        sm, cm = med(s, "kib_per_client"), med(c, "kib_per_client")
        mib = lambda t: n * s[0]["chunks"] * s[0]["chunk_bytes"] / 1048576 / (t / 1000)
        tr, mr = st / ct, sm / cm if cm > 0 else float("inf")
        print(f"| {n} | {st:.1f} | {ct:.1f} | {tr:.2f} {verdict(tr, TIME_TARGET)} | {mib(st):.0f} | {mib(ct):.0f} "
              f"| {sm:.2f} | {cm:.2f} | {mr:.2f} {verdict(mr, MEMORY_TARGET)} |")
    print()
    print("CPU during the transfer (medians, ms; the Swift figure splits into event-loop thread + rest), "
          "minor page faults, and the broker's CPU over the whole run:")
    print("| N | Swift CPU (loop + rest) | C CPU | CPU Swift/C | Swift faults | C faults | broker CPU Swift / C run |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in counts:
        s, c = runs[(n, "swift")], runs[(n, "c")]
        scpu, sloop, ccpu = med(s, "cpu_ms"), med(s, "loop_cpu_ms"), med(c, "cpu_ms")
        print(f"| {n} | {scpu:.0f} ({sloop:.0f} + {scpu - sloop:.0f}) | {ccpu:.0f} | {scpu / ccpu if ccpu else float('inf'):.2f} "
              f"| {med(s, 'minor_faults'):.0f} | {med(c, 'minor_faults'):.0f} "
              f"| {med(s, 'broker_cpu_ms'):.0f} / {med(c, 'broker_cpu_ms'):.0f} |")
    print()
    print("Spread over runs (min–max), connect+subscribe time, broker peak RSS (medians):")
    print("| N | runs | Swift ms | C ms | Swift KiB/client | C KiB/client | Swift KiB/client at last SUBACK "
          "| connect Swift / C ms | broker peak Swift / C MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in counts:
        s, c = runs[(n, "swift")], runs[(n, "c")]
        print(f"| {n} | {len(s)} | {spread(s, 'time_ms', '{:.0f}')} | {spread(c, 'time_ms', '{:.0f}')} "
              f"| {spread(s, 'kib_per_client', '{:.2f}')} | {spread(c, 'kib_per_client', '{:.2f}')} "
              f"| {spread(s, 'kib_per_client_at_subscribe', '{:.2f}')} "
              f"| {med(s, 'connect_ms'):.0f} / {med(c, 'connect_ms'):.0f} "
              f"| {med(s, 'broker_peak_kib') / 1024:.1f} / {med(c, 'broker_peak_kib') / 1024:.1f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py results.jsonl")
    main(sys.argv[1])
