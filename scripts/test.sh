#!/usr/bin/env bash
# Flotilla's whole test suite, from a fresh Debian machine (run as root):
#   installs the system packages and Python packages the tests need, builds, runs every test.
# Tests start their own Mosquitto brokers (and RabbitMQ nodes) on free loopback ports; nothing
# needs to be running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

setup_swift
# systemd: systemd-analyze, for DeployTests (verify and security of systemd/*.service).
setup_apt_packages mosquitto mosquitto-clients libmosquitto-dev libzstd-dev libsqlite3-dev zstd openssl pkg-config systemd tar

# RabbitMQ (Debian 12: 3.10, MQTT 3.1.1 only) for the interoperability tests, which start their
# own private node. The package must not start (or leave enabled) a system broker: a policy-rc.d
# that says "no" covers the install, and on a machine run by systemd the unit is disabled too.
setup_rabbitmq() {
    dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q "install ok installed" && return 0
    local policy=/usr/sbin/policy-rc.d added=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && added=1
    fi
    setup_apt_packages rabbitmq-server || echo "warning: rabbitmq-server could not be installed; the RabbitMQ tests will be skipped" >&2
    [ -n "$added" ] && rm -f "$policy"
    if [ -d /run/systemd/system ]; then
        systemctl disable --now rabbitmq-server epmd.socket epmd.service >/dev/null 2>&1 || true
    fi
}
setup_rabbitmq
setup_browser
setup_python_packages -r scripts/requirements-test.txt

# Brokers are children of the test process and die with it; this catches any left behind by a
# crash of the test runner itself.
trap 'pkill -f flotilla-test-broker 2>/dev/null || true' EXIT

step "build (debug, with tests)"
swift build --build-tests

step "format check"
scripts/format.sh --check

step "int8 kernels on ARM64 under qemu (and natively), bit-exact with the reference"
bash tests/arm64/run.sh

step "tests"
# No Swift Testing suites exist; XCTest's own summary is the run's last line.
swift test --skip-build --disable-swift-testing "$@"
