#!/usr/bin/env bash
# Agent footprint: release binary size, no host-only code linked (SwiftProtobuf, the ONNX
# importer, the quantizer), idle RSS after start against a local broker.
# Usage: scripts/agent-footprint.sh   (needs mosquitto on PATH; prints Markdown table rows)
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product flotilla-agent >/dev/null
BIN=$(swift build -c release --show-bin-path)/flotilla-agent
SIZE=$(stat -c %s "$BIN")
STRIPPED=$(mktemp); strip -o "$STRIPPED" "$BIN"; SSIZE=$(stat -c %s "$STRIPPED"); rm -f "$STRIPPED"

# Host-only modules must not be linked: look for their mangled module prefixes.
# Positive control first: the agent's own modules must be found the same way.
SYMS=$(mktemp); nm "$BIN" >"$SYMS"
for sym in '$s5Agent' '$s7Runtime'; do
    n=$(grep -cF "$sym" "$SYMS" || true)
    echo "symbols matching $sym (must be present): $n"
    [ "$n" -gt 0 ] || { echo "symbol scan broken: no $sym"; exit 1; }
done
FORBIDDEN=0
for sym in SwiftProtobuf 10ONNXImport 9Quantizer 9ONNXProto; do
    n=$(grep -cF "$sym" "$SYMS" || true)
    echo "symbols matching $sym: $n"
    [ "$n" -eq 0 ] || FORBIDDEN=1
done
rm -f "$SYMS"
echo "shared libraries:"; ldd "$BIN" | awk '{print "  " $1}'

# Idle RSS: a broker, a throwaway key and data dir, the agent started, measured after 3 s.
WORK=$(mktemp -d); trap 'kill $AGENT $BROKER 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(( 20000 + RANDOM % 20000 ))
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" >/dev/null 2>&1 & BROKER=$!
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$WORK/key.pub.pem"
cat >"$WORK/agent.json" <<JSON
{"deviceId":"footprint","brokerURL":"mqtt://127.0.0.1:$PORT","dataDirectory":"$WORK/data",
 "pinnedKeyFiles":["$WORK/key.pub.pem"],"hardwareClass":"x86_64-avx2","socketPath":"$WORK/infer.sock"}
JSON
sleep 0.5
"$BIN" run --config "$WORK/agent.json" 2>"$WORK/agent.log" & AGENT=$!
sleep 3
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$AGENT/status)
kill -TERM $AGENT; wait $AGENT || true

echo
echo "| figure | value |"
echo "|---|---|"
echo "| release binary | $((SIZE / 1024)) KiB ($((SSIZE / 1024)) KiB stripped) |"
echo "| SwiftProtobuf / ONNXImport / Quantizer symbols | $([ $FORBIDDEN -eq 0 ] && echo none || echo FOUND) |"
echo "| idle RSS after start | $((RSS_KB / 1024)) MiB ($RSS_KB KiB) |"
[ $FORBIDDEN -eq 0 ]
