/**
 * Image helpers for OCR: decoding to 8-bit grey (with a pixel limit against decompression bombs),
 * ink estimation, and the greyscale PGM encoding that tesseract reads without a codec.
 */
import sharp, { type Sharp } from 'sharp';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { Box } from '../types';
import type { OcrImage, RawImage } from './engine';

/** An 8-bit single-channel image. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Default pixel limit (about 100 megapixels: A4 at 1200 dpi). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

function isRaw(image: OcrImage): image is RawImage {
  return !(image instanceof Uint8Array) && typeof (image as RawImage).width === 'number';
}

/** Decodes an image to grey (alpha flattened onto white). ERR_IMAGE / ERR_IMAGE_TOO_LARGE on bad input. */
export async function toGrey(image: OcrImage, maxPixels = DEFAULT_MAX_PIXELS): Promise<GreyImage> {
  let pipeline: Sharp;
  if (isRaw(image)) {
    const { width, height, channels, data } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || data.length !== width * height * channels) {
      throw new DocAnonError(ErrorCode.IMAGE, `raw image data has ${data.length} bytes, expected width*height*channels = ${width}*${height}*${channels}`);
    }
    if (width * height > maxPixels) {
      throw new DocAnonError(ErrorCode.IMAGE_TOO_LARGE, `image has ${width * height} pixels, over the limit of ${maxPixels}; raise maxPixels if it is legitimate`);
    }
    if (channels === 1) return { data, width, height };
    pipeline = sharp(data, { raw: { width, height, channels } });
  } else {
    if (!(image instanceof Uint8Array) || image.length === 0) {
      throw new DocAnonError(ErrorCode.IMAGE, 'the image is empty; pass the bytes of a PNG, JPEG, TIFF or WebP file, or decoded pixels');
    }
    pipeline = sharp(image, { limitInputPixels: maxPixels, failOn: 'truncated' });
  }
  try {
    const { data, info } = await pipeline.flatten({ background: '#ffffff' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected 1 channel after greyscale, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) {
      throw new DocAnonError(ErrorCode.IMAGE_TOO_LARGE, `image is over the limit of ${maxPixels} pixels; raise maxPixels if it is legitimate`, { cause: e });
    }
    throw new DocAnonError(ErrorCode.IMAGE, `cannot decode the image for OCR (${msg}); pass a valid PNG, JPEG, TIFF or WebP`, { cause: e });
  }
}

/** Ink statistics of a grey page. */
export interface InkStats {
  /** Background level (the most common brightness). */
  background: number;
  /** How far from the background a pixel must be to count as ink. */
  contrast: number;
  /** Pixels that differ from the background by more than the contrast threshold. */
  inkPixels: number;
  inkRatio: number;
  /** Per-row ink pixel counts. */
  rows: Uint32Array;
}

/** Otsu's threshold of an 8-bit histogram: the level that best splits it into two classes. */
export function otsuThreshold(hist: Uint32Array): number {
  let total = 0;
  let sum = 0;
  for (let v = 0; v < 256; v++) {
    total += hist[v];
    sum += v * hist[v];
  }
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let threshold = 127;
  for (let t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/** Ink contrast never needs more than this (black on white is far above it). */
const MAX_CONTRAST = 80;
/** Nor less than this (paper grain and JPEG ringing stay below it). */
const MIN_CONTRAST = 24;

/**
 * Finds ink: pixels differing from the background (the histogram mode) by more than `contrast`.
 * By default the contrast adapts to the page: the distance from the background to Otsu's threshold,
 * within 24..80, so faint grey print counts as ink (a fixed 80 called it blank paper).
 */
export function inkStats(img: GreyImage, contrast?: number): InkStats {
  const hist = new Uint32Array(256);
  const { data, width, height } = img;
  for (let i = 0; i < data.length; i++) hist[data[i]]++;
  let background = 255;
  for (let v = 0; v < 256; v++) if (hist[v] > hist[background]) background = v;
  if (contrast === undefined) {
    const t = otsuThreshold(hist);
    contrast = Math.max(MIN_CONTRAST, Math.min(MAX_CONTRAST, Math.abs(background - t)));
  }
  const rows = new Uint32Array(height);
  let inkPixels = 0;
  for (let y = 0; y < height; y++) {
    let n = 0;
    const off = y * width;
    for (let x = 0; x < width; x++) {
      const d = data[off + x] - background;
      if (d > contrast || d < -contrast) n++;
    }
    rows[y] = n;
    inkPixels += n;
  }
  return { background, contrast, inkPixels, inkRatio: inkPixels / Math.max(1, width * height), rows };
}

/** Fraction of ink pixels inside at least one of `boxes`. */
export function inkCoverage(img: GreyImage, stats: InkStats, boxes: readonly Box[], contrast = stats.contrast): number {
  if (stats.inkPixels === 0) return 1;
  const { data, width, height } = img;
  const mask = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of boxes) {
    const ax = Math.max(0, Math.floor(x0));
    const bx = Math.min(width, Math.ceil(x1));
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y++) mask.fill(1, y * width + ax, y * width + bx);
  }
  let inside = 0;
  for (let i = 0; i < data.length; i++) {
    if (mask[i]) {
      const d = data[i] - stats.background;
      if (d > contrast || d < -contrast) inside++;
    }
  }
  return inside / stats.inkPixels;
}

/** Rows `[top, bottom)` of a grey image as a binary PGM (P5), which tesseract reads directly. */
export function toPgm(img: GreyImage, top = 0, bottom = img.height): Buffer {
  const header = Buffer.from(`P5\n${img.width} ${bottom - top}\n255\n`, 'ascii');
  return Buffer.concat([header, img.data.subarray(top * img.width, bottom * img.width)]);
}
