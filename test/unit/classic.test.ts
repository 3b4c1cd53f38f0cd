import { createCanvas } from '@napi-rs/canvas';
import { isDocAnonError } from '../../src/core/errors';
import { ClassicEngine, type ClassicRegionDetails } from '../../src/inference/engines/classic';
import { decodeImage, encodeImage, type DecodedImage } from '../../src/inference/image-io';
import { validateRegions, type Rect } from '../../src/inference/regions';
import { getFont } from '../../src/render/fonts';
import { generateDocument } from '../../src/training/synthetic';

function inside(r: Rect, x: number, y: number): boolean {
  return x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
}

/** Number of bytes outside the union of `rects` that differ between a and b. */
function diffOutside(a: DecodedImage, b: DecodedImage, rects: Rect[]): number {
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (rects.some((r) => inside(r, x, y))) continue;
      const i = (y * a.width + x) * a.channels;
      for (let k = 0; k < a.channels; k++) if (a.data[i + k] !== b.data[i + k]) n++;
    }
  }
  return n;
}

function changedInside(a: DecodedImage, b: DecodedImage, r: Rect): number {
  let n = 0;
  for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) if (a.data[(y * a.width + x) * 3] !== b.data[(y * a.width + x) * 3]) n++;
  return n;
}

async function errorCode(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isDocAnonError(e)) return e.code;
    throw e;
  }
  throw new Error('expected an error');
}

describe('ClassicEngine', () => {
  let page: DecodedImage;
  let regionsIn: { box: [number, number][]; replacement: string }[];

  beforeAll(async () => {
    const doc = await generateDocument({ seed: 21, kind: 'statement', width: 827, height: 1170, background: 'gradient', noise: 2 });
    page = await decodeImage(doc.png);
    regionsIn = doc.annotation.entities.slice(0, 8).map((e, i) => ({ box: e.box as [number, number][], replacement: i % 2 ? '1,234.56' : 'Jane Roe' }));
  });

  it('changes the boxes and leaves every byte outside the pasted areas identical', async () => {
    const regions = validateRegions(regionsIn, page);
    const original = page.data.slice();
    const { image, reports } = await new ClassicEngine({ seed: 1 }).anonymize(page, regions);
    expect(Buffer.from(page.data).equals(Buffer.from(original))).toBe(true); // input untouched
    expect([image.width, image.height, image.channels, image.format]).toEqual([page.width, page.height, page.channels, page.format]);
    expect(reports.map((r) => r.index)).toEqual(regions.map((r) => r.index));
    const pasted = reports.map((r) => r.pasted);
    expect(diffOutside(page, image, pasted)).toBe(0);
    for (const r of reports) {
      expect(r.pasted.x0).toBeLessThanOrEqual(r.box.x0);
      expect(r.pasted.y1).toBeGreaterThanOrEqual(r.box.y1);
      expect(changedInside(page, image, r.box)).toBeGreaterThan(((r.box.x1 - r.box.x0) * (r.box.y1 - r.box.y0)) / 10);
      expect((r.details as unknown as ClassicRegionDetails).inkFound).toBe(true);
    }
    // Through a lossless encode and decode, the guarantee still holds.
    const again = await decodeImage(await encodeImage(image));
    expect(diffOutside(page, again, pasted)).toBe(0);
  });

  it('is deterministic for a seed', async () => {
    const regions = validateRegions(regionsIn, page);
    const a = await new ClassicEngine({ seed: 7 }).anonymize(page, regions);
    const b = await new ClassicEngine({ seed: 7 }).anonymize(page, regions);
    const c = await new ClassicEngine({ seed: 8 }).anonymize(page, regions);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(Buffer.from(a.image.data).equals(Buffer.from(c.image.data))).toBe(false); // paper noise differs
  });

  it('measures the original text size and colour', async () => {
    const regions = validateRegions(regionsIn.slice(0, 3), page);
    const { reports } = await new ClassicEngine().anonymize(page, regions);
    const m = getFont().metrics;
    for (const r of reports) {
      const d = r.details as unknown as ClassicRegionDetails;
      const trueSize = ((r.box.y1 - r.box.y0) * m.unitsPerEm) / (m.ascender - m.descender);
      expect(Math.abs(d.fontSize - trueSize) / trueSize).toBeLessThan(0.15);
      expect(Math.max(...d.textColor)).toBeLessThan(90); // dark ink
      expect(Math.min(...d.background)).toBeGreaterThan(180); // light paper
    }
  });

  it('erases to the background: gradients fitted, no ink left', async () => {
    // A strong diagonal gradient with dark text.
    const w = 400;
    const h = 200;
    const canvas = createCanvas(w, h);
    const ctx = canvas.getContext('2d');
    const g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, 'rgb(250,245,235)');
    g.addColorStop(1, 'rgb(170,160,150)');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    const clean = ctx.getImageData(0, 0, w, h).data;
    ctx.fillStyle = '#101010';
    ctx.font = getFont().cssFont(30);
    ctx.fillText('Secret 4711', 100, 110);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = rgba[i * 4 + k];
    const img: DecodedImage = { data: rgb, width: w, height: h, channels: 3, format: 'png', lossless: true };
    const regions = validateRegions([{ box: [98, 82, 290, 118], replacement: '' }], img);
    const { image } = await new ClassicEngine({ noise: false }).anonymize(img, regions);
    let err = 0;
    let worst = 0;
    let n = 0;
    for (let y = 82; y < 118; y++) {
      for (let x = 98; x < 290; x++) {
        const e = Math.abs(image.data[(y * w + x) * 3] - clean[(y * w + x) * 4]);
        err += e;
        worst = Math.max(worst, e);
        n++;
      }
    }
    expect(err / n).toBeLessThan(3);
    expect(worst).toBeLessThan(12);
  });

  it('handles light text on a dark band', async () => {
    const w = 300;
    const h = 80;
    const canvas = createCanvas(w, h);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = 'rgb(30,58,95)';
    ctx.fillRect(0, 10, w, 60);
    ctx.fillStyle = '#ffffff';
    ctx.font = getFont().cssFont(28);
    ctx.fillText('Balance', 20, 50);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = rgba[i * 4 + k];
    const img: DecodedImage = { data: rgb, width: w, height: h, channels: 3, format: 'png', lossless: true };
    const regions = validateRegions([{ box: [18, 20, 140, 58], replacement: 'Total' }], img);
    const { image, reports } = await new ClassicEngine().anonymize(img, regions);
    const d = reports[0].details as unknown as ClassicRegionDetails;
    expect(Math.min(...d.textColor)).toBeGreaterThan(200);
    expect(d.background[2]).toBeGreaterThan(d.background[0]);
    expect(Math.max(...d.background)).toBeLessThan(120);
    // New bright ink exists inside the box; the old word's right part (no new text there) is dark now.
    let bright = 0;
    for (let y = 20; y < 58; y++) for (let x = 18; x < 140; x++) if (image.data[(y * w + x) * 3] > 200) bright++;
    expect(bright).toBeGreaterThan(50);
    let leftover = 0;
    for (let y = 20; y < 58; y++) for (let x = 105; x < 140; x++) if (image.data[(y * w + x) * 3] > 120) leftover++;
    expect(leftover).toBe(0);
  });

  it('honours an aborted signal and reports progress', async () => {
    const regions = validateRegions(regionsIn.slice(0, 3), page);
    const ac = new AbortController();
    ac.abort();
    expect(await errorCode(new ClassicEngine().anonymize(page, regions, { signal: ac.signal }))).toBe('ERR_ABORTED');
    const seen: string[] = [];
    await new ClassicEngine().anonymize(page, regions, { onProgress: (p) => seen.push(`${p.stage}:${p.done}/${p.total}`) });
    expect(seen).toEqual(['analyse:1/3', 'analyse:2/3', 'analyse:3/3', 'render:1/3', 'render:2/3', 'render:3/3']);
  });

  it('rejects unknown options and regions outside the image', async () => {
    expect(await errorCode(() => new ClassicEngine({ sead: 1 } as never))).toBe('ERR_CONFIG');
    const bad = [{ index: 0, rect: { x0: 0, y0: 0, x1: page.width + 5, y1: 10 }, replacement: 'a' }];
    expect(await errorCode(new ClassicEngine().anonymize(page, bad))).toBe('ERR_ARGUMENT');
  });
});
