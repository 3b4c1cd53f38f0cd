/**
 * The read-back check of a generating engine: each replacement must read back (OCR of the whole
 * output page) as its text, else it is redrawn with the next seed, drawn by the classic engine, or
 * the page is refused, as `diffute.readBack.onUnreadable` says. The tiny fixture models have random
 * weights and cannot write: their drawings never read back, so every region must end with the
 * classic engine (or the page refused). A stand-in engine that draws the wrong text at its first
 * attempt and the right one after shows that a redo with the next seed is kept when it reads back.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Anonymizer, DiffutePipeline, decodeImage } from '../../src';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { DetectionOptionsSchema } from '../../src/inference/detection';
import { ClassicEngine } from '../../src/inference/engines/classic';
import type { Engine, EngineRunOptions } from '../../src/inference/engines/types';
import type { DecodedImage } from '../../src/inference/image-io';
import { runPage } from '../../src/inference/page-run';
import { ReadBackSchema, readBackAccuracy } from '../../src/inference/read-back';
import type { ValidatedRegion } from '../../src/inference/regions';
import { runCli } from '../helpers/cli';
import { fixture } from '../helpers/fixtures';
import { renderLines } from '../helpers/render-text';

const models = { unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') };
const diffute = { resolution: 16, steps: 2, sampler: 'ddim' as const, seed: 5, minCropSide: 32 };

const PAGES: Record<string, { lines: string[]; names: number[]; fakes: string[] }> = {
  letter: { lines: ['Note for the archive', 'Johanna Schmidt', 'Margaret Roberts'], names: [1, 2], fakes: ['Clara Weston', 'Peter Holmberg'] },
  memo: { lines: ['Minutes of the meeting', 'Attended by', 'Friedrich Baumann'], names: [2], fakes: ['Tobias Lindner'] },
};

/** A page of a title and names, and boxes over the names with their fakes (nothing else on it is sensitive). */
function page(name: keyof typeof PAGES): { png: Buffer; regions: Array<{ box: [number, number, number, number]; replacement: string }> } {
  const p = PAGES[name];
  const { png, lines } = renderLines(p.lines, { width: 700, height: 320, size: 30 });
  return { png, regions: p.names.map((li, i) => ({ box: lines[li].box, replacement: p.fakes[i] })) };
}

describe('read-back of the diffute engine (random tiny models cannot write)', () => {
  it.each(['letter', 'memo'] as const)('retry (the default): each region is redrawn with the next seeds, then by the classic engine, and reads back (%s)', async (name) => {
    const a = await Anonymizer.create({ engine: 'diffute', models, diffute });
    try {
      const { png, regions } = page(name);
      const r = await a.anonymize(png, { regions });
      expect(r.verified).toBe(true);
      const v = r.verification as { readBack?: { scored: number; redrawn: number; classic: number } };
      expect(v.readBack).toEqual({ scored: regions.length, redrawn: regions.length, classic: regions.length });
      for (const rep of r.reports) {
        expect(rep.engine).toBe('classic');
        // The first draw and two redos with other seeds, then the classic engine.
        expect(rep.details.readBack).toMatchObject({ attempts: 4, drawnBy: 'classic' });
        expect((rep.details.readBack as { accuracy: number }).accuracy).toBeGreaterThanOrEqual(0.75);
      }
    } finally {
      a.dispose();
    }
  });

  it("classic: a region that does not read back goes to the classic engine at once; fail: the page is refused with ERR_VERIFY, without the text", async () => {
    const { png, regions } = page('letter');
    const c = await Anonymizer.create({ engine: 'diffute', models, diffute: { ...diffute, readBack: { onUnreadable: 'classic' } } });
    try {
      const r = await c.anonymize(png, { regions });
      expect(r.reports.map((x) => x.details.readBack)).toEqual(regions.map(() => expect.objectContaining({ attempts: 2, drawnBy: 'classic' })));
    } finally {
      c.dispose();
    }
    const f = await Anonymizer.create({ engine: 'diffute', models, diffute: { ...diffute, readBack: { onUnreadable: 'fail' } } });
    try {
      const e = (await f.anonymize(png, { regions }).catch((x: unknown) => x)) as Error & { code: string };
      expect(e).toMatchObject({ code: 'ERR_VERIFY', message: expect.stringContaining('does not read back') });
      expect(e.message).not.toMatch(/Clara|Weston|Johanna/);
    } finally {
      f.dispose();
    }
  });

  it('off: the diffute drawings are kept as they are (the leak check still runs)', async () => {
    const { png, regions } = page('memo');
    const a = await Anonymizer.create({ engine: 'diffute', models, diffute: { ...diffute, readBack: { enabled: false } } });
    try {
      const r = await a.anonymize(png, { regions });
      expect(r.verified).toBe(true);
      expect(r.reports.every((x) => x.engine === 'diffute' && x.details.readBack === undefined)).toBe(true);
      expect((r.verification as { readBack?: unknown }).readBack).toBeUndefined();
    } finally {
      a.dispose();
    }
  });
});

/** Draws another text at its first attempt, the requested one at every redo (as a seed that failed, then one that did not). */
class WrongFirstEngine implements Engine {
  readonly name = 'wrong-first';
  readonly readBack = ReadBackSchema.parse({});
  readonly attempts: number[] = [];
  private readonly classic = new ClassicEngine({});

  async anonymize(image: DecodedImage, regions: readonly ValidatedRegion[], o: EngineRunOptions = {}) {
    this.attempts.push(o.attempt ?? 0);
    const drawn = (o.attempt ?? 0) === 0 ? regions.map((r) => ({ ...r, replacement: 'Quixote 7' })) : regions;
    const r = await this.classic.anonymize(image, drawn, o);
    return { image: r.image, reports: r.reports.map((x) => ({ ...x, engine: this.name })) };
  }

  dispose(): void {}
}

describe('read-back redraws', () => {
  it('keeps a redo with the next seed once it reads back, and changes only the redrawn areas', async () => {
    const { png, regions } = page('letter');
    const det = DetectionOptionsSchema.parse({});
    const ocr = new TesseractOcr({ languages: det.ocr.languages, langPath: det.ocr.langPath, timeoutMs: det.ocr.timeoutMs });
    const engine = new WrongFirstEngine();
    try {
      const input = await decodeImage(png);
      const r = await runPage({
        page: input,
        engine,
        ocr: () => ocr,
        detection: det,
        limits: { maxRegions: 64, minSize: 4, maxTextLength: 256 },
        regions: regions.map((x) => ({ ...x })),
        allowEmpty: false,
        verify: true,
      });
      expect(r.verified).toBe(true);
      // One call for the page, one redo of every region together (their first redo).
      expect(engine.attempts).toEqual([0, 1]);
      for (const rep of r.reports) expect(rep.details.readBack).toMatchObject({ attempts: 2, drawnBy: 'wrong-first' });
      // Outside the pasted areas the output is the input.
      const inside = (x: number, y: number) => r.reports.some((p) => x >= p.pasted.x0 && x < p.pasted.x1 && y >= p.pasted.y0 && y < p.pasted.y1);
      let changedOutside = 0;
      for (let y = 0; y < input.height; y++) {
        for (let x = 0; x < input.width; x++) {
          const i = (y * input.width + x) * input.channels;
          if (!inside(x, y) && input.data[i] !== r.image.data[i]) changedOutside++;
        }
      }
      expect(changedOutside).toBe(0);
    } finally {
      await ocr.close();
    }
  });
});

describe('readBackAccuracy', () => {
  it('scores 1 - edit distance over case-folded letters and digits, and leaves short texts unscored', () => {
    expect(readBackAccuracy('Harbor 1 4821', 'harbor14821')).toBe(1);
    expect(readBackAccuracy('Harbor 1 4821', 'Harb0r 1 4821')).toBeCloseTo(1 - 1 / 11, 10);
    expect(readBackAccuracy('Harbor 1 4821', undefined)).toBe(0);
    expect(readBackAccuracy('Harbor', 'completely different and longer')).toBe(0);
    expect(readBackAccuracy('Jo', 'Xy')).toBeNull();
  });
});

describe('doc-anon anonymize --on-unreadable', () => {
  it('passes the choice to the engine (a report per region says which engine drew it) and refuses unknown values', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-back-cli-'));
    try {
      const { png, regions } = page('memo');
      fs.writeFileSync(path.join(dir, 'in.png'), png);
      fs.writeFileSync(path.join(dir, 'regions.json'), JSON.stringify(regions));
      const pipeline = path.join(dir, 'pipeline');
      await (await DiffutePipeline.fromSources({ unet: models.unet, vae: models.vae, glyphEncoder: models.glyphEncoder })).save(pipeline);
      const base = ['anonymize', path.join(dir, 'in.png'), '--engine', 'diffute', '--model', pipeline, '--regions', path.join(dir, 'regions.json'), '--steps', '2', '--sampler', 'ddim', '--resolution', '16'];
      const r = await runCli([...base, '--on-unreadable', 'classic', '--out', path.join(dir, 'out.png'), '--report', path.join(dir, 'report.json')]);
      expect(r.code).toBe(0);
      const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as { regions?: Array<{ engine?: string }> };
      expect(JSON.stringify(report)).toContain('"drawnBy":"classic"');
      const bad = await runCli([...base, '--on-unreadable', 'sometimes', '--out', path.join(dir, 'bad.png')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--on-unreadable must be retry, classic, fail or off');
      expect(fs.existsSync(path.join(dir, 'bad.png'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
