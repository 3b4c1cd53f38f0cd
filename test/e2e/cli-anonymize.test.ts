/**
 * The `doc-anon` command end to end (main() in process, as the binary runs it): `anonymize`
 * without --regions detects, replaces, verifies and writes a report without original text; the
 * output, read by OCR, holds none of the original values; `detect --json` lists the values;
 * bad input exits 2 with a code on stderr.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { generateDocument, type SyntheticDocument } from '../../src/training/synthetic';
import { fixture } from '../helpers/fixtures';
import { checkableOriginals, pageText } from '../helpers/server-client';
import { textPdf } from '../helpers/text-pdf';

const run = runCli;

describe('doc-anon CLI', () => {
  let dir: string;
  let doc: SyntheticDocument;
  let ocr: TesseractOcr;

  const savedSecret = process.env.DOC_ANON_SECRET;

  beforeAll(async () => {
    // A fixed replacement secret: fakes are then the same every run, so the OCR checks below can't
    // fail by a random fake happening to spell an original (e.g. a 5-digit amount inside an IBAN).
    process.env.DOC_ANON_SECRET = 'cli-test-secret-0123456789';
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-cli-'));
    doc = await generateDocument({ seed: 7, kind: 'statement', width: 900, height: 700 });
    fs.writeFileSync(path.join(dir, 'page.png'), doc.png);
    ocr = new TesseractOcr({ workers: 2 });
  });
  afterAll(async () => {
    if (savedSecret === undefined) delete process.env.DOC_ANON_SECRET;
    else process.env.DOC_ANON_SECRET = savedSecret;
    await ocr?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('anonymize without --regions detects, replaces, verifies and reports (no original text)', async () => {
    const out = path.join(dir, 'out.png');
    const report = path.join(dir, 'report.json');
    const r = await run(['anonymize', path.join(dir, 'page.png'), '--out', out, '--report', report]);
    expect(r.stderr).toMatch(/verified: the whole page was read back and nothing sensitive is readable/);
    expect(r.code).toBe(0);
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(rep.engine).toBe('classic');
    expect(rep.pages).toHaveLength(1);
    const page = rep.pages[0];
    expect(page).toMatchObject({ mode: 'detected', verified: true, width: 900, height: 700 });
    expect(page.verification).toMatchObject({ status: 'verified', scope: 'page' });
    expect(page.reading).toMatchObject({ source: 'ocr', orientation: 0 });
    expect(page.regions.length).toBeGreaterThanOrEqual(10);
    for (const reg of page.regions) {
      expect(Object.keys(reg)).toEqual(expect.arrayContaining(['entity', 'confidence', 'box', 'replacement']));
      expect(reg.original).toBeUndefined();
    }
    const raw = fs.readFileSync(report, 'utf8').toLowerCase();
    for (const e of doc.annotation.entities) expect(raw).not.toContain(`"${e.text.toLowerCase()}"`);
    const after = pageText(await ocr.recognize(fs.readFileSync(out)));
    expect(checkableOriginals(doc.annotation.entities).filter((o) => after.includes(o))).toEqual([]);
  });

  it('puts the originals into the report only with --include-original, and --no-verify skips the check', async () => {
    const report = path.join(dir, 'report-orig.json');
    const r = await run(['anonymize', path.join(dir, 'page.png'), '--out', path.join(dir, 'out2.png'), '--report', report, '--include-original', '--no-verify']);
    expect(r.code).toBe(0);
    const page = JSON.parse(fs.readFileSync(report, 'utf8')).pages[0];
    expect(page.verified).toBe(false);
    const iban = doc.annotation.entities.find((e) => e.type === 'IBAN')!;
    expect(page.regions.find((x: { entity: string }) => x.entity === 'iban').original).toBe(iban.text);
  });

  it('detect --json prints the regions document without original text', async () => {
    const r = await run(['detect', path.join(dir, 'page.png'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ kind: 'doc-anon/regions', version: 1, source: { type: 'image', format: 'png' }, pages: [{ page: 1, width: 900, height: 700 }] });
    const regions = j.pages[0].regions;
    expect(regions.map((x: { entity: string }) => x.entity)).toEqual(expect.arrayContaining(['iban', 'person', 'date']));
    expect(regions.every((x: { original?: string; keep: boolean }) => x.original === undefined && x.keep === false)).toBe(true);
  });

  it('anonymizes a PDF into a PDF of images', async () => {
    const input = path.join(dir, 'doc.pdf');
    fs.writeFileSync(input, textPdf([['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654 32']]));
    const out = path.join(dir, 'doc.out.pdf');
    const r = await run(['anonymize', input, '--out', out, '--dpi', '150']);
    expect(r.code).toBe(0);
    const bytes = fs.readFileSync(out).toString('latin1');
    expect(bytes.startsWith('%PDF-')).toBe(true);
    expect(bytes).not.toContain('Mary Johnson');
    expect(bytes).not.toContain('/Font');
  });

  it('anonymize --engine diffute takes a model folder (unet/, vae/) and honours --resolution', async () => {
    // The tiny fixture models in the engine's folder layout; they sample at their own resolution
    // (UNet sample_size x VAE factor) unless --resolution says otherwise.
    const models = path.join(dir, 'pipeline');
    fs.mkdirSync(models);
    fs.symlinkSync(fixture('unet'), path.join(models, 'unet'));
    fs.symlinkSync(fixture('vae'), path.join(models, 'vae'));
    const regionsFile = path.join(dir, 'diffute-regions.json');
    const entities = doc.annotation.entities.slice(0, 2);
    fs.writeFileSync(regionsFile, JSON.stringify(entities.map((e, i) => ({ box: e.box, replacement: ['Jane Roe', '1 Main Street'][i] }))));
    // (--no-verify: the fixture models draw noise, and two regions leave the page's other values.)
    const base = ['anonymize', path.join(dir, 'page.png'), '--regions', regionsFile, '--engine', 'diffute', '--model', models, '--glyph-encoder', fixture('glyph_encoder'), '--steps', '2', '--sampler', 'ddim', '--no-verify'];
    const out = path.join(dir, 'diffute.png');
    const report = path.join(dir, 'diffute.json');
    let r = await run([...base, '--out', out, '--report', report]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(rep.engine).toBe('diffute');
    expect(rep.pages[0].regions.map((x: { replacement: string }) => x.replacement)).toEqual(['Jane Roe', '1 Main Street']);
    expect(fs.readFileSync(out).equals(doc.png)).toBe(false);
    expect(rep.pages[0].verification).toEqual({ status: 'off' });
    // Verified by default: the page's other values are still readable, so nothing is written.
    r = await run([...base.filter((a) => a !== '--no-verify'), '--out', path.join(dir, 'unsafe.png')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_VERIFY: the anonymized page was read back and sensitive text is still readable/);
    expect(fs.existsSync(path.join(dir, 'unsafe.png'))).toBe(false);
    // The option reaches the engine: a side that is not a multiple of the VAE factor is refused.
    r = await run([...base, '--out', path.join(dir, 'never.png'), '--resolution', '31']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_CONFIG: resolution 31 must be a multiple of the VAE factor/);
    expect(fs.existsSync(path.join(dir, 'never.png'))).toBe(false);
  });

  it('folder mode: each image takes its own regions file, else the --regions file (a path); a missing one is an error, and a failed write leaves nothing behind', async () => {
    const inDir = path.join(dir, 'folder-in');
    const outDir = path.join(dir, 'folder-out');
    fs.mkdirSync(inDir);
    const page = await sharp({ create: { width: 120, height: 60, channels: 3, background: '#ffffff' } }).png().toBuffer();
    for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(inDir, `${n}.png`), page);
    fs.writeFileSync(path.join(inDir, 'a.regions.json'), JSON.stringify([{ box: [5, 5, 60, 30], replacement: 'Own' }, { box: [60, 30, 110, 55], replacement: 'Two' }]));
    const shared = path.join(dir, 'shared-regions.json'); // outside the input folder
    fs.writeFileSync(shared, JSON.stringify([{ box: [5, 5, 60, 30], replacement: 'Shared' }]));
    // c's output name is taken by a folder: its write fails, and must leave no temp file.
    fs.mkdirSync(path.join(outDir, 'c.png'), { recursive: true });
    const report = path.join(dir, 'folder-report.json');
    const r = await run(['anonymize', inDir, '--out', outDir, '--regions', shared, '--no-verify', '--report', report]);
    const files = (JSON.parse(fs.readFileSync(report, 'utf8')) as { files: Array<{ file: string; ok: boolean; code?: string; pages?: Array<{ regions: Array<{ replacement: string }> }> }> }).files;
    const byName = Object.fromEntries(files.map((f) => [f.file, f]));
    expect(byName['a.png'].pages?.[0].regions.map((x) => x.replacement)).toEqual(['Own', 'Two']);
    expect(byName['b.png'].pages?.[0].regions.map((x) => x.replacement)).toEqual(['Shared']);
    expect(byName['c.png']).toMatchObject({ ok: false, code: 'ERR_IO' });
    expect(r.code).toBe(2);
    expect(fs.readdirSync(outDir).sort()).toEqual(['a.png', 'b.png', 'c.png']); // no *.tmp-* left
    // A --regions file that does not exist is an error, not a silent fall back to detection.
    const missing = await run(['anonymize', inDir, '--out', path.join(dir, 'folder-out2'), '--regions', path.join(dir, 'nope.json'), '--no-verify']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ERR_NOT_FOUND: --regions .*nope\.json does not exist/);
    expect(fs.existsSync(path.join(dir, 'folder-out2'))).toBe(false);
  });

  it('exits 2 with a code for bad input, and writes nothing', async () => {
    fs.writeFileSync(path.join(dir, 'broken.png'), doc.png.subarray(0, 2000));
    const out = path.join(dir, 'never.png');
    let r = await run(['anonymize', path.join(dir, 'broken.png'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_IMAGE/);
    r = await run(['anonymize', path.join(dir, 'missing.png'), '--out', out]);
    expect(r.code).toBe(2);
    r = await run(['anonymize', path.join(dir, 'page.png'), '--out', out, '--verify', '--no-verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_ARGUMENT/);
    expect(fs.existsSync(out)).toBe(false);
    // An output folder that cannot be made (a file is in the way): ERR_IO, not an internal error.
    fs.writeFileSync(path.join(dir, 'a-file'), 'x');
    fs.writeFileSync(path.join(dir, 'io-regions.json'), JSON.stringify([{ box: [5, 5, 60, 30], replacement: 'Io' }]));
    r = await run(['anonymize', path.join(dir, 'page.png'), '--out', path.join(dir, 'a-file', 'out.png'), '--regions', path.join(dir, 'io-regions.json'), '--no-verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_IO/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('never overwrites its input, keeps no report of an output it could not write, and refuses FIFOs, unknown options and read-only outputs with exit 2', async () => {
    const regions = path.join(dir, 'keep-regions.json');
    fs.writeFileSync(regions, JSON.stringify([{ box: [5, 5, 60, 30], replacement: 'Io' }]));
    const original = path.join(dir, 'original.png');
    fs.writeFileSync(original, doc.png);
    // --out is the input (the original used to be replaced by the anonymized copy).
    let r = await run(['anonymize', original, '--out', original, '--regions', regions, '--no-verify']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_ARGUMENT: --out .* is the input itself/)]);
    expect(fs.readFileSync(original).equals(doc.png)).toBe(true);
    // The report is written first; when the output then fails, the report goes too.
    fs.writeFileSync(path.join(dir, 'blocker'), 'x');
    const report = path.join(dir, 'orphan-report.json');
    r = await run(['anonymize', original, '--out', path.join(dir, 'blocker', 'o.png'), '--regions', regions, '--no-verify', '--report', report]);
    expect(r.code).toBe(2);
    expect(fs.existsSync(report)).toBe(false);
    // A FIFO as input used to block forever.
    const fifo = path.join(dir, 'fifo.png');
    execFileSync('mkfifo', [fifo]);
    r = await run(['anonymize', fifo, '--out', path.join(dir, 'fifo-out.png'), '--regions', regions, '--no-verify']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_IO: cannot read input .*not a regular file/)]);
    // An unknown option was "internal error" with a stack and exit 1.
    r = await run(['anonymize', original, '--out', path.join(dir, 'x.png'), '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_ARGUMENT/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // The output's extension sets its format (a JPEG used to be written into x.png as JPEG bytes).
    const jpeg = path.join(dir, 'photo.jpg');
    fs.writeFileSync(jpeg, await sharp(doc.png).jpeg().toBuffer());
    const asPng = path.join(dir, 'photo-out.png');
    r = await run(['anonymize', jpeg, '--out', asPng, '--regions', regions, '--no-verify']);
    expect(r.code).toBe(0);
    expect((await sharp(asPng).metadata()).format).toBe('png');
    r = await run(['anonymize', jpeg, '--out', path.join(dir, 'photo.bmp'), '--regions', regions, '--no-verify']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/ERR_ARGUMENT: cannot tell the output format/)]);
    expect(fs.existsSync(path.join(dir, 'photo.bmp'))).toBe(false);
    // A read-only output is not replaced (the rename used to ignore its mode). Root may write anyway.
    const readOnly = path.join(dir, 'read-only.png');
    fs.writeFileSync(readOnly, 'keep me');
    fs.chmodSync(readOnly, 0o444);
    let writable = false;
    try {
      fs.accessSync(readOnly, fs.constants.W_OK);
      writable = true;
    } catch {
      // expected for a normal user
    }
    r = await run(['anonymize', original, '--out', readOnly, '--regions', regions, '--no-verify']);
    if (writable) {
      expect(r.code).toBe(0); // root: the file is writable to it, so it is written like any other
    } else {
      expect([r.code, fs.readFileSync(readOnly, 'utf8')]).toEqual([2, 'keep me']);
      expect(r.stderr).toMatch(/ERR_IO: cannot write .* not writable/);
    }
  });
});
