/**
 * Convergence on the CPU with the real trainers and the shipped local configs:
 *  - a tiny VAE on synthetic text crops reduces recon and LPIPS clearly while KL stays bounded;
 *  - the KL term regularises: with beta = 0 the latents drift away from N(0, I) (KL and latent
 *    scale grow), with beta > 0 they are held back at no cost in reconstruction;
 *  - a tiny DiffUTE UNet reduces its noise-prediction loss.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '../../src/core/safetensors';
import type { StepReport } from '../../src/training/base-trainer';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { VaeTrainer } from '../../src/training/vae-trainer';
import { fixture } from '../helpers/fixtures';
import { localUnetConfig, localVaeConfig } from '../helpers/training';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Largest and mean |a - b| over the float32 tensors of two safetensors files with the same keys. */
async function weightDiff(a: string, b: string): Promise<{ max: number; mean: number }> {
  const A = (await readSafetensors(a)).tensors;
  const B = (await readSafetensors(b)).tensors;
  expect(Object.keys(A).sort()).toEqual(Object.keys(B).sort());
  let max = 0;
  let sum = 0;
  let n = 0;
  for (const k of Object.keys(A)) {
    const x = A[k].dataSync<'float32'>();
    const y = B[k].dataSync<'float32'>();
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      max = Math.max(max, d);
      sum += d;
      n++;
    }
  }
  return { max, mean: sum / n };
}

async function train(t: { trainStep(): Promise<StepReport>; dispose(): void }, steps: number): Promise<StepReport[]> {
  const out: StepReport[] = [];
  try {
    for (let i = 0; i < steps; i++) out.push(await t.trainStep());
  } finally {
    t.dispose();
  }
  return out;
}

describe('training converges', () => {
  it('tiny VAE: recon and LPIPS fall, KL bounded', async () => {
    const steps = 40;
    const base = {
      train: { max_steps: steps, batch_size: 4 },
      data: { crop_size: 32 },
      ema: { enabled: false },
      lpips: { backbone: fixture('lpips', 'model.safetensors.gz'), heads: fixture('lpips', 'weights', 'lpips_v0.1_vgg_lin.safetensors') },
      loss: { lpips_weight: 300 },
    };
    const vae = await VaeTrainer.create(localVaeConfig(base));
    // The weights are where the config says (the CLI logs this as weightsOn; the GPU check reads cuda:0 there).
    expect(vae.weightsDevice).toBe('cpu');
    const withBeta = await train(vae, steps);
    const first = withBeta.slice(0, 5);
    const last = withBeta.slice(-5);
    const t = (r: StepReport[], k: string) => mean(r.map((x) => x.terms[k]));
    // eslint-disable-next-line no-console
    console.log('VAE', { recon: [t(first, 'recon'), t(last, 'recon')], lpips: [t(first, 'lpips'), t(last, 'lpips')], kl: [t(first, 'kl'), t(last, 'kl')], std: [t(first, 'latentStd'), t(last, 'latentStd')] });
    expect(t(last, 'recon')).toBeLessThan(0.5 * t(first, 'recon'));
    expect(t(last, 'lpips')).toBeLessThan(t(first, 'lpips'));
    expect(Math.max(...withBeta.map((r) => r.terms.kl))).toBeLessThan(1e6);
    for (const r of withBeta) expect(Number.isFinite(r.terms.loss) && !r.skipped).toBe(true);
  });

  it('KL regularisation: beta = 0 lets the latents drift from N(0, I), a beta holds them at the same reconstruction', async () => {
    // The default beta (1e-6, the latent-diffusion value; its gradient scale is pinned by the loss
    // convention test) does not hold the latent scale at this size: over 6000 steps of this setup it
    // drifted as far as beta = 0 (std 3.6 vs 3.4, README), as SD's VAE (trained with 1e-6) has
    // latents of std ~5.5. So this shows the mechanism at beta = 1e-3 over 100 steps (16 px crops,
    // no LPIPS), same data and noise as the beta = 0 run.
    const steps = 100;
    const run = async (beta: number): Promise<StepReport[]> =>
      train(
        await VaeTrainer.create(
          localVaeConfig({ train: { max_steps: steps, batch_size: 4 }, data: { crop_size: 16 }, ema: { enabled: false }, loss: { kl_weight: beta }, lr_schedule: { kind: 'constant' } }),
        ),
        steps,
      );
    const t = (r: StepReport[], k: string) => mean(r.slice(-10).map((x) => x.terms[k]));
    const free = await run(0);
    const held = await run(1e-3);
    // eslint-disable-next-line no-console
    console.log('KL drift', { beta0: { kl: t(free, 'kl'), std: t(free, 'latentStd'), recon: t(free, 'recon') }, beta1e3: { kl: t(held, 'kl'), std: t(held, 'latentStd'), recon: t(held, 'recon') } });
    // Without KL pressure the posterior moves far from its start (KL grows > 10x, latent std > 1).
    expect(t(free, 'kl')).toBeGreaterThan(10 * free[0].terms.kl);
    expect(t(free, 'latentStd')).toBeGreaterThan(1);
    // With it, clearly less drift...
    expect(t(held, 'kl')).toBeLessThan(0.75 * t(free, 'kl'));
    expect(t(held, 'latentStd')).toBeLessThan(0.85 * t(free, 'latentStd'));
    // ...and the reconstruction is as good (within 50%: both fall ~50x from the start).
    expect(t(held, 'recon')).toBeLessThan(1.5 * t(free, 'recon'));
    expect(t(held, 'recon')).toBeLessThan(free[0].terms.recon / 20);
  });

  it('gradient checkpointing trains the same UNet (recomputed activations: same losses, weights equal up to rounding)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-gc-'));
    try {
      const run = async (gc: boolean): Promise<{ losses: number[]; file: string }> => {
        const t = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 3, batch_size: 2 }, gradient_checkpointing: gc }));
        const losses: number[] = [];
        try {
          for (let i = 0; i < 3; i++) losses.push((await t.trainStep()).terms.loss);
          await t.unet.save(path.join(tmp, String(gc)));
        } finally {
          t.dispose();
        }
        return { losses, file: path.join(tmp, String(gc), 'diffusion_pytorch_model.safetensors') };
      };
      const plain = await run(false);
      const gc = await run(true);
      // Recomputation can reorder float sums in backward: equal up to rounding, not bit for bit.
      for (let i = 0; i < 3; i++) expect(Math.abs(gc.losses[i] - plain.losses[i])).toBeLessThan(1e-6 * Math.abs(plain.losses[i]));
      // Adam turns a rounding-level difference in a near-zero gradient into a step of up to lr,
      // so compare the two runs' difference with how far training moved the weights.
      const again = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 3, batch_size: 2 } }));
      await again.unet.save(path.join(tmp, 'init'));
      again.dispose();
      const init = path.join(tmp, 'init', 'diffusion_pytorch_model.safetensors');
      const diff = await weightDiff(gc.file, plain.file);
      const moved = await weightDiff(init, plain.file);
      // eslint-disable-next-line no-console
      console.log('gradient checkpointing', { diff, moved, losses: [plain.losses, gc.losses] });
      expect(moved.mean).toBeGreaterThan(0);
      expect(diff.mean).toBeLessThan(1e-3 * moved.mean);
      expect(diff.max).toBeLessThan(0.5 * moved.max);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('tiny UNet: the noise-prediction loss falls', async () => {
    const steps = 60;
    const r = await train(await UnetTrainer.create(localUnetConfig({ train: { max_steps: steps, batch_size: 4 }, loss: { cond_dropout: 0 } })), steps);
    const first = mean(r.slice(0, 10).map((x) => x.terms.loss));
    const last = mean(r.slice(-10).map((x) => x.terms.loss));
    // eslint-disable-next-line no-console
    console.log('UNet', { first, last });
    expect(last).toBeLessThan(0.8 * first);
  });
});
