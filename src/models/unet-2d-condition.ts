/**
 * UNet2DConditionModel (the SD2-inpainting UNet) on the native core, loading diffusers' folders
 * strictly. For DiffUTE the conditioning is the glyph encoder's last_hidden_state.
 */
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import { NativeModel, wrapAll, type ModelLoadOptions, type NativeModelHandle } from './native-model';
import { resolveModelDir } from './source';

/** diffusers' UNet2DConditionModel config.json (the native reader rejects unknown or unsupported fields). */
export interface UNet2DConditionConfig {
  in_channels?: number;
  out_channels?: number;
  down_block_types?: string[];
  up_block_types?: string[];
  mid_block_type?: string | null;
  block_out_channels?: number[];
  layers_per_block?: number | number[];
  attention_head_dim?: number | number[];
  num_attention_heads?: number | number[] | null;
  cross_attention_dim?: number | number[];
  use_linear_projection?: boolean;
  upcast_attention?: boolean;
  flip_sin_to_cos?: boolean;
  freq_shift?: number;
  norm_num_groups?: number;
  norm_eps?: number;
  act_fn?: string;
  sample_size?: number | number[] | null;
  [key: string]: unknown;
}

export interface UNetForwardInput {
  /** [B, in_channels, h, w] (inpainting: 4 noisy latents + 1 mask + 4 masked-image latents). */
  sample: Tensor;
  /** int64 (or float) scalar, [1] or [B]. */
  timesteps: Tensor;
  /** [B, S, cross_attention_dim]. */
  encoderHiddenStates: Tensor;
}

export interface UNetForwardOutput {
  sample: Tensor;
  /** Debug intermediates (with `intermediates: true`). */
  timeProj?: Tensor;
  timeEmbedding?: Tensor;
  midBlock?: Tensor;
}

export class UNet2DConditionModel extends NativeModel {
  readonly config: UNet2DConditionConfig;

  private constructor(handle: NativeModelHandle) {
    super(handle);
    this.config = JSON.parse(handle.config() ?? '{}') as UNet2DConditionConfig;
  }

  /** Loads a diffusers `unet/` folder (config.json + safetensors, fp16/bf16 variants, shards) or an r2:// artifact. */
  static async fromPretrained(source: string, options: ModelLoadOptions = {}): Promise<UNet2DConditionModel> {
    const dir = await resolveModelDir(source);
    return new UNet2DConditionModel(await native().loadUnet(dir, options));
  }

  /** A freshly initialised model from a config (random weights; `seed` makes them reproducible). */
  static async fromConfig(config: UNet2DConditionConfig, options: ModelLoadOptions & { seed?: number } = {}): Promise<UNet2DConditionModel> {
    return new UNet2DConditionModel(await native().createUnet(JSON.stringify(config), options, options.seed));
  }

  /** One forward pass (no gradients). */
  forward(input: UNetForwardInput & { intermediates?: boolean }): Promise<UNetForwardOutput> {
    return this.serial(async () =>
      wrapAll<UNetForwardOutput>(
        await native().unetForward(this.handle, {
          sample: input.sample.handle,
          timesteps: input.timesteps.handle,
          encoderHiddenStates: input.encoderHiddenStates.handle,
          intermediates: input.intermediates ?? false,
        }),
      ),
    );
  }

  /** mean((unet(x) - target)^2), with optional backward into the parameters' gradients. */
  loss(input: UNetForwardInput & { target: Tensor; backward?: boolean }): Promise<{ loss: Tensor; sample: Tensor }> {
    return this.serial(async () =>
      wrapAll<{ loss: Tensor; sample: Tensor }>(
        await native().unetLoss(this.handle, {
          sample: input.sample.handle,
          timesteps: input.timesteps.handle,
          encoderHiddenStates: input.encoderHiddenStates.handle,
          target: input.target.handle,
          backward: input.backward ?? false,
        }),
      ),
    );
  }
}
