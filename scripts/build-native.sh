#!/usr/bin/env bash
# Builds the native addon (and the C++ harness) against the libtorch that setup-libtorch.sh picks.
# Incremental: re-running only recompiles what changed (precompiled libtorch header in build/).
# Env: LIBTORCH (libtorch root or torch/ of an installed PyTorch), DOC_ANON_JOBS (parallel jobs),
#      DOC_ANON_SKIP_NATIVE=1 (skip, e.g. when installing only for type checks).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${DOC_ANON_SKIP_NATIVE:-}" == "1" ]]; then
  echo "[build-native] DOC_ANON_SKIP_NATIVE=1: skipping the native build" >&2
  exit 0
fi
# One build at a time in build/ (two ninjas in one tree corrupt it).
mkdir -p build
exec 9>build/.build-lock
if command -v flock >/dev/null; then flock 9; fi
LIBTORCH_ROOT="$(bash scripts/setup-libtorch.sh | tail -n1)"
JOBS="${DOC_ANON_JOBS:-$(nproc 2>/dev/null || echo 2)}"
echo "[build-native] building with libtorch at $LIBTORCH_ROOT ($JOBS jobs)" >&2
node node_modules/cmake-js/bin/cmake-js build --out build --parallel "$JOBS" \
  --CDLIBTORCH="$LIBTORCH_ROOT" --CDCMAKE_BUILD_TYPE=Release >&2
test -f build/Release/docanon.node || { echo "[build-native] build/Release/docanon.node was not produced" >&2; exit 1; }
echo "[build-native] ok: build/Release/docanon.node" >&2
