/**
 * Rasterising for the style match: one line of text in a bundled face at a fractional pen position,
 * size and letter spacing into a coverage array (0..1), a separable Gaussian blur (the scan's
 * softness), and the measurements the fit compares (ink extents, mass, centroid). Coverage is the
 * canvas renderer's antialiasing, the same renderer that draws the replacement, so a fit found here
 * is reproduced exactly when the replacement is drawn.
 */
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { getFont, type BundledFontName } from '../../render/fonts';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** Where and how a line of text is drawn in a window (coordinates relative to the window). */
export interface TextPlacement {
  font: BundledFontName;
  /** The em, px. */
  fontSize: number;
  /** Pen origin x and baseline y, px from the window's top-left (fractional). */
  x: number;
  baseline: number;
  /** Extra advance after every character, px (CSS letter-spacing). */
  letterSpacing: number;
}

let shared: { canvas: Canvas; ctx: SKRSContext2D; w: number; h: number } | undefined;

/** Coverage (0..1) of `text` drawn with `p` into a `w` x `h` window, row-major. */
export function rasterize(text: string, w: number, h: number, p: TextPlacement): Float32Array {
  // One canvas reused while it is large enough: allocating one per candidate costs more than drawing.
  if (!shared || shared.w < w || shared.h < h) {
    const cw = M.max(w, shared?.w ?? 0);
    const chh = M.max(h, shared?.h ?? 0);
    const canvas = createCanvas(cw, chh);
    shared = { canvas, ctx: canvas.getContext('2d'), w: cw, h: chh };
  }
  const { ctx } = shared;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = getFont(p.font).cssFont(p.fontSize);
  ctx.letterSpacing = `${p.letterSpacing}px`;
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  // Black, read from the alpha: Skia adjusts text coverage by the paint's luminance, and dark ink
  // on paper is what documents have (white text would come out bolder than the page's).
  ctx.fillStyle = '#000000';
  ctx.fillText(text, p.x, p.baseline);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Float32Array(w * h);
  for (let i = 0, j = 3; i < out.length; i++, j += 4) out[i] = rgba[j] / 255;
  return out;
}

const kernels = new Map<number, Float32Array>();
function kernel(sigma: number): Float32Array {
  const key = M.round(sigma * 100);
  let k = kernels.get(key);
  if (!k) {
    const r = M.max(1, M.ceil(2.2 * sigma));
    k = new Float32Array(2 * r + 1);
    let s = 0;
    for (let i = -r; i <= r; i++) s += k[i + r] = M.exp((-i * i) / (2 * sigma * sigma));
    for (let i = 0; i < k.length; i++) k[i] /= s;
    kernels.set(key, k);
  }
  return k;
}

/** A Gaussian blur of `sigma` px (separable, edges clamped); `sigma` <= 0.05 returns the input. */
export function blur(a: Float32Array, w: number, h: number, sigma: number): Float32Array {
  if (sigma <= 0.05) return a;
  const k = kernel(sigma);
  const r = (k.length - 1) >> 1;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  // Rows: clamped taps only near the ends, a plain dot product in between (the hot loop).
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      if (x >= r && x < w - r) {
        const base = row + x - r;
        for (let i = 0; i < k.length; i++) s += k[i] * a[base + i];
      } else {
        for (let i = -r; i <= r; i++) {
          const xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
          s += k[i + r] * a[row + xx];
        }
      }
      tmp[row + x] = s;
    }
  }
  // Columns: accumulate whole rows at a time (memory order).
  for (let y = 0; y < h; y++) {
    const orow = y * w;
    for (let i = -r; i <= r; i++) {
      const yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
      const kv = k[i + r];
      const srow = yy * w;
      for (let x = 0; x < w; x++) out[orow + x] += kv * tmp[srow + x];
    }
  }
  return out;
}

/** What the fit measures of a coverage array: the same function for the original and a rendering, so biases cancel. */
export interface InkMeasure {
  /** Ink mass (sum of coverage). */
  mass: number;
  /** Centroid, px. */
  cx: number;
  cy: number;
  /** Columns and rows where the ink is (half-coverage edges), px; right/bottom exclusive. */
  left: number;
  right: number;
  top: number;
  /** The lowest dense row + 1 (descenders are sparse). */
  baseline: number;
}

/** Measures a coverage array (undefined when it has no ink). */
export function measure(a: Float32Array, w: number, h: number): InkMeasure | undefined {
  const rows = new Float64Array(h);
  const cols = new Float32Array(w);
  let mass = 0;
  let sx = 0;
  let sy = 0;
  let peak = 0;
  for (let y = 0; y < h; y++) {
    let rs = 0;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const v = a[row + x];
      if (v <= 0) continue;
      rs += v;
      sx += v * x;
      if (v > cols[x]) cols[x] = v;
      if (v > peak) peak = v;
    }
    rows[y] = rs;
    mass += rs;
    sy += rs * y;
  }
  if (mass < 1) return undefined;
  // Half of the strongest coverage: thin strokes of a blurred scan never reach full coverage.
  const t = 0.5 * peak;
  let left = 0;
  while (left < w && cols[left] < t) left++;
  let right = w;
  while (right > left && cols[right - 1] < t) right--;
  let maxRow = 0;
  for (let y = 0; y < h; y++) if (rows[y] > maxRow) maxRow = rows[y];
  // The top: the first row with a half-covered pixel (an ascender tip is sparse but solid; noise is faint).
  let top = 0;
  for (; top < h; top++) {
    let peakRow = 0;
    for (let x = 0, i = top * w; x < w; x++, i++) if (a[i] > peakRow) peakRow = a[i];
    if (peakRow >= t) break;
  }
  let base = h;
  while (base > top && rows[base - 1] < 0.1 * maxRow) base--;
  // The baseline: the last row still half as dense as the densest (descender rows are sparse).
  while (base > top + 1 && rows[base - 1] < 0.45 * maxRow) base--;
  // Sub-pixel: the half-density crossing between the last dense row and the one below it.
  const below = base < h ? rows[base] : 0;
  const last = rows[base - 1];
  const frac = last > below ? M.min(1, M.max(0, (last - 0.45 * maxRow) / (last - below + 1e-9))) : 0;
  return { mass, cx: sx / mass, cy: sy / mass, left, right, top, baseline: base - 1 + frac + 0.5 };
}

/**
 * Normalised L1 distance between the original's coverage `a` and a rendering `b` scaled by the
 * least-squares gain (the original's ink may be darker or lighter than the level `a` was measured
 * against, e.g. thin strokes of a blurred scan): sum |a - g b| over sum (a + g b), 0 (identical) ..
 * 1 (disjoint). The gain is kept within [0.95, 3].
 */
export function distance(a: Float32Array, b: Float32Array): number {
  return distanceAndGain(a, b).distance;
}

/** {@link distance} and the gain it used. */
export function distanceAndGain(a: Float32Array, b: Float32Array): { distance: number; gain: number } {
  let ab = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    bb += b[i] * b[i];
  }
  // Never much lighter than the measured ink (the darkest pixels are at least that dark): a lower
  // gain would let a bolder face pass for the original by fading it.
  const g = bb > 0 ? M.min(3, M.max(0.95, ab / bb)) : 1;
  let diff = 0;
  let tot = 0;
  for (let i = 0; i < a.length; i++) {
    const va = a[i];
    const vb = g * b[i];
    diff += va > vb ? va - vb : vb - va;
    tot += (va > 0 ? va : -va) + vb;
  }
  return { distance: tot > 0 ? diff / tot : 1, gain: g };
}
