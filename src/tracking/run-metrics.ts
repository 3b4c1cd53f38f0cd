/**
 * The metrics of a run in its folder: one JSON line per record in `metrics.jsonl` (what scripts
 * read) and, when on, the same scalars and the sample images in TensorBoard event files under
 * `tensorboard/` (what people open). The trainers call {@link RunMetrics.scalars} after their log
 * steps and evaluations, and {@link RunMetrics.image} with each evaluation's sample grid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { TensorBoardWriter, type SummaryImage } from './tensorboard';

/** Options of {@link RunMetrics}. */
export interface RunMetricsOptions {
  /** JSONL file, relative to the run folder (default "metrics.jsonl"). */
  metricsFile?: string;
  /** Write TensorBoard event files under `<run>/tensorboard` (default true). */
  tensorboard?: boolean;
}

/** Where a trainer sends its metrics: the hook the trainers call. */
export interface MetricsSink {
  /**
   * Scalars of one step, under `group` (e.g. "train", "eval"): TensorBoard tags are `group/name`.
   * `jsonl: false` sends them to TensorBoard only (for lines the caller logs itself).
   */
  scalars(step: number, group: string, values: Record<string, number>, options?: { jsonl?: boolean }): void;
  /** An image (PNG) of one step, e.g. an evaluation's sample grid. */
  image(step: number, tag: string, image: SummaryImage): void;
  flush(): void;
  close(): void;
}

/** A run folder's metrics.jsonl and TensorBoard writer. */
export class RunMetrics implements MetricsSink {
  readonly jsonlFile: string;
  readonly tensorboard?: TensorBoardWriter;

  constructor(runDir: string, options: RunMetricsOptions = {}) {
    this.jsonlFile = path.join(runDir, options.metricsFile ?? 'metrics.jsonl');
    try {
      fs.mkdirSync(path.dirname(this.jsonlFile), { recursive: true });
    } catch (e) {
      throw new DocAnonError(ErrorCode.IO, `cannot create ${path.dirname(this.jsonlFile)}: ${(e as Error).message}`, { cause: e });
    }
    if (options.tensorboard ?? true) this.tensorboard = new TensorBoardWriter(path.join(runDir, 'tensorboard'));
  }

  scalars(step: number, group: string, values: Record<string, number>, options: { jsonl?: boolean } = {}): void {
    if (options.jsonl ?? true) {
      // JSON has no NaN / Infinity: they are written as null (and as themselves to TensorBoard).
      const clean = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
      fs.appendFileSync(this.jsonlFile, `${JSON.stringify({ step, time: new Date().toISOString(), group, ...clean })}\n`);
    }
    this.tensorboard?.addScalars(step, Object.fromEntries(Object.entries(values).map(([k, v]) => [`${group}/${k}`, v])));
  }

  image(step: number, tag: string, image: SummaryImage): void {
    this.tensorboard?.addImage(tag, image, step);
  }

  flush(): void {
    this.tensorboard?.flush();
  }

  close(): void {
    this.tensorboard?.close();
  }
}
