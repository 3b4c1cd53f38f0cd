/**
 * Training checkpoints: one folder per step under `<out>/checkpoints/`, in the DiffUTE pipeline
 * folder's naming (models/diffute-pipeline.ts), so a UNet checkpoint loads as a pipeline
 * (`DiffutePipeline.fromPretrained`, `doc-anon anonymize --engine diffute --model <checkpoint>`):
 *
 *   step-00000100/
 *     unet/ or vae/     the trained model, diffusers layout (config.json +
 *                       diffusion_pytorch_model.safetensors): loadable by diffusers and by our fromPretrained
 *     ema_unet/, ema_vae/   its EMA weights in the same layout (when EMA is on)
 *     glyph_projection/ a UNet run's trained glyph projection (config.json + model.safetensors),
 *     ema_glyph_projection/  and its EMA (when both are on)
 *     scheduler/, model_index.json   a UNet run's noise schedule and pipeline index: the frozen VAE
 *                       and glyph encoder are named by their source (`_sources`), or written here
 *                       as vae/ and glyph_encoder/ when they were made from a config
 *     README.md         the model card: how it was trained, and its last step's numbers
 *     trainer_state.safetensors   AdamW moments and step, EMA shadows, generator state
 *     rng_ranks.safetensors       data-parallel runs: every rank's generator ("rng.cpu", [W, S])
 *     trainer.json      step, data cursor, LR schedule state, seeds, the resolved config
 *
 * Checkpoints written before the pipeline naming hold the trained model as `model/` (and `ema/`);
 * a resume reads them as well.
 *
 * A checkpoint is written into a temp folder next to its final name and renamed into place, so a
 * reader (or a resume after a crash) never sees half of one. The newest `keep` are kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { parseConfig } from '../core/config';

export const CHECKPOINT_FORMAT = 'doc-anon-torch/training-checkpoint';

export const CheckpointMetaSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(1),
  kind: z.enum(['vae', 'unet']),
  /** Optimizer steps done. */
  step: z.number().int().min(0),
  /** Micro-batches consumed from the data stream (the next one to load). */
  cursor: z.number().int().min(0),
  /** The LR schedule is a pure function of the step; its inputs are recorded to check a resume. */
  lr: z.strictObject({ base: z.number(), totalSteps: z.number().int(), schedule: z.record(z.string(), z.unknown()), last: z.number() }),
  /** Seeds of the trainer generator and the data stream (the generator's state is in trainer_state). */
  seeds: z.strictObject({ train: z.number().int(), data: z.number().int() }),
  ema: z.boolean(),
  /** Ranks of the run that wrote it (the data cursor and generators are per rank). */
  worldSize: z.number().int().min(1).default(1),
  /** The dataset version trained on, when the dataset is a published artifact (`<name>/<version>`). */
  dataVersion: z.string().optional(),
  createdAt: z.string(),
  config: z.unknown(),
});
export type CheckpointMeta = z.output<typeof CheckpointMetaSchema>;

export const META_FILE = 'trainer.json';
/** Where checkpoints written before the pipeline naming keep the trained model. */
export const LEGACY_MODEL_DIR = 'model';
export const STATE_FILE = 'trainer_state.safetensors';
export const RANK_RNG_FILE = 'rng_ranks.safetensors';

/** A checkpoint folder's (and its R2 version's) name: step-NNNNNNNN. */
export const STEP_DIR = /^step-(\d{8,})$/;

export function checkpointsRoot(outDir: string): string {
  return path.join(outDir, 'checkpoints');
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** Complete checkpoints under `root`, oldest first. */
export function listCheckpoints(root: string): Array<{ step: number; dir: string }> {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((n) => ({ m: STEP_DIR.exec(n), n }))
    .filter(({ m, n }) => m && fs.existsSync(path.join(root, n, META_FILE)))
    .map(({ m, n }) => ({ step: Number((m as RegExpExecArray)[1]), dir: path.join(root, n) }))
    .sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(root: string): string | undefined {
  const all = listCheckpoints(root);
  return all.length ? all[all.length - 1].dir : undefined;
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8'));
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot read checkpoint ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(CheckpointMetaSchema, raw, `checkpoint ${dir}/${META_FILE}`);
}

/**
 * Writes a checkpoint atomically: `fill(tmpDir)` writes the model files, then trainer.json goes in
 * last and the folder is renamed to its final name. Returns the final folder.
 */
export async function writeCheckpoint(root: string, meta: CheckpointMeta, fill: (dir: string) => Promise<void>): Promise<string> {
  fs.mkdirSync(root, { recursive: true });
  const final = path.join(root, checkpointName(meta.step));
  const tmp = path.join(root, `.tmp-${checkpointName(meta.step)}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
    fs.writeFileSync(path.join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    // Same step written again (e.g. a signal right after a periodic save): replace it.
    if (fs.existsSync(final)) fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return final;
}

/** Deletes all but the newest `keep` checkpoints (except those in `inUse`) and stale temp folders of dead writers. */
export function pruneCheckpoints(root: string, keep: number, inUse: ReadonlySet<string> = new Set()): string[] {
  const all = listCheckpoints(root);
  const removed: string[] = [];
  for (const c of all.slice(0, Math.max(0, all.length - keep))) {
    // A folder still being uploaded is removed by a later prune.
    if (inUse.has(c.dir)) continue;
    fs.rmSync(c.dir, { recursive: true, force: true });
    removed.push(c.dir);
  }
  if (fs.existsSync(root)) {
    for (const n of fs.readdirSync(root)) {
      if (n.startsWith('.tmp-') && !n.includes(`-${process.pid}-`)) fs.rmSync(path.join(root, n), { recursive: true, force: true });
    }
  }
  return removed;
}

/** The README.md of a checkpoint: what was trained, from what, how, and how its last step scored. */
export function modelCard(meta: CheckpointMeta, last?: { terms: Record<string, number>; gradNorm: number; lr: number; examples: number }): string {
  const c = meta.config as { model?: unknown; vae?: unknown; glyph_encoder?: unknown; data?: { source?: string; dataset_dir?: string; resolution?: number; crop_size?: number }; optimizer?: unknown; loss?: unknown; train?: { batch_size?: number; grad_accum?: number } };
  const json = (v: unknown): string => JSON.stringify(v ?? null);
  const lines = [
    `# ${meta.kind === 'unet' ? 'DiffUTE UNet' : 'VAE'} checkpoint, step ${meta.step}`,
    '',
    `Written by doc-anon-torch (\`doc-anon train-${meta.kind}\`) on ${meta.createdAt}.${meta.kind === 'unet' ? ' This folder is a DiffUTE pipeline: `doc-anon anonymize --engine diffute --model <this folder>`.' : ''}`,
    '',
    '## How it was trained',
    '',
    `- steps: ${meta.step} (LR schedule over ${meta.lr.totalSteps}; last lr ${meta.lr.last}), ${meta.worldSize} rank(s), batch ${c.train?.batch_size ?? '?'} x accumulation ${c.train?.grad_accum ?? '?'} per rank`,
    `- model: ${json(c.model)}`,
    ...(meta.kind === 'unet' ? [`- frozen VAE: ${json(c.vae)}`, `- frozen glyph encoder: ${json(c.glyph_encoder)}`] : []),
    `- data: ${c.data?.source === 'dataset' ? `dataset ${c.data.dataset_dir}${meta.dataVersion ? ` (${meta.dataVersion})` : ''}` : 'synthetic documents'}; crop ${c.data?.crop_size ?? '?'}${c.data?.resolution ? `, resolution ${c.data.resolution}` : ''}`,
    `- loss: ${json(c.loss)}`,
    `- optimizer: ${json(c.optimizer)}; EMA ${meta.ema ? 'on' : 'off'}; seeds ${json(meta.seeds)}`,
    `- the whole resolved config: trainer.json`,
    '',
    '## How it scored',
    '',
    last
      ? `Last step: ${Object.entries(last.terms).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(', ')}; gradient norm ${last.gradNorm.toPrecision(4)}, lr ${last.lr.toExponential(2)}, ${last.examples} examples. Every step: metrics.jsonl of the run.`
      : 'No step was taken in this process (a checkpoint written right after a resume): see the run\'s metrics.jsonl.',
    '',
  ];
  return lines.join('\n');
}
