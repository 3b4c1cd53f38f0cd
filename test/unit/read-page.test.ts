/**
 * The parts of reading a page, without an OCR engine: frames and turns, the layout analysis (text
 * height, skew, polarity, noise), the cleanup for reading, and the readability score.
 */
import sharp, { type Sharp } from 'sharp';
import { toGrey, type GreyImage } from '../../src/detect/ocr/image';
import { cleanForReading } from '../../src/detect/read/clean';
import { applyReadingTransform, boxToUpright, inverseTurn, ORIENTATIONS, turnBox, turnedSize, turnPixels } from '../../src/detect/read/geometry';
import { analyseLayout } from '../../src/detect/read/layout';
import { judgeReadability } from '../../src/detect/read/read-page';
import { assessReadability, plausibleToken } from '../../src/detect/read/readability';
import type { Box, OcrPage } from '../../src/detect/types';
import { renderLines } from '../helpers/render-text';

const LINES = ['Account holder: Margaret Whitfield', 'IBAN: GB33 BUKB 2020 1555 5555 55', 'Card number: 4111 1111 1111 1111', 'Statement date: 14 March 2026'];

async function grey(png: Buffer): Promise<GreyImage> {
  return toGrey(png);
}

/** Centre of the dark pixels of a grey image. */
function inkCentre(g: GreyImage): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      if (g.data[y * g.width + x] < 128) {
        sx += x + 0.5;
        sy += y + 0.5;
        n++;
      }
    }
  }
  return [sx / n, sy / n];
}

describe('frames and turns', () => {
  it('turns pixels losslessly and maps boxes exactly, for every orientation', async () => {
    const img = { data: Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 251), width: 5, height: 3, channels: 3 as const };
    for (const deg of ORIENTATIONS) {
      const turned = await turnPixels(img, deg);
      expect({ width: turned.width, height: turned.height }).toEqual(turnedSize(img, deg));
      const back = await turnPixels(turned, inverseTurn(deg));
      expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
      // The pixel at (x, y) lands inside the turned box of its own 1x1 box.
      const box: Box = [3, 1, 4, 2];
      const [x0, y0] = turnBox(box, img, deg);
      for (let k = 0; k < 3; k++) expect(turned.data[(y0 * turned.width + x0) * 3 + k]).toBe(img.data[(1 * 5 + 3) * 3 + k]);
      expect(turnBox(turnBox(box, img, deg), turnedSize(img, deg), inverseTurn(deg))).toEqual(box);
    }
  });

  it('maps a point of the deskewed, upscaled reading image back to the page within a pixel', async () => {
    const w = 300;
    const h = 200;
    const data = new Uint8Array(w * h).fill(255);
    for (let y = 40; y < 46; y++) for (let x = 220; x < 226; x++) data[y * w + x] = 0;
    const g = { data, width: w, height: h };
    for (const [skew, scale] of [[4, 1], [-7, 2.5], [0, 3]] as const) {
      const { image, transform } = await applyReadingTransform(g, skew, scale, 255);
      const [cx, cy] = inkCentre(image);
      const b = boxToUpright(transform, [cx - 0.5, cy - 0.5, cx + 0.5, cy + 0.5]);
      expect(Math.abs((b[0] + b[2]) / 2 - 223)).toBeLessThan(1.5);
      expect(Math.abs((b[1] + b[3]) / 2 - 43)).toBeLessThan(1.5);
    }
  });
});

describe('layout', () => {
  const page = renderLines(LINES, { width: 900, height: 320, size: 26 });

  it('measures the text height and finds no skew on a level page', async () => {
    const l = analyseLayout(await grey(page.png));
    expect(l.characters.length).toBeGreaterThan(60);
    expect(l.textHeight).toBeGreaterThan(14);
    expect(l.textHeight).toBeLessThan(26);
    expect(Math.abs(l.skew)).toBeLessThan(0.5);
    expect(l.inverted).toBe(false);
  });

  it('finds the skew of a rotated page, both ways', async () => {
    for (const angle of [3.5, -6]) {
      const rotated = await sharp(page.png).rotate(angle, { background: '#ffffff' }).png().toBuffer();
      const l = analyseLayout(await grey(rotated));
      expect(Math.abs(l.skew - angle)).toBeLessThan(0.4);
    }
  });

  it('tells a negative page, and measures noise on the paper', async () => {
    const negative = analyseLayout(await grey(await sharp(page.png).negate({ alpha: false }).png().toBuffer()));
    expect(negative.inverted).toBe(true);
    expect(negative.paperLevel).toBeLessThan(60);
    const { data, info } = await sharp(page.png).greyscale().raw().toBuffer({ resolveWithObject: true });
    let seed = 7;
    const noisy = Uint8Array.from(data, (v) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.max(0, Math.min(255, v + ((seed >>> 16) % 61) - 30));
    });
    const clean = analyseLayout({ data: new Uint8Array(data), width: info.width, height: info.height });
    const rough = analyseLayout({ data: noisy, width: info.width, height: info.height });
    expect(clean.paperNoise).toBeLessThan(2);
    expect(rough.paperNoise).toBeGreaterThan(6);
  });
});

describe('cleanup for reading', () => {
  const page = renderLines(LINES, { width: 900, height: 320, size: 26 });

  it('makes a faint page and a negative page black on white', async () => {
    for (const f of [(s: Sharp) => s.linear(0.3, 178), (s: Sharp) => s.negate({ alpha: false })]) {
      const g = await grey(await f(sharp(page.png)).png().toBuffer());
      const { image, steps } = await cleanForReading(g, analyseLayout(g));
      expect(steps.length).toBeGreaterThan(0);
      const l = analyseLayout(image);
      expect(l.inverted).toBe(false);
      expect(l.paperLevel).toBeGreaterThan(240);
      expect(l.inkLevel).toBeLessThan(60);
    }
  });

  it('erases ruled lines and leaves the text', async () => {
    const { data, info } = await sharp(page.png).greyscale().raw().toBuffer({ resolveWithObject: true });
    const ruled = new Uint8Array(data);
    for (const y of [50, 100, 150]) for (let x = 20; x < 880; x++) ruled[y * info.width + x] = 0;
    for (let y = 20; y < 300; y++) ruled[y * info.width + 40] = 0;
    const g = { data: ruled, width: info.width, height: info.height };
    const { image, steps } = await cleanForReading(g, analyseLayout(g));
    expect(steps).toContain('rules-removed');
    expect(image.data[100 * info.width + 500]).toBeGreaterThan(200);
    expect(image.data[200 * info.width + 40]).toBeGreaterThan(200);
    // The characters are still there.
    expect(analyseLayout(image).characters.length).toBeGreaterThan(analyseLayout({ data: new Uint8Array(data), width: info.width, height: info.height }).characters.length * 0.9);
  });
});

describe('readability', () => {
  it('tells tokens of ordinary shapes from garbage', () => {
    for (const t of ['Statement', 'IBAN:', 'GB33', '4111', '14.03.2026', '-1,312.18', 'C-2024-88862', 'jane.doe@example.org', "O'Brien", 'Müller', 'naïve', '1st'])
      expect([t, plausibleToken(t)]).toEqual([t, true]);
    for (const t of ['yeuueH', 'JaWOJsND', "ZYL'ET4", 'Uos|aN', 'edIssaf', '€202°90°8T', 'qwrtzp', '|'])
      expect([t, plausibleToken(t)]).toEqual([t, false]);
  });

  it('scores a confident reading high, a garbled one low, and sees unread text', async () => {
    const page = renderLines(LINES, { width: 900, height: 320, size: 26 });
    const layout = analyseLayout(await grey(page.png));
    // Words boxed by their share of the line's characters; garbled: mirrored with mixed case.
    const words = (conf: number, garble: boolean): OcrPage => ({
      width: 900,
      height: 320,
      engine: 'test',
      lines: page.lines.map((l) => {
        const per = (l.box[2] - l.box[0]) / l.text.length;
        let at = 0;
        return {
          box: l.box,
          confidence: conf,
          words: l.text.split(' ').map((w) => {
            const box: Box = [l.box[0] + at * per, l.box[1], l.box[0] + (at + w.length) * per, l.box[3]];
            at += w.length + 1;
            const text = garble ? w.split('').reverse().map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('') + '°' : w;
            return { text, box, confidence: conf };
          }),
        };
      }),
    });
    const good = assessReadability(words(0.95, false), layout.characters);
    expect(good.score).toBeGreaterThan(0.9);
    expect(good.unreadInk).toBeLessThan(0.1); // (the test's word boxes are estimates)
    const bad = assessReadability(words(0.3, true), layout.characters);
    expect(bad.score).toBeLessThan(0.2);
    const opts = { minReadability: 0.55, maxUnreadInk: 0.35 };
    expect(judgeReadability(good, opts, true)).toEqual([]);
    expect(judgeReadability(bad, opts, true)[0]).toMatch(/the reading is poor/);
    // Half the lines not read: that ink is unread.
    const half = words(0.95, false);
    half.lines = half.lines.slice(0, 2);
    const partly = assessReadability(half, layout.characters);
    expect(partly.unreadInk).toBeGreaterThan(0.35);
    expect(judgeReadability(partly, opts, true).join()).toMatch(/not read/);
    // Nothing read: fine on a blank page, a problem on a page with text.
    const none = assessReadability({ width: 900, height: 320, engine: 'test', lines: [] }, layout.characters);
    expect(judgeReadability(none, opts, false)).toEqual([]);
    expect(judgeReadability(none, opts, true)[0]).toMatch(/no words could be read/);
  });
});
