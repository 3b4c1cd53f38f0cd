/**
 * Geometry of page reading. Three frames:
 * - the page frame: the decoded image as given;
 * - the upright frame: the page turned by a multiple of 90 degrees so its text reads left to right
 *   (a lossless pixel permutation, so engines can work there and the result can be turned back);
 * - the reading frame: the upright page deskewed and scaled for the OCR only (never written out).
 * Boxes read in one frame are mapped to the others here.
 */
import sharp from 'sharp';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { GreyImage } from '../ocr/image';
import type { Box, OcrPage } from '../types';

const M = Math;

/**
 * How a page's content is turned, clockwise, relative to upright: 90 means a sheet fed sideways so
 * that its lines run top to bottom. Reading it takes a turn of `(360 - orientation) % 360`.
 */
export type Orientation = 0 | 90 | 180 | 270;

/** The four orientations. */
export const ORIENTATIONS: readonly Orientation[] = [0, 90, 180, 270];

/** Size of an image or frame. */
export interface Size {
  width: number;
  height: number;
}

/** The size of a `size` image after turning it by `deg` (clockwise, a multiple of 90). */
export function turnedSize(size: Size, deg: Orientation): Size {
  return deg === 90 || deg === 270 ? { width: size.height, height: size.width } : { width: size.width, height: size.height };
}

/**
 * Maps a box of an image of size `size` to the same content's box after the image is turned
 * clockwise by `deg` (exact: a pixel rectangle stays a pixel rectangle).
 */
export function turnBox(box: Box, size: Size, deg: Orientation): Box {
  const [x0, y0, x1, y1] = box;
  const { width: w, height: h } = size;
  switch (deg) {
    case 0:
      return [x0, y0, x1, y1];
    case 90:
      return [h - y1, x0, h - y0, x1];
    case 180:
      return [w - x1, h - y1, w - x0, h - y0];
    case 270:
      return [y0, w - x1, y1, w - x0];
  }
}

/** The turn that undoes a clockwise turn by `deg`. */
export function inverseTurn(deg: Orientation): Orientation {
  return ((360 - deg) % 360) as Orientation;
}

/** Turns interleaved 8-bit pixels clockwise by `deg` (a multiple of 90: lossless). */
export async function turnPixels<T extends { data: Uint8Array; width: number; height: number; channels: number }>(image: T, deg: Orientation): Promise<T> {
  if (deg === 0) return image;
  const { data, width, height, channels } = image;
  let pipeline = sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } }).rotate(deg);
  // (sharp widens one channel to three; the first is the exact grey.)
  if (channels === 1) pipeline = pipeline.extractChannel(0);
  const out = await pipeline
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (out.info.channels !== channels) throw new DocAnonError(ErrorCode.INTERNAL, `turning an image changed its channels (${channels} -> ${out.info.channels})`);
  return { ...image, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length), width: out.info.width, height: out.info.height };
}

/**
 * A reading transform: rotate the upright page by `-skew` degrees about its centre (undoing a
 * clockwise skew of `skew`), then scale by `scale`. The reading image is `size` pixels.
 */
export interface ReadingTransform {
  /** Clockwise skew of the text lines in degrees (0: none). */
  skew: number;
  /** Upscale factor for small print (1: none). */
  scale: number;
  /** The upright image's size. */
  source: Size;
  /** The reading image's size. */
  size: Size;
}

/** The identity transform for an upright image of `size`. */
export function identityTransform(size: Size): ReadingTransform {
  return { skew: 0, scale: 1, source: { ...size }, size: { ...size } };
}

/** Maps a reading-frame point back to the upright frame. */
function pointToUpright(t: ReadingTransform, x: number, y: number): [number, number] {
  // Undo the scale (the reading image is the rotated canvas scaled by `scale`).
  const rx = x / t.scale;
  const ry = y / t.scale;
  if (t.skew === 0) return [rx, ry];
  const rw = t.size.width / t.scale;
  const rh = t.size.height / t.scale;
  // The canvas was rotated by -skew about its centre; rotate back by +skew.
  const th = (t.skew * M.PI) / 180;
  const dx = rx - rw / 2;
  const dy = ry - rh / 2;
  return [t.source.width / 2 + dx * M.cos(th) - dy * M.sin(th), t.source.height / 2 + dx * M.sin(th) + dy * M.cos(th)];
}

/** Maps a reading-frame box to the upright frame (the bounds of its 4 mapped corners, clamped to the page). */
export function boxToUpright(t: ReadingTransform, box: Box): Box {
  if (t.skew === 0 && t.scale === 1) return [...box] as Box;
  const corners = [
    pointToUpright(t, box[0], box[1]),
    pointToUpright(t, box[2], box[1]),
    pointToUpright(t, box[2], box[3]),
    pointToUpright(t, box[0], box[3]),
  ];
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const clamp = (v: number, hi: number): number => M.max(0, M.min(hi, v));
  return [
    clamp(M.floor(M.min(...xs)), t.source.width),
    clamp(M.floor(M.min(...ys)), t.source.height),
    clamp(M.ceil(M.max(...xs)), t.source.width),
    clamp(M.ceil(M.max(...ys)), t.source.height),
  ];
}

/** Maps every box of a page read in the reading frame to the upright frame. */
export function pageToUpright(t: ReadingTransform, page: OcrPage): OcrPage {
  return {
    ...page,
    width: t.source.width,
    height: t.source.height,
    lines: page.lines.map((l) => ({ ...l, box: boxToUpright(t, l.box), words: l.words.map((w) => ({ ...w, box: boxToUpright(t, w.box) })) })),
  };
}

/** Maps every box of an upright-frame page to the page frame of a page turned by `orientation`. */
export function pageToPageFrame(page: OcrPage, orientation: Orientation): OcrPage {
  if (orientation === 0) return page;
  const size = { width: page.width, height: page.height };
  const back = orientation; // the upright frame is the page turned by inverseTurn(orientation)
  const out = turnedSize(size, back);
  return {
    ...page,
    width: out.width,
    height: out.height,
    lines: page.lines.map((l) => ({ ...l, box: turnBox(l.box, size, back), words: l.words.map((w) => ({ ...w, box: turnBox(w.box, size, back) })) })),
  };
}

/**
 * Renders the reading image of an upright grey page: deskewed (`fill`, the paper's level, fills
 * the corners) and scaled with a Lanczos kernel.
 */
export async function applyReadingTransform(grey: GreyImage, skew: number, scale: number, fill: number): Promise<{ image: GreyImage; transform: ReadingTransform }> {
  const source = { width: grey.width, height: grey.height };
  if (skew === 0 && scale === 1) return { image: grey, transform: identityTransform(source) };
  let img = sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } });
  let w = grey.width;
  let h = grey.height;
  if (skew !== 0) {
    const rotated = await img
      .rotate(-skew, { background: { r: fill, g: fill, b: fill } })
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    w = rotated.info.width;
    h = rotated.info.height;
    img = sharp(rotated.data, { raw: { width: w, height: h, channels: 1 } });
  }
  const tw = M.max(1, M.round(w * scale));
  const th = M.max(1, M.round(h * scale));
  if (tw !== w || th !== h) img = img.resize(tw, th, { kernel: 'lanczos3', fit: 'fill' });
  const out = await img.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  // Scale is stored as the exact ratio of the rendered sizes, so boxes map back without drift.
  const transform: ReadingTransform = { skew, scale: tw / w, source, size: { width: tw, height: th } };
  return { image: { data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length), width: tw, height: th }, transform };
}
