/**
 * Evaluation during training (src/training/evaluation): the held-out split, the best / early-stop
 * tracker, and one evaluation of the fixture VAE that writes its sample grid, metrics.jsonl and
 * TensorBoard scalars + image.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../../src/inference/image-io';
import { AutoencoderKL } from '../../src/models/autoencoder-kl';
import { RunMetrics } from '../../src/tracking/run-metrics';
import { readTensorBoardEvents } from '../../src/tracking/tensorboard';
import { DatasetPages, SyntheticPages } from '../../src/training/data/pages';
import { BestTracker, evaluateDuringTraining, isHeldOut, TrainEvalSchema } from '../../src/training/evaluation';
import { fixture } from '../helpers/fixtures';

describe('held-out split', () => {
  it('is a stable partition close to the fraction, and changes with the seed', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `page-${i}.json`);
    const val = names.filter((n) => isHeldOut(n, 0.1));
    expect(val.length).toBeGreaterThan(150);
    expect(val.length).toBeLessThan(250);
    expect(names.filter((n) => isHeldOut(n, 0.1))).toEqual(val);
    expect(names.filter((n) => isHeldOut(n, 0.1, 1))).not.toEqual(val);
    // A larger fraction holds out a superset (a file never changes side when the fraction grows).
    const more = new Set(names.filter((n) => isHeldOut(n, 0.2)));
    expect(val.every((n) => more.has(n))).toBe(true);
    expect(names.filter((n) => isHeldOut(n, 0))).toEqual([]);
    expect(() => isHeldOut('a', 1)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });
});

it('DatasetPages keeps one side of the split: the train and val pages are disjoint and cover the folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-split-'));
  try {
    const png = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'images', 'vae-recipe-lr.png'));
    const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
    for (const n of names) {
      fs.writeFileSync(path.join(dir, `${n}.png`), png);
      fs.writeFileSync(path.join(dir, `${n}.json`), JSON.stringify({ image: `${n}.png`, document: [] }));
    }
    const side = (part: 'train' | 'val') => names.filter((n) => isHeldOut(`${n}.json`, 0.3, 5) === (part === 'val')).sort();
    expect(side('val').length).toBeGreaterThan(0);
    expect(side('train').length).toBeGreaterThan(0);
    const val = new DatasetPages(dir, { fraction: 0.3, seed: 5, part: 'val' });
    const train = new DatasetPages(dir, { fraction: 0.3, seed: 5, part: 'train' });
    const pageImage = async (src: DatasetPages, i: number) => (await src.page(i)).annotation.image;
    const got = async (src: DatasetPages, n: number) => (await Promise.all(Array.from({ length: n }, (_, i) => pageImage(src, i)))).sort();
    expect(await got(val, side('val').length)).toEqual(side('val').map((n) => `${n}.png`).sort());
    expect(await got(train, side('train').length)).toEqual(side('train').map((n) => `${n}.png`).sort());
    expect(() => new DatasetPages(dir, { fraction: 0, part: 'val' })).toThrow(/no \*\.json annotations in its val split/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('BestTracker', () => {
  it('keeps the best by the metric direction and stops after `patience` evaluations without improvement', () => {
    const t = new BestTracker('lpips', 2);
    expect(t.update(10, { lpips: 0.5 })).toEqual({ improved: true, stop: false });
    expect(t.update(20, { lpips: 0.4 })).toEqual({ improved: true, stop: false });
    expect(t.update(30, { lpips: 0.45 })).toEqual({ improved: false, stop: false });
    expect(t.update(40, { lpips: NaN })).toEqual({ improved: false, stop: true });
    expect(t.state).toEqual({ metric: 'lpips', best: 0.4, bestStep: 20, stale: 2 });
    // Resumed from the saved state, it goes on counting.
    const r = new BestTracker('lpips', 3, t.state);
    expect(r.update(50, { lpips: 0.41 })).toEqual({ improved: false, stop: true });
    const up = new BestTracker('ocr_char_acc');
    up.update(1, { ocr_char_acc: 0.5 });
    expect(up.update(2, { ocr_char_acc: 0.6 }).improved).toBe(true);
    expect(() => up.update(3, { psnr: 1 })).toThrow(/ocr_char_acc is not among/);
    expect(() => new BestTracker('psnr', 0, t.state)).toThrow(/by lpips/);
  });

  it('the eval block is a strict schema', () => {
    expect(TrainEvalSchema.parse({})).toMatchObject({ every: 500, limit: 16, tensorboard: true, early_stop_patience: 0 });
    expect(TrainEvalSchema.safeParse({ keep_best: 'accuracy' }).success).toBe(false);
    expect(TrainEvalSchema.safeParse({ evry: 10 }).success).toBe(false);
  });
});

it('an evaluation writes the sample grid, metrics.jsonl and TensorBoard scalars and image', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-train-eval-'));
  const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
  const metrics = new RunMetrics(dir);
  try {
    const pages = new SyntheticPages({ seed: 9, width: 600, height: 800, kinds: ['invoice'], noise: 0, blur: 0, rotation: 0 });
    const config = TrainEvalSchema.parse({ limit: 3 });
    const r = await evaluateDuringTraining({ step: 7, target: { kind: 'vae', vae, cropSize: 32 }, pages, config, runDir: dir, metrics, samples: 2 });
    expect(Object.keys(r.metrics)).toEqual(['psnr', 'ssim', 'kl', 'latent_mean', 'latent_std', 'latent_scaled_std']);
    expect(r.grid).toBe(path.join(dir, 'samples', 'step-00000007.png'));
    const png = await decodeImage(fs.readFileSync(r.grid));
    expect([png.width, png.height]).toEqual([4 + 2 * (32 + 4), 4 + 2 * (32 + 4)]);
    metrics.close();
    const line = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim());
    expect(line).toMatchObject({ step: 7, group: 'eval', psnr: r.metrics.psnr });
    const [file] = fs.readdirSync(path.join(dir, 'tensorboard'));
    const events = readTensorBoardEvents(path.join(dir, 'tensorboard', file));
    const tags = events.flatMap((e) => e.summary?.value.map((v) => v.tag) ?? []);
    expect(tags).toEqual(expect.arrayContaining(['eval/psnr', 'eval/ssim', 'eval/samples']));
    const image = events.flatMap((e) => e.summary?.value ?? []).find((v) => v.tag === 'eval/samples')!.image!;
    expect(Buffer.from(image.encodedImageString).equals(fs.readFileSync(r.grid))).toBe(true);
  } finally {
    metrics.close();
    vae.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
