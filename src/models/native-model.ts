/**
 * What every native model shares: loading a folder (or an r2:// artifact) and creating from a
 * config through the native registry, parameters and gradients by reference key name, saving in
 * the reference layout, the call queue, and disposal. Each model class adds its own calls.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { NativeObject } from '../core/native-object';
import { SerialQueue } from '../core/serial-queue';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { ModelKind, NativeModelHandle, NativeParameterInfo, NativeTensorMap } from '../native/types';
import { resolveModelDir } from './source';

export type { ModelKind, NativeModelHandle } from '../native/types';

/** Options for loading or creating a model. */
export interface ModelLoadOptions {
  /** Weight dtype (default float32). */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** "cpu" (default), "cuda" or "cuda:N". */
  device?: string;
  /** Weight file variant, e.g. "fp16" for `diffusion_pytorch_model.fp16.safetensors`. */
  variant?: string;
  /**
   * UNet only: load with this many input channels instead of its config's; conv_in's extra input
   * channels start at zero (glyph-aligned conditioning grown from a 9-channel UNet).
   */
  inChannels?: number;
}

export type ParameterInfo = NativeParameterInfo;

/** @internal Wraps every native tensor of a result object. */
export function wrapAll<T>(o: NativeTensorMap): T {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(o)) if (v) out[k] = new Tensor(v);
  return out as T;
}

/** A model class: its native kind and how it wraps a handle. */
export interface ModelClass<M extends NativeModel> {
  readonly kind: ModelKind;
  new (handle: NativeModelHandle): M;
}

/** What `fromConfig` of a model class takes: its config with every field optional. */
export type ConfigOf<M> = M extends { readonly config: infer C } ? Partial<C> & { [key: `_${string}`]: unknown } : never;

let nextId = 0;

export abstract class NativeModel extends NativeObject<NativeModelHandle> {
  /** The native kind ("vae", "unet", "glyph_encoder", "glyph_projection", "lpips"). */
  readonly kind: ModelKind;
  /** @internal Orders the queues of a call over several models (no two calls can wait on each other). */
  private readonly id = nextId++;
  private readonly queue = new SerialQueue();

  /** @internal Wraps a native handle; use the static factories. */
  constructor(handle: NativeModelHandle) {
    super(handle);
    this.kind = handle.kind;
  }

  /**
   * Loads a folder in the reference layout (config.json and safetensors weights: fp16/bf16
   * variants and shards too) or an r2:// artifact, strictly: every key present, no extra key,
   * every shape equal (ERR_WEIGHTS naming them).
   */
  static async fromPretrained<M extends NativeModel>(this: ModelClass<M>, source: string, options: ModelLoadOptions = {}): Promise<M> {
    const path = await resolveModelDir(source);
    return new this(await native().loadModel({ ...options, kind: this.kind, path }));
  }

  /** A freshly initialised model from a config (libtorch's default init; `seed` makes it reproducible). */
  static async fromConfig<M extends NativeModel>(this: ModelClass<M>, config: ConfigOf<M>, options: ModelLoadOptions & { seed?: number } = {}): Promise<M> {
    return new this(await native().createModel({ ...options, kind: this.kind, config: JSON.stringify(config) }));
  }

  /**
   * Runs `task` once every model of `models` is free of other calls, holding all of them until
   * it settles (the queues are taken in a fixed order, so two such calls cannot wait on each
   * other). The TypeScript half of the locking rule: a call queues on every model it touches.
   * @internal
   */
  static exclusive<T>(models: ReadonlyArray<NativeModel | null | undefined>, task: () => Promise<T>): Promise<T> {
    const ordered = [...new Set(models.filter((m): m is NativeModel => m != null))].sort((a, b) => a.id - b.id);
    const take = (i: number): Promise<T> => (i === ordered.length ? task() : ordered[i].serial(() => take(i + 1)));
    return take(0);
  }

  /** Runs a native call on this model after the previous calls on it finished. */
  protected serial<T>(task: () => Promise<T>): Promise<T> {
    if (this.handle.disposed) return Promise.reject(new DocAnonError(ErrorCode.DISPOSED, `the ${this.kind} model was disposed`));
    return this.queue.run(task);
  }

  /** Calls waiting or running on this model. */
  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Parameters and buffers with their reference (state_dict) names. */
  parameters(): ParameterInfo[] {
    return this.handle.parameters();
  }

  parameterCount(): number {
    return this.handle.parameterCount();
  }

  /** The gradient accumulated in a parameter (a copy), or null when it has none. */
  grad(name: string): Tensor | null {
    const g = this.handle.grad({ name });
    return g ? new Tensor(g) : null;
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    this.handle.zeroGrad();
  }

  /** Turns gradients on/off for every parameter whose name starts with `prefix` (default: all). Returns the count. */
  setRequiresGrad(on: boolean, prefix = ''): number {
    return this.handle.setRequiresGrad({ requiresGrad: on, prefix });
  }

  /** Writes config.json and the weights in the reference (diffusers/transformers) layout. */
  save(dir: string): Promise<void> {
    return this.serial(() => this.handle.save({ dir }));
  }
}
