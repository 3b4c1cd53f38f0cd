/**
 * `evaluate()`: the quality of a VAE, a DiffUTE UNet or a whole DiffUTE pipeline on held-out data,
 * as a JSON-ready report (and, with `out`, report.json, report.md and a samples PNG in a folder).
 * The CLI's `doc-anon eval` is this function. Deterministic for a seed: the crops, the lines, the
 * sampling noise and so every number are a function of the model, the data and the seed.
 *
 * Model folders:
 * - vae: a diffusers AutoencoderKL folder (config.json + weights), or a folder holding one as
 *   `vae/` (a pipeline) or a training checkpoint (`ema/` when it has one, else `model/`).
 * - unet / pipeline: a folder with `unet/`, `vae/` and `glyph_encoder/` (and `glyph_projection/`,
 *   `scheduler/scheduler_config.json` when the model has them).
 * Each may be an r2:// artifact (pulled into the verified cache first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-file';
import { parseConfig } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { TesseractOcr } from '../detect/ocr/tesseract';
import { encodeImage } from '../inference/image-io';
import { AutoencoderKL } from '../models/autoencoder-kl';
import { DiffutePipeline } from '../models/diffute-pipeline';
import { Lpips } from '../models/lpips';
import { resolveModelDir } from '../models/source';
import { DatasetPages, SyntheticPages, type PageSource } from '../training/data/pages';
import { evaluateDiffuteModels, type DiffuteEvalReport } from './diffute-eval';
import { sampleGrid, type Tile } from './grid';
import { evaluateVaeModel, type VaeEvalReport } from './vae-eval';

export { evaluateVaeModel, type VaeEvalOptions, type VaeEvalReport, type Stat } from './vae-eval';
export { evaluateDiffuteModels, type DiffuteEvalOptions, type DiffuteEvalReport, type DiffuteExampleResult } from './diffute-eval';
export { psnr, ssim, charAccuracy, wordAccuracy, editDistance } from './metrics';

/** Options of {@link evaluate} (validated; unknown keys are an error). */
export const EvaluateOptionsSchema = z.strictObject({
  kind: z.enum(['vae', 'unet', 'pipeline']),
  /** Model folder or r2:// artifact (see the module comment for the layouts). */
  model: z.string().min(1),
  /**
   * Evaluation data: a dataset-format folder (or r2:// artifact of one), or `synthetic[:seed]`
   * for synthetic pages generated on the fly (default seed 0; use another seed than training's).
   */
  data: z.string().min(1),
  /** Examples (VAE crops / DiffUTE lines); default 32 for the VAE, 16 for DiffUTE. */
  limit: z.number().int().min(1).max(100000).optional(),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Folder for report.json, report.md and samples.png (created). */
  out: z.string().min(1).optional(),
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, { message: 'must be cpu, cuda or cuda:N' }).default('cpu'),
  /** VGG16 `features.*` safetensors for LPIPS (not shipped; see docs/lpips.md); absent: no LPIPS. */
  lpips: z.string().min(1).optional(),
  /** VAE crop side (default 256, or the VAE's sample_size when smaller). */
  cropSize: z.number().int().min(8).max(4096).optional(),
  /** DiffUTE sampling steps (default 20) and sampler (default ddim). */
  steps: z.number().int().min(1).max(1000).default(20),
  sampler: z.enum(['ddpm', 'ddim', 'euler', 'dpmpp2m', 'pndm']).default('ddim'),
  /** Classifier-free guidance of the DiffUTE sampling (weights trained with conditioning dropout); default: the pipeline's, else 1. */
  guidanceScale: z.number().min(1).max(30).optional(),
  /** Synthetic page size (data `synthetic`): default 600 x 800 as the local configs. */
  pageWidth: z.number().int().min(200).max(10000).default(600),
  pageHeight: z.number().int().min(200).max(14000).default(800),
});
export type EvaluateOptions = z.input<typeof EvaluateOptionsSchema> & {
  /** Progress of each part ("vae" / "unet"). */
  onProgress?: (part: 'vae' | 'unet', done: number, total: number) => void;
};

/** The report of {@link evaluate}: the parts its kind evaluates. */
export interface EvalReport {
  kind: 'vae' | 'unet' | 'pipeline';
  model: string;
  data: string;
  seed: number;
  vae?: Omit<VaeEvalReport, 'samples'>;
  unet?: Omit<DiffuteEvalReport, 'samples'>;
  /** Files written (with `out`). */
  files?: string[];
}

function has(dir: string, ...p: string[]): boolean {
  return fs.existsSync(path.join(dir, ...p));
}

/** The VAE folder inside a model folder (itself, vae/, ema_vae/, or a legacy checkpoint's ema/ or model/). */
export function vaeFolder(dir: string): string {
  for (const sub of ['', 'vae', 'ema_vae', 'ema', 'model']) if (has(dir, sub, 'config.json')) return path.join(dir, sub);
  throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} holds no VAE: expected config.json in it, or in vae/, ema_vae/, ema/ or model/`);
}

/**
 * Writes `scaling_factor` = 1 / std of the VAE's latents (an evaluation's `latent.suggestedScalingFactor`)
 * into the VAE folder's config.json, so that a UNet trained on it sees unit-variance latents, as SD's
 * 0.18215 was measured for its VAE. Returns the folder and the value written.
 * @throws DocAnonError ERR_ARGUMENT for an r2:// model (write to a local copy), ERR_INPUT without a usable std.
 */
export function writeScalingFactor(model: string, report: Pick<VaeEvalReport, 'latent'>): { dir: string; scalingFactor: number } {
  if (model.startsWith('r2://')) throw new DocAnonError(ErrorCode.ARGUMENT, `${model}: the scaling factor is written into a local VAE folder; pull the artifact first`);
  const s = report.latent.suggestedScalingFactor;
  if (!(s > 0) || !Number.isFinite(s)) throw new DocAnonError(ErrorCode.INPUT, `the evaluation measured no usable latent std (${report.latent.std}); nothing written`);
  const dir = vaeFolder(model);
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const scalingFactor = Number(s.toPrecision(6));
  config.scaling_factor = scalingFactor;
  writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
  return { dir, scalingFactor };
}

async function openData(data: string, o: z.output<typeof EvaluateOptionsSchema>): Promise<PageSource> {
  const m = /^synthetic(?::(\d+))?$/.exec(data);
  if (m) return new SyntheticPages({ seed: Number(m[1] ?? 0), width: o.pageWidth, height: o.pageHeight, kinds: ['statement', 'invoice', 'form'], noise: 0, blur: 0, rotation: 0 });
  return new DatasetPages(await resolveModelDir(data, 'dataset'));
}

const fmt = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '-' : Number.isFinite(v) ? v.toFixed(d) : String(v));

/** The report as a markdown table (what the CLI prints). */
export function formatEvalReport(r: EvalReport): string {
  const rows: Array<[string, string]> = [];
  if (r.vae) {
    const v = r.vae;
    rows.push(
      ['VAE examples', `${v.examples} crops of ${v.cropSize} px`],
      ['PSNR (dB)', `${fmt(v.psnr.mean, 2)} ± ${fmt(v.psnr.std, 2)}`],
      ['SSIM', `${fmt(v.ssim.mean, 4)} ± ${fmt(v.ssim.std, 4)}`],
      ['LPIPS', v.lpips ? `${fmt(v.lpips.mean, 4)} ± ${fmt(v.lpips.std, 4)}` : '- (no --lpips backbone)'],
      ['KL per sample', `${fmt(v.klPerSample.mean, 1)} ± ${fmt(v.klPerSample.std, 1)}`],
      ['latent mean / std', `${fmt(v.latent.mean, 4)} / ${fmt(v.latent.std, 4)}`],
      ['std x scaling_factor', `${fmt(v.latent.scaledStd, 4)} (scaling_factor ${v.latent.scalingFactor}; 1/std = ${fmt(v.latent.suggestedScalingFactor, 4)})`],
    );
  }
  if (r.unet) {
    const u = r.unet;
    rows.push(
      ['DiffUTE examples', `${u.examples} lines`],
      ['OCR char accuracy (1-CER)', `${fmt(u.ocrCharAcc.mean, 4)} (unedited: ${fmt(u.ocrCharAccOriginal.mean, 4)})`],
      ['OCR word (line) accuracy', `${fmt(u.ocrWordAcc, 4)} (unedited: ${fmt(u.ocrWordAccOriginal, 4)})`],
      ['edited box PSNR (dB)', fmt(u.boxPsnr.mean, 2)],
      ['edited box LPIPS', u.boxLpips ? fmt(u.boxLpips.mean, 4) : '- (no --lpips backbone)'],
      ['ring around the box PSNR (dB)', fmt(u.ringPsnr.mean, 2)],
      ['pixels changed outside the paste', String(u.changedOutsidePasted)],
    );
  }
  return `| metric | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`;
}

/** JSON of a report: non-finite numbers (an exact reconstruction's PSNR) as strings "Infinity" / "NaN". */
export function evalReportJson(r: EvalReport): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

/**
 * Evaluates a model on held-out data (see {@link EvaluateOptionsSchema}). Loads what the kind
 * needs, runs on `device`, frees everything before returning.
 * @throws DocAnonError ERR_CONFIG for bad options, ERR_NOT_FOUND for a missing model part or data.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalReport> {
  const { onProgress, ...rest } = options;
  const o = parseConfig(EvaluateOptionsSchema, rest, 'evaluation options');
  const dir = await resolveModelDir(o.model, 'model');
  const pages = await openData(o.data, o);
  const load = { device: o.device };
  const owned: Array<{ dispose(): void }> = [];
  const report: EvalReport = { kind: o.kind, model: o.model, data: o.data, seed: o.seed };
  const files: string[] = [];
  let ocr: TesseractOcr | undefined;
  try {
    const lpips = o.lpips ? await Lpips.load(o.lpips, load) : null;
    if (lpips) owned.push(lpips);
    // A DiffUTE model (a pipeline folder, a UNet training checkpoint among them) loads as a pipeline.
    const pipeline = o.kind === 'vae' ? undefined : await DiffutePipeline.fromPretrained(dir, load);
    if (pipeline) owned.push(pipeline);
    const vae = pipeline?.vae ?? (await AutoencoderKL.fromPretrained(vaeFolder(dir), load));
    if (!pipeline) owned.push(vae);
    const pngs: Array<{ name: string; rows: Tile[][] }> = [];
    if (o.kind === 'vae' || o.kind === 'pipeline') {
      const side = o.cropSize ?? Math.min(256, Math.max(vae.downsampleFactor * 8, (vae.config.sample_size as number | undefined) ?? 256));
      const { samples, ...v } = await evaluateVaeModel(vae, pages, {
        limit: o.limit ?? 32,
        seed: o.seed,
        cropSize: side,
        lpips,
        keepSamples: o.out ? 8 : 0,
        onProgress: (d, t) => onProgress?.('vae', d, t),
      });
      report.vae = v;
      if (samples?.length) {
        pngs.push({ name: 'vae-samples.png', rows: samples.map((s) => [{ data: s.original, width: s.side, height: s.side }, { data: s.reconstruction, width: s.side, height: s.side }]) });
      }
    }
    if (o.kind === 'unet' || o.kind === 'pipeline') {
      ocr = new TesseractOcr({ workers: 1 });
      const { samples, ...u } = await evaluateDiffuteModels(pipeline as DiffutePipeline, pages, {
        ocr,
        limit: o.limit ?? 16,
        seed: o.seed,
        lpips,
        engine: { steps: o.steps, sampler: o.sampler, ...(o.guidanceScale !== undefined ? { guidanceScale: o.guidanceScale } : {}) },
        keepSamples: o.out ? 8 : 0,
        onProgress: (d, t) => onProgress?.('unet', d, t),
      });
      report.unet = u;
      if (samples?.length) {
        pngs.push({
          name: 'unet-samples.png',
          rows: samples.map((s) => [{ data: s.original, width: s.width, height: s.height }, { data: s.masked, width: s.width, height: s.height }, s.glyph, { data: s.edited, width: s.width, height: s.height }]),
        });
      }
    }
    if (o.out) {
      fs.mkdirSync(o.out, { recursive: true });
      for (const p of pngs) {
        const g = sampleGrid(p.rows);
        const file = path.join(o.out, p.name);
        await writeFileAtomic(file, await encodeImage({ ...g, channels: 3, format: 'png', lossless: true }, { format: 'png' }));
        files.push(file);
      }
      const md = path.join(o.out, 'report.md');
      await writeFileAtomic(md, formatEvalReport(report));
      files.push(md);
      const json = path.join(o.out, 'report.json');
      files.push(json);
      report.files = files;
      await writeFileAtomic(json, `${evalReportJson(report)}\n`);
    }
    return report;
  } finally {
    await ocr?.close();
    for (const m of owned.reverse()) m.dispose();
  }
}
