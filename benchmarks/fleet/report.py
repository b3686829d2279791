#!/usr/bin/env python3
"""Prints the fleet benchmark's tables from the JSON lines run.sh wrote (bin/results/)."""
import json
import os
import sys

results = sys.argv[1]


def load(name):
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


rollout, fleet, fanout = load("rollout.json"), load("fleet.json"), load("fanout.json")
ingest, peer = load("ingest.json"), load("ingest-peer.json")
floors = load("floors.json")

if (rollout and fanout) or (ingest and peer):
    print()
    print("| figure | Flotilla | limit (same broker, same run) | ratio | target | result |")
    print("|---|---:|---:|---:|---:|---|")
if rollout and fanout:
    ratio = rollout["time_ms"] / fanout["time_ms"]
    print(f"| rollout of {rollout['compressed_bytes'] / 1e6:.2f} MB (compressed) to {rollout['devices']} devices, "
          f"start → every device committed | {rollout['time_ms']:.0f} ms | {fanout['time_ms']:.0f} ms "
          f"(fanout.c, {fanout['chunks']} × {fanout['chunk_bytes']} B) | {ratio:.2f}× | ≤ 1.5× | "
          f"{'met' if ratio <= 1.5 else 'MISSED'} |")
if ingest and peer:
    best = ingest["sustained_per_s"]
    ratio = best / peer["delivered_per_s"] if peer["delivered_per_s"] else 0
    print(f"| telemetry ingest, highest sustained rate | {best:.0f} summaries/s | "
          f"{peer['delivered_per_s']:.0f}/s (one plain subscriber) | {ratio:.2f} | ≥ 0.5 | "
          f"{'met' if ratio >= 0.5 else 'MISSED'} |")

if rollout and fleet:
    n = fleet["devices"]
    print()
    print("| memory | value |")
    print("|---|---:|")
    print(f"| fleet process RSS: before agents / {n} idle / {n} committed | "
          f"{fleet['fleet_rss_start_kib'] / 1024:.1f} / {fleet['fleet_rss_idle_kib'] / 1024:.1f} / "
          f"{fleet['fleet_rss_committed_kib'] / 1024:.1f} MiB |")
    print(f"| per agent, idle | {(fleet['fleet_rss_idle_kib'] - fleet['fleet_rss_start_kib']) / n:.1f} KiB |")
    print(f"| per agent, model committed | {(fleet['fleet_rss_committed_kib'] - fleet['fleet_rss_start_kib']) / n:.1f} KiB |")
    print(f"| coordinator RSS: start / {n} devices idle / after the rollout | "
          f"{rollout['coordinator_rss_start_kib'] / 1024:.1f} / {rollout['coordinator_rss_idle_kib'] / 1024:.1f} / "
          f"{rollout['coordinator_rss_done_kib'] / 1024:.1f} MiB |")
    print(f"| broker peak RSS: rollout / fanout.c | {rollout['broker_peak_kib'] / 1024:.1f} / {fanout['broker_peak_kib'] / 1024:.1f} MiB |")

if rollout:
    print()
    print(f"Where the rollout's time goes (ms from the rollout's start, from the devices' own events; "
          f"{rollout['committed']} committed, rollout status {rollout['rollout_status']}; "
          f"coordinator CPU {rollout['coordinator_cpu_ms']:.0f} ms, fleet process CPU "
          f"{fleet['fleet_cpu_ms'] if fleet else 0:.0f} ms in all, broker CPU {rollout['broker_cpu_ms']} ms "
          f"vs {fanout['broker_cpu_ms'] if fanout else 0} ms for fanout.c; "
          f"{rollout.get('chunk_frames_published', -1):.0f} chunk frames published by the coordinator):")
    print()
    print("| event / step | devices | p50 ms | p90 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    phases = rollout["phases"]
    at = sorted((k for k in phases if k.startswith("at.")), key=lambda k: phases[k]["p50"])
    for k in at + sorted(k for k in phases if k.startswith("step.")):
        v = phases[k]
        label = ("at " + k[3:]) if k.startswith("at.") else ("step " + k[5:] + " (per device)")
        print(f"| {label} | {v['devices']:.0f} | {v['p50']:.0f} | {v['p90']:.0f} | {v['max']:.0f} |")

if floors:
    print()
    print(f"Per-device floors, each step alone ({floors['repetitions']} repetitions, medians; "
          f"{floors['artifact_bytes']} B artifact, {floors['compressed_bytes']} B compressed in {floors['chunks']} chunks; "
          f"files in {floors['directory']}):")
    print()
    print("| step | thread CPU µs | wall µs |")
    print("|---|---:|---:|")
    for r in floors["steps"]:
        print(f"| {r['step']} | {r['cpu_us_p50']:.0f} | {r['wall_us_p50']:.0f} |")

if fleet and fleet.get("agent_steps"):
    steps = fleet["agent_steps"]
    n = fleet["devices"]
    print()
    print(f"Where each agent's wall time went (the agents' own step timers, AgentStepTimes; per device, "
          f"summed over the update; 'sum' is all {n} agents together, in seconds; wall time on a shared "
          f"machine, so waits for a CPU or the disk count):")
    print()
    print("| step | devices | p50 ms | p90 ms | sum s |")
    print("|---|---:|---:|---:|---:|")
    for name, v in sorted(steps.items(), key=lambda kv: -kv[1]["sum_ms"]):
        print(f"| {name} | {v['devices']:.0f} | {v['p50_ms']:.1f} | {v['p90_ms']:.1f} | {v['sum_ms'] / 1000:.1f} |")

if ingest:
    print()
    print(f"Ingest steps ({ingest['connections']} publishing connections, {ingest['devices']} devices; kept up = every "
          f"summary published so far merged into the store within 3 s after the step and the rate reached ≥ 95%):")
    print()
    print("| target /s | achieved /s | published | merged (all steps) | max lag | catch-up ms | kept up | process CPU ms |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for s in ingest["steps"]:
        print(f"| {s['target_per_s']} | {s['achieved_per_s']:.0f} | {s['published']} | {s['merged_total']} / "
              f"{s['published_total']} | {s['max_lag']} | {s['catch_up_ms']:.0f} | {'yes' if s['kept_up'] else 'no'} | "
              f"{s['cpu_ms']:.0f} |")
    if peer:
        print()
        print(f"Peer: {peer['messages']} summaries ({peer['payload_bytes']} B each) published flat out on "
              f"{peer['connections']} connections, all delivered in {peer['messages'] / peer['delivered_per_s'] * 1000:.0f} ms "
              f"({peer['delivered_per_s']:.0f}/s); process CPU {peer['cpu_ms']:.0f} ms.")
    print()
    print("Coordinator counters at the end:")
    print("```")
    print(ingest.get("coordinator_counters", ""))
    print("```")
