/**
 * The DiffUTE engine: per region, an adaptive crop around the box (grown from the text height,
 * clipped to the page), scaled to the model resolution; the box mask (bottom extended by h/10);
 * the masked image with DiffUTE's fill; the replacement's glyph image through the TrOCR encoder as
 * encoder_hidden_states (through a trained glyph projection when the encoder is narrower than the
 * UNet's cross-attention); the native inpainting loop; decode, resize back, and a feathered paste of
 * the mask area only. Every pixel outside the pasted areas stays byte-identical. The glyph image is
 * drawn in the face matched to the original's typeface (`style/fit.ts`, when the region's original
 * text is known), and each region's report carries that style.
 */
import sharp from 'sharp';
import { z } from 'zod';
import { parseConfig } from '../../core/config';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { throwIfAborted } from '../abort';
import { Tensor } from '../../core/tensor';
import type { AutoencoderKL } from '../../models/autoencoder-kl';
import type { GlyphEncoder } from '../../models/glyph-encoder';
import type { GlyphProjection } from '../../models/glyph-projection';
import { DiffutePipeline } from '../../models/diffute-pipeline';
import { NoiseScheduler, SD2_SCHEDULER_CONFIG } from '../../models/scheduler';
import type { UNet2DConditionModel } from '../../models/unet-2d-condition';
import type { BundledFontName } from '../../render/fonts';
import type { DecodedImage } from '../image-io';
import { MASKED_FILL, inpaintLoop } from '../inpaint-loop';
import { adaptiveCrop, expandRect, maskRect, pasteFeathered, rectsOverlap, type Rect, type ValidatedRegion } from '../regions';
import { ReadBackSchema, type ReadBackOptions } from '../read-back';
import { conditioningGlyphImage } from '../glyph-aligned-input';
import type { Engine, EngineResult, EngineRunOptions, RegionReport } from './types';
import { matchRegionStyle, replacementFace, type RegionStyle } from '../style/fit';
import { styleReport } from '../style/report';

export const DiffuteEngineOptionsSchema = z.strictObject({
  /** Sampler: DDPM as the original, or faster DDIM / DPM-Solver++ with fewer steps. */
  sampler: z.enum(['ddpm', 'ddim', 'euler', 'dpmpp2m', 'pndm']).default('ddpm'),
  steps: z.number().int().min(1).max(1000).default(50),
  /**
   * Base seed; region i of a call uses seed + i (deterministic per region), and its k-th redo of
   * the read-back check seed + i + k x 1000003.
   */
  seed: z.number().int().min(0).max(2 ** 48).default(0),
  /**
   * Classifier-free guidance (needs weights trained with conditioning dropout); 1 = off, as the
   * original. Default: the pipeline's `guidance_scale`, else 1.
   */
  guidanceScale: z.number().min(1).max(30).optional(),
  /**
   * Masked-image hole value: DiffUTE's -1 or diffusers' 0 for weights trained that way. Default: the
   * pipeline's `masked_fill` (model_index.json), else DiffUTE's -1.
   */
  maskedFill: z.number().min(-1).max(1).optional(),
  /**
   * Model resolution (square crop side after scaling), a multiple of the VAE factor. Default: the
   * pipeline's `resolution` (model_index.json), else, as diffusers' pipelines, the UNet's
   * sample_size x the VAE factor (SD2: 64 x 8 = 512), so a model trained at another size runs at its
   * own; 512 when the UNet config has no sample_size.
   */
  resolution: z.number().int().min(8).max(2048).optional(),
  /**
   * Crop width / height the model samples at (width = aspect x resolution). Default: the pipeline's
   * `aspect` (a model trained on wide crops), else 1 (square, as DiffUTE).
   */
  aspect: z.number().int().min(1).max(8).optional(),
  /** Smallest crop side (height) in page pixels. Default: the pipeline's `min_crop_side`, else 128. */
  minCropSide: z.number().int().min(8).optional(),
  /** Feather width of the paste, page pixels. */
  feather: z.number().int().min(0).max(64).default(2),
  /** Regions sampled together in one batch at most. */
  maxBatch: z.number().int().min(1).max(64).default(4),
  /**
   * Activation memory the sampling may use, MiB. The batch size is the number of regions whose
   * estimated working set ({@link estimateRegionMiB}) fits; a single region that does not fit is
   * refused with ERR_OOM before anything is allocated.
   */
  memoryBudgetMiB: z.number().int().min(64).max(1 << 20).default(8192),
  /** scheduler_config.json contents; default the pipeline's scheduler, else SD2-inpainting's. */
  schedulerConfig: z.record(z.string(), z.unknown()).optional(),
  /**
   * The read-back check when the page is verified (the default): each replacement must read back
   * as its text (see src/inference/read-back.ts); `onUnreadable` says what happens when not.
   */
  readBack: ReadBackSchema.default(ReadBackSchema.parse({})),
});
export type DiffuteEngineOptions = z.input<typeof DiffuteEngineOptionsSchema>;

export interface DiffuteModels {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  glyphEncoder: GlyphEncoder;
  /** The projection trained with the UNet (hidden_size -> cross_attention_dim), when it has one. */
  glyphProjection?: GlyphProjection;
}

/**
 * Working set of one region's sampling loop beyond the weights, MiB: measured peak of SD2 at 512 px
 * (VAE decode dominates: ~2 GiB in float32), scaled with the pixel count and the model's bytes per
 * element, and with the UNet width for smaller models.
 */
export function estimateRegionMiB(resolution: number, bytesPerElement: number, unetWidth: number, aspect = 1): number {
  return Math.ceil(2048 * (resolution / 512) ** 2 * aspect * (bytesPerElement / 4) * Math.max(0.05, unetWidth / 320));
}

/** How far a redo's seed moves (a prime far past any region count: redos never reuse a region's seed). */
const RETRY_SEED_STRIDE = 1000003;

interface Job {
  region: ValidatedRegion;
  crop: Rect;
  /** The area pasted back (mask rect grown by the feather), page coordinates. */
  pasted: Rect;
  mask: Rect;
  seed: number;
  /** The original's matched style; the glyph image is drawn in its face. */
  style: RegionStyle;
}

/** The face a job's glyph image is drawn in: the matched face, or the closest one with the replacement's characters. */
const glyphFace = (j: Job): BundledFontName => replacementFace(j.region.replacement, j.style);

/** Copies the RGB channels of `rect` out of an interleaved image. */
function extractRgb(img: DecodedImage, r: Rect): Buffer {
  const w = r.x1 - r.x0;
  const h = r.y1 - r.y0;
  const out = Buffer.alloc(w * h * 3);
  const c = img.channels;
  for (let y = 0; y < h; y++) {
    const row = ((r.y0 + y) * img.width + r.x0) * c;
    if (c === 3) {
      out.set(img.data.subarray(row, row + w * 3), y * w * 3);
    } else {
      for (let x = 0; x < w; x++) {
        out[(y * w + x) * 3] = img.data[row + x * 4];
        out[(y * w + x) * 3 + 1] = img.data[row + x * 4 + 1];
        out[(y * w + x) * 3 + 2] = img.data[row + x * 4 + 2];
      }
    }
  }
  return out;
}

/** The resolution diffusers' pipelines default to: the UNet's sample_size (latent side) x the VAE factor. */
export function modelResolution(unetSampleSize: number | number[] | null | undefined, vaeFactor: number): number {
  const side = Array.isArray(unetSampleSize) ? unetSampleSize[0] : unetSampleSize;
  return typeof side === 'number' && side > 0 ? side * vaeFactor : 512;
}

export class DiffuteEngine implements Engine {
  readonly name = 'diffute';
  get readBack(): ReadBackOptions | undefined {
    return this.options.readBack.enabled ? this.options.readBack : undefined;
  }
  readonly options: Readonly<z.output<typeof DiffuteEngineOptionsSchema> & { resolution: number; aspect: number; minCropSide: number; maskedFill: number; guidanceScale: number }>;
  /** The sampler: the options' scheduler config, else the pipeline's scheduler, else SD2's, of the options' class. */
  private readonly scheduler: NoiseScheduler;

  /**
   * Runs on a DiffUTE pipeline (its settings are the defaults of `maskedFill` and `resolution`,
   * its scheduler the sampler's config) or on models given one by one. The engine does not own the
   * models: whoever made them disposes them.
   */
  constructor(
    private readonly models: DiffuteModels | DiffutePipeline,
    options: DiffuteEngineOptions = {},
  ) {
    const parsed = parseConfig(DiffuteEngineOptionsSchema, options, 'diffute engine options');
    const pipeline = models instanceof DiffutePipeline ? models : undefined;
    const f = models.vae.downsampleFactor;
    this.options = {
      ...parsed,
      resolution: parsed.resolution ?? pipeline?.settings.resolution ?? modelResolution(models.unet.config.sample_size, f),
      aspect: parsed.aspect ?? pipeline?.settings.aspect ?? 1,
      minCropSide: parsed.minCropSide ?? pipeline?.settings.minCropSide ?? 128,
      guidanceScale: parsed.guidanceScale ?? pipeline?.settings.guidanceScale ?? 1,
      maskedFill: parsed.maskedFill ?? pipeline?.settings.maskedFill ?? MASKED_FILL.diffute,
    };
    if (this.options.resolution % f !== 0) {
      throw new DocAnonError(ErrorCode.CONFIG, `resolution ${this.options.resolution} must be a multiple of the VAE factor ${f}`);
    }
    const ctx = models.unet.config.cross_attention_dim;
    const dim = Array.isArray(ctx) ? ctx[0] : ctx;
    const hidden = models.glyphEncoder.config.hidden_size;
    const proj = models.glyphProjection?.config;
    if (proj && (proj.in_features !== hidden || (dim !== undefined && proj.out_features !== dim))) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `the glyph projection maps ${proj.in_features} -> ${proj.out_features}, but the glyph encoder gives ${hidden} and the UNet's cross_attention_dim is ${dim}: use the projection trained with this UNet`,
      );
    }
    if (!proj && dim !== undefined && dim !== hidden) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `the glyph encoder's hidden size ${hidden} differs from the UNet's cross_attention_dim ${dim}: use TrOCR-large with SD2, or the glyph projection trained with this UNet (models.glyphProjection)`,
      );
    }
    // Last: it is the one thing the engine owns (ERR_CONFIG for an unknown sampler or a bad config).
    this.scheduler = parsed.schedulerConfig
      ? NoiseScheduler.fromConfig(parsed.schedulerConfig, parsed.sampler)
      : (pipeline?.scheduler.withSampler(parsed.sampler) ?? NoiseScheduler.fromConfig(SD2_SCHEDULER_CONFIG, parsed.sampler));
  }

  /** Regions per batch allowed by the memory budget (ERR_OOM when not even one fits). */
  batchLimit(): number {
    const o = this.options;
    const p = this.models.unet.parameters().find((x) => x.name === 'conv_in.weight');
    const bytes = p?.dtype === 'float32' ? 4 : 2;
    const width = this.models.unet.config.block_out_channels?.[0] ?? 320;
    const per = estimateRegionMiB(o.resolution, bytes, width, o.aspect);
    if (per > o.memoryBudgetMiB) {
      throw new DocAnonError(
        ErrorCode.OOM,
        `one region at resolution ${o.resolution} needs about ${per} MiB, more than memoryBudgetMiB ${o.memoryBudgetMiB}: raise the budget or lower the resolution`,
      );
    }
    return Math.max(1, Math.min(o.maxBatch, Math.floor(o.memoryBudgetMiB / per)));
  }

  /** Groups regions so that no crop in a batch overlaps another region's pasted area (later batches see earlier pastes). */
  private plan(image: DecodedImage, regions: readonly ValidatedRegion[], attempt: number): Job[][] {
    const o = this.options;
    const limit = this.batchLimit();
    const jobs: Job[] = regions.map((region) => {
      const mask = maskRect(region.rect, image);
      const crop = adaptiveCrop(region.rect, image, o.minCropSide, o.aspect);
      const pasted = expandRect(mask, { width: crop.x1, height: crop.y1 }, o.feather);
      const clippedPasted = { x0: Math.max(pasted.x0, crop.x0), y0: Math.max(pasted.y0, crop.y0), x1: pasted.x1, y1: pasted.y1 };
      return { region, crop, mask, pasted: clippedPasted, seed: o.seed + region.index + attempt * RETRY_SEED_STRIDE, style: matchRegionStyle(image, region.rect, region.original) };
    });
    const batches: Job[][] = [];
    let pending = jobs;
    while (pending.length) {
      const batch: Job[] = [];
      const rest: Job[] = [];
      for (const j of pending) {
        // One glyph face per batch (the glyph encoder renders a batch in one face).
        const clash = batch.some((b) => rectsOverlap(b.pasted, j.crop) || rectsOverlap(j.pasted, b.crop) || glyphFace(b) !== glyphFace(j));
        if (!clash && batch.length < limit) batch.push(j);
        else rest.push(j);
      }
      batches.push(batch);
      pending = rest;
    }
    return batches;
  }

  async anonymize(image: DecodedImage, regions: readonly ValidatedRegion[], options: EngineRunOptions = {}): Promise<EngineResult> {
    const o = this.options;
    const R = o.resolution;
    const W = R * o.aspect;
    const out: DecodedImage = { ...image, data: new Uint8Array(image.data) };
    const reports: RegionReport[] = [];
    let done = 0;
    for (const batch of this.plan(image, regions, options.attempt ?? 0)) {
      throwIfAborted(options.signal);
      const t0 = performance.now();
      const B = batch.length;
      // Crops from the current output, scaled to W x R (the crop's own aspect ignored, as DiffUTE).
      const pixels = new Uint8Array(B * R * W * 3);
      const masks = new Float32Array(B * R * W);
      for (let b = 0; b < B; b++) {
        const { crop, mask } = batch[b];
        const cw = crop.x1 - crop.x0;
        const ch = crop.y1 - crop.y0;
        const scaled = await sharp(extractRgb(out, crop), { raw: { width: cw, height: ch, channels: 3 } })
          .resize(W, R, { fit: 'fill', kernel: 'cubic' })
          .raw()
          .toBuffer();
        pixels.set(scaled, b * R * W * 3);
        // The mask rect in model coordinates (outward rounding so the whole box is repainted).
        const mx0 = Math.floor(((mask.x0 - crop.x0) * W) / cw);
        const mx1 = Math.ceil(((mask.x1 - crop.x0) * W) / cw);
        const my0 = Math.floor(((mask.y0 - crop.y0) * R) / ch);
        const my1 = Math.ceil(((mask.y1 - crop.y0) * R) / ch);
        for (let y = Math.max(0, my0); y < Math.min(R, my1); y++) masks.fill(1, b * R * W + y * W + Math.max(0, mx0), b * R * W + y * W + Math.min(W, mx1));
      }
      // Native memory is freed here, on success and on abort or error alike, not left to finalizers.
      const temps: Tensor[] = [];
      const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
      let u8: Uint8Array;
      try {
        const imageT = keep(await keep(Tensor.from(pixels, [B, R, W, 3], 'uint8')).imageToFloat());
        const maskT = keep(Tensor.from(masks, [B, 1, R, W]));
        const context = keep(await this.glyphContext(batch.map((j) => j.region.replacement), glyphFace(batch[0])));
        // Glyph-aligned conditioning (a UNet with glyph input channels): each replacement drawn into its box.
        const glyphJobs = batch.map((j) => ({ text: j.region.replacement, crop: j.crop, mask: j.mask, font: glyphFace(j) }));
        const glyphImage = await conditioningGlyphImage(this.models.unet, this.models.vae, glyphJobs, W, R);
        if (glyphImage) keep(glyphImage);
        // One loop per batch; per-region seeds make a region's result independent of its batch mates
        // only when maxBatch is 1, so the seed of a batch is its first region's (documented).
        const result = await inpaintLoop({
          unet: this.models.unet,
          vae: this.models.vae,
          scheduler: this.scheduler,
          image: imageT,
          mask: maskT,
          encoderHiddenStates: context,
          glyphImage,
          // The unconditional input is what conditioning dropout trains on: an all-zero context.
          negativeEncoderHiddenStates: o.guidanceScale > 1 ? keep(Tensor.zeros(context.shape)) : undefined,
          steps: o.steps,
          guidanceScale: o.guidanceScale,
          maskedFill: o.maskedFill,
          seed: batch[0].seed,
          signal: options.signal,
          onProgress: (step, total) => options.onProgress?.({ done, total: regions.length, stage: `sampling ${step}/${total}` }),
        });
        temps.push(result.finalLatents, result.imageDecoded, result.image);
        u8 = keep(await result.image.floatToImage()).dataSync<'uint8'>();
      } finally {
        for (const t of temps) t.dispose();
      }
      for (let b = 0; b < B; b++) {
        const j = batch[b];
        const cw = j.crop.x1 - j.crop.x0;
        const ch = j.crop.y1 - j.crop.y0;
        const back = await sharp(Buffer.from(u8.subarray(b * R * W * 3, (b + 1) * R * W * 3)), { raw: { width: W, height: R, channels: 3 } })
          .resize(cw, ch, { fit: 'fill', kernel: 'cubic' })
          .raw()
          .toBuffer();
        // Patch = the pasted rect, taken from the generated crop; alpha (if any) kept from the page.
        const pw = j.pasted.x1 - j.pasted.x0;
        const ph = j.pasted.y1 - j.pasted.y0;
        const c = out.channels;
        const patch = new Uint8Array(pw * ph * c);
        let changed = 0;
        for (let y = 0; y < ph; y++) {
          for (let x = 0; x < pw; x++) {
            const src = ((j.pasted.y0 - j.crop.y0 + y) * cw + (j.pasted.x0 - j.crop.x0 + x)) * 3;
            const dst = (y * pw + x) * c;
            const page = ((j.pasted.y0 + y) * out.width + j.pasted.x0 + x) * c;
            for (let k = 0; k < 3; k++) {
              patch[dst + k] = back[src + k];
              if (back[src + k] !== out.data[page + k]) changed++;
            }
            if (c === 4) patch[dst + 3] = out.data[page + 3];
          }
        }
        pasteFeathered(out, patch, j.pasted, o.feather);
        done++;
        // Verification: the generated area must differ from the input; an unchanged box would
        // mean the original text survived.
        const changedFraction = changed / Math.max(1, pw * ph * 3);
        if (changedFraction === 0) {
          throw new DocAnonError(ErrorCode.VERIFY, `region ${j.region.index}: the generated patch equals the input; refusing to report it as anonymized`);
        }
        reports.push({
          index: j.region.index,
          engine: this.name,
          box: { ...j.region.rect },
          pasted: { ...j.pasted },
          timeMs: (performance.now() - t0) / B,
          details: { crop: { ...j.crop }, resolution: R, sampler: o.sampler, steps: o.steps, seed: j.seed, batchSize: B, changedFraction, style: { ...styleReport(j.style, -1), font: glyphFace(j) } },
        });
        options.onProgress?.({ done, total: regions.length, region: j.region.index, stage: 'pasted' });
      }
    }
    reports.sort((a, b) => a.index - b.index);
    return { image: out, reports };
  }

  /** encoder_hidden_states for the replacements: glyph encoder, then the projection when there is one. */
  private async glyphContext(texts: string[], font: BundledFontName): Promise<Tensor> {
    const hidden = await this.models.glyphEncoder.encodeTexts(texts, { font });
    if (!this.models.glyphProjection) return hidden;
    try {
      return await this.models.glyphProjection.forward(hidden);
    } finally {
      hidden.dispose();
    }
  }

  /** Frees the engine's sampler; the models are not the engine's (the Anonymizer disposes them). */
  dispose(): void {
    this.scheduler.dispose();
  }
}
