/**
 * Text rendering for the classic engine: one line of text fitted to a box (font size, baseline,
 * horizontal condensing when the text is wider than the box), drawn in a colour on a transparent
 * layer. Coverage is computed by the canvas renderer (antialiased); compositing is left to the
 * caller so it can blend onto its own background model exactly.
 */
import { createCanvas } from '@napi-rs/canvas';
import { DocAnonError, ErrorCode } from '../core/errors';
import { assertDrawable, getFont, type BundledFont, type BundledFontName } from './fonts';

/** Where and how large text is drawn inside a box (coordinates relative to the box's top-left). */
export interface TextFit {
  /** Font size in px (the em). */
  fontSize: number;
  /** Baseline y, px from the box top. */
  baseline: number;
  /** Pen origin x, px from the box left. */
  x: number;
  /** Horizontal scale (<= 1 condenses text that is too wide for the box). */
  scaleX: number;
}

/** Options of {@link fitText}. */
export interface FitOptions {
  font?: BundledFontName;
  /** Wanted font size (e.g. measured from the original text); default: the box height fits ascender..descender. */
  fontSize?: number;
  /** Wanted baseline, px from the box top; default: from the font's ascender. */
  baseline?: number;
  /** Left pen position, px from the box left (default 0). */
  x?: number;
  /** Horizontal alignment of the text inside the box (default 'left'). */
  align?: 'left' | 'center' | 'right';
  /** Narrowest horizontal scale before the font size shrinks instead (default 0.8). */
  minScaleX?: number;
}

/** Computes the font size, baseline and condensing that fit `text` into a `width` x `height` box. */
export function fitText(text: string, width: number, height: number, options: FitOptions = {}): TextFit {
  if (!(width > 0 && height > 0)) throw new DocAnonError(ErrorCode.INPUT, `text box must have a positive size, got ${width}x${height}`);
  const font = getFont(options.font);
  const m = font.metrics;
  const lineEm = (m.ascender - m.descender) / m.unitsPerEm;
  let fontSize = options.fontSize ?? height / lineEm;
  if (!(fontSize > 0) || !Number.isFinite(fontSize)) fontSize = height / lineEm;
  const baseline = options.baseline ?? (fontSize * m.ascender) / m.unitsPerEm;
  const x0 = Math.max(0, options.x ?? 0);
  const avail = Math.max(1, width - x0);
  const minScaleX = Math.min(1, Math.max(0.3, options.minScaleX ?? 0.8));
  let scaleX = 1;
  const w = font.advanceWidth(text, fontSize);
  if (w > avail) {
    scaleX = avail / w;
    if (scaleX < minScaleX) {
      fontSize *= scaleX / minScaleX;
      scaleX = minScaleX;
    }
  }
  const drawn = font.advanceWidth(text, fontSize) * scaleX;
  let x = x0;
  if (options.align === 'center') x = x0 + Math.max(0, (avail - drawn) / 2);
  else if (options.align === 'right') x = x0 + Math.max(0, avail - drawn);
  return { fontSize, baseline, x, scaleX };
}

/**
 * Renders `text` with `fit` into a `width` x `height` coverage mask (uint8, 0 = no ink, 255 = full
 * ink), one byte per pixel, row-major. Ink outside the box is clipped.
 */
export function renderTextCoverage(text: string, width: number, height: number, fit: TextFit, fontName?: BundledFontName): Uint8Array {
  const font: BundledFont = getFont(fontName);
  assertDrawable(text, font, 'replacement text');
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.font = font.cssFont(fit.fontSize);
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  // Black, read from the alpha: Skia adjusts text coverage by the paint's luminance (white text comes out bolder).
  ctx.fillStyle = '#000000';
  ctx.setTransform(fit.scaleX, 0, 0, 1, fit.x, fit.baseline);
  ctx.fillText(text, 0, 0);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Uint8Array(w * h);
  for (let i = 0, j = 3; i < out.length; i++, j += 4) out[i] = rgba[j];
  return out;
}

/** An RGBA uint8 layer (straight, not premultiplied alpha), row-major. */
export interface RgbaLayer {
  data: Uint8Array;
  width: number;
  height: number;
  fit: TextFit;
}

/**
 * Renders `text` fitted to a `width` x `height` box in `color` ([r, g, b], 0..255) on a
 * transparent layer. ERR_UNSUPPORTED_TEXT for characters the font lacks.
 */
export function renderTextLayer(
  text: string,
  width: number,
  height: number,
  color: readonly [number, number, number],
  options: FitOptions = {},
): RgbaLayer {
  const fit = fitText(text, width, height, options);
  const cov = renderTextCoverage(text, width, height, fit, options.font);
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const data = new Uint8Array(w * h * 4);
  for (let i = 0, j = 0; i < cov.length; i++, j += 4) {
    data[j] = color[0];
    data[j + 1] = color[1];
    data[j + 2] = color[2];
    data[j + 3] = cov[i];
  }
  return { data, width: w, height: h, fit };
}
