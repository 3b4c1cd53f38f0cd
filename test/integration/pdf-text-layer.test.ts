/**
 * Born-digital PDFs are read from their text layer (issue 19): the exact text and word boxes on the
 * rendered page, no OCR of a page the text layer covers; OCR for what it does not cover (a scan
 * inside the page); the output is verified by OCR as always.
 */
import sharp from 'sharp';
import { Anonymizer } from '../../src/inference/anonymizer';
import { anonymizePdf } from '../../src/pdf/anonymize-pdf';
import { rasterizePdf } from '../../src/pdf/rasterize';
import { textLayerPage } from '../../src/pdf/text-layer';
import { IndependentOcr, readableIn } from '../helpers/independent-ocr';
import { renderLines } from '../helpers/render-text';
import { textPdf } from '../helpers/text-pdf';

jest.setTimeout(120_000);

const LINES = ['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654 32', 'Contact: tal197 at users.sf.net', 'This is version 0.21 of the spec.'];

describe('PDF text layer', () => {
  let anonymizer: Anonymizer;
  let independent: IndependentOcr;
  beforeAll(async () => {
    anonymizer = await Anonymizer.create({});
    independent = await IndependentOcr.create();
  });
  afterAll(async () => {
    await independent?.close();
    await anonymizer?.close();
  });

  it('places every word of the text layer on its ink, in lines, in reading order', async () => {
    const [page] = await rasterizePdf(textPdf([LINES], 500, 200), { dpi: 150 });
    const layer = textLayerPage(page)!;
    expect(layer.lines.map((l) => l.words.map((w) => w.text).join(' '))).toEqual(LINES);
    const grey = await sharp(page.data, { raw: { width: page.width, height: page.height, channels: 3 } }).greyscale().raw().toBuffer();
    for (const line of layer.lines) {
      line.words.forEach((w, i) => {
        // Ink at the box's left and right edge columns (trimmed to the glyphs), none between neighbours.
        const col = (x: number): boolean => {
          for (let y = w.box[1]; y < w.box[3]; y++) if (grey[y * page.width + x] < 230) return true;
          return false;
        };
        expect(col(w.box[0]) && col(w.box[2] - 1)).toBe(true);
        if (i > 0) expect(w.box[0]).toBeGreaterThan(line.words[i - 1].box[2]);
      });
    }
  });

  it('detects from the text layer without OCR of the input, and verifies the output by OCR', async () => {
    const r = await anonymizePdf(anonymizer, textPdf([LINES], 500, 200), { includeOriginal: true });
    const p = r.pages[0];
    expect(p.reading).toMatchObject({ source: 'text-layer' });
    expect(p.verified).toBe(true);
    const byEntity = Object.fromEntries(p.detections!.map((d) => [d.entity, d.original]));
    expect(byEntity).toMatchObject({ person: 'Mary Johnson', iban: 'GB82 WEST 1234 5698 7654 32', email: 'tal197 at users.sf.net' });
    // A version number is not money.
    expect(p.detections!.some((d) => d.entity === 'money')).toBe(false);
    const [out] = await rasterizePdf(r.pdf, { dpi: 150 });
    const png = await sharp(out.data, { raw: { width: out.width, height: out.height, channels: 3 } }).png().toBuffer();
    const read = await independent.read(png, 0);
    for (const v of ['Mary Johnson', 'GB82 WEST 1234 5698 7654 32', 'tal197']) expect(read.some((x) => readableIn(x.text, v))).toBe(false);
    expect(read.some((x) => readableIn(x.text, 'version 0.21'))).toBe(true);
  });

  it('reads a picture inside the page by OCR, and replaces what is in it too', async () => {
    // A scanned slip inside a born-digital page: its IBAN is pixels only, in no text layer.
    const slip = renderLines(['Beneficiary IBAN: DE89 3704 0044 0532 0130 00'], { width: 900, height: 90, size: 30, x: 20, y: 15 });
    const { data, info } = await sharp(slip.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pdf = textPdf([LINES.slice(0, 2)], 500, 260, [[{ rgb: data, pixelWidth: info.width, pixelHeight: info.height, x: 20, y: 20, w: 450, h: 45 }]]);
    const r = await anonymizePdf(anonymizer, pdf, { includeOriginal: true });
    const p = r.pages[0];
    expect(p.reading).toMatchObject({ source: 'text-layer+ocr' });
    expect(p.detections!.map((d) => d.original)).toEqual(expect.arrayContaining(['Mary Johnson', 'GB82 WEST 1234 5698 7654 32', 'DE89 3704 0044 0532 0130 00']));
    expect(p.verified).toBe(true);
  });
});
