#!/usr/bin/env bash
# npm's prepack step: puts the Linux x64 addon and the C++ harness, built against the pinned
# libtorch wheel, into prebuilt/ (the layout of build/, so their relative rpath finds .libtorch/
# from there too) with prebuilt/manifest.json, which the install step and the loader check
# (src/native/prebuilt.ts). Refuses anything else: a build against another LIBTORCH or an
# unverified .libtorch must not be published as the prebuilt addon. postpack removes prebuilt/.
# Env: DOC_ANON_SKIP_PREBUILD=1 packs without a prebuilt addon (every install then builds from source).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "[prebuild] $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
rm -rf prebuilt prebuilt.partial
if [[ "${DOC_ANON_SKIP_PREBUILD:-}" == "1" ]]; then
  say "DOC_ANON_SKIP_PREBUILD=1: packing without a prebuilt addon"
  exit 0
fi
[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || fail "the prebuilt addon is made on Linux x64 only (this is $(uname -s)-$(uname -m)); DOC_ANON_SKIP_PREBUILD=1 packs without it"
[[ -z "${LIBTORCH:-}" ]] || fail "LIBTORCH is set: the prebuilt addon is linked against the pinned CPU libtorch in .libtorch/ only (unset LIBTORCH)"
NODE="${npm_node_execpath:-node}"
PIN_SHA="$("$NODE" -p 'require("./scripts/libtorch-pin.json").sha256')"
have_sha() { "$NODE" -p 'try { require("./.libtorch/source.json").sha256 } catch { "" }' 2>/dev/null || true; }
# A .libtorch unpacked before source.json existed: check it against the pinned wheel and record it.
if [[ -d .libtorch && ! -f .libtorch/source.json ]]; then bash scripts/setup-libtorch.sh --adopt >/dev/null; fi
HAVE_SHA="$(have_sha)"
if [[ -d .libtorch && "$HAVE_SHA" != "$PIN_SHA" ]]; then
  fail ".libtorch/ is not the pinned wheel (its source.json says sha256 '${HAVE_SHA:-none}', the pin is $PIN_SHA): move it away and run npm run build:native, then pack again"
fi
# The regular incremental build (a no-op when build/ is current), against the pinned wheel.
bash scripts/build-native.sh
BUILT_WITH="$(sed -n 's/^LIBTORCH:[A-Z]*=//p' build/CMakeCache.txt)"
[[ "$(realpath "$BUILT_WITH")" == "$(realpath .libtorch)" ]] || fail "build/ was configured with LIBTORCH=$BUILT_WITH, not .libtorch/: remove build/ and pack again"
[[ "$(grep -c '^CMAKE_BUILD_TYPE:STRING=Release$' build/CMakeCache.txt)" == 1 ]] || fail "build/ is not a Release build"
runpath() { readelf -d "$1" | sed -n 's/.*Library runpath: \[\(.*\)\]/\1/p'; }
[[ "$(runpath build/Release/docanon.node)" == '$ORIGIN/../../.libtorch/lib' ]] || fail "the addon's rpath is '$(runpath build/Release/docanon.node)', not relative to .libtorch/"
[[ "$(runpath build/docanon_harness)" == '$ORIGIN/../.libtorch/lib' ]] || fail "the harness's rpath is '$(runpath build/docanon_harness)', not relative to .libtorch/"

mkdir -p prebuilt.partial/Release
cp build/Release/docanon.node prebuilt.partial/Release/docanon.node
cp build/docanon_harness prebuilt.partial/docanon_harness
# Symbol tables are not needed to load or run them; a smaller tarball is.
strip --strip-unneeded prebuilt.partial/Release/docanon.node prebuilt.partial/docanon_harness
GLIBC="$(objdump -T prebuilt.partial/Release/docanon.node prebuilt.partial/docanon_harness | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)"
NAPI="$(sed -n 's/.*NAPI_VERSION=\([0-9]*\).*/\1/p' CMakeLists.txt | head -n1)"
[[ -n "$GLIBC" && -n "$NAPI" ]] || fail "could not read the glibc or Node-API version the addon needs"
"$NODE" - "$GLIBC" "$NAPI" <<'JS'
const fs = require('node:fs');
const crypto = require('node:crypto');
const [glibc, napi] = process.argv.slice(2);
const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const src = JSON.parse(fs.readFileSync('.libtorch/source.json', 'utf8'));
const addon = require('./prebuilt.partial/Release/docanon.node');
addon.init(class E extends Error {});
const manifest = {
  platform: 'linux',
  arch: 'x64',
  napi: Number(napi),
  glibc,
  libtorch: { version: src.version, wheel: src.wheel, sha256: src.sha256 },
  gloo: addon.info().gloo,
  files: { 'Release/docanon.node': sha('prebuilt.partial/Release/docanon.node'), docanon_harness: sha('prebuilt.partial/docanon_harness') },
};
fs.writeFileSync('prebuilt.partial/manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
JS
mv prebuilt.partial prebuilt
say "ok: prebuilt/ (libtorch $(cat .libtorch/VERSION), glibc >= $GLIBC, Node-API $NAPI; $(du -sh prebuilt | cut -f1))"
