/** The typed surface of the native addon (native/src/bind). Internal: use the public classes. */

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

export interface NativeTensorHandle {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: string;
  readonly numel: number;
  readonly disposed: boolean;
  toTypedArray(): TypedArrayFor<DType>;
  toTypedArrayAsync(): Promise<TypedArrayFor<DType>>;
  to(device?: string | null, dtype?: DType | null): Promise<NativeTensorHandle>;
  dispose(): void;
}

export interface NativeTensorHandleStatic {
  fromTypedArray(data: ArrayBufferView, shape: number[], dtype: DType): NativeTensorHandle;
  zeros(shape: number[], dtype?: DType, device?: string): NativeTensorHandle;
  randn(shape: number[], seed: number, dtype?: DType): NativeTensorHandle;
}

export interface NativeSafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

export interface NativeSafetensorsHandle {
  entries(): NativeSafetensorsEntry[];
  metadata(): Record<string, string>;
  load(name: string): Promise<NativeTensorHandle>;
  close(): void;
}

export interface NativeInfo {
  libtorch: string;
  cuda: { available: boolean; deviceCount: number; builtWithCuda: boolean };
  threads: { intraOp: number; interOp: number; configured: boolean };
  sdpa: boolean;
  mkldnn: boolean;
  openmp: boolean;
  parallelInfo: string;
  gloo: boolean;
  napiVersion: number;
}

export interface NativeAddon {
  init(errorClass: new (code: string, message: string) => Error): void;
  info(): NativeInfo;
  setNumThreads(n: number): void;
  TensorHandle: NativeTensorHandleStatic;
  openSafetensors(path: string): Promise<NativeSafetensorsHandle>;
  writeSafetensors(path: string, names: string[], tensors: NativeTensorHandle[], metadata?: Record<string, string>): Promise<void>;
  testing: {
    spin(ms: number): Promise<number>;
    throwKind(kind: string): Promise<void>;
  };
  [key: string]: unknown;
}

/** The typed array that carries each dtype (16-bit floats as raw bits in a Uint16Array). */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'float16' | 'bfloat16'
      ? Uint16Array
      : D extends 'int64'
        ? BigInt64Array
        : D extends 'int32'
          ? Int32Array
          : Uint8Array;
