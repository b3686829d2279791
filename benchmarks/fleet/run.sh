#!/usr/bin/env bash
# Fleet benchmark: rollout of a ~5 MB artifact to 1000 simulated devices beside the broker's
# plain fan-out of the same bytes (benchmarks/mqtt-fanout/c/fanout.c), telemetry ingest beside
# the broker's delivery to one plain subscriber, and memory. See docs/benchmarks.md, "Fleet".
#
#   bash benchmarks/fleet/run.sh [--devices 1000] [--artifact-bytes 5000000]
#                                [--rates 500,1000,2000,4000,8000,16000] [--step-s 5]
#                                [--connections 50] [--peer-messages 40000] [--timeout-s 900]
#                                [--only rollout|ingest|floors] [--data-root DIR]
#
# --data-root: where the run's files go (coordinator store, every simulated device's data
# directory, the floors' files); default /tmp. The simulated fleet puts all its devices' disks
# on this one file system, so an fsync-heavy agent measures that disk as much as itself: see
# docs/benchmarks.md, "Fleet", for /tmp (ext4 here) against /dev/shm (tmpfs).
#
# Every part runs against a freshly started private mosquitto on 127.0.0.1 (nothing else can
# reach it); each program stops by itself at --timeout-s. Raw JSON lines go to bin/results/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"

devices=1000
artifact_bytes=5000000
rates="500,1000,2000,4000,8000,16000"
step_s=5
connections=50
peer_messages=40000
timeout_s=900
only=""
data_root="/tmp"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --devices) devices="${2:?}"; shift 2 ;;
        --artifact-bytes) artifact_bytes="${2:?}"; shift 2 ;;
        --rates) rates="${2:?}"; shift 2 ;;
        --step-s) step_s="${2:?}"; shift 2 ;;
        --connections) connections="${2:?}"; shift 2 ;;
        --peer-messages) peer_messages="${2:?}"; shift 2 ;;
        --timeout-s) timeout_s="${2:?}"; shift 2 ;;
        --only) only="${2:?--only needs rollout, ingest or floors}"; shift 2 ;;
        --data-root) data_root="${2:?--data-root needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$devices" "$artifact_bytes" "$step_s" "$connections" "$peer_messages" "$timeout_s"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: '$v' is not a positive integer" >&2; exit 2; }
done
case "$only" in ""|rollout|ingest|floors) ;; *) echo "run.sh: --only takes rollout, ingest or floors, not '$only'" >&2; exit 2 ;; esac
[[ -d "$data_root" && -w "$data_root" ]] || { echo "run.sh: --data-root '$data_root' is not a writable directory" >&2; exit 2; }
command -v mosquitto >/dev/null || { echo "run.sh: mosquitto not found; apt-get install mosquitto libmosquitto-dev" >&2; exit 1; }

# Three descriptors per device in the fleet process and per subscriber in fanout.c, one per
# connection in the broker.
need=$(( devices * 3 + 256 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < need )); then
    echo "run.sh: $devices devices need about $need open files but the hard limit is $(ulimit -Hn); raise it" >&2
    exit 1
fi

echo "== building (swift release, gcc -O2)" >&2
mkdir -p "$bin/results"
(cd "$root" && swift build -c release --product fleet-bench >&2)
bench="$(cd "$root" && swift build -c release --show-bin-path)/fleet-bench"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror "$root/benchmarks/mqtt-fanout/c/fanout.c" -o "$bin/fanout-c" -lmosquitto

work="$(mktemp -d "$data_root/fleet-bench.XXXXXX")"
data_fs="$(df --output=fstype "$work" | tail -n 1 | tr -d ' ')"
# A fleet of 1000 downloading 256 KiB chunks and a coordinator taking thousands of summaries a
# second: messages up to 8 MiB (the coordinator's largest chunk size).
broker_name=fleet
broker_message_size_limit=8388608
# shellcheck source=../lib/broker.sh
source "$root/benchmarks/lib/broker.sh"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_broker
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

results="$bin/results"
rm -f "$results"/*.json
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -z "$only" || "$only" == floors ]]; then
    echo "== floors: each step of one device's update alone, in $data_root ($data_fs)" >&2
    "$bench" agent-floors --port 1 --work "$work" --artifact-bytes "$artifact_bytes" --devices 20 | tail -n 1 >"$results/floors.json"
fi

if [[ -z "$only" || "$only" == rollout ]]; then
    echo "== rollout: $devices devices, ~$artifact_bytes bytes compressed" >&2
    start_broker
    mkdir -p "$work/rollout"
    common=(--port "$port" --work "$work/rollout" --devices "$devices" --timeout-s "$timeout_s")
    "$bench" rollout-coordinator "${common[@]}" --artifact-bytes "$artifact_bytes" >"$work/coordinator.out" &
    coord_pid=$!
    "$bench" rollout-fleet "${common[@]}" >"$work/fleet.out" &
    fleet_pid=$!
    pids=("$coord_pid" "$fleet_pid")
    ok=1
    # Whichever fails first (a coordinator that will never say "done", a fleet the OOM killer
    # stopped) ends the other rather than leaving it to wait for its timeout.
    wait -n "$coord_pid" "$fleet_pid" || { ok=0; kill "$coord_pid" "$fleet_pid" 2>/dev/null || true; }
    wait "$coord_pid" || ok=0
    wait "$fleet_pid" || ok=0
    pids=()
    if (( ok == 0 )); then
        echo "run.sh: the rollout benchmark failed; broker log:" >&2
        tail -n 20 "$work/mosquitto.log" >&2 2>/dev/null || true
        exit 1
    fi
    stats="$(broker_stats)"
    stop_broker
    line="$(tail -n 1 "$work/coordinator.out")"
    echo "${line%\}},$stats}" >"$results/rollout.json"
    tail -n 1 "$work/fleet.out" >"$results/fleet.json"

    # The physical limit: the same broker fanning the same bytes, in the same number of
    # messages, out to as many plain libmosquitto subscribers.
    compressed="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["compressed_bytes"])' "$results/rollout.json")"
    chunk=$(( 256 * 1024 ))
    chunks=$(( (compressed + chunk - 1) / chunk ))
    chunk_bytes=$(( (compressed + chunks - 1) / chunks ))
    (( chunk_bytes < 4 )) && chunk_bytes=4
    echo "== limit: fanout.c, $devices subscribers, $chunks chunks of $chunk_bytes bytes" >&2
    start_broker
    line="$("$bin/fanout-c" --port "$port" --subscribers "$devices" --chunks "$chunks" --chunk-bytes "$chunk_bytes" \
        --timeout-s "$timeout_s" | tail -n 1)"
    stats="$(broker_stats)"
    stop_broker
    echo "${line%\}},$stats}" >"$results/fanout.json"
fi

if [[ -z "$only" || "$only" == ingest ]]; then
    echo "== ingest: $connections connections for $devices devices, rates $rates, ${step_s}s each" >&2
    start_broker
    "$bench" ingest --port "$port" --work "$work" --devices "$devices" --connections "$connections" --rates "$rates" \
        --step-s "$step_s" --timeout-s "$timeout_s" | tail -n 1 >"$results/ingest.json"
    stop_broker
    echo "== limit: $peer_messages summaries, flat out, to one plain subscriber" >&2
    start_broker
    "$bench" ingest-peer --port "$port" --work "$work" --devices "$devices" --connections "$connections" \
        --messages "$peer_messages" --timeout-s "$timeout_s" | tail -n 1 >"$results/ingest-peer.json"
    stop_broker
fi

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); mosquitto $(mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}')"
echo "data root: $data_root ($data_fs); every simulated device's data directory is on it"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other work on these cores moves wall times)"
python3 "$here/report.py" "$results"
