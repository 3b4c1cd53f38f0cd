/**
 * A born-digital PDF page's text layer as an OCR result: the exact text pdf.js extracts, arranged
 * in lines and words with pixel boxes on the rendered page. pdf.js gives each text run's baseline,
 * size and advance, not each glyph's, so word boundaries inside a run are placed at the blank
 * columns of the rendering nearest to where the spaces fall, and each word box is trimmed to its
 * ink. Runs that are not level (rotated text) are left out: the page's OCR covers what the text
 * layer does not.
 */
import { otsuThreshold } from '../detect/ocr/image';
import type { Box, OcrLine, OcrPage, OcrWord } from '../detect/types';
import type { PdfTextRun, RasterPage } from './rasterize';

const M = Math;

/** Ascent and descent of a line box, in font sizes (typical Latin fonts). */
const ASCENT = 0.82;
const DESCENT = 0.24;

/** A grey copy of an RGB page, and its ink threshold. */
function inkOf(page: RasterPage): { grey: Uint8Array; ink: (x: number, y: number) => boolean } {
  const grey = new Uint8Array(page.width * page.height);
  const hist = new Uint32Array(256);
  for (let i = 0, j = 0; i < grey.length; i++, j += 3) {
    const v = (page.data[j] * 299 + page.data[j + 1] * 587 + page.data[j + 2] * 114 + 500) / 1000;
    grey[i] = v;
    hist[grey[i]]++;
  }
  const t = otsuThreshold(hist);
  return { grey, ink: (x, y) => grey[y * page.width + x] <= t };
}

/** Whether column `x` has ink between rows `y0` and `y1`. */
function columnInk(ink: (x: number, y: number) => boolean, x: number, y0: number, y1: number): boolean {
  for (let y = y0; y < y1; y++) if (ink(x, y)) return true;
  return false;
}

/** Words of one level run, with boxes placed on the rendering. */
function runWords(run: PdfTextRun, page: RasterPage, ink: (x: number, y: number) => boolean): OcrWord[] {
  const chars = [...run.str];
  const n = chars.length;
  if (n === 0 || !(run.width > 0)) return [];
  const per = run.width / n;
  const top = M.max(0, M.floor(run.y - ASCENT * run.size));
  const bottom = M.min(page.height, M.ceil(run.y + DESCENT * run.size));
  const at = (i: number): number => run.x + per * i;
  // Word spans by character index.
  const spans: Array<{ a: number; b: number }> = [];
  let i = 0;
  while (i < n) {
    while (i < n && /\s/.test(chars[i])) i++;
    const a = i;
    while (i < n && !/\s/.test(chars[i])) i++;
    if (i > a) spans.push({ a, b: i });
  }
  const clampX = (x: number): number => M.max(0, M.min(page.width - 1, M.round(x)));
  // Split points between words: the blank column nearest to the middle of the spaces between them.
  const cuts: number[] = [];
  for (let k = 0; k + 1 < spans.length; k++) {
    const mid = (at(spans[k].b) + at(spans[k + 1].a)) / 2;
    const reach = M.max(2, 1.5 * per);
    let best = mid;
    for (let d = 0; d <= reach; d++) {
      const l = clampX(mid - d);
      const r = clampX(mid + d);
      if (!columnInk(ink, l, top, bottom)) {
        best = l;
        break;
      }
      if (!columnInk(ink, r, top, bottom)) {
        best = r;
        break;
      }
    }
    cuts.push(best);
  }
  return spans.map((s, k) => {
    const left = k === 0 ? at(s.a) - per / 2 : cuts[k - 1];
    const right = k === spans.length - 1 ? at(s.b) + per / 2 : cuts[k];
    // Trim to the ink inside (when there is none, e.g. invisible text, keep the estimate).
    let x0 = clampX(left);
    let x1 = clampX(right);
    while (x0 < x1 && !columnInk(ink, x0, top, bottom)) x0++;
    while (x1 > x0 && !columnInk(ink, x1, top, bottom)) x1--;
    const box: Box = x1 > x0 ? [x0, top, x1 + 1, bottom] : [clampX(at(s.a)), top, clampX(at(s.b)) + 1, bottom];
    // (One word is at most 500 characters, as any OCR result.)
    return { text: chars.slice(s.a, s.b).join('').slice(0, 500), box, confidence: 1 };
  }).filter((w) => w.box[2] > w.box[0] && w.box[3] > w.box[1]);
}

/**
 * The text layer of a rendered PDF page as an OCR result (engine 'pdf-text'); undefined when the
 * page has no level text.
 */
export function textLayerPage(page: RasterPage): OcrPage | undefined {
  const level = page.text.filter((r) => M.abs(r.angle) < 0.02 && r.str.trim().length > 0);
  if (level.length === 0) return undefined;
  const { ink } = inkOf(page);
  const placed = level.map((r) => ({ r, words: runWords(r, page, ink) })).filter((p) => p.words.length > 0);
  // Lines: runs on one baseline (within a third of their size), left to right, cut where a gap of
  // more than three font sizes separates them (another column, not the same line).
  placed.sort((p, q) => p.r.y - q.r.y || p.r.x - q.r.x);
  const rows: Array<typeof placed> = [];
  for (const p of placed) {
    const row = rows.find((rw) => M.abs(rw[0].r.y - p.r.y) < rw[0].r.size / 3);
    if (row) row.push(p);
    else rows.push([p]);
  }
  const lines: OcrLine[] = [];
  for (const row of rows) {
    row.sort((p, q) => p.r.x - q.r.x);
    let words: OcrWord[] = [];
    let lastRight = -Infinity;
    const flush = (): void => {
      if (words.length === 0) return;
      const box: Box = [M.min(...words.map((w) => w.box[0])), M.min(...words.map((w) => w.box[1])), M.max(...words.map((w) => w.box[2])), M.max(...words.map((w) => w.box[3]))];
      lines.push({ words, box, confidence: 1 });
      words = [];
    };
    for (const p of row) {
      if (p.words[0].box[0] - lastRight > 3 * p.r.size) flush();
      words.push(...p.words);
      lastRight = M.max(lastRight, ...p.words.map((w) => w.box[2]));
    }
    flush();
  }
  // Reading order: top to bottom, then left to right.
  lines.sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  return { width: page.width, height: page.height, lines, engine: 'pdf-text' };
}
