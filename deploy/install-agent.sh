#!/usr/bin/env bash
# Sets a device up to run the Flotilla agent from a provisioning bundle (docs/operations.md).
#
#   deploy/install-agent.sh --bundle DIR|FILE.tar[.gz] [--bin DIR] [--root DIR]
#
# The bundle is what `flotilla device provision` writes: its `<out>/<id>.tar.gz` or `<out>/<id>/`
# directory (the files sit under device/etc/flotilla/ or etc/flotilla/ there), or a flat
# directory or tarball holding the same files:
#   agent.json        the agent's configuration (required; deviceId names the device)
#   ca.pem            the broker's CA certificate            (optional: plain mqtt:// brokers)
#   <id>.crt, <id>.key the device's TLS client certificate and key (both or neither)
#   coordinator-keys/*.pub.pem or keys/*.pub.pem
#                     the coordinator public keys to pin     (at least one, or *.pub.pem at top)
#   broker-password   the broker password file                (optional)
# Files go to /etc/flotilla (root:flotilla 0750): agent.json 0640, certificates and public keys
# 0644, private key and password 0600 owned by flotilla. Other files are ignored with a note.
# The binary goes to /usr/local/bin, the unit to /etc/systemd/system, state to
# /var/lib/flotilla-agent. Running it again changes nothing; an edited agent.json and existing
# keys are never overwritten (install a new bundle's files by hand, see docs/operations.md).
set -euo pipefail
SCRIPT_NAME=install-agent
REPO_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO_DIR/deploy/lib/install-common.sh"

parse_common_args "$@"
BUNDLE=""
set -- "${ARGS[@]+"${ARGS[@]}"}"
while [ $# -gt 0 ]; do
    case $1 in
        --bundle)
            [ $# -ge 2 ] || fail "--bundle needs a directory or tarball"
            BUNDLE=$2
            shift 2
            ;;
        -h | --help)
            sed -n '2,16p' "$0"
            exit 0
            ;;
        *) fail "unknown argument '$1' (see --help)" ;;
    esac
done
[ -n "$BUNDLE" ] || fail "--bundle DIR|FILE.tar.gz is required (made by \`flotilla device provision\`)"

# A tarball is unpacked into a temporary directory; one top-level directory inside is entered.
WORK=""
cleanup() { [ -z "$WORK" ] || rm -rf "$WORK"; }
trap cleanup EXIT
if [ -f "$BUNDLE" ]; then
    WORK=$(mktemp -d)
    tar -xf "$BUNDLE" -C "$WORK" 2> /dev/null || fail "bundle $BUNDLE is neither a directory nor a readable tar archive"
    BUNDLE_DIR=$WORK
    entries=("$WORK"/*)
    if [ ${#entries[@]} -eq 1 ] && [ -d "${entries[0]}" ]; then BUNDLE_DIR=${entries[0]}; fi
elif [ -d "$BUNDLE" ]; then
    BUNDLE_DIR=$BUNDLE
else
    fail "bundle $BUNDLE does not exist"
fi

# `flotilla device provision` lays the files out as they go on the device (device/etc/flotilla/
# in its directory, etc/flotilla/ in its tarball): enter that directory.
for nested in device/etc/flotilla etc/flotilla flotilla; do
    if [ ! -f "$BUNDLE_DIR/agent.json" ] && [ -f "$BUNDLE_DIR/$nested/agent.json" ]; then BUNDLE_DIR=$BUNDLE_DIR/$nested; fi
done

# Check the whole bundle before touching the host.
CONFIG="$BUNDLE_DIR/agent.json"
[ -f "$CONFIG" ] || fail "bundle $BUNDLE has no agent.json (is it a provisioning bundle?)"
if command -v python3 > /dev/null; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$CONFIG" 2> /dev/null ||
        fail "$BUNDLE: agent.json is not valid JSON"
fi
DEVICE_ID=$(sed -n 's/.*"deviceId"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$CONFIG" | head -n 1)
[ -n "$DEVICE_ID" ] || fail "$BUNDLE: agent.json has no \"deviceId\""
case $DEVICE_ID in
    */* | .* | *[[:space:]]*) fail "$BUNDLE: deviceId '$DEVICE_ID' cannot name files (no '/', spaces or leading '.')" ;;
esac
CERT="$BUNDLE_DIR/$DEVICE_ID.crt"
KEY="$BUNDLE_DIR/$DEVICE_ID.key"
if { [ -f "$CERT" ] && [ ! -f "$KEY" ]; } || { [ ! -f "$CERT" ] && [ -f "$KEY" ]; }; then
    fail "$BUNDLE: has only one of $DEVICE_ID.crt and $DEVICE_ID.key; the TLS client identity needs both"
fi
PUBKEYS=()
for f in "$BUNDLE_DIR"/coordinator-keys/*.pub.pem "$BUNDLE_DIR"/keys/*.pub.pem "$BUNDLE_DIR"/*.pub.pem; do if [ -f "$f" ]; then PUBKEYS+=("$f"); fi; done
[ ${#PUBKEYS[@]} -gt 0 ] || fail "$BUNDLE: no coordinator public key (coordinator-keys/*.pub.pem); the agent trusts only pinned keys"
for f in "${PUBKEYS[@]}"; do
    grep -q 'BEGIN PUBLIC KEY' "$f" || fail "$f is not a PEM public key"
done
if grep -q '"mqtts://' "$CONFIG" && [ ! -f "$BUNDLE_DIR/ca.pem" ]; then
    note "agent.json uses mqtts:// but the bundle has no ca.pem: the agent.json's tls.caFile must already be on the device"
fi
for f in "$BUNDLE_DIR"/*; do
    case ${f##*/} in
        agent.json | ca.pem | "$DEVICE_ID.crt" | "$DEVICE_ID.key" | keys | coordinator-keys | *.pub.pem | broker-password) ;;
        *) note "ignoring ${f##*/} in the bundle" ;;
    esac
done
AGENT_BIN=$(find_binary flotilla-agent)

ensure_user
ensure_dir /etc/flotilla 0750 root "$FLOTILLA_GROUP"
ensure_dir /etc/flotilla/keys 0755 root root
if [ -d "$BUNDLE_DIR/coordinator-keys" ]; then ensure_dir /etc/flotilla/coordinator-keys 0755 root root; fi
ensure_dir /usr/local/bin 0755 root root
ensure_dir /var/lib/flotilla-agent 0750 "$FLOTILLA_USER" "$FLOTILLA_GROUP"

install_owned "$AGENT_BIN" /usr/local/bin/flotilla-agent 0755 root root
install_kept "$CONFIG" /etc/flotilla/agent.json 0640 root "$FLOTILLA_GROUP"
if [ -f "$BUNDLE_DIR/ca.pem" ]; then install_kept "$BUNDLE_DIR/ca.pem" /etc/flotilla/ca.pem 0644 root root; fi
if [ -f "$CERT" ]; then
    install_kept "$CERT" "/etc/flotilla/$DEVICE_ID.crt" 0644 root root
    install_kept "$KEY" "/etc/flotilla/$DEVICE_ID.key" 0600 "$FLOTILLA_USER" "$FLOTILLA_GROUP"
fi
if [ -f "$BUNDLE_DIR/broker-password" ]; then
    install_kept "$BUNDLE_DIR/broker-password" /etc/flotilla/broker-password 0600 "$FLOTILLA_USER" "$FLOTILLA_GROUP"
fi
for f in "${PUBKEYS[@]}"; do
    case $f in
        "$BUNDLE_DIR"/keys/*) install_kept "$f" "/etc/flotilla/keys/${f##*/}" 0644 root root ;;
        "$BUNDLE_DIR"/coordinator-keys/*) install_kept "$f" "/etc/flotilla/coordinator-keys/${f##*/}" 0644 root root ;;
        *) install_kept "$f" "/etc/flotilla/${f##*/}" 0644 root root ;;
    esac
done

# Every /etc/flotilla file the installed agent.json names should now exist.
for path in $(grep -o '"/etc/flotilla/[^"]*"' "$ROOT/etc/flotilla/agent.json" | tr -d '"' | sort -u); do
    if [ ! -e "$ROOT$path" ]; then note "warning: agent.json names $path, which is not installed; add it before starting the agent"; fi
done

install_unit_and_enable flotilla-agent.service "$REPO_DIR/systemd"
summary
