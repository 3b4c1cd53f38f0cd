/**
 * A training job: the shape of the job (its ranks and their devices), the resolved plan a dry run
 * prints and a run logs, its checks (device, sources, storage), the rank launch, each rank's share
 * of the CPU threads, a typed trainer factory (a config's kind picks its trainer), and
 * {@link runTrainingJob}, which does all of it. `doc-anon train-*` only parses its arguments,
 * calls {@link runTrainingJob} and prints what it returns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';
import { info, setNumThreads } from '../core/runtime';
import { ArtifactStore } from '../storage/store';
import { checkRanksStartTogether, deviceCheck, planFindings, type Finding, type SourceReport } from './checks';
import { checkpointsRoot, STEP_DIR } from './checkpoint';
import type { TrainConfig } from './config';
import { ProcessGroup, rankDevice, type DistEnv } from './distributed';
import { spawnRanks, STOPPED_BY_SIGNAL } from './launch';
import { learningRate } from './lr-schedule';
import { runTraining, type LoopOptions, type LoopResult, type TrainingHooks } from './loop';
import { findStartPoint, type StartPoint } from './start-point';
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

/** A training job to run (or, with `dryRun`, to plan and check). */
export interface TrainingJobRequest {
  cfg: TrainConfig;
  /** The output folder (absolute). */
  out: string;
  /** cpu | cuda | cuda:N: the job's device (each rank takes its own cuda:N). */
  device: string;
  /** The step to stop after (see `stopStep`). */
  maxSteps: number;
  /** Local ranks to start (> 1: this process only launches them). */
  nproc: number;
  /** Continue from the newest checkpoint (local or R2) instead of refusing a used output. */
  resume: boolean;
  /** Plan and check only: nothing is trained or downloaded. */
  dryRun: boolean;
  /** This process's rank in a job started by an outside launcher (torchrun-style variables). */
  dist: DistEnv;
  /** What each local rank runs when `nproc` > 1: a script and its arguments (without --nproc). */
  rankCommand?: { entry: string; args: string[] };
  logger: Logger;
}

/** What a job hears besides the loop's hooks. */
export interface TrainingJobHooks extends TrainingHooks {
  /** Before the first step, on the writer: where the run starts (a progress display starts there). */
  onStart?(step: number, maxSteps: number): void;
}

/** What a job came to. */
export type TrainingJobOutcome =
  | { kind: 'plan'; plan: Record<string, unknown>; findings: Finding[] }
  | { kind: 'launched'; exitCode: number }
  | { kind: 'trained'; result: LoopResult; exitCode: number };

/** Every check of a dry run, as the plan's `checks` and the findings (each with its fix). */
async function dryRunChecks(
  req: TrainingJobRequest,
  job: JobShape,
  store: ArtifactStore | undefined,
  start: StartPoint,
  startProblem: Error | undefined,
  deviceProblem: DocAnonError | undefined,
  cuda: ReturnType<typeof info>['cuda'],
): Promise<{ checks: Record<string, unknown>; findings: Finding[] }> {
  const { cfg } = req;
  const { findings, sources } = await planFindings({
    cfg,
    device: req.device,
    nproc: req.nproc,
    worldSize: job.worldSize,
    cuda,
    log: req.logger,
    // The job's store (closed by the job), not one of planFindings' own.
    makeStore: store ? () => ({ resolve: (u: string) => store.resolve(u), listVersions: (u: string) => store.listVersions(u), close: () => undefined }) : undefined,
  });
  if (startProblem) {
    const conflict = startProblem instanceof DocAnonError && startProblem.code === ErrorCode.CONFLICT;
    findings.push({
      check: 'start',
      problem: startProblem.message,
      fix: conflict ? 'pass --resume to continue it, or choose another --out / storage.uri' : 'see the storage findings',
      code: startProblem instanceof DocAnonError ? (startProblem.code as ErrorCode) : ErrorCode.INTERNAL,
    });
  }
  const storage = !cfg.storage.uri ? null : findings.some((f) => f.check === 'r2' || f.check === 'storage.uri') ? 'not usable' : 'reachable';
  const checks: Record<string, unknown> & { sources: SourceReport } = { sources, start, device: deviceProblem ? `not usable here: ${deviceProblem.message}` : 'ok', storage, findings };
  return { checks, findings };
}

/**
 * Runs a training job: finds where it starts (a checkpoint, or refuses a used output without
 * `resume`), checks the device, then either plans it (`dryRun`: every problem at once, nothing
 * trained or downloaded), launches `nproc` local ranks, or trains this rank (joining the process
 * group of a distributed job, on its share of the threads) to the end or a signal.
 */
export async function runTrainingJob(req: TrainingJobRequest, hooks: TrainingJobHooks = {}): Promise<TrainingJobOutcome> {
  const { cfg, out, device, maxSteps, dist, dryRun, logger: log } = req;
  // ERR_CONFIG without R2 credentials; a dry run goes on and reports it with every other problem.
  let store: ArtifactStore | undefined;
  try {
    store = cfg.storage.uri ? new ArtifactStore({ logger: log }) : undefined;
  } catch (e) {
    if (!dryRun) throw e;
  }
  try {
    // (A dry run reads R2 but downloads nothing: it reports where the run would start.)
    let startProblem: Error | undefined;
    const start = await findStartPoint({ root: checkpointsRoot(out), resume: req.resume, store, storageUri: store ? cfg.storage.uri : undefined, pull: !dryRun }).catch((e: unknown) => {
      if (!dryRun) throw e;
      startProblem = e as Error;
      return { from: 'scratch', step: 0 } as StartPoint;
    });
    if (req.resume && start.from === 'scratch') log.warn({ out, storage: cfg.storage.uri ?? null }, '--resume: no checkpoint found, starting from scratch');
    const cuda = info().cuda;
    const job = jobShape(device, req.nproc, dist);
    // A dry run plans a job for another machine as well (a laptop planning a GPU job): device
    // problems are reported in the plan, not raised.
    const deviceProblem = deviceCheck(device, req.nproc, job.worldSize, cuda);
    if (dryRun) {
      const { checks, findings } = await dryRunChecks(req, job, store, start, startProblem, deviceProblem, cuda);
      return { kind: 'plan', plan: { ...trainingPlan(cfg, out, maxSteps, device, start.dir, job), checks }, findings };
    }
    if (deviceProblem) throw deviceProblem;
    if (req.nproc > 1) {
      if (!req.rankCommand) throw new DocAnonError(ErrorCode.ARGUMENT, `nproc ${req.nproc} needs the command each rank runs (rankCommand)`);
      // The launcher trains nothing itself: each child is a rank of the same command.
      log.info({ nproc: req.nproc, device }, `train-${cfg.kind}: starting ${req.nproc} local ranks`);
      return { kind: 'launched', exitCode: await spawnRanks({ nproc: req.nproc, args: req.rankCommand.args, entry: req.rankCommand.entry, logger: log }) };
    }
    return await trainRank(req, job, start, store, hooks);
  } finally {
    store?.close(); // (its HTTP connections; background pushes were flushed by the loop)
  }
}

/** Trains this process's rank of the job. */
async function trainRank(req: TrainingJobRequest, job: JobShape, start: StartPoint, store: ArtifactStore | undefined, hooks: TrainingJobHooks): Promise<TrainingJobOutcome> {
  const { cfg, out, maxSteps, dist, logger: log } = req;
  const kind = cfg.kind;
  const writer = dist.rank === 0;
  // Only rank 0 reports progress; the others speak up only for problems.
  if (!writer) log.level = 'warn';
  if (writer && store && cfg.storage.uri) {
    // This run is the artifact's only writer: uploads its earlier attempt left half-done
    // (preempted mid-push) would make the same steps' pushes conflict.
    const cleared = await store.abandonAllIncomplete(cfg.storage.uri, STEP_DIR);
    if (cleared.length) log.warn({ versions: cleared }, 'storage: removed unpublished uploads of an earlier attempt');
  }
  const rankDev = rankDevice(req.device, dist);
  splitThreads(cfg, dist, rankDev);
  const group = dist.worldSize > 1 ? await ProcessGroup.join(dist, rankDev) : undefined;
  let trainer: Trainer;
  try {
    trainer = await createTrainer(cfg, { device: rankDev, resumeFrom: start.dir, processGroup: group });
  } catch (e) {
    group?.dispose();
    throw e;
  }
  try {
    if (writer) {
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, 'config.resolved.json'), `${JSON.stringify(cfg, null, 2)}\n`);
    }
    if (group) await checkRanksStartTogether(group, trainer.step);
    if (trainer.resumeChanges.length) log.warn({ changed: trainer.resumeChanges }, `train-${kind}: resuming with a changed recipe (not a continuation of the same LR curve and losses)`);
    const precision = rankDev.startsWith('cuda') && cfg.train.autocast ? 'bf16 autocast, float32 weights' : 'float32';
    log.info({ plan: trainingPlan(cfg, out, maxSteps, rankDev, start.dir, job), weightsOn: trainer.weightsDevice, precision }, `train-${kind}: starting at step ${trainer.step}`);
    if (writer) hooks.onStart?.(trainer.step, maxSteps);
    const result = await runTrainer(trainer, {
      outDir: out,
      maxSteps,
      logger: log,
      writer,
      store: writer ? store : undefined,
      storageUri: cfg.storage.uri,
      // A local checkpoint ahead of R2 (its push failed or was cut short) goes up first.
      pushFirst: start.from === 'local' && (start.remoteStep ?? -1) < start.step ? start.dir : undefined,
      hooks: writer ? hooks : {},
    });
    // No rank leaves (closing its connections) while rank 0 still writes its last checkpoint.
    if (group) await group.barrier();
    log.info({ steps: result.steps, stoppedBy: result.stoppedBy, checkpoint: result.lastCheckpoint, dataWaitFraction: result.dataWaitFraction }, `train-${kind}: ${result.stoppedBy === 'signal' ? 'stopped by signal' : 'done'}`);
    return { kind: 'trained', result, exitCode: result.stoppedBy === 'signal' ? STOPPED_BY_SIGNAL : 0 };
  } finally {
    trainer.dispose();
    group?.dispose();
  }
}
