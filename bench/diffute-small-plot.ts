/**
 * Curves of DiffUTE small runs (docs/training.md, "DiffUTE small") from their metrics.jsonl: the
 * training loss (moving mean over 50 steps) and the evaluations' OCR character accuracy, one line
 * per run, with @napi-rs/canvas.
 *
 *   node -r ./bench/register-ts.js bench/diffute-small-plot.ts OUT.png NAME=RUN_DIR [NAME=RUN_DIR ...]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';

const [output, ...specs] = process.argv.slice(2);
if (!output || specs.length === 0) {
  process.stderr.write('usage: diffute-small-plot.ts OUT.png NAME=RUN_DIR ...\n');
  process.exit(2);
}
type Row = { step: number; loss?: number; group?: string; ocr_char_acc?: number };
const runs = specs.map((s) => {
  const [name, dir] = s.split('=');
  const rows = fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  const train = rows.filter((r) => r.group === undefined && typeof r.loss === 'number');
  const smooth = train.map((r, i) => {
    const w = train.slice(Math.max(0, i - 49), i + 1);
    return { step: r.step, v: w.reduce((a, b) => a + (b.loss as number), 0) / w.length };
  });
  const evals = rows.filter((r) => r.group === 'eval' && typeof r.ocr_char_acc === 'number').map((r) => ({ step: r.step, v: r.ocr_char_acc as number }));
  return { name, smooth, evals };
});
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
const PW = 520;
const PH = 300;
const M = { l: 64, r: 16, t: 32, b: 40 };
const canvas = createCanvas(2 * PW, PH + 40);
const ctx = canvas.getContext('2d');
ctx.fillStyle = '#fff';
ctx.fillRect(0, 0, 2 * PW, PH + 40);
const panels = [
  { title: 'training loss (eps MSE, mean of 50 steps), log', get: (r: (typeof runs)[number]) => r.smooth, log: true },
  { title: 'eval OCR character accuracy (16 lines)', get: (r: (typeof runs)[number]) => r.evals, log: false },
];
panels.forEach((p, pi) => {
  const ox = pi * PW;
  const pts = runs.flatMap((r) => p.get(r));
  if (pts.length === 0) return;
  const f = (v: number): number => (p.log ? Math.log10(Math.max(v, 1e-6)) : v);
  const xs = pts.map((q) => q.step);
  const ys = pts.map((q) => f(q.v));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  const X = (x: number): number => ox + M.l + ((x - x0) / Math.max(1, x1 - x0)) * (PW - M.l - M.r);
  const Y = (y: number): number => M.t + (1 - (f(y) - y0) / (y1 - y0)) * (PH - M.t - M.b);
  ctx.strokeStyle = '#000';
  ctx.strokeRect(ox + M.l, M.t, PW - M.l - M.r, PH - M.t - M.b);
  ctx.fillStyle = '#000';
  ctx.font = '13px sans-serif';
  ctx.fillText(p.title, ox + M.l, 20);
  ctx.font = '11px sans-serif';
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4;
    const label = p.log ? (10 ** yv).toPrecision(2) : yv.toFixed(3);
    ctx.fillText(label, ox + 4, M.t + (1 - k / 4) * (PH - M.t - M.b) + 4);
    const xv = x0 + ((x1 - x0) * k) / 4;
    ctx.fillText(String(Math.round(xv)), X(xv) - 10, PH - M.b + 16);
  }
  runs.forEach((r, ri) => {
    const q = p.get(r);
    ctx.strokeStyle = COLORS[ri % COLORS.length];
    ctx.fillStyle = COLORS[ri % COLORS.length];
    ctx.beginPath();
    q.forEach((pt, i) => (i ? ctx.lineTo(X(pt.step), Y(pt.v)) : ctx.moveTo(X(pt.step), Y(pt.v))));
    ctx.stroke();
    for (const pt of q) ctx.fillRect(X(pt.step) - 2, Y(pt.v) - 2, 4, 4);
  });
});
runs.forEach((r, ri) => {
  ctx.fillStyle = COLORS[ri % COLORS.length];
  ctx.fillRect(M.l + ri * 260, PH + 14, 14, 10);
  ctx.fillStyle = '#000';
  ctx.font = '12px sans-serif';
  ctx.fillText(r.name, M.l + ri * 260 + 20, PH + 24);
});
fs.writeFileSync(output, canvas.toBuffer('image/png'));
