/**
 * DiffUTE UNet examples, one OCR line each, built as the method intends (without the released
 * code's bugs): lines with score above `minScore` and non-empty text; the axis-aligned box of the
 * line with its bottom extended by `boxExtend` * height; a crop `aspect` times as wide as it is
 * high (square by default, as DiffUTE), of height max(cropSize, box height, box width / aspect),
 * that contains the box at a random offset (white paper where it leaves the page); crop and box
 * scaled together to resolution x (aspect * resolution); RGB throughout; the glyph of the line's
 * own text. A wide crop keeps a long line's text tall at a small resolution.
 */
import { DocAnonError, ErrorCode } from '../../core/errors';
import { preprocessTrocr } from '../../models/glyph-encoder';
import { renderGlyph } from '../../render/glyph';
import { alignedGlyphBytes } from '../../models/glyph-conditioning';
import { Rng } from '../synthetic/random';
import { cropRect, resizeRect } from './crop';
import { mixSeed, type PageSource } from './pages';
import { dataSlots } from './pool-slots';

export interface UnetExample {
  /** uint8 [R, aspect * R, 3]. */
  image: Uint8Array;
  /** x0, y0, x1, y1 in pixels of the resized crop. */
  box: [number, number, number, number];
  text: string;
}

export interface UnetExampleOptions {
  seed: number;
  /** Model crop height (and width when `aspect` is 1). */
  resolution: number;
  /** Model crop width / height, an integer (default 1). */
  aspect?: number;
  cropSize: number;
  minScore: number;
  boxExtend: number;
  examplesPerPage: number;
}

/** Pages without a usable line are skipped; give up after this many in a row. */
const MAX_EMPTY_PAGES = 64;

export async function unetExample(pages: PageSource, o: UnetExampleOptions, index: number): Promise<UnetExample> {
  const rng = new Rng(mixSeed(o.seed ^ 0xd1ff, index));
  let pageIndex = Math.floor(index / o.examplesPerPage);
  for (let tries = 0; tries < MAX_EMPTY_PAGES; tries++, pageIndex++) {
    const page = await pages.page(pageIndex);
    const lines = page.annotation.document.filter((l) => l.score > o.minScore && l.text.trim().length > 0);
    if (lines.length === 0) continue;
    const line = lines[rng.int(0, lines.length - 1)];
    const xs = line.box.map((p) => p[0]);
    const ys = line.box.map((p) => p[1]);
    const bx0 = Math.min(...xs);
    const bx1 = Math.max(...xs);
    const by0 = Math.min(...ys);
    const by1 = Math.min(page.height, Math.max(...ys) + (Math.max(...ys) - by0) * o.boxExtend);
    const aspect = o.aspect ?? 1;
    const ch = Math.max(o.cropSize, Math.ceil(by1 - by0), Math.ceil((bx1 - bx0) / aspect));
    const cw = ch * aspect;
    // Offsets that keep the box inside the crop; prefer crops inside the page when possible.
    const pick = (lo: number, hi: number, pageSize: number, size: number): number => {
      const a = Math.max(lo, Math.min(0, hi));
      const b = Math.min(hi, Math.max(pageSize - size, a));
      return b > a ? rng.int(Math.ceil(a), Math.floor(b)) : Math.round(a);
    };
    const cx = pick(Math.ceil(bx1) - cw, Math.floor(bx0), page.width, cw);
    const cy = pick(Math.ceil(by1) - ch, Math.floor(by0), page.height, ch);
    const crop = cropRect(page, cx, cy, cw, ch);
    const k = o.resolution / ch;
    return {
      image: await resizeRect(crop, cw, ch, o.resolution * aspect, o.resolution),
      box: [(bx0 - cx) * k, (by0 - cy) * k, (bx1 - cx) * k, (by1 - cy) * k],
      text: line.text,
    };
  }
  throw new DocAnonError(ErrorCode.INPUT, `no OCR line with score above ${o.minScore} and text in ${MAX_EMPTY_PAGES} consecutive pages`);
}

/** A prepared micro-batch (plain JS memory until the step, so prefetching holds no native tensors). */
export interface UnetMicro {
  images: Uint8Array; // [B, R, aspect * R, 3]
  boxes: Float32Array; // [B, 4]
  glyphs: Float32Array; // [B, 3, S, S]
  /** [B, R, aspect * R, 3]: each text rendered into its box (glyph-aligned conditioning only). */
  alignedGlyphs?: Uint8Array;
  texts: string[];
  batch: number;
}

export interface UnetBatchOptions extends UnetExampleOptions {
  /** Side of the glyph encoder's input (TrOCR: 384). */
  glyphSize: number;
  /** Also render each text into its box (glyph-aligned conditioning). */
  alignedGlyphs?: boolean;
}

/**
 * Local examples start .. start + batchSize - 1 (`toDataset` maps each to its dataset index: a
 * rank's shard) with their glyphs preprocessed for the glyph encoder. The examples are prepared at
 * once (crops, resizes and glyph preprocessing run on libuv's threads, as many as dataSlots
 * allows); each is a pure function of its index and fills its own slot, so the batch does not
 * depend on which finishes first.
 */
export async function unetBatch(
  pages: PageSource,
  o: UnetBatchOptions,
  start: number,
  batchSize: number,
  toDataset: (local: number) => number = (i) => i,
): Promise<UnetMicro> {
  const R = o.resolution;
  const W = R * (o.aspect ?? 1);
  const S = o.glyphSize;
  const images = new Uint8Array(batchSize * R * W * 3);
  const boxes = new Float32Array(batchSize * 4);
  const glyphs = new Float32Array(batchSize * 3 * S * S);
  const texts = new Array<string>(batchSize);
  const example = async (b: number): Promise<void> => {
    const ex = await unetExample(pages, o, toDataset(start + b));
    images.set(ex.image, b * R * W * 3);
    boxes.set(ex.box, b * 4);
    // Each glyph is preprocessed alone (widths differ), exactly as GlyphEncoder.encodeTexts does at inference.
    const g = renderGlyph(ex.text);
    const { pixelValues, resized } = await preprocessTrocr([{ data: g.data, width: g.width, height: g.height }], S);
    try {
      glyphs.set(await pixelValues.data<'float32'>(), b * 3 * S * S);
    } finally {
      pixelValues.dispose();
      resized.dispose();
    }
    texts[b] = ex.text;
  };
  const boxOf = (b: number): [number, number, number, number] => [boxes[b * 4], boxes[b * 4 + 1], boxes[b * 4 + 2], boxes[b * 4 + 3]];
  await Promise.all(Array.from({ length: batchSize }, (_, b) => dataSlots.run(() => example(b))));
  const alignedGlyphs = o.alignedGlyphs ? await alignedGlyphBytes(texts.map((text, b) => ({ text, box: boxOf(b) })), W, R) : undefined;
  return { images, boxes, glyphs, alignedGlyphs, texts, batch: batchSize };
}
