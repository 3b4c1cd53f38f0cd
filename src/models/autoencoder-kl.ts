/**
 * AutoencoderKL (the SD2 VAE) on the native core, loading diffusers' folders strictly.
 * Images are [B, 3, H, W] in [-1, 1]; latents are unscaled (multiply by `scalingFactor` for the UNet).
 */
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { AutoencoderKLConfig, ResolvedConfig } from './config-types';
import { NativeModel, wrapAll, type NativeModelHandle } from './native-model';

export type { AutoencoderKLConfig } from './config-types';

/** The diagonal Gaussian posterior of an encoded batch. */
export interface Posterior {
  /** quant_conv output [B, 2*latent, h, w]. */
  moments: Tensor;
  mean: Tensor;
  /** Clamped to [-30, 20]. */
  logvar: Tensor;
  std: Tensor;
  var: Tensor;
  /** Per-sample KL to N(0, I): 0.5 * sum(mean^2 + var - 1 - logvar), [B]. */
  kl: Tensor;
}

/** Options of {@link AutoencoderKL.loss}. */
export interface VaeLossOptions {
  x: Tensor;
  /** Noise for the posterior sample (default: drawn from `seed`). */
  eps?: Tensor;
  seed?: number;
  /** Decode a posterior sample (default) or the mean. */
  samplePosterior?: boolean;
  /** Reconstruction term: "l1" (default, as the trainer) or "mse". */
  recon?: 'mse' | 'l1';
  /**
   * "sum_per_sample" (default, the trainer's latent-diffusion convention: summed over C,H,W per
   * sample, averaged over the batch) or "mean" (per element, as diffusers-based scripts'
   * `F.mse_loss`; for reproducing such references: with it, the same klWeight weighs the KL
   * C*H*W times more against the reconstruction).
   */
  reconReduction?: 'sum_per_sample' | 'mean';
  /** beta: weight of the batch-averaged per-sample KL (default 1e-6). */
  klWeight?: number;
  /** Accumulate gradients into the parameters. */
  backward?: boolean;
}

export interface VaeLossTerms {
  loss: Tensor;
  recon: Tensor;
  kl: Tensor;
  klMean: Tensor;
  decoded: Tensor;
  z: Tensor;
  mean: Tensor;
  logvar: Tensor;
  std: Tensor;
  var: Tensor;
  moments: Tensor;
}

export class AutoencoderKL extends NativeModel {
  static readonly kind = 'vae' as const;
  /** The model's config (as the native side holds it). */
  readonly config: ResolvedConfig<AutoencoderKLConfig>;

  /** @internal */
  constructor(handle: NativeModelHandle) {
    super(handle);
    this.config = JSON.parse(handle.config() ?? '{}') as ResolvedConfig<AutoencoderKLConfig>;
  }

  get scalingFactor(): number {
    return this.config.scaling_factor ?? 0.18215;
  }

  /** Spatial down-sampling factor (2^(levels-1)). */
  get downsampleFactor(): number {
    return 2 ** ((this.config.block_out_channels?.length ?? 1) - 1);
  }

  /** Encodes images [B, 3, H, W] in [-1, 1] to the posterior. */
  encode(x: Tensor): Promise<Posterior> {
    return this.serial(async () => wrapAll<Posterior>(await native().vaeEncode(this.handle, { x: x.handle })));
  }

  /** Decodes unscaled latents [B, latent, h, w] to images in about [-1, 1]. */
  decode(z: Tensor): Promise<Tensor> {
    return this.serial(async () => new Tensor(await native().vaeDecode(this.handle, { z: z.handle })));
  }

  /**
   * The VAE training objective's terms (recon + klWeight * KL; the trainer's own definition, LPIPS
   * aside), with optional backward.
   */
  loss(options: VaeLossOptions): Promise<VaeLossTerms> {
    const { x, eps, ...rest } = options;
    return this.serial(async () =>
      wrapAll<VaeLossTerms>(
        await native().vaeLoss(this.handle, {
          ...rest,
          x: x.handle,
          eps: eps?.handle,
        }),
      ),
    );
  }
}
