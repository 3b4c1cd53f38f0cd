/**
 * SuppliedOcr: OCR results the caller already has (e.g. from a cloud OCR), in a documented JSON
 * shape, validated by a strict zod schema.
 *
 * ```json
 * {
 *   "width": 1654, "height": 2339,
 *   "lines": [
 *     { "words": [
 *         { "text": "IBAN:", "box": [120, 300, 190, 328], "confidence": 0.97 },
 *         { "text": "GB82",  "polygon": [[200, 300], [260, 300], [260, 328], [200, 328]] }
 *     ] }
 *   ]
 * }
 * ```
 * Boxes are pixels `[x0, y0, x1, y1]` (x0 < x1, y0 < y1) inside the page; `polygon` (4 points, as
 * cloud OCRs return) is turned into its bounding box. `confidence` is in [0, 1] (default 1). Word
 * text has no whitespace. Lines are in reading order, words left to right.
 */
import sharp from 'sharp';
import { z } from 'zod';
import { formatIssues } from '../../core/config';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { unionBox } from '../spans';
import type { Box, OcrPage } from '../types';
import type { OcrEngine, OcrImage, RawImage } from './engine';
import { DEFAULT_MAX_PIXELS, inkStats, toGrey } from './image';

const coord = z.number().finite().min(0);
const WordSchema = z
  .strictObject({
    text: z.string().min(1).max(500).regex(/^\S+$/, 'word text must not contain whitespace; split it into words'),
    box: z.tuple([coord, coord, coord, coord]).optional(),
    polygon: z.array(z.tuple([coord, coord])).length(4).optional(),
    confidence: z.number().min(0).max(1).default(1),
  })
  .refine((w) => (w.box === undefined) !== (w.polygon === undefined), { message: 'give exactly one of box or polygon' })
  .refine((w) => !w.box || (w.box[0] < w.box[2] && w.box[1] < w.box[3]), { message: 'box must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1', path: ['box'] });

/** The JSON shape of supplied OCR results (one page). */
export const SuppliedOcrSchema = z
  .strictObject({
    width: z.number().int().positive().max(1_000_000),
    height: z.number().int().positive().max(1_000_000),
    lines: z.array(z.strictObject({ words: z.array(WordSchema).min(1).max(10_000), confidence: z.number().min(0).max(1).optional() })).max(100_000),
  })
  .superRefine((p, ctx) => {
    p.lines.forEach((l, li) =>
      l.words.forEach((w, wi) => {
        const pts = w.box ? [[w.box[0], w.box[1]], [w.box[2], w.box[3]]] : (w.polygon ?? []);
        if (pts.some(([x, y]) => x > p.width || y > p.height)) {
          ctx.addIssue({ code: 'custom', path: ['lines', li, 'words', wi], message: `word box lies outside the ${p.width}x${p.height} page` });
        }
      }),
    );
  });

/** Supplied OCR results as written (before defaults). */
export type SuppliedOcrInput = z.input<typeof SuppliedOcrSchema>;

/** An OCR result in the SuppliedOcr JSON shape (what {@link parseSuppliedOcr} takes back). */
export function toSuppliedOcr(page: OcrPage): SuppliedOcrInput {
  return {
    width: page.width,
    height: page.height,
    lines: page.lines.map((l) => ({ words: l.words.map((w) => ({ text: w.text, box: [...w.box] as Box, confidence: w.confidence })), confidence: l.confidence })),
  };
}

/** Validates supplied OCR results and converts them to an {@link OcrPage}; ERR_OCR_INPUT naming every problem. */
export function parseSuppliedOcr(value: unknown): OcrPage {
  const r = SuppliedOcrSchema.safeParse(value);
  if (!r.success) {
    throw new DocAnonError(ErrorCode.OCR_INPUT, `invalid OCR results:\n${formatIssues(r.error)}\nSee the SuppliedOcr documentation for the expected JSON shape.`);
  }
  const p = r.data;
  const lines = p.lines.map((l) => {
    const words = l.words.map((w) => {
      const b: Box = w.box
        ? [w.box[0], w.box[1], w.box[2], w.box[3]]
        : [
            Math.min(...w.polygon!.map((q) => q[0])),
            Math.min(...w.polygon!.map((q) => q[1])),
            Math.max(...w.polygon!.map((q) => q[0])),
            Math.max(...w.polygon!.map((q) => q[1])),
          ];
      return { text: w.text, box: b, confidence: w.confidence };
    });
    const confidence = l.confidence ?? words.reduce((a, w) => a + w.confidence, 0) / words.length;
    return { words, box: unionBox(words.map((w) => w.box)), confidence };
  });
  return { width: p.width, height: p.height, lines, engine: 'supplied' };
}

/**
 * An OcrEngine that returns supplied results for the image they belong to. The image is checked
 * (same size) and, when the results hold no words, measured for ink: a page with ink and no text
 * fails with ERR_OCR_NO_TEXT.
 */
export class SuppliedOcr implements OcrEngine {
  private readonly page: OcrPage;
  constructor(results: unknown, private readonly options: { maxPixels?: number; minInkPixels?: number; minInkRatio?: number } = {}) {
    this.page = parseSuppliedOcr(results);
  }

  async recognize(image: OcrImage): Promise<OcrPage> {
    let width: number;
    let height: number;
    const raw = image as RawImage;
    if (!(image instanceof Uint8Array) && typeof raw.width === 'number') {
      width = raw.width;
      height = raw.height;
    } else {
      try {
        const meta = await sharp(image as Uint8Array, { limitInputPixels: this.options.maxPixels ?? DEFAULT_MAX_PIXELS }).metadata();
        width = meta.width ?? 0;
        height = meta.height ?? 0;
      } catch (e) {
        throw new DocAnonError(ErrorCode.IMAGE, `cannot read the image the OCR results belong to: ${(e as Error).message}`, { cause: e });
      }
    }
    if (width !== this.page.width || height !== this.page.height) {
      throw new DocAnonError(
        ErrorCode.OCR_INPUT,
        `the OCR results are for a ${this.page.width}x${this.page.height} page but the image is ${width}x${height}; supply results for this image (same pixel size)`,
      );
    }
    if (this.page.lines.length === 0) {
      const stats = inkStats(await toGrey(image, this.options.maxPixels));
      if (stats.inkPixels >= (this.options.minInkPixels ?? 150) && stats.inkRatio >= (this.options.minInkRatio ?? 0.0001)) {
        throw new DocAnonError(ErrorCode.OCR_NO_TEXT, 'the supplied OCR results hold no text but the page has ink; the page cannot be checked. Supply complete OCR results.');
      }
      return { ...this.page, inkRatio: stats.inkRatio };
    }
    return this.page;
  }

  async close(): Promise<void> {
    // Nothing to free.
  }
}
