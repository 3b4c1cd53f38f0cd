/**
 * Renders bench/vae-recipe.ts's results.json as a PNG (four panels against the step: validation
 * PSNR, SSIM, LPIPS and the latent std; one line per run), with @napi-rs/canvas.
 *
 *   node -r ./bench/register-ts.js bench/vae-recipe-plot.ts RESULTS.json OUT.png [RUN,RUN...]
 *
 * The optional third argument keeps the runs whose names start with one of the given prefixes.
 */
import * as fs from 'node:fs';
import { createCanvas } from '@napi-rs/canvas';

interface Point {
  step: number;
  psnr: number;
  ssim: number;
  lpips: number | null;
  latentStd: number;
}

const [input, output, only] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: vae-recipe-plot.ts RESULTS.json OUT.png\n');
  process.exit(2);
}
const results = JSON.parse(fs.readFileSync(input, 'utf8')) as Record<string, { curve: Point[] }>;
const runs = Object.entries(results).filter(([name]) => !only || only.split(',').some((o) => name.startsWith(o)));
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const panels: Array<{ title: string; get: (p: Point) => number | null; log?: boolean }> = [
  { title: 'validation PSNR (dB)', get: (p) => p.psnr },
  { title: 'validation SSIM', get: (p) => p.ssim },
  { title: 'validation LPIPS (fixture VGG trunk)', get: (p) => p.lpips },
  { title: 'latent std (posterior means)', get: (p) => p.latentStd, log: true },
];

const PW = 520;
const PH = 300;
const M = { l: 64, r: 16, t: 32, b: 40 };
const LEGEND = 22 * Math.ceil(runs.length / 2) + 16;
const canvas = createCanvas(2 * PW, 2 * PH + LEGEND);
const ctx = canvas.getContext('2d');
ctx.fillStyle = '#ffffff';
ctx.fillRect(0, 0, canvas.width, canvas.height);

panels.forEach((panel, k) => {
  const ox = (k % 2) * PW;
  const oy = Math.floor(k / 2) * PH;
  const pts = runs.flatMap(([, r]) => r.curve.map((p) => ({ s: p.step, v: panel.get(p) }))).filter((p): p is { s: number; v: number } => p.v !== null && Number.isFinite(p.v));
  if (pts.length === 0) return;
  const tf = (v: number): number => (panel.log ? Math.log10(v) : v);
  const xs = pts.map((p) => p.s);
  const vs = pts.map((p) => tf(p.v));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...vs), Math.max(...vs)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.06;
  y0 -= pad;
  y1 += pad;
  const X = (s: number): number => ox + M.l + ((s - x0) / Math.max(1, x1 - x0)) * (PW - M.l - M.r);
  const Y = (v: number): number => oy + PH - M.b - ((tf(v) - y0) / (y1 - y0)) * (PH - M.t - M.b);
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 1;
  ctx.strokeRect(ox + M.l, oy + M.t, PW - M.l - M.r, PH - M.t - M.b);
  ctx.fillStyle = '#000';
  ctx.font = '14px sans-serif';
  ctx.fillText(panel.title + (panel.log ? ' (log scale)' : ''), ox + M.l, oy + 20);
  ctx.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const tv = y0 + ((y1 - y0) * i) / 4;
    const v = panel.log ? 10 ** tv : tv;
    const y = oy + PH - M.b - ((tv - y0) / (y1 - y0)) * (PH - M.t - M.b);
    ctx.fillText(Math.abs(v) < 0.1 ? v.toExponential(1) : v.toFixed(Math.abs(v) < 10 ? 3 : 1), ox + 4, y + 4);
    ctx.strokeStyle = '#eee';
    ctx.beginPath();
    ctx.moveTo(ox + M.l + 1, y);
    ctx.lineTo(ox + PW - M.r - 1, y);
    ctx.stroke();
  }
  for (let i = 0; i <= 4; i++) {
    const s = x0 + ((x1 - x0) * i) / 4;
    ctx.fillText(String(Math.round(s)), X(s) - 8, oy + PH - M.b + 14);
  }
  ctx.fillText('step', ox + PW / 2, oy + PH - 8);
  runs.forEach(([, r], j) => {
    ctx.strokeStyle = COLORS[j % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    for (const p of r.curve) {
      const v = panel.get(p);
      if (v === null || !Number.isFinite(v)) continue;
      if (started) ctx.lineTo(X(p.step), Y(v));
      else ctx.moveTo(X(p.step), Y(v));
      started = true;
    }
    ctx.stroke();
  });
});

ctx.font = '13px sans-serif';
runs.forEach(([name], j) => {
  const x = 16 + (j % 2) * PW;
  const y = 2 * PH + 16 + 22 * Math.floor(j / 2);
  ctx.fillStyle = COLORS[j % COLORS.length];
  ctx.fillRect(x, y - 9, 24, 4);
  ctx.fillStyle = '#000';
  ctx.fillText(name, x + 32, y - 3);
});

fs.writeFileSync(output, canvas.toBuffer('image/png'));
process.stderr.write(`wrote ${output}\n`);
