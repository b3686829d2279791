#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/*.pb.swift from the .proto files of a pinned ONNX release.
#
# The generated Swift is committed, so `swift build` never needs protoc, pip or network access;
# run this only to move to another ONNX or swift-protobuf release (see docs/onnx-proto.md).
#
# Usage: scripts/generate-onnx-proto.sh
#   ONNX_VERSION            ONNX release to take the .proto files from (default: the pin below)
#   SWIFT_PROTOBUF_GIT      where to clone swift-protobuf from (default: the local mirror, else GitHub)
#   PYTHON                  python interpreter whose pip downloads the wheel (default: python3)
#
# Idempotent: a second run rewrites nothing. protoc-gen-swift is built once per swift-protobuf
# version and cached in .build-protoc-gen-swift/ (ignored by git through `.build-*/`).
set -euo pipefail

# Pinned: the ONNX release whose schema the importer is written against.
ONNX_VERSION="${ONNX_VERSION:-1.23.2}"
# The .proto files to compile, relative to the wheel root. onnx-ml.proto is the ONNX_ML build of
# the schema (historically the superset with map/opaque types that scikit-learn exports need; in
# 1.23.2 it differs from onnx.proto only by a comment). onnx-data.proto and
# onnx-operators-ml.proto both import "onnx/onnx-ml.proto", so all three share one
# `package onnx` and one set of `Onnx_` Swift types. onnx.proto and onnx-operators.proto must
# NOT be added: they redefine the same messages.
PROTOS=(onnx/onnx-ml.proto onnx/onnx-data.proto onnx/onnx-operators-ml.proto)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$REPO_ROOT/Sources/ONNXProto"
CACHE_DIR="$REPO_ROOT/.build-protoc-gen-swift"
PYTHON="${PYTHON:-python3}"
MIRROR_GIT="/opt/swift-packages/apple/swift-protobuf.git"

log() { printf '[generate-onnx-proto] %s\n' "$*"; }
die() { printf '[generate-onnx-proto] error: %s\n' "$*" >&2; exit 1; }

# The plugin must match the SwiftProtobuf runtime the package links, so the version is read from
# Package.swift rather than repeated here.
SWIFT_PROTOBUF_VERSION="$(sed -n 's|.*apple/swift-protobuf.git", from: "\([0-9.]*\)".*|\1|p' \
    "$REPO_ROOT/Package.swift" | head -n 1)"
[[ -n "$SWIFT_PROTOBUF_VERSION" ]] ||
    die "cannot find the swift-protobuf version in Package.swift; expected a line like" \
        '.package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0")'
if [[ -f "$REPO_ROOT/Package.resolved" ]] &&
    resolved="$(grep -A6 '"identity" : "swift-protobuf"' "$REPO_ROOT/Package.resolved" |
        sed -n 's/.*"version" : "\([^"]*\)".*/\1/p')" &&
    [[ -n "$resolved" && "$resolved" != "$SWIFT_PROTOBUF_VERSION" ]]; then
    log "warning: Package.resolved pins swift-protobuf $resolved but Package.swift says" \
        "$SWIFT_PROTOBUF_VERSION; generating with $SWIFT_PROTOBUF_VERSION"
fi

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/onnx-proto.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT

# --- 1. protoc --------------------------------------------------------------------------------
if ! command -v protoc >/dev/null 2>&1; then
    log "protoc not found; installing Debian's protobuf-compiler"
    command -v apt-get >/dev/null 2>&1 ||
        die "protoc is missing and apt-get is unavailable; install protoc (>= 3.12) and rerun"
    SUDO=""
    [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler
fi
PROTOC_VERSION="$(protoc --version)"
log "using $PROTOC_VERSION ($(command -v protoc))"

# --- 2. protoc-gen-swift, built from source at the package's swift-protobuf version ------------
PLUGIN="$CACHE_DIR/bin/protoc-gen-swift-$SWIFT_PROTOBUF_VERSION"
# `--version` prints "<argv[0] basename> <version>"; only the version is compared.
plugin_version() { "$1" --version 2>/dev/null | awk '{print $NF}'; }
if [[ -x "$PLUGIN" ]] && [[ "$(plugin_version "$PLUGIN")" == "$SWIFT_PROTOBUF_VERSION" ]]; then
    log "using cached $PLUGIN"
else
    if [[ -z "${SWIFT_PROTOBUF_GIT:-}" ]]; then
        if [[ -d "$MIRROR_GIT" ]]; then
            SWIFT_PROTOBUF_GIT="$MIRROR_GIT"
        else
            SWIFT_PROTOBUF_GIT="https://github.com/apple/swift-protobuf.git"
        fi
    fi
    SRC_DIR="$CACHE_DIR/swift-protobuf-$SWIFT_PROTOBUF_VERSION"
    if [[ ! -d "$SRC_DIR/.git" ]]; then
        log "cloning swift-protobuf $SWIFT_PROTOBUF_VERSION from $SWIFT_PROTOBUF_GIT"
        mkdir -p "$CACHE_DIR"
        git clone --quiet "$SWIFT_PROTOBUF_GIT" "$SRC_DIR"
    fi
    git -C "$SRC_DIR" -c advice.detachedHead=false checkout --quiet "refs/tags/$SWIFT_PROTOBUF_VERSION" ||
        die "tag $SWIFT_PROTOBUF_VERSION not found in $SWIFT_PROTOBUF_GIT; fetch it or set SWIFT_PROTOBUF_GIT"
    log "building protoc-gen-swift $SWIFT_PROTOBUF_VERSION (release; about a minute on 2 idle cores)"
    (cd "$SRC_DIR" && swift build -c release --product protoc-gen-swift \
        --scratch-path "$CACHE_DIR/scratch-$SWIFT_PROTOBUF_VERSION")
    BIN_PATH="$(cd "$SRC_DIR" && swift build -c release --product protoc-gen-swift \
        --scratch-path "$CACHE_DIR/scratch-$SWIFT_PROTOBUF_VERSION" --show-bin-path)"
    mkdir -p "$CACHE_DIR/bin"
    cp "$BIN_PATH/protoc-gen-swift" "$PLUGIN"
    [[ "$(plugin_version "$PLUGIN")" == "$SWIFT_PROTOBUF_VERSION" ]] ||
        die "built plugin reports version '$(plugin_version "$PLUGIN")', expected $SWIFT_PROTOBUF_VERSION"
    log "cached $PLUGIN"
fi

# --- 3. the .proto files, from the onnx wheel on PyPI --------------------------------------------
log "downloading onnx==$ONNX_VERSION from PyPI (wheel only, no dependencies)"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
    "onnx==$ONNX_VERSION" -d "$WORK_DIR/wheel" ||
    die "pip could not download onnx==$ONNX_VERSION; check the version exists and PyPI is reachable"
WHEELS=("$WORK_DIR"/wheel/onnx-"$ONNX_VERSION"-*.whl)
[[ -f "${WHEELS[0]}" ]] || die "no onnx-$ONNX_VERSION wheel in $WORK_DIR/wheel after pip download"
mkdir -p "$WORK_DIR/protos"
unzip -q -o "${WHEELS[0]}" 'onnx/*.proto' -d "$WORK_DIR/protos"
for proto in "${PROTOS[@]}"; do
    [[ -f "$WORK_DIR/protos/$proto" ]] || die "$proto is not in $(basename "${WHEELS[0]}")"
    log "found $proto (sha256 $(sha256sum "$WORK_DIR/protos/$proto" | cut -c1-16)…)"
done

# --- 4. generate ----------------------------------------------------------------------------------
mkdir -p "$WORK_DIR/out"
log "running protoc with protoc-gen-swift on ${PROTOS[*]}"
(cd "$WORK_DIR/protos" && protoc \
    --plugin="protoc-gen-swift=$PLUGIN" \
    --swift_opt=Visibility=Public \
    --swift_opt=FileNaming=DropPath \
    --swift_out="$WORK_DIR/out" \
    -I . \
    "${PROTOS[@]}")

# --- 5. install with a provenance header; only rewrite files whose bytes change -----------------
mkdir -p "$OUT_DIR"
declare -A GENERATED=()
for proto in "${PROTOS[@]}"; do
    name="$(basename "$proto" .proto).pb.swift"
    GENERATED["$name"]=1
    src="$WORK_DIR/out/$name"
    [[ -f "$src" ]] || die "protoc produced no $name"
    {
        printf '// Generated by scripts/generate-onnx-proto.sh. Do not edit; rerun the script.\n'
        printf '// Source: %s from the PyPI wheel onnx==%s (sha256 %s)\n' \
            "$proto" "$ONNX_VERSION" "$(sha256sum "$WORK_DIR/protos/$proto" | cut -d' ' -f1)"
        printf '// Tools: %s, protoc-gen-swift %s\n' "$PROTOC_VERSION" "$SWIFT_PROTOBUF_VERSION"
        printf '// Command: protoc --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath'
        printf ' --swift_out=Sources/ONNXProto -I <wheel> %s\n' "${PROTOS[*]}"
        printf '\n'
        cat "$src"
    } >"$WORK_DIR/$name"
    if cmp -s "$WORK_DIR/$name" "$OUT_DIR/$name"; then
        log "unchanged Sources/ONNXProto/$name"
    else
        cp "$WORK_DIR/$name" "$OUT_DIR/$name"
        log "wrote     Sources/ONNXProto/$name ($(wc -l <"$OUT_DIR/$name") lines)"
    fi
done

# A proto dropped from PROTOS must not leave its old Swift behind to be compiled.
for existing in "$OUT_DIR"/*.pb.swift; do
    [[ -e "$existing" ]] || continue
    name="$(basename "$existing")"
    if [[ -z "${GENERATED[$name]:-}" ]]; then
        rm "$existing"
        log "removed   Sources/ONNXProto/$name (no longer generated)"
    fi
done

log "done: ONNX $ONNX_VERSION -> Sources/ONNXProto (run: swift build --target ONNXProto)"
