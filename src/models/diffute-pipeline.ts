/**
 * A DiffUTE model set as one folder, the way diffusers keeps its pipelines:
 *
 *   model_index.json        names the components and holds the method's settings (below)
 *   unet/                   UNet2DConditionModel (diffusers layout)
 *   vae/                    AutoencoderKL (diffusers layout)
 *   glyph_encoder/          the TrOCR encoder (transformers layout: a VisionEncoderDecoder or a bare ViT)
 *   glyph_projection/       optional: the projection trained with the UNet (hidden_size -> cross_attention_dim)
 *   scheduler/scheduler_config.json
 *
 * `DiffutePipeline.fromPretrained(dir | r2://...)` loads it; the CLI, the Anonymizer, the server,
 * the Modal endpoint and the trainers' checkpoints all use this layout. A component may live
 * outside the folder: model_index.json's `_sources` then names where (a path relative to the
 * folder, an absolute path, or an r2:// artifact), which is how a training checkpoint refers to
 * the frozen VAE and glyph encoder it was trained with instead of copying gigabytes each time.
 */
import { glyphAlignedModeOf, GlyphAlignedModeSchema, type GlyphAlignedMode } from './glyph-conditioning';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-file';
import { parseConfig } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { AutoencoderKL } from './autoencoder-kl';
import { GlyphEncoder } from './glyph-encoder';
import { GlyphProjection } from './glyph-projection';
import { MASKED_FILL } from './inpaint';
import type { ModelLoadOptions, NativeModel } from './native-model';
import { NoiseScheduler, SD2_SCHEDULER_CONFIG } from './scheduler';
import { resolveModelDir } from './source';
import { UNet2DConditionModel } from './unet-2d-condition';

/** The index file of a pipeline folder. */
export const MODEL_INDEX = 'model_index.json';
/** The scheduler's file inside the folder. */
export const SCHEDULER_FILE = path.join('scheduler', 'scheduler_config.json');

/** The components of a DiffUTE pipeline, by folder name. */
export const PIPELINE_COMPONENTS = ['unet', 'vae', 'glyph_encoder', 'glyph_projection', 'scheduler'] as const;
export type PipelineComponent = (typeof PIPELINE_COMPONENTS)[number];

const library = (lib: string, cls: z.ZodType<string>) => z.tuple([z.literal(lib), cls]);

/**
 * model_index.json: each component as diffusers writes it (`[library, class]`, `[null, null]` for
 * an optional one left out), and the method's settings.
 */
export const DiffuteModelIndexSchema = z.strictObject({
  _class_name: z.literal('DiffutePipeline'),
  /** The doc-anon-torch version that wrote it. */
  _doc_anon_version: z.string().optional(),
  /** Components kept outside the folder: a path relative to it, an absolute path, or an r2:// artifact. */
  _sources: z.partialRecord(z.enum(['unet', 'vae', 'glyph_encoder', 'glyph_projection']), z.string().min(1)).optional(),
  unet: library('diffusers', z.literal('UNet2DConditionModel')),
  vae: library('diffusers', z.literal('AutoencoderKL')),
  glyph_encoder: library('transformers', z.enum(['VisionEncoderDecoderModel', 'ViTModel'])),
  glyph_projection: z.union([library('doc-anon-torch', z.literal('GlyphProjection')), z.tuple([z.null(), z.null()])]).default([null, null]),
  scheduler: library('diffusers', z.string().min(1)),
  /** The masked image's hole value in [-1, 1] space the UNet was trained with: DiffUTE's -1, diffusers' 0. */
  masked_fill: z.number().min(-1).max(1).default(MASKED_FILL.diffute),
  /** The side the UNet samples at, px; null: its sample_size times the VAE factor (as diffusers). */
  resolution: z.number().int().min(8).max(2048).nullable().default(null),
  /** Crop width / height the UNet was trained at (an integer; 1: square, as DiffUTE). Width = aspect x resolution. */
  aspect: z.number().int().min(1).max(8).default(1),
  /** Smallest crop height in page px the UNet was trained with (its data.crop_size); null: the engine's default. */
  min_crop_side: z.number().int().min(8).nullable().default(null),
  /** Classifier-free guidance the engine samples with by default (1: off; >1 for weights trained with conditioning dropout). */
  guidance_scale: z.number().min(1).max(30).default(1),
  /**
   * How the replacement text conditions the UNet: `glyph` is DiffUTE's, the text rendered as a glyph
   * image, encoded by the glyph encoder (last_hidden_state), through the projection when there is
   * one, as the cross-attention context.
   */
  conditioning: z.literal('glyph').default('glyph'),
  /**
   * Glyph-aligned conditioning next to the cross-attention (src/models/glyph-conditioning.ts): the
   * glyph rendered into the box as extra UNet input channels. Must agree with the UNet's
   * in_channels (`none`: 2 * latent + 1; `downsampled`: one more; `vae`: latent_channels more).
   */
  glyph_aligned: GlyphAlignedModeSchema.default('none'),
});
export type DiffuteModelIndex = z.output<typeof DiffuteModelIndexSchema>;
export type DiffuteModelIndexInput = z.input<typeof DiffuteModelIndexSchema>;

/** The method's settings a pipeline carries (model_index.json). */
export interface DiffuteSettings {
  /** The masked image's hole value the UNet was trained with. */
  maskedFill: number;
  /** The side the UNet samples at, px (undefined: its sample_size times the VAE factor). */
  resolution?: number;
  /** Crop width / height (1: square). */
  aspect?: number;
  /** Smallest crop height in page px (the training crop_size), when recorded. */
  minCropSide?: number;
  /** Default classifier-free guidance (1: off). */
  guidanceScale?: number;
  conditioning: 'glyph';
  /** Glyph-aligned input channels of the UNet (derived from its in_channels when not given). */
  glyphAligned?: GlyphAlignedMode;
}

/** Where each component comes from: a folder (or r2:// artifact); the scheduler may be a file. */
export interface DiffuteSources {
  unet: string;
  vae: string;
  glyphEncoder: string;
  glyphProjection?: string;
  /** scheduler_config.json, or a folder holding it; absent: SD2-inpainting's scheduler. */
  scheduler?: string;
}

/** Options of {@link DiffutePipeline.fromPretrained}. */
export interface DiffutePipelineLoadOptions extends Omit<ModelLoadOptions, 'variant'> {
  /** Components to take from elsewhere instead of the folder's (e.g. another TrOCR encoder). */
  overrides?: Partial<DiffuteSources>;
}

/** The models, scheduler and settings of one DiffUTE pipeline. */
export interface DiffuteComponents {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  glyphEncoder: GlyphEncoder;
  glyphProjection?: GlyphProjection;
  scheduler: NoiseScheduler;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../package.json') as { version: string }).version;

function exists(p: string): boolean {
  return fs.existsSync(p);
}

/** The index of `dir`, or undefined for a folder without one (unet/ and vae/ side by side). */
function readIndex(dir: string): DiffuteModelIndex | undefined {
  const file = path.join(dir, MODEL_INDEX);
  if (!exists(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DocAnonError(ErrorCode.CONFIG, `${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(DiffuteModelIndexSchema, raw, file);
}

/** Where a component is: an override, its subfolder, or the index's `_sources` (relative to `dir`). */
function componentSource(dir: string, index: DiffuteModelIndex | undefined, name: Exclude<PipelineComponent, 'scheduler'>, override?: string): string | undefined {
  if (override) return override;
  const sub = path.join(dir, name);
  if (exists(sub)) return sub;
  const elsewhere = index?._sources?.[name];
  if (elsewhere === undefined) return undefined;
  return elsewhere.startsWith('r2://') || path.isAbsolute(elsewhere) ? elsewhere : path.resolve(dir, elsewhere);
}

/**
 * The scheduler of a folder: its scheduler/scheduler_config.json; null for a folder without
 * scheduler/ (it samples with SD2-inpainting's, as the trainers' default). A scheduler/ without
 * its scheduler_config.json is ERR_NOT_FOUND naming the file.
 */
function schedulerSource(dir: string): string | null {
  const file = path.join(dir, SCHEDULER_FILE);
  if (exists(file)) return file;
  if (exists(path.dirname(file))) {
    throw new DocAnonError(
      ErrorCode.NOT_FOUND,
      `${file} is missing: a pipeline folder's scheduler/ holds its scheduler_config.json (remove scheduler/ to sample with SD2-inpainting's scheduler)`,
    );
  }
  return null;
}

/** The model_index.json fields of the method's settings (the inverse of {@link settingsOf}; DiffUTE's defaults for what is not given). */
export function settingsIndexFields(s: Partial<DiffuteSettings>): Pick<DiffuteModelIndexInput, 'masked_fill' | 'resolution' | 'aspect' | 'min_crop_side' | 'guidance_scale' | 'conditioning' | 'glyph_aligned'> {
  return {
    masked_fill: s.maskedFill ?? MASKED_FILL.diffute,
    resolution: s.resolution ?? null,
    aspect: s.aspect ?? 1,
    min_crop_side: s.minCropSide ?? null,
    guidance_scale: s.guidanceScale ?? 1,
    conditioning: s.conditioning ?? 'glyph',
    glyph_aligned: s.glyphAligned ?? 'none',
  };
}

/** The method's settings of a model_index.json (DiffUTE's defaults without one). */
export function settingsOf(index: DiffuteModelIndex | undefined): DiffuteSettings {
  return {
    maskedFill: index?.masked_fill ?? MASKED_FILL.diffute,
    resolution: index?.resolution ?? undefined,
    aspect: index?.aspect ?? 1,
    minCropSide: index?.min_crop_side ?? undefined,
    guidanceScale: index?.guidance_scale ?? 1,
    conditioning: index?.conditioning ?? 'glyph',
    glyphAligned: index?.glyph_aligned,
  };
}

export class DiffutePipeline {
  readonly unet: UNet2DConditionModel;
  readonly vae: AutoencoderKL;
  readonly glyphEncoder: GlyphEncoder;
  readonly glyphProjection?: GlyphProjection;
  /** The scheduler the UNet was trained with (a sampler is built from its config). */
  readonly scheduler: NoiseScheduler;
  readonly settings: Readonly<DiffuteSettings>;

  private constructor(c: DiffuteComponents, settings: DiffuteSettings) {
    this.unet = c.unet;
    this.vae = c.vae;
    this.glyphEncoder = c.glyphEncoder;
    this.glyphProjection = c.glyphProjection;
    this.scheduler = c.scheduler;
    this.settings = Object.freeze({ ...settings });
  }

  /** A pipeline over models already loaded (they are disposed with it). */
  static fromComponents(c: DiffuteComponents, settings: Partial<DiffuteSettings> = {}): DiffutePipeline {
    const s = { ...settingsOf(undefined), ...settings };
    // The UNet's input channels say which glyph-aligned mode it was built for; the index must agree.
    // (A UNet no mode fits is left for the sampling loop to refuse, as before this option.)
    let mode: GlyphAlignedMode | undefined;
    try {
      mode = glyphAlignedModeOf(c.unet.config.in_channels ?? 4, c.vae.config.latent_channels ?? 4);
    } catch {
      mode = undefined;
    }
    if (s.glyphAligned !== undefined && mode !== undefined && s.glyphAligned !== mode) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `model_index.json says glyph_aligned: ${s.glyphAligned}, but the UNet's ${c.unet.config.in_channels} input channels mean ${mode}: fix glyph_aligned or use the UNet trained with it`,
      );
    }
    return new DiffutePipeline(c, { ...s, glyphAligned: mode ?? s.glyphAligned });
  }

  /**
   * Loads a pipeline folder (or an r2:// artifact of one). Without a model_index.json, a folder of
   * unet/ and vae/ (and glyph_encoder/, glyph_projection/, scheduler/) loads with DiffUTE's
   * settings. A missing component is ERR_NOT_FOUND naming what was looked for; a folder without
   * scheduler/ samples with SD2-inpainting's scheduler. The VAE runs in float32 unless bfloat16 is
   * asked for (SD2's force_upcast).
   */
  static async fromPretrained(source: string, options: DiffutePipelineLoadOptions = {}): Promise<DiffutePipeline> {
    const dir = await resolveModelDir(source, 'pipeline');
    const index = readIndex(dir);
    const o = options.overrides ?? {};
    const need = (name: Exclude<PipelineComponent, 'scheduler'>, override: string | undefined): string => {
      const s = componentSource(dir, index, name, override);
      if (s === undefined) {
        throw new DocAnonError(
          ErrorCode.NOT_FOUND,
          index
            ? `${path.join(dir, name)} is missing, and ${MODEL_INDEX} names no other source for it (_sources): a DiffUTE pipeline folder holds unet/, vae/ and glyph_encoder/`
            : `${path.join(dir, name)} is missing, and ${path.join(dir, MODEL_INDEX)} too: a DiffUTE pipeline folder holds ${MODEL_INDEX}, unet/, vae/ and glyph_encoder/ (the glyph encoder can also be given on its own)`,
        );
      }
      return s;
    };
    const sources: DiffuteSources = {
      unet: need('unet', o.unet),
      vae: need('vae', o.vae),
      glyphEncoder: need('glyph_encoder', o.glyphEncoder),
      glyphProjection: componentSource(dir, index, 'glyph_projection', o.glyphProjection),
      scheduler: o.scheduler ?? schedulerSource(dir) ?? undefined,
    };
    if (index?.glyph_projection[0] !== null && index !== undefined && !sources.glyphProjection) {
      throw new DocAnonError(ErrorCode.NOT_FOUND, `${path.join(dir, 'glyph_projection')} is missing, though ${MODEL_INDEX} names a glyph projection`);
    }
    return DiffutePipeline.fromSources(sources, options, settingsOf(index));
  }

  /** Loads each component from its own source (folders or r2:// artifacts). */
  static async fromSources(sources: DiffuteSources, options: Omit<ModelLoadOptions, 'variant'> = {}, settings: Partial<DiffuteSettings> = {}): Promise<DiffutePipeline> {
    const load = { device: options.device, dtype: options.dtype };
    const owned: Array<{ dispose(): void }> = [];
    try {
      const scheduler = sources.scheduler ? NoiseScheduler.fromPretrained(sources.scheduler) : NoiseScheduler.fromConfig(SD2_SCHEDULER_CONFIG, 'ddpm');
      owned.push(scheduler);
      const unet = await UNet2DConditionModel.fromPretrained(sources.unet, load);
      owned.push(unet);
      const vae = await AutoencoderKL.fromPretrained(sources.vae, { ...load, dtype: load.dtype === 'float16' ? 'float32' : load.dtype });
      owned.push(vae);
      const glyphEncoder = await GlyphEncoder.fromPretrained(sources.glyphEncoder, load);
      owned.push(glyphEncoder);
      const glyphProjection = sources.glyphProjection ? await GlyphProjection.fromPretrained(sources.glyphProjection, load) : undefined;
      if (glyphProjection) owned.push(glyphProjection);
      return DiffutePipeline.fromComponents({ unet, vae, glyphEncoder, glyphProjection, scheduler }, settings);
    } catch (e) {
      for (const m of owned) m.dispose();
      throw e;
    }
  }

  /**
   * Writes the pipeline folder: model_index.json last (a reader never sees half a folder named as
   * complete), each component in its reference layout. Components listed in `refer` are not
   * written: the index names their source instead.
   */
  async save(dir: string, options: { refer?: Partial<Record<'vae' | 'glyph_encoder', string>> } = {}): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    const refer = options.refer ?? {};
    const parts: Array<[Exclude<PipelineComponent, 'scheduler'>, NativeModel | undefined]> = [
      ['unet', this.unet],
      ['vae', this.vae],
      ['glyph_encoder', this.glyphEncoder],
      ['glyph_projection', this.glyphProjection],
    ];
    for (const [name, model] of parts) if (model && !(name in refer)) await model.save(path.join(dir, name));
    fs.mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
    writeFileAtomic(path.join(dir, SCHEDULER_FILE), this.scheduler.configFileText());
    await writeModelIndex(dir, {
      schedulerClass: this.scheduler.className,
      glyphProjection: this.glyphProjection !== undefined,
      settings: this.settings,
      sources: refer,
    });
  }

  /** Frees every model and the scheduler. Idempotent. */
  dispose(): void {
    for (const m of [this.unet, this.vae, this.glyphEncoder, this.glyphProjection, this.scheduler]) m?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Writes model_index.json for a folder whose components are (or, for `sources`, are named) in
 * place. Trainers write their checkpoints' index with it.
 */
export async function writeModelIndex(
  dir: string,
  o: { schedulerClass: string; glyphProjection: boolean; settings: DiffuteSettings; sources?: Partial<Record<'vae' | 'glyph_encoder', string>> },
): Promise<void> {
  const glyphClass = (() => {
    const dirOf = o.sources?.glyph_encoder ?? path.join(dir, 'glyph_encoder');
    try {
      const cfg = JSON.parse(fs.readFileSync(path.join(dirOf, 'config.json'), 'utf8')) as { model_type?: string };
      return cfg.model_type === 'vision-encoder-decoder' ? 'VisionEncoderDecoderModel' : 'ViTModel';
    } catch {
      return 'VisionEncoderDecoderModel'; // an r2:// source (TrOCR's own checkpoints are this class)
    }
  })();
  const index: DiffuteModelIndexInput = {
    _class_name: 'DiffutePipeline',
    _doc_anon_version: VERSION,
    ...(o.sources && Object.keys(o.sources).length ? { _sources: o.sources } : {}),
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
    glyph_encoder: ['transformers', glyphClass],
    glyph_projection: o.glyphProjection ? ['doc-anon-torch', 'GlyphProjection'] : [null, null],
    scheduler: ['diffusers', o.schedulerClass],
    ...settingsIndexFields(o.settings),
  };
  writeFileAtomic(path.join(dir, MODEL_INDEX), `${JSON.stringify(parseConfig(DiffuteModelIndexSchema, index, MODEL_INDEX), null, 2)}\n`);
}
