/**
 * DiffUTE UNet training: frozen VAE and glyph encoder, one OCR line per example (see
 * data/unet-examples.ts), DDPM noising at uniform timesteps, epsilon or v targets, optional
 * conditioning dropout (native/src/train/unet_loss.h).
 */
import * as path from 'node:path';
import { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import { preprocessTrocr, type GlyphEncoder } from '../models/glyph-encoder';
import { SD2_SCHEDULER_CONFIG } from '../models/scheduler';
import type { UNet2DConditionModel } from '../models/unet-2d-condition';
import { renderGlyph } from '../render/glyph';
import { BaseTrainer, createNativeTrainer, type TrainerBuildOptions } from './base-trainer';
import type { UnetTrainConfig } from './config';
import type { PageSource } from './data/pages';
import { unetExample } from './data/unet-examples';
import { buildGlyphEncoder, buildUnet, buildVae } from './model-source';
import type { NativeTrainer, StepControl, StepResult } from './native-trainer';
import type { ProcessGroup } from './distributed';
import { pageSource } from './vae-trainer';

/** A prepared micro-batch (plain JS memory until the step, so prefetching holds no native tensors). */
export interface UnetMicro {
  images: Uint8Array; // [B, R, R, 3]
  boxes: Float32Array; // [B, 4]
  glyphs: Float32Array; // [B, 3, S, S]
  texts: string[];
  batch: number;
}

export class UnetTrainer extends BaseTrainer<UnetMicro> {
  readonly kind = 'unet' as const;
  private readonly pages: PageSource;

  private constructor(
    config: UnetTrainConfig,
    trainer: NativeTrainer,
    readonly unet: UNet2DConditionModel,
    private readonly vae: AutoencoderKL,
    private readonly glyph: GlyphEncoder,
    group?: ProcessGroup,
  ) {
    super(config, trainer, unet, config.train.max_steps, group?.env);
    this.pages = pageSource(config.data);
  }

  get unetConfig(): UnetTrainConfig {
    return this.config as UnetTrainConfig;
  }

  static async create(config: UnetTrainConfig, options: TrainerBuildOptions = {}): Promise<UnetTrainer> {
    const device = options.device ?? config.train.device;
    const source = options.resumeFrom ? { pretrained: path.join(options.resumeFrom, 'model'), seed: 0 } : config.model;
    const unet = await buildUnet(source, device);
    const vae = await buildVae(config.vae, device);
    const glyph = await buildGlyphEncoder(config.glyph_encoder, device);
    try {
      unet.setRequiresGrad(true);
      vae.setRequiresGrad(false);
      glyph.setRequiresGrad(false);
      const nt = await createNativeTrainer(unet, config, options);
      const t = new UnetTrainer(config, nt, unet, vae, glyph, options.processGroup);
      if (options.resumeFrom) await t.restoreState(options.resumeFrom);
      return t;
    } catch (e) {
      unet.dispose();
      vae.dispose();
      glyph.dispose();
      throw e;
    }
  }

  protected async loadMicro(index: number): Promise<UnetMicro> {
    const c = this.unetConfig;
    const B = c.train.batch_size;
    const R = c.data.resolution;
    const S = this.glyph.config.image_size;
    const images = new Uint8Array(B * R * R * 3);
    const boxes = new Float32Array(B * 4);
    const glyphs = new Float32Array(B * 3 * S * S);
    const texts: string[] = [];
    for (let b = 0; b < B; b++) {
      const ex = await unetExample(
        this.pages,
        {
          seed: c.data.seed,
          resolution: R,
          cropSize: c.data.crop_size,
          minScore: c.data.min_score,
          boxExtend: c.data.box_extend,
          examplesPerPage: c.data.examples_per_page,
        },
        this.exampleIndex(index * B + b),
      );
      images.set(ex.image, b * R * R * 3);
      boxes.set(ex.box, b * 4);
      // Each glyph is preprocessed alone (widths differ), exactly as GlyphEncoder.encodeTexts does at inference.
      const g = renderGlyph(ex.text);
      const pv = (await preprocessTrocr([{ data: g.data, width: g.width, height: g.height }], S)).pixelValues;
      glyphs.set(await pv.data<'float32'>(), b * 3 * S * S);
      pv.dispose();
      texts.push(ex.text);
    }
    return { images, boxes, glyphs, texts, batch: B };
  }

  protected async nativeStep(micro: UnetMicro[], control: StepControl): Promise<StepResult> {
    const c = this.unetConfig;
    const R = c.data.resolution;
    const S = this.glyph.config.image_size;
    const owned: Tensor[] = [];
    const mk = (t: Tensor): Tensor => (owned.push(t), t);
    try {
      const batches = micro.map((m) => ({
        image: mk(Tensor.from(m.images, [m.batch, R, R, 3], 'uint8')),
        boxes: mk(Tensor.from(m.boxes, [m.batch, 4])),
        glyphPixels: mk(Tensor.from(m.glyphs, [m.batch, 3, S, S])),
      }));
      return await this.trainer.unetStep(this.vae, this.glyph, { ...SD2_SCHEDULER_CONFIG, ...(c.scheduler ?? {}), prediction_type: c.loss.prediction }, {
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

  protected disposeMicro(): void {}

  protected disposeOthers(): void {
    this.vae.dispose();
    this.glyph.dispose();
  }
}
