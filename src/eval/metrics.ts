/**
 * Image and text quality measures of the evaluations: PSNR, SSIM, character / word accuracy, and the
 * two layout conversions the VAE needs around the native calls. These are small reductions over
 * decoded crops (a few thousand to a few hundred thousand values), one pass each; the models' own
 * tensor work stays native.
 */

/** Peak signal-to-noise ratio in dB of two equally long images in 0..255 (uint8 or float); Infinity when equal. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`psnr: sizes differ or are empty (${a.length} vs ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Mean squared error of the pixels of `a` and `b` (HWC, `channels` per pixel) outside `rect`, and their count. */
export function outsideRectError(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  rect: { x0: number; y0: number; x1: number; y1: number },
): { mse: number; maxAbs: number; changed: number; count: number } {
  let se = 0;
  let maxAbs = 0;
  let changed = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const inRows = y >= rect.y0 && y < rect.y1;
    for (let x = 0; x < width; x++) {
      if (inRows && x >= rect.x0 && x < rect.x1) continue;
      const o = (y * width + x) * channels;
      let moved = false;
      for (let c = 0; c < channels; c++) {
        const d = a[o + c] - b[o + c];
        se += d * d;
        const ad = Math.abs(d);
        if (ad > maxAbs) maxAbs = ad;
        if (ad > 0) moved = true;
      }
      if (moved) changed++;
      count++;
    }
  }
  return { mse: count ? se / (count * channels) : 0, maxAbs, changed, count };
}

/** PSNR (dB) from a mean squared error in 0..255 units. */
export function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function gaussianWindow(size: number, sigma: number): Float64Array {
  const w = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += w[i];
  }
  for (let i = 0; i < size; i++) w[i] /= s;
  return w;
}

/** Separable 'valid' filtering of one channel plane (out: (h-k+1) x (w-k+1)). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      const base = y * w + x;
      for (let i = 0; i < n; i++) s += src[base + i] * k[i];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += tmp[(y + i) * ow + x] * k[i];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Mean SSIM (Wang et al. 2004) of two HWC images in 0..255: an 11x11 Gaussian window of sigma 1.5,
 * K1 = 0.01, K2 = 0.03, each channel separately over the window positions that fit inside the image
 * ('valid', as pytorch-msssim), averaged over the channels. Images smaller than the window use a
 * window of their smaller side (odd).
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, channels = 3): number {
  if (a.length !== b.length || a.length !== width * height * channels) throw new RangeError('ssim: sizes do not match width x height x channels');
  let size = Math.min(11, width, height);
  if (size % 2 === 0) size -= 1;
  const k = gaussianWindow(size, 1.5 * (size / 11));
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const n = width * height;
  let total = 0;
  for (let c = 0; c < channels; c++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const xx = new Float64Array(n);
    const yy = new Float64Array(n);
    const xy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = a[i * channels + c];
      const v = b[i * channels + c];
      x[i] = u;
      y[i] = v;
      xx[i] = u * u;
      yy[i] = v * v;
      xy[i] = u * v;
    }
    const mx = filterValid(x, width, height, k);
    const my = filterValid(y, width, height, k);
    const sxx = filterValid(xx, width, height, k);
    const syy = filterValid(yy, width, height, k);
    const sxy = filterValid(xy, width, height, k);
    let s = 0;
    for (let i = 0; i < mx.length; i++) {
      const vx = sxx[i] - mx[i] * mx[i];
      const vy = syy[i] - my[i] * my[i];
      const cxy = sxy[i] - mx[i] * my[i];
      s += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
    }
    total += s / mx.length;
  }
  return total / channels;
}

/** Levenshtein distance of two sequences (strings: by code point). */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Whitespace runs to one space, trimmed (OCR output and ground truth compared alike). */
export function normalizeText(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Character accuracy 1 - CER (edit distance / reference length, over code points, after
 * {@link normalizeText}), floored at 0; 1 for an empty reference read as empty.
 */
export function charAccuracy(reference: string, read: string): number {
  const r = [...normalizeText(reference)];
  const h = [...normalizeText(read)];
  if (r.length === 0) return h.length === 0 ? 1 : 0;
  return Math.max(0, 1 - editDistance(r, h) / r.length);
}

/** Word accuracy: 1 when the read text equals the reference (after {@link normalizeText}), else 0 (DiffUTE's measure: a line is correct or not). */
export function wordAccuracy(reference: string, read: string): number {
  return normalizeText(reference) === normalizeText(read) ? 1 : 0;
}

/** uint8 HWC crops [B, H, W, 3] to float NCHW in [-1, 1] (the VAE's input), one pass. */
export function u8HwcToSignedNchw(src: Uint8Array, b: number, h: number, w: number, c = 3): Float32Array {
  const out = new Float32Array(b * c * h * w);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const sBase = n * plane * c;
    const dBase = n * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) out[dBase + k * plane + p] = src[sBase + p * c + k] / 127.5 - 1;
    }
  }
  return out;
}

/** float NCHW in about [-1, 1] (a VAE decode) to HWC values in 0..255 (clamped, not rounded), one pass. */
export function signedNchwToHwc255(src: Float32Array, b: number, h: number, w: number, c = 3): Float32Array {
  const out = new Float32Array(b * c * h * w);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const base = n * plane * c;
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < plane; p++) {
        const v = (src[base + k * plane + p] + 1) * 127.5;
        out[base + p * c + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** Mean and (population) standard deviation of a list of numbers. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / n) };
}
