/**
 * The DiffUTE glyph encoder: TrOCR's ViT encoder (transformers ViTModel as TrOCR configures it)
 * on the native core. Renders replacement text as DiffUTE's glyph image, preprocesses it exactly
 * as transformers 5's ViTImageProcessor (uint8 antialiased bilinear resize, (x - 127.5) / 127.5),
 * and returns last_hidden_state, the UNet's encoder_hidden_states.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import { renderGlyph, type GlyphOptions } from '../render/glyph';
import type { ResolvedConfig, ViTConfig } from './config-types';
import { NativeModel, type NativeModelHandle } from './native-model';

export type { ViTConfig } from './config-types';

export interface GlyphEncoderOutput {
  /** [N, 1 + (S/P)^2, hidden] after the final layernorm. */
  lastHiddenState: Tensor;
  embeddings?: Tensor;
  layerOutputs: Tensor[];
}

/** An uint8 RGB image, rows of width*3 bytes. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The glyph encoder: TrOCR's ViT encoder. `fromPretrained` loads a TrOCR folder (config.json of a
 * VisionEncoderDecoder or a bare ViT, model.safetensors or shards; the decoder's keys are ignored,
 * the encoder's are checked strictly) or an r2:// artifact. The encoder is frozen (inference only).
 */
export class GlyphEncoder extends NativeModel {
  static readonly kind = 'glyph_encoder' as const;
  readonly config: ResolvedConfig<ViTConfig>;

  /** @internal */
  constructor(handle: NativeModelHandle) {
    super(handle);
    this.config = JSON.parse(handle.config() ?? '{}') as ResolvedConfig<ViTConfig>;
  }

  /** Tokens per glyph: 1 CLS + (image/patch)^2. */
  get sequenceLength(): number {
    return 1 + (this.config.image_size / this.config.patch_size) ** 2;
  }

  /** Runs the encoder on preprocessed pixel values [N, 3, S, S]. */
  encode(pixelValues: Tensor, options: { intermediates?: boolean } = {}): Promise<GlyphEncoderOutput> {
    return this.serial(async () => {
      const r = await native().glyphEncode(this.handle, { pixelValues: pixelValues.handle, intermediates: options.intermediates ?? false });
      return {
        lastHiddenState: new Tensor(r.lastHiddenState),
        embeddings: r.embeddings ? new Tensor(r.embeddings) : undefined,
        layerOutputs: r.layerOutputs.map((h) => new Tensor(h)),
      };
    });
  }

  /** TrOCR preprocessing of uint8 RGB images of one size: (N, H, W, 3) -> pixel values (N, 3, S, S). */
  async preprocess(images: RgbPixels[]): Promise<{ pixelValues: Tensor; resized: Tensor }> {
    return preprocessTrocr(images, this.config.image_size);
  }

  /** Renders each text as DiffUTE's glyph image and encodes the batch: [N, seq, hidden]. */
  async encodeTexts(texts: string[], glyph: GlyphOptions = {}): Promise<Tensor> {
    if (texts.length === 0) throw new DocAnonError(ErrorCode.ARGUMENT, 'encodeTexts needs at least one text');
    // Glyph widths differ with text length: resize each to S x S first (ignoring aspect ratio, as
    // DiffUTE does), then batch.
    const s = this.config.image_size;
    const all = new Float32Array(texts.length * 3 * s * s);
    for (let i = 0; i < texts.length; i++) {
      const g = renderGlyph(texts[i], glyph);
      const pre = await preprocessTrocr([{ data: g.data, width: g.width, height: g.height }], s);
      try {
        all.set(pre.pixelValues.dataSync<'float32'>(), i * 3 * s * s);
      } finally {
        pre.pixelValues.dispose();
        pre.resized.dispose();
      }
    }
    // Native memory is freed as soon as it is used, not left to finalizers (a server encodes per request).
    const batch = Tensor.from(all, [texts.length, 3, s, s]);
    try {
      const out = await this.encode(batch);
      out.embeddings?.dispose();
      for (const t of out.layerOutputs) t.dispose();
      return out.lastHiddenState;
    } finally {
      batch.dispose();
    }
  }
}

/** transformers 5 ViTImageProcessor (torchvision backend) preprocessing, bit-exact. */
export async function preprocessTrocr(images: RgbPixels[], size: number): Promise<{ pixelValues: Tensor; resized: Tensor }> {
  if (images.length === 0) throw new DocAnonError(ErrorCode.ARGUMENT, 'no images to preprocess');
  const { width, height } = images[0];
  for (const im of images) {
    if (im.width !== width || im.height !== height) throw new DocAnonError(ErrorCode.SHAPE, 'images in one batch must have the same size');
    if (im.data.length !== width * height * 3) throw new DocAnonError(ErrorCode.SHAPE, `image data must be width*height*3 = ${width * height * 3} bytes`);
  }
  const buf = new Uint8Array(images.length * width * height * 3);
  images.forEach((im, i) => buf.set(im.data, i * width * height * 3));
  const input = Tensor.from(buf, [images.length, height, width, 3], 'uint8');
  try {
    const r = await native().preprocessTrocr({ images: input.handle, size });
    return { pixelValues: new Tensor(r.pixelValues), resized: new Tensor(r.resized) };
  } finally {
    input.dispose();
  }
}
