/**
 * The diffute engine's glyph-aligned input (src/models/glyph-conditioning.ts): for a UNet with glyph
 * channels, each replacement rendered into its mask's place in the model crop (width x height). Kept apart
 * from the engine so that how the UNet's inputs are built stays one call there.
 */
import type { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import { alignedGlyphTensor, conditioningChannels, glyphAlignedModeOf } from '../models/glyph-conditioning';
import type { UNet2DConditionModel } from '../models/unet-2d-condition';
import type { BundledFontName } from '../render/fonts';
import type { Rect } from './regions';

/** One region of a batch: its replacement, the crop it is sampled in and the repainted rect (page px). */
export interface GlyphAlignedJob {
  text: string;
  crop: Rect;
  mask: Rect;
  font?: BundledFontName;
}

/**
 * `glyphImage` of the sampling loop, float [B, 3, height, width] in [0, 1], or undefined when the UNet has no
 * glyph channels (the DiffUTE method). The caller disposes it.
 */
export async function conditioningGlyphImage(
  unet: UNet2DConditionModel,
  vae: AutoencoderKL,
  jobs: readonly GlyphAlignedJob[],
  width: number,
  height = width,
): Promise<Tensor | undefined> {
  const latent = vae.config.latent_channels ?? 4;
  if (conditioningChannels(glyphAlignedModeOf(unet.config.in_channels ?? 4, latent), latent) === 0) return undefined;
  const items = jobs.map((j) => {
    const sx = width / (j.crop.x1 - j.crop.x0);
    const sy = height / (j.crop.y1 - j.crop.y0);
    const box = [(j.mask.x0 - j.crop.x0) * sx, (j.mask.y0 - j.crop.y0) * sy, (j.mask.x1 - j.crop.x0) * sx, (j.mask.y1 - j.crop.y0) * sy] as const;
    return { text: j.text, box, font: j.font };
  });
  const bytes = await alignedGlyphTensor(items, width, height);
  try {
    return await bytes.imageToFloat();
  } finally {
    bytes.dispose();
  }
}
