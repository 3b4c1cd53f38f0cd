/**
 * The training loop around a trainer: steps until max steps, logs (progress line on a TTY, JSON
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
import { checkpointsRoot, pruneCheckpoints } from './checkpoint';
import { BestTracker, type BestState } from './evaluation';

/** The best checkpoint (checkpoint.keep_best): a copy of it, outside the pruned checkpoints. */
export const BEST_DIR = 'best';
/** The tracker's state (best value, evaluations without improvement), for a resumed run. */
export const EVAL_STATE_FILE = 'eval_state.json';
/** The run's history copied into each checkpoint (so it travels with it to R2). */
export const RUN_FILES_DIR = 'run';

export interface LoopOptions {
  outDir: string;
  /**
   * Stop after this optimizer step (default: config train.max_steps, which the LR schedule spans;
   * a larger value is an error).
   */
  maxSteps?: number;
  logger?: Logger;
  /** Called after every step (progress display). */
  onStep?: (r: StepReport, step: number, maxSteps: number) => void;
  /** Background uploads of checkpoints (storage.uri). */
  store?: ArtifactStore;
  storageUri?: string;
  /**
   * A checkpoint folder to upload first: the local checkpoint a run resumed from when R2 does not
   * have it yet (its upload failed or was cut short before).
   */
  pushFirst?: string;
  /** Install SIGINT/SIGTERM handlers that checkpoint and stop (default true). */
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

/** Replaces `<out>/best` by a copy of `checkpointDir` (written beside it, then renamed). */
function keepBest(outDir: string, checkpointDir: string, state: BestState): string {
  const best = path.join(outDir, BEST_DIR);
  const tmp = `${best}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(checkpointDir, tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'best.json'), `${JSON.stringify({ ...state, checkpoint: path.basename(checkpointDir) }, null, 2)}\n`);
  fs.rmSync(best, { recursive: true, force: true });
  fs.renameSync(tmp, best);
  return best;
}

function readEvalState(outDir: string): BestState | undefined {
  const f = path.join(outDir, EVAL_STATE_FILE);
  if (!fs.existsSync(f)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8')) as BestState;
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot read ${f}: ${(e as Error).message} (remove it to start the best / early-stop tracking afresh)`, { cause: e });
  }
}

export async function runTraining<M>(trainer: BaseTrainer<M>, o: LoopOptions): Promise<LoopResult> {
  const cfg = trainer.config;
  const maxSteps = stopStep(o.maxSteps, cfg.train.max_steps);
  const root = checkpointsRoot(o.outDir);
  const writer = o.writer ?? true;
  if (writer) fs.mkdirSync(o.outDir, { recursive: true });
  const metricsPath = path.resolve(o.outDir, cfg.log.metrics_file);
  let stopSignal: string | null = null;
  let interrupted = false;
  let lastCheckpoint: string | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    // Ctrl-C twice stops at once (checkpoints are written atomically: nothing is left
    // half-written). Only SIGINT counts: a rank can get SIGTERM twice from one request (a
    // scheduler signalling the whole job, and the --nproc launcher forwarding it).
    if (sig === 'SIGINT' && interrupted) {
      o.logger?.error({ signal: sig, lastCheckpoint }, 'interrupted twice: exiting now, without a final checkpoint or pending uploads');
      // Die of the signal, as a process without a handler does: at once, even in the middle of a
      // native step (process.exit would wait for the step to finish).
      removeHandlers();
      process.kill(process.pid, 'SIGINT');
      return;
    }
    if (sig === 'SIGINT') interrupted = true;
    stopSignal ??= sig;
    o.logger?.warn({ signal: sig }, 'signal received: finishing the current step, writing a checkpoint, then exiting (Ctrl-C again exits at once)');
  };
  const handlers = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };
  const removeHandlers = (): void => {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
  };
  if (o.handleSignals ?? true) {
    process.on('SIGINT', handlers.SIGINT);
    process.on('SIGTERM', handlers.SIGTERM);
  }
  // A trainer past step 0 was restored from a checkpoint of its current step: writing (and
  // pushing) that step again would only duplicate it (and conflict with its published version).
  let lastCheckpointStep = trainer.step > 0 ? trainer.step : -1;
  let skippedInARow = 0;
  // Folders with uploads in flight (a count: a best checkpoint goes up twice), never pruned meanwhile.
  const uploading = new Map<string, number>();
  const ownMetrics = !o.metrics && writer && cfg.log.tensorboard ? new RunMetrics(o.outDir, { metricsFile: cfg.log.metrics_file }) : undefined;
  const metrics = o.metrics ?? ownMetrics;
  const evaluateFn = o.evaluate ?? (cfg.eval ? (step: number) => trainer.evaluate(step, o.outDir, metrics) : undefined);
  const ev = evaluateFn ? cfg.eval : undefined;
  const keepBy = ev ? cfg.checkpoint.keep_best : undefined;
  const saved = keepBy && writer ? readEvalState(o.outDir) : undefined;
  const tracker = keepBy ? new BestTracker(keepBy, ev?.early_stop_patience ?? 0, saved?.metric === keepBy ? saved : undefined) : undefined;
  let lastEvalStep = -1;
  let lastEval: Record<string, number> | undefined;
  let earlyStop = false;
  let best: LoopResult['best'];
  let last: StepReport | undefined;
  let stepMs = 0;
  let waitMs = 0;
  const push = (dir: string, uri = o.storageUri ? `${o.storageUri}/${path.basename(dir)}` : undefined, keepLast = cfg.checkpoint.keep_last): void => {
    if (!o.store || !uri) return;
    // Versions are named by step; a folder is not pruned while its upload is pending.
    uploading.set(dir, (uploading.get(dir) ?? 0) + 1);
    const done = (): void => {
      const n = (uploading.get(dir) ?? 1) - 1;
      if (n > 0) uploading.set(dir, n);
      else uploading.delete(dir);
    };
    const h = o.store.pushInBackground(dir, uri, { config: cfg, keepLast });
    h.flush().then(done, done);
  };
  const checkpoint = async (): Promise<void> => {
    // Every rank takes the same branches here (same step), so the generator gather lines up.
    if (lastCheckpointStep === trainer.step) return;
    lastCheckpointStep = trainer.step;
    const generators = await trainer.gatherGenerators();
    if (!writer) {
      generators?.dispose();
      return;
    }
    try {
      lastCheckpoint = await trainer.saveCheckpoint(root, generators);
    } finally {
      generators?.dispose();
    }
    pruneCheckpoints(root, cfg.checkpoint.keep_last, new Set(uploading.keys()));
    o.logger?.info({ step: trainer.step, dir: lastCheckpoint }, 'checkpoint written');
    copyRunFiles(o.outDir, metricsPath, lastCheckpoint);
    push(lastCheckpoint);
  };
  /**
   * An evaluation of this step (once per step), by the writer. With keep_best every rank then writes
   * a checkpoint of the step (a collective: the others wait in it while the writer evaluates), so
   * the checkpoint holds the evaluation's metrics and the best can be kept as a copy of it.
   */
  const evaluate = async (): Promise<void> => {
    if (!ev || !evaluateFn || lastEvalStep === trainer.step) return;
    const step = trainer.step;
    lastEvalStep = step;
    if (writer) {
      lastEval = await evaluateFn(step);
      o.logger?.info({ step, ...lastEval }, 'evaluation');
    }
    if (!tracker) return;
    await checkpoint();
    if (!writer || !lastEval) return;
    const { improved, stop } = tracker.update(step, lastEval);
    const state = tracker.state;
    fs.writeFileSync(path.join(o.outDir, EVAL_STATE_FILE), `${JSON.stringify(state)}\n`);
    if (improved && lastCheckpoint) {
      best = { ...state, dir: keepBest(o.outDir, lastCheckpoint, state) };
      o.logger?.info({ step, [state.metric]: state.best, dir: best.dir }, 'best checkpoint kept');
      // In R2 too, as the one version of `<storage.uri>-best` (the step checkpoints' retention may drop it there).
      if (o.storageUri) push(lastCheckpoint, `${o.storageUri}-best/${path.basename(lastCheckpoint)}`, 1);
    }
    if (stop) {
      earlyStop = true;
      o.logger?.warn({ step, metric: state.metric, best: state.best, bestStep: state.bestStep, evaluations: state.stale }, 'early stop: the metric has not improved');
    }
  };
  if (writer && o.pushFirst) {
    o.logger?.info({ dir: o.pushFirst }, 'storage: uploading the resumed checkpoint, which R2 does not have');
    push(o.pushFirst);
  }
  let stoppedBy: LoopResult['stoppedBy'] = 'max_steps';
  try {
    for (;;) {
      if (trainer.step >= maxSteps) break;
      let stop = stopSignal !== null || earlyStop;
      if (trainer.group) {
        // Only the vote decides: a signal that lands while the vote is in flight counts in the
        // next one. Breaking on it now would put this rank out of step with the others (it would
        // gather generators for a checkpoint while they all-reduce the next step's gradients).
        const voted = stop;
        stop = await trainer.group.any(voted);
        if (stop && !voted && !stopSignal) o.logger?.warn({ rank: trainer.dist.rank }, 'another rank received a signal: stopping after the same step');
      }
      if (stop) {
        stoppedBy = earlyStop ? 'early_stop' : 'signal';
        break;
      }
      const r = await trainer.trainStep();
      last = r;
      stepMs += r.stepMs;
      waitMs += r.dataWaitMs;
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
      if (writer) fs.appendFileSync(metricsPath, `${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
      o.onStep?.(r, r.step, maxSteps);
      if (r.step % cfg.log.every === 0 || r.step === maxSteps) {
        o.logger?.info(lastEval ? { ...line, eval: lastEval } : line, 'train step');
        if (writer) metrics?.scalars(r.step, 'train', { lr: r.lr, gradNorm: r.gradNorm, samplesPerSec: line.samplesPerSec, ...r.terms }, { jsonl: false });
      }
      // Every rank sees the same all-reduced gradient norm, so all of them skip (and stop) together.
      skippedInARow = r.skipped ? skippedInARow + 1 : 0;
      if (skippedInARow >= cfg.train.max_consecutive_skips) {
        throw new DocAnonError(
          ErrorCode.DIVERGED,
          `training diverged: ${skippedInARow} steps in a row had non-finite gradients (last loss ${r.terms.loss}, grad norm ${r.gradNorm}) and were skipped at step ${trainer.step}; lower optimizer.lr, check the data, or resume from an earlier checkpoint`,
        );
      }
      // The evaluation first: a checkpoint of the same step then carries its metrics and samples.
      if (ev && r.step % ev.every === 0) await evaluate();
      if (r.step % cfg.checkpoint.every === 0) await checkpoint();
    }
    // Every run ends with an evaluation (a short one has one too), then its final checkpoint.
    await evaluate();
    await checkpoint();
    // The last uploads, with the signal handlers still installed (a first signal must not kill them).
    if (o.store) await o.store.flushBackground();
  } catch (e) {
    // Checkpoints written before the failure still go up before it is reported.
    if (o.store) await o.store.flushBackground().catch((err: unknown) => o.logger?.error({ err: String(err) }, 'storage: an upload failed too'));
    throw e;
  } finally {
    if (o.handleSignals ?? true) removeHandlers();
    ownMetrics?.close();
  }
  return {
    steps: trainer.step,
    stoppedBy,
    lastCheckpoint,
    last,
    ...(lastEval ? { lastEval } : {}),
    ...(best ? { best } : {}),
    dataWaitFraction: stepMs > 0 ? waitMs / stepMs : 0,
  };
}
