#!/usr/bin/env bash
# The Node side of the CUDA path, for a GPU machine with a CUDA PyTorch but no Node.js and no
# network (scripts/gpu-check.sh covers the native core through the C++ harness):
#   scripts/gpu-node-check.sh OUT_DIR
# Needs .device-node/ (made here by scripts/gpu-node-bundle.sh), lib/ and the fixtures (for the
# tiny models), carried with the run. Builds in build-gpu/ as gpu-check.sh does: run after it, only
# the addon's own files compile.
# Unpacks the bundled Node and npm packages, builds the addon against python3's PyTorch with the
# bundled Node-API headers (cmake, no cmake-js), then runs the `doc-anon` CLI on the device:
#   1. info: the addon was built with CUDA and sees the GPU;
#   2. train-vae and train-unet (local configs, bf16 autocast on CUDA): finite losses, the weights
#      on the GPU (the CLI logs weightsOn), a final checkpoint; train-vae resumed from it goes on
#      from the right step;
#   3. SIGINT during training: a checkpoint of the last step, exit 130;
#   4. with 2+ GPUs, train-vae --nproc 2 over NCCL (checkpoint says 2 ranks); skipped with one;
#   5. anonymize with the diffute engine (tiny fixture models): a changed page and a report.
# Writes node-check.log into OUT_DIR; exits non-zero when a step fails or no GPU is present.
# Env: LIBTORCH (default: python3's torch/), DOC_ANON_FIXTURES (default test/fixtures),
# DOC_ANON_DEVICE_NODE (the bundle, default .device-node), JOBS,
# ANON_STEPS (sampling steps in 5.),
# DOC_ANON_CHECK_DEVICE=cpu to run the same steps on the CPU (how the bundle is tested on a machine
# without a GPU; LIBTORCH must then be set).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/check-log.sh" node-check.log "$@"
DEV="${DOC_ANON_CHECK_DEVICE:-cuda}"
BUNDLE="${DOC_ANON_DEVICE_NODE:-$ROOT/.device-node}"

step "device ($DEV)"
if [[ "$DEV" == cuda ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L || { echo "FAIL: no NVIDIA GPU visible (nvidia-smi)"; exit 2; }
  LIBTORCH="${LIBTORCH:-$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')}"
elif [[ "$DEV" != cpu ]]; then
  echo "FAIL: DOC_ANON_CHECK_DEVICE must be cuda or cpu, got $DEV"; exit 2
fi
[[ -n "${LIBTORCH:-}" && -d "$LIBTORCH/include" ]] || { echo "FAIL: LIBTORCH (a libtorch root or PyTorch's torch/) not found: ${LIBTORCH:-unset}"; exit 2; }
[[ -f "$BUNDLE/node.xz" && -f lib/cli/main.js ]] || { echo "FAIL: no Node bundle at $BUNDLE or no lib/: carry .device-node and lib (made by scripts/gpu-node-bundle.sh)"; exit 2; }
FIX="${DOC_ANON_FIXTURES:-$ROOT/test/fixtures}"
[[ -d "$FIX/unet" && -d "$FIX/vae" && -d "$FIX/glyph_encoder" ]] || { echo "FAIL: fixtures not found at $FIX (set DOC_ANON_FIXTURES)"; exit 2; }

step "unpack Node and the npm packages"
BUILD="$ROOT/build-gpu"
# Node goes into the (ignored, never carried) build folder: the bundle stays its carried size.
NODE_BIN="$BUILD/node-bin"
mkdir -p "$NODE_BIN"
python3 - "$BUNDLE" "$NODE_BIN" <<'PY' || { echo "FAIL: unpack"; exit 1; }
import lzma, os, shutil, sys, tarfile
b = sys.argv[1]
node = os.path.join(sys.argv[2], "node")
if not os.path.exists(node):
    with lzma.open(os.path.join(b, "node.xz")) as src, open(node + ".partial", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chmod(node + ".partial", 0o755)
    os.replace(node + ".partial", node)
if not os.path.isdir("node_modules"):
    with tarfile.open(os.path.join(b, "node_modules.tar.xz")) as t:
        # The bundle was made by our own script; the filter still refuses links or paths out of the folder.
        kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        t.extractall("node_modules.partial", **kw)
    os.replace("node_modules.partial", "node_modules")
PY
export PATH="$NODE_BIN:$PATH"
echo "node $(node --version) at $(command -v node); $(ls node_modules | wc -l) packages"

step "build the addon against $LIBTORCH (Node-API headers from the bundle)"
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DLIBTORCH="$LIBTORCH" -DCMAKE_JS_INC="$BUNDLE/include/node" || { echo "FAIL: cmake configure"; exit 1; }
cmake --build "$BUILD" --target docanon -j "$JOBS" || { echo "FAIL: addon build"; exit 1; }
ADDON="$(find "$BUILD" -name docanon.node | head -n1)"
export DOC_ANON_NATIVE="$ADDON"
echo "addon: $ADDON"
CLI=(node "$ROOT/lib/cli/main.js")
# Asserts a JavaScript condition over a JSON value ($1: the condition on `j`, $2: JSON text).
assert_json() { node -e 'const j = JSON.parse(process.argv[2]); if (!(eval(process.argv[1]))) { console.error("assertion failed: " + process.argv[1]); process.exit(1); }' "$1" "$2"; }
# Summary of a run's metrics.jsonl: steps, first/last step, all finite, none skipped, loss first/last 5.
metrics() {
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const mean = (a) => a.reduce((s, r) => s + r.loss, 0) / a.length;
    console.log(JSON.stringify({ steps: rows.length, first: rows[0].step, last: rows.at(-1).step, finite: rows.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)),
      skipped: rows.filter((r) => r.skipped).length, lossFirst: mean(rows.slice(0, 5)), lossLast: mean(rows.slice(-5)) }));' "$1"
}
# The "starting" log line of a training run (JSON logs: stdout is not a TTY).
start_line() { grep -m1 '"msg":"train-[a-z]*: starting at step' "$1"; }

step "1. info"
INFO="$("${CLI[@]}" info --json)" && echo "$INFO" | head -c 400 && echo
if [[ "$DEV" == cuda ]]; then
  assert_json 'j.cuda.builtWithCuda && j.cuda.available && j.cuda.deviceCount >= 1' "$INFO" || record_fail "info: CUDA not usable from Node"
  GPUS="$(node -e 'console.log(JSON.parse(process.argv[1]).cuda.deviceCount)' "$INFO")"
else
  GPUS=0
fi

for KIND in vae unet; do
  step "2. train-$KIND on $DEV (30 steps)"
  D="$OUT/train-$KIND"
  rm -rf "$D"
  if "${CLI[@]}" "train-$KIND" --config "configs/training/$KIND.local.yaml" --device "$DEV" --max-steps 30 --out "$D" > "$OUT/train-$KIND.log" 2>&1; then
    M="$(metrics "$D/metrics.jsonl")"; echo "metrics: $M"
    echo "start: $(start_line "$OUT/train-$KIND.log" | grep -o '"weightsOn":"[^"]*","precision":"[^"]*"')"
    assert_json 'j.steps === 30 && j.finite && j.skipped === 0 && j.lossLast < j.lossFirst' "$M" || record_fail "train-$KIND metrics"
    WANT="$([[ "$DEV" == cuda ]] && echo 'cuda:0' || echo cpu)"
    start_line "$OUT/train-$KIND.log" | grep -q "\"weightsOn\":\"$WANT\"" || record_fail "train-$KIND: weights not on $WANT"
    [[ -d "$D/checkpoints/step-00000030" ]] || record_fail "train-$KIND: no final checkpoint"
  else
    tail -n 20 "$OUT/train-$KIND.log"; record_fail "train-$KIND exited non-zero"
  fi
done

step "2b. train-vae resumed on $DEV (30 -> 40)"
if "${CLI[@]}" train-vae --config configs/training/vae.local.yaml --device "$DEV" --max-steps 40 --out "$OUT/train-vae" --resume > "$OUT/train-vae-resume.log" 2>&1; then
  M="$(metrics "$OUT/train-vae/metrics.jsonl")"; echo "metrics: $M"
  assert_json 'j.steps === 40 && j.last === 40 && j.finite' "$M" || record_fail "resume metrics"
  grep -q '"msg":"train-vae: starting at step 30"' "$OUT/train-vae-resume.log" || record_fail "resume did not start at step 30"
else
  tail -n 20 "$OUT/train-vae-resume.log"; record_fail "resume exited non-zero"
fi

step "3. SIGINT during train-vae on $DEV"
D="$OUT/train-signal"
rm -rf "$D"
# (The config's 200 steps: --max-steps may only stop earlier; the signal lands after step 3.)
"${CLI[@]}" train-vae --config configs/training/vae.local.yaml --device "$DEV" --out "$D" > "$OUT/train-signal.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
  [[ -f "$D/metrics.jsonl" ]] && (( $(wc -l < "$D/metrics.jsonl") >= 3 )) && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.2
done
kill -INT "$PID" 2>/dev/null
wait "$PID"; CODE=$?
LAST="$(ls "$D/checkpoints" 2>/dev/null | tail -n1)"
echo "exit $CODE, last checkpoint ${LAST:-none}, $(wc -l < "$D/metrics.jsonl" 2>/dev/null) steps logged"
[[ "$CODE" == 130 && "$LAST" == "$(printf 'step-%08d' "$(wc -l < "$D/metrics.jsonl")")" ]] || record_fail "SIGINT: exit $CODE, checkpoint ${LAST:-none}"

step "4. data-parallel: train-vae --nproc 2 on $DEV"
if [[ "$DEV" == cuda && "$GPUS" -lt 2 ]]; then
  echo "skipped: NCCL needs one GPU per rank and this machine has $GPUS (the harness's dist.nccl ran 1 rank)"
else
  D="$OUT/train-dp"
  rm -rf "$D"
  if "${CLI[@]}" train-vae --config configs/training/vae.local.yaml --device "$DEV" --nproc 2 --max-steps 10 --out "$D" > "$OUT/train-dp.log" 2>&1; then
    META="$(cat "$D/checkpoints/step-00000010/trainer.json" 2>/dev/null || echo '{}')"
    assert_json 'j.worldSize === 2 && j.step === 10' "$META" || record_fail "nproc 2: checkpoint meta"
  else
    tail -n 20 "$OUT/train-dp.log"; record_fail "nproc 2 exited non-zero"
  fi
fi

ANON_STEPS="${ANON_STEPS:-10}"
step "5. anonymize --engine diffute on $DEV (tiny fixture models, $ANON_STEPS steps)"
P="$BUNDLE/page"
MODELS="$OUT/pipeline"  # the engine's folder layout over the fixture models
rm -rf "$MODELS" && mkdir -p "$MODELS" && ln -s "$FIX/unet" "$MODELS/unet" && ln -s "$FIX/vae" "$MODELS/vae"
if "${CLI[@]}" anonymize "$P/page.png" --out "$OUT/anonymized.png" --regions "$P/regions.json" --engine diffute --model "$MODELS" \
  --glyph-encoder "$FIX/glyph_encoder" --steps "$ANON_STEPS" --device "$DEV" --report "$OUT/anonymize-report.json" --no-verify > "$OUT/anonymize.log" 2>&1; then
  R="$(cat "$OUT/anonymize-report.json")"
  assert_json 'j.engine === "diffute" && j.pages[0].regions.length === 3' "$R" || record_fail "anonymize report"
  cmp -s "$P/page.png" "$OUT/anonymized.png" && record_fail "anonymize: output equals input"
else
  tail -n 20 "$OUT/anonymize.log"; record_fail "anonymize exited non-zero"
fi

step "summary"
if ((${#FAILED[@]})); then
  echo "FAILED: ${FAILED[*]}"
  exit 1
fi
echo "all Node checks passed on $DEV"
