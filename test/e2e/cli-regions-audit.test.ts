/**
 * The regions document and the audit record through the CLI: `detect --json` fed back to
 * `anonymize --regions` gives the automatic run's output pixel for pixel; an edited document (a
 * value kept, a region dropped and kept, a box added) is honoured and still verified; the deprecated
 * bare array still works; a PDF goes through detect and back; `audit verify` accepts the record of
 * a run and refuses it after a one-byte change to the output or an edit of the record.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { runCli as run } from '../helpers/cli';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { generateDocument, type SyntheticDocument } from '../../src/training/synthetic';
import { norm, pageText } from '../helpers/server-client';
import { textPdf } from '../helpers/text-pdf';

interface DocRegion {
  box: [number, number, number, number];
  entity?: string;
  replacement: string;
  keep: boolean;
  original?: string;
  recognizer?: string;
}
interface RegionsDoc {
  kind: string;
  version: number;
  source: { type: string; sha256: string; dpi?: number };
  pages: Array<{ page: number; width: number; height: number; regions: DocRegion[] }>;
}

describe('regions document and audit record (CLI)', () => {
  let dir: string;
  let doc: SyntheticDocument;
  let ocr: TesseractOcr;
  const savedSecret = process.env.DOC_ANON_SECRET;
  const file = (n: string): string => path.join(dir, n);
  const pixels = async (f: string): Promise<Buffer> => (await sharp(f).raw().toBuffer());

  beforeAll(async () => {
    // The secret makes the fakes of `detect` and of an automatic run the same: the comparison below
    // is then of the very same replacements.
    process.env.DOC_ANON_SECRET = 'regions-test-secret-0123456789';
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-regions-'));
    doc = await generateDocument({ seed: 11, kind: 'statement', width: 900, height: 700 });
    fs.writeFileSync(file('page.png'), doc.png);
    ocr = new TesseractOcr({ workers: 2 });
  });
  afterAll(async () => {
    if (savedSecret === undefined) delete process.env.DOC_ANON_SECRET;
    else process.env.DOC_ANON_SECRET = savedSecret;
    await ocr?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('detect --json fed to anonymize --regions gives the automatic run\'s output, pixel for pixel', async () => {
    let r = await run(['detect', file('page.png'), '--out', file('regions.json')]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/region\(s\) on 1 page\(s\)/)]);
    const d = JSON.parse(fs.readFileSync(file('regions.json'), 'utf8')) as RegionsDoc;
    expect(d).toMatchObject({ kind: 'doc-anon/regions', version: 1, source: { type: 'image' } });
    expect(d.pages[0].regions.length).toBeGreaterThanOrEqual(10);
    r = await run(['anonymize', file('page.png'), '--out', file('auto.png'), '--report', file('auto.json')]);
    expect(r.code).toBe(0);
    r = await run(['anonymize', file('page.png'), '--regions', file('regions.json'), '--out', file('from-doc.png'), '--report', file('from-doc.json')]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/, verified: /)]);
    expect((await pixels(file('from-doc.png'))).equals(await pixels(file('auto.png')))).toBe(true);
    expect((await pixels(file('from-doc.png'))).equals(await pixels(file('page.png')))).toBe(false);
    // The report says where the regions came from and keeps what the document said about them.
    const rep = JSON.parse(fs.readFileSync(file('from-doc.json'), 'utf8'));
    expect(rep).toMatchObject({ kind: 'doc-anon/audit', engine: 'classic', regions: { source: 'document' }, verified: true });
    expect(rep.pages[0].regions.map((x: { entity: string }) => x.entity)).toEqual(d.pages[0].regions.map((x) => x.entity));
  });

  it('honours an edited document: a kept value stays readable and the page still verifies; an added box is replaced', async () => {
    const d = JSON.parse(fs.readFileSync(file('regions.json'), 'utf8')) as RegionsDoc;
    const regions = d.pages[0].regions;
    // Keep the account holder's name (a person), drop a date from the list but keep it (what the
    // review page does on delete), and add a box over a heading word by hand.
    const person = regions.find((x) => x.entity === 'person')!;
    person.keep = true;
    const date = regions.find((x) => x.entity === 'date')!;
    date.keep = true;
    const before = await ocr.recognize(doc.png);
    // (A word the page has once: the verification would rightly find a second one still readable.)
    const words = before.lines.flatMap((l) => l.words);
    const once = (t: string): boolean => words.filter((w) => norm(w.text) === norm(t)).length === 1;
    const heading = words.find((w) => /^[A-Za-z]{6,}$/.test(w.text) && once(w.text) && !regions.some((x) => overlaps(x.box, w.box)))!;
    expect(heading).toBeDefined();
    regions.push({ box: heading.box, replacement: 'Xxxxxx', recognizer: 'manual', keep: false });
    fs.writeFileSync(file('edited.json'), JSON.stringify(d));
    const r = await run(['anonymize', file('page.png'), '--regions', file('edited.json'), '--out', file('edited.png'), '--report', file('edited-report.json'), '--include-original']);
    expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/, verified: /)]);
    const after = await ocr.recognize(fs.readFileSync(file('edited.png')));
    const text = pageText(after);
    const under = (box: number[]): string => norm(before.lines.flatMap((l) => l.words).filter((w) => overlaps(w.box, box)).map((w) => w.text).join(''));
    expect(text).toContain(under(person.box));
    expect(text).not.toContain(norm(heading.text));
    const rep = JSON.parse(fs.readFileSync(file('edited-report.json'), 'utf8'));
    const kept = rep.decisions.filter((x: { decision: string }) => x.decision === 'kept');
    expect(kept).toHaveLength(2);
    expect(rep.decisions.find((x: { recognizer?: string }) => x.recognizer === 'manual')).toMatchObject({ decision: 'replaced', replacement: 'Xxxxxx' });
    // Supplied regions' originals are read for the verification, never reported (not even with --include-original).
    expect(JSON.stringify(rep)).not.toContain('"original"');
  });

  it('still reads the deprecated bare array, saying so', async () => {
    const d = JSON.parse(fs.readFileSync(file('regions.json'), 'utf8')) as RegionsDoc;
    fs.writeFileSync(file('legacy.json'), JSON.stringify(d.pages[0].regions.map((x) => ({ box: x.box, replacement: x.replacement }))));
    const r = await run(['anonymize', file('page.png'), '--regions', file('legacy.json'), '--out', file('legacy.png')]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/bare regions array \(deprecated\)/)]);
  });

  it('refuses a document for another file, of another size, or with unknown keys (ERR_INPUT, exit 2)', async () => {
    const d = JSON.parse(fs.readFileSync(file('regions.json'), 'utf8')) as RegionsDoc;
    const other = await sharp(doc.png).resize(800, 600).png().toBuffer();
    fs.writeFileSync(file('other.png'), other);
    let r = await run(['anonymize', file('other.png'), '--regions', file('regions.json'), '--out', file('x.png')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_INPUT: the regions document was made for another file/)]);
    const { sha256: _drop, ...source } = d.source;
    fs.writeFileSync(file('nosha.json'), JSON.stringify({ ...d, source }));
    r = await run(['anonymize', file('other.png'), '--regions', file('nosha.json'), '--out', file('x.png')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_INPUT: page 1 of the regions document is 900x700 px, the input's is 800x600/)]);
    fs.writeFileSync(file('typo.json'), JSON.stringify({ ...d, pages: [{ ...d.pages[0], regions: [{ ...d.pages[0].regions[0], kepp: true }] }] }));
    r = await run(['anonymize', file('page.png'), '--regions', file('typo.json'), '--out', file('x.png')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_INPUT: invalid regions document:\ndocument\.pages\.0\.regions\.0: unknown key\(s\) kepp/)]);
    fs.writeFileSync(file('v2.json'), JSON.stringify({ ...d, version: 2 }));
    r = await run(['anonymize', file('page.png'), '--regions', file('v2.json'), '--out', file('x.png')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_INPUT: regions document version 2 is not one/)]);
    expect(fs.existsSync(file('x.png'))).toBe(false);
  });

  it('detects every page of a PDF, and the document goes back in', async () => {
    fs.writeFileSync(file('doc.pdf'), textPdf([['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654 32'], ['Contact: mary.johnson@example.com']]));
    let r = await run(['detect', file('doc.pdf'), '--json', '--dpi', '150']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as RegionsDoc;
    expect(d.source).toMatchObject({ type: 'pdf', dpi: 150 });
    expect(d.pages.map((p) => p.page)).toEqual([1, 2]);
    expect(d.pages[0].regions.map((x) => x.entity)).toEqual(expect.arrayContaining(['person', 'iban']));
    expect(d.pages[1].regions.map((x) => x.entity)).toEqual(['email']);
    fs.writeFileSync(file('pdf-regions.json'), r.stdout);
    r = await run(['anonymize', file('doc.pdf'), '--regions', file('pdf-regions.json'), '--out', file('doc.out.pdf'), '--report', file('pdf-report.json')]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/on 2 page\(s\), verified/)]);
    const rep = JSON.parse(fs.readFileSync(file('pdf-report.json'), 'utf8'));
    expect(rep.decisions.map((x: { page: number }) => x.page)).toEqual(expect.arrayContaining([1, 2]));
  });

  it('audit verify accepts the record of a run, and refuses it after a one-byte change to the output or an edit of the record', async () => {
    const verify = (report: string, output = file('from-doc.png'), extra: string[] = []): ReturnType<typeof run> =>
      run(['audit', 'verify', report, '--input', file('page.png'), '--output', output, ...extra]);
    let r = await verify(file('from-doc.json'));
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^ok {4}input .*\nok {4}output .*\nok {4}hmac {4}HMAC-SHA256 valid/)]);
    const rec = JSON.parse(fs.readFileSync(file('from-doc.json'), 'utf8'));
    expect(rec.input.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rec).toMatchObject({ package: { name: 'doc-anon-torch' }, engineSettings: { name: 'classic', seed: 0 }, keyedFakes: true, hmac: { algorithm: 'HMAC-SHA256' } });
    expect(Date.parse(rec.finishedAt)).toBeGreaterThanOrEqual(Date.parse(rec.startedAt));
    // One byte of the output changed.
    const bytes = fs.readFileSync(file('from-doc.png'));
    bytes[bytes.length - 20] ^= 0x01;
    fs.writeFileSync(file('tampered.png'), bytes);
    r = await verify(file('from-doc.json'), file('tampered.png'));
    expect([r.code, r.stdout, r.stderr]).toEqual([1, expect.stringMatching(/FAIL {2}output {2}sha256 .* differs/), expect.stringMatching(/ERR_INTEGRITY/)]);
    // The record edited (a region's decision), with the files untouched: the HMAC says so.
    rec.decisions[0].replacement = 'edited';
    fs.writeFileSync(file('edited-record.json'), JSON.stringify(rec));
    r = await verify(file('edited-record.json'));
    expect([r.code, r.stdout]).toEqual([1, expect.stringMatching(/FAIL {2}hmac {4}HMAC-SHA256 invalid/)]);
    // Without the secret a signed record is not verified.
    delete process.env.DOC_ANON_SECRET;
    try {
      r = await verify(file('from-doc.json'));
      expect([r.code, r.stdout]).toEqual([1, expect.stringMatching(/FAIL {2}hmac .*DOC_ANON_SECRET is not set/)]);
    } finally {
      process.env.DOC_ANON_SECRET = 'regions-test-secret-0123456789';
    }
    r = await verify(file('regions.json'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_INPUT: not an audit record/)]);
  });
});

function overlaps(a: number[], b: number[]): boolean {
  return Math.min(a[2], b[2]) > Math.max(a[0], b[0]) && Math.min(a[3], b[3]) > Math.max(a[1], b[1]);
}
