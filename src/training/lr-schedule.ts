/**
 * Learning-rate schedules, computed here and passed to every native step (the native side applies
 * the number it is given). A schedule is a pure function of the optimizer step, so its only state
 * in a checkpoint is the step itself (and the config, which the checkpoint also records).
 *
 * Warm-up is linear from 0 to `lr` over `warmupSteps` (step s uses lr * (s+1) / warmupSteps, so
 * the first update is never 0). After warm-up, with progress p in [0, 1] over the remaining steps:
 *  - constant: lr
 *  - linear: min_lr + (lr - min_lr) * (1 - p)
 *  - cosine: min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * p))
 *  - cosine_with_restarts: the cosine restarted `numCycles` times (hard restarts, as
 *    transformers' get_cosine_with_hard_restarts_schedule_with_warmup), never below min_lr.
 */
import { z } from 'zod';

export const LrScheduleSchema = z.strictObject({
  kind: z.enum(['constant', 'linear', 'cosine', 'cosine_with_restarts']).default('constant'),
  warmup_steps: z.number().int().min(0).default(0),
  /** Floor reached at the end (linear / cosine) or at the end of every cycle (restarts). */
  min_lr: z.number().min(0).default(0),
  /** Cycles of cosine_with_restarts. */
  num_cycles: z.number().int().min(1).default(1),
});
export type LrScheduleConfig = z.output<typeof LrScheduleSchema>;

/** The learning rate for optimizer step `step` (0-based) of `totalSteps`. */
export function learningRate(baseLr: number, schedule: LrScheduleConfig, step: number, totalSteps: number): number {
  const { kind, warmup_steps: warmup, min_lr: minLr, num_cycles: cycles } = schedule;
  if (warmup > 0 && step < warmup) return (baseLr * (step + 1)) / warmup;
  if (kind === 'constant') return baseLr;
  const span = Math.max(1, totalSteps - warmup);
  const p = Math.min(1, Math.max(0, (step - warmup) / span));
  const floor = Math.min(minLr, baseLr);
  if (kind === 'linear') return floor + (baseLr - floor) * (1 - p);
  if (kind === 'cosine') return floor + (baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
  // Hard restarts: the phase within the current cycle; p = 1 (the very end) stays at the floor.
  if (p >= 1) return floor;
  const phase = (p * cycles) % 1;
  return floor + (baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * phase));
}
