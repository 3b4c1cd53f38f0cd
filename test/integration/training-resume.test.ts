/**
 * Resume is exact on the CPU: 6 steps in one go == 3 steps, checkpoint, a new trainer resumed from
 * it, 3 more steps (bit-identical model, EMA and optimizer state), for the VAE and the UNet trainers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LEGACY_MODEL_DIR, checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { VaeTrainer } from '../../src/training/vae-trainer';
import { AutoencoderKL } from '../../src';
import { expectExactResume, localUnetConfig, localVaeConfig } from '../helpers/training';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-resume-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('exact resume on the CPU', () => {
  it('VAE trainer (posterior sampling, EMA, cosine LR)', async () => {
    const cfg = localVaeConfig({ train: { max_steps: 6, batch_size: 2 }, data: { crop_size: 32 }, checkpoint: { every: 3 } });
    await expectExactResume(tmp, 'vae', (resumeFrom) => VaeTrainer.create(cfg, { resumeFrom }));
    // The checkpointed model is a diffusers folder our fromPretrained loads, named as a pipeline component.
    const vae = await AutoencoderKL.fromPretrained(path.join(latestCheckpoint(checkpointsRoot(path.join(tmp, 'vae-b'))) as string, 'vae'));
    expect(vae.config.block_out_channels).toEqual([16, 32]);
    vae.dispose();
  });

  it('UNet trainer (noise, timesteps, conditioning dropout from the checkpointed generator)', async () => {
    const cfg = localUnetConfig({ train: { max_steps: 6, batch_size: 2 }, ema: { enabled: true }, checkpoint: { every: 3 } });
    await expectExactResume(tmp, 'unet', (resumeFrom) => UnetTrainer.create(cfg, { resumeFrom }));
  });

  it('a checkpoint written before the pipeline naming (model/, ema/) still resumes exactly', async () => {
    const cfg = localVaeConfig({ train: { max_steps: 6, batch_size: 2 }, data: { crop_size: 32 }, checkpoint: { every: 3 } });
    // The VAE test above left run A (6 steps) and run B's step 3: make that one a legacy checkpoint.
    const mid = path.join(checkpointsRoot(path.join(tmp, 'vae-b')), 'step-00000003');
    const legacy = path.join(tmp, 'legacy', 'step-00000003');
    fs.cpSync(mid, legacy, { recursive: true });
    fs.renameSync(path.join(legacy, 'vae'), path.join(legacy, LEGACY_MODEL_DIR));
    fs.renameSync(path.join(legacy, 'ema_vae'), path.join(legacy, 'ema'));
    fs.rmSync(path.join(legacy, 'README.md'));
    const t = await VaeTrainer.create(cfg, { resumeFrom: legacy });
    expect(t.step).toBe(3);
    await runTraining(t, { outDir: path.join(tmp, 'legacy-run'), maxSteps: 6, handleSignals: false });
    t.dispose();
    const end = latestCheckpoint(checkpointsRoot(path.join(tmp, 'legacy-run'))) as string;
    const endA = latestCheckpoint(checkpointsRoot(path.join(tmp, 'vae-a'))) as string;
    // Its continuation is written in the new naming and equals the uninterrupted run.
    for (const f of ['vae/diffusion_pytorch_model.safetensors', 'ema_vae/diffusion_pytorch_model.safetensors', 'trainer_state.safetensors']) {
      const equal = fs.readFileSync(path.join(end, f)).equals(fs.readFileSync(path.join(endA, f)));
      expect({ f, equal }).toEqual({ f, equal: true });
    }
    expect(fs.existsSync(path.join(end, LEGACY_MODEL_DIR))).toBe(false);
  });

  it('a checkpoint resumes only with the same data stream; recipe changes go on and are reported', async () => {
    const base = { train: { max_steps: 6, batch_size: 2 }, data: { crop_size: 32 }, checkpoint: { every: 3 } };
    const first = await VaeTrainer.create(localVaeConfig(base));
    const dir = await first.saveCheckpoint(checkpointsRoot(path.join(tmp, 'vae-changed')));
    first.dispose();
    for (const [change, key] of [
      [{ train: { batch_size: 4 } }, 'train.batch_size: 2 -> 4'],
      [{ train: { grad_accum: 2 } }, 'train.grad_accum: 1 -> 2'],
      [{ data: { seed: 9 } }, 'data.seed: 0 -> 9'],
    ] as const) {
      const cfg = localVaeConfig({ ...base, ...change, train: { ...base.train, ...((change as { train?: object }).train ?? {}) }, data: { ...base.data, ...((change as { data?: object }).data ?? {}) } });
      await expect(VaeTrainer.create(cfg, { resumeFrom: dir })).rejects.toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(key) });
    }
    const same = await VaeTrainer.create(localVaeConfig(base), { resumeFrom: dir });
    expect(same.resumeChanges).toEqual([]);
    same.dispose();
    const tuned = await VaeTrainer.create(localVaeConfig({ ...base, optimizer: { lr: 5e-4 } }), { resumeFrom: dir });
    expect(tuned.resumeChanges).toEqual([expect.stringMatching(/^optimizer: .*"lr":0\.001.* -> .*"lr":0\.0005/)]);
    tuned.dispose();
  });
});
