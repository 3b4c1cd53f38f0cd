/**
 * Robust background model for the classic engine: a bilinear surface per colour channel
 * (c = a + b*u + c*v + d*u*v) fitted to a ring of pixels around the pasted area by iteratively
 * reweighted least squares (Tukey biweight on the luminance residual), so neighbouring text,
 * rules and specks in the ring are outliers and flat paper, gradients and shading are fitted.
 * The inliers' residual spread gives the noise level used to make the fill look like paper.
 * Cost: O(ring samples) (the ring is subsampled to a few thousand pixels).
 */
import type { DecodedImage } from '../../image-io';
import { expandRect, type PageSize, type Rect } from '../../regions';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** A fitted background: evaluate with {@link bgAt}. */
export interface BackgroundModel {
  /** 4 coefficients per colour channel (3 channels). */
  coef: Float64Array;
  cx: number;
  cy: number;
  sx: number;
  sy: number;
  /** Residual standard deviation of the inliers per channel (0..255 units). */
  sigma: [number, number, number];
  /** Inlier samples used. */
  samples: number;
}

const MAX_SAMPLES = 2000;

function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Background value of channel `k` at pixel (x, y). */
export function bgAt(m: BackgroundModel, k: number, x: number, y: number): number {
  const u = (x - m.cx) / m.sx;
  const v = (y - m.cy) / m.sy;
  const o = k * 4;
  return m.coef[o] + m.coef[o + 1] * u + m.coef[o + 2] * v + m.coef[o + 3] * u * v;
}

/** Solves the 4x4 system A x = b in place (partial pivoting); false when singular. */
function solve4(A: Float64Array, b: Float64Array): boolean {
  for (let col = 0; col < 4; col++) {
    let piv = col;
    for (let r = col + 1; r < 4; r++) if (M.abs(A[r * 4 + col]) > M.abs(A[piv * 4 + col])) piv = r;
    if (M.abs(A[piv * 4 + col]) < 1e-12) return false;
    if (piv !== col) {
      for (let k = 0; k < 4; k++) {
        const tmp = A[col * 4 + k];
        A[col * 4 + k] = A[piv * 4 + k];
        A[piv * 4 + k] = tmp;
      }
      const tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
    }
    for (let r = col + 1; r < 4; r++) {
      const f = A[r * 4 + col] / A[col * 4 + col];
      for (let k = col; k < 4; k++) A[r * 4 + k] -= f * A[col * 4 + k];
      b[r] -= f * b[col];
    }
  }
  for (let r = 3; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < 4; k++) s -= A[r * 4 + k] * b[k];
    b[r] = s / A[r * 4 + r];
  }
  return true;
}

function median(values: Float64Array, n: number): number {
  const a = values.slice(0, n).sort();
  return n === 0 ? 0 : n % 2 ? a[(n - 1) >> 1] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/**
 * Fits the background around `inner` (the area to be replaced) from a ring `margin` px wide,
 * clipped to the page. When the ring is empty (the area covers the page), the inner pixels' median
 * colour is used as a flat background.
 */
export function fitBackground(image: DecodedImage, inner: Rect, margin: number): BackgroundModel {
  const page: PageSize = image;
  const outer = expandRect(inner, page, margin);
  const ow = outer.x1 - outer.x0;
  const oh = outer.y1 - outer.y0;
  const ringArea = ow * oh - (inner.x1 - inner.x0) * (inner.y1 - inner.y0);
  const useInner = ringArea <= 0;
  const area = useInner ? (inner.x1 - inner.x0) * (inner.y1 - inner.y0) : ringArea;
  const stride = M.max(1, M.ceil(M.sqrt(area / MAX_SAMPLES)));
  const cap = M.ceil(area / (stride * stride)) + ow + oh + 8;
  const U = new Float64Array(cap);
  const V = new Float64Array(cap);
  const C = new Float64Array(cap * 3);
  const Y = new Float64Array(cap);
  const cx = (outer.x0 + outer.x1 - 1) / 2;
  const cy = (outer.y0 + outer.y1 - 1) / 2;
  const sx = M.max(1, ow / 2);
  const sy = M.max(1, oh / 2);
  const ch = image.channels;
  const d = image.data;
  let n = 0;
  for (let y = outer.y0; y < outer.y1; y += stride) {
    const inRow = y >= inner.y0 && y < inner.y1;
    for (let x = outer.x0; x < outer.x1; x += stride) {
      if (!useInner && inRow && x >= inner.x0 && x < inner.x1) continue;
      if (n >= cap) break;
      const i = (y * image.width + x) * ch;
      U[n] = (x - cx) / sx;
      V[n] = (y - cy) / sy;
      C[n * 3] = d[i];
      C[n * 3 + 1] = d[i + 1];
      C[n * 3 + 2] = d[i + 2];
      Y[n] = luma(d[i], d[i + 1], d[i + 2]);
      n++;
    }
  }
  const coef = new Float64Array(12);
  const W = new Float64Array(n);
  const R = new Float64Array(n);
  // Start: the median luminance (the paper), generous tolerance.
  const med = median(Y, n);
  for (let i = 0; i < n; i++) R[i] = M.abs(Y[i] - med);
  let scale = M.max(1.4826 * median(R, n), 2);
  for (let i = 0; i < n; i++) W[i] = R[i] <= M.max(3 * scale, 20) ? 1 : 0;
  const flat = (w: Float64Array): void => {
    for (let k = 0; k < 3; k++) {
      let s = 0;
      let sw = 0;
      for (let i = 0; i < n; i++) {
        s += w[i] * C[i * 3 + k];
        sw += w[i];
      }
      coef.fill(0, k * 4, k * 4 + 4);
      coef[k * 4] = sw > 0 ? s / sw : med;
    }
  };
  const planar = !useInner && n >= 16;
  for (let iter = 0; iter < 3; iter++) {
    if (planar) {
      const A = new Float64Array(16);
      const B = new Float64Array(12);
      let sw = 0;
      for (let i = 0; i < n; i++) {
        const w = W[i];
        if (w === 0) continue;
        const f1 = U[i];
        const f2 = V[i];
        const f3 = f1 * f2;
        A[0] += w;
        A[1] += w * f1;
        A[2] += w * f2;
        A[3] += w * f3;
        A[5] += w * f1 * f1;
        A[6] += w * f1 * f2;
        A[7] += w * f1 * f3;
        A[10] += w * f2 * f2;
        A[11] += w * f2 * f3;
        A[15] += w * f3 * f3;
        for (let k = 0; k < 3; k++) {
          const wc = w * C[i * 3 + k];
          const o = k * 4;
          B[o] += wc;
          B[o + 1] += wc * f1;
          B[o + 2] += wc * f2;
          B[o + 3] += wc * f3;
        }
        sw += w;
      }
      for (let r = 0; r < 4; r++) for (let c = 0; c < r; c++) A[r * 4 + c] = A[c * 4 + r];
      // A little ridge on the slope terms keeps one-sided rings (page edges) stable.
      for (let r = 1; r < 4; r++) A[r * 4 + r] += 1e-2 * sw + 1e-9;
      let ok = sw >= 8;
      for (let k = 0; k < 3 && ok; k++) {
        const Ak = A.slice();
        const bk = B.slice(k * 4, k * 4 + 4);
        ok = solve4(Ak, bk);
        if (ok) coef.set(bk, k * 4);
      }
      if (!ok) flat(W);
    } else {
      flat(W);
    }
    // Residuals against the fitted luminance; Tukey biweight with a robust scale.
    const l0 = 0.299 * coef[0] + 0.587 * coef[4] + 0.114 * coef[8];
    const l1 = 0.299 * coef[1] + 0.587 * coef[5] + 0.114 * coef[9];
    const l2 = 0.299 * coef[2] + 0.587 * coef[6] + 0.114 * coef[10];
    const l3 = 0.299 * coef[3] + 0.587 * coef[7] + 0.114 * coef[11];
    for (let i = 0; i < n; i++) R[i] = M.abs(Y[i] - (l0 + l1 * U[i] + l2 * V[i] + l3 * U[i] * V[i]));
    scale = M.max(1.4826 * median(R, n), 1.5);
    const c = 4.685 * scale;
    for (let i = 0; i < n; i++) {
      const t = R[i] / c;
      W[i] = t < 1 ? (1 - t * t) * (1 - t * t) : 0;
    }
  }
  const sigma: [number, number, number] = [0, 0, 0];
  let inl = 0;
  for (let i = 0; i < n; i++) {
    if (W[i] < 0.5) continue;
    inl++;
    for (let k = 0; k < 3; k++) {
      const o = k * 4;
      const r = C[i * 3 + k] - (coef[o] + coef[o + 1] * U[i] + coef[o + 2] * V[i] + coef[o + 3] * U[i] * V[i]);
      sigma[k] += r * r;
    }
  }
  for (let k = 0; k < 3; k++) sigma[k] = inl > 0 ? M.min(12, M.sqrt(sigma[k] / inl)) : 0;
  return { coef, cx, cy, sx, sy, sigma, samples: inl };
}

/** Background luminance at (x, y). */
export function bgLuma(m: BackgroundModel, x: number, y: number): number {
  return luma(bgAt(m, 0, x, y), bgAt(m, 1, x, y), bgAt(m, 2, x, y));
}

export { luma };
