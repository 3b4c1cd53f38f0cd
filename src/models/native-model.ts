/**
 * Shared behaviour of the native models: parameters and gradients by reference key name, saving in
 * the reference layout, a per-model call queue, and disposal.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { SerialQueue } from '../core/serial-queue';
import { Tensor } from '../core/tensor';
import type { NativeModelHandle, NativeParameterInfo, NativeTensorMap } from '../native/types';

export type { NativeModelHandle } from '../native/types';

/** Options for loading or creating a model. */
export interface ModelLoadOptions {
  /** Weight dtype (default float32). */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** "cpu" (default), "cuda" or "cuda:N". */
  device?: string;
  /** Weight file variant, e.g. "fp16" for `diffusion_pytorch_model.fp16.safetensors`. */
  variant?: string;
}

export type ParameterInfo = NativeParameterInfo;

/** @internal Wraps every native tensor of a result object. */
export function wrapAll<T>(o: NativeTensorMap): T {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(o)) if (v) out[k] = new Tensor(v);
  return out as T;
}

export abstract class NativeModel {
  /** @internal */
  readonly handle: NativeModelHandle;
  /** @internal */
  protected readonly queue = new SerialQueue();

  protected constructor(handle: NativeModelHandle) {
    this.handle = handle;
  }

  /** Runs a native call after the previous calls on this model finished. */
  protected serial<T>(task: () => Promise<T>): Promise<T> {
    if (this.handle.disposed) return Promise.reject(new DocAnonError(ErrorCode.DISPOSED, `the ${this.handle.kind} model was disposed`));
    return this.queue.run(task);
  }

  /** @internal Runs `task` while no other call uses this model (for calls spanning several models). */
  runExclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.serial(task);
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
    const g = this.handle.grad(name);
    return g ? new Tensor(g) : null;
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    this.handle.zeroGrad();
  }

  /** Turns gradients on/off for every parameter whose name starts with `prefix` (default: all). Returns the count. */
  setRequiresGrad(on: boolean, prefix = ''): number {
    return this.handle.setRequiresGrad(on, prefix);
  }

  /** Writes config.json and the weights in the reference (diffusers/transformers) layout. */
  save(dir: string): Promise<void> {
    return this.serial(() => this.handle.save(dir));
  }

  get disposed(): boolean {
    return this.handle.disposed;
  }

  /** Frees the weights (calls already running finish first). */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
