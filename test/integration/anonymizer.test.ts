/**
 * The Anonymizer end to end: the diffute engine with the tiny fixture models (random weights: this
 * checks shapes, placement, determinism, abort and outside-pixel preservation, not visual quality),
 * and the classic engine through the same facade.
 */
import sharp from 'sharp';
import { Anonymizer, decodeImage, generateDocument, Tensor } from '../../src';
import type { AnonymizeResult } from '../../src';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { fixture } from '../helpers/fixtures';

const models = { unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') };

async function page(): Promise<{ png: Buffer; regions: Array<{ box: [number, number, number, number]; replacement: string }> }> {
  const doc = await generateDocument({ seed: 3, kind: 'statement', width: 600, height: 800 });
  const lines = doc.annotation.document.filter((l) => l.text.length > 3).slice(0, 3);
  const regions = lines.map((l, i) => {
    const xs = l.box.map((p) => p[0]);
    const ys = l.box.map((p) => p[1]);
    return { box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] as [number, number, number, number], replacement: `Fake ${i} 1234` };
  });
  return { png: doc.png, regions };
}

/** Pixels outside every reported pasted rect are byte-identical to the input. */
async function expectOutsideUnchanged(input: Buffer, r: AnonymizeResult): Promise<number> {
  const a = await decodeImage(input);
  const b = await decodeImage(r.image);
  expect([b.width, b.height, b.channels]).toEqual([a.width, a.height, a.channels]);
  let insideChanged = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const inside = r.reports.some((p) => x >= p.pasted.x0 && x < p.pasted.x1 && y >= p.pasted.y0 && y < p.pasted.y1);
      for (let k = 0; k < a.channels; k++) {
        const i = (y * a.width + x) * a.channels + k;
        if (inside) {
          if (a.data[i] !== b.data[i]) insideChanged++;
        } else if (a.data[i] !== b.data[i]) {
          throw new Error(`pixel (${x}, ${y}) outside the pasted areas changed`);
        }
      }
    }
  }
  return insideChanged;
}

describe('Anonymizer with the diffute engine (fixture models)', () => {
  let anonymizer: Anonymizer;
  const opts = { engine: 'diffute' as const, models, diffute: { resolution: 16, steps: 3, sampler: 'ddim' as const, seed: 5, minCropSide: 32 } };
  beforeAll(async () => {
    anonymizer = await Anonymizer.create(opts);
  });
  afterAll(() => anonymizer.dispose());

  it('replaces the boxes, keeps size, format and every outside pixel', async () => {
    const { png, regions } = await page();
    const progress: string[] = [];
    const r = await anonymizer.anonymize(png, { regions, verify: false, onProgress: (p) => progress.push(p.stage) });
    expect(r.format).toBe('png');
    const meta = await sharp(r.image).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([600, 800, 'png']);
    expect(r.reports.map((x) => x.index)).toEqual(regions.map((_, i) => i));
    for (const rep of r.reports) {
      expect(rep.engine).toBe('diffute');
      expect(rep.details.steps).toBe(3);
      // The pasted area covers the box.
      expect(rep.pasted.x0).toBeLessThanOrEqual(rep.box.x0);
      expect(rep.pasted.y1).toBeGreaterThanOrEqual(rep.box.y1);
      expect(rep.details.changedFraction as number).toBeGreaterThan(0);
    }
    expect(await expectOutsideUnchanged(png, r)).toBeGreaterThan(0);
    expect(progress.some((s) => s.startsWith('sampling'))).toBe(true);
  });

  it('is deterministic for a seed', async () => {
    const { png, regions } = await page();
    const a = await anonymizer.anonymize(png, { regions, verify: false });
    const b = await anonymizer.anonymize(png, { regions, verify: false });
    expect(a.image.equals(b.image)).toBe(true);
    const other = await Anonymizer.create({ ...opts, diffute: { ...opts.diffute, seed: 6 } });
    const c = await other.anonymize(png, { regions, verify: false });
    other.dispose();
    expect(a.image.equals(c.image)).toBe(false);
  });

  it('classifier-free guidance runs against the zero context that conditioning dropout trains on', async () => {
    const { png, regions } = await page();
    const guided = await Anonymizer.create({ ...opts, diffute: { ...opts.diffute, guidanceScale: 3 } });
    const a = await guided.anonymize(png, { regions: regions.slice(0, 1), verify: false });
    const b = await anonymizer.anonymize(png, { regions: regions.slice(0, 1), verify: false });
    guided.dispose();
    expect(a.reports[0].details.changedFraction as number).toBeGreaterThan(0);
    expect(a.image.equals(b.image)).toBe(false);
  });

  it('honours an AbortSignal and reports nothing', async () => {
    const { png, regions } = await page();
    const ac = new AbortController();
    // The batch's native tensors are freed on the way out, not left to finalizers.
    const made: Tensor[] = [];
    const realFrom = Tensor.from;
    const fromSpy = jest.spyOn(Tensor, 'from').mockImplementation((...args: Parameters<typeof Tensor.from>) => {
      const t = realFrom.apply(Tensor, args);
      made.push(t);
      return t;
    });
    try {
      const p = anonymizer.anonymize(png, { regions, signal: ac.signal, onProgress: (s) => s.stage.startsWith('sampling') && ac.abort() });
      await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    } finally {
      fromSpy.mockRestore();
    }
    // The page pixels and the mask of the aborted batch.
    expect(made.length).toBeGreaterThanOrEqual(2);
    expect(made.filter((t) => !t.disposed).map((t) => t.shape)).toEqual([]);
  });

  it('keeps the input format (JPEG in, JPEG out)', async () => {
    const { png, regions } = await page();
    const jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    const r = await anonymizer.anonymize(jpeg, { regions: regions.slice(0, 1), verify: false });
    expect(r.format).toBe('jpeg');
    expect((await sharp(r.image).metadata()).format).toBe('jpeg');
  });

  it('fails closed on bad input', async () => {
    const { png, regions } = await page();
    await expect(anonymizer.anonymize(png.subarray(0, 200), { regions })).rejects.toMatchObject({ code: 'ERR_IMAGE' });
    await expect(anonymizer.anonymize(png, { regions: [{ box: [10, 10, 10, 10], replacement: 'x' }] })).rejects.toMatchObject({ code: 'ERR_INPUT' });
    // Without regions the Anonymizer detects on its own: malformed supplied OCR results fail closed.
    await expect(anonymizer.anonymize(png, { ocr: { width: 1 } })).rejects.toMatchObject({ code: 'ERR_OCR_INPUT' });
    await expect(anonymizer.anonymize(png, { regions, ocr: { width: 1 } })).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  });
});

describe('diffute memory budget', () => {
  it('batches as many regions as the budget allows and refuses a region that cannot fit', async () => {
    const { DiffuteEngine, estimateRegionMiB } = await import('../../src/inference/engines/diffute');
    const { AutoencoderKL, GlyphEncoder, UNet2DConditionModel } = await import('../../src');
    const m = {
      unet: await UNet2DConditionModel.fromPretrained(models.unet),
      vae: await AutoencoderKL.fromPretrained(models.vae),
      glyphEncoder: await GlyphEncoder.fromPretrained(models.glyphEncoder),
    };
    const per = estimateRegionMiB(512, 4, 32);
    expect(new DiffuteEngine(m, { resolution: 512, memoryBudgetMiB: per * 3, maxBatch: 8 }).batchLimit()).toBe(3);
    expect(new DiffuteEngine(m, { resolution: 512, memoryBudgetMiB: per * 3, maxBatch: 2 }).batchLimit()).toBe(2);
    expect(() => new DiffuteEngine(m, { resolution: 1024, memoryBudgetMiB: 64 }).batchLimit()).toThrow(expect.objectContaining({ code: 'ERR_OOM' }));
    // Batches never exceed the limit (here 2 of the 3 regions fit in one batch).
    const { png, regions } = await page();
    const engine = new DiffuteEngine(m, { resolution: 16, steps: 1, sampler: 'ddim', minCropSide: 32, maxBatch: 2 });
    expect(engine.batchLimit()).toBe(2);
    const { decodeImage, validateRegions } = await import('../../src');
    const img = await decodeImage(png);
    const r = await engine.anonymize(img, validateRegions(regions, img));
    expect(Math.max(...r.reports.map((x) => x.details.batchSize as number))).toBeLessThanOrEqual(2);
    expect(r.reports).toHaveLength(regions.length);
    for (const x of Object.values(m)) x.dispose();
  });

  it("defaults to the model's own resolution, as diffusers does (UNet sample_size x VAE factor)", async () => {
    const { DiffuteEngine, modelResolution } = await import('../../src/inference/engines/diffute');
    const { AutoencoderKL, GlyphEncoder, UNet2DConditionModel } = await import('../../src');
    expect([modelResolution(64, 8), modelResolution([32, 32], 8), modelResolution(undefined, 8), modelResolution(null, 8)]).toEqual([512, 256, 512, 512]);
    const m = {
      unet: await UNet2DConditionModel.fromPretrained(models.unet),
      vae: await AutoencoderKL.fromPretrained(models.vae),
      glyphEncoder: await GlyphEncoder.fromPretrained(models.glyphEncoder),
    };
    const sample = m.unet.config.sample_size as number;
    const factor = m.vae.downsampleFactor;
    expect(sample * factor).not.toBe(512);
    expect(new DiffuteEngine(m).options.resolution).toBe(sample * factor);
    expect(new DiffuteEngine(m, { resolution: 64 }).options.resolution).toBe(64);
    for (const x of Object.values(m)) x.dispose();
  });
});

describe('Anonymizer options and the classic engine', () => {
  it('rejects unknown option keys and a missing component; a diffute engine without models takes the bundled one', async () => {
    await expect(Anonymizer.create({ engine: 'classic', colour: 'red' } as never)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    (await Anonymizer.create({ engine: 'diffute' })).dispose();
    await expect(Anonymizer.create({ engine: 'diffute', models: { ...models, unet: '/no/such/folder' } })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('classic: replaces regions and keeps outside pixels', async () => {
    const { png, regions } = await page();
    const a = await Anonymizer.create({ engine: 'classic' });
    // (The engine's pixels are the point here; verification has its own tests.)
    const r = await a.anonymize(png, { regions, verify: false });
    expect(await expectOutsideUnchanged(png, r)).toBeGreaterThan(0);
    a.dispose();
    await expect(a.anonymize(png, { regions })).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });

  it('refuses malformed requests with ERR_ARGUMENT (a typo such as `region` used to run automatic detection), and a late abort is ERR_ABORTED whatever its reason', async () => {
    const { png, regions } = await page();
    const a = await Anonymizer.create({ engine: 'classic' });
    try {
      await expect(a.anonymize(png, null as never)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
      await expect(a.anonymize(png, { region: regions } as never)).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringContaining('unknown request key(s): region') });
      await expect(a.anonymize(png, { regions, onProgress: 5 } as never)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
      await expect(a.anonymize(png, { regions, signal: {} } as never)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
      // Aborted after the engine finished (at its last progress report), before encoding: the
      // caller's reason (a plain Error, a string) used to come back as is, without a code.
      for (const reason of [new Error('mine'), 'a string']) {
        const ac = new AbortController();
        const onProgress = (p: { done: number; total: number; stage?: string }): void => {
          if (p.stage === 'render' && p.done === p.total) ac.abort(reason);
        };
        await expect(a.anonymize(png, { regions, signal: ac.signal, onProgress })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      }
    } finally {
      await a.close();
    }
  });

  it('classic: regions are synchronous work, but the event loop runs between them (a deadline can fire mid-page)', async () => {
    const { png } = await page();
    const a = await Anonymizer.create({ engine: 'classic' });
    try {
      const many = Array.from({ length: 40 }, (_, i) => ({ box: [10, 10 + i * 18, 590, 26 + i * 18] as [number, number, number, number], replacement: `Line ${i}` }));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      const ac = new AbortController();
      const deadline = setTimeout(() => ac.abort(), 1);
      try {
        await expect(a.anonymize(png, { regions: many, signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      } finally {
        clearInterval(timer);
        clearTimeout(deadline);
      }
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await a.close();
    }
  });

  it('close() after dispose() still waits for the OCR workers dispose() began stopping', async () => {
    // (Large enough to be read: a 400x300 page of 5 px text is refused as unreadable.)
    const doc = await generateDocument({ seed: 5, kind: 'form', width: 1000, height: 750 });
    const a = await Anonymizer.create({ engine: 'classic' });
    await a.anonymize(doc.png); // automatic detection starts the built-in OCR workers
    const stopped: string[] = [];
    const realClose = TesseractOcr.prototype.close;
    const spy = jest.spyOn(TesseractOcr.prototype, 'close').mockImplementation(async function (this: TesseractOcr) {
      await realClose.call(this);
      stopped.push('workers stopped');
    });
    try {
      a.dispose();
      await a.close();
      stopped.push('close() resolved');
      expect(stopped).toEqual(['workers stopped', 'close() resolved']);
      await a.close(); // idempotent
    } finally {
      spy.mockRestore();
    }
  });
});

