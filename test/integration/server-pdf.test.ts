/**
 * PDF input through the HTTP API: pages rendered by pdf.js (in a worker), anonymized with one
 * Replacer for the document (the same value gets the same fake on every page), returned as a PDF
 * of page images: no text layer, no fonts, none of the original values in the bytes or in an OCR
 * read of the rendered output.
 */
import pino from 'pino';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { Anonymizer } from '../../src/inference/anonymizer';
import { rasterizePdf } from '../../src/pdf/rasterize';
import { writeImagePdf, writeImagePdfAsync } from '../../src/pdf/write';
import { createServer, type DocAnonServer } from '../../src/server/server';
import { norm, pageText } from '../helpers/server-client';
import { textPdf } from '../helpers/text-pdf';

const PAGE1 = ['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654 32', 'Email: john.smith@example.com'];
const PAGE2 = ['Statement page 2', 'IBAN: GB82 WEST 1234 5698 7654 32', 'Phone: +44 20 7946 0958'];
const ORIGINALS = ['Mary Johnson', 'GB82 WEST 1234 5698 7654 32', 'john.smith@example.com', '+44 20 7946 0958'];

describe('PDF input', () => {
  let ocr: TesseractOcr;
  let anonymizer: Anonymizer;
  let server: DocAnonServer;
  let base: string;

  beforeAll(async () => {
    ocr = new TesseractOcr({ workers: 2 });
    anonymizer = await Anonymizer.create({}, { ocr });
    server = await createServer({ port: 0, limits: { pdfDpi: 150 } }, { anonymizer, logger: pino({ level: 'silent' }) });
    base = await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    anonymizer?.dispose();
    await ocr?.close();
  });

  it('renders pages losslessly and writes image-only PDFs that render back to the same pixels', async () => {
    const data = new Uint8Array(50 * 30 * 3).map((_, i) => (i * 7) % 256);
    const pdf = writeImagePdf([{ data, width: 50, height: 30, channels: 3, dpi: 100 }]);
    const [page] = await rasterizePdf(pdf, { dpi: 100 });
    expect([page.width, page.height]).toEqual([50, 30]);
    expect(Buffer.from(page.data).equals(Buffer.from(data))).toBe(true);
    // The thread-pool variant (what anonymizePdf uses) writes the same bytes; bad pages still throw.
    expect((await writeImagePdfAsync([{ data, width: 50, height: 30, channels: 3, dpi: 100 }])).equals(pdf)).toBe(true);
    await expect(writeImagePdfAsync([{ data, width: 51, height: 30, channels: 3, dpi: 100 }])).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  });

  it('anonymizes a 2-page PDF with a text layer: consistent fakes, no text layer, no original readable', async () => {
    const input = textPdf([PAGE1, PAGE2]);
    const r = await fetch(`${base}/v1/anonymize`, { method: 'POST', body: input, headers: { 'content-type': 'application/pdf', accept: 'application/json' } });
    expect(r.status).toBe(200);
    const j = (await r.json()) as { contentType: string; document: string; report: { pages: Array<{ verified: boolean; regions: Array<{ entity: string; replacement: string }> }> } };
    expect(j.contentType).toBe('application/pdf');
    expect(j.report.pages).toHaveLength(2);
    for (const p of j.report.pages) expect(p.verified).toBe(true);
    const iban1 = j.report.pages[0].regions.find((x) => x.entity === 'iban')!;
    const iban2 = j.report.pages[1].regions.find((x) => x.entity === 'iban')!;
    expect(iban1.replacement).toBe(iban2.replacement);
    expect(j.report.pages[0].regions.map((x) => x.entity)).toEqual(expect.arrayContaining(['person', 'iban', 'email']));

    const out = Buffer.from(j.document, 'base64');
    const latin = out.toString('latin1');
    expect(latin.startsWith('%PDF-')).toBe(true);
    // Object structure without the stream bodies: compressed image bytes can contain any byte
    // sequence ("Tj" included), so only the dictionaries and the uncompressed page contents count.
    const structure = latin.replace(/stream\r?\n[\s\S]*?endstream/g, (m) => (m.length < 400 ? m : 'stream endstream'));
    expect(structure).not.toMatch(/\/Font|\/Type1|BT |Tj/);
    expect(structure).toMatch(/\/Subtype \/Image/);
    for (const o of ORIGINALS) expect(latin).not.toContain(o);
    const pages = await rasterizePdf(out, { dpi: 150 });
    expect(pages).toHaveLength(2);
    const text = (await Promise.all(pages.map((p) => ocr.recognize(p)))).map(pageText).join(' ');
    expect(text).toContain('accountholder');
    for (const o of ORIGINALS) expect(text).not.toContain(norm(o));
  });

  it('refuses PDFs over the page or pixel limits, and broken ones, with codes', async () => {
    const s = await createServer({ port: 0, limits: { pdfMaxPages: 1 } }, { anonymizer, logger: pino({ level: 'silent' }) });
    const url = await s.listen();
    try {
      const r = await fetch(`${url}/v1/anonymize`, { method: 'POST', body: textPdf([PAGE1, PAGE2]), headers: { 'content-type': 'application/pdf' } });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ERR_PDF');
    } finally {
      await s.close();
    }
    await expect(rasterizePdf(Buffer.from('%PDF-1.7\n1 0 obj << >>'))).rejects.toMatchObject({ code: 'ERR_PDF' });
    await expect(rasterizePdf(textPdf([PAGE1], 14400, 14400), { dpi: 300 })).rejects.toMatchObject({ code: 'ERR_IMAGE_TOO_LARGE' });
    // Pages each under the per-page limit, together over the document's (all are held at once):
    // refused before any page renders.
    const many = textPdf(Array.from({ length: 6 }, () => PAGE1), 1000, 1000); // 1 MP per page at 72 dpi
    await expect(rasterizePdf(many, { dpi: 72, maxTotalPixels: 5_000_000 })).rejects.toMatchObject({
      code: 'ERR_IMAGE_TOO_LARGE',
      message: expect.stringMatching(/pages 1-6 render to 6000000 pixels .* over the limit of 5000000 for the whole document/),
    });
    expect(await rasterizePdf(many, { dpi: 72, maxTotalPixels: 6_000_000 })).toHaveLength(6);
  });
});
