/**
 * Cleans an upright page for the OCR only (the output is never written anywhere): a negative page
 * made positive, heavy scan noise removed, uneven lighting flattened (a photo's shading, a dark
 * surround), faint print stretched to black on white, and ruled lines erased (tesseract skips text
 * boxed in by a table grid). Same size as the input, so boxes need no mapping. Each step runs only
 * when the layout says the page needs it.
 */
import sharp from 'sharp';
import type { GreyImage } from '../ocr/image';
import type { PageLayout } from './layout';

const M = Math;

/** What was done to a page for reading. */
export type CleanupStep = 'negated' | 'denoised' | 'flattened' | 'stretched' | 'rules-removed';

/** Specks per character, or paper noise (sigma), above which the page is median-filtered. */
const SPECKS_PER_CHARACTER = 2;
const NOISE_SIGMA = 6;
/** Paper-level spread (levels) above which the lighting is flattened. */
const FLATTEN_SPREAD = 24;
/** Paper-to-ink distance below which the contrast is stretched. */
const STRETCH_BELOW = 150;

/** Local maxima over a (2r+1)^2 window, separably (r in pixels of `img`). */
function maxFilter(data: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const tmp = new Uint8Array(data.length);
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const off = y * w;
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let i = M.max(0, x - r); i <= M.min(w - 1, x + r); i++) if (data[off + i] > m) m = data[off + i];
      tmp[off + x] = m;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      let m = 0;
      for (let j = M.max(0, y - r); j <= M.min(h - 1, y + r); j++) if (tmp[j * w + x] > m) m = tmp[j * w + x];
      out[y * w + x] = m;
    }
  }
  return out;
}

/**
 * The paper's brightness everywhere (ink removed by a local maximum over several text heights,
 * then smoothed), at full size; undefined when the paper is even.
 */
async function paperMap(img: GreyImage, textHeight: number): Promise<Uint8Array | undefined> {
  const h = textHeight > 0 ? textHeight : 16;
  const f = M.max(1, M.round(h / 2));
  const sw = M.max(1, M.round(img.width / f));
  const sh = M.max(1, M.round(img.height / f));
  const small = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } })
    .resize(sw, sh, { kernel: 'cubic', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  // A window of about 6 text heights always reaches paper between letters and lines.
  const bg = maxFilter(new Uint8Array(small.buffer, small.byteOffset, small.length), sw, sh, M.max(2, M.round((6 * h) / f / 2)));
  const sorted = Uint8Array.from(bg).sort();
  const spread = sorted[M.floor(sorted.length * 0.95)] - sorted[M.floor(sorted.length * 0.05)];
  if (spread <= FLATTEN_SPREAD) return undefined;
  const full = await sharp(bg, { raw: { width: sw, height: sh, channels: 1 } })
    .blur(M.max(1, (2 * h) / f))
    .resize(img.width, img.height, { kernel: 'cubic', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return new Uint8Array(full.buffer, full.byteOffset, full.length);
}

/** Erases straight runs of ink longer than `len` (rules, table grids, frames), in place. */
function eraseRules(data: Uint8Array, w: number, h: number, len: number, threshold: number): boolean {
  const mark = new Uint8Array(data.length);
  let found = false;
  for (let y = 0; y < h; y++) {
    const off = y * w;
    let x = 0;
    while (x < w) {
      if (data[off + x] > threshold) {
        x++;
        continue;
      }
      const s = x;
      while (x < w && data[off + x] <= threshold) x++;
      if (x - s >= len) {
        mark.fill(1, off + s, off + x);
        found = true;
      }
    }
  }
  for (let x = 0; x < w; x++) {
    let y = 0;
    while (y < h) {
      if (data[y * w + x] > threshold) {
        y++;
        continue;
      }
      const s = y;
      while (y < h && data[y * w + x] <= threshold) y++;
      if (y - s >= len) {
        for (let j = s; j < y; j++) mark[j * w + x] = 1;
        found = true;
      }
    }
  }
  if (!found) return false;
  // Widen by one pixel: anti-aliased rule edges would otherwise stay as thin grey lines.
  for (let i = 0; i < data.length; i++) {
    if (mark[i] || (i % w > 0 && mark[i - 1]) || (i % w < w - 1 && mark[i + 1]) || (i >= w && mark[i - w]) || (i + w < data.length && mark[i + w])) {
      data[i] = 255;
    }
  }
  return true;
}

/** Cleans an upright grey page for reading (see the module comment). */
export async function cleanForReading(img: GreyImage, layout: PageLayout): Promise<{ image: GreyImage; steps: CleanupStep[]; paper: number }> {
  const steps: CleanupStep[] = [];
  const { width: w, height: h } = img;
  let data = img.data;
  let paper = layout.paperLevel;
  let ink = layout.inkLevel;
  if (layout.inverted) {
    data = data.map((v) => 255 - v);
    paper = 255 - paper;
    ink = 255 - ink;
    steps.push('negated');
  }
  if (layout.paperNoise > NOISE_SIGMA || (layout.specks > 500 && layout.specks > SPECKS_PER_CHARACTER * layout.characters.length)) {
    const out = await sharp(data, { raw: { width: w, height: h, channels: 1 } }).median(3).extractChannel(0).raw().toBuffer();
    data = new Uint8Array(out.buffer, out.byteOffset, out.length);
    steps.push('denoised');
  }
  const map = await paperMap({ data, width: w, height: h }, layout.textHeight);
  if (map) {
    // Divide by the paper: the paper becomes white everywhere, ink keeps its contrast to it.
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = M.min(255, M.round((data[i] * 255) / M.max(1, map[i])));
    data = out;
    ink = M.round((ink * 255) / M.max(1, paper));
    paper = 255;
    steps.push('flattened');
  }
  if (paper - ink < STRETCH_BELOW && paper > ink) {
    const a = 255 / (paper - ink);
    const lut = new Uint8Array(256);
    for (let v = 0; v < 256; v++) lut[v] = M.max(0, M.min(255, M.round((v - ink) * a)));
    data = data.map((v) => lut[v]);
    ink = 0;
    paper = 255;
    steps.push('stretched');
  }
  const len = M.max(40, 4 * (layout.textHeight || 16));
  const copy = data === img.data ? Uint8Array.from(data) : data;
  if (eraseRules(copy, w, h, len, (paper + ink) >> 1)) {
    data = copy;
    steps.push('rules-removed');
  }
  return { image: steps.length === 0 ? img : { data, width: w, height: h }, steps, paper };
}
