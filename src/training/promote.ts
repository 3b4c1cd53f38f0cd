/**
 * Promotion: a UNet training checkpoint (a local `step-N/` folder or its r2:// copy) becomes a
 * served model, `r2://bucket/models/<name>/<version>`: a self-contained pipeline folder (the EMA
 * UNet when the checkpoint has one; the frozen VAE and glyph encoder it names in `_sources`
 * copied in), with a model card, published through the ArtifactStore (files first, manifest last,
 * create-only) and only then made `latest`. An interrupted promotion publishes nothing and leaves
 * `latest` where it was.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { PushProgress } from '../storage/artifacts';
import { parseVersionUri } from '../storage/artifacts';
import { ArtifactStore, type ArtifactStoreOptions } from '../storage/store';
import { META_FILE, readCheckpointMeta, type CheckpointMeta } from './checkpoint';
import type { ConversionReport } from '../models/convert';
import { DiffuteModelIndexSchema, MODEL_INDEX, SCHEDULER_FILE, settingsOf, type DiffuteModelIndex } from '../models/diffute-pipeline';
import { assemblePipeline, type PipelineParts } from '../models/pipeline-assembly';
import { parseConfig } from '../core/config';

/** Options of {@link promoteCheckpoint}. */
export interface PromoteOptions {
  /** The store to publish with (default: one from the R2 environment, closed afterwards). */
  store?: ArtifactStore;
  /** Options for the default store. */
  storeOptions?: ArtifactStoreOptions;
  /** Move `latest` to the new version once it is published (default true). */
  setLatest?: boolean;
  /** Upload progress. */
  onProgress?: (p: PushProgress) => void;
  /** A working folder for the staged pipeline (default: a temp folder, removed afterwards). */
  workDir?: string;
}

/** What {@link promoteCheckpoint} published. */
export interface PromoteResult {
  /** The published version. */
  uri: string;
  /** Whether `latest` now points at it. */
  latest: boolean;
  step?: number;
  /** True when the EMA weights were published. */
  ema: boolean;
  /** The staged pipeline's components. */
  report: ConversionReport;
}

/** One evaluation line of a run's metrics.jsonl. */
interface MetricsLine {
  step: number;
  group?: string;
  [k: string]: unknown;
}

/** The evaluation of the checkpoint's step (else the last one before it) from its run/metrics.jsonl. */
export function checkpointEvalMetrics(dir: string, step: number | undefined): MetricsLine | undefined {
  const file = [path.join(dir, 'run', 'metrics.jsonl'), path.join(dir, 'metrics.jsonl')].find((f) => fs.existsSync(f));
  if (!file) return undefined;
  let best: MetricsLine | undefined;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let rec: MetricsLine;
    try {
      rec = JSON.parse(line) as MetricsLine;
    } catch {
      continue; // a line cut by a crash
    }
    if (rec.group !== 'eval' || typeof rec.step !== 'number') continue;
    if (step !== undefined && rec.step > step) continue;
    if (!best || rec.step >= best.step) best = rec;
  }
  return best;
}

/** The recipe a checkpoint was trained with: the run's config.resolved.json when it is beside the checkpoints, else trainer.json's config. */
function recipeOf(dir: string, meta: CheckpointMeta | undefined): unknown {
  const resolved = path.join(dir, '..', '..', 'config.resolved.json');
  if (fs.existsSync(resolved)) {
    try {
      return JSON.parse(fs.readFileSync(resolved, 'utf8'));
    } catch {
      /* fall back to trainer.json's copy */
    }
  }
  return meta?.config;
}

/** The README.md of a promoted model: where it came from, how it was trained and how it scored. */
export function promotionCard(o: { uri: string; source: string; meta?: CheckpointMeta; ema: boolean; recipe: unknown; metrics?: MetricsLine }): string {
  const { meta, metrics } = o;
  const scores = metrics
    ? Object.entries(metrics)
        .filter(([k, v]) => !['step', 'time', 'group'].includes(k) && typeof v === 'number')
        .map(([k, v]) => `| ${k} | ${(v as number).toPrecision(6)} |`)
    : [];
  return [
    `# DiffUTE pipeline ${o.uri}`,
    '',
    `Promoted by doc-anon-torch (\`doc-anon models promote\`) on ${new Date().toISOString()} from \`${o.source}\`.`,
    'Load it with `DiffutePipeline.fromPretrained(uri)` or `doc-anon anonymize --engine diffute --model <uri>`.',
    '',
    '## Training',
    '',
    meta
      ? `- steps: ${meta.step} (LR schedule over ${meta.lr.totalSteps}), ${meta.worldSize} rank(s), checkpoint written ${meta.createdAt}`
      : '- steps: unknown (the source has no trainer.json)',
    `- UNet weights: ${o.ema ? 'EMA' : 'raw (no EMA in the checkpoint)'}`,
    ...(meta?.dataVersion ? [`- data: ${meta.dataVersion}`] : []),
    '',
    '### Recipe',
    '',
    '```json',
    JSON.stringify(o.recipe ?? null, null, 2),
    '```',
    '',
    '## Evaluation',
    '',
    ...(metrics
      ? [`Held-out evaluation at step ${metrics.step}:`, '', '| metric | value |', '| --- | --- |', ...scores]
      : ['No evaluation was recorded for this checkpoint (its run/metrics.jsonl has no eval line up to its step).']),
    '',
  ].join('\n');
}

/** Where a frozen component of the checkpoint is: its own subfolder, else model_index.json `_sources`. */
function partOf(dir: string, index: DiffuteModelIndex | undefined, name: 'vae' | 'glyph_encoder'): string {
  if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  const s = index?._sources?.[name];
  if (!s) throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} has no ${name}/ and its ${MODEL_INDEX} names no source for it: it is not a DiffUTE UNet checkpoint`);
  return s.startsWith('r2://') || path.isAbsolute(s) ? s : path.resolve(dir, s);
}

/**
 * Publishes a UNet training checkpoint as the pipeline artifact `target`
 * (`r2://bucket/models/<name>/<version>`) and then, unless `setLatest` is false, points
 * `r2://bucket/models/<name>/latest` at it.
 * @throws DocAnonError ERR_CONFLICT when the version is published already, ERR_ARGUMENT for a VAE
 * checkpoint or a `latest` target, ERR_STORAGE when R2 fails (nothing is published then).
 */
export async function promoteCheckpoint(source: string, target: string, options: PromoteOptions = {}): Promise<PromoteResult> {
  const loc = parseVersionUri(target);
  if (loc.version === 'latest') throw new DocAnonError(ErrorCode.ARGUMENT, `${target}: promote to a version (…/<name>/<version>); latest is moved to it afterwards`);
  const store = options.store ?? new ArtifactStore(options.storeOptions);
  const work = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-promote-'));
  try {
    let dir = source;
    if (source.startsWith('r2://')) {
      dir = path.join(work, 'checkpoint');
      await store.pull(source, dir);
    } else if (!fs.existsSync(path.join(source, MODEL_INDEX)) && !fs.existsSync(path.join(source, META_FILE))) {
      throw new DocAnonError(ErrorCode.NOT_FOUND, `${source} is not a training checkpoint (no ${META_FILE} or ${MODEL_INDEX})`);
    }
    const meta = fs.existsSync(path.join(dir, META_FILE)) ? readCheckpointMeta(dir) : undefined;
    if (meta && meta.kind !== 'unet') {
      throw new DocAnonError(ErrorCode.ARGUMENT, `${source} is a ${meta.kind} checkpoint: only a UNet checkpoint is a DiffUTE pipeline (use the VAE through a pipeline's vae/, e.g. models assemble --vae)`);
    }
    const index = fs.existsSync(path.join(dir, MODEL_INDEX))
      ? parseConfig(DiffuteModelIndexSchema, JSON.parse(fs.readFileSync(path.join(dir, MODEL_INDEX), 'utf8')), path.join(dir, MODEL_INDEX))
      : undefined;
    const ema = fs.existsSync(path.join(dir, 'ema_unet'));
    const hasProjection = fs.existsSync(path.join(dir, 'glyph_projection')) || fs.existsSync(path.join(dir, 'ema_glyph_projection'));
    const parts: PipelineParts = {
      unet: dir,
      vae: partOf(dir, index, 'vae'),
      glyphEncoder: partOf(dir, index, 'glyph_encoder'),
      glyphProjection: hasProjection ? dir : index?._sources?.glyph_projection,
      scheduler: fs.existsSync(path.join(dir, SCHEDULER_FILE)) ? path.join(dir, SCHEDULER_FILE) : undefined,
    };
    const card = promotionCard({ uri: target, source, meta, ema, recipe: recipeOf(dir, meta), metrics: checkpointEvalMetrics(dir, meta?.step) });
    const staged = path.join(work, 'pipeline');
    const report = await assemblePipeline(parts, staged, {
      preferEma: true,
      settings: index ? settingsOf(index) : undefined,
      extraFiles: { 'README.md': card },
    });
    // Published = manifest written (the store's complete-then-publish); latest moves only after.
    const pushed = await store.push(staged, target, { setLatest: false, config: meta?.config, onProgress: options.onProgress });
    const moveLatest = options.setLatest ?? true;
    if (moveLatest) await store.setLatest(pushed.uri);
    return { uri: pushed.uri, latest: moveLatest, step: meta?.step, ema, report };
  } finally {
    if (!options.workDir) fs.rmSync(work, { recursive: true, force: true });
    if (!options.store) store.close();
  }
}
