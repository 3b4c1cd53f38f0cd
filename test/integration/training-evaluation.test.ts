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

  it('the configs refuse keep_best without eval, a metric of the other kind, and VAE lpips without the LPIPS model', async () => {
    const { localVaeConfig, localUnetConfig } = await import('../helpers/training');
    expect(() => localVaeConfig({ checkpoint: { keep_best: 'psnr' } })).toThrow(/keep_best needs an eval block/);
    expect(() => localVaeConfig({ eval: {}, checkpoint: { keep_best: 'ocr_char_acc' } })).toThrow(/a VAE evaluation measures psnr, ssim, lpips, kl/);
    expect(() => localVaeConfig({ eval: {}, checkpoint: { keep_best: 'lpips' } })).toThrow(/keep_best: lpips needs the LPIPS model/);
    expect(() => localUnetConfig({ eval: {}, checkpoint: { keep_best: 'psnr' } })).toThrow(/measures ocr_char_acc/);
    expect(() => localVaeConfig({ eval: { early_stop_patience: 3 } })).toThrow(/early_stop_patience needs checkpoint.keep_best/);
    expect(() => localVaeConfig({ data: { val_fraction: 0.1 } })).toThrow(/val_fraction holds out files of dataset_dir/);
    expect(localUnetConfig({ eval: {}, checkpoint: { keep_best: 'ocr_char_acc' } }).checkpoint.keep_best).toBe('ocr_char_acc');
  });

  it('the eval block is a strict schema', () => {
    expect(TrainEvalSchema.parse({})).toMatchObject({ every: 500, limit: 16, tensorboard: true, early_stop_patience: 0 });
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

describe('a tiny local VAE run with eval', () => {
  it('evaluates every eval.every steps and at the end, to metrics.jsonl, TensorBoard and sample grids, and keeps the best', async () => {
    const { localVaeConfig, trainToEnd } = await import('../helpers/training');
    const { VaeTrainer } = await import('../../src/training/vae-trainer');
    const { BEST_DIR, RUN_FILES_DIR } = await import('../../src/training/loop');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-train-eval-run-'));
    try {
      const cfg = localVaeConfig({
        train: { max_steps: 5, batch_size: 2 },
        checkpoint: { every: 100, keep_last: 1, keep_best: 'psnr' },
        eval: { every: 2, limit: 2, early_stop_patience: 50 },
        log: { every: 1 },
      });
      const r = await trainToEnd(await VaeTrainer.create(cfg), out);
      expect(r.steps).toBe(5);
      // Evaluations at 2, 4 and the end (5).
      const evals = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.group === 'eval');
      expect(evals.map((e) => e.step)).toEqual([2, 4, 5]);
      for (const e of evals) expect(e.psnr).toBeGreaterThan(0);
      expect(r.lastEval?.psnr).toBe(evals[2].psnr);
      expect(fs.readdirSync(path.join(out, 'samples')).sort()).toEqual(['step-00000002.png', 'step-00000004.png', 'step-00000005.png']);
      const [tb] = fs.readdirSync(path.join(out, 'tensorboard'));
      const events = readTensorBoardEvents(path.join(out, 'tensorboard', tb));
      const at = (tag: string) => events.filter((e) => e.summary?.value.some((v) => v.tag === tag)).map((e) => e.step);
      expect(at('eval/psnr')).toEqual([2, 4, 5]);
      expect(at('eval/samples')).toEqual([2, 4, 5]);
      expect(at('train/loss')).toEqual([1, 2, 3, 4, 5]);
      // The best by PSNR is kept outside the pruned checkpoints, with its metric.
      const bestPsnr = Math.max(...evals.map((e) => e.psnr));
      const best = JSON.parse(fs.readFileSync(path.join(out, BEST_DIR, 'best.json'), 'utf8'));
      expect(best).toMatchObject({ metric: 'psnr', bestStep: evals.find((e) => e.psnr === bestPsnr).step });
      expect(best.best).toBeCloseTo(bestPsnr, 10);
      expect(fs.existsSync(path.join(out, BEST_DIR, 'vae', 'config.json'))).toBe(true);
      // Each checkpoint carries the run's history (it goes to R2 with it).
      expect(fs.existsSync(path.join(r.lastCheckpoint!, RUN_FILES_DIR, 'metrics.jsonl'))).toBe(true);
      expect(fs.readdirSync(path.join(r.lastCheckpoint!, RUN_FILES_DIR, 'samples')).length).toBe(3);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('stops early after early_stop_patience evaluations without improvement', async () => {
    const { localVaeConfig, trainToEnd } = await import('../helpers/training');
    const { VaeTrainer } = await import('../../src/training/vae-trainer');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-train-eval-stop-'));
    try {
      // lr 0: the weights never change, so the metric never improves after the first evaluation.
      const cfg = localVaeConfig({
        optimizer: { lr: 1e-30 },
        ema: { enabled: false },
        train: { max_steps: 20, batch_size: 1 },
        checkpoint: { every: 100, keep_last: 1, keep_best: 'ssim' },
        eval: { every: 1, limit: 1, early_stop_patience: 2 },
      });
      const r = await trainToEnd(await VaeTrainer.create(cfg), out);
      expect(r.stoppedBy).toBe('early_stop');
      expect(r.steps).toBe(3); // best at 1, no improvement at 2 and 3
      expect(r.best).toMatchObject({ metric: 'ssim', bestStep: 1 });
      expect(JSON.parse(fs.readFileSync(path.join(out, 'eval_state.json'), 'utf8'))).toMatchObject({ metric: 'ssim', bestStep: 1, stale: 2 });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

it('a tiny local UNet run evaluates with DiffUTE\'s OCR measure (EMA weights), into TensorBoard', async () => {
  const { localUnetConfig, trainToEnd } = await import('../helpers/training');
  const { UnetTrainer } = await import('../../src/training/unet-trainer');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-train-eval-unet-'));
  try {
    const cfg = localUnetConfig({
      train: { max_steps: 2, batch_size: 1 },
      ema: { enabled: true, decay: 0.9 },
      glyph_projection: { seed: 0 }, // trained with the UNet: its EMA is evaluated with the UNet's
      checkpoint: { every: 100, keep_last: 1, keep_best: 'ocr_char_acc' },
      eval: { every: 100, limit: 1, steps: 2 },
    });
    const r = await trainToEnd(await UnetTrainer.create(cfg), out);
    expect(Object.keys(r.lastEval ?? {})).toEqual(expect.arrayContaining(['ocr_char_acc', 'ocr_word_acc', 'box_psnr', 'ring_psnr', 'changed_outside_paste']));
    expect(r.lastEval?.changed_outside_paste).toBe(0);
    expect(r.best).toMatchObject({ metric: 'ocr_char_acc', bestStep: 2 });
    const [tb] = fs.readdirSync(path.join(out, 'tensorboard'));
    const tags = readTensorBoardEvents(path.join(out, 'tensorboard', tb)).flatMap((e) => e.summary?.value.map((v) => v.tag) ?? []);
    expect(tags).toEqual(expect.arrayContaining(['eval/ocr_char_acc', 'eval/samples', 'train/loss']));
    expect(fs.existsSync(path.join(out, 'samples', 'step-00000002.png'))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
