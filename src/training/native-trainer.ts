/**
 * The native trainer of one model: AdamW (+ optional EMA) over its trainable parameters and the
 * generator of every random draw of a step. Each step is one native call (see native/src/train).
 */
import { NativeObject } from '../core/native-object';
import { Tensor } from '../core/tensor';
import { NativeModel } from '../models/native-model';
import { NoiseScheduler } from '../models/scheduler';
import { native } from '../native/loader';
import type { NativeStepResult, NativeTrainerHandle, NativeUnetMicroBatch } from '../native/types';
import type { ProcessGroup } from './distributed';

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
  /** The replacement's glyph rendered into the box: uint8 [B, H, W, 3] (glyph-aligned conditioning). */
  glyphImage?: Tensor;
}

export interface UnetStepOptions extends StepControl {
  micro: UnetMicroBatch[];
  prediction: 'epsilon' | 'v_prediction';
  condDropout: number;
  maskedFill: number;
  gradientCheckpointing: boolean;
}

export class NativeTrainer extends NativeObject<NativeTrainerHandle> {
  private constructor(
    handle: NativeTrainerHandle,
    readonly model: NativeModel,
    /** A UNet trainer's glyph projection, trained with the model. */
    private readonly projection?: NativeModel,
  ) {
    super(handle);
  }

  /** Collects the model's parameters that require grad (freeze others first). */
  static async create(model: NativeModel, options: TrainerCreateOptions = {}): Promise<NativeTrainer> {
    const { lr: _lr, processGroup, glyphProjection, ...rest } = options;
    const opts = {
      ...rest,
      ...(processGroup ? { processGroup: processGroup.nativeHandle } : {}),
      ...(glyphProjection ? { glyphProjection: glyphProjection.handle } : {}),
    };
    const handle = await NativeModel.exclusive([model, glyphProjection], () => native().createTrainer(model.handle, opts));
    return new NativeTrainer(handle, model, glyphProjection);
  }

  /** Runs a native call of this trainer once its models (and `others`) are free of other calls. */
  private run<T>(others: ReadonlyArray<NativeModel | null | undefined>, call: (h: NativeTrainerHandle) => Promise<T>): Promise<T> {
    return NativeModel.exclusive([this.model, this.projection, ...others], () => call(this.handle));
  }

  get info(): { step: number; ema: boolean; device: string; trainable: string[] } {
    return this.handle.info();
  }

  vaeStep(lpips: NativeModel | null, o: VaeStepOptions): Promise<StepResult> {
    return this.run([lpips], (h) => h.vaeStep({ ...o, micro: o.micro.map((t) => t.handle), lpips: lpips?.handle }));
  }

  /**
   * One UNet step. `scheduler` gives the DDPM noising (a NoiseScheduler; a scheduler_config object
   * is still taken, deprecated: it builds a scheduler per call).
   */
  async unetStep(vae: NativeModel, glyph: NativeModel | null, scheduler: NoiseScheduler | Record<string, unknown>, o: UnetStepOptions): Promise<StepResult> {
    const micro: NativeUnetMicroBatch[] = o.micro.map((m) => ({
      image: m.image.handle,
      boxes: m.boxes?.handle,
      mask: m.mask?.handle,
      glyphPixels: m.glyphPixels?.handle,
      context: m.context?.handle,
      glyphImage: m.glyphImage?.handle,
    }));
    const sched = scheduler instanceof NoiseScheduler ? scheduler : NoiseScheduler.fromConfig(scheduler, 'ddpm');
    try {
      return await this.run([vae, glyph], (h) => h.unetStep(vae.handle, sched.handle, { ...o, micro, glyphEncoder: glyph?.handle }));
    } finally {
      if (sched !== scheduler) sched.dispose();
    }
  }

  /** Optimizer moments, step, EMA shadows and generator state (one safetensors file). */
  saveState(file: string): Promise<void> {
    return this.run([], (h) => h.saveState({ path: file }));
  }
  loadState(file: string): Promise<void> {
    return this.run([], (h) => h.loadState({ path: file }));
  }
  /**
   * The EMA model in the diffusers layout (config.json + diffusion_pytorch_model.safetensors), or
   * with `part: 'glyph_projection'` the trained projection's EMA in its own layout.
   */
  saveEma(dir: string, part?: 'glyph_projection'): Promise<void> {
    return this.run([], (h) => h.saveEma({ dir, part }));
  }

  /** The state of the generator every random draw of a step comes from (uint8). */
  async generatorState(): Promise<Tensor> {
    return new Tensor(await this.run([], (h) => h.generatorState()));
  }
  setGeneratorState(state: Tensor): Promise<void> {
    return this.run([], (h) => h.setGeneratorState({ state: state.handle }));
  }

  /**
   * Frees the trainer (optimizer state, EMA). Safe while a step runs or waits: those calls end
   * with ERR_DISPOSED or finish, and the memory goes after the running one.
   */
  override dispose(): void {
    void this.handle.dispose().catch(() => undefined);
  }
}
