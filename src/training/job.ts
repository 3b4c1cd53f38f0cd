/**
 * The parts of a training job that are not the CLI's: the shape of the job (its ranks and their
 * devices), the resolved plan a dry run prints and a run logs, each rank's share of the CPU
 * threads, and a typed trainer factory (a config's kind picks its trainer). `doc-anon train-*`
 * parses its arguments, calls these and prints.
 */
import * as os from 'node:os';
import { setNumThreads } from '../core/runtime';
import { checkpointsRoot } from './checkpoint';
import type { TrainConfig } from './config';
import { rankDevice, type DistEnv } from './distributed';
import { learningRate } from './lr-schedule';
import { runTraining, type LoopOptions, type LoopResult } from './loop';
import type { TrainerBuildOptions } from './base-trainer';
import { UnetTrainer } from './unet-trainer';
import { VaeTrainer } from './vae-trainer';

/** The ranks of the job: one per process, each on its device. */
export interface JobShape {
  worldSize: number;
  /** How the ranks start: one process, --nproc children, or an external launcher (torchrun). */
  launcher: 'single' | 'nproc' | 'env';
  ranks: Array<{ rank: number; localRank: number; device: string }>;
}

/** The job's ranks: `nproc` local children, else the ranks of the launcher's environment (or one). */
export function jobShape(device: string, nproc: number, dist: DistEnv): JobShape {
  const worldSize = nproc > 1 ? nproc : dist.worldSize;
  return {
    worldSize,
    launcher: nproc > 1 ? 'nproc' : dist.worldSize > 1 ? 'env' : 'single',
    ranks:
      nproc > 1
        ? Array.from({ length: nproc }, (_, r) => ({ rank: r, localRank: r, device: rankDevice(device, { ...dist, rank: r, localRank: r, worldSize: nproc }) }))
        : [{ rank: dist.rank, localRank: dist.localRank, device: rankDevice(device, dist) }],
  };
}

/** The resolved plan of a run: what `--dry-run` prints and a run logs at its start. */
export function trainingPlan(cfg: TrainConfig, out: string, maxSteps: number, device: string, resume: string | undefined, job: JobShape): Record<string, unknown> {
  const t = cfg.train;
  return {
    kind: cfg.kind,
    device,
    nproc: job.worldSize,
    distributed: job.worldSize > 1 ? { launcher: job.launcher, backend: device.startsWith('cuda') ? 'nccl' : 'gloo', ranks: job.ranks, sharding: 'rank r takes examples r, r+W, ...' } : false,
    outDir: out,
    resumeFrom: resume ?? null,
    steps: maxSteps,
    scheduleSteps: t.max_steps,
    examplesPerStep: t.batch_size * t.grad_accum * job.worldSize,
    microBatch: t.batch_size,
    gradAccum: t.grad_accum,
    lr: { first: learningRate(cfg.optimizer.lr, cfg.lr_schedule, 0, t.max_steps), peak: cfg.optimizer.lr, last: learningRate(cfg.optimizer.lr, cfg.lr_schedule, t.max_steps - 1, t.max_steps), ...cfg.lr_schedule },
    ema: cfg.ema.enabled ? cfg.ema : false,
    checkpoint: { ...cfg.checkpoint, root: checkpointsRoot(out) },
    storage: cfg.storage.uri ?? null,
    data: cfg.data,
    model: cfg.model.pretrained ?? 'random init from config',
  };
}

/**
 * This rank's intra-op threads: `train.threads` when set; local CPU ranks share the cores (each
 * takes its part instead of all of them: oversubscription); otherwise libtorch's default. Returns
 * the number set, or undefined when left alone.
 */
export function splitThreads(cfg: TrainConfig, dist: DistEnv, device: string, cpus = os.cpus().length): number | undefined {
  let n: number | undefined;
  if (cfg.train.threads > 0) n = cfg.train.threads;
  else if (dist.localWorldSize > 1 && !device.startsWith('cuda')) n = Math.max(1, Math.floor(cpus / dist.localWorldSize));
  if (n !== undefined) setNumThreads(n);
  return n;
}

/** A trainer of any kind. */
export type Trainer = VaeTrainer | UnetTrainer;

/** The trainer of the config's kind (a VAE config makes a VaeTrainer, a UNet one a UnetTrainer). */
export function createTrainer(cfg: TrainConfig, options: TrainerBuildOptions = {}): Promise<Trainer> {
  return cfg.kind === 'vae' ? VaeTrainer.create(cfg, options) : UnetTrainer.create(cfg, options);
}

/** Runs the training loop on a trainer of either kind (each kind's loop typed by its own batches). */
export function runTrainer(trainer: Trainer, options: LoopOptions): Promise<LoopResult> {
  return trainer instanceof VaeTrainer ? runTraining(trainer, options) : runTraining(trainer, options);
}
