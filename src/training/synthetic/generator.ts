/**
 * The synthetic document generator: seeded, realistic pages (bank statements, invoices, forms)
 * rendered with the bundled fonts, returned as a PNG plus exact ground truth in the dataset format
 * (OCR lines and words with 4-point boxes and score 1.0, and the sensitive entities with their
 * types). Feeds tests, examples, benchmarks, smoke training and the detection tests.
 *
 * Boxes are the typographic line boxes: from the font's ascender line to its descender line
 * (hhea metrics at the drawn size), horizontally from the pen origin to the end of the advance.
 * With `rotation` the page content is rotated about the page centre and the boxes are rotated with
 * it (their 4 points stay exact).
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import sharp from 'sharp';
import { z } from 'zod';
import { parseConfig } from '../../core/config';
import { getFont } from '../../render/fonts';
import { DocumentAnnotationSchema, type DocumentAnnotation, type Entity, type OcrLine, type QuadBox } from '../dataset-format';
import { Rng } from './random';
import { DOCUMENT_KINDS, layoutPage, type DocumentKind, type TextItem } from './templates';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** Options of {@link generateDocument} (strict). */
export const SyntheticOptionsSchema = z.strictObject({
  /** Same seed and options, same page (pixels and annotation). */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Page kind; 'random' picks one from the seed. */
  kind: z.enum(['statement', 'invoice', 'form', 'random']).default('random'),
  /** Page size in px (default A4 at 200 dpi). */
  width: z.number().int().min(200).max(10000).default(1654),
  height: z.number().int().min(200).max(14000).default(2339),
  /** Paper: plain white, a light tint, or a tint with a gradient (shading of a scan). */
  background: z.enum(['white', 'tinted', 'gradient']).default('white'),
  /** Gaussian pixel noise, standard deviation in 0..255 units. */
  noise: z.number().min(0).max(40).default(0),
  /** Gaussian blur sigma in px (0 = none; values below 0.3 are treated as 0). */
  blur: z.number().min(0).max(5).default(0),
  /** Rotation of the content in degrees (skew of a scan). */
  rotation: z.number().min(-10).max(10).default(0),
  /** Image file name written into the annotation. */
  imageName: z.string().min(1).optional(),
});
/** Options of the generator, as given. */
export type SyntheticOptions = z.input<typeof SyntheticOptionsSchema>;

/** A generator annotation: page size always present. */
export type SyntheticAnnotation = DocumentAnnotation & { width: number; height: number };

/** A generated page. */
export interface SyntheticDocument {
  /** The page as PNG (RGB, 8 bit). */
  png: Buffer;
  width: number;
  height: number;
  kind: DocumentKind;
  /** Ground truth in the dataset format (validated). */
  annotation: SyntheticAnnotation;
}

type Pt = [number, number];

function makeTransform(width: number, height: number, degrees: number): (p: Pt) => Pt {
  if (degrees === 0) return (p) => p;
  const a = (degrees * M.PI) / 180;
  const cos = M.cos(a);
  const sin = M.sin(a);
  const cx = width / 2;
  const cy = height / 2;
  return ([x, y]) => [cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos];
}

function quad(t: (p: Pt) => Pt, x0: number, y0: number, x1: number, y1: number, w: number, h: number): QuadBox {
  const r = (v: number): number => M.round(v * 100) / 100;
  const pts = ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]] as Pt[]).map((p) => {
    const [x, y] = t(p);
    return [r(M.min(w, M.max(0, x))), r(M.min(h, M.max(0, y)))] as Pt;
  });
  return pts as QuadBox;
}

function paint(ctx: SKRSContext2D, rng: Rng, width: number, height: number, background: string): void {
  if (background === 'white') {
    ctx.fillStyle = '#ffffff';
  } else {
    const tint = [rng.int(240, 252), rng.int(236, 250), rng.int(225, 245)];
    if (background === 'tinted') {
      ctx.fillStyle = `rgb(${tint.join(',')})`;
    } else {
      const g = ctx.createLinearGradient(0, 0, width * rng.float(0.3, 1), height);
      const dark = rng.int(18, 35);
      g.addColorStop(0, `rgb(${tint.join(',')})`);
      g.addColorStop(1, `rgb(${tint.map((c) => c - dark).join(',')})`);
      ctx.fillStyle = g;
    }
  }
  ctx.fillRect(0, 0, width, height);
}

/**
 * Generates one synthetic page. ERR_CONFIG for invalid options. Deterministic: the same options
 * give the same PNG bytes and annotation.
 */
export async function generateDocument(options: SyntheticOptions = {}): Promise<SyntheticDocument> {
  const o = parseConfig(SyntheticOptionsSchema, options, 'synthetic document options');
  const rng = new Rng(o.seed);
  const kind: DocumentKind = o.kind === 'random' ? rng.pick(DOCUMENT_KINDS) : o.kind;
  const { width, height } = o;
  const layout = layoutPage(kind, rng, width, height);

  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  paint(ctx, rng, width, height, o.background);
  const t = makeTransform(width, height, o.rotation);
  if (o.rotation !== 0) {
    ctx.translate(width / 2, height / 2);
    ctx.rotate((o.rotation * M.PI) / 180);
    ctx.translate(-width / 2, -height / 2);
  }
  for (const s of layout.shapes) {
    ctx.fillStyle = s.color;
    ctx.fillRect(s.x, s.y, s.w, s.h);
  }
  const lines: OcrLine[] = [];
  const entities: Entity[] = [];
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'left';
  for (const item of layout.items) {
    const font = getFont(item.font);
    ctx.font = font.cssFont(item.size);
    const text = item.segments.map((s) => s.text).join('');
    const measure = (s: string): number => (s.length === 0 ? 0 : ctx.measureText(s).width);
    const total = measure(text);
    const x = item.align === 'right' ? item.x - total : item.x;
    ctx.fillStyle = item.color;
    ctx.fillText(text, x, item.baseline);
    const top = item.baseline - (item.size * font.metrics.ascender) / font.metrics.unitsPerEm;
    const bottom = item.baseline - (item.size * font.metrics.descender) / font.metrics.unitsPerEm;
    const span = (start: number, end: number): QuadBox => quad(t, x + measure(text.slice(0, start)), top, x + measure(text.slice(0, end)), bottom, width, height);
    const words: OcrLine['words'] = [];
    const re = /\S+/g;
    for (let m = re.exec(text); m; m = re.exec(text)) words.push({ text: m[0], box: span(m.index, m.index + m[0].length), score: 1 });
    const lineIndex = lines.length;
    lines.push({ text, box: quad(t, x, top, x + total, bottom, width, height), score: 1, words });
    let off = 0;
    for (const s of item.segments) {
      if (s.entity) entities.push({ type: s.entity, text: s.text, line: lineIndex, start: off, end: off + s.text.length, box: span(off, off + s.text.length) });
      off += s.text.length;
    }
  }
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = Buffer.alloc(width * height * 3);
  const noise = o.noise;
  const nrng = new Rng(o.seed ^ 0x5bd1e995);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    if (noise > 0) {
      const n = nrng.gauss() * noise;
      for (let k = 0; k < 3; k++) {
        const val = M.round(rgba[j + k] + n);
        rgb[i + k] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
    } else {
      rgb[i] = rgba[j];
      rgb[i + 1] = rgba[j + 1];
      rgb[i + 2] = rgba[j + 2];
    }
  }
  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (o.blur >= 0.3) img = img.blur(o.blur);
  const png = await img.png({ compressionLevel: 6 }).toBuffer();
  const annotation = DocumentAnnotationSchema.parse({
    version: 1,
    ...(o.imageName ? { image: o.imageName } : {}),
    width,
    height,
    document: lines,
    entities,
    meta: { generator: 'doc-anon-torch/synthetic', kind, seed: o.seed },
  });
  return { png, width, height, kind, annotation: { ...annotation, width, height } };
}

export type { TextItem };
