#!/usr/bin/env bash
# Builds the native addon (and the C++ harness) from source against the libtorch that
# setup-libtorch.sh picks. Incremental: re-running only recompiles what changed (precompiled
# libtorch header in build/). `npm install` runs it through scripts/install.cjs when the prebuilt
# addon does not fit; run it yourself (`npm run build:native`) for CUDA (LIBTORCH=...) or after
# changing native code.
# Env: LIBTORCH (libtorch root or torch/ of an installed PyTorch), DOC_ANON_JOBS (parallel jobs),
#      DOC_ANON_SKIP_NATIVE=1 (skip, e.g. when installing only for type checks),
#      DOC_ANON_CONFIGURE_ONLY=1 (configure build/ and stop: checks that the tools, headers and
#      libtorch are found, in seconds, without compiling; the install test uses it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${DOC_ANON_SKIP_NATIVE:-}" == "1" ]]; then
  echo "[build-native] DOC_ANON_SKIP_NATIVE=1: skipping the native build" >&2
  exit 0
fi
# The node that runs npm (npm sets npm_node_execpath), else the one on PATH.
NODE="${npm_node_execpath:-$(command -v node || true)}"
[[ -n "$NODE" ]] || { echo "[build-native] node is not on PATH" >&2; exit 1; }
# Build tools are dependencies of this package, which npm may hoist to the consuming project's
# node_modules (or anywhere up the tree): find them the way require() does, from this folder.
resolve() { "$NODE" -e 'process.stdout.write(require.resolve(process.argv[1], { paths: [process.argv[2]] }))' "$1" "$ROOT"; }
CMAKE_JS="$(resolve cmake-js/bin/cmake-js)" || { echo "[build-native] cmake-js not found from $ROOT: install this package's dependencies first (npm install)" >&2; exit 1; }
NAPI_PKG="$(resolve node-addon-api/package.json)" || { echo "[build-native] node-addon-api not found from $ROOT: install this package's dependencies first (npm install)" >&2; exit 1; }
NODE_ADDON_API_DIR="$(dirname "$NAPI_PKG")"
command -v cmake >/dev/null || { echo "[build-native] cmake is not on PATH: a source build needs cmake (>= 3.18) and a C++20 compiler (Debian/Ubuntu: apt-get install cmake g++)" >&2; exit 1; }
# One build at a time in build/ (two ninjas in one tree corrupt it).
mkdir -p build
exec 9>build/.build-lock
if command -v flock >/dev/null; then flock 9; fi
LIBTORCH_ROOT="$(bash scripts/setup-libtorch.sh | tail -n1)"
JOBS="${DOC_ANON_JOBS:-$(nproc 2>/dev/null || echo 2)}"
echo "[build-native] building with libtorch at $LIBTORCH_ROOT ($JOBS jobs, cmake-js at $CMAKE_JS)" >&2
DEFINES=(--CDLIBTORCH="$LIBTORCH_ROOT" --CDCMAKE_BUILD_TYPE=Release --CDNODE_ADDON_API_DIR="$NODE_ADDON_API_DIR")
if [[ "${DOC_ANON_CONFIGURE_ONLY:-}" == "1" ]]; then
  "$NODE" "$CMAKE_JS" configure --out build "${DEFINES[@]}" >&2
  echo "[build-native] configured build/ (DOC_ANON_CONFIGURE_ONLY=1: nothing compiled)" >&2
  exit 0
fi
"$NODE" "$CMAKE_JS" build --out build --parallel "$JOBS" "${DEFINES[@]}" >&2
test -f build/Release/docanon.node || { echo "[build-native] build/Release/docanon.node was not produced" >&2; exit 1; }
echo "[build-native] ok: build/Release/docanon.node" >&2
