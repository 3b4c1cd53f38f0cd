/**
 * The optional trainable projection between the glyph encoder and the UNet (Linear hidden_size ->
 * cross_attention_dim): it lets TrOCR-base's 768-wide encoder condition SD2's 1024-wide
 * cross-attention. It is trained with the UNet (see UnetTrainer) and saved as its own folder:
 * `config.json` (`{"_class_name": "GlyphProjection", "in_features", "out_features"}`) and
 * `model.safetensors` (keys `proj.weight` [out, in], `proj.bias` [out]).
 */
import { z } from 'zod';
import { parseConfig } from '../core/config';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import { NativeModel, type NativeModelHandle } from './native-model';

export const GlyphProjectionConfigSchema = z.strictObject({
  _class_name: z.literal('GlyphProjection').optional(),
  /** The glyph encoder's hidden_size. */
  in_features: z.number().int().positive(),
  /** The UNet's cross_attention_dim. */
  out_features: z.number().int().positive(),
});
export type GlyphProjectionConfig = z.input<typeof GlyphProjectionConfigSchema>;

export class GlyphProjection extends NativeModel {
  static readonly kind = 'glyph_projection' as const;
  readonly config: { in_features: number; out_features: number };

  /** @internal */
  constructor(handle: NativeModelHandle) {
    super(handle);
    this.config = parseConfig(GlyphProjectionConfigSchema, JSON.parse(handle.config() ?? '{}'), 'glyph projection config');
  }

  /** [..., in_features] -> [..., out_features] (inference, no gradient). */
  forward(hiddenStates: Tensor): Promise<Tensor> {
    return this.serial(async () => new Tensor(await native().glyphProject(this.handle, { hiddenStates: hiddenStates.handle })));
  }
}
