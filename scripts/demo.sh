#!/usr/bin/env bash
# Flotilla end to end, in one command, on a fresh Debian machine (run as root):
#   installs what is missing, builds the release binaries, starts a private Mosquitto, a
#   coordinator and a simulated fleet of 60 devices in three hardware classes, then tells the
#   story: release v1 of the digits model is quantized per class and rolled out in waves; v2 is
#   broken on arm64-dotprod, the canary gate catches it and that class is rolled back while the
#   others finish; a device killed mid-download resumes. Every claim is checked from the JSON
#   the CLI prints; the script exits non-zero naming the step that did not happen as told.
#   Everything it starts is stopped, and its temp dir removed, on any exit (Ctrl-C included).
#
# Options: --devices N (default 60), --keep (leave broker, coordinator and fleet running),
#          --no-build (use the existing .build/release binaries), --max-p95-ratio R (the
#          rollout gates' latency ratio, default 3). See docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/setup.sh

DEVICES=60
P95_RATIO=3
KEEP=0
BUILD=1
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --devices) DEVICES=${2:?--devices needs a number}; shift 2 ;;
        --devices=*) DEVICES=${1#*=}; shift ;;
        --max-p95-ratio) P95_RATIO=${2:?--max-p95-ratio needs a number}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "error: unknown option '$1' (try --help)" >&2; exit 64 ;;
    esac
done
if ! [[ $DEVICES =~ ^[0-9]+$ ]] || [ "$DEVICES" -lt 6 ] || [ "$DEVICES" -gt 1000 ]; then
    echo "error: --devices must be a number from 6 to 1000 (two canaries per class need at least 6), not '$DEVICES'" >&2
    exit 64
fi

MODEL=digits
FIXTURES=$ROOT/Tests/Fixtures
CLASSES=(x86_64-avx2 x86_64-avx512-vnni arm64-dotprod)
BROKEN_CLASS=arm64-dotprod
STEP="setup"
TOTAL_STEPS=9
STARTED_AT=$SECONDS
STORY_AT=
BUILD_SECONDS=0

# ---- output helpers -----------------------------------------------------------------------------

if [ -t 1 ]; then BOLD=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GREEN=$'\e[32m' RESET=$'\e[0m'; else BOLD= DIM= RED= GREEN= RESET=; fi
N_STEP=0
header() {
    N_STEP=$((N_STEP + 1))
    STEP=$1
    printf '\n%s━━ [%d/%d] %s %s%s\n' "$BOLD" "$N_STEP" "$TOTAL_STEPS" "$1" "$(printf '━%.0s' $(seq 1 $((70 - ${#1} > 3 ? 70 - ${#1} : 3))))" "$RESET"
}
say() { printf '%s\n' "$*"; }
ok() { printf '%s✓%s %s\n' "$GREEN" "$RESET" "$*"; }
note() { printf '%s%s%s\n' "$DIM" "$*" "$RESET"; }
# fail STEP-DETAIL: the demo stops here with a message naming the step.
fail() {
    printf '\n%sDEMO FAILED%s in step "%s": %s\n' "$RED$BOLD" "$RESET" "$STEP" "$*" >&2
    exit 1
}

# ---- processes and cleanup ----------------------------------------------------------------------

WORK=
BROKER_PID= COORD_PID= SIM_PID=
INTERRUPTED=0

# stop PID NAME SECONDS: SIGTERM (every component shuts down in order on it), then SIGKILL.
stop() {
    local pid=$1 name=$2 seconds=$3
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$name (pid $pid) did not stop within ${seconds}s of SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$KEEP" = 1 ] && [ "$INTERRUPTED" = 0 ] && [ -n "$WORK" ]; then
        say ""
        say "${BOLD}--keep: everything is still running${RESET}"
        say "  broker       mqtt://127.0.0.1:${BROKER_PORT:-?} (pid $BROKER_PID)"
        say "  coordinator  http://127.0.0.1:${API_PORT:-?}/ (pid $COORD_PID), token in $WORK/operator.token"
        say "  dashboard    ${DASHBOARD:-}"
        say "  fleet        pid $SIM_PID, status $WORK/fleet-status.json"
        say "  CLI          export FLOTILLA_COORDINATOR=http://127.0.0.1:${API_PORT:-?} FLOTILLA_TOKEN=\$(cat $WORK/operator.token)"
        say "  stop with    kill $SIM_PID $COORD_PID $BROKER_PID; rm -rf $WORK"
        exit "$rc"
    fi
    if [ -n "$WORK" ] && [ "$rc" != 0 ] && [ "$INTERRUPTED" = 0 ]; then keep_logs; fi
    # Newest first: the fleet reports offline to a coordinator still listening, then the
    # coordinator disconnects from a broker still up.
    stop "$SIM_PID" "fleet simulator" 30
    stop "$COORD_PID" coordinator 15
    stop "$BROKER_PID" mosquitto 5
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'INTERRUPTED=1; echo; echo "interrupted: stopping everything the demo started" >&2; exit 130' INT
trap 'INTERRUPTED=1; exit 143' TERM

# On failure the logs outlive the temp dir, and their tails are shown.
keep_logs() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-demo-logs.XXXXXX") || return 0
    cp "$WORK"/*.log "$WORK"/*.json "$dir"/ 2>/dev/null || true
    for f in coordinator.log simulator.log; do
        [ -s "$dir/$f" ] || continue
        echo "--- last lines of $f ---" >&2
        tail -n 12 "$dir/$f" >&2
    done
    echo "logs and JSON kept in $dir" >&2
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every second until it succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 1
    done
}

alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited unexpectedly (see its log: $(tail -n 3 "$3" 2>/dev/null | tr '\n' ' '))"; }

# ---- 1. install ---------------------------------------------------------------------------------

header "Install what is missing"
setup_swift
setup_apt_packages mosquitto libmosquitto-dev libzstd-dev libsqlite3-dev pkg-config python3 ca-certificates
# No PyPI packages: the checks below use Python's standard library only.
ok "swift $(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -1), mosquitto $(dpkg-query -W -f='${Version}' mosquitto), python $(python3 -c 'import platform; print(platform.python_version())')"

# ---- 2. build -----------------------------------------------------------------------------------

header "Build flotilla and flotilla-coordinator (release)"
BIN=$ROOT/.build/release
if [ "$BUILD" = 1 ]; then
    build_start=$SECONDS
    # One product per invocation: SwiftPM keeps only the last --product given. The per-file
    # "Compiling" lines are left out; warnings, errors and the summary line show.
    for product in flotilla-coordinator flotilla; do
        swift build -c release --product "$product" 2>&1 | awk '!/^\[[0-9]+\/[0-9]+\] (Compiling|Write|Emitting|Linking)/' ||
            fail "swift build -c release --product $product failed (the compiler's message is above)"
    done
    BUILD_SECONDS=$((SECONDS - build_start))
fi
for b in flotilla flotilla-coordinator; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b is missing (run without --no-build)"
done
ok "binaries in $BIN (build took ${BUILD_SECONDS}s)"
FLOTILLA=$BIN/flotilla
STORY_AT=$SECONDS

# ---- 3. broker, coordinator, fleet --------------------------------------------------------------

header "Start a private broker, a coordinator and $DEVICES simulated devices"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-demo.XXXXXX")

BROKER_PORT=$(free_port)
cat >"$WORK/mosquitto.conf" <<EOF
# Private broker of scripts/demo.sh: loopback only, nothing written to disk.
user root
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
log_dest stderr
log_type error
log_type warning
EOF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER_PID=$!
wait_for 10 broker python3 -c "import socket; socket.create_connection(('127.0.0.1', $BROKER_PORT), 1)" ||
    fail "mosquitto did not listen on 127.0.0.1:$BROKER_PORT: $(tail -n 3 "$WORK/mosquitto.log")"
ok "mosquitto on mqtt://127.0.0.1:$BROKER_PORT (config $WORK/mosquitto.conf)"

API_PORT=$(free_port)
python3 -c 'import secrets; print(secrets.token_hex(32))' >"$WORK/operator.token"
chmod 600 "$WORK/operator.token"
mkdir -p "$WORK/coordinator"
# A small chunk size and a bandwidth cap make the downloads long enough to watch (and to kill
# a device in the middle of one); 5 s telemetry buckets make the gates quick.
cat >"$WORK/coordinator.json" <<EOF
{
  "dataDirectory": "$WORK/coordinator",
  "brokerURL": "mqtt://127.0.0.1:$BROKER_PORT",
  "clientId": "demo-coordinator",
  "listen": "127.0.0.1:$API_PORT",
  "apiTokenFiles": { "demo": "$WORK/operator.token" },
  "chunkBandwidthBytesPerSecond": 262144,
  "chunkSize": 4096,
  "telemetryBucketSeconds": 5,
  "tickSeconds": 1
}
EOF
"$BIN/flotilla-coordinator" keys export --config "$WORK/coordinator.json" >"$WORK/coordinator.pub.pem" ||
    fail "flotilla-coordinator keys export failed"
"$BIN/flotilla-coordinator" run --config "$WORK/coordinator.json" >"$WORK/coordinator.log" 2>&1 &
COORD_PID=$!
wait_for 30 coordinator python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$API_PORT/healthz', timeout=1)" ||
    fail "the coordinator did not answer on http://127.0.0.1:$API_PORT/healthz: $(tail -n 3 "$WORK/coordinator.log")"
export FLOTILLA_COORDINATOR=http://127.0.0.1:$API_PORT
FLOTILLA_TOKEN=$(cat "$WORK/operator.token")
export FLOTILLA_TOKEN
DASHBOARD="http://127.0.0.1:$API_PORT/#token=$FLOTILLA_TOKEN"
ok "coordinator on $FLOTILLA_COORDINATOR (data in $WORK/coordinator, signing key exported to coordinator.pub.pem)"
say "  dashboard: $DASHBOARD"

# One device of the fleet dies mid-download of v1 (fraction 1/N picks exactly one).
KILL_FRACTION=$(python3 -c "print(f'{1 / $DEVICES:.6f}')")
SIM_ARGS=(
    simulate --broker "mqtt://127.0.0.1:$BROKER_PORT" --devices "$DEVICES"
    --classes "x86_64-avx2:1,x86_64-avx512-vnni:1,arm64-dotprod:1"
    --data-dir "$WORK/fleet" --pinned-key "$WORK/coordinator.pub.pem"
    --rate 20/s --telemetry-interval 2s --seed 7 --id-prefix dev
    --fault "broken:class=$BROKEN_CLASS,version=2"
    --fault "killMidDownload:$KILL_FRACTION:version=1,at=0.5,pause=2s"
    --json-status "$WORK/fleet-status.json"
)
"$FLOTILLA" "${SIM_ARGS[@]}" >"$WORK/simulator.log" 2>&1 &
SIM_PID=$!
note "  flotilla ${SIM_ARGS[*]}"
wait_for 90 fleet bash -c "
    '$FLOTILLA' devices --json >'$WORK/devices.json' 2>/dev/null &&
    python3 '$ROOT/scripts/lib/demo_checks.py' online '$WORK/devices.json' $DEVICES" || {
    alive "$SIM_PID" "the fleet simulator" "$WORK/simulator.log"
    fail "$(python3 scripts/lib/demo_checks.py online "$WORK/devices.json" "$DEVICES" 2>&1 | tail -1) after 90 s"
}
ok "$DEVICES devices registered with the coordinator, none running a model yet"
python3 scripts/lib/demo_checks.py devices-table "$WORK/devices.json"

# ---- story helpers ------------------------------------------------------------------------------

check() { # check WHAT args...: runs a demo_checks.py check, failing the step with its message.
    local what=$1 out
    shift
    out=$(python3 "$ROOT/scripts/lib/demo_checks.py" "$@" 2>&1) || fail "$what: $(printf '%s' "$out" | tail -1)"
    [ -z "$out" ] || printf '%s\n' "$out"
}

add_release() { # add_release VERSION
    "$FLOTILLA" model add "$FIXTURES/digits_cnn.onnx" --name "$MODEL" --version "$1" \
        --calibration "$FIXTURES/digits/calibration_x.npy" --eval "$FIXTURES/digits/test_x.npy" \
        --labels "$FIXTURES/digits/test_y.npy" --budget 1 --wait >"$WORK/release-$1.txt" ||
        fail "release $1 did not build (the coordinator's message is above)"
    "$FLOTILLA" model show "$MODEL" "$1" --json >"$WORK/release-$1.json"
}

# start_rollout VERSION: prints the rollout id. The gate's p95 ratio is looser than the
# default 1.2 (--max-p95-ratio, default 3): the simulated devices share the machine's cores with
# the broker, the coordinator and whatever else runs, and a 40 µs model's p95 over a canary's
# few hundred runs jumps with that load (measured: 1.3× to 11× on a busy 2-core machine). The
# demo's broken class is caught on accuracy, which load does not move.
start_rollout() {
    "$FLOTILLA" rollout start "$MODEL" "$1" --target '' --waves 10%,50%,100% --soak 5s \
        --max-p95-ratio "$P95_RATIO" --gate-timeout 2m --json >"$WORK/rollout-$1-start.json" 2>"$WORK/rollout-$1-start.err" ||
        fail "rollout start $MODEL $1 was refused: $(tail -n 2 "$WORK/rollout-$1-start.err")"
    python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['id'])" "$WORK/rollout-$1-start.json"
}

# watch_rollout ID SECONDS: the CLI's own --watch on a terminal; in a log, one line per change.
watch_rollout() {
    local id=$1 seconds=$2
    if [ -t 1 ]; then
        timeout --foreground "$seconds" "$FLOTILLA" rollout status "$id" --watch ||
            fail "rollout $id did not finish within ${seconds}s"
    else
        local deadline=$((SECONDS + seconds)) last= line
        while :; do
            "$FLOTILLA" rollout status "$id" --json >"$WORK/rollout-watch.json" || fail "rollout status $id failed"
            line=$(python3 scripts/lib/demo_checks.py progress "$WORK/rollout-watch.json")
            [ "$line" = "$last" ] || say "$line"
            last=$line
            python3 -c "import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))['status'] in ('completed', 'completedWithHaltedClasses', 'aborted', 'rolledBack', 'halted') else 1)" \
                "$WORK/rollout-watch.json" && break
            [ "$SECONDS" -lt "$deadline" ] || fail "rollout $id did not finish within ${seconds}s: $line"
            sleep 2
        done
        "$FLOTILLA" rollout status "$id"
    fi
    "$FLOTILLA" rollout status "$id" --json >"$WORK/rollout-$id.json"
}

# settle SECONDS CLASS=RELEASE...: waits until every device of each class runs that release.
settle() {
    local seconds=$1
    shift
    wait_for "$seconds" settle bash -c "
        '$FLOTILLA' devices --json >'$WORK/devices.json' 2>/dev/null &&
        python3 '$ROOT/scripts/lib/demo_checks.py' settled '$WORK/devices.json' $*" || true
    check "the fleet did not settle" settled "$WORK/devices.json" "$@"
}

# ---- 4. release v1 ------------------------------------------------------------------------------

header "Release v1: quantize digits_cnn.onnx to int8 for each hardware class"
note "  flotilla model add Tests/Fixtures/digits_cnn.onnx --name $MODEL --version 1 --calibration …/calibration_x.npy --eval …/test_x.npy --labels …/test_y.npy --budget 1 --wait"
add_release 1
"$FLOTILLA" model show "$MODEL" 1
python3 - "$WORK/release-1.json" "${CLASSES[@]}" <<'EOF' || fail "release 1 is not ready on every class"
import json, sys
r = json.load(open(sys.argv[1]))
ready = {v["hardwareClass"] for v in r["variants"] if v["status"] == "ready"}
missing = [c for c in sys.argv[2:] if c not in ready]
if r["status"] != "ready" or missing:
    sys.exit(f"status {r['status']}, not ready: {missing}")
EOF
ok "release 1 built, validated and signed for ${CLASSES[*]}"

# ---- 5. roll out v1 -----------------------------------------------------------------------------

header "Roll out v1 in waves 10% → 50% → 100%, each gated on telemetry"
note "  flotilla rollout start $MODEL 1 --target '' --waves 10%,50%,100% --soak 5s --max-p95-ratio $P95_RATIO --gate-timeout 2m; flotilla rollout status ID --watch"
R1=$(start_rollout 1)
watch_rollout "$R1" 300
check "v1 did not complete on every class" rollout "$WORK/rollout-$R1.json" completed --done "${CLASSES[@]}"
settle 60 "${CLASSES[@]/%/=1}"
ok "v1 committed on all $DEVICES devices"

# ---- 6. the killed device -----------------------------------------------------------------------

header "A device killed in the middle of its v1 download resumed it"
check "no device resumed its download after being killed" kills "$WORK/fleet-status.json" 1
ok "the killed device came back on the same data directory and fetched only the missing chunks"

# ---- 7. release v2 ------------------------------------------------------------------------------

header "Release v2 (same model, new version): fine on x86, broken kernels on $BROKEN_CLASS"
note "  the simulator injects broken:class=$BROKEN_CLASS,version=2: that class computes wrong outputs for release 2 only"
add_release 2
"$FLOTILLA" model list
ok "release 2 built for ${CLASSES[*]}"

# ---- 8. roll out v2 -----------------------------------------------------------------------------

header "Roll out v2: the canary gate must stop $BROKEN_CLASS, the others finish"
R2=$(start_rollout 2)
watch_rollout "$R2" 300
OTHERS=()
for c in "${CLASSES[@]}"; do [ "$c" = "$BROKEN_CLASS" ] || OTHERS+=("$c"); done
check "v2 gate did not halt $BROKEN_CLASS as told" rollout "$WORK/rollout-$R2.json" completedWithHaltedClasses \
    --done "${OTHERS[@]}" --rolled-back "$BROKEN_CLASS" --gate-failed "$BROKEN_CLASS"
settle 60 "${OTHERS[@]/%/=2}" "$BROKEN_CLASS=1"
check "the $BROKEN_CLASS canaries did not refuse v2 for its accuracy" rollback-reason "$WORK/devices.json" "$BROKEN_CLASS" accuracy
ok "$BROKEN_CLASS is back on v1 everywhere; ${OTHERS[*]} run v2"

# ---- 9. summary ---------------------------------------------------------------------------------

header "Summary"
"$FLOTILLA" devices --json >"$WORK/devices.json"
"$FLOTILLA" telemetry --model "$MODEL" --json >"$WORK/telemetry.json"
"$FLOTILLA" audit --limit 1000 --json >"$WORK/audit.json"
say "${BOLD}Devices per class and release${RESET}"
check "device table" devices-table "$WORK/devices.json"
say ""
say "${BOLD}Latency and accuracy per class and release${RESET} (flotilla telemetry --model $MODEL)"
TELEMETRY_WANT=()
for c in "${CLASSES[@]}"; do TELEMETRY_WANT+=("$c@1"); done
for c in "${OTHERS[@]}"; do TELEMETRY_WANT+=("$c@2"); done
check "telemetry is missing" telemetry "$WORK/telemetry.json" "$MODEL" "${TELEMETRY_WANT[@]}"
say ""
say "${BOLD}Rollbacks and their reasons${RESET}"
check "rollbacks" rollbacks "$WORK/devices.json" "$WORK/audit.json"
say ""
say "${BOLD}Dashboard${RESET}: $DASHBOARD"
[ "$KEEP" = 1 ] || note "  (it lives as long as the coordinator: run with --keep to browse it after the demo)"
STORY_SECONDS=$((SECONDS - STORY_AT))
say ""
ok "${BOLD}demo passed${RESET}: build ${BUILD_SECONDS}s, story ${STORY_SECONDS}s (total $((SECONDS - STARTED_AT))s)"
