/**
 * The inpainting sampling loop (diffusers' StableDiffusionInpaintPipeline computation, with
 * DiffUTE's masked-image fill) on given models and a scheduler config: progress per step,
 * AbortSignal between steps. The loop itself is src/models/inpaint.ts; this is its public entry
 * for callers holding a scheduler config rather than a NoiseScheduler.
 */
import type { AutoencoderKL } from '../models/autoencoder-kl';
import { inpaint, MASKED_FILL, type InpaintInputs, type InpaintOutputs } from '../models/inpaint';
import { NoiseScheduler, type SamplerName } from '../models/scheduler';
import type { UNet2DConditionModel } from '../models/unet-2d-condition';

export { MASKED_FILL };

export interface InpaintLoopOptions extends InpaintInputs {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  /** The scheduler to sample with (its config and class); takes precedence over `schedulerConfig`. */
  scheduler?: NoiseScheduler;
  /** scheduler_config.json contents (object or raw text), when no `scheduler` is given. */
  schedulerConfig?: Record<string, unknown> | string;
  /** Sampler class for `schedulerConfig`; default: the config's `_class_name`. */
  sampler?: SamplerName | string;
}

export type InpaintLoopResult = InpaintOutputs;

/** Runs the whole loop natively. Rejects with ERR_ABORTED when `signal` fires (checked between steps). */
export async function inpaintLoop(o: InpaintLoopOptions): Promise<InpaintLoopResult> {
  const { unet, vae, scheduler, schedulerConfig, sampler, ...inputs } = o;
  if (scheduler) return inpaint(unet, vae, scheduler, inputs);
  const own =
    typeof schedulerConfig === 'string' ? NoiseScheduler.fromConfigText(schedulerConfig, sampler) : NoiseScheduler.fromConfig(schedulerConfig ?? {}, sampler);
  try {
    return await inpaint(unet, vae, own, inputs);
  } finally {
    own.dispose();
  }
}
