/** Helpers for the training tests: the shipped local configs with small overrides. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import type { BaseTrainer } from '../../src/training/base-trainer';
import { checkpointsRoot, latestCheckpoint, listCheckpoints, readCheckpointMeta } from '../../src/training/checkpoint';
import { runTraining } from '../../src/training/loop';
import { parseUnetTrainConfig, parseVaeTrainConfig, type UnetTrainConfig, type VaeTrainConfig } from '../../src/training/config';

const dir = path.join(__dirname, '..', '..', 'configs', 'training');

function merge(a: any, b: any): any {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

/** Runs `trainer` to its end in `outDir` (no signal handlers: jest owns the process) and disposes it. */
export async function trainToEnd<T extends BaseTrainer<unknown>>(trainer: T, outDir: string): Promise<Awaited<ReturnType<typeof runTraining>>> {
  try {
    return await runTraining(trainer, { outDir, handleSignals: false });
  } finally {
    trainer.dispose();
  }
}

export function localVaeConfig(overrides: object = {}): VaeTrainConfig {
  return parseVaeTrainConfig(merge(YAML.parse(fs.readFileSync(path.join(dir, 'vae.local.yaml'), 'utf8')), overrides));
}

export function localUnetConfig(overrides: object = {}): UnetTrainConfig {
  return parseUnetTrainConfig(merge(YAML.parse(fs.readFileSync(path.join(dir, 'unet.local.yaml'), 'utf8')), overrides));
}

/** The trained model, its EMA and the trainer's state of a checkpoint of `kind` (pipeline naming). */
const resumeFiles = (kind: 'vae' | 'unet'): string[] => [`${kind}/diffusion_pytorch_model.safetensors`, `ema_${kind}/diffusion_pytorch_model.safetensors`, 'trainer_state.safetensors'];

/**
 * Resume is exact: 6 steps in one go (run A) equal 3 steps, a checkpoint, a new trainer resumed
 * from it and 3 more (run B): `files` of the last checkpoints are byte-identical. The trainers'
 * configs must checkpoint every 3 steps and keep the last 2.
 */
export async function expectExactResume<T extends BaseTrainer<unknown>>(
  tmp: string,
  name: string,
  make: (resumeFrom?: string) => Promise<T>,
  files?: string[],
): Promise<void> {
  const outA = path.join(tmp, `${name}-a`);
  const outB = path.join(tmp, `${name}-b`);
  const a = await make();
  files ??= resumeFiles(a.kind);
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
  for (const f of files) {
    const equal = fs.readFileSync(path.join(endA, f)).equals(fs.readFileSync(path.join(endB, f)));
    expect({ f, equal }).toEqual({ f, equal: true });
  }
  // keep_last: 2 -> the oldest checkpoint of run B was pruned.
  expect(listCheckpoints(checkpointsRoot(outB)).map((x) => path.basename(x.dir))).toEqual(['step-00000003', 'step-00000006']);
}
