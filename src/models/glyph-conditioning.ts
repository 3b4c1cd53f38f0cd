/**
 * Glyph-aligned conditioning: the replacement text rendered into the box position of the crop
 * enters the UNet as extra input channels after the 9 inpainting ones (noisy latents, mask,
 * masked-image latents), next to DiffUTE's cross-attention on the glyph encoder's embeddings. The
 * native core brings the glyph image to latent size (native/src/models/glyph_conditioning.h); this
 * file names the modes, counts their channels and builds the glyph image tensor.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import { renderAlignedGlyph, type GlyphBox } from '../render/aligned-glyph';
import type { BundledFontName } from '../render/fonts';

/**
 * `none`: cross-attention only (DiffUTE). `downsampled`: one channel, the glyph image's luminance
 * averaged over each latent cell. `vae`: latent_channels channels, the glyph image VAE-encoded.
 */
export const GLYPH_ALIGNED_MODES = ['none', 'downsampled', 'vae'] as const;
export type GlyphAlignedMode = (typeof GLYPH_ALIGNED_MODES)[number];
export const GlyphAlignedModeSchema = z.enum(GLYPH_ALIGNED_MODES);

/** The UNet input channels a mode adds after the 2 * latent + 1 inpainting channels. */
export function conditioningChannels(mode: GlyphAlignedMode, latentChannels: number): number {
  return mode === 'none' ? 0 : mode === 'downsampled' ? 1 : latentChannels;
}

/** The UNet's in_channels for a mode: 2 * latent + 1 (inpainting) plus the mode's channels. */
export function unetInChannels(mode: GlyphAlignedMode, latentChannels: number): number {
  return 2 * latentChannels + 1 + conditioningChannels(mode, latentChannels);
}

/**
 * The mode a UNet's in_channels implies next to a VAE with `latentChannels`; ERR_CONFIG when no
 * mode fits (the native core refuses the same UNets).
 */
export function glyphAlignedModeOf(inChannels: number, latentChannels: number): GlyphAlignedMode {
  for (const m of GLYPH_ALIGNED_MODES) if (unetInChannels(m, latentChannels) === inChannels) return m;
  throw new DocAnonError(
    ErrorCode.CONFIG,
    `a UNet with ${inChannels} input channels does not fit a VAE with ${latentChannels} latent channels: inpainting needs ${2 * latentChannels + 1}, plus 1 (glyph_aligned: downsampled) or ${latentChannels} (glyph_aligned: vae)`,
  );
}

/** One example of a batch: the replacement text and its box in pixels of the width x height crop. */
export interface AlignedGlyphItem {
  text: string;
  box: GlyphBox;
  font?: BundledFontName;
}

/**
 * The glyph images of a batch as one uint8 [B, height, width, 3] tensor (black text on white, each
 * text fitted into its box): the `glyphImage` of a training step, or, after `imageToFloat()`, of
 * a sampling loop. `height` defaults to `width` (square crops). The caller disposes it.
 */
export async function alignedGlyphTensor(items: readonly AlignedGlyphItem[], width: number, height = width): Promise<Tensor> {
  const data = await alignedGlyphBytes(items, width, height);
  return Tensor.from(data, [items.length, height, width, 3], 'uint8');
}

/** The same images as plain bytes (the training data pipeline keeps them in JS memory until the step). */
export async function alignedGlyphBytes(items: readonly AlignedGlyphItem[], width: number, height = width): Promise<Uint8Array> {
  const n = width * height * 3;
  const out = new Uint8Array(items.length * n);
  for (let b = 0; b < items.length; b++) {
    const g = await renderAlignedGlyph(items[b].text, width, height, items[b].box, { font: items[b].font });
    out.set(g, b * n);
  }
  return out;
}
