#!/usr/bin/env bash
# MQTT fan-out: our Swift client (one MQTTEventLoop) beside plain C libmosquitto (own epoll loop),
# same scenario, same private broker, same run. See docs/benchmarks.md, "MQTT fan-out".
#
#   bash benchmarks/mqtt-fanout/run.sh [--subscribers 10,100,1000] [--repeat K] [--timeout-s S]
#                                      [--api handler|stream]
#
# --api: how the Swift subscribers take messages — a callback on the event loop (handler, the
# default, as the C peer and the fleet simulator do) or one consumer task per client draining
# MQTTClient.messages (stream).
#
# For every N and every repeat each program runs against a freshly started mosquitto (so every
# run starts equal: no sessions, no retained state, no allocator history), in alternating order.
# Each cell of the table is the median of K runs; the spread (min–max) is printed below it.
# Raw results (one JSON line per run, with the broker's peak RSS) go to bin/results.jsonl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"

subscribers="10,100,1000"
repeat=1
timeout_s=300
api=handler
while [[ $# -gt 0 ]]; do
    case "$1" in
        --subscribers) subscribers="${2:?--subscribers needs a list like 10,100,1000}"; shift 2 ;;
        --repeat) repeat="${2:?--repeat needs a count}"; shift 2 ;;
        --timeout-s) timeout_s="${2:?--timeout-s needs seconds}"; shift 2 ;;
        --api) api="${2:?--api needs handler or stream}"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repeat needs a positive integer, got '$repeat'" >&2; exit 2; }
IFS=',' read -r -a counts <<<"$subscribers"
max_n=0
for n in "${counts[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: subscriber count '$n' is not a positive integer" >&2; exit 2; }
    (( n > max_n )) && max_n=$n
done
command -v mosquitto >/dev/null || { echo "run.sh: mosquitto not found; apt-get install mosquitto libmosquitto-dev" >&2; exit 1; }

# Each client holds 3 descriptors in the benchmark process, and the broker one per client:
# 1000+ clients need more than the usual soft limit of 1024. Raise the soft limit to the hard
# one for this shell, its broker and its benchmarks.
need=$(( max_n * 3 + 64 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < need )); then
    echo "run.sh: $max_n subscribers need about $need open files but the hard limit is $(ulimit -Hn); raise it (limits.conf or ulimit -Hn as root)" >&2
    exit 1
fi

echo "== building (swift release, gcc -O2)" >&2
mkdir -p "$bin"
(cd "$root" && swift build -c release --product mqtt-fanout >&2)
swift_bin="$(cd "$root" && swift build -c release --show-bin-path)/mqtt-fanout"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror "$here/c/fanout.c" -o "$bin/fanout-c" -lmosquitto
c_bin="$bin/fanout-c"

work="$(mktemp -d /tmp/mqtt-fanout.XXXXXX)"
# 256 KiB chunks are far below any limit: no message size limit.
broker_name="MQTT fan-out"
broker_message_size_limit=0
# shellcheck source=../lib/broker.sh
source "$root/benchmarks/lib/broker.sh"
cleanup() { stop_broker; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

results="$bin/results.jsonl"
: >"$results"
run_one() {  # impl binary n
    local impl="$1" exe="$2" n="$3" line stats extra=()
    [[ "$impl" == swift ]] && extra=(--api "$api")
    start_broker
    if ! line="$("$exe" --port "$port" --subscribers "$n" --timeout-s "$timeout_s" "${extra[@]}" | tail -n 1)"; then
        echo "run.sh: the $impl program failed for N=$n; broker log:" >&2
        tail -n 20 "$work/mosquitto.log" >&2 2>/dev/null || true
        exit 1
    fi
    # The broker's peak RSS and its CPU time over the whole run.
    stats="$(broker_stats)"
    stop_broker
    echo "${line%\}},$stats}" | tee -a "$results" >&2
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== running: N = ${counts[*]}, $repeat run(s) each, broker restarted for every run" >&2
for n in "${counts[@]}"; do
    for ((r = 0; r < repeat; r++)); do
        # Alternate the order so a slow drift on a shared machine does not favour one side.
        if (( r % 2 == 0 )); then
            run_one swift "$swift_bin" "$n"; run_one c "$c_bin" "$n"
        else
            run_one c "$c_bin" "$n"; run_one swift "$swift_bin" "$n"
        fi
    done
done

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); mosquitto $(mosquitto -h 2>/dev/null | awk 'NR==1 {print $3}'); runs per cell: $repeat"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on these cores makes wall times noisy; CPU times hold better)"
python3 "$here/report.py" "$results"
