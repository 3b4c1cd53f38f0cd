/**
 * Training options through the real trainers (the TypeScript side and the native step together):
 *  - gradient accumulation: k micro-batches of B equal one micro-batch of k*B;
 *  - VAE `trainable`: decoder-only and frozen-encoder fine-tuning leave the frozen weights untouched;
 *  - UNet conditioning dropout really drops the glyph context, and v_prediction changes the target;
 *  - a run whose gradients stay non-finite fails with ERR_DIVERGED instead of spinning forever.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { readSafetensors } from '../../src/core/safetensors';
import type { StepReport } from '../../src/training/base-trainer';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { VaeTrainer } from '../../src/training/vae-trainer';
import { runCli } from '../helpers/cli';
import { localUnetConfig, localVaeConfig } from '../helpers/training';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-train-opts-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Weights = Record<string, Float32Array>;

async function savedWeights(model: { save(dir: string): Promise<void> }, name: string, file: string): Promise<Weights> {
  const dir = path.join(tmp, name);
  await model.save(dir);
  const { tensors } = await readSafetensors(path.join(dir, file));
  const out: Weights = {};
  for (const [k, t] of Object.entries(tensors)) {
    out[k] = Float32Array.from(t.dataSync<'float32'>());
    t.dispose();
  }
  return out;
}
const vaeWeights = (t: VaeTrainer, name: string): Promise<Weights> => savedWeights(t.vae, name, 'diffusion_pytorch_model.safetensors');

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

async function steps(t: { trainStep(): Promise<StepReport> }, n: number): Promise<StepReport[]> {
  const out: StepReport[] = [];
  for (let i = 0; i < n; i++) out.push(await t.trainStep());
  return out;
}

describe('training options', () => {
  it('gradient accumulation: 2 micro-batches of 2 train like 1 batch of 4 (losses, grad norms, weights)', async () => {
    // No posterior sampling: the noise draws would differ between one [4] and two [2] draws.
    const base = { train: { max_steps: 3 }, ema: { enabled: false }, loss: { sample_posterior: false }, data: { crop_size: 32 } };
    const one = await VaeTrainer.create(localVaeConfig({ ...base, train: { ...base.train, batch_size: 4, grad_accum: 1 } }));
    const two = await VaeTrainer.create(localVaeConfig({ ...base, train: { ...base.train, batch_size: 2, grad_accum: 2 } }));
    try {
      const init = await vaeWeights(one, 'accum-init');
      const r1 = await steps(one, 3);
      const r2 = await steps(two, 3);
      for (let i = 0; i < 3; i++) {
        expect(r2[i].examples).toBe(4);
        expect(Math.abs(r2[i].terms.loss - r1[i].terms.loss)).toBeLessThan(1e-5 * Math.abs(r1[i].terms.loss));
        expect(Math.abs(r2[i].gradNorm - r1[i].gradNorm)).toBeLessThan(1e-4 * r1[i].gradNorm);
      }
      const w1 = await vaeWeights(one, 'accum-1');
      const w2 = await vaeWeights(two, 'accum-2');
      let moved = 0;
      let apart = 0;
      for (const k of Object.keys(w1)) {
        moved = Math.max(moved, maxAbsDiff(w1[k], init[k]));
        apart = Math.max(apart, maxAbsDiff(w1[k], w2[k]));
      }
      // Training moved the weights; the two runs differ by float rounding (which Adam's
      // normalisation magnifies for near-zero gradients) only.
      expect(moved).toBeGreaterThan(1e-4);
      expect(apart).toBeLessThan(1e-2 * moved);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it.each([
    ['decoder', ['encoder.', 'quant_conv.']],
    ['frozen_encoder', ['encoder.']],
  ] as const)('trainable: %s leaves %j untouched and trains the rest', async (trainable, frozen) => {
    const t = await VaeTrainer.create(localVaeConfig({ trainable, train: { max_steps: 2, batch_size: 2 }, ema: { enabled: false }, data: { crop_size: 32 } }));
    try {
      expect(t.trainableParameters.some((k) => frozen.some((f) => k.startsWith(f)))).toBe(false);
      const before = await vaeWeights(t, `${trainable}-0`);
      await steps(t, 2);
      const after = await vaeWeights(t, `${trainable}-2`);
      for (const k of Object.keys(before)) {
        const d = maxAbsDiff(before[k], after[k]);
        if (frozen.some((f) => k.startsWith(f))) expect([k, d]).toEqual([k, 0]);
      }
      const trained = Object.keys(before).filter((k) => !frozen.some((f) => k.startsWith(f)));
      expect(trained.some((k) => k.startsWith('decoder.'))).toBe(true);
      for (const k of trained.filter((x) => x.endsWith('.weight') && x.includes('conv'))) expect([k, maxAbsDiff(before[k], after[k]) > 0]).toEqual([k, true]);
      if (trainable === 'frozen_encoder') expect(maxAbsDiff(before['quant_conv.weight'], after['quant_conv.weight'])).toBeGreaterThan(0);
    } finally {
      t.dispose();
    }
  });

  it('conditioning dropout 1 makes the UNet loss independent of the glyph encoder; 0 does not', async () => {
    const firstLoss = async (condDropout: number, glyphSeed: number): Promise<number> => {
      const t = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 1, batch_size: 2 }, loss: { cond_dropout: condDropout }, glyph_encoder: { seed: glyphSeed } }));
      try {
        return (await t.trainStep()).terms.loss;
      } finally {
        t.dispose();
      }
    };
    const [a0, b0] = [await firstLoss(0, 2), await firstLoss(0, 7)];
    const [a1, b1] = [await firstLoss(1, 2), await firstLoss(1, 7)];
    expect(a0).not.toBe(b0); // the glyph context reaches the UNet...
    expect(a1).toBe(b1); // ...and dropout removes all of it
  });

  it('v_prediction trains against the velocity: a different, finite loss from the same noise', async () => {
    const firstLoss = async (prediction: 'epsilon' | 'v_prediction'): Promise<number> => {
      const t = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 1, batch_size: 2 }, loss: { prediction } }));
      try {
        return (await t.trainStep()).terms.loss;
      } finally {
        t.dispose();
      }
    };
    const eps = await firstLoss('epsilon');
    const v = await firstLoss('v_prediction');
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - eps)).toBeGreaterThan(1e-3 * eps);
  });

  it('non-finite gradients: steps are skipped, and a run of them fails with ERR_DIVERGED', async () => {
    // An absurd learning rate overflows the weights after the first step; every later gradient is NaN.
    const t = await VaeTrainer.create(
      localVaeConfig({ optimizer: { lr: 1e30 }, lr_schedule: { kind: 'constant' }, train: { max_steps: 50, batch_size: 2, max_consecutive_skips: 3 }, ema: { enabled: false }, data: { crop_size: 32 } }),
    );
    const reports: StepReport[] = [];
    try {
      await expect(runTraining(t, { outDir: path.join(tmp, 'diverged'), handleSignals: false, hooks: { onStep: (r) => reports.push(r) } })).rejects.toMatchObject({
        code: 'ERR_DIVERGED',
        message: expect.stringMatching(/3 steps in a row had non-finite gradients .* lower optimizer.lr/),
      });
    } finally {
      t.dispose();
    }
    expect(reports.slice(-3).every((r) => r.skipped)).toBe(true);
    expect(reports.length).toBeLessThan(50);
    // Nothing is checkpointed from a diverged run.
    expect(fs.existsSync(path.join(tmp, 'diverged', 'checkpoints'))).toBe(false);
  });

  it('the CLI reports divergence as bad input (exit 2: a retry of the same recipe would diverge again)', async () => {
    const cfg = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.local.yaml'), 'utf8')) as Record<string, any>;
    cfg.optimizer.lr = 1e30;
    cfg.lr_schedule = { kind: 'constant' };
    cfg.train = { ...cfg.train, max_steps: 50, batch_size: 2, max_consecutive_skips: 3 };
    cfg.data = { ...cfg.data, crop_size: 32 };
    const file = path.join(tmp, 'diverge.yaml');
    fs.writeFileSync(file, YAML.stringify(cfg));
    const r = await runCli(['train-vae', '--config', file, '--out', path.join(tmp, 'diverge-cli')]);
    expect(r.stderr).toMatch(/ERR_DIVERGED: training diverged: 3 steps in a row/);
    expect(r.code).toBe(2);
  });

  it('maxSteps past train.max_steps is refused (it stops early within the LR schedule)', async () => {
    const t = await VaeTrainer.create(localVaeConfig({ train: { max_steps: 2, batch_size: 1 }, data: { crop_size: 16 } }));
    try {
      await expect(runTraining(t, { outDir: path.join(tmp, 'past'), maxSteps: 3, handleSignals: false })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringMatching(/raise train.max_steps/) });
    } finally {
      t.dispose();
    }
  });
});
