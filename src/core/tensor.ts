/**
 * Tensor: an opaque handle to a libtorch tensor owned by the native core. Data crosses the
 * boundary only by copy. Call {@link Tensor.dispose} (or use `using`) to free memory eagerly; a
 * finalizer frees it anyway when the handle is garbage-collected.
 */
import { native } from '../native/loader';
import type { DType, NativeTensorHandle, TypedArrayFor } from '../native/types';
import { DocAnonError, ErrorCode } from './errors';
import { NativeObject } from './native-object';

export type { DType, TypedArrayFor } from '../native/types';

const ARRAY_FOR: Record<DType, string> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  float16: 'Uint16Array',
  bfloat16: 'Uint16Array',
  int64: 'BigInt64Array',
  int32: 'Int32Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
};

function shapeArg(shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `shape must be an array of non-negative integers, got ${typeof shape}`);
  }
  return [...(shape as number[])];
}

function inferDtype(data: ArrayBufferView): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  if (!ArrayBuffer.isView(data)) throw new DocAnonError(ErrorCode.DTYPE, 'data must be a typed array');
  throw new DocAnonError(
    ErrorCode.DTYPE,
    `cannot infer a dtype from ${data.constructor.name}; pass dtype explicitly (${Object.keys(ARRAY_FOR).join(', ')})`,
  );
}

export class Tensor extends NativeObject<NativeTensorHandle> {
  /** @internal Wrap a native handle; use the static factories instead. */
  constructor(handle: NativeTensorHandle) {
    super(handle);
  }

  /**
   * Copies `data` into a new CPU tensor of `shape`. 16-bit floats are given as their raw bits in a
   * Uint16Array; int64 as a BigInt64Array; bool as 0/1 bytes in a Uint8Array.
   */
  static from(data: ArrayBufferView, shape: readonly number[], dtype?: DType): Tensor {
    return new Tensor(native().TensorHandle.fromTypedArray(data, { shape: shapeArg(shape), dtype: dtype ?? inferDtype(data) }));
  }

  /** A tensor of zeros. */
  static zeros(shape: readonly number[], dtype: DType = 'float32', device = 'cpu'): Tensor {
    return new Tensor(native().TensorHandle.zeros({ shape: shapeArg(shape), dtype, device }));
  }

  /** N(0, 1) values drawn on the CPU from a seeded generator (identical to `torch.randn(generator=manual_seed(seed))`). */
  static randn(shape: readonly number[], seed: number, dtype: DType = 'float32'): Tensor {
    return new Tensor(native().TensorHandle.randn({ shape: shapeArg(shape), seed, dtype }));
  }

  get shape(): number[] {
    return this.handle.shape;
  }
  get dtype(): DType {
    return this.handle.dtype;
  }
  get device(): string {
    return this.handle.device;
  }
  get numel(): number {
    return this.handle.numel;
  }

  /** Copies the values into a new JS-owned typed array (synchronous; prefer {@link data} for big tensors). */
  dataSync<D extends DType = DType>(): TypedArrayFor<D> {
    return this.handle.toTypedArray() as TypedArrayFor<D>;
  }

  /** Copies the values into a new JS-owned typed array on a worker thread. */
  async data<D extends DType = DType>(): Promise<TypedArrayFor<D>> {
    return (await this.handle.toTypedArrayAsync()) as TypedArrayFor<D>;
  }

  /** A copy on another device and/or dtype. */
  async to(device?: string, dtype?: DType): Promise<Tensor> {
    return new Tensor(await this.handle.to({ device, dtype }));
  }

  /**
   * An uint8 image batch [N, H, W, C] as float [N, C, H, W] in [0, 1] (x / 255), off the JS thread.
   * @internal
   */
  async imageToFloat(): Promise<Tensor> {
    return new Tensor(await native().imageToTensor({ image: this.handle }));
  }

  /**
   * A float image batch [N, C, H, W] in [0, 1] as uint8 [N, H, W, C] on the CPU (clamped, x * 255
   * rounded half to even), off the JS thread.
   * @internal
   */
  async floatToImage(): Promise<Tensor> {
    return new Tensor(await native().tensorToImage({ tensor: this.handle }));
  }

  override toString(): string {
    return this.disposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}
