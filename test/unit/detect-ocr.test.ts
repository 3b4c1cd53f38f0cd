import sharp from 'sharp';
import { splitBands } from '../../src/detect/ocr/bands';
import { inkCoverage, inkStats, toGrey, toPgm } from '../../src/detect/ocr/image';
import { SuppliedOcr, parseSuppliedOcr } from '../../src/detect/ocr/supplied';
import { linesFromBlocks } from '../../src/detect/ocr/tesseract';

async function png(width: number, height: number, rects: [number, number, number, number][] = []): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${rects
    .map(([x, y, w, h]) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="black"/>`)
    .join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const VALID = {
  width: 400,
  height: 200,
  lines: [
    { words: [{ text: 'IBAN:', box: [10, 10, 60, 30], confidence: 0.9 }, { text: 'DE89370400440532013000', polygon: [[70, 10], [300, 12], [300, 32], [70, 30]] }] },
  ],
};

describe('SuppliedOcr', () => {
  it('converts the documented shape (boxes, polygons, default confidence)', () => {
    const p = parseSuppliedOcr(VALID);
    expect(p.engine).toBe('supplied');
    expect(p.lines[0].words[1]).toEqual({ text: 'DE89370400440532013000', box: [70, 10, 300, 32], confidence: 1 });
    expect(p.lines[0].box).toEqual([10, 10, 300, 32]);
    expect(p.lines[0].confidence).toBeCloseTo(0.95);
  });
  it.each([
    [{ ...VALID, extra: 1 }, /extra: unknown key/],
    [{ ...VALID, width: -1 }, /width/],
    [{ ...VALID, lines: [{ words: [{ text: 'a b', box: [0, 0, 5, 5] }] }] }, /must not contain whitespace/],
    [{ ...VALID, lines: [{ words: [{ text: 'a', box: [5, 0, 1, 5] }] }] }, /x0 < x1/],
    [{ ...VALID, lines: [{ words: [{ text: 'a' }] }] }, /exactly one of box or polygon/],
    [{ ...VALID, lines: [{ words: [{ text: 'a', box: [0, 0, 5, 5], polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] }] }, /exactly one of box or polygon/],
    [{ ...VALID, lines: [{ words: [{ text: 'a', box: [0, 0, 500, 5] }] }] }, /outside the 400x200 page/],
    [{ ...VALID, lines: [{ words: [{ text: 'a', box: [0, 0, 5, 5], confidence: 97 }] }] }, /confidence/],
    [{ ...VALID, lines: [{ words: [] }] }, /lines.0.words/],
    ['not json', /expected object/],
  ])('rejects malformed results with ERR_OCR_INPUT (%#)', (value, message) => {
    let err: unknown;
    try {
      parseSuppliedOcr(value);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_OCR_INPUT' });
    expect((err as Error).message).toMatch(message);
  });
  it('checks the image size and fails closed on a page with ink but no words', async () => {
    const img = await png(400, 200, [[20, 20, 200, 40]]);
    await expect(new SuppliedOcr(VALID).recognize(img)).resolves.toMatchObject({ width: 400 });
    await expect(new SuppliedOcr({ ...VALID, width: 401 }).recognize(img)).rejects.toMatchObject({ code: 'ERR_OCR_INPUT' });
    await expect(new SuppliedOcr({ ...VALID, lines: [] }).recognize(img)).rejects.toMatchObject({ code: 'ERR_OCR_NO_TEXT' });
    const blank = await png(400, 200);
    await expect(new SuppliedOcr({ ...VALID, lines: [] }).recognize(blank)).resolves.toMatchObject({ lines: [] });
  });
});

describe('OCR image helpers', () => {
  it('decodes to grey, measures ink and its coverage by boxes', async () => {
    const g = await toGrey(await png(100, 50, [[10, 10, 20, 10], [60, 30, 10, 10]]));
    expect([g.width, g.height]).toEqual([100, 50]);
    const s = inkStats(g);
    expect(s.background).toBe(255);
    expect(s.inkPixels).toBe(300);
    expect(s.rows[15]).toBe(20);
    expect(inkCoverage(g, s, [[0, 0, 40, 25]])).toBeCloseTo(200 / 300);
    expect(toPgm(g, 10, 20).subarray(0, 13).toString()).toBe('P5\n100 10\n255');
  });
  it('refuses broken images and images over the pixel limit', async () => {
    const good = await png(100, 50);
    await expect(toGrey(good.subarray(0, 40))).rejects.toMatchObject({ code: 'ERR_IMAGE' });
    await expect(toGrey(good, 1000)).rejects.toMatchObject({ code: 'ERR_IMAGE_TOO_LARGE' });
    await expect(toGrey({ data: new Uint8Array(10), width: 5, height: 5, channels: 1 })).rejects.toMatchObject({ code: 'ERR_IMAGE' });
  });
  it('splits bands only at blank rows', () => {
    const rows = new Uint32Array(1000).fill(5);
    for (let y = 480; y < 520; y++) rows[y] = 0; // one blank gap near the middle
    expect(splitBands(rows, 2)).toEqual([[0, 499], [499, 1000]]);
    expect(splitBands(new Uint32Array(1000).fill(5), 2)).toEqual([[0, 1000]]);
    expect(splitBands(rows, 1)).toEqual([[0, 1000]]);
  });
  it('converts tesseract blocks with the band offset and 0..1 confidences', () => {
    const lines = linesFromBlocks(
      [{ paragraphs: [{ lines: [{ confidence: 90, bbox: { x0: 1, y0: 2, x1: 30, y1: 12 }, words: [{ text: 'Hi', confidence: 80, bbox: { x0: 1, y0: 2, x1: 10, y1: 12 } }, { text: ' ', confidence: 0, bbox: { x0: 11, y0: 2, x1: 12, y1: 12 } }] }] }] }],
      100,
    );
    expect(lines).toEqual([{ words: [{ text: 'Hi', box: [1, 102, 10, 112], confidence: 0.8 }], box: [1, 102, 30, 112], confidence: 0.9 }]);
  });
});
