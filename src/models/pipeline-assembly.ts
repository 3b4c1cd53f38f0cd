/**
 * Builds a DiffUTE pipeline folder (models/diffute-pipeline.ts) from parts that live elsewhere:
 * a trained UNet (a diffusers folder, a training checkpoint, DiffUTE's own accelerate
 * `checkpoint-N/` or a bare `pytorch_model.bin`), a VAE folder, a TrOCR folder, and optionally a
 * glyph projection and a scheduler. Parts already in our layout are copied as they are (or, with
 * `link`, named in model_index.json's `_sources`); the others are converted (models/convert.ts).
 * The folder is written next to its final name and renamed into place only after it loaded
 * through `DiffutePipeline.fromPretrained`, whose loaders are strict: every key mapped, every
 * shape equal to the config's (ERR_WEIGHTS naming the keys otherwise).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import { parseConfig } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { SafetensorsFile, writeSafetensors } from '../core/safetensors';
import type { Tensor } from '../core/tensor';
import { disposeWeights, hasDeprecatedAttentionKeys, mapDiffusersKeys, readWeightsFile, type ComponentReport, type ConversionReport } from './convert';
import { DiffuteModelIndexSchema, DiffutePipeline, MODEL_INDEX, SCHEDULER_FILE, settingsIndexFields, settingsOf, type DiffuteModelIndexInput, type DiffuteSettings } from './diffute-pipeline';
import { AutoencoderKL } from './autoencoder-kl';
import { GlyphEncoder } from './glyph-encoder';
import { GlyphProjection } from './glyph-projection';
import { MASKED_FILL } from './inpaint';
import { UNet2DConditionModel } from './unet-2d-condition';
import { NoiseScheduler, SD2_SCHEDULER_CONFIG } from './scheduler';
import { resolveModelDir } from './source';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../package.json') as { version: string }).version;

/** Where each part of a pipeline comes from (folders, files or r2:// artifacts). */
export interface PipelineParts {
  /**
   * A diffusers UNet folder, a folder holding `unet/` (a pipeline, a training checkpoint, an
   * accelerate `checkpoint-N/`), a folder with accelerate's `pytorch_model.bin`, or a weights file.
   */
  unet: string;
  /** A diffusers AutoencoderKL folder (or a pipeline holding `vae/`). */
  vae: string;
  /** A TrOCR VisionEncoderDecoderModel folder (its encoder is kept) or a ViT folder. */
  glyphEncoder: string;
  /** A glyph projection folder (config.json + model.safetensors). */
  glyphProjection?: string;
  /** A scheduler_config.json, or a folder holding it (or `scheduler/`); default: SD2-inpainting's. */
  scheduler?: string;
  /** The UNet's config.json when the UNet source has none beside its weights (a bare checkpoint). */
  unetConfig?: string;
}

/** Options of {@link assemblePipeline}. */
export interface AssembleOptions {
  /**
   * Name parts already in our layout in model_index.json `_sources` (absolute paths or r2:// URIs)
   * instead of copying them. Parts that need converting are always written.
   */
  link?: boolean;
  /** Take a training checkpoint's EMA weights (`ema_unet/`, `ema_glyph_projection/`) when it has them. Default false. */
  preferEma?: boolean;
  /** The method's settings for model_index.json (default: DiffUTE's). */
  settings?: Partial<DiffuteSettings>;
  /** Files to add to the folder (name -> text), e.g. a model card README.md. */
  extraFiles?: Record<string, string>;
}

type Part = 'unet' | 'vae' | 'glyph_encoder' | 'glyph_projection';

const DIFFUSERS_WEIGHTS = /^diffusion_pytorch_model(\.[a-z0-9]+)?\.safetensors(\.index\.json)?$|^diffusion_pytorch_model(\.[a-z0-9]+)?-\d+-of-\d+\.safetensors$/;
const TRANSFORMERS_WEIGHTS = /^model(\.[a-z0-9]+)?\.safetensors(\.index\.json)?$|^model(\.[a-z0-9]+)?-\d+-of-\d+\.safetensors$/;

function isDir(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DocAnonError(ErrorCode.CONFIG, `${file} is not a readable JSON file: ${(e as Error).message}`);
  }
}

/** The first of `names` that exists in `dir`. */
function firstIn(dir: string, names: string[]): string | undefined {
  return names.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
}

/** Copies a model folder's config and safetensors files (not caches, manifests or optimizer state). */
function copyModelFolder(src: string, dest: string, weights: RegExp): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const n of fs.readdirSync(src)) {
    if (n === 'config.json' || weights.test(n)) fs.copyFileSync(path.join(src, n), path.join(dest, n));
  }
}

/** Writes a converted component: config.json and one safetensors file. */
async function writeComponent(dest: string, config: unknown, weightsName: string, tensors: Map<string, Tensor>): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  writeFileAtomic(path.join(dest, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeSafetensors(path.join(dest, weightsName), tensors, { format: 'pt' });
}

async function deprecatedNamesIn(file: string): Promise<boolean> {
  const f = await SafetensorsFile.open(file);
  try {
    return hasDeprecatedAttentionKeys(f.keys());
  } finally {
    f.close();
  }
}

/** Makes r2:// parts local (unless they are only to be named). */
async function local(source: string, what: string): Promise<string> {
  return source.startsWith('r2://') ? resolveModelDir(source, what) : path.resolve(source);
}

/** A diffusers model (UNet or VAE): copy, link or convert into `dest`. */
async function diffusersPart(
  part: 'unet' | 'vae',
  source: string,
  dest: string,
  o: { link: boolean; preferEma: boolean; configFile?: string },
): Promise<{ report: ComponentReport; linked?: string }> {
  if (source.startsWith('r2://') && o.link) return { report: { component: part, source, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: source };
  const root = await local(source, part);
  let dir = root;
  let file: string | undefined;
  if (!fs.existsSync(root)) throw new DocAnonError(ErrorCode.NOT_FOUND, `the ${part} source ${source} does not exist`);
  if (isDir(root)) {
    const ema = path.join(root, `ema_${part}`);
    if (o.preferEma && isDir(ema)) dir = ema;
    else if (isDir(path.join(root, part))) dir = path.join(root, part);
    const names = fs.readdirSync(dir);
    // A single safetensors file under diffusers' deprecated attention names (SD2's VAE on the Hub)
    // is converted rather than copied: our loaders know today's names only.
    const single = path.join(dir, 'diffusion_pytorch_model.safetensors');
    const stale = fs.existsSync(single) && (await deprecatedNamesIn(single));
    if (names.includes('config.json') && names.some((n) => DIFFUSERS_WEIGHTS.test(n)) && !o.configFile && !stale) {
      if (o.link) return { report: { component: part, source: dir, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: dir };
      copyModelFolder(dir, dest, DIFFUSERS_WEIGHTS);
      return { report: { component: part, source: dir, action: 'copied', taken: 0, left: [], renamed: 0 } };
    }
    // diffusers' .bin, or accelerate's save_state of the bare model (checkpoint-N/pytorch_model.bin).
    file = firstIn(dir, stale ? ['diffusion_pytorch_model.safetensors'] : ['diffusion_pytorch_model.bin', 'diffusion_pytorch_model.safetensors', 'pytorch_model.bin', 'model.safetensors']) ?? firstIn(root, ['pytorch_model.bin', 'model.safetensors']);
    if (!file) {
      throw new DocAnonError(
        ErrorCode.NOT_FOUND,
        `${dir} holds no ${part} weights: expected diffusion_pytorch_model.safetensors|.bin (diffusers), or pytorch_model.bin (accelerate's checkpoint-N/)`,
      );
    }
  } else {
    file = root;
    dir = path.dirname(root);
  }
  const configFile = o.configFile ?? firstIn(path.dirname(file), ['config.json']) ?? firstIn(path.join(root, part), ['config.json']);
  if (!configFile) {
    throw new DocAnonError(ErrorCode.CONFIG, `${file} has no config.json beside it: pass the ${part}'s diffusers config.json (--${part}-config) so every shape can be checked`);
  }
  const config = readJson(configFile);
  const w = await readWeightsFile(file);
  try {
    const mapped = mapDiffusersKeys(w.tensors);
    await writeComponent(dest, config, 'diffusion_pytorch_model.safetensors', mapped.tensors);
    return { report: { component: part, source: file, action: 'converted', format: w.format, taken: mapped.tensors.size, left: [], renamed: mapped.renamed, skipped: w.skipped } };
  } finally {
    disposeWeights(w);
  }
}

/**
 * The glyph encoder: a TrOCR VisionEncoderDecoderModel folder keeps only its encoder (`encoder.*`
 * without the unused pooler) under ViT names, with the encoder's config; a ViT folder in
 * safetensors is copied.
 */
async function glyphEncoderPart(source: string, dest: string, o: { link: boolean }): Promise<{ report: ComponentReport; linked?: string; className: 'VisionEncoderDecoderModel' | 'ViTModel' }> {
  const component = 'glyph_encoder';
  if (source.startsWith('r2://') && o.link) return { report: { component, source, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: source, className: 'VisionEncoderDecoderModel' };
  const root = await local(source, 'glyph encoder');
  const dir = isDir(path.join(root, component)) ? path.join(root, component) : root;
  if (!isDir(dir)) throw new DocAnonError(ErrorCode.NOT_FOUND, `the glyph encoder source ${source} is not a folder (a TrOCR or ViT folder with config.json)`);
  const cfgFile = path.join(dir, 'config.json');
  if (!fs.existsSync(cfgFile)) throw new DocAnonError(ErrorCode.NOT_FOUND, `${cfgFile} is missing: the glyph encoder folder needs its transformers config.json`);
  const cfg = readJson(cfgFile);
  const ved = cfg.model_type === 'vision-encoder-decoder';
  const names = fs.readdirSync(dir);
  if (!ved && names.some((n) => TRANSFORMERS_WEIGHTS.test(n))) {
    if (o.link) return { report: { component, source: dir, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: dir, className: 'ViTModel' };
    copyModelFolder(dir, dest, TRANSFORMERS_WEIGHTS);
    return { report: { component, source: dir, action: 'copied', taken: 0, left: [], renamed: 0 }, className: 'ViTModel' };
  }
  const file = firstIn(dir, ['model.safetensors', 'pytorch_model.bin']);
  if (!file) throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} holds no model.safetensors or pytorch_model.bin (sharded TrOCR checkpoints: merge them first)`);
  const encoderCfg = ved ? (cfg.encoder as Record<string, unknown> | undefined) : cfg;
  if (!encoderCfg || typeof encoderCfg !== 'object') throw new DocAnonError(ErrorCode.CONFIG, `${cfgFile} is a VisionEncoderDecoder config without an 'encoder' object`);
  const w = await readWeightsFile(file);
  try {
    const prefix = ved ? 'encoder.' : '';
    const taken = new Map<string, Tensor>();
    const left: string[] = [];
    for (const [k, t] of w.tensors) {
      const inner = k.startsWith(prefix) ? k.slice(prefix.length) : undefined;
      // The pooler is not part of last_hidden_state (what DiffUTE conditions on) and most TrOCR
      // checkpoints do not even carry it.
      if (inner === undefined || inner.startsWith('pooler.')) left.push(k);
      else taken.set(inner, t);
    }
    if (taken.size === 0) throw new DocAnonError(ErrorCode.WEIGHTS, `${file} has no ${ved ? 'encoder.* ' : ''}tensors`);
    await writeComponent(dest, encoderCfg, 'model.safetensors', taken);
    return { report: { component, source: file, action: 'converted', format: w.format, taken: taken.size, left, renamed: 0, skipped: w.skipped }, className: 'ViTModel' };
  } finally {
    disposeWeights(w);
  }
}

async function projectionPart(source: string, dest: string, o: { link: boolean; preferEma: boolean }): Promise<{ report: ComponentReport; linked?: string }> {
  const component = 'glyph_projection';
  if (source.startsWith('r2://') && o.link) return { report: { component, source, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: source };
  const root = await local(source, 'glyph projection');
  const dir = o.preferEma && isDir(path.join(root, `ema_${component}`)) ? path.join(root, `ema_${component}`) : isDir(path.join(root, component)) ? path.join(root, component) : root;
  if (!fs.existsSync(path.join(dir, 'config.json'))) throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} is not a glyph projection folder (config.json + model.safetensors)`);
  if (o.link) return { report: { component, source: dir, action: 'linked', taken: 0, left: [], renamed: 0 }, linked: dir };
  copyModelFolder(dir, dest, TRANSFORMERS_WEIGHTS);
  return { report: { component, source: dir, action: 'copied', taken: 0, left: [], renamed: 0 } };
}

/** scheduler/scheduler_config.json from a file or folder, or SD2-inpainting's when none is given. */
function schedulerPart(source: string | undefined, out: string): { report: ComponentReport; className: string } {
  const component = 'scheduler';
  const s = source ? NoiseScheduler.fromPretrained(source) : NoiseScheduler.fromConfig(SD2_SCHEDULER_CONFIG, 'ddpm');
  try {
    writeFileAtomic(path.join(out, SCHEDULER_FILE), s.configFileText(), { mkdir: true });
    return { report: { component, source: source ?? 'SD2-inpainting (default)', action: source ? 'copied' : 'default', taken: 0, left: [], renamed: 0 }, className: s.className };
  } finally {
    s.dispose();
  }
}

/** The settings in model_index.json of the folder the UNet comes from (a checkpoint or pipeline), else none. */
function unetSourceSettings(unet: string): Partial<DiffuteSettings> {
  const file = path.join(unet, MODEL_INDEX);
  if (unet.startsWith('r2://') || !fs.existsSync(file)) return {};
  return settingsOf(parseConfig(DiffuteModelIndexSchema, JSON.parse(fs.readFileSync(file, 'utf8')), file));
}

/**
 * Builds a pipeline folder at `out` from `parts` and checks that it loads. `out` must not exist
 * yet (or be empty). Returns what was taken from each part.
 * @throws DocAnonError ERR_WEIGHTS when a part does not match its config (a missing, unexpected or
 * mis-shaped key), ERR_NOT_FOUND / ERR_CONFIG for a part that is not there or has no config,
 * ERR_UNSUPPORTED for a file that is no torch.save checkpoint, ERR_ARGUMENT when `out` is taken.
 */
export async function assemblePipeline(parts: PipelineParts, out: string, options: AssembleOptions = {}): Promise<ConversionReport> {
  const final = path.resolve(out);
  if (fs.existsSync(final) && (!isDir(final) || fs.readdirSync(final).length > 0)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `${final} already exists: pick a new --out folder (or remove it)`);
  }
  const link = options.link ?? false;
  const preferEma = options.preferEma ?? false;
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const sources: Partial<Record<Part, string>> = {};
    const reports: ComponentReport[] = [];
    const unet = await diffusersPart('unet', parts.unet, path.join(tmp, 'unet'), { link, preferEma, configFile: parts.unetConfig });
    const vae = await diffusersPart('vae', parts.vae, path.join(tmp, 'vae'), { link, preferEma: false });
    const glyph = await glyphEncoderPart(parts.glyphEncoder, path.join(tmp, 'glyph_encoder'), { link });
    const projection = parts.glyphProjection ? await projectionPart(parts.glyphProjection, path.join(tmp, 'glyph_projection'), { link, preferEma }) : undefined;
    for (const [name, r] of [['unet', unet], ['vae', vae], ['glyph_encoder', glyph], ['glyph_projection', projection]] as const) {
      if (!r) continue;
      reports.push(r.report);
      if (r.linked) sources[name] = r.linked;
    }
    const scheduler = schedulerPart(parts.scheduler, tmp);
    reports.push(scheduler.report);
    // Default: the settings the UNet was trained with, when it comes from a checkpoint or pipeline folder.
    const settings = options.settings ?? unetSourceSettings(parts.unet);
    const index: DiffuteModelIndexInput = {
      _class_name: 'DiffutePipeline',
      _doc_anon_version: VERSION,
      ...(Object.keys(sources).length ? { _sources: sources } : {}),
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      glyph_encoder: ['transformers', glyph.linked ? glyphClassOf(glyph.linked) : glyph.className],
      glyph_projection: projection ? ['doc-anon-torch', 'GlyphProjection'] : [null, null],
      scheduler: ['diffusers', scheduler.className],
      ...settingsIndexFields(settings),
    };
    for (const [name, text] of Object.entries(options.extraFiles ?? {})) writeFileAtomic(path.join(tmp, name), text, { mkdir: true });
    writeFileAtomic(path.join(tmp, MODEL_INDEX), `${JSON.stringify(parseConfig(DiffuteModelIndexSchema, index, MODEL_INDEX), null, 2)}\n`);
    // The strict loaders are the shape check: a key the config does not have, one it misses, or
    // one of another shape is ERR_WEIGHTS naming it, and nothing is left at `out`.
    try {
      (await DiffutePipeline.fromPretrained(tmp)).dispose();
    } catch (e) {
      throw await withCulprit(e, tmp, reports);
    }
    if (fs.existsSync(final)) fs.rmdirSync(final);
    fs.renameSync(tmp, final);
    return { out: final, components: reports };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The loaders' strict errors name keys, not components: find the written component that fails
 * to load on its own and say which (and where it came from).
 */
async function withCulprit(e: unknown, dir: string, reports: ComponentReport[]): Promise<unknown> {
  if (!(e instanceof DocAnonError)) return e;
  const load: Record<string, (d: string) => Promise<{ dispose(): void }>> = {
    unet: (d) => UNet2DConditionModel.fromPretrained(d),
    vae: (d) => AutoencoderKL.fromPretrained(d),
    glyph_encoder: (d) => GlyphEncoder.fromPretrained(d),
    glyph_projection: (d) => GlyphProjection.fromPretrained(d),
  };
  for (const r of reports) {
    if (r.action === 'linked' || !(r.component in load)) continue;
    try {
      (await load[r.component](path.join(dir, r.component))).dispose();
    } catch (inner) {
      if (inner instanceof DocAnonError) return new DocAnonError(inner.code, `${r.component} (from ${r.source}): ${inner.message}`, { cause: e });
    }
  }
  return e;
}

function glyphClassOf(source: string): 'VisionEncoderDecoderModel' | 'ViTModel' {
  try {
    const cfg = readJson(path.join(source, 'config.json'));
    return cfg.model_type === 'vision-encoder-decoder' ? 'VisionEncoderDecoderModel' : 'ViTModel';
  } catch {
    return 'VisionEncoderDecoderModel'; // an r2:// artifact: TrOCR's own checkpoints are this class
  }
}

/**
 * Converts a DiffUTE checkpoint saved by the original training code (accelerate's `checkpoint-N/`
 * with `unet/` in diffusers layout, or a bare `pytorch_model.bin` of the UNet with `unetConfig`)
 * and a TrOCR VisionEncoderDecoderModel folder into a pipeline folder: {@link assemblePipeline}
 * with every part written into the folder (no `_sources`).
 */
export function convertToPipeline(parts: PipelineParts, out: string, options: Omit<AssembleOptions, 'link'> = {}): Promise<ConversionReport> {
  return assemblePipeline(parts, out, { ...options, link: false });
}
