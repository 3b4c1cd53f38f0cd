/**
 * The native trainer of one model: AdamW (+ optional EMA) over its trainable parameters and the
 * generator of every random draw of a step. Each step is one native call (see native/src/train).
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { native } from '../native/loader';
import type { NativeStepResult, NativeTrainerHandle, NativeUnetMicroBatch } from '../native/types';
import type { NativeModel } from '../models/native-model';
import type { ProcessGroup } from './distributed';
import { Tensor } from '../core/tensor';

export interface TrainerCreateOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  ema?: boolean;
  seed?: number;
  /** Data parallelism over this group (see ./distributed). */
  processGroup?: ProcessGroup;
  /** A UNet trainer's glyph projection, trained with it (its parameters are `glyph_projection.*`). */
  glyphProjection?: NativeModel;
}

export interface StepControl {
  lr: number;
  maxGradNorm: number;
  emaDecay?: number;
  autocast?: boolean;
}

export type StepResult = NativeStepResult;

export interface VaeStepOptions extends StepControl {
  /** One uint8 [B, H, W, 3] (or float [B, 3, H, W] in [-1, 1]) tensor per micro-batch. */
  micro: Tensor[];
  recon: 'l1' | 'mse';
  klWeight: number;
  lpipsWeight: number;
  samplePosterior: boolean;
}

export interface UnetMicroBatch {
  image: Tensor;
  boxes?: Tensor;
  mask?: Tensor;
  glyphPixels?: Tensor;
  context?: Tensor;
}

export interface UnetStepOptions extends StepControl {
  micro: UnetMicroBatch[];
  prediction: 'epsilon' | 'v_prediction';
  condDropout: number;
  maskedFill: number;
  gradientCheckpointing: boolean;
}

export class NativeTrainer {
  private handle: NativeTrainerHandle | null;
  private constructor(
    handle: NativeTrainerHandle,
    readonly model: NativeModel,
  ) {
    this.handle = handle;
  }

  /** Collects the model's parameters that require grad (freeze others first). */
  static async create(model: NativeModel, options: TrainerCreateOptions = {}): Promise<NativeTrainer> {
    const { lr: _lr, processGroup, glyphProjection, ...rest } = options;
    const opts = {
      ...rest,
      ...(processGroup ? { processGroup: processGroup.nativeHandle } : {}),
      ...(glyphProjection ? { glyphProjection: glyphProjection.handle } : {}),
    };
    return new NativeTrainer(await model.runExclusive(() => native().createTrainer(model.handle, opts)), model);
  }

  private h(): NativeTrainerHandle {
    if (!this.handle) throw new DocAnonError(ErrorCode.DISPOSED, 'the trainer was disposed');
    return this.handle;
  }

  get info(): { step: number; ema: boolean; device: string; trainable: string[] } {
    return native().trainerInfo(this.h());
  }

  vaeStep(lpips: NativeModel | null, o: VaeStepOptions): Promise<StepResult> {
    return this.model.runExclusive(() =>
      native().trainerVaeStep(this.h(), lpips?.handle ?? null, { ...o, micro: o.micro.map((t) => t.handle) }),
    );
  }

  unetStep(vae: NativeModel, glyph: NativeModel | null, schedulerConfig: Record<string, unknown>, o: UnetStepOptions): Promise<StepResult> {
    const micro: NativeUnetMicroBatch[] = o.micro.map((m) => ({
      image: m.image.handle,
      boxes: m.boxes?.handle,
      mask: m.mask?.handle,
      glyphPixels: m.glyphPixels?.handle,
      context: m.context?.handle,
    }));
    return this.model.runExclusive(() =>
      native().trainerUnetStep(this.h(), vae.handle, glyph?.handle ?? null, JSON.stringify(schedulerConfig), { ...o, micro }),
    );
  }

  /** Optimizer moments, step, EMA shadows and generator state (one safetensors file). */
  saveState(file: string): Promise<void> {
    return this.model.runExclusive(() => native().trainerSaveState(this.h(), file));
  }
  loadState(file: string): Promise<void> {
    return this.model.runExclusive(() => native().trainerLoadState(this.h(), file));
  }
  /**
   * The EMA model in the diffusers layout (config.json + diffusion_pytorch_model.safetensors), or
   * with `part: 'glyph_projection'` the trained projection's EMA in its own layout.
   */
  saveEma(dir: string, part?: 'glyph_projection'): Promise<void> {
    return this.model.runExclusive(() => native().trainerSaveEma(this.h(), dir, part));
  }

  /** The state of the generator every random draw of a step comes from (uint8). */
  async generatorState(): Promise<Tensor> {
    return new Tensor(await this.model.runExclusive(() => native().trainerGeneratorState(this.h())));
  }
  setGeneratorState(state: Tensor): Promise<void> {
    return this.model.runExclusive(() => native().trainerSetGeneratorState(this.h(), state.handle));
  }

  /**
   * Frees the trainer (optimizer state, EMA). Safe while a step runs or waits: those calls end
   * with ERR_DISPOSED or finish, and the memory goes after the running one.
   */
  dispose(): void {
    if (this.handle) void native().disposeTrainer(this.handle).catch(() => undefined);
    this.handle = null;
  }
}
