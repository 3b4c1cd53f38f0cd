/**
 * Evaluation inside training (issue 21), the parts that do not depend on a trainer: the `eval`
 * config block, the held-out split of a dataset, the best-checkpoint / early-stop tracker, and
 * one evaluation of a model that writes its metrics (metrics.jsonl + TensorBoard through a
 * {@link MetricsSink}) and its sample grid PNG. The trainers call {@link evaluateDuringTraining}
 * every `eval.every` steps and at the end of a run with their (EMA) weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { OcrEngine } from '../detect/ocr/engine';
import { evaluateDiffuteModels, type DiffuteEvalReport } from '../eval/diffute-eval';
import { sampleGrid } from '../eval/grid';
import { evaluateVaeModel, type VaeEvalReport } from '../eval/vae-eval';
import type { DiffuteModels } from '../inference/engines/diffute';
import { encodeImage } from '../inference/image-io';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import type { Lpips } from '../models/lpips';
import type { MetricsSink } from '../tracking/run-metrics';
import type { PageSource } from './data/pages';

export { METRIC_DIRECTION, TrainEvalSchema, type EvalMetric, type TrainEvalConfig } from './eval-config';
import { METRIC_DIRECTION, type EvalMetric, type TrainEvalConfig } from './eval-config';

export { isHeldOut } from './data/split';

/** State of {@link BestTracker} (saved in checkpoints so a resumed run keeps its best and patience). */
export interface BestState {
  metric: EvalMetric;
  best: number | null;
  bestStep: number | null;
  /** Evaluations in a row without improvement. */
  stale: number;
}

/** Tracks the best value of one metric over evaluations, and the patience of an early stop. */
export class BestTracker {
  private s: BestState;
  constructor(
    readonly metric: EvalMetric,
    readonly patience = 0,
    state?: BestState,
  ) {
    if (state && state.metric !== metric) throw new DocAnonError(ErrorCode.CONFIG, `the saved best is by ${state.metric}, the config keeps the best by ${metric}`);
    this.s = state ? { ...state } : { metric, best: null, bestStep: null, stale: 0 };
  }

  get state(): BestState {
    return { ...this.s };
  }

  /** Records an evaluation: whether it is the new best, and whether the run should stop. */
  update(step: number, metrics: Record<string, number>): { improved: boolean; stop: boolean } {
    const v = metrics[this.metric];
    if (v === undefined) throw new DocAnonError(ErrorCode.CONFIG, `keep_best: ${this.metric} is not among this model's evaluation metrics (${Object.keys(metrics).join(', ')})`);
    const better = METRIC_DIRECTION[this.metric] === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    const improved = Number.isFinite(v) ? this.s.best === null || better(v, this.s.best) : false;
    if (improved) this.s = { ...this.s, best: v, bestStep: step, stale: 0 };
    else this.s.stale++;
    return { improved, stop: this.patience > 0 && this.s.stale >= this.patience };
  }
}

/** The scalars of a VAE evaluation, by {@link EvalMetric} name (and the latent statistics). */
export function vaeEvalMetrics(r: Omit<VaeEvalReport, 'samples'>): Record<string, number> {
  return {
    psnr: r.psnr.mean,
    ssim: r.ssim.mean,
    ...(r.lpips ? { lpips: r.lpips.mean } : {}),
    kl: r.klPerSample.mean,
    latent_mean: r.latent.mean,
    latent_std: r.latent.std,
    latent_scaled_std: r.latent.scaledStd,
  };
}

/** The scalars of a DiffUTE evaluation, by {@link EvalMetric} name. */
export function diffuteEvalMetrics(r: Omit<DiffuteEvalReport, 'samples'>): Record<string, number> {
  return {
    ocr_char_acc: r.ocrCharAcc.mean,
    ocr_word_acc: r.ocrWordAcc,
    box_psnr: r.boxPsnr.mean,
    ...(r.boxLpips ? { box_lpips: r.boxLpips.mean } : {}),
    ring_psnr: r.ringPsnr.mean,
    changed_outside_paste: r.changedOutsidePasted,
  };
}

/** What one evaluation during training evaluates. */
export type EvalTarget =
  | { kind: 'vae'; vae: AutoencoderKL; cropSize: number }
  | { kind: 'unet'; models: DiffuteModels; ocr: OcrEngine; maskedFill?: number; resolution?: number; aspect?: number };

/** Options of {@link evaluateDuringTraining}. */
export interface TrainingEvalOptions {
  step: number;
  target: EvalTarget;
  /** The held-out pages. */
  pages: PageSource;
  config: TrainEvalConfig;
  /** The run folder: the grid goes to `<runDir>/samples/step-XXXXXXXX.png`. */
  runDir: string;
  metrics?: MetricsSink;
  lpips?: Lpips | null;
  /** Tiles in the sample grid (default 4). */
  samples?: number;
}

/**
 * Evaluates the target on the held-out pages, writes the sample grid PNG and sends the scalars
 * (group "eval") and the grid to `metrics`. Returns the scalars and the grid's path.
 */
export async function evaluateDuringTraining(o: TrainingEvalOptions): Promise<{ metrics: Record<string, number>; grid: string }> {
  const keep = o.samples ?? 4;
  let values: Record<string, number>;
  let rows: Array<Array<{ data: Uint8Array; width: number; height: number }>>;
  if (o.target.kind === 'vae') {
    const { samples, ...r } = await evaluateVaeModel(o.target.vae, o.pages, { limit: o.config.limit, seed: o.config.seed, cropSize: o.target.cropSize, lpips: o.lpips, keepSamples: keep });
    values = vaeEvalMetrics(r);
    rows = (samples ?? []).map((s) => [
      { data: s.original, width: s.side, height: s.side },
      { data: s.reconstruction, width: s.side, height: s.side },
    ]);
  } else {
    const { samples, ...r } = await evaluateDiffuteModels(o.target.models, o.pages, {
      ocr: o.target.ocr,
      limit: o.config.limit,
      seed: o.config.seed,
      lpips: o.lpips,
      keepSamples: keep,
      engine: { steps: o.config.steps, guidanceScale: o.config.guidance_scale, ...(o.target.maskedFill !== undefined ? { maskedFill: o.target.maskedFill } : {}), ...(o.target.resolution ? { resolution: o.target.resolution } : {}), ...(o.target.aspect ? { aspect: o.target.aspect } : {}) },
    });
    values = diffuteEvalMetrics(r);
    // original | masked | glyph | result
    rows = (samples ?? []).map((s) => [
      { data: s.original, width: s.width, height: s.height },
      { data: s.masked, width: s.width, height: s.height },
      s.glyph,
      { data: s.edited, width: s.width, height: s.height },
    ]);
  }
  const g = sampleGrid(rows);
  const png = await encodeImage({ ...g, channels: 3, format: 'png', lossless: true }, { format: 'png' });
  const grid = path.join(o.runDir, 'samples', `step-${String(o.step).padStart(8, '0')}.png`);
  fs.mkdirSync(path.dirname(grid), { recursive: true });
  writeFileAtomic(grid, png);
  o.metrics?.scalars(o.step, 'eval', values);
  o.metrics?.image(o.step, 'eval/samples', { png, width: g.width, height: g.height });
  o.metrics?.flush();
  return { metrics: values, grid };
}
