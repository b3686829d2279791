#!/usr/bin/env python3
"""Checks and tables for scripts/demo.sh, read from the JSON the `flotilla` CLI and the fleet
simulator print. Standard library only.

Every check prints what it found and exits 0 when the claim holds, or prints one line saying
what did not happen (for the demo's failure message) and exits 1. Usage:

  demo_checks.py online DEVICES.json N
  demo_checks.py settled DEVICES.json CLASS=RELEASE ...
  demo_checks.py progress ROLLOUT.json
  demo_checks.py rollout ROLLOUT.json STATUS [--done C ...] [--rolled-back C ...] [--gate-failed C ...]
  demo_checks.py kills FLEET_STATUS.json RELEASE
  demo_checks.py devices-table DEVICES.json
  demo_checks.py telemetry TELEMETRY.json MODEL CLASS@VERSION ...
  demo_checks.py rollback-reason DEVICES.json CLASS WORD
  demo_checks.py rollbacks DEVICES.json AUDIT.json
"""

import json
import sys


class CheckFailed(Exception):
    pass


def load(path):
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    # The CLI prints lists as arrays; the API wraps them in {"items": [...]}. Accept both.
    if isinstance(value, dict) and set(value) == {"items"}:
        return value["items"]
    return value


def table(headers, rows, right=()):
    """A plain text table like the CLI's: header, dashes, rows; columns in `right` aligned right."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        out = []
        for i, v in enumerate(values):
            out.append(v.rjust(widths[i]) if i in right else v.ljust(widths[i]))
        return "  " + "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def running_release(device):
    """(release sequence as text, status) of what a device runs, ('-', phase) when nothing."""
    r = device.get("running")
    if not r:
        return "-", device.get("phase") or "-"
    seq = r.get("releaseSequence")
    return (str(seq) if seq is not None else r.get("modelVersion", "?")), r.get("status", "?")


# --- checks ------------------------------------------------------------------------------------


def online(args):
    path, n = args[0], int(args[1])
    devices = load(path)
    up = sum(1 for d in devices if d.get("online"))
    print(f"{up}/{n} devices registered and online")
    if up < n:
        raise CheckFailed(f"only {up} of {n} devices are online at the coordinator")


def settled(args):
    """Every device of each CLASS runs RELEASE committed, with no update in progress."""
    devices = load(args[0])
    want = dict(a.split("=", 1) for a in args[1:])
    problems = []
    for cls, release in sorted(want.items()):
        mine = [d for d in devices if d.get("hardwareClass") == cls]
        if not mine:
            problems.append(f"{cls}: no devices")
            continue
        off = []
        for d in mine:
            seq, status = running_release(d)
            pending = d.get("pendingReleaseSequence")
            if seq != release or status != "committed" or pending not in (None, int(release)):
                off.append(f"{d['id']} runs {seq} {status}" + (f", pending {pending}" if pending is not None else ""))
        if off:
            problems.append(f"{cls}: {len(off)} of {len(mine)} not on release {release} committed ({'; '.join(off[:3])})")
    if problems:
        raise CheckFailed("; ".join(problems))
    print("settled: " + ", ".join(f"{c} on release {r}" for c, r in sorted(want.items())))


def progress(args):
    """One line for logs: status, wave, committed/targeted per class in the current wave."""
    r = load(args[0])
    waves = r.get("waves", [])
    i = min(r.get("currentWave", 0), max(len(waves) - 1, 0))
    parts = []
    if waves:
        w = waves[i]
        for c in w.get("classes", []):
            parts.append(f"{c['hardwareClass']} {c['updated']}/{c['targeted']}" + (f" ({c['failed']} failed)" if c.get("failed") else ""))
        head = f"wave {i + 1}/{len(waves)} {round(w['fraction'] * 100)}% {w['status']}"
    else:
        head = "no waves"
    print(f"  {r['id']} {r['status']}: {head}: " + ", ".join(parts))


def rollout(args):
    r = load(args[0])
    expected = args[1]
    groups = {"--done": [], "--rolled-back": [], "--gate-failed": []}
    key = None
    for a in args[2:]:
        if a in groups:
            key = a
        elif key:
            groups[key].append(a)
    problems = []
    if r["status"] != expected:
        problems.append(f"status {r['status']} (expected {expected})" + (f": {r['statusReason']}" if r.get("statusReason") else ""))
    classes = {c["hardwareClass"]: c for c in r.get("classes", [])}
    for cls in groups["--done"]:
        c = classes.get(cls)
        if not c or c["status"] != "done":
            problems.append(f"{cls} is {c['status'] if c else 'missing'}, not done" + (f" ({c['reason']})" if c and c.get("reason") else ""))
    for cls in groups["--rolled-back"]:
        c = classes.get(cls)
        if not c or c["status"] != "rolledBack":
            problems.append(f"{cls} is {c['status'] if c else 'missing'}, not rolledBack")
    first = r["waves"][0] if r.get("waves") else {"classes": []}
    for cls in groups["--gate-failed"]:
        wc = next((c for c in first["classes"] if c["hardwareClass"] == cls), None)
        failing = [k for k in (wc or {}).get("checks", []) if not k.get("passed")]
        if not wc or wc.get("gatePassed") is not False or not failing:
            problems.append(f"the canary wave's gate did not fail on {cls}")
        else:
            print(f"canary gate failed on {cls}: " + "; ".join(f"{k['metric']} {k.get('detail') or ''}".strip() for k in failing))
    # Every class that is done must have passed every wave's gate it went through.
    for w in r.get("waves", []):
        for c in w.get("classes", []):
            if c["hardwareClass"] in groups["--done"] and c.get("gatePassed") is False:
                problems.append(f"{c['hardwareClass']} failed the gate of wave {w['index'] + 1} yet is done")
    if problems:
        text = "; ".join(problems)
        if "p95" in text:
            text += " (latency moves with this machine's load: rerun, or loosen it with --max-p95-ratio)"
        raise CheckFailed(text)
    print(f"rollout {r['id']}: {r['status']}; " + ", ".join(f"{k} {v['status']}" for k, v in sorted(classes.items())))


def kills(args):
    status = load(args[0])
    release = int(args[1])
    killed = [k for k in status.get("killedDownloads", []) if k.get("releaseSequence") == release]
    if not killed:
        raise CheckFailed(f"no device was killed mid-download of release {release} (simulator kills: {status.get('kills', 0)})")
    for k in killed:
        print("  " + describe_kill(k))
    bad = [k for k in killed if k.get("resumedFromChunks") is None or k["resumedFromChunks"] <= 0]
    if bad:
        raise CheckFailed("; ".join(describe_kill(k) for k in bad) + " — the download started over instead of resuming")
    not_done = [k for k in killed if k.get("phase") not in ("committed", "idle") or not k.get("runningRelease", "").startswith(str(release))]
    if not_done:
        raise CheckFailed("; ".join(describe_kill(k) for k in not_done) + " — resumed but did not commit the release")


def rollback_reason(args):
    """Some device of CLASS rolled back, and every such device's reason names WORD."""
    devices = load(args[0])
    cls, word = args[1], args[2]
    reasons = [(d["id"], d["lastRollbackReason"]) for d in devices if d.get("hardwareClass") == cls and d.get("lastRollbackReason")]
    if not reasons:
        raise CheckFailed(f"no device of {cls} reports a rollback")
    other = [f"{i}: {r}" for i, r in reasons if word not in r]
    if other:
        raise CheckFailed(f"{len(other)} device(s) of {cls} rolled back for another reason than {word}: {other[0]}")
    print(f"{len(reasons)} device(s) of {cls} refused it themselves: {reasons[0][1]}")


def describe_kill(k):
    pct = k["storedChunks"] * 100 // k["chunkCount"] if k.get("chunkCount") else 0
    text = f"{k['deviceID']} killed at {pct}% of release {k['releaseSequence']} ({k['storedChunks']}/{k['chunkCount']} chunks, t={k['atSeconds']:.1f}s)"
    if k.get("resumedFromChunks") is not None:
        text += f", restarted and resumed from chunk {k['resumedFromChunks']}/{k['chunkCount']}"
    else:
        text += ", not resumed"
    if k.get("phase"):
        text += f", now {k['phase']}" + (f" (running {k['runningRelease']})" if k.get("runningRelease") else "")
    return text


# --- summary tables ----------------------------------------------------------------------------


def devices_table(args):
    devices = load(args[0])
    versions = sorted({running_release(d)[0] for d in devices}, key=lambda v: (v == "-", v))
    classes = sorted({d["hardwareClass"] for d in devices})
    rows = []
    for cls in classes:
        mine = [d for d in devices if d["hardwareClass"] == cls]
        counts = [sum(1 for d in mine if running_release(d)[0] == v) for v in versions]
        rows.append([cls] + [c or "." for c in counts] + [sum(1 for d in mine if d.get("online")), len(mine)])
    total = [sum(1 for d in devices if running_release(d)[0] == v) for v in versions]
    rows.append(["all"] + total + [sum(1 for d in devices if d.get("online")), len(devices)])
    headers = ["class"] + [("release " + v if v != "-" else "none") for v in versions] + ["online", "devices"]
    print(table(headers, rows, right=range(1, len(headers))))


def telemetry(args):
    report = load(args[0])
    model = args[1]
    series = [s for s in report.get("series", []) if s["modelName"] == model]
    rows = []
    for s in sorted(series, key=lambda s: (s["hardwareClass"], s["version"])):
        t = s["totals"]
        p95 = t.get("latencyP95Us")
        acc = t.get("accuracy")
        rows.append([
            s["hardwareClass"], s["version"], t["devices"], t["inferences"],
            f"{p95:.0f} µs" if p95 is not None else "-", f"{acc:.4f}" if acc is not None else "-",
        ])
    print(table(["class", "release", "devices", "inferences", "p95 latency", "accuracy"], rows, right=(2, 3, 4, 5)))
    have = {(s["hardwareClass"], s["version"]) for s in series if s["totals"].get("inferences", 0) > 0 or s["totals"]["devices"] > 0}
    missing = []
    for want in args[2:]:
        cls, version = want.split("@", 1)
        if (cls, version) not in have:
            missing.append(f"{cls} release {version}")
    if missing:
        raise CheckFailed("no telemetry for " + ", ".join(missing))


def rollbacks(args):
    devices = load(args[0])
    audit = load(args[1])
    groups = {}
    for d in devices:
        reason = d.get("lastRollbackReason")
        if reason:
            groups.setdefault((d["hardwareClass"], reason), []).append(d["id"])
    rows = [[cls, reason, len(ids), ", ".join(sorted(ids)[:4]) + (" …" if len(ids) > 4 else "")] for (cls, reason), ids in sorted(groups.items())]
    if rows:
        print(table(["class", "last rollback reason (device)", "devices", "ids"], rows, right=(2,)))
    else:
        print("  no device reports a rollback")
    gate_rows = []
    for e in sorted(audit, key=lambda e: e["atMs"]):
        if e["action"] in ("gate.failed", "rollout.rollback", "class.rolledBack") or "rollback" in e["action"].lower():
            detail = e.get("detail") or ""
            try:
                parsed = json.loads(detail)
                if isinstance(parsed, dict):
                    detail = (
                        parsed.get("summary") or parsed.get("reason") or parsed.get("message")
                        or "; ".join(f"{k}={v}" for k, v in parsed.items() if not isinstance(v, (list, dict)))
                    )
            except ValueError:
                pass
            # The first clause says it; what follows ("even if the pending devices commit…") is
            # in the rollout status.
            gate_rows.append([e["actor"], e["action"], e["target"], detail.split("; ")[0][:120]])
    print()
    if gate_rows:
        print(table(["actor", "audit action", "target", "reason"], gate_rows))
    else:
        raise CheckFailed("the audit log records no failed gate or rollback")


COMMANDS = {
    "online": online,
    "settled": settled,
    "progress": progress,
    "rollout": rollout,
    "kills": kills,
    "devices-table": devices_table,
    "telemetry": telemetry,
    "rollback-reason": rollback_reason,
    "rollbacks": rollbacks,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        COMMANDS[argv[1]](argv[2:])
    except CheckFailed as e:
        print(str(e), file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        print(f"cannot read {argv[2:3]}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
