/**
 * DiffUTE UNet training: frozen VAE and glyph encoder, one OCR line per example (see
 * data/unet-examples.ts), DDPM noising at uniform timesteps, epsilon or v targets, optional
 * conditioning dropout (native/src/train/unet_loss.h), and an optional glyph projection trained
 * with the UNet when the encoder's width differs from the UNet's cross_attention_dim.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import type { GlyphEncoder } from '../models/glyph-encoder';
import { GlyphProjection } from '../models/glyph-projection';
import { SCHEDULER_FILE, writeModelIndex } from '../models/diffute-pipeline';
import { unetInChannels } from '../models/glyph-conditioning';
import { NoiseScheduler, SD2_SCHEDULER_CONFIG } from '../models/scheduler';
import type { UNet2DConditionModel } from '../models/unet-2d-condition';
import { BaseTrainer, createNativeTrainer, trainedModelSource, type TrainerBuildOptions } from './base-trainer';
import type { UnetTrainConfig } from './config';
import { openPageSource, type PageSource } from './data/pages';
import { unetBatch, type UnetMicro } from './data/unet-examples';
import { buildGlyphEncoder, buildUnet, buildVae, type ModelSource } from './model-source';
import type { NativeTrainer, StepControl, StepResult } from './native-trainer';
import { TesseractOcr } from '../detect/ocr/tesseract';
import type { NativeModel } from '../models/native-model';
import type { MetricsSink } from '../tracking/run-metrics';
import { evaluateDuringTraining } from './evaluation';
import type { ProcessGroup } from './distributed';

/** Checkpoint folders of the trained glyph projection and its EMA. */
export const GLYPH_PROJECTION_DIR = 'glyph_projection';
export const EMA_GLYPH_PROJECTION_DIR = 'ema_glyph_projection';

function crossAttentionDim(unet: UNet2DConditionModel): number {
  const c = unet.config.cross_attention_dim;
  return Array.isArray(c) ? c[0] : (c ?? 1024);
}

/**
 * The projection a config asks for: from the checkpoint being resumed, a pretrained folder, or new
 * from its seed; none when the config has none (then the widths must match).
 */
async function buildProjection(
  config: UnetTrainConfig,
  glyph: GlyphEncoder,
  unet: UNet2DConditionModel,
  device: string,
  resumeFrom?: string,
): Promise<GlyphProjection | undefined> {
  const hidden = glyph.config.hidden_size;
  const cross = crossAttentionDim(unet);
  const p = config.glyph_projection;
  const saved = resumeFrom ? path.join(resumeFrom, GLYPH_PROJECTION_DIR) : undefined;
  if (saved && fs.existsSync(saved) !== (p !== undefined)) {
    throw new DocAnonError(
      ErrorCode.CONFIG,
      p ? `checkpoint ${resumeFrom} has no ${GLYPH_PROJECTION_DIR}/ but the config trains one` : `checkpoint ${resumeFrom} has a ${GLYPH_PROJECTION_DIR}/ but the config has no glyph_projection`,
    );
  }
  if (!p) {
    if (hidden !== cross) {
      throw new DocAnonError(
        ErrorCode.CONFIG,
        `the glyph encoder's hidden_size ${hidden} differs from the UNet's cross_attention_dim ${cross}: add glyph_projection: {} to the config (a trainable ${hidden} -> ${cross} projection) or use an encoder of width ${cross}`,
      );
    }
    return undefined;
  }
  const from = saved ?? p.pretrained;
  const proj = from
    ? await GlyphProjection.fromPretrained(from, { device, dtype: 'float32' })
    : await GlyphProjection.fromConfig({ in_features: hidden, out_features: cross }, { device, dtype: 'float32', seed: p.seed ?? 0 });
  if (proj.config.in_features !== hidden || proj.config.out_features !== cross) {
    proj.dispose();
    throw new DocAnonError(
      ErrorCode.CONFIG,
      `the glyph projection ${from} maps ${proj.config.in_features} -> ${proj.config.out_features}, but the encoder gives ${hidden} and the UNet takes ${cross}`,
    );
  }
  proj.setRequiresGrad(true);
  return proj;
}

export class UnetTrainer extends BaseTrainer<UnetMicro> {
  readonly kind = 'unet' as const;

  private constructor(
    config: UnetTrainConfig,
    trainer: NativeTrainer,
    readonly unet: UNet2DConditionModel,
    private readonly vae: AutoencoderKL,
    private readonly glyph: GlyphEncoder,
    /** The glyph projection trained with the UNet, when the config has one. */
    readonly glyphProjection: GlyphProjection | undefined,
    /** The DDPM noise schedule of the training (the config's scheduler and prediction type). */
    private readonly scheduler: NoiseScheduler,
    pages: PageSource,
    group?: ProcessGroup,
  ) {
    super(config, trainer, unet, config.train.max_steps, pages, group);
  }

  get unetConfig(): UnetTrainConfig {
    return this.config as UnetTrainConfig;
  }

  static async create(config: UnetTrainConfig, options: TrainerBuildOptions = {}): Promise<UnetTrainer> {
    const device = options.device ?? config.train.device;
    // The data first: a missing dataset fails before gigabytes of weights load.
    const pages = await openPageSource(config.data);
    // The noise schedule the steps sample timesteps from (a bad config fails before weights load).
    const scheduler = NoiseScheduler.fromConfig({ ...SD2_SCHEDULER_CONFIG, ...(config.scheduler ?? {}), prediction_type: config.loss.prediction }, 'ddpm');
    let unet: UNet2DConditionModel | undefined;
    let vae: AutoencoderKL | undefined;
    let glyph: GlyphEncoder | undefined;
    let projection: GlyphProjection | undefined;
    try {
      vae = await buildVae(config.vae, device);
      const inChannels = unetInChannels(config.glyph_aligned, vae.config.latent_channels);
      unet = await buildUnet(trainedModelSource('unet', config.model, options), device, inChannels);
      glyph = await buildGlyphEncoder(config.glyph_encoder, device);
      unet.setRequiresGrad(true);
      vae.setRequiresGrad(false);
      glyph.setRequiresGrad(false);
      projection = await buildProjection(config, glyph, unet, device, options.resumeFrom);
      const nt = await createNativeTrainer(unet, config, options, projection);
      const t = new UnetTrainer(config, nt, unet, vae, glyph, projection, scheduler, pages, options.processGroup);
      if (options.resumeFrom) await t.restoreState(options.resumeFrom);
      return t;
    } catch (e) {
      unet?.dispose();
      vae?.dispose();
      glyph?.dispose();
      projection?.dispose();
      scheduler.dispose();
      throw e;
    }
  }

  protected loadMicro(index: number): Promise<UnetMicro> {
    const c = this.unetConfig;
    return unetBatch(
      this.pages,
      {
        seed: c.data.seed,
        resolution: c.data.resolution,
        aspect: c.data.aspect,
        cropSize: c.data.crop_size,
        minScore: c.data.min_score,
        boxExtend: c.data.box_extend,
        examplesPerPage: c.data.examples_per_page,
        glyphSize: this.glyph.config.image_size,
        alignedGlyphs: c.glyph_aligned !== 'none',
      },
      index * c.train.batch_size,
      c.train.batch_size,
      (i) => this.exampleIndex(i),
    );
  }

  protected async nativeStep(micro: UnetMicro[], control: StepControl): Promise<StepResult> {
    const c = this.unetConfig;
    const R = c.data.resolution;
    const W = R * c.data.aspect;
    const S = this.glyph.config.image_size;
    const owned: Tensor[] = [];
    const mk = (t: Tensor): Tensor => (owned.push(t), t);
    try {
      const batches = micro.map((m) => ({
        image: mk(Tensor.from(m.images, [m.batch, R, W, 3], 'uint8')),
        boxes: mk(Tensor.from(m.boxes, [m.batch, 4])),
        glyphPixels: mk(Tensor.from(m.glyphs, [m.batch, 3, S, S])),
        ...(m.alignedGlyphs ? { glyphImage: mk(Tensor.from(m.alignedGlyphs, [m.batch, R, W, 3], 'uint8')) } : {}),
      }));
      return await this.trainer.unetStep(this.vae, this.glyph, this.scheduler, {
        ...control,
        micro: batches,
        prediction: c.loss.prediction,
        condDropout: c.loss.cond_dropout,
        maskedFill: c.loss.masked_fill,
        gradientCheckpointing: c.gradient_checkpointing,
      });
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** The OCR of the evaluations (started on the first one, one worker). */
  private ocr: TesseractOcr | undefined;

  /**
   * DiffUTE's measure on held-out lines: erase, inpaint the line's own text at data.resolution with
   * the trained UNet (and the frozen VAE and glyph encoder, and the glyph projection: its EMA when
   * EMA is on), read back.
   */
  protected async evaluateModel(
    model: NativeModel,
    o: { step: number; runDir: string; metrics?: MetricsSink; pages: PageSource; config: NonNullable<UnetTrainConfig['eval']> },
  ): Promise<Record<string, number>> {
    const c = this.unetConfig;
    this.ocr ??= new TesseractOcr({ workers: 1 });
    // The projection's EMA goes with the UNet's (written to a temporary folder and loaded).
    let emaProjection: GlyphProjection | undefined;
    let tmp: string | undefined;
    if (this.glyphProjection && c.ema.enabled) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-eval-ema-proj-'));
      try {
        await this.trainer.saveEma(tmp, 'glyph_projection');
        emaProjection = await GlyphProjection.fromPretrained(tmp, { device: this.weightsDevice });
      } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
    }
    try {
      return await this.evaluateWith(model, emaProjection ?? this.glyphProjection, o);
    } finally {
      emaProjection?.dispose();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  private async evaluateWith(
    model: NativeModel,
    glyphProjection: GlyphProjection | undefined,
    o: { step: number; runDir: string; metrics?: MetricsSink; pages: PageSource; config: NonNullable<UnetTrainConfig['eval']> },
  ): Promise<Record<string, number>> {
    const c = this.unetConfig;
    const ocr = this.ocr as TesseractOcr;
    const r = await evaluateDuringTraining({
      step: o.step,
      target: {
        kind: 'unet',
        models: { unet: model as UNet2DConditionModel, vae: this.vae, glyphEncoder: this.glyph, glyphProjection },
        ocr,
        maskedFill: c.loss.masked_fill,
        resolution: c.data.resolution,
        aspect: c.data.aspect,
      },
      pages: o.pages,
      config: o.config,
      runDir: o.runDir,
      metrics: o.metrics,
    });
    return r.metrics;
  }

  protected disposeMicro(): void {}

  /**
   * Makes the checkpoint a DiffUTE pipeline folder: the projection (and its EMA), the noise
   * schedule, and model_index.json with the method's settings of this run. The frozen VAE and
   * glyph encoder are named by their source (a local path made absolute, or an r2:// artifact);
   * made from a config (no source to name), they are written here.
   */
  protected override async saveAuxiliary(dir: string): Promise<void> {
    const c = this.unetConfig;
    if (this.glyphProjection) {
      await this.glyphProjection.save(path.join(dir, GLYPH_PROJECTION_DIR));
      if (this.config.ema.enabled) await this.trainer.saveEma(path.join(dir, EMA_GLYPH_PROJECTION_DIR), 'glyph_projection');
    }
    fs.mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
    fs.writeFileSync(path.join(dir, SCHEDULER_FILE), this.scheduler.configFileText());
    const sources: Partial<Record<'vae' | 'glyph_encoder', string>> = {};
    const frozen: Array<['vae' | 'glyph_encoder', ModelSource, AutoencoderKL | GlyphEncoder]> = [
      ['vae', c.vae, this.vae],
      ['glyph_encoder', c.glyph_encoder, this.glyph],
    ];
    for (const [name, src, model] of frozen) {
      if (src.pretrained) sources[name] = src.pretrained.startsWith('r2://') ? src.pretrained : path.resolve(src.pretrained);
      else await model.save(path.join(dir, name));
    }
    await writeModelIndex(dir, {
      schedulerClass: this.scheduler.className,
      glyphProjection: this.glyphProjection !== undefined,
      settings: { maskedFill: c.loss.masked_fill, resolution: c.data.resolution, aspect: c.data.aspect, ...(c.data.aspect > 1 ? { minCropSide: c.data.crop_size } : {}), guidanceScale: c.eval?.guidance_scale ?? 1, conditioning: 'glyph', glyphAligned: c.glyph_aligned },
      sources,
    });
  }

  protected disposeOthers(): void {
    void this.ocr?.close().catch(() => undefined);
    this.vae.dispose();
    this.glyph.dispose();
    this.glyphProjection?.dispose();
    this.scheduler.dispose();
  }
}
