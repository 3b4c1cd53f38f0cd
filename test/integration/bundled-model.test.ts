/**
 * The DiffUTE small model that ships in assets/models/diffute-small: `anonymize --engine diffute`
 * without `--model` uses it, and it writes the requested text. Each replacement is read back from
 * the output page by the engine's own check (Tesseract) and must be drawn by the learned engine, not
 * handed to the classic one; the page must verify.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Anonymizer } from '../../src';
import { BUNDLED_DIFFUTE_MODEL, bundledDiffuteModel } from '../../src/models/bundled-model';
import { DiffutePipeline } from '../../src/models/diffute-pipeline';
import { runCli } from '../helpers/cli';

const root = path.join(__dirname, '..', '..');
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-bundled-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('is a small self-contained pipeline that samples wide crops with guidance', async () => {
  const p = await DiffutePipeline.fromPretrained(bundledDiffuteModel());
  try {
    expect(p.settings).toMatchObject({ resolution: 64, aspect: 4, glyphAligned: 'vae' });
    expect(p.settings.guidanceScale).toBeGreaterThan(1);
  } finally {
    p.dispose();
  }
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else bytes += fs.statSync(path.join(d, e.name)).size;
    }
  };
  walk(BUNDLED_DIFFUTE_MODEL);
  expect(bytes).toBeLessThan(25e6);
  expect(fs.readFileSync(path.join(BUNDLED_DIFFUTE_MODEL, 'README.md'), 'utf8')).toMatch(/Licence/);
  expect(() => bundledDiffuteModel(path.join(tmp, 'nothing'))).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
});

it('anonymize --engine diffute with no --model writes the replacements legibly on the example statement\'s header (each reads back, most drawn by the learned engine, the page verifies)', async () => {
  const doc = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'statement.regions.json'), 'utf8'));
  // The header of the example statement (bank, name, address, date, account number, IBAN, customer
  // id) with every sensitive region on it: verification reads the whole output page, so all must go.
  const H = 320;
  const header = (doc.pages[0].regions as { box: number[]; replacement: string; entity: string }[]).filter((r) => r.box[3] <= H);
  expect(header.map((r) => r.entity)).toEqual(expect.arrayContaining(['person', 'iban', 'date', 'organization']));
  const png = path.join(tmp, 'header.png');
  await sharp(path.join(root, 'examples', 'statement.png')).extract({ left: 0, top: 0, width: doc.pages[0].width, height: H }).png().toFile(png);
  const regions = path.join(tmp, 'regions.json');
  fs.writeFileSync(regions, JSON.stringify(header.map((r) => ({ box: r.box, replacement: r.replacement }))));
  const out = path.join(tmp, 'out.png');
  const report = path.join(tmp, 'report.json');
  // The defaults, as a user runs it (DDPM, 50 steps, the model's guidance).
  const r = await runCli(['anonymize', png, '--engine', 'diffute', '--regions', regions, '--out', out, '--report', report]);
  expect({ code: r.code, errors: r.stderr.match(/ERR_\w+|internal error/g) }).toEqual({ code: 0, errors: null });
  const page = JSON.parse(fs.readFileSync(report, 'utf8')).pages[0];
  expect(page.verification.status).toBe('verified');
  // Every replacement reads back (the engine's check); a model at ~97% held-out character accuracy
  // may miss one now and then, which the check redraws or hands to the classic engine, so the
  // learned engine must have drawn most of them, not necessarily all.
  for (const g of page.regions) {
    expect({ replacement: g.replacement, readsBack: g.readBack.accuracy >= 0.75 }).toEqual({ replacement: g.replacement, readsBack: true });
  }
  const learned = page.regions.filter((g: { readBack: { drawnBy: string } }) => g.readBack.drawnBy === 'diffute').length;
  expect(learned / header.length).toBeGreaterThanOrEqual(0.8);
  expect(page.verification.readBack).toMatchObject({ scored: header.length, classic: header.length - learned });
}, 600_000);

it('Anonymizer.create({ engine: "diffute" }) loads the bundled model', async () => {
  const a = await Anonymizer.create({ engine: 'diffute', diffute: { steps: 1 } });
  a.dispose();
});
