/**
 * The training job's pure parts (src/training/job.ts): the ranks of a job and their devices, and
 * the resolved plan; the factory makes the trainer of the config's kind.
 */
import { SINGLE } from '../../src/training/distributed';
import { createTrainer, jobShape, trainingPlan } from '../../src/training/job';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { VaeTrainer } from '../../src/training/vae-trainer';
import { localUnetConfig, localVaeConfig } from '../helpers/training';

describe('training job', () => {
  it('shapes the ranks: one process, --nproc children (one GPU each on CUDA), or the launcher\'s rank', () => {
    expect(jobShape('cpu', 1, SINGLE)).toEqual({ worldSize: 1, launcher: 'single', ranks: [{ rank: 0, localRank: 0, device: 'cpu' }] });
    expect(jobShape('cuda', 2, SINGLE)).toEqual({
      worldSize: 2,
      launcher: 'nproc',
      ranks: [
        { rank: 0, localRank: 0, device: 'cuda:0' },
        { rank: 1, localRank: 1, device: 'cuda:1' },
      ],
    });
    expect(jobShape('cpu', 1, { ...SINGLE, rank: 3, localRank: 1, worldSize: 4, localWorldSize: 2 })).toEqual({ worldSize: 4, launcher: 'env', ranks: [{ rank: 3, localRank: 1, device: 'cpu' }] });
  });

  it('plans the examples per step over all ranks and the checkpoint root under --out', () => {
    const cfg = localVaeConfig({ train: { batch_size: 2, grad_accum: 3 } });
    const p = trainingPlan(cfg, '/runs/x', 5, 'cpu', undefined, jobShape('cpu', 2, SINGLE));
    expect(p).toMatchObject({ kind: 'vae', nproc: 2, examplesPerStep: 12, steps: 5, resumeFrom: null, checkpoint: { root: '/runs/x/checkpoints' }, distributed: { backend: 'gloo' } });
  });

  it('makes the trainer of the config\'s kind', async () => {
    const vae = await createTrainer(localVaeConfig());
    expect(vae).toBeInstanceOf(VaeTrainer);
    vae.dispose();
    const unet = await createTrainer(localUnetConfig());
    expect(unet).toBeInstanceOf(UnetTrainer);
    unet.dispose();
  });
});
