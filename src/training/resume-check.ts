/**
 * What changed between the config a checkpoint was written with and the config resuming it.
 * Changes that break the data stream's position are errors: the cursor counts micro-batches of
 * the old size from the old stream, so a new batch size, accumulation, data seed or source would
 * silently skip or repeat examples. Changes to the optimizer, LR schedule or losses are allowed
 * (fine-tuning a run's recipe is common) but reported, as the run is then no longer a continuation
 * of the same curve.
 */
import type { TrainConfig } from './config';

const MUST_MATCH = ['train.batch_size', 'train.grad_accum', 'data.source', 'data.seed', 'data.examples_per_page'];
const REPORTED = ['train.max_steps', 'optimizer', 'lr_schedule', 'loss', 'train.max_grad_norm', 'ema', 'data.dataset_dir'];

function at(obj: unknown, key: string): unknown {
  let v: unknown = obj;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ResumeDifferences {
  /** Keys whose change breaks the data stream (the resume is refused). */
  errors: string[];
  /** Keys that changed the training recipe (the resume goes on; the caller reports them). */
  changed: string[];
}

/** One side of the comparison: a config and the published dataset version it read (if any). */
export interface RunInputs {
  config: unknown;
  dataVersion?: string;
}

export function resumeDifferences(saved: RunInputs, current: RunInputs & { config: TrainConfig }): ResumeDifferences {
  const describe = (k: string): string => `${k}: ${JSON.stringify(at(saved.config, k))} -> ${JSON.stringify(at(current.config, k))}`;
  const differ = (k: string): boolean => !same(at(saved.config, k), at(current.config, k));
  const changed = REPORTED.filter(differ).map(describe);
  // The same dataset_dir may name another version (`.../latest` after a new push).
  if (saved.dataVersion !== current.dataVersion) changed.push(`dataset version: ${saved.dataVersion ?? 'none'} -> ${current.dataVersion ?? 'none'}`);
  return { errors: MUST_MATCH.filter(differ).map(describe), changed };
}
