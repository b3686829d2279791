#!/usr/bin/env bash
# Sets a host up to run the Flotilla coordinator (docs/operations.md).
#
#   deploy/install-coordinator.sh [--config FILE] [--bin DIR] [--root DIR]
#
# Installs /usr/local/bin/flotilla-coordinator and /usr/local/bin/flotilla (the operator CLI, when
# built), the hardware-class profiles under /usr/share/flotilla/hardware-classes, the
# configuration as /etc/flotilla/coordinator.json (from --config, default
# deploy/coordinator.example.json; 0640 root:flotilla), an API token for every
# /etc/flotilla/tokens/ file it names that does not exist yet (0640 root:flotilla, random),
# /var/lib/flotilla-coordinator (0700 flotilla) and the unit. Broker TLS files named in the
# config are the operator's to place; an existing *.key under /etc/flotilla is tightened to
# 0600 flotilla. Running it again changes nothing; an edited config, existing tokens and keys
# are never overwritten.
set -euo pipefail
SCRIPT_NAME=install-coordinator
REPO_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO_DIR/deploy/lib/install-common.sh"

parse_common_args "$@"
CONFIG="$REPO_DIR/deploy/coordinator.example.json"
set -- "${ARGS[@]+"${ARGS[@]}"}"
while [ $# -gt 0 ]; do
    case $1 in
        --config)
            [ $# -ge 2 ] || fail "--config needs a file"
            CONFIG=$2
            shift 2
            ;;
        -h | --help)
            sed -n '2,14p' "$0"
            exit 0
            ;;
        *) fail "unknown argument '$1' (see --help)" ;;
    esac
done
[ -f "$CONFIG" ] || fail "config $CONFIG does not exist"
if command -v python3 > /dev/null; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$CONFIG" 2> /dev/null || fail "$CONFIG is not valid JSON"
fi
grep -q '"dataDirectory"' "$CONFIG" || fail "$CONFIG has no \"dataDirectory\" (start from deploy/coordinator.example.json)"
COORDINATOR_BIN=$(find_binary flotilla-coordinator)
CLI_BIN=""
if [ -x "$(dirname "$COORDINATOR_BIN")/flotilla" ]; then CLI_BIN="$(dirname "$COORDINATOR_BIN")/flotilla"; fi

ensure_user
ensure_dir /etc/flotilla 0750 root "$FLOTILLA_GROUP"
ensure_dir /etc/flotilla/tokens 0750 root "$FLOTILLA_GROUP"
ensure_dir /usr/local/bin 0755 root root
ensure_dir /usr/share/flotilla 0755 root root
ensure_dir /usr/share/flotilla/hardware-classes 0755 root root
ensure_dir /var/lib/flotilla-coordinator 0700 "$FLOTILLA_USER" "$FLOTILLA_GROUP"

install_owned "$COORDINATOR_BIN" /usr/local/bin/flotilla-coordinator 0755 root root
if [ -n "$CLI_BIN" ]; then
    install_owned "$CLI_BIN" /usr/local/bin/flotilla 0755 root root
else
    note "no flotilla CLI next to $COORDINATOR_BIN: operators run it from their own machines"
fi
for profile in "$REPO_DIR"/deploy/hardware-classes/*.json; do
    install_owned "$profile" "/usr/share/flotilla/hardware-classes/${profile##*/}" 0644 root root
done
install_kept "$CONFIG" /etc/flotilla/coordinator.json 0640 root "$FLOTILLA_GROUP"

# Token files the installed config names: made once, random, readable by the service's group.
for path in $(grep -o '"/etc/flotilla/tokens/[^"]*"' "$ROOT/etc/flotilla/coordinator.json" | tr -d '"' | sort -u); do
    case $path in */../* | */./*) fail "token path $path leaves /etc/flotilla/tokens" ;; esac
    if [ ! -e "$ROOT$path" ]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$ROOT$path" && echo >> "$ROOT$path")
        changed "created API token $path (give it to that operator: flotilla --token-file ...)"
    fi
    set_attributes "$ROOT$path" 0640 root "$FLOTILLA_GROUP"
done

# Private keys placed by the operator (broker TLS client key): only the service reads them.
for key in "$ROOT"/etc/flotilla/*.key; do
    if [ -f "$key" ]; then set_attributes "$key" 0600 "$FLOTILLA_USER" "$FLOTILLA_GROUP"; fi
done
for path in $(grep -o '"/etc/flotilla/[^"]*\.\(pem\|crt\|key\)"' "$ROOT/etc/flotilla/coordinator.json" | tr -d '"' | sort -u); do
    if [ ! -e "$ROOT$path" ]; then note "warning: coordinator.json names $path, which is not there yet; place it before starting the coordinator"; fi
done

install_unit_and_enable flotilla-coordinator.service "$REPO_DIR/systemd"
note "the first start creates the signing key in /var/lib/flotilla-coordinator/keys; pin it on the devices: flotilla-coordinator keys export --config /etc/flotilla/coordinator.json"
summary
