/**
 * Resume is exact on the CPU: 6 steps in one go == 3 steps, checkpoint, a new trainer resumed from
 * it, 3 more steps (bit-identical model, EMA and optimizer state), for the VAE and the UNet trainers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkpointsRoot, latestCheckpoint, listCheckpoints, readCheckpointMeta } from '../../src/training/checkpoint';
import type { BaseTrainer } from '../../src/training/base-trainer';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { VaeTrainer } from '../../src/training/vae-trainer';
import { AutoencoderKL } from '../../src';
import { localUnetConfig, localVaeConfig } from '../helpers/training';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-resume-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const files = (dir: string, sub: string): Buffer => fs.readFileSync(path.join(dir, sub));

async function check<T extends BaseTrainer<unknown>>(name: string, make: (resumeFrom?: string) => Promise<T>): Promise<void> {
  const outA = path.join(tmp, `${name}-a`);
  const outB = path.join(tmp, `${name}-b`);
  const a = await make();
  const ra = await runTraining(a, { outDir: outA, maxSteps: 6, handleSignals: false });
  a.dispose();
  expect(ra.steps).toBe(6);

  const b = await make();
  await runTraining(b, { outDir: outB, maxSteps: 3, handleSignals: false });
  b.dispose();
  const mid = latestCheckpoint(checkpointsRoot(outB)) as string;
  expect(readCheckpointMeta(mid)).toMatchObject({ step: 3, cursor: 3 });
  const c = await make(mid);
  expect(c.step).toBe(3);
  const rc = await runTraining(c, { outDir: outB, maxSteps: 6, handleSignals: false });
  c.dispose();
  expect(rc.steps).toBe(6);

  const endA = latestCheckpoint(checkpointsRoot(outA)) as string;
  const endB = latestCheckpoint(checkpointsRoot(outB)) as string;
  expect(path.basename(endB)).toBe('step-00000006');
  for (const f of ['model/diffusion_pytorch_model.safetensors', 'ema/diffusion_pytorch_model.safetensors', 'trainer_state.safetensors']) {
    expect({ f, equal: files(endA, f).equals(files(endB, f)) }).toEqual({ f, equal: true });
  }
  // keep_last: 2 (local configs) -> the oldest checkpoint of run B was pruned.
  expect(listCheckpoints(checkpointsRoot(outB)).map((x) => path.basename(x.dir))).toEqual(['step-00000003', 'step-00000006'].slice(-2));
}

describe('exact resume on the CPU', () => {
  it('VAE trainer (posterior sampling, EMA, cosine LR)', async () => {
    const cfg = localVaeConfig({ train: { max_steps: 6, batch_size: 2 }, data: { crop_size: 32 }, checkpoint: { every: 3 } });
    await check('vae', (resumeFrom) => VaeTrainer.create(cfg, { resumeFrom }));
    // The checkpointed model is a diffusers folder our fromPretrained loads.
    const vae = await AutoencoderKL.fromPretrained(path.join(latestCheckpoint(checkpointsRoot(path.join(tmp, 'vae-b'))) as string, 'model'));
    expect(vae.config.block_out_channels).toEqual([16, 32]);
    vae.dispose();
  });

  it('UNet trainer (noise, timesteps, conditioning dropout from the checkpointed generator)', async () => {
    const cfg = localUnetConfig({ train: { max_steps: 6, batch_size: 2 }, ema: { enabled: true }, checkpoint: { every: 3 } });
    await check('unet', (resumeFrom) => UnetTrainer.create(cfg, { resumeFrom }));
  });
});
