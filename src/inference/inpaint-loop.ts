/**
 * The inpainting sampling loop as one native call (diffusers' StableDiffusionInpaintPipeline
 * computation, with DiffUTE's masked-image fill): progress per step, AbortSignal between steps.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import { SCHEDULER_CLASSES, type SamplerName } from '../models/scheduler';
import type { UNet2DConditionModel } from '../models/unet-2d-condition';
import { native } from '../native/loader';
import type { NativeInpaintResult } from '../native/types';

/** The masked image's hole value in [-1, 1] space: DiffUTE fills with black (-1), diffusers with 0. */
export const MASKED_FILL = { diffute: -1, diffusers: 0 } as const;

export interface InpaintLoopOptions {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  /** scheduler_config.json contents (object or raw text). */
  schedulerConfig: Record<string, unknown> | string;
  /** Sampler class; default: the config's `_class_name`. */
  sampler?: SamplerName | string;
  /** [B, 3, H, W] in [0, 1]. */
  image: Tensor;
  /** [B, 1, H, W] in [0, 1]; >= 0.5 is repainted. */
  mask: Tensor;
  /** [B or 1, S, D] conditioning (DiffUTE: the glyph encoder's last_hidden_state). */
  encoderHiddenStates: Tensor;
  /** Unconditional conditioning for classifier-free guidance (needed when guidanceScale > 1). */
  negativeEncoderHiddenStates?: Tensor;
  steps?: number;
  guidanceScale?: number;
  /** Default: DiffUTE's -1 (black). Use 0 for weights trained with diffusers' pipeline. */
  maskedFill?: number;
  eta?: number;
  seed?: number;
  /** Initial latents (otherwise drawn from the seed, as diffusers does). */
  latents?: Tensor;
  keepIntermediates?: boolean;
  signal?: AbortSignal;
  onProgress?: (step: number, total: number) => void;
}

export interface InpaintLoopResult {
  finalLatents: Tensor;
  imageDecoded: Tensor;
  /** (decoded * 0.5 + 0.5) clamped to [0, 1]. */
  image: Tensor;
  maskLatent?: Tensor;
  maskedImageLatents?: Tensor;
  posteriorEps?: Tensor;
  maskedImage?: Tensor;
  timesteps?: Tensor;
  steps: Array<{ unetInput: Tensor; unetOutput: Tensor; latents: Tensor }>;
}

function wrap(r: NativeInpaintResult): InpaintLoopResult {
  const t = (h: NativeInpaintResult[keyof NativeInpaintResult]): Tensor | undefined =>
    h && !Array.isArray(h) ? new Tensor(h as NonNullable<NativeInpaintResult['image']>) : undefined;
  return {
    finalLatents: new Tensor(r.finalLatents),
    imageDecoded: new Tensor(r.imageDecoded),
    image: new Tensor(r.image),
    maskLatent: t(r.maskLatent),
    maskedImageLatents: t(r.maskedImageLatents),
    posteriorEps: t(r.posteriorEps),
    maskedImage: t(r.maskedImage),
    timesteps: t(r.timesteps),
    steps: r.steps.map((s) => ({ unetInput: new Tensor(s.unetInput), unetOutput: new Tensor(s.unetOutput), latents: new Tensor(s.latents) })),
  };
}

/** Runs the whole loop natively. Rejects with ERR_ABORTED when `signal` fires (checked between steps). */
export async function inpaintLoop(o: InpaintLoopOptions): Promise<InpaintLoopResult> {
  if (o.signal?.aborted) throw new DocAnonError(ErrorCode.ABORTED, 'aborted before sampling started');
  const cls = o.sampler ? ((SCHEDULER_CLASSES as Record<string, string>)[o.sampler] ?? o.sampler) : '';
  const config = typeof o.schedulerConfig === 'string' ? o.schedulerConfig : JSON.stringify(o.schedulerConfig);
  const token = native().createAbortToken();
  const onAbort = (): void => token.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Both models are busy for the whole loop: queue behind their other calls.
    const run = (): Promise<NativeInpaintResult> =>
      native().inpaint(
        o.unet.handle,
        o.vae.handle,
        config,
        cls,
        {
          image: o.image.handle,
          mask: o.mask.handle,
          encoderHiddenStates: o.encoderHiddenStates.handle,
          negativeEncoderHiddenStates: o.negativeEncoderHiddenStates?.handle,
          latents: o.latents?.handle,
          steps: o.steps ?? 50,
          guidanceScale: o.guidanceScale ?? 1,
          maskedFill: o.maskedFill ?? MASKED_FILL.diffute,
          eta: o.eta ?? 0,
          seed: o.seed ?? 0,
          keepIntermediates: o.keepIntermediates ?? false,
        },
        o.onProgress,
        token,
      );
    return wrap(await o.unet.runExclusive(() => o.vae.runExclusive(run)));
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
