#!/usr/bin/env bash
# Flotilla's whole test suite, from a fresh Debian machine (run as root):
#   installs the system packages and Python packages the tests need, builds, runs every test.
# Tests start their own Mosquitto brokers on free loopback ports; nothing needs to be running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

setup_swift
# systemd: systemd-analyze, for DeployTests (verify and security of systemd/*.service).
setup_apt_packages mosquitto mosquitto-clients libmosquitto-dev libzstd-dev libsqlite3-dev zstd openssl pkg-config systemd tar
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
