/**
 * Wide crops (`data.aspect`, the pipeline's `aspect`): a long line keeps its text tall at a small
 * resolution because the crop is `aspect` times as wide as high, in the training examples, the
 * training step, the checkpoint's model_index.json and the engine, which samples at the same shape.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiffutePipeline, MODEL_INDEX } from '../../src';
import { decodeImage } from '../../src/inference/image-io';
import { DiffuteEngine } from '../../src/inference/engines/diffute';
import { adaptiveCrop, validateRegions } from '../../src/inference/regions';
import { assemblePipeline } from '../../src/models/pipeline-assembly';
import { checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';
import { unetExample } from '../../src/training/data/unet-examples';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { generateDocument } from '../../src/training/synthetic';
import { fixture } from '../helpers/fixtures';
import { localUnetConfig } from '../helpers/training';

let tmp: string;
let data: string;
let png: Buffer;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-wide-crops-'));
  data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  const doc = await generateDocument({ seed: 202, kind: 'statement', width: 600, height: 800 });
  png = doc.png;
  fs.writeFileSync(path.join(data, 'page-0.png'), doc.png);
  fs.writeFileSync(path.join(data, 'page-0.json'), JSON.stringify(doc.annotation));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('the engine crop: aspect x as wide as high, high enough for the box and for its width / aspect; square DiffUTE crops unchanged', () => {
  const page = { width: 600, height: 800 };
  const long = { x0: 100, y0: 300, x1: 400, y1: 318 }; // 300 x 18
  const wide = adaptiveCrop(long, page, 48, 4);
  expect([wide.x1 - wide.x0, wide.y1 - wide.y0]).toEqual([300, 75]);
  const short = adaptiveCrop({ x0: 100, y0: 300, x1: 140, y1: 318 }, page, 48, 4);
  expect([short.x1 - short.x0, short.y1 - short.y0]).toEqual([192, 48]);
  for (const c of [wide, short]) expect(c.x0 <= 100 && c.y0 <= 300 && c.y1 >= 318).toBe(true);
  const square = adaptiveCrop(long, page, 48);
  expect([square.x1 - square.x0, square.y1 - square.y0]).toEqual([300, 300]);
  // At the page edge the window shifts inside and is clipped, never leaving the box out.
  const edge = adaptiveCrop({ x0: 500, y0: 780, x1: 598, y1: 798 }, page, 48, 4);
  expect(edge.x1).toBeLessThanOrEqual(600);
  expect(edge.x0).toBeLessThanOrEqual(500);
  expect(edge.y1).toBe(800);
});

it('training examples are R x aspect R with the line box inside, scaled as the crop', async () => {
  const pages = { page: async () => ({ ...(await decodeImage(png)), annotation: JSON.parse(fs.readFileSync(path.join(data, 'page-0.json'), 'utf8')) }) };
  for (let i = 0; i < 8; i++) {
    const ex = await unetExample(pages as never, { seed: 3, resolution: 32, aspect: 4, cropSize: 32, minScore: 0, boxExtend: 0.1, examplesPerPage: 8 }, i);
    expect(ex.image.length).toBe(32 * 128 * 3);
    const [x0, y0, x1, y1] = ex.box;
    expect({ i, inside: x0 >= -1e-6 && y0 >= -1e-6 && x1 <= 128 + 1e-6 && y1 <= 32 + 1e-6 && x1 > x0 && y1 > y0 }).toEqual({ i, inside: true });
  }
});

it('trains at aspect 4, checkpoints a pipeline that says so, and the engine samples wide crops from it', async () => {
  const cfg = localUnetConfig({
    glyph_aligned: 'downsampled',
    model: { pretrained: fixture('unet'), seed: undefined, config: undefined },
    vae: { pretrained: fixture('vae'), seed: undefined, config: undefined },
    glyph_encoder: { pretrained: fixture('glyph_encoder'), seed: undefined, config: undefined },
    train: { max_steps: 1, batch_size: 2 },
    data: { resolution: 16, aspect: 4, crop_size: 40 },
    checkpoint: { every: 1 },
  });
  const t = await UnetTrainer.create(cfg);
  const out = path.join(tmp, 'train');
  await runTraining(t, { outDir: out, maxSteps: 1, handleSignals: false });
  t.dispose();
  const ckpt = latestCheckpoint(checkpointsRoot(out)) as string;
  expect(JSON.parse(fs.readFileSync(path.join(ckpt, MODEL_INDEX), 'utf8'))).toMatchObject({ resolution: 16, aspect: 4, min_crop_side: 40 });
  const p = await DiffutePipeline.fromPretrained(ckpt);
  try {
    const engine = new DiffuteEngine(p, { steps: 1, sampler: 'ddim', readBack: { enabled: false } });
    expect(engine.options).toMatchObject({ resolution: 16, aspect: 4, minCropSide: 40 });
    const image = await decodeImage(png);
    const res = await engine.anonymize(image, validateRegions([{ box: [60, 200, 300, 216], replacement: 'DE89 3704 0044 0532 0130 00' }], image));
    const crop = res.reports[0].details.crop as { x0: number; y0: number; x1: number; y1: number };
    expect((crop.x1 - crop.x0) / (crop.y1 - crop.y0)).toBeCloseTo(4, 5);
    // Only the pasted area changed.
    let outside = 0;
    for (let y = 0; y < image.height; y++)
      for (let x = 0; x < image.width; x++) {
        if (x >= 58 && x < 302 && y >= 198 && y < 221) continue;
        const k = (y * image.width + x) * image.channels;
        if (res.image.data[k] !== image.data[k]) outside++;
      }
    expect(outside).toBe(0);
    // An explicit option still wins over the pipeline's setting.
    expect(new DiffuteEngine(p, { aspect: 1, minCropSide: 64 }).options).toMatchObject({ aspect: 1, minCropSide: 64 });
    expect(engine.options.guidanceScale).toBe(1); // no eval block: no guidance recorded
  } finally {
    p.dispose();
  }
  // A pipeline assembled from the checkpoint (models assemble, promote) keeps the settings it was trained with.
  const assembled = path.join(tmp, 'assembled');
  await assemblePipeline({ unet: ckpt, vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') }, assembled, { preferEma: true });
  expect(JSON.parse(fs.readFileSync(path.join(assembled, MODEL_INDEX), 'utf8'))).toMatchObject({ resolution: 16, aspect: 4, min_crop_side: 40, glyph_aligned: 'downsampled' });
  // The guidance a pipeline records is the engine's default; an explicit option wins.
  const index = JSON.parse(fs.readFileSync(path.join(ckpt, MODEL_INDEX), 'utf8'));
  fs.writeFileSync(path.join(ckpt, MODEL_INDEX), JSON.stringify({ ...index, guidance_scale: 3 }));
  const g = await DiffutePipeline.fromPretrained(ckpt);
  try {
    expect(g.settings.guidanceScale).toBe(3);
    expect(new DiffuteEngine(g).options.guidanceScale).toBe(3);
    expect(new DiffuteEngine(g, { guidanceScale: 1 }).options.guidanceScale).toBe(1);
  } finally {
    g.dispose();
  }
  fs.writeFileSync(path.join(ckpt, MODEL_INDEX), JSON.stringify({ ...index, guidance_scale: 0.5 }));
  await expect(DiffutePipeline.fromPretrained(ckpt)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
});

it('a UNet run records its evaluation guidance as the pipeline default', () => {
  const c = localUnetConfig({ eval: { guidance_scale: 4 } });
  expect(c.eval?.guidance_scale).toBe(4);
  expect(localUnetConfig({ eval: {} }).eval?.guidance_scale).toBe(1);
  expect(() => localUnetConfig({ eval: { guidance_scale: 0 } })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
});
