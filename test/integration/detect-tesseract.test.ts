/**
 * tesseract.js end to end (offline English data): OCR of a rendered page finds the words with
 * boxes where they were drawn, detection finds the IBAN and email in it, nothing is written to the
 * working folder, and failures (timeout, ink without text) fail closed with codes.
 * Kept small: OCR is CPU-heavy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { isValidIBAN } from 'ibantools';
import { detectPii } from '../../src/detect/detect';
import { languageFile, TesseractOcr } from '../../src/detect/ocr/tesseract';
import type { OcrPage } from '../../src/detect/types';
import { renderLines } from '../helpers/render-text';

const LINES = [
  'ACME Bank plc',
  'Account holder: Mary Johnson',
  'IBAN: GB82 WEST 1234 5698 7654 32',
  'Email: john.smith@example.com',
  'Amount due: 1,234.56 GBP',
];

describe('TesseractOcr', () => {
  let ocr: TesseractOcr;
  let page: OcrPage;
  const rendered = renderLines(LINES, { width: 1100, height: 420, size: 30 });
  const cwdBefore = new Set(fs.readdirSync(process.cwd()));

  beforeAll(async () => {
    ocr = new TesseractOcr({ workers: 2, timeoutMs: 60_000 });
    page = await ocr.recognize(rendered.png);
  });
  afterAll(async () => {
    await ocr.close();
  });

  it('reads the words with boxes where they were drawn', () => {
    expect(page.engine).toBe('tesseract');
    expect([page.width, page.height]).toEqual([1100, 420]);
    expect(page.lines.map((l) => l.words.map((w) => w.text).join(' '))).toEqual(LINES);
    for (const [i, line] of page.lines.entries()) {
      const truth = rendered.lines[i].box;
      // The line's box matches the drawn text within a few pixels.
      line.box.forEach((v, k) => expect(Math.abs(v - truth[k])).toBeLessThanOrEqual(6));
      for (const w of line.words) expect(w.confidence).toBeGreaterThan(0.5);
    }
    expect(page.inkCoverage).toBeGreaterThan(0.95);
  });

  it('feeds detection: the IBAN and the email are found, with boxes over their words', () => {
    const regions = detectPii(page, {}, { includeOriginal: true });
    const iban = regions.find((r) => r.entity === 'iban')!;
    expect(iban.original).toBe('GB82 WEST 1234 5698 7654 32');
    expect(isValidIBAN(iban.replacement.replace(/ /g, ''))).toBe(true);
    const ibanLine = rendered.lines[2].box;
    expect(iban.box[0]).toBeGreaterThan(ibanLine[0] + 60); // starts after "IBAN:"
    expect(Math.abs(iban.box[2] - ibanLine[2])).toBeLessThanOrEqual(6);
    const email = regions.find((r) => r.entity === 'email')!;
    expect(email.original).toBe('john.smith@example.com');
    expect(regions.find((r) => r.entity === 'person')?.original).toBe('Mary Johnson');
    expect(regions.find((r) => r.entity === 'money')?.original).toBe('1,234.56 GBP');
  });

  it('writes no traineddata or cache into the working folder', () => {
    const added = fs.readdirSync(process.cwd()).filter((f) => !cwdBefore.has(f));
    expect(added).toEqual([]);
    expect(fs.existsSync('eng.traineddata')).toBe(false);
  });

  it('fails closed: ink without text, and a timeout (after which the pool restarts)', async () => {
    const rules = await sharp(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="100%" height="100%" fill="white"/><rect x="50" y="100" width="700" height="6"/><rect x="50" y="300" width="700" height="6"/></svg>'),
    ).png().toBuffer();
    await expect(ocr.recognize(rules)).rejects.toMatchObject({ code: 'ERR_OCR_NO_TEXT' });
    await expect(ocr.recognize(rendered.png, { timeoutMs: 1 })).rejects.toMatchObject({ code: 'ERR_OCR_TIMEOUT' });
    const small = renderLines(['Email: a.b@example.org'], { width: 600, height: 120 });
    const again = await ocr.recognize(small.png);
    expect(again.lines[0].words.map((w) => w.text)).toEqual(['Email:', 'a.b@example.org']);
  });

  it('a page that times out does not take the pages read beside it down with the restarted pool', async () => {
    const one = new TesseractOcr({ workers: 1, timeoutMs: 30_000 });
    try {
      const small = renderLines(['Email: a.b@example.org'], { width: 600, height: 120 });
      // Both pages share the one worker; the second's timeout restarts it while the first waits.
      const t0 = Date.now();
      const [a, b] = await Promise.allSettled([one.recognize(small.png), one.recognize(rendered.png, { timeoutMs: 200 })]);
      expect(b).toMatchObject({ status: 'rejected', reason: { code: 'ERR_OCR_TIMEOUT' } });
      expect(a.status).toBe('fulfilled');
      expect((a as PromiseFulfilledResult<OcrPage>).value.lines[0].words.map((w) => w.text)).toEqual(['Email:', 'a.b@example.org']);
      // It was read again at once, not left hanging until its own 30 s limit.
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      await one.close();
    }
  });

  it('accepts blank pages as empty and refuses use after close', async () => {
    const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const other = new TesseractOcr({ workers: 1 });
    await expect(other.recognize(blank)).resolves.toMatchObject({ lines: [] });
    await other.close();
    await expect(other.recognize(blank)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });

  it('close() during a read ends that read with ERR_DISPOSED instead of starting new workers for it', async () => {
    // Before: the read took close() for another page's pool restart and read again on a new pool
    // that nothing terminated (its worker threads kept the process alive).
    const other = new TesseractOcr({ workers: 1, timeoutMs: 60_000 });
    const reading = expect(other.recognize(rendered.png)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    await new Promise((r) => setTimeout(r, 300));
    await other.close();
    await reading;
    expect((other as unknown as { pool: unknown }).pool).toBeUndefined();
  });

  it('reads with language data from a folder of uncompressed traineddata (as Debian ships it), and leaves no link folder behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-tessdata-test-'));
    try {
      fs.writeFileSync(path.join(dir, 'eng.traineddata'), zlib.gunzipSync(fs.readFileSync(languageFile('eng'))));
      const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('doc-anon-tessdata-') && !dir.endsWith(f)));
      const folder = new TesseractOcr({ workers: 1, langPath: dir });
      expect(folder.languages).toEqual(['eng']);
      const read = await folder.recognize(rendered.png);
      expect(read.lines.map((l) => l.words.map((w) => w.text).join(' '))).toEqual(LINES);
      await folder.close();
      const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('doc-anon-tessdata-') && !dir.endsWith(f));
      expect(after.filter((f) => !before.has(f))).toEqual([]);
      // A language the folder lacks is named, with where to get it.
      expect(() => new TesseractOcr({ langPath: dir, languages: ['eng', 'deu'] })).toThrow(expect.objectContaining({ code: 'ERR_OCR', message: expect.stringContaining('deu.traineddata') }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
