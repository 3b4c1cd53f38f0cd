/**
 * POST /v1/detect and the regions document over HTTP: detect answers the document (originals only
 * when asked), the same document sent back with the image as the `regions` part of POST
 * /v1/anonymize gives the automatic run's output, an edited one (a value kept) is honoured, the
 * JSON answer carries an audit record that verifies against the bytes, PDFs give one page each,
 * and the route has the same token and input checks as anonymize.
 */
import pino from 'pino';
import sharp from 'sharp';
import { verifyAuditRecord } from '../../src/audit/verify';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { Anonymizer } from '../../src/inference/anonymizer';
import { createServer, type DocAnonServer } from '../../src/server/server';
import { generateDocument, type SyntheticDocument } from '../../src/training/synthetic';
import { multipart } from '../helpers/server-client';
import { textPdf } from '../helpers/text-pdf';

const SECRET = 'server-detect-secret-0123456789';

interface Doc {
  kind: string;
  source: { type: string; sha256: string; dpi?: number };
  pages: Array<{ page: number; width: number; height: number; regions: Array<{ box: number[]; entity: string; replacement: string; keep: boolean; original?: string }> }>;
}

describe('POST /v1/detect and regions documents', () => {
  let ocr: TesseractOcr;
  let anonymizer: Anonymizer;
  let server: DocAnonServer;
  let base: string;
  let doc: SyntheticDocument;

  beforeAll(async () => {
    ocr = new TesseractOcr({ workers: 2 });
    anonymizer = await Anonymizer.create({ limits: { maxPixels: 4_000_000, maxRegions: 64 }, detection: { secret: SECRET } }, { ocr });
    server = await createServer({ port: 0, limits: { maxPixels: 4_000_000, maxRegions: 64 } }, { anonymizer, logger: pino({ level: 'silent' }) });
    base = await server.listen();
    doc = await generateDocument({ seed: 5, kind: 'statement', width: 900, height: 700 });
  });
  afterAll(async () => {
    await server?.close();
    anonymizer?.dispose();
    await ocr?.close();
  });

  const post = (route: string, body: Buffer, headers: Record<string, string>): Promise<Response> => fetch(`${base}${route}`, { method: 'POST', body, headers });
  const json = { accept: 'application/json' };

  it('answers the regions document of an image, and the document sent back gives the automatic output', async () => {
    const r = await post('/v1/detect', doc.png, { 'content-type': 'image/png' });
    expect(r.status).toBe(200);
    const d = (await r.json()) as Doc;
    expect(d).toMatchObject({ kind: 'doc-anon/regions', source: { type: 'image' }, pages: [{ page: 1, width: 900, height: 700 }] });
    expect(d.pages[0].regions.length).toBeGreaterThanOrEqual(10);
    expect(d.pages[0].regions.every((x) => x.original === undefined)).toBe(true);

    const auto = await post('/v1/anonymize', doc.png, { 'content-type': 'image/png', ...json });
    const withDoc = multipart([
      { name: 'image', data: doc.png, type: 'image/png' },
      { name: 'regions', data: JSON.stringify(d), type: 'application/json' },
    ]);
    const back = await post('/v1/anonymize', withDoc.body, { 'content-type': withDoc.contentType, ...json });
    expect([auto.status, back.status]).toEqual([200, 200]);
    const [a, b] = (await Promise.all([auto.json(), back.json()])) as Array<{ document: string; report: { mode: string; verified: boolean }; audit: unknown }>;
    const px = (x: string): Promise<Buffer> => sharp(Buffer.from(x, 'base64')).raw().toBuffer();
    expect((await px(b.document)).equals(await px(a.document))).toBe(true);
    expect(b.report).toMatchObject({ mode: 'supplied', verified: true });
    // The audit record verifies against the bytes that went in and came out, HMAC included.
    const v = verifyAuditRecord(b.audit, { input: doc.png, output: Buffer.from(b.document, 'base64') }, { secret: SECRET, requireHmac: true });
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([['input', true], ['output', true], ['hmac', true]]);
    expect(v.record).toMatchObject({ via: 'http', regions: { source: 'document' } });
  });

  it('gives originals only when asked, and honours a kept value', async () => {
    const m = multipart([
      { name: 'image', data: doc.png, type: 'image/png' },
      { name: 'options', data: JSON.stringify({ includeOriginal: true }), type: 'application/json' },
    ]);
    const d = (await (await post('/v1/detect', m.body, { 'content-type': m.contentType })).json()) as Doc;
    const person = d.pages[0].regions.find((x) => x.entity === 'person')!;
    expect(person.original).toEqual(expect.any(String));
    person.keep = true;
    const back = multipart([
      { name: 'image', data: doc.png, type: 'image/png' },
      { name: 'regions', data: JSON.stringify(d), type: 'application/json' },
    ]);
    const r = await post('/v1/anonymize', back.body, { 'content-type': back.contentType, ...json });
    expect(r.status).toBe(200);
    const j = (await r.json()) as { document: string; report: { kept: Array<{ entity: string }> }; audit: { decisions: Array<{ decision: string }> } };
    expect(j.report.kept).toEqual([expect.objectContaining({ entity: 'person' })]);
    expect(j.audit.decisions.filter((x) => x.decision === 'kept')).toHaveLength(1);
    const words = (await ocr.recognize(Buffer.from(j.document, 'base64'))).lines.flatMap((l) => l.words.map((w) => w.text)).join(' ');
    expect(words).toContain(person.original!.split(' ')[0]);
  });

  it('detects every page of a PDF', async () => {
    const pdf = textPdf([['Account holder: Mary Johnson'], ['IBAN: GB82 WEST 1234 5698 7654 32']]);
    const r = await post('/v1/detect', pdf, { 'content-type': 'application/pdf' });
    expect(r.status).toBe(200);
    const d = (await r.json()) as Doc;
    expect(d.source).toMatchObject({ type: 'pdf', dpi: 150 });
    expect(d.pages.map((p) => p.regions.map((x) => x.entity))).toEqual([['person'], ['iban']]);
  });

  it('refuses bad regions documents and options with 400 ERR_INPUT', async () => {
    const send = async (parts: Array<{ name: string; data: string | Buffer }>, route = '/v1/anonymize'): Promise<[number, string]> => {
      const m = multipart(parts.map((p) => ({ ...p, type: p.name === 'image' ? 'image/png' : 'application/json' })));
      const r = await post(route, m.body, { 'content-type': m.contentType });
      return [r.status, ((await r.json()) as { error: { code: string; message: string } }).error.message];
    };
    const img = { name: 'image', data: doc.png };
    expect(await send([img, { name: 'regions', data: JSON.stringify({ kind: 'doc-anon/regions', version: 1, pages: [{ page: 1, width: 900, height: 700, regions: [{ box: [1, 2, 3, 4], replacement: 'x', kepp: true }] }] }) }])).toEqual([
      400,
      expect.stringMatching(/unknown key\(s\) kepp/),
    ]);
    expect(await send([img, { name: 'regions', data: '[' }])).toEqual([400, expect.stringMatching(/the regions part is not valid JSON/)]);
    expect(await send([img, { name: 'regions', data: '{"kind":"doc-anon/regions","version":1,"pages":[]}' }, { name: 'options', data: '{"regions":[]}' }])).toEqual([
      400,
      expect.stringMatching(/not both/),
    ]);
    expect(await send([img, { name: 'options', data: '{"format":"png"}' }], '/v1/detect')).toEqual([400, expect.stringMatching(/format: unknown key/)]);
    expect(await send([img, { name: 'regions', data: '{}' }], '/v1/detect')).toEqual([400, expect.stringMatching(/unknown multipart part\(s\): regions/)]);
  });

  it('needs the token on /v1/detect when one is set, before reading the body', async () => {
    const guarded = await createServer({ port: 0, token: 'a-token-of-16-characters' }, { anonymizer, logger: pino({ level: 'silent' }) });
    const url = await guarded.listen();
    try {
      const r = await fetch(`${url}/v1/detect`, { method: 'POST', body: doc.png, headers: { 'content-type': 'image/png' } });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ERR_UNAUTHORIZED');
    } finally {
      await guarded.close();
    }
  });
});
