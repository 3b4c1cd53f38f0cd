/**
 * What the VAE and UNet trainers share: the LR / EMA-decay policy per step, the data cursor and its
 * prefetcher, and checkpoint writing / restoring. Subclasses build micro-batches and call their
 * native step.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { NativeModel } from '../models/native-model';
import { Tensor } from '../core/tensor';
import { readSafetensors, writeSafetensors } from '../core/safetensors';
import { CHECKPOINT_FORMAT, LEGACY_MODEL_DIR, META_FILE, RANK_RNG_FILE, STATE_FILE, modelCard, readCheckpointMeta, writeCheckpoint, type CheckpointMeta } from './checkpoint';
import type { TrainConfig } from './config';
import { learningRate } from './lr-schedule';
import { SINGLE, type DistEnv } from './distributed';
import { NativeTrainer, type StepControl, type StepResult } from './native-trainer';
import type { ProcessGroup } from './distributed';
import { openValPages, type PageSource } from './data/pages';
import type { MetricsSink } from '../tracking/run-metrics';
import { resumeDifferences } from './resume-check';
import { Prefetcher } from './data/prefetch';
import type { ModelSource } from './model-source';

/** One optimizer step as reported. */
export interface StepReport extends StepResult {
  /** Examples in this step over all ranks (batch_size * grad_accum * world size). */
  examples: number;
  /** Wall time of the step, ms, and how much of it waited on data. */
  stepMs: number;
  dataWaitMs: number;
}

export interface TrainerBuildOptions {
  /** Overrides train.device. */
  device?: string;
  /** A checkpoint folder to resume from (its unet/ or vae/ weights, or a legacy model/; optimizer, generator, cursor). */
  resumeFrom?: string;
  /** Data parallelism: this rank's shard of the data, gradients averaged over the group. */
  processGroup?: ProcessGroup;
}

/**
 * The trainer seed of a rank: each rank draws its own noise (posterior samples, timesteps), as one
 * process would for different examples of its batch; rank 0 keeps the configured seed.
 */
export function rankSeed(seed: number, group?: ProcessGroup): number {
  return seed + (group?.rank ?? 0);
}

/**
 * Where the trained model's weights come from: the checkpoint being resumed (its `<kind>/`, or the
 * `model/` of checkpoints written before the pipeline layout), else the config.
 */
export function trainedModelSource(kind: 'vae' | 'unet', configured: ModelSource, options: TrainerBuildOptions): ModelSource {
  if (!options.resumeFrom) return configured;
  const own = path.join(options.resumeFrom, kind);
  return { pretrained: fs.existsSync(own) ? own : path.join(options.resumeFrom, LEGACY_MODEL_DIR) };
}

/**
 * The native optimizer-step trainer for `model` (and a UNet's glyph projection, trained with it),
 * from the config's optimizer, EMA and seed.
 */
export function createNativeTrainer(
  model: NativeModel,
  config: TrainConfig,
  options: TrainerBuildOptions,
  glyphProjection?: NativeModel,
): Promise<NativeTrainer> {
  const o = config.optimizer;
  return NativeTrainer.create(model, {
    glyphProjection,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay: o.weight_decay,
    ema: config.ema.enabled,
    seed: rankSeed(config.train.seed, options.processGroup),
    processGroup: options.processGroup,
  });
}

export abstract class BaseTrainer<Micro> {
  /** This process's rank in a data-parallel job (SINGLE: the whole dataset). */
  readonly dist: DistEnv;
  /** Optimizer steps done. */
  step = 0;
  /** Micro-batches consumed (the next one to load). */
  cursor = 0;
  /** After a resume: the recipe settings that differ from the checkpoint's ("key: old -> new"). */
  resumeChanges: string[] = [];
  protected prefetcher: Prefetcher<Micro> | null = null;

  protected constructor(
    readonly config: TrainConfig,
    protected readonly trainer: NativeTrainer,
    protected readonly model: NativeModel,
    /** Steps the LR schedule spans (the config's max_steps, independent of --max-steps stops). */
    readonly totalSteps: number,
    /** Where the pages come from ({@link openPageSource} of the config's `data`). */
    protected readonly pages: PageSource,
    /** The data-parallel group this rank trains in (none: one process). */
    readonly group?: ProcessGroup,
  ) {
    this.dist = group?.env ?? SINGLE;
  }

  /**
   * The dataset index of this rank's local example i (i = k*B + b: example b of its micro-batch
   * k): the W ranks' micro-batch k together hold examples k*W*B .. (k+1)*W*B - 1, exactly the
   * micro-batch k of one process with batch W*B, and rank r takes the r-th run of B of them.
   * Contiguous runs rather than every W-th example: consecutive examples share a page
   * (data.examples_per_page), so each page is decoded by one rank, not by up to W.
   */
  protected exampleIndex(local: number): number {
    const B = this.config.train.batch_size;
    const W = this.dist.worldSize;
    return Math.floor(local / B) * W * B + this.dist.rank * B + (local % B);
  }

  abstract readonly kind: 'vae' | 'unet';
  protected abstract loadMicro(index: number): Promise<Micro>;
  protected abstract nativeStep(micro: Micro[], control: StepControl): Promise<StepResult>;
  protected abstract disposeMicro(micro: Micro): void;
  /** Frozen or auxiliary models to free with the trainer. */
  protected abstract disposeOthers(): void;
  /** Writes what a subclass trains or needs besides the model into a checkpoint folder being written. */
  protected async saveAuxiliary(_dir: string): Promise<void> {}

  /** The last step's report (the model card's numbers). */
  protected lastReport: StepReport | undefined;

  /** Where the trained weights live ("cpu", "cuda:0"), as the native trainer reports it. */
  get weightsDevice(): string {
    return this.trainer.info.device;
  }

  /** Names of the parameters the optimizer updates (as the native trainer reports them). */
  get trainableParameters(): string[] {
    return this.trainer.info.trainable;
  }

  lrAt(step: number): number {
    return learningRate(this.config.optimizer.lr, this.config.lr_schedule, step, this.totalSteps);
  }

  emaDecayAt(step: number): number {
    const { decay, warmup } = this.config.ema;
    return warmup ? Math.min(decay, (1 + step) / (10 + step)) : decay;
  }

  private data(): Prefetcher<Micro> {
    this.prefetcher ??= new Prefetcher((i) => this.loadMicro(i), this.cursor, this.config.data.prefetch, this.config.data.concurrency);
    return this.prefetcher;
  }

  /** One optimizer step over grad_accum micro-batches. */
  async trainStep(): Promise<StepReport> {
    const t0 = performance.now();
    const data = this.data();
    const waited0 = data.waitedMs;
    const micro: Micro[] = [];
    try {
      for (let k = 0; k < this.config.train.grad_accum; k++) micro.push(await data.take());
      const r = await this.nativeStep(micro, {
        lr: this.lrAt(this.step),
        maxGradNorm: this.config.train.max_grad_norm,
        emaDecay: this.emaDecayAt(this.step),
        autocast: this.config.train.autocast,
      });
      this.cursor += micro.length;
      this.step = r.step;
      this.lastReport = {
        ...r,
        examples: this.config.train.batch_size * micro.length * this.dist.worldSize,
        stepMs: performance.now() - t0,
        dataWaitMs: data.waitedMs - waited0,
      };
      return this.lastReport;
    } finally {
      for (const m of micro) this.disposeMicro(m);
    }
  }

  private meta(): CheckpointMeta {
    return {
      format: CHECKPOINT_FORMAT,
      version: 1,
      kind: this.kind,
      step: this.step,
      cursor: this.cursor,
      lr: { base: this.config.optimizer.lr, totalSteps: this.totalSteps, schedule: { ...this.config.lr_schedule }, last: this.lrAt(Math.max(0, this.step - 1)) },
      seeds: { train: this.config.train.seed, data: this.config.data.seed },
      ema: this.config.ema.enabled,
      worldSize: this.dist.worldSize,
      ...(this.pages.version ? { dataVersion: this.pages.version } : {}),
      createdAt: new Date().toISOString(),
      config: this.config,
    };
  }

  /**
   * Every rank's generator state, [W, S] uint8, in a data-parallel job (undefined alone). A
   * collective: every rank calls it before rank 0 writes a checkpoint.
   */
  async gatherGenerators(): Promise<Tensor | undefined> {
    if (!this.group) return undefined;
    const own = await this.trainer.generatorState();
    try {
      return await this.group.allGather(own);
    } finally {
      own.dispose();
    }
  }

  /**
   * Writes a checkpoint of the current step under `root`; returns its folder: the trained model as
   * its pipeline component (`vae/` or `unet/`, the EMA weights as `ema_vae/` or `ema_unet/`), the
   * trainer's state, a README.md model card, and what the subclass adds (a UNet checkpoint is a
   * whole DiffUTE pipeline folder). In a data-parallel job pass the ranks' generators from
   * {@link gatherGenerators}.
   */
  saveCheckpoint(root: string, rankGenerators?: Tensor): Promise<string> {
    const meta = this.meta();
    return writeCheckpoint(root, meta, async (dir) => {
      await this.model.save(path.join(dir, this.kind));
      if (this.config.ema.enabled) await this.trainer.saveEma(path.join(dir, `ema_${this.kind}`));
      await this.saveAuxiliary(dir);
      fs.writeFileSync(path.join(dir, 'README.md'), modelCard(meta, this.lastReport));
      await this.trainer.saveState(path.join(dir, STATE_FILE));
      if (rankGenerators) await writeSafetensors(path.join(dir, RANK_RNG_FILE), { 'rng.cpu': rankGenerators }, { worldSize: String(this.dist.worldSize) });
    });
  }

  /**
   * Restores optimizer, EMA, generator, step and data cursor from a checkpoint written by the same
   * kind of trainer. The model weights are loaded by the subclass's create() (from `model/`).
   */
  async restoreState(dir: string): Promise<CheckpointMeta> {
    const meta = readCheckpointMeta(dir);
    if (meta.kind !== this.kind) throw new DocAnonError(ErrorCode.CONFIG, `checkpoint ${dir} is a ${meta.kind} checkpoint, not ${this.kind}`);
    if (meta.ema !== this.config.ema.enabled) throw new DocAnonError(ErrorCode.CONFIG, `checkpoint ${dir} has ema ${meta.ema}, the config ${this.config.ema.enabled}`);
    if (!fs.existsSync(path.join(dir, STATE_FILE))) throw new DocAnonError(ErrorCode.IO, `checkpoint ${dir} has no ${STATE_FILE}`);
    if (meta.worldSize !== this.dist.worldSize) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `checkpoint ${dir} was written by ${meta.worldSize} rank(s); resume it with the same number (--nproc ${meta.worldSize} or WORLD_SIZE=${meta.worldSize}): the data cursor and the generators are per rank`,
      );
    }
    const diff = resumeDifferences(meta, { config: this.config, dataVersion: this.pages.version });
    if (diff.errors.length) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `checkpoint ${dir} was written with another data stream (${diff.errors.join('; ')}): its position would skip or repeat examples. Resume with the same values, or start a new run (another --out)`,
      );
    }
    this.resumeChanges = diff.changed;
    await this.trainer.loadState(path.join(dir, STATE_FILE));
    if (this.dist.worldSize > 1) await this.restoreRankGenerator(dir);
    this.step = meta.step;
    this.cursor = meta.cursor;
    this.prefetcher = null;
    return meta;
  }

  /** This rank's own generator (trainer_state holds rank 0's). */
  private async restoreRankGenerator(dir: string): Promise<void> {
    const file = path.join(dir, RANK_RNG_FILE);
    if (!fs.existsSync(file)) throw new DocAnonError(ErrorCode.IO, `checkpoint ${dir} of a ${this.dist.worldSize}-rank run has no ${RANK_RNG_FILE}`);
    const { tensors } = await readSafetensors(file);
    const all = tensors['rng.cpu'];
    try {
      if (!all || all.dtype !== 'uint8' || all.shape.length !== 2 || all.shape[0] !== this.dist.worldSize) {
        throw new DocAnonError(ErrorCode.WEIGHTS, `${file} must hold rng.cpu [${this.dist.worldSize}, S] uint8`);
      }
      const S = all.shape[1];
      const row = all.dataSync<'uint8'>().slice(this.dist.rank * S, (this.dist.rank + 1) * S);
      const mine = Tensor.from(row, [S], 'uint8');
      try {
        await this.trainer.setGeneratorState(mine);
      } finally {
        mine.dispose();
      }
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }

  /** The held-out pages of the evaluations (opened on the first one). */
  private valPages: PageSource | undefined;

  /**
   * Calls `fn` with the weights an evaluation scores: the EMA weights when EMA is on (written to a
   * temporary folder and loaded as a model of the same class on the same device, then freed),
   * else the live ones.
   */
  async withEvalModel<T>(fn: (model: NativeModel) => Promise<T>): Promise<T> {
    if (!this.config.ema.enabled) return fn(this.model);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-eval-ema-'));
    try {
      await this.trainer.saveEma(dir);
      const cls = this.model.constructor as unknown as { fromPretrained(source: string, o: { device?: string }): Promise<NativeModel> };
      const ema = await cls.fromPretrained(dir, { device: this.weightsDevice });
      try {
        return await fn(ema);
      } finally {
        ema.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * One evaluation (the config's `eval`) of the EMA weights, or the live ones without EMA, on the
   * held-out pages (data.val_dir / val_fraction, or other synthetic pages): writes
   * `<runDir>/samples/step-N.png` and sends the metrics to `metrics`; returns them.
   */
  async evaluate(step: number, runDir: string, metrics?: MetricsSink): Promise<Record<string, number>> {
    const ev = this.config.eval;
    if (!ev) throw new DocAnonError(ErrorCode.CONFIG, 'the config has no eval block');
    this.valPages ??= await openValPages(this.config.data);
    const pages = this.valPages;
    return this.withEvalModel((model) => this.evaluateModel(model, { step, runDir, metrics, pages, config: ev }));
  }

  /** Evaluates `model` (this trainer's kind, EMA or live weights): see {@link evaluate}. */
  protected abstract evaluateModel(
    model: NativeModel,
    o: { step: number; runDir: string; metrics?: MetricsSink; pages: PageSource; config: NonNullable<TrainConfig['eval']> },
  ): Promise<Record<string, number>>;

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
    this.disposeOthers();
  }
}

export { META_FILE };
