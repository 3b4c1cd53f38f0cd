#!/usr/bin/env bash
# Resolve the libtorch that the native addon builds and links against, and print the root.
#
# Order (first that works wins):
#   1. $LIBTORCH: a libtorch root (include/, lib/, share/cmake/Torch) or the torch/ folder of an
#      installed PyTorch (e.g. a CUDA build: LIBTORCH=$(python -c 'import torch,os;print(os.path.dirname(torch.__file__))')).
#   2. an existing .libtorch/ in the project root.
#   3. the pinned CPU wheel (scripts/libtorch-pin.json: one file, fixed by name and sha256), never
#      Debian's libtorch (1.13, no SDPA, a reference BLAS), unpacked into .libtorch/ (gitignored).
#      The wheel is taken from, in order: $DOC_ANON_LIBTORCH_WHEEL (a local file), the wheel cache
#      ($DOC_ANON_CACHE (older name $DOC_ANON_CACHE_DIR), else $XDG_CACHE_HOME/doc-anon-torch, else ~/.cache/doc-anon-torch:
#      libtorch/<wheel>), pip download with pip's own configuration (index, proxy, find-links), and
#      only if that index lacks it, pip again with PyTorch's CPU index added. Whatever the source,
#      the bytes must match the pinned sha256 or nothing is unpacked.
#
# Extra pip arguments (e.g. another index) come from DOC_ANON_PIP_ARGS (then no fallback index).
# DOC_ANON_TORCH_VERSION picks another version: fetched for this python3, unverified (no pin),
# and the prebuilt addon will not use it (it builds from source).
# The last line of stdout is the chosen root; diagnostics go to stderr.
#
# --adopt: for a .libtorch/ unpacked before source.json existed (older checkouts): fetch the
# pinned wheel as above and, if every file of its lib/ is byte-identical to .libtorch/lib/, record
# it in .libtorch/source.json (what npm pack needs to publish a prebuilt addon), without touching
# the rest (re-extracting would make every object file stale).
set -euo pipefail
ADOPT=0
[[ "${1:-}" == "--adopt" ]] && ADOPT=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.libtorch"
PIN="$ROOT/scripts/libtorch-pin.json"

say() { echo "[setup-libtorch] $*" >&2; }

is_libtorch_root() {
  [[ -f "$1/share/cmake/Torch/TorchConfig.cmake" && -d "$1/include/torch" && -d "$1/lib" ]]
}

if [[ -n "${LIBTORCH:-}" && "$ADOPT" == 0 ]]; then
  if is_libtorch_root "$LIBTORCH"; then
    say "using LIBTORCH=$LIBTORCH (set in the environment)"
    echo "$(cd "$LIBTORCH" && pwd)"
    exit 0
  fi
  say "LIBTORCH=$LIBTORCH is not a libtorch root: expected share/cmake/Torch/TorchConfig.cmake, include/torch and lib/ inside it."
  say "Point it at a libtorch folder or at the torch/ folder of an installed PyTorch."
  exit 1
fi

if [[ "$ADOPT" == 1 ]] && ! is_libtorch_root "$DEST"; then
  say "--adopt: there is no $DEST to adopt"
  exit 1
fi
if is_libtorch_root "$DEST" && [[ "$ADOPT" == 0 ]]; then
  say "using existing $DEST ($(cat "$DEST/VERSION" 2>/dev/null || echo 'version unknown'))"
  echo "$DEST"
  exit 0
fi

command -v python3 >/dev/null || { say "python3 (with pip) is needed to fetch and unpack the libtorch wheel; or set LIBTORCH to an existing libtorch."; exit 1; }
pin() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(v) if isinstance(v, list) else v)' "$PIN" "$1"; }
PIN_VERSION="$(pin version)"
TORCH_VERSION="${DOC_ANON_TORCH_VERSION:-$PIN_VERSION}"
CACHE="${DOC_ANON_CACHE:-${DOC_ANON_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/doc-anon-torch}}/libtorch"

sha256_of() { python3 -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# pip download into $TMP/dl; $@ are the extra arguments. Output goes to stderr (pip is chatty).
pip_download() {
  # shellcheck disable=SC2086
  python3 -m pip download --no-deps --retries 0 --only-binary=:all: -d "$TMP/dl" "$@" ${DOC_ANON_PIP_ARGS:-} >&2
}

if [[ "$TORCH_VERSION" == "$PIN_VERSION" ]]; then
  WHEEL_NAME="$(pin wheel)"
  WANT="$(pin sha256)"
  WHEEL=""
  verified() { [[ -f "$1" && "$(sha256_of "$1")" == "$WANT" ]]; }
  if [[ -n "${DOC_ANON_LIBTORCH_WHEEL:-}" ]]; then
    verified "$DOC_ANON_LIBTORCH_WHEEL" || { say "DOC_ANON_LIBTORCH_WHEEL=$DOC_ANON_LIBTORCH_WHEEL is not $WHEEL_NAME (sha256 $WANT)."; exit 1; }
    WHEEL="$DOC_ANON_LIBTORCH_WHEEL"
    say "using $WHEEL (DOC_ANON_LIBTORCH_WHEEL, sha256 verified)"
  elif verified "$CACHE/$WHEEL_NAME"; then
    WHEEL="$CACHE/$WHEEL_NAME"
    say "using the cached $WHEEL (sha256 verified)"
  else
    if ! python3 -m pip --version >/dev/null 2>&1; then
      say "python3 has no pip to fetch $WHEEL_NAME with. Install it (Debian/Ubuntu: apt-get install python3-pip),"
      say "or download the wheel yourself ($(pin fallbackIndex)/torch/) and pass DOC_ANON_LIBTORCH_WHEEL=/path/to/$WHEEL_NAME."
      exit 1
    fi
    # The platform tag is pinned, not this python3's, so every machine gets the same file.
    read -r -a PLATFORM_ARGS <<< "$(pin pipPlatform)"
    say "fetching $WHEEL_NAME with pip ${DOC_ANON_PIP_ARGS:+(extra args: $DOC_ANON_PIP_ARGS)}"
    if ! pip_download "${PLATFORM_ARGS[@]}" "torch==$TORCH_VERSION"; then
      FALLBACK="$(pin fallbackIndex)"
      if [[ -n "${DOC_ANON_PIP_ARGS:-}" ]]; then
        say "pip could not fetch torch==$TORCH_VERSION with DOC_ANON_PIP_ARGS='$DOC_ANON_PIP_ARGS'."
        say "Fixes: another index in DOC_ANON_PIP_ARGS, DOC_ANON_LIBTORCH_WHEEL=/path/to/$WHEEL_NAME, or LIBTORCH=/path/to/libtorch."
        exit 1
      fi
      say "pip's configured index has no torch==$TORCH_VERSION: trying again with $FALLBACK added"
      if ! pip_download "${PLATFORM_ARGS[@]}" --extra-index-url "$FALLBACK" "torch==$TORCH_VERSION"; then
        say "pip could not fetch torch==$TORCH_VERSION. Fixes: DOC_ANON_PIP_ARGS='--index-url <an index that has it>',"
        say "DOC_ANON_LIBTORCH_WHEEL=/path/to/$WHEEL_NAME (a copy of the wheel), or LIBTORCH=/path/to/libtorch."
        exit 1
      fi
    fi
    WHEEL="$TMP/dl/$WHEEL_NAME"
    [[ -f "$WHEEL" ]] || { say "pip did not produce $WHEEL_NAME (got: $(ls "$TMP/dl" | tr '\n' ' '))"; exit 1; }
    GOT="$(sha256_of "$WHEEL")"
    if [[ "$GOT" != "$WANT" ]]; then
      say "REFUSED: $WHEEL_NAME from pip has sha256 $GOT, the pin is $WANT. Nothing was unpacked."
      say "The index served other bytes under the pinned name: check it (DOC_ANON_PIP_ARGS) or pass a good copy in DOC_ANON_LIBTORCH_WHEEL."
      exit 1
    fi
    say "sha256 verified ($WANT)"
    # Keep it for the next install (another project, CI): copied beside, then renamed into place.
    if mkdir -p "$CACHE" 2>/dev/null && cp "$WHEEL" "$CACHE/.$WHEEL_NAME.$$" 2>/dev/null; then
      mv -f "$CACHE/.$WHEEL_NAME.$$" "$CACHE/$WHEEL_NAME"
      say "cached in $CACHE"
    else
      say "could not write the wheel cache $CACHE (not fatal)"
    fi
  fi
  SOURCE_JSON="{\"version\": \"$TORCH_VERSION\", \"wheel\": \"$WHEEL_NAME\", \"sha256\": \"$WANT\"}"
elif [[ "$ADOPT" == 1 ]]; then
  say "--adopt works with the pinned version only (DOC_ANON_TORCH_VERSION=$TORCH_VERSION)"
  exit 1
else
  say "DOC_ANON_TORCH_VERSION=$TORCH_VERSION is not the pinned $PIN_VERSION: fetching it for this python3, NOT verified (no pinned sha256)"
  if ! pip_download "torch==$TORCH_VERSION"; then
    say "pip could not fetch torch==$TORCH_VERSION. Fixes: point pip at an index that has it"
    say "(DOC_ANON_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu'), or set LIBTORCH to an existing libtorch."
    exit 1
  fi
  WHEEL="$(ls "$TMP"/dl/torch-*.whl | head -n1)"
  SOURCE_JSON="{\"version\": \"$TORCH_VERSION\", \"wheel\": \"$(basename "$WHEEL")\", \"sha256\": \"$(sha256_of "$WHEEL")\", \"pinned\": false}"
fi

if [[ "$ADOPT" == 1 ]]; then
  python3 - "$WHEEL" "$DEST" <<'PY' || exit 1
import os, sys, zipfile, zlib
wheel, dest = sys.argv[1], sys.argv[2]
def crc(path):
    c = 0
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            c = zlib.crc32(b, c)
    return c
with zipfile.ZipFile(wheel) as z:
    libs = [i for i in z.infolist() if i.filename.startswith("torch/lib/") and not i.is_dir() and i.filename != "torch/lib/libtorch_python.so"]
    for i in libs:
        p = os.path.join(dest, i.filename[len("torch/"):])
        if not os.path.isfile(p) or os.path.getsize(p) != i.file_size or crc(p) != i.CRC:
            sys.exit(f"[setup-libtorch] --adopt: {p} differs from the pinned wheel's {i.filename}: not adopted (move {dest} away and rebuild)")
print(f"[setup-libtorch] --adopt: the {len(libs)} files of lib/ match the pinned wheel", file=sys.stderr)
PY
  echo "$SOURCE_JSON" > "$DEST/source.json"
  say "recorded $DEST/source.json"
  echo "$DEST"
  exit 0
fi

say "unpacking lib/ include/ share/ of $(basename "$WHEEL") into $DEST"
python3 - "$WHEEL" "$TMP/unpacked" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
# libtorch_python.so needs libpython and is never loaded by the addon or the harness.
skip = ("torch/lib/libtorch_python.so",)
with zipfile.ZipFile(wheel) as z:
    for m in z.namelist():
        if m.startswith(("torch/lib/", "torch/include/", "torch/share/")) and m not in skip:
            z.extract(m, out)
PY
rm -rf "$DEST.partial"
mv "$TMP/unpacked/torch" "$DEST.partial"
echo "$TORCH_VERSION" > "$DEST.partial/VERSION"
# What this libtorch is, for the prebuilt addon's check (src/native/prebuilt.ts).
echo "$SOURCE_JSON" > "$DEST.partial/source.json"
# Rename last so an interrupted setup never leaves a half-extracted .libtorch behind.
mv "$DEST.partial" "$DEST"
say "libtorch $TORCH_VERSION ready in $DEST"
echo "$DEST"
