/**
 * VAE fine-tuning / training: loss = recon + beta * KL + lambda * LPIPS with the latent-diffusion
 * reductions (native/src/train/vae_loss.h), on random native-resolution crops of pages.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import type { Lpips } from '../models/lpips';
import { BaseTrainer, createNativeTrainer, trainedModelSource, type TrainerBuildOptions } from './base-trainer';
import type { VaeTrainConfig } from './config';
import { openPageSource, type PageSource } from './data/pages';
import { vaeBatch, type VaeBatch } from './data/vae-examples';
import type { ProcessGroup } from './distributed';
import { buildLpips, buildVae } from './model-source';
import type { NativeTrainer, StepControl, StepResult } from './native-trainer';
import type { NativeModel } from '../models/native-model';
import type { MetricsSink } from '../tracking/run-metrics';
import { evaluateDuringTraining } from './evaluation';

export class VaeTrainer extends BaseTrainer<VaeBatch> {
  readonly kind = 'vae' as const;

  private constructor(
    config: VaeTrainConfig,
    trainer: NativeTrainer,
    readonly vae: AutoencoderKL,
    private readonly lpips: Lpips | null,
    pages: PageSource,
    group?: ProcessGroup,
  ) {
    super(config, trainer, vae, config.train.max_steps, pages, group);
  }

  get vaeConfig(): VaeTrainConfig {
    return this.config as VaeTrainConfig;
  }

  static async create(config: VaeTrainConfig, options: TrainerBuildOptions = {}): Promise<VaeTrainer> {
    const device = options.device ?? config.train.device;
    // The data first: a missing dataset fails before the weights load.
    const pages = await openPageSource(config.data);
    const vae = await buildVae(trainedModelSource('vae', config.model, options), device);
    let lpips: Lpips | null = null;
    try {
      vae.setRequiresGrad(true);
      if (config.trainable === 'decoder') {
        vae.setRequiresGrad(false, 'encoder.');
        vae.setRequiresGrad(false, 'quant_conv.');
      } else if (config.trainable === 'frozen_encoder') {
        vae.setRequiresGrad(false, 'encoder.');
      }
      if (config.loss.lpips_weight > 0) {
        if (!config.lpips) throw new DocAnonError(ErrorCode.CONFIG, 'loss.lpips_weight > 0 needs lpips.backbone');
        lpips = await buildLpips(config.lpips.backbone, config.lpips.heads, device);
      }
      const nt = await createNativeTrainer(vae, config, options);
      const t = new VaeTrainer(config, nt, vae, lpips, pages, options.processGroup);
      if (options.resumeFrom) await t.restoreState(options.resumeFrom);
      return t;
    } catch (e) {
      vae.dispose();
      lpips?.dispose();
      throw e;
    }
  }

  protected loadMicro(index: number): Promise<VaeBatch> {
    const c = this.vaeConfig;
    const b = c.train.batch_size;
    return vaeBatch(this.pages, { seed: c.data.seed, cropSize: c.data.crop_size, examplesPerPage: c.data.examples_per_page, augment: c.data.augment, cropAt: c.data.crop_at }, index * b, b, (i) => this.exampleIndex(i));
  }

  protected async nativeStep(micro: VaeBatch[], control: StepControl): Promise<StepResult> {
    const c = this.vaeConfig;
    const tensors = micro.map((m) => Tensor.from(m.images, m.shape, 'uint8'));
    try {
      return await this.trainer.vaeStep(this.lpips, {
        ...control,
        micro: tensors,
        recon: c.loss.recon,
        klWeight: c.loss.kl_weight,
        lpipsWeight: c.loss.lpips_weight,
        samplePosterior: c.loss.sample_posterior,
      });
    } finally {
      for (const t of tensors) t.dispose();
    }
  }

  /** Reconstructions of held-out crops of data.crop_size (LPIPS when the loss has it). */
  protected async evaluateModel(
    model: NativeModel,
    o: { step: number; runDir: string; metrics?: MetricsSink; pages: PageSource; config: NonNullable<VaeTrainConfig['eval']> },
  ): Promise<Record<string, number>> {
    const r = await evaluateDuringTraining({
      step: o.step,
      target: { kind: 'vae', vae: model as AutoencoderKL, cropSize: this.vaeConfig.data.crop_size },
      pages: o.pages,
      config: o.config,
      runDir: o.runDir,
      metrics: o.metrics,
      lpips: this.lpips,
    });
    return r.metrics;
  }

  protected disposeMicro(): void {}

  protected disposeOthers(): void {
    this.lpips?.dispose();
  }
}

export type { TrainerBuildOptions } from './base-trainer';
