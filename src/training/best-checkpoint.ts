/**
 * checkpoint.keep_best and early stopping: after each evaluation the tracker decides whether the
 * step's checkpoint is the new best (then `<out>/best` becomes a copy of it) and whether the run
 * has gone `early_stop_patience` evaluations without improving. Its state is saved beside the run
 * so a resumed run keeps its best and its patience.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { EvalMetric } from './eval-config';
import { BestTracker, type BestState } from './evaluation';

/** The best checkpoint (checkpoint.keep_best): a copy of it, outside the pruned checkpoints. */
export const BEST_DIR = 'best';
/** The tracker's state (best value, evaluations without improvement), for a resumed run. */
export const EVAL_STATE_FILE = 'eval_state.json';

/** The best checkpoint of a run and the early-stop patience. */
export class BestCheckpoint {
  private readonly tracker: BestTracker;

  /**
   * @param restore read the saved state of an earlier attempt of this run (the writer does).
   */
  constructor(
    private readonly outDir: string,
    metric: EvalMetric,
    patience: number,
    restore: boolean,
  ) {
    const saved = restore ? readEvalState(outDir) : undefined;
    this.tracker = new BestTracker(metric, patience, saved?.metric === metric ? saved : undefined);
  }

  get state(): BestState {
    return this.tracker.state;
  }

  /**
   * Records the evaluation of `step`, whose checkpoint is `checkpointDir`: returns the kept copy
   * when it is the new best, and whether the run should stop early.
   */
  update(step: number, metrics: Record<string, number>, checkpointDir: string | undefined): { bestDir?: string; stop: boolean } {
    const { improved, stop } = this.tracker.update(step, metrics);
    const state = this.tracker.state;
    fs.writeFileSync(path.join(this.outDir, EVAL_STATE_FILE), `${JSON.stringify(state)}\n`);
    return { stop, ...(improved && checkpointDir ? { bestDir: keepBest(this.outDir, checkpointDir, state) } : {}) };
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
