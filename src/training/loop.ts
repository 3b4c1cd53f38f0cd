/**
 * The training loop around a trainer (a {@link TrainingRun}: its steps, checkpoints and evaluations
 * as methods; what a caller adds comes in as {@link TrainingHooks}): steps until max steps, logs (progress line on a TTY, JSON
 * lines otherwise), appends metrics to a JSONL file, writes checkpoints (periodic, final, and on
 * SIGINT/SIGTERM before exiting), keeps the last N, and pushes each checkpoint to R2 in the
 * background when storage.uri is set (flushed before returning). A failing step throws: a run
 * that fails never reports success. A step whose gradients are not finite is skipped (no update);
 * `train.max_consecutive_skips` of them in a row stop the run with ERR_DIVERGED.
 *
 * In a data-parallel job the ranks agree before every step whether any of them got a signal, so
 * all stop after the same step (a rank that stopped alone would leave the others waiting in the
 * next all-reduce); every rank's generator goes into each checkpoint, which rank 0 writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { ArtifactStore } from '../storage/store';
import { RunMetrics, type MetricsSink } from '../tracking/run-metrics';
import type { BaseTrainer, StepReport } from './base-trainer';
import { BestCheckpoint } from './best-checkpoint';
import { checkpointsRoot, pruneCheckpoints } from './checkpoint';
import { CheckpointUploads } from './checkpoint-uploads';
import type { BestState } from './evaluation';
import { SignalStop, type StopSource } from './stop-signals';

export { BEST_DIR, EVAL_STATE_FILE } from './best-checkpoint';
/** The run's history copied into each checkpoint (so it travels with it to R2). */
export const RUN_FILES_DIR = 'run';

/** What a caller hears of a run, besides its logger. */
export interface TrainingHooks {
  /** After every step (a progress display). */
  onStep?(r: StepReport, step: number, maxSteps: number): void;
  /** After the writer wrote a checkpoint (and queued its upload). */
  onCheckpoint?(dir: string, step: number): void;
  /** After the writer evaluated a step. */
  onEvaluation?(step: number, metrics: Record<string, number>): void;
}

export interface LoopOptions {
  outDir: string;
  /**
   * Stop after this optimizer step (default: config train.max_steps, which the LR schedule spans;
   * a larger value is an error).
   */
  maxSteps?: number;
  logger?: Logger;
  /** Events of the run (progress, checkpoints, evaluations). */
  hooks?: TrainingHooks;
  /** @deprecated use `hooks.onStep`; kept for one version. */
  onStep?: TrainingHooks['onStep'];
  /** Background uploads of checkpoints (storage.uri). */
  store?: ArtifactStore;
  storageUri?: string;
  /**
   * A checkpoint folder to upload first: the local checkpoint a run resumed from when R2 does not
   * have it yet (its upload failed or was cut short before).
   */
  pushFirst?: string;
  /**
   * What asks the run to stop after its step (default: SIGINT/SIGTERM, {@link SignalStop}, while
   * the run lasts; `handleSignals: false` installs none).
   */
  stop?: StopSource;
  /** Install SIGINT/SIGTERM handlers that checkpoint and stop (default true, when no `stop` is given). */
  handleSignals?: boolean;
  /**
   * Whether this process writes checkpoints and metrics (default true). In a data-parallel job
   * only rank 0 does: every rank holds the same weights, and one writer keeps the folder consistent.
   */
  writer?: boolean;
  /**
   * One evaluation of the current weights on held-out pages, returning its metrics. Called by the
   * writer only, every `eval.every` steps and once at the end of the run, when the config has
   * `eval`. Default: the trainer's own ({@link BaseTrainer.evaluate}: EMA weights when EMA is on,
   * samples/step-N.png, metrics.jsonl and TensorBoard).
   */
  evaluate?: (step: number) => Promise<Record<string, number>>;
  /**
   * Where the train scalars (every log.every steps) and the evaluations go besides metrics.jsonl.
   * Default for the writer: TensorBoard event files in `<outDir>/tensorboard` when log.tensorboard.
   */
  metrics?: MetricsSink;
}

export interface LoopResult {
  steps: number;
  stoppedBy: 'max_steps' | 'signal' | 'early_stop';
  lastCheckpoint?: string;
  /** The last evaluation's metrics. */
  lastEval?: Record<string, number>;
  /** The best checkpoint's copy and its metric (checkpoint.keep_best). */
  best?: BestState & { dir: string };
  last?: StepReport;
  /** Fraction of wall time the step waited on data. */
  dataWaitFraction: number;
}

/**
 * The step a run stops after: `requested` (--max-steps / maxSteps), which may only stop early
 * within train.max_steps (the steps the LR schedule spans), else train.max_steps.
 * @throws DocAnonError ERR_ARGUMENT for anything else.
 */
export function stopStep(requested: number | undefined, scheduleSteps: number): number {
  const n = requested ?? scheduleSteps;
  if (!Number.isInteger(n) || n < 1 || n > scheduleSteps) {
    throw new DocAnonError(
      ErrorCode.ARGUMENT,
      `the stop step (--max-steps, maxSteps) must be an integer in [1, train.max_steps = ${scheduleSteps}], got ${requested}: it stops early within the LR schedule; to train longer raise train.max_steps`,
    );
  }
  return n;
}

/** Copies metrics.jsonl, tensorboard/ and samples/ of the run into a checkpoint (they go to R2 with it). */
function copyRunFiles(outDir: string, metricsPath: string, checkpointDir: string): void {
  const dest = path.join(checkpointDir, RUN_FILES_DIR);
  fs.mkdirSync(dest, { recursive: true });
  if (fs.existsSync(metricsPath)) fs.copyFileSync(metricsPath, path.join(dest, path.basename(metricsPath)));
  for (const d of ['tensorboard', 'samples']) {
    const src = path.join(outDir, d);
    if (fs.existsSync(src)) fs.cpSync(src, path.join(dest, d), { recursive: true });
  }
}

/**
 * One run of the loop on a trainer: {@link TrainingRun.run} steps until the stop step, a stop
 * request or an early stop, evaluating and checkpointing on the config's schedule.
 */
export class TrainingRun<M> {
  private readonly cfg: BaseTrainer<M>['config'];
  private readonly maxSteps: number;
  private readonly root: string;
  private readonly writer: boolean;
  private readonly metricsPath: string;
  private readonly hooks: TrainingHooks;
  private readonly uploads?: CheckpointUploads;
  private readonly metrics?: MetricsSink;
  private readonly ownMetrics?: RunMetrics;
  private readonly evaluateFn?: (step: number) => Promise<Record<string, number>>;
  private readonly best?: BestCheckpoint;
  // A trainer past step 0 was restored from a checkpoint of its current step: writing (and
  // pushing) that step again would only duplicate it (and conflict with its published version).
  private lastCheckpointStep: number;
  private lastCheckpoint?: string;
  private lastEvalStep = -1;
  private lastEval?: Record<string, number>;
  private bestKept?: LoopResult['best'];
  private earlyStop = false;

  constructor(
    private readonly trainer: BaseTrainer<M>,
    private readonly o: LoopOptions,
  ) {
    this.cfg = trainer.config;
    this.maxSteps = stopStep(o.maxSteps, this.cfg.train.max_steps);
    this.root = checkpointsRoot(o.outDir);
    this.writer = o.writer ?? true;
    this.metricsPath = path.resolve(o.outDir, this.cfg.log.metrics_file);
    this.hooks = { ...o.hooks, onStep: o.hooks?.onStep ?? o.onStep };
    this.uploads = o.store && o.storageUri ? new CheckpointUploads(o.store, o.storageUri, this.cfg, o.logger) : undefined;
    this.ownMetrics = !o.metrics && this.writer && this.cfg.log.tensorboard ? new RunMetrics(o.outDir, { metricsFile: this.cfg.log.metrics_file }) : undefined;
    this.metrics = o.metrics ?? this.ownMetrics;
    if (this.cfg.eval) this.evaluateFn = o.evaluate ?? ((step: number) => trainer.evaluate(step, o.outDir, this.metrics));
    const keepBy = this.evaluateFn ? this.cfg.checkpoint.keep_best : undefined;
    if (keepBy) this.best = new BestCheckpoint(o.outDir, keepBy, this.cfg.eval?.early_stop_patience ?? 0, this.writer);
    this.lastCheckpointStep = trainer.step > 0 ? trainer.step : -1;
  }

  /** Trains to the end (or a stop), then evaluates and checkpoints the last step. */
  async run(): Promise<LoopResult> {
    const o = this.o;
    if (this.writer) fs.mkdirSync(o.outDir, { recursive: true });
    const signals = !o.stop && (o.handleSignals ?? true) ? new SignalStop(o.logger, () => ({ lastCheckpoint: this.lastCheckpoint })) : undefined;
    const stop: StopSource = o.stop ?? signals ?? { requested: null };
    if (this.writer && o.pushFirst && this.uploads) {
      o.logger?.info({ dir: o.pushFirst }, 'storage: uploading the resumed checkpoint, which R2 does not have');
      this.uploads.push(o.pushFirst);
    }
    let stoppedBy: LoopResult['stoppedBy'] = 'max_steps';
    let last: StepReport | undefined;
    let stepMs = 0;
    let waitMs = 0;
    let skippedInARow = 0;
    try {
      while (this.trainer.step < this.maxSteps) {
        if (await this.shouldStop(stop)) {
          stoppedBy = this.earlyStop ? 'early_stop' : 'signal';
          break;
        }
        const r = await this.trainer.trainStep();
        last = r;
        stepMs += r.stepMs;
        waitMs += r.dataWaitMs;
        this.record(r);
        // Every rank sees the same all-reduced gradient norm, so all of them skip (and stop) together.
        skippedInARow = r.skipped ? skippedInARow + 1 : 0;
        if (skippedInARow >= this.cfg.train.max_consecutive_skips) {
          throw new DocAnonError(
            ErrorCode.DIVERGED,
            `training diverged: ${skippedInARow} steps in a row had non-finite gradients (last loss ${r.terms.loss}, grad norm ${r.gradNorm}) and were skipped at step ${this.trainer.step}; lower optimizer.lr, check the data, or resume from an earlier checkpoint`,
          );
        }
        // The evaluation first: a checkpoint of the same step then carries its metrics and samples.
        if (this.cfg.eval && r.step % this.cfg.eval.every === 0) await this.evaluate();
        if (r.step % this.cfg.checkpoint.every === 0) await this.checkpoint();
      }
      // Every run ends with an evaluation (a short one has one too), then its final checkpoint.
      await this.evaluate();
      await this.checkpoint();
      // The last uploads, with the signal handlers still installed (a first signal must not kill them).
      await this.uploads?.flush();
    } catch (e) {
      // Checkpoints written before the failure still go up before it is reported.
      await this.uploads?.flush(true);
      throw e;
    } finally {
      signals?.dispose();
      this.ownMetrics?.close();
    }
    return {
      steps: this.trainer.step,
      stoppedBy,
      lastCheckpoint: this.lastCheckpoint,
      last,
      ...(this.lastEval ? { lastEval: this.lastEval } : {}),
      ...(this.bestKept ? { best: this.bestKept } : {}),
      dataWaitFraction: stepMs > 0 ? waitMs / stepMs : 0,
    };
  }

  /** Whether to stop before the next step: a stop request or an early stop (in a job: any rank's). */
  private async shouldStop(stop: StopSource): Promise<boolean> {
    const mine = stop.requested !== null || this.earlyStop;
    if (!this.trainer.group) return mine;
    // Only the vote decides: a signal that lands while the vote is in flight counts in the
    // next one. Breaking on it now would put this rank out of step with the others (it would
    // gather generators for a checkpoint while they all-reduce the next step's gradients).
    const any = await this.trainer.group.any(mine);
    if (any && !mine) this.o.logger?.warn({ rank: this.trainer.dist.rank }, 'another rank received a signal: stopping after the same step');
    return any;
  }

  /** The step's line: metrics.jsonl, the progress hook, and every log.every steps the log and scalars. */
  private record(r: StepReport): void {
    const line = {
      step: r.step,
      lr: r.lr,
      gradNorm: r.gradNorm,
      skipped: r.skipped,
      examples: r.examples,
      samplesPerSec: (r.examples * 1000) / Math.max(r.stepMs, 1e-3),
      dataWaitMs: r.dataWaitMs,
      ...r.terms,
    };
    if (this.writer) fs.appendFileSync(this.metricsPath, `${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
    this.hooks.onStep?.(r, r.step, this.maxSteps);
    if (r.step % this.cfg.log.every === 0 || r.step === this.maxSteps) {
      this.o.logger?.info(this.lastEval ? { ...line, eval: this.lastEval } : line, 'train step');
      if (this.writer) this.metrics?.scalars(r.step, 'train', { lr: r.lr, gradNorm: r.gradNorm, samplesPerSec: line.samplesPerSec, ...r.terms }, { jsonl: false });
    }
  }

  /** A checkpoint of this step (once per step). A collective: every rank takes it, rank 0 writes. */
  private async checkpoint(): Promise<void> {
    const trainer = this.trainer;
    if (this.lastCheckpointStep === trainer.step) return;
    this.lastCheckpointStep = trainer.step;
    const generators = await trainer.gatherGenerators();
    if (!this.writer) {
      generators?.dispose();
      return;
    }
    let dir: string;
    try {
      dir = await trainer.saveCheckpoint(this.root, generators);
    } finally {
      generators?.dispose();
    }
    this.lastCheckpoint = dir;
    pruneCheckpoints(this.root, this.cfg.checkpoint.keep_last, this.uploads?.inFlight ?? new Set());
    this.o.logger?.info({ step: trainer.step, dir }, 'checkpoint written');
    copyRunFiles(this.o.outDir, this.metricsPath, dir);
    this.uploads?.push(dir);
    this.hooks.onCheckpoint?.(dir, trainer.step);
  }

  /**
   * An evaluation of this step (once per step), by the writer. With keep_best every rank then writes
   * a checkpoint of the step (a collective: the others wait in it while the writer evaluates), so
   * the checkpoint holds the evaluation's metrics and the best can be kept as a copy of it.
   */
  private async evaluate(): Promise<void> {
    if (!this.evaluateFn || this.lastEvalStep === this.trainer.step) return;
    const step = this.trainer.step;
    this.lastEvalStep = step;
    if (this.writer) {
      this.lastEval = await this.evaluateFn(step);
      this.o.logger?.info({ step, ...this.lastEval }, 'evaluation');
      this.hooks.onEvaluation?.(step, this.lastEval);
    }
    if (!this.best) return;
    await this.checkpoint();
    if (!this.writer || !this.lastEval) return;
    const { bestDir, stop } = this.best.update(step, this.lastEval, this.lastCheckpoint);
    const state = this.best.state;
    if (bestDir && this.lastCheckpoint) {
      this.bestKept = { ...state, dir: bestDir };
      this.o.logger?.info({ step, [state.metric]: state.best, dir: bestDir }, 'best checkpoint kept');
      // In R2 too, as the one version of `<storage.uri>-best` (the step checkpoints' retention may drop it there).
      this.uploads?.push(this.lastCheckpoint, `${this.uploads.uri}-best/${path.basename(this.lastCheckpoint)}`, 1);
    }
    if (stop) {
      this.earlyStop = true;
      this.o.logger?.warn({ step, metric: state.metric, best: state.best, bestStep: state.bestStep, evaluations: state.stale }, 'early stop: the metric has not improved');
    }
  }
}

/** Runs the training loop on a trainer (see {@link TrainingRun}). */
export async function runTraining<M>(trainer: BaseTrainer<M>, o: LoopOptions): Promise<LoopResult> {
  return await new TrainingRun(trainer, o).run();
}
