#!/usr/bin/env bash
# Resolve the libtorch that the native addon builds and links against, and print the root.
#
# Order (first that works wins):
#   1. $LIBTORCH: a libtorch root (include/, lib/, share/cmake/Torch) or the torch/ folder of an
#      installed PyTorch (e.g. a CUDA build: LIBTORCH=$(python -c 'import torch,os;print(os.path.dirname(torch.__file__))')).
#   2. an existing .libtorch/ in the project root.
#   3. the pinned CPU wheel, fetched with pip (never Debian's libtorch: it is 1.13, has no SDPA and
#      a reference BLAS) and unpacked into .libtorch/ (gitignored).
#
# Extra pip arguments (e.g. another index) come from DOC_ANON_PIP_ARGS.
# The last line of stdout is the chosen root; diagnostics go to stderr.
set -euo pipefail

TORCH_VERSION="${DOC_ANON_TORCH_VERSION:-2.13.0+cpu}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.libtorch"

say() { echo "[setup-libtorch] $*" >&2; }

is_libtorch_root() {
  [[ -f "$1/share/cmake/Torch/TorchConfig.cmake" && -d "$1/include/torch" && -d "$1/lib" ]]
}

if [[ -n "${LIBTORCH:-}" ]]; then
  if is_libtorch_root "$LIBTORCH"; then
    say "using LIBTORCH=$LIBTORCH (set in the environment)"
    echo "$(cd "$LIBTORCH" && pwd)"
    exit 0
  fi
  say "LIBTORCH=$LIBTORCH is not a libtorch root: expected share/cmake/Torch/TorchConfig.cmake, include/torch and lib/ inside it."
  say "Point it at a libtorch folder or at the torch/ folder of an installed PyTorch."
  exit 1
fi

if is_libtorch_root "$DEST"; then
  say "using existing $DEST ($(cat "$DEST/VERSION" 2>/dev/null || echo 'version unknown'))"
  echo "$DEST"
  exit 0
fi

command -v python3 >/dev/null || { say "python3 is needed to fetch the PyTorch wheel (or set LIBTORCH)."; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
say "fetching torch==$TORCH_VERSION with pip (no dependencies) ${DOC_ANON_PIP_ARGS:+with extra args: $DOC_ANON_PIP_ARGS}"
# shellcheck disable=SC2086
if ! python3 -m pip download --no-deps --retries 0 --only-binary=:all: -d "$TMP" \
    "torch==$TORCH_VERSION" ${DOC_ANON_PIP_ARGS:-} >&2; then
  say "pip could not fetch torch==$TORCH_VERSION. Fixes: point pip at an index that has it"
  say "(DOC_ANON_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu'), or set LIBTORCH to an existing libtorch."
  exit 1
fi
WHEEL="$(ls "$TMP"/torch-*.whl | head -n1)"
say "unpacking lib/ include/ share/ of $(basename "$WHEEL") into $DEST"
python3 - "$WHEEL" "$TMP/unpacked" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if m.startswith(("torch/lib/", "torch/include/", "torch/share/"))]
    for m in members:
        z.extract(m, out)
PY
rm -rf "$DEST.partial"
mv "$TMP/unpacked/torch" "$DEST.partial"
echo "$TORCH_VERSION" > "$DEST.partial/VERSION"
# Rename last so an interrupted setup never leaves a half-extracted .libtorch behind.
mv "$DEST.partial" "$DEST"
say "libtorch $TORCH_VERSION ready in $DEST"
echo "$DEST"
