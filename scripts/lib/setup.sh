# Shared setup for scripts/*.sh: find the Swift toolchain, install missing Debian and PyPI
# packages (the only registries reachable), print steps. Source it; do not run it.

step() { printf '\n==> %s\n' "$*"; }

setup_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "error: no Swift toolchain: Flotilla needs Swift 6.2 or newer (expected at /opt/swift/usr/bin or on PATH)" >&2
        exit 1
    }
}

# Installs the named Debian packages that are not installed yet (one apt-get update, only if
# something is missing).
setup_apt_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    step "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pip install (quick when everything is already satisfied). Debian's own python3 refuses
# pip installs into the system (PEP 668, "externally-managed-environment"); these are test and
# benchmark dependencies of a throwaway machine, so fall back to --break-system-packages there.
setup_python_packages() {
    command -v python3 >/dev/null 2>&1 || setup_apt_packages python3
    python3 -m pip --version >/dev/null 2>&1 || setup_apt_packages python3-pip
    step "pip install $*"
    if ! python3 -m pip install -q --disable-pip-version-check "$@" 2>/tmp/flotilla-pip.err; then
        if grep -q externally-managed /tmp/flotilla-pip.err; then
            python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
        else
            cat /tmp/flotilla-pip.err >&2
            return 1
        fi
    fi
}

# Debian's Chromium for the dashboard test (headless, --dump-dom). Optional: the test skips
# with a message when it cannot be installed.
setup_browser() {
    setup_apt_packages chromium || echo "warning: chromium could not be installed; the dashboard browser test will be skipped" >&2
}
