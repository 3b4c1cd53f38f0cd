#!/usr/bin/env bash
# Retrains DiffUTE small from scratch (docs/training.md, "DiffUTE small") and evaluates it on the
# held-out set: stage 1 the factor-2 VAE, stage 2 the UNet with glyph-aligned conditioning, then
# `doc-anon eval unet` on 200 held-out lines (names, IBANs, amounts, dates). Times on one CPU core:
# docs/training.md. Outputs under runs/ (git-ignored).
#   scripts/train-diffute-small.sh            # glyph-aligned (the shipped recipe; compare with assets/models/diffute-small/README.md)
#   CONFIG=configs/training/diffute-small-xattn.yaml scripts/train-diffute-small.sh   # cross-attention only
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${CONFIG:-configs/training/diffute-small.yaml}"
CLI=(node -r ./bench/register-ts.js src/cli/main.ts)
[ -f lib/cli/main.js ] && [ -z "${FROM_SOURCE:-}" ] && CLI=(node lib/cli/main.js)

VAE=runs/diffute-small-vae/checkpoints/step-00002000/ema_vae
if [ ! -d "$VAE" ]; then
  "${CLI[@]}" train-vae --config configs/training/diffute-small-vae.yaml
fi
# The UNet's noise schedule assumes unit-variance latents: scaling_factor = 1 / std of this VAE's
# latents on held-out crops (as SD's 0.18215 was measured for its VAE). Idempotent.
"${CLI[@]}" eval vae --model "$VAE" --data synthetic:77 --limit 64 --crop-size 64 --set-scaling-factor --out runs/diffute-small-vae/latent-eval
"${CLI[@]}" train-unet --config "$CONFIG"
OUT="$(sed -n 's/^output_dir: *//p' "$CONFIG")"
CKPT="$(ls -d "$OUT"/checkpoints/step-* | sort | tail -1)"
# The shipped layout: a self-contained pipeline with the EMA UNet (assets/models/diffute-small is one).
rm -rf "$OUT/pipeline"
"${CLI[@]}" models assemble --unet "$CKPT" --ema --vae "$VAE" --glyph-encoder "$CKPT/glyph_encoder" --scheduler "$CKPT/scheduler" --out "$OUT/pipeline" > "$OUT/assemble.json"
[ -d runs/heldout ] || node -r ./bench/register-ts.js scripts/make-diffute-heldout.ts runs/heldout 200 9001
"${CLI[@]}" eval unet --model "$OUT/pipeline" --data runs/heldout --limit 200 --steps 20 --out "$OUT/eval-heldout"
cat "$OUT/eval-heldout/report.md"
echo "shipped model (assets/models/diffute-small/metrics.json): held-out OCR char accuracy $(node -p 'require("./assets/models/diffute-small/metrics.json").heldout.ocr_char_acc')"
