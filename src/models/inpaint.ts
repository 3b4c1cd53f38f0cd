/**
 * The inpainting sampling loop as one native call (diffusers' StableDiffusionInpaintPipeline
 * computation with DiffUTE's masked-image fill; native/src/sampling/inpaint.h): progress per step,
 * an AbortSignal checked between steps. The scheduler crosses as a handle; the loop runs on its
 * own copy, so one NoiseScheduler serves any number of loops.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { NativeInpaintResult } from '../native/types';
import type { AutoencoderKL } from './autoencoder-kl';
import { NativeModel } from './native-model';
import type { NoiseScheduler } from './scheduler';
import type { UNet2DConditionModel } from './unet-2d-condition';

/** The masked image's hole value in [-1, 1] space: DiffUTE fills with black (-1), diffusers with 0. */
export const MASKED_FILL = { diffute: -1, diffusers: 0 } as const;

/** What one sampling loop takes besides its models and scheduler. */
export interface InpaintInputs {
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
  /**
   * [B, 3, H, W] in [0, 1]: the replacement's glyph rendered into the box, for a UNet with
   * glyph-aligned input channels (required exactly then; see glyph-conditioning.ts).
   */
  glyphImage?: Tensor;
  keepIntermediates?: boolean;
  signal?: AbortSignal;
  onProgress?: (step: number, total: number) => void;
}

export interface InpaintOutputs {
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

function wrap(r: NativeInpaintResult): InpaintOutputs {
  const t = (h: NativeInpaintResult['maskLatent']): Tensor | undefined => (h ? new Tensor(h) : undefined);
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

/**
 * Runs the whole loop natively on `unet` and `vae` (queued behind their other calls) with a copy of
 * `scheduler`. Rejects with ERR_ABORTED when `signal` fires (checked between steps).
 */
export async function inpaint(unet: UNet2DConditionModel, vae: AutoencoderKL, scheduler: NoiseScheduler, o: InpaintInputs): Promise<InpaintOutputs> {
  if (o.signal?.aborted) throw new DocAnonError(ErrorCode.ABORTED, 'aborted before sampling started');
  const token = native().createAbortToken();
  const onAbort = (): void => token.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await NativeModel.exclusive([unet, vae], () =>
      native().inpaint(unet.handle, vae.handle, scheduler.handle, {
        image: o.image.handle,
        mask: o.mask.handle,
        encoderHiddenStates: o.encoderHiddenStates.handle,
        negativeEncoderHiddenStates: o.negativeEncoderHiddenStates?.handle,
        latents: o.latents?.handle,
        glyphImage: o.glyphImage?.handle,
        steps: o.steps ?? 50,
        guidanceScale: o.guidanceScale ?? 1,
        maskedFill: o.maskedFill ?? MASKED_FILL.diffute,
        eta: o.eta ?? 0,
        seed: o.seed ?? 0,
        keepIntermediates: o.keepIntermediates ?? false,
        onProgress: o.onProgress,
        abort: token,
      }),
    );
    return wrap(result);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    token.dispose();
  }
}
