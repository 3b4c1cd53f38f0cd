/**
 * Issue 7's acceptance check of the classic engine: on synthetic documents with known text, an
 * offline OCR read (tesseract.js, English data from @tesseract.js-data/eng) of the replaced boxes
 * finds none of the original strings and reads the replacements back with >= 90% character
 * accuracy. A handful of crops only, so the suite stays fast.
 */
import sharp from 'sharp';
import type { Worker } from 'tesseract.js';
import { ClassicEngine } from '../../src/inference/engines/classic';
import { decodeImage, type DecodedImage } from '../../src/inference/image-io';
import { expandRect, validateRegions, type Rect } from '../../src/inference/regions';
import { generateDocument } from '../../src/training/synthetic';
import type { Entity } from '../../src/training/dataset-format';
import { charAccuracy, createLineOcr } from '../helpers/tesseract';

const REPLACEMENT: Partial<Record<Entity['type'], string>> = {
  PERSON: 'Laura Bennett',
  DATE: '03/14/2022',
  AMOUNT: '4,318.27',
  ID_NUMBER: 'C-2020-58142',
  ACCOUNT_NUMBER: '7305918264',
  IBAN: 'NL27 RABO 0183 4472 19',
};

async function ocrCrop(worker: Worker, img: DecodedImage, r: Rect): Promise<string> {
  const c = expandRect(r, img, 8);
  const png = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } })
    .extract({ left: c.x0, top: c.y0, width: c.x1 - c.x0, height: c.y1 - c.y0 })
    .resize({ height: (c.y1 - c.y0) * 2 })
    .png()
    .toBuffer();
  const t0 = Date.now();
  const { data } = await worker.recognize(png);
  if (process.env.OCR_DEBUG) console.log(Date.now() - t0, 'ms', JSON.stringify(data.text));
  return data.text.trim();
}

const norm = (s: string): string => s.replace(/\s+/g, '').toLowerCase();

describe('classic engine OCR check', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await createLineOcr();
  });
  afterAll(async () => {
    await worker?.terminate();
  });

  it.each([
    ['statement', { seed: 11, kind: 'statement' as const, background: 'white' as const }],
    ['form on tinted paper with noise', { seed: 5, kind: 'form' as const, background: 'gradient' as const, noise: 3 }],
  ])('replaces text so OCR reads the replacement, not the original (%s)', async (_name, opts) => {
    const doc = await generateDocument(opts);
    const page = await decodeImage(doc.png);
    const picked: Entity[] = [];
    for (const type of ['PERSON', 'DATE', 'AMOUNT', 'ID_NUMBER', 'IBAN'] as const) {
      const e = doc.annotation.entities.find((x) => x.type === type && !picked.includes(x));
      if (e) picked.push(e);
    }
    expect(picked.length).toBeGreaterThanOrEqual(3);
    const regions = validateRegions(picked.map((e) => ({ box: e.box, replacement: REPLACEMENT[e.type]! })), page);
    const { image, reports } = await new ClassicEngine({ seed: 3 }).anonymize(page, regions);
    for (let i = 0; i < picked.length; i++) {
      const original = picked[i].text;
      const replacement = REPLACEMENT[picked[i].type]!;
      // The OCR can read the original on the input (so a miss on the output means something).
      const before = await ocrCrop(worker, page, reports[i].box);
      expect(charAccuracy(before, original)).toBeGreaterThanOrEqual(0.8);
      const after = await ocrCrop(worker, image, reports[i].box);
      expect(norm(after)).not.toContain(norm(original));
      const acc = charAccuracy(after, replacement);
      // Replacements may share characters with the originals (dates, amounts): the read must be
      // clearly closer to the replacement than to the original.
      expect(charAccuracy(after, original)).toBeLessThan(acc - 0.2);
      if (acc < 0.9) throw new Error(`"${replacement}" read back as "${after}" (accuracy ${acc.toFixed(2)}) in ${JSON.stringify(reports[i])}`);
    }
  });
});
