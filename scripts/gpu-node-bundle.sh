#!/usr/bin/env bash
# Packs what scripts/gpu-node-check.sh needs on a GPU machine that has a CUDA PyTorch but no Node.js
# and no network (the lent device machines): this machine's Node binary, the Node-API headers, the
# npm packages that the commands the check runs actually load (traced, not guessed), and a test
# page for a diffute anonymize with the tiny fixture models.
#   scripts/gpu-node-bundle.sh          -> .device-node/ (about 45 MB; carry it with lib/ and the
#                                          fixtures: ~62 MB with the tree, under the 64 MiB limit)
# Run it after `npm ci` (the addon built for this machine); it recompiles lib/. Env: DOC_ANON_FIXTURES.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FIX="${DOC_ANON_FIXTURES:-$ROOT/test/fixtures}"
OUT="$ROOT/.device-node"
WORK="$OUT.partial"
[[ -d node_modules/typescript ]] || { echo "node_modules is missing: run npm ci first" >&2; exit 1; }
# lib/ travels with the bundle: compile it now so the device runs this tree's code, not a stale build.
node node_modules/typescript/bin/tsc -p tsconfig.build.json
[[ -d "$FIX/unet" ]] || { echo "fixtures not found at $FIX (set DOC_ANON_FIXTURES)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/include/node" "$WORK/page"

NODE_BIN="$(readlink -f "$(command -v node)")"
echo "[bundle] node $(node --version) from $NODE_BIN"
xz -T0 -6 -c "$NODE_BIN" > "$WORK/node.xz"

# Node-API headers only: the addon uses no V8 or libuv API (that is what keeps it ABI-stable).
HEADERS=""
for d in "$(dirname "$(dirname "$NODE_BIN")")/include/node" /usr/include/node "$HOME/.cmake-js/node-x64/$(node --version)/include/node"; do
  [[ -f "$d/node_api.h" ]] && { HEADERS="$d"; break; }
done
[[ -n "$HEADERS" ]] || { echo "node_api.h not found (looked beside $NODE_BIN and in /usr/include/node)" >&2; exit 1; }
cp "$HEADERS"/{node_api.h,node_api_types.h,js_native_api.h,js_native_api_types.h} "$WORK/include/node/"

# A page with regions to replace (the models are the fixtures', carried beside the bundle).
node -e '
  const fs = require("node:fs");
  const { generateDocument } = require("./lib/training/synthetic");
  generateDocument({ seed: 3, kind: "invoice", width: 512, height: 384 }).then((doc) => {
    fs.writeFileSync(process.argv[1] + "/page.png", doc.png);
    const regions = doc.annotation.entities.slice(0, 3).map((e, i) => ({ box: e.box, replacement: ["Acme Trading Ltd", "12 Harbour Road", "1011 Amsterdam"][i] }));
    fs.writeFileSync(process.argv[1] + "/regions.json", JSON.stringify(regions));
  });
' "$WORK/page"

# Which packages the check's commands load: run each once here on the CPU with a require tracer.
TRACE="$WORK/packages.txt"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
# The diffute engine's folder layout over the fixture models (as gpu-node-check.sh builds it).
mkdir -p "$SCRATCH/pipeline"
ln -s "$FIX/unet" "$SCRATCH/pipeline/unet"
ln -s "$FIX/vae" "$SCRATCH/pipeline/vae"
run_traced() { TRACE_PACKAGES_OUT="$TRACE" DOC_ANON_LOG_LEVEL=warn node -r ./scripts/lib/trace-packages.cjs lib/cli/main.js "$@" >/dev/null; }
run_traced info --json
run_traced train-vae --config configs/training/vae.local.yaml --max-steps 1 --out "$SCRATCH/vae"
run_traced train-unet --config configs/training/unet.local.yaml --max-steps 1 --out "$SCRATCH/unet"
run_traced anonymize "$WORK/page/page.png" --out "$SCRATCH/out.png" --regions "$WORK/page/regions.json" --engine diffute \
  --model "$SCRATCH/pipeline" --glyph-encoder "$FIX/glyph_encoder" --steps 2 --no-verify
echo node-addon-api >> "$TRACE"  # the addon build reads its headers
sort -u -o "$TRACE" "$TRACE"
echo "[bundle] $(wc -l < "$TRACE") npm packages"
tar -C node_modules -cf - $(cat "$TRACE") | xz -T0 -6 -c > "$WORK/node_modules.tar.xz"

rm -rf "$OUT"
mv "$WORK" "$OUT"
du -sh "$OUT" lib
echo "[bundle] ok: carry [\".device-node\", \"lib\", <fixtures copy>] and run: DOC_ANON_FIXTURES=<it> bash scripts/gpu-node-check.sh \$OUT/node"
