#!/usr/bin/env bash
# Retrains DiffUTE small from scratch (docs/training.md, "DiffUTE small") and evaluates it on the
# held-out set: stage 1 the factor-2 VAE, stage 2 the UNet with glyph-aligned conditioning, then
# `doc-anon eval unet` on 200 held-out lines (names, IBANs, amounts, dates). About 20 minutes on
# one CPU core. Outputs under runs/ (git-ignored).
#   scripts/train-diffute-small.sh            # glyph-aligned (the shipped recipe)
#   CONFIG=configs/training/diffute-small-xattn.yaml scripts/train-diffute-small.sh   # cross-attention only
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${CONFIG:-configs/training/diffute-small.yaml}"
CLI=(node -r ./bench/register-ts.js src/cli/main.ts)
[ -f lib/cli/main.js ] && [ -z "${FROM_SOURCE:-}" ] && CLI=(node lib/cli/main.js)

if [ ! -d runs/diffute-small-vae/checkpoints/step-00001500/ema_vae ]; then
  "${CLI[@]}" train-vae --config configs/training/diffute-small-vae.yaml
fi
"${CLI[@]}" train-unet --config "$CONFIG"
OUT="$(sed -n 's/^output_dir: *//p' "$CONFIG")"
CKPT="$(ls -d "$OUT"/checkpoints/step-* | sort | tail -1)"
[ -d runs/heldout ] || node -r ./bench/register-ts.js scripts/make-diffute-heldout.ts runs/heldout 200 9001
"${CLI[@]}" eval unet --model "$CKPT" --data runs/heldout --limit 200 --steps 20 --out "$OUT/eval-heldout"
cat "$OUT/eval-heldout/report.md"
