/**
 * The VAE recipe, measured (issue 21): on the tiny local VAE (configs/training/vae.local.yaml's
 * architecture), from one start and for the same steps and data, compare
 *   - learning rate 5e-4 vs 1e-4 vs 1e-5 (full VAE, kl_weight 1e-6),
 *   - kl_weight 0 vs 1e-6 vs larger values (full VAE, the best-looking lr of the original analysis, 5e-4),
 *   - decoder-only vs full VAE training (lr 5e-4, kl_weight 1e-6), and decoder-only at each lr,
 * with validation PSNR / SSIM / LPIPS and the latent std every --eval-every steps on held-out
 * synthetic pages (another data seed than training). The start is the tiny VAE pre-trained here
 * for --pretrain steps (the same weights for every run: a fine-tuning start, as SD2's VAE is for
 * the real recipe, so that decoder-only training has a trained encoder to keep).
 *
 *   node -r ./bench/register-ts.js bench/vae-recipe.ts [--steps 120] [--pretrain 300] [--eval-every 30]
 *       [--val 16] [--large-kl 1e-2,1e-1] [--out bench/out/vae-recipe] [--only name,name]
 *
 * LPIPS uses the test fixture's VGG16 trunk (test/fixtures/lpips: random-sign weights, not the
 * ImageNet VGG16, which is not shipped), with the real v0.1 heads: it ranks reconstructions by
 * deep-feature distance but its values are not comparable with published LPIPS numbers.
 * Writes results.json (every curve) and prints a markdown table; it does not pass or fail.
 * Threads: 1 (the machine is shared).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as YAML from 'yaml';
import { setNumThreads } from '../src/core/runtime';
import { evaluateVaeModel, type VaeEvalReport } from '../src/eval/vae-eval';
import { Lpips } from '../src/models/lpips';
import { parseVaeTrainConfig, type VaeTrainConfig } from '../src/training/config';
import { SyntheticPages } from '../src/training/data/pages';
import { VaeTrainer } from '../src/training/vae-trainer';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const STEPS = Number(arg('steps', '120'));
const PRETRAIN = Number(arg('pretrain', '300'));
const EVERY = Number(arg('eval-every', '30'));
const VAL = Number(arg('val', '16'));
const LARGE_KL = arg('large-kl', '1e-2,1e-1').split(',').map(Number);
const OUT = arg('out', path.join('bench', 'out', 'vae-recipe'));
const ONLY = arg('only', '');

interface Variant {
  name: string;
  lr: number;
  kl: number;
  trainable: 'all' | 'decoder';
}

const VARIANTS: Variant[] = [
  { name: 'lr 5e-4 (full, kl 1e-6)', lr: 5e-4, kl: 1e-6, trainable: 'all' },
  { name: 'lr 1e-4 (full, kl 1e-6)', lr: 1e-4, kl: 1e-6, trainable: 'all' },
  { name: 'lr 1e-5 (full, kl 1e-6)', lr: 1e-5, kl: 1e-6, trainable: 'all' },
  { name: 'kl 0 (full, lr 5e-4)', lr: 5e-4, kl: 0, trainable: 'all' },
  ...LARGE_KL.map((kl): Variant => ({ name: `kl ${kl} (full, lr 5e-4)`, lr: 5e-4, kl, trainable: 'all' })),
  { name: 'decoder-only (lr 5e-4, kl 1e-6)', lr: 5e-4, kl: 1e-6, trainable: 'decoder' },
  { name: 'decoder-only (lr 1e-4, kl 1e-6)', lr: 1e-4, kl: 1e-6, trainable: 'decoder' },
  { name: 'decoder-only (lr 1e-5, kl 1e-6)', lr: 1e-5, kl: 1e-6, trainable: 'decoder' },
];

const local = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'configs', 'training', 'vae.local.yaml'), 'utf8'));

function config(model: VaeTrainConfig['model'], v: { lr: number; kl: number; trainable: 'all' | 'decoder'; steps: number; seed: number }): VaeTrainConfig {
  return parseVaeTrainConfig({
    ...local,
    model,
    trainable: v.trainable,
    loss: { ...local.loss, kl_weight: v.kl, lpips_weight: 0 },
    optimizer: { lr: v.lr, weight_decay: 0 },
    lr_schedule: { kind: 'constant', warmup_steps: 10 },
    train: { ...local.train, max_steps: v.steps, seed: v.seed, threads: 1 },
    ema: { enabled: false },
    data: { ...local.data, seed: 1, prefetch: 2 },
  });
}

interface Point {
  step: number;
  psnr: number;
  ssim: number;
  lpips: number | null;
  latentStd: number;
  klPerSample: number;
  trainLoss?: number;
}

async function main(): Promise<void> {
  setNumThreads(1);
  fs.mkdirSync(OUT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-recipe-'));
  const backbone = path.join(tmp, 'vgg16_features.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'lpips', 'model.safetensors.gz'))));
  const lpips = await Lpips.load(backbone);
  // Held-out pages: another data seed than the training stream (seed 1).
  const val = new SyntheticPages({ seed: 777, width: 600, height: 800, kinds: ['statement', 'invoice', 'form'], noise: 0, blur: 0, rotation: 0 });
  const evaluate = async (t: VaeTrainer): Promise<VaeEvalReport> =>
    evaluateVaeModel(t.vae, val, { limit: VAL, seed: 3, cropSize: local.data.crop_size, batchSize: 8, lpips });

  // The common start.
  const start = path.join(OUT, 'start');
  if (!fs.existsSync(path.join(start, 'config.json'))) {
    const t0 = Date.now();
    const pre = await VaeTrainer.create(config(local.model, { lr: 1e-3, kl: 1e-6, trainable: 'all', steps: PRETRAIN, seed: 0 }));
    for (let s = 0; s < PRETRAIN; s++) await pre.trainStep();
    await pre.vae.save(start);
    const r = await evaluate(pre);
    pre.dispose();
    process.stderr.write(`start: ${PRETRAIN} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s, val PSNR ${r.psnr.mean.toFixed(2)}\n`);
  }

  const resultsFile = path.join(OUT, 'results.json');
  const results: Record<string, { variant: Variant; curve: Point[]; seconds: number }> = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {};
  for (const v of VARIANTS) {
    if (ONLY && !ONLY.split(',').some((o) => v.name.startsWith(o))) continue;
    const t0 = Date.now();
    const t = await VaeTrainer.create(config({ pretrained: start }, { ...v, steps: STEPS, seed: 0 }));
    const curve: Point[] = [];
    const point = async (step: number, trainLoss?: number): Promise<void> => {
      const r = await evaluate(t);
      curve.push({ step, psnr: r.psnr.mean, ssim: r.ssim.mean, lpips: r.lpips?.mean ?? null, latentStd: r.latent.std, klPerSample: r.klPerSample.mean, trainLoss });
      process.stderr.write(`${v.name} step ${step}: PSNR ${r.psnr.mean.toFixed(2)} SSIM ${r.ssim.mean.toFixed(4)} LPIPS ${r.lpips?.mean.toFixed(4)} latent std ${r.latent.std.toFixed(3)} KL ${r.klPerSample.mean.toFixed(1)}\n`);
    };
    await point(0);
    let loss = 0;
    let n = 0;
    for (let s = 1; s <= STEPS; s++) {
      const r = await t.trainStep();
      loss += r.terms.loss;
      n++;
      if (s % EVERY === 0 || s === STEPS) {
        await point(s, loss / n);
        loss = 0;
        n = 0;
      }
    }
    t.dispose();
    results[v.name] = { variant: v, curve, seconds: (Date.now() - t0) / 1000 };
    fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2));
  }
  lpips.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });

  // The end of a run: the mean of its last three evaluations (one evaluation is noisy at high lr).
  const tail = (c: Point[], f: (p: Point) => number): number => {
    const t = c.slice(-3);
    return t.reduce((a, p) => a + f(p), 0) / t.length;
  };
  const rows = Object.values(results).map(({ variant, curve, seconds }) => {
    const first = curve[0];
    const stds = curve.map((p) => p.latentStd);
    return `| ${variant.name} | ${first.psnr.toFixed(2)} -> ${tail(curve, (p) => p.psnr).toFixed(2)} | ${tail(curve, (p) => p.ssim).toFixed(4)} | ${
      first.lpips === null ? '-' : `${(first.lpips * 1e3).toFixed(2)} -> ${(tail(curve, (p) => p.lpips ?? NaN) * 1e3).toFixed(2)}`
    } | ${first.latentStd.toFixed(3)} -> ${tail(curve, (p) => p.latentStd).toFixed(3)} (${Math.min(...stds).toFixed(3)}..${Math.max(...stds).toFixed(3)}) | ${tail(curve, (p) => p.klPerSample).toFixed(0)} | ${seconds.toFixed(0)} |`;
  });
  process.stdout.write(
    `\n${STEPS} steps from the common start, validation on ${VAL} held-out ${local.data.crop_size}px crops; end = mean of the last 3 evaluations\n\n` +
      '| run | val PSNR dB (start -> end) | SSIM (end) | LPIPS* x1e3 (start -> end) | latent std (start -> end, range) | KL/sample (end) | s |\n| --- | --- | --- | --- | --- | --- | --- |\n' +
      rows.join('\n') +
      '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
