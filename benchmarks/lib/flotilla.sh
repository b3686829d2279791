# Shared steps of the benchmarks that run `flotilla` beside ONNX Runtime. Source it from the
# repository root; it defines
#   build_flotilla [CONFIG]   builds the flotilla product (release by default) and sets BIN to it
#   require_onnxruntime       installs ONNX Runtime (and numpy) with pip unless the pinned version
#                             is there; the pin is the test suite's (scripts/requirements-test.txt),
#                             so benchmarks and cross-check tests measure against the same peer

build_flotilla() {
    local config="${1:-release}"
    echo "== building flotilla ($config)" >&2
    swift build -c "$config" --product flotilla >&2
    BIN="$(swift build -c "$config" --show-bin-path)/flotilla"
}

require_onnxruntime() {
    local version
    version="$(sed -n 's/^onnxruntime==//p' scripts/requirements-test.txt)"
    [[ -n "$version" ]] || { echo "no onnxruntime pin in scripts/requirements-test.txt" >&2; exit 1; }
    if ! python3 -c 'import onnxruntime, sys; sys.exit(onnxruntime.__version__ != sys.argv[1])' "$version" 2>/dev/null; then
        echo "== installing onnxruntime==$version" >&2
        python3 -m pip install --quiet "onnxruntime==$version" numpy >&2
    fi
}
