/**
 * Text analysis for the classic engine: separates the box's pixels into background and ink
 * (contrast against the fitted background model, either polarity: dark on light or light on dark),
 * and measures the ink: colour (median of the strongest-contrast pixels, so antialiased edges do
 * not wash it out), extent, and baseline (the lowest row that is still dense: descenders are
 * sparse). Cost: O(box pixels).
 */
import type { DecodedImage } from '../../image-io';
import type { Rect } from '../../regions';
import { bgAt, luma, type BackgroundModel } from './background';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** What was measured of the original text inside a box. */
export interface InkAnalysis {
  /** True when ink was found. */
  found: boolean;
  /** -1 dark text on light background, +1 light on dark. */
  polarity: -1 | 1;
  color: [number, number, number];
  /** Ink extent relative to the box's top-left (x1, y1 exclusive); undefined when no ink. */
  left?: number;
  right?: number;
  top?: number;
  bottom?: number;
  /** Estimated baseline, px from the box top (ink rows above it are the body of the text). */
  baseline?: number;
  /** Typical horizontal stroke width in px (undefined when no ink). */
  stroke?: number;
  /** Ink pixels counted. */
  pixels: number;
}

/** Analyses the ink inside `rect` against the background model `bg`. */
export function analyseInk(image: DecodedImage, rect: Rect, bg: BackgroundModel): InkAnalysis {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const ch = image.channels;
  const d = image.data;
  const sigmaY = M.hypot(bg.sigma[0] * 0.299, bg.sigma[1] * 0.587, bg.sigma[2] * 0.114) * 1.7;
  const thr = M.max(28, 4 * sigmaY);
  const diff = new Float32Array(w * h);
  let neg = 0;
  let pos = 0;
  let meanBg = 0;
  for (let y = 0; y < h; y++) {
    const py = rect.y0 + y;
    let i = (py * image.width + rect.x0) * ch;
    for (let x = 0; x < w; x++, i += ch) {
      const px = rect.x0 + x;
      const b = luma(bgAt(bg, 0, px, py), bgAt(bg, 1, px, py), bgAt(bg, 2, px, py));
      meanBg += b;
      const v = luma(d[i], d[i + 1], d[i + 2]) - b;
      diff[y * w + x] = v;
      if (v <= -thr) neg -= v;
      else if (v >= thr) pos += v;
    }
  }
  meanBg /= w * h;
  const polarity: -1 | 1 = neg > 0 || pos > 0 ? (neg >= pos ? -1 : 1) : meanBg > 128 ? -1 : 1;
  const rows = new Uint32Array(h);
  const cols = new Uint32Array(w);
  let count = 0;
  let maxAbs = 0;
  for (let j = 0; j < w * h; j++) {
    const v = diff[j] * polarity;
    if (v >= thr) {
      rows[(j / w) | 0]++;
      cols[j % w]++;
      count++;
      if (v > maxAbs) maxAbs = v;
    }
  }
  const fallback: [number, number, number] = polarity < 0 ? [20, 20, 20] : [240, 240, 240];
  if (count < 4) return { found: false, polarity, color: fallback, pixels: count };

  // Colour: per-channel median of the pixels with the strongest contrast (top part of the ink).
  const strong = M.max(thr, 0.6 * maxAbs);
  const vals: number[][] = [[], [], []];
  for (let y = 0; y < h; y++) {
    let i = ((rect.y0 + y) * image.width + rect.x0) * ch;
    for (let x = 0; x < w; x++, i += ch) {
      if (diff[y * w + x] * polarity >= strong) for (let k = 0; k < 3; k++) vals[k].push(d[i + k]);
    }
  }
  const med = (a: number[]): number => {
    a.sort((p, q) => p - q);
    return a[a.length >> 1];
  };
  const color: [number, number, number] = vals[0].length > 0 ? [med(vals[0]), med(vals[1]), med(vals[2])] : fallback;

  let maxRow = 0;
  for (let y = 0; y < h; y++) if (rows[y] > maxRow) maxRow = rows[y];
  const rowMin = M.max(1, M.ceil(0.05 * maxRow));
  let top = 0;
  while (top < h && rows[top] < rowMin) top++;
  let bottom = h;
  while (bottom > top && rows[bottom - 1] < rowMin) bottom--;
  let base = bottom;
  const dense = 0.45 * maxRow;
  while (base > top + 1 && rows[base - 1] < dense) base--;
  let left = 0;
  while (left < w && cols[left] === 0) left++;
  let right = w;
  while (right > left && cols[right - 1] === 0) right--;
  // Stroke width: 30th percentile of the horizontal ink run lengths in the body rows (bold text has wider stems).
  const runs: number[] = [];
  for (let y = top; y < base; y++) {
    let run = 0;
    for (let x = 0; x <= w; x++) {
      if (x < w && diff[y * w + x] * polarity >= thr) run++;
      else if (run > 0) {
        runs.push(run);
        run = 0;
      }
    }
  }
  runs.sort((p, q) => p - q);
  const stroke = runs.length > 0 ? runs[M.floor(runs.length * 0.3)] : undefined;
  return { found: true, polarity, color, left, right, top, bottom, baseline: base, stroke, pixels: count };
}
