/**
 * DiffUTE evaluation, the method's own measure: for held-out (page, line box, text) examples, erase
 * the box and let the model paint the line's own (ground-truth) text back, through the same engine
 * the Anonymizer uses; read the box back with OCR and score character accuracy (1 - CER) and word
 * (line) accuracy, as DiffUTE reports its OCR accuracy. Besides: PSNR / LPIPS of the edited box
 * against the original (style fidelity: the same text redrawn should look like the original), the
 * pixels around the box (the engine's feathered margin) and a check that nothing outside the
 * engine's pasted area moved. OCR of the unedited box is reported too: the ceiling the OCR allows.
 */
import sharp from 'sharp';
import { DocAnonError, ErrorCode, isDocAnonError } from '../core/errors';
import { Tensor } from '../core/tensor';
import type { OcrEngine, RawImage } from '../detect/ocr/engine';
import type { OcrPage } from '../detect/types';
import { DiffuteEngine, type DiffuteEngineOptions, type DiffuteModels } from '../inference/engines/diffute';
import type { DiffutePipeline } from '../models/diffute-pipeline';
import type { DecodedImage } from '../inference/image-io';
import { validateRegions, type Rect } from '../inference/regions';
import type { Lpips } from '../models/lpips';
import { renderGlyph } from '../render/glyph';
import { mixSeed, type PageSource } from '../training/data/pages';
import { Rng } from '../training/synthetic/random';
import { charAccuracy, meanStd, outsideRectError, psnr, psnrFromMse, wordAccuracy } from './metrics';
import type { Stat } from './vae-eval';

/** Options of {@link evaluateDiffuteModels}. */
export interface DiffuteEvalOptions {
  /** The OCR that reads the boxes back (e.g. a TesseractOcr; the caller closes it). */
  ocr: OcrEngine;
  /** Examples evaluated (default 16): example i is one line of page i. */
  limit?: number;
  /** Seed of the line choice and of the sampling (default 0). */
  seed?: number;
  /** Lines with OCR score at or below this are not used (default 0.8, as training). */
  minScore?: number;
  /** Sampling: the engine's options (default DDIM, 20 steps); `seed` is set per example. */
  engine?: Omit<DiffuteEngineOptions, 'seed'>;
  /** LPIPS model (absent: LPIPS is not reported). */
  lpips?: Lpips | null;
  /** Keep this many (original, edited) crops for a sample grid (default 0). */
  keepSamples?: number;
  onProgress?: (done: number, total: number) => void;
}

/** One evaluated example. */
export interface DiffuteExampleResult {
  page: number;
  text: string;
  box: Rect;
  /** What OCR read in the edited box, and in the original box. */
  read: string;
  readOriginal: string;
  charAcc: number;
  wordAcc: number;
  charAccOriginal: number;
  /** Edited box vs original box. */
  boxPsnr: number;
  boxLpips?: number;
  /** The ring around the box (one box height wide) vs the original: the feathered paste margin. */
  ringPsnr: number;
  /** Pixels of the page outside the engine's pasted area that differ from the input (must be 0). */
  changedOutsidePasted: number;
}

/** One DiffUTE evaluation. */
export interface DiffuteEvalReport {
  kind: 'unet';
  examples: number;
  seed: number;
  /** Character accuracy (1 - CER) of the OCR of the edited boxes against the ground truth. */
  ocrCharAcc: Stat;
  /** Fraction of lines read back exactly (DiffUTE's OCR accuracy). */
  ocrWordAcc: number;
  /** The same OCR on the unedited boxes: the ceiling of the two above. */
  ocrCharAccOriginal: Stat;
  ocrWordAccOriginal: number;
  boxPsnr: Stat;
  boxLpips: Stat | null;
  ringPsnr: Stat;
  /** Sum over the examples (must be 0). */
  changedOutsidePasted: number;
  perExample: DiffuteExampleResult[];
  /**
   * Kept examples for a sample grid (not in the JSON report): the window around the box as it was,
   * with the box blacked out (the masked image the UNet sees, DiffUTE's fill), the glyph image of
   * the text (bundled default face, scaled to the window's height) and the result.
   */
  samples?: Array<{ original: Uint8Array; masked: Uint8Array; glyph: { data: Uint8Array; width: number; height: number }; edited: Uint8Array; width: number; height: number }>;
}

function cropRgb(img: { data: Uint8Array; width: number }, r: Rect): Uint8Array {
  const w = r.x1 - r.x0;
  const out = new Uint8Array(w * (r.y1 - r.y0) * 3);
  for (let y = r.y0; y < r.y1; y++) out.set(img.data.subarray((y * img.width + r.x0) * 3, (y * img.width + r.x1) * 3), (y - r.y0) * w * 3);
  return out;
}

function grow(r: Rect, by: number, W: number, H: number, min = 0): Rect {
  const out = { x0: Math.max(0, r.x0 - by), y0: Math.max(0, r.y0 - by), x1: Math.min(W, r.x1 + by), y1: Math.min(H, r.y1 + by) };
  // Widen to at least `min` on each side (LPIPS needs 16 px), inside the page.
  const fit = (a: number, b: number, size: number): [number, number] => {
    if (b - a >= min || size < min) return [a, b];
    const need = min - (b - a);
    const a2 = Math.max(0, a - Math.ceil(need / 2));
    const b2 = Math.min(size, a2 + min);
    return [Math.max(0, b2 - min), b2];
  };
  [out.x0, out.x1] = fit(out.x0, out.x1, W);
  [out.y0, out.y1] = fit(out.y0, out.y1, H);
  return out;
}

function pageText(p: OcrPage): string {
  return p.lines.map((l) => l.words.map((w) => w.text).join(' ')).join(' ');
}

/** Lines are read at least this tall (Tesseract misses punctuation on 13 px text). */
const READ_HEIGHT = 48;

/**
 * OCR of a crop, scaled up to {@link READ_HEIGHT} px (bicubic) and set on a white margin (Tesseract
 * reads a line best with some paper around it); '' when it finds no text.
 */
async function readCrop(ocr: OcrEngine, data: Uint8Array, w0: number, h0: number): Promise<string> {
  const k = Math.max(1, Math.ceil(READ_HEIGHT / h0));
  const w = w0 * k;
  const h = h0 * k;
  if (k > 1) data = new Uint8Array(await sharp(data, { raw: { width: w0, height: h0, channels: 3 } }).resize(w, h, { kernel: 'cubic' }).raw().toBuffer());
  const pad = Math.max(8, Math.round(h / 2));
  const W = w + 2 * pad;
  const H = h + 2 * pad;
  const img = new Uint8Array(W * H * 3).fill(255);
  for (let y = 0; y < h; y++) img.set(data.subarray(y * w * 3, (y + 1) * w * 3), ((y + pad) * W + pad) * 3);
  const raw: RawImage = { data: img, width: W, height: H, channels: 3 };
  try {
    return pageText(await ocr.recognize(raw));
  } catch (e) {
    if (isDocAnonError(e) && (e.code === ErrorCode.OCR_NO_TEXT || e.code === ErrorCode.UNREADABLE)) return '';
    throw e;
  }
}

async function lpipsOf(lpips: Lpips, a: Uint8Array, b: Uint8Array, w: number, h: number): Promise<number> {
  const owned: Tensor[] = [];
  try {
    const ta = Tensor.from(a, [1, h, w, 3], 'uint8');
    const tb = Tensor.from(b, [1, h, w, 3], 'uint8');
    owned.push(ta, tb);
    const fa = await ta.imageToFloat();
    const fb = await tb.imageToFloat();
    owned.push(fa, fb);
    const r = await lpips.forward(fa, fb, { normalize: true });
    owned.push(r.dist, ...r.layers);
    const d = r.dist.device === 'cpu' ? r.dist : owned[owned.push(await r.dist.to('cpu')) - 1];
    return (await d.data<'float32'>())[0];
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** Evaluates a DiffUTE model set on lines of `pages` (see {@link DiffuteEvalOptions}). */
export async function evaluateDiffuteModels(models: DiffuteModels | DiffutePipeline, pages: PageSource, options: DiffuteEvalOptions): Promise<DiffuteEvalReport> {
  const limit = options.limit ?? 16;
  const seed = options.seed ?? 0;
  const minScore = options.minScore ?? 0.8;
  const keep = options.keepSamples ?? 0;
  const per: DiffuteExampleResult[] = [];
  const samples: NonNullable<DiffuteEvalReport['samples']> = [];
  for (let i = 0; i < limit; i++) {
    const page = await pages.page(i);
    const W = page.width;
    const H = page.height;
    const lines = page.annotation.document.filter((l) => l.score > minScore && l.text.trim().length > 0);
    if (lines.length === 0) throw new DocAnonError(ErrorCode.INPUT, `page ${i} of the evaluation data has no OCR line with score above ${minScore} and text`);
    const rng = new Rng(mixSeed(seed ^ 0xe7a1, i));
    const line = lines[rng.int(0, lines.length - 1)];
    const xs = line.box.map((p) => p[0]);
    const ys = line.box.map((p) => p[1]);
    const [region] = validateRegions([{ box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], replacement: line.text, original: line.text }], { width: W, height: H });
    const image: DecodedImage = { data: page.data, width: W, height: H, channels: 3, format: 'png', lossless: true };
    const engine = new DiffuteEngine(models, { sampler: 'ddim', steps: 20, ...options.engine, seed: mixSeed(seed, i) % 2 ** 31 });
    let out: DecodedImage;
    let pasted: Rect;
    try {
      const r = await engine.anonymize(image, [region]);
      out = r.image;
      pasted = r.reports[0].pasted;
    } finally {
      engine.dispose();
    }
    if (out.channels !== 3) throw new DocAnonError(ErrorCode.INTERNAL, `the engine returned a ${out.channels}-channel page for an RGB one`);
    const box = region.rect;
    const bw = box.x1 - box.x0;
    const bh = box.y1 - box.y0;
    const origBox = cropRgb(page, box);
    const editBox = cropRgb(out, box);
    // Read with a little of the surroundings: glyph edges (a comma's tail) may leave the box.
    const rb = grow(box, 3, W, H);
    const [rw, rh] = [rb.x1 - rb.x0, rb.y1 - rb.y0];
    const read = await readCrop(options.ocr, cropRgb(out, rb), rw, rh);
    const readOriginal = await readCrop(options.ocr, cropRgb(page, rb), rw, rh);
    const win = grow(box, bh, W, H, 16);
    const origWin = cropRgb(page, win);
    const editWin = cropRgb(out, win);
    const local = { x0: box.x0 - win.x0, y0: box.y0 - win.y0, x1: box.x1 - win.x0, y1: box.y1 - win.y0 };
    const ring = outsideRectError(origWin, editWin, win.x1 - win.x0, win.y1 - win.y0, 3, local);
    const outside = outsideRectError(page.data, out.data, W, H, 3, pasted);
    const boxLpips = options.lpips ? await lpipsOf(options.lpips, origWin, editWin, win.x1 - win.x0, win.y1 - win.y0) : undefined;
    per.push({
      page: i,
      text: line.text,
      box,
      read,
      readOriginal,
      charAcc: charAccuracy(line.text, read),
      wordAcc: wordAccuracy(line.text, read),
      charAccOriginal: charAccuracy(line.text, readOriginal),
      boxPsnr: psnr(origBox, editBox),
      ...(boxLpips !== undefined ? { boxLpips } : {}),
      ringPsnr: psnrFromMse(ring.mse),
      changedOutsidePasted: outside.changed,
    });
    if (samples.length < keep) {
      const ww = win.x1 - win.x0;
      const wh = win.y1 - win.y0;
      const masked = Uint8Array.from(origWin);
      for (let y = local.y0; y < local.y1; y++) masked.fill(0, (y * ww + local.x0) * 3, (y * ww + local.x1) * 3);
      const g = renderGlyph(line.text);
      const gw = Math.max(1, Math.round((g.width * wh) / g.height));
      const glyph = { data: new Uint8Array(await sharp(g.data, { raw: { width: g.width, height: g.height, channels: 3 } }).resize(gw, wh).raw().toBuffer()), width: gw, height: wh };
      samples.push({ original: origWin, masked, glyph, edited: editWin, width: ww, height: wh });
    }
    options.onProgress?.(i + 1, limit);
  }
  const stat = (f: (e: DiffuteExampleResult) => number): Stat => meanStd(per.map(f));
  return {
    kind: 'unet',
    examples: per.length,
    seed,
    ocrCharAcc: stat((e) => e.charAcc),
    ocrWordAcc: stat((e) => e.wordAcc).mean,
    ocrCharAccOriginal: stat((e) => e.charAccOriginal),
    ocrWordAccOriginal: per.filter((e) => wordAccuracy(e.text, e.readOriginal) === 1).length / Math.max(1, per.length),
    boxPsnr: stat((e) => e.boxPsnr),
    boxLpips: options.lpips ? stat((e) => e.boxLpips as number) : null,
    ringPsnr: stat((e) => e.ringPsnr),
    changedOutsidePasted: per.reduce((s, e) => s + e.changedOutsidePasted, 0),
    perExample: per,
    ...(keep > 0 ? { samples } : {}),
  };
}
