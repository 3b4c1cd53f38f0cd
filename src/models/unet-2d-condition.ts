/**
 * UNet2DConditionModel (the SD2-inpainting UNet) on the native core, loading diffusers' folders
 * strictly. For DiffUTE the conditioning is the glyph encoder's last_hidden_state.
 */
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { ResolvedConfig, UNet2DConditionConfig } from './config-types';
import { NativeModel, wrapAll, type NativeModelHandle } from './native-model';

export type { UNet2DConditionConfig } from './config-types';

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
  static readonly kind = 'unet' as const;
  /** The model's config as the native side holds it (every field; written back as diffusers writes it). */
  readonly config: ResolvedConfig<UNet2DConditionConfig>;

  /** @internal */
  constructor(handle: NativeModelHandle) {
    super(handle);
    this.config = JSON.parse(handle.config() ?? '{}') as ResolvedConfig<UNet2DConditionConfig>;
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
