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
  /** NNPACK convolutions in use (off on CPUs NNPACK does not support, so libtorch does not warn at every convolution). */
  nnpack: boolean;
  parallelInfo: string;
  /** Process-group backends this build can create: Gloo (CPU tensors), NCCL (CUDA tensors). */
  gloo: boolean;
  nccl: boolean;
  napiVersion: number;
}

export interface NativeParameterInfo {
  name: string;
  shape: number[];
  dtype: DType;
  device: string;
  requiresGrad: boolean;
}

export interface NativeModelHandle {
  readonly kind: string;
  readonly disposed: boolean;
  config(): string | null;
  parameters(): NativeParameterInfo[];
  parameterCount(): number;
  grad(name: string): NativeTensorHandle | null;
  zeroGrad(): void;
  setRequiresGrad(on: boolean, prefix?: string): number;
  save(dir: string): Promise<void>;
  dispose(): void;
}

export interface NativeLoadOptions {
  dtype?: string;
  device?: string;
  variant?: string;
}

export type NativeTensorMap = Record<string, NativeTensorHandle | null | undefined>;

export interface NativeSchedulerHandle {
  readonly className: string;
  readonly predictionType: string;
  readonly initNoiseSigma: number;
  readonly order: number;
  readonly numTrainTimesteps: number;
  setTimesteps(n: number): void;
  timesteps(): NativeTensorHandle;
  sigmas(): NativeTensorHandle;
  betas(): NativeTensorHandle;
  alphasCumprod(): NativeTensorHandle;
  scaleModelInput(sample: NativeTensorHandle, t: number): NativeTensorHandle;
  step(
    modelOutput: NativeTensorHandle,
    t: number,
    sample: NativeTensorHandle,
    options?: { eta?: number; varianceNoise?: NativeTensorHandle },
  ): { prevSample: NativeTensorHandle; predOriginalSample?: NativeTensorHandle; varianceNoise?: NativeTensorHandle };
  addNoise(x0: NativeTensorHandle, noise: NativeTensorHandle, timesteps: NativeTensorHandle): NativeTensorHandle;
  getVelocity(x0: NativeTensorHandle, noise: NativeTensorHandle, timesteps: NativeTensorHandle): NativeTensorHandle;
  manualSeed(seed: number): void;
}

export interface NativeAbortToken {
  abort(): void;
  readonly aborted: boolean;
}

export interface NativeInpaintResult {
  finalLatents: NativeTensorHandle;
  imageDecoded: NativeTensorHandle;
  image: NativeTensorHandle;
  maskLatent?: NativeTensorHandle;
  maskedImageLatents?: NativeTensorHandle;
  posteriorEps?: NativeTensorHandle;
  maskedImage?: NativeTensorHandle;
  timesteps?: NativeTensorHandle;
  steps: Array<{ unetInput: NativeTensorHandle; unetOutput: NativeTensorHandle; latents: NativeTensorHandle }>;
}

/** Opaque c10d process-group handle (native/src/bind/dist_bind.cc). */
export type NativeProcessGroupHandle = object & { readonly __processGroup: unique symbol };

/** Opaque trainer handle (native/src/bind/train_bind.cc). */
export type NativeTrainerHandle = object & { readonly __trainer: unique symbol };

export interface NativeTrainerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  ema?: boolean;
  seed?: number;
  /** Data parallelism: parameters broadcast from rank 0, gradients averaged over the ranks. */
  processGroup?: NativeProcessGroupHandle;
  /** A UNet trainer's glyph projection, trained with it (parameters `glyph_projection.*`). */
  glyphProjection?: NativeModelHandle;
}

export interface NativeStepOptions {
  lr: number;
  maxGradNorm?: number;
  emaDecay?: number;
  autocast?: boolean;
}

export interface NativeStepResult {
  terms: Record<string, number>;
  gradNorm: number;
  lr: number;
  skipped: boolean;
  step: number;
}

export interface NativeUnetMicroBatch {
  image: NativeTensorHandle;
  boxes?: NativeTensorHandle;
  mask?: NativeTensorHandle;
  glyphPixels?: NativeTensorHandle;
  context?: NativeTensorHandle;
}

export interface NativeAddon {
  loadVae(dir: string, options: NativeLoadOptions): Promise<NativeModelHandle>;
  createVae(config: string, options: NativeLoadOptions, seed?: number): Promise<NativeModelHandle>;
  vaeEncode(vae: NativeModelHandle, x: NativeTensorHandle): Promise<NativeTensorMap>;
  vaeDecode(vae: NativeModelHandle, z: NativeTensorHandle): Promise<NativeTensorHandle>;
  vaeLoss(vae: NativeModelHandle, options: object): Promise<NativeTensorMap>;
  loadUnet(dir: string, options: NativeLoadOptions): Promise<NativeModelHandle>;
  createUnet(config: string, options: NativeLoadOptions, seed?: number): Promise<NativeModelHandle>;
  unetForward(unet: NativeModelHandle, options: object): Promise<NativeTensorMap>;
  unetLoss(unet: NativeModelHandle, options: object): Promise<NativeTensorMap>;
  createScheduler(config: string, className?: string): NativeSchedulerHandle;
  inpaint(
    unet: NativeModelHandle,
    vae: NativeModelHandle,
    schedulerConfig: string,
    className: string,
    request: object,
    onProgress?: (step: number, total: number) => void,
    abort?: NativeAbortToken,
  ): Promise<NativeInpaintResult>;
  createAbortToken(): NativeAbortToken;
  loadGlyphEncoder(dir: string, options: NativeLoadOptions): Promise<NativeModelHandle>;
  createGlyphEncoder(config: string, options: NativeLoadOptions, seed?: number): Promise<NativeModelHandle>;
  glyphEncode(
    encoder: NativeModelHandle,
    pixelValues: NativeTensorHandle,
    keepIntermediates: boolean,
  ): Promise<{ lastHiddenState: NativeTensorHandle; embeddings?: NativeTensorHandle; layerOutputs: NativeTensorHandle[] }>;
  loadGlyphProjection(dir: string, options: NativeLoadOptions): Promise<NativeModelHandle>;
  createGlyphProjection(config: string, options: NativeLoadOptions, seed?: number): Promise<NativeModelHandle>;
  glyphProject(projection: NativeModelHandle, hiddenStates: NativeTensorHandle): Promise<NativeTensorHandle>;
  preprocessTrocr(images: NativeTensorHandle, size: number): Promise<{ pixelValues: NativeTensorHandle; resized: NativeTensorHandle }>;
  imageToTensor(image: NativeTensorHandle): Promise<NativeTensorHandle>;
  tensorToImage(tensor: NativeTensorHandle): Promise<NativeTensorHandle>;
  loadLpips(backbonePath: string, linPath: string, options: NativeLoadOptions): Promise<NativeModelHandle>;
  lpipsForward(
    lpips: NativeModelHandle,
    in0: NativeTensorHandle,
    in1: NativeTensorHandle,
    options: { normalize?: boolean; keepFeatures?: boolean; gradInput0?: boolean },
  ): Promise<{
    dist: NativeTensorHandle;
    layers: NativeTensorHandle[];
    feats0?: NativeTensorHandle[];
    feats1?: NativeTensorHandle[];
    diffs?: NativeTensorHandle[];
    gradInput0?: NativeTensorHandle;
  }>;
  createTrainer(model: NativeModelHandle, options: NativeTrainerOptions): Promise<NativeTrainerHandle>;
  trainerVaeStep(
    trainer: NativeTrainerHandle,
    lpips: NativeModelHandle | null,
    options: NativeStepOptions & {
      micro: NativeTensorHandle[];
      recon?: 'l1' | 'mse';
      klWeight?: number;
      lpipsWeight?: number;
      samplePosterior?: boolean;
    },
  ): Promise<NativeStepResult>;
  trainerUnetStep(
    trainer: NativeTrainerHandle,
    vae: NativeModelHandle,
    glyphEncoder: NativeModelHandle | null,
    schedulerConfig: string,
    options: NativeStepOptions & {
      micro: NativeUnetMicroBatch[];
      prediction?: 'epsilon' | 'v_prediction';
      condDropout?: number;
      maskedFill?: number;
      gradientCheckpointing?: boolean;
    },
  ): Promise<NativeStepResult>;
  trainerSaveState(trainer: NativeTrainerHandle, path: string): Promise<void>;
  trainerLoadState(trainer: NativeTrainerHandle, path: string): Promise<void>;
  trainerSaveEma(trainer: NativeTrainerHandle, dir: string, part?: 'glyph_projection'): Promise<void>;
  /** `device`: where the trained weights live ("cpu", "cuda:0"). */
  trainerInfo(trainer: NativeTrainerHandle): { step: number; ema: boolean; device: string; trainable: string[] };
  trainerGeneratorState(trainer: NativeTrainerHandle): Promise<NativeTensorHandle>;
  trainerSetGeneratorState(trainer: NativeTrainerHandle, state: NativeTensorHandle): Promise<void>;
  /** Calls already queued fail with ERR_DISPOSED; the optimizer state is freed after a running step (the Promise then resolves). */
  disposeTrainer(trainer: NativeTrainerHandle): Promise<void>;
  distInit(options: { rank: number; worldSize: number; masterAddr: string; masterPort: number; device?: string; timeoutMs?: number }): Promise<NativeProcessGroupHandle>;
  distAllReduceMean(group: NativeProcessGroupHandle, tensors: NativeTensorHandle[]): Promise<void>;
  distBarrier(group: NativeProcessGroupHandle): Promise<void>;
  distAllGather(group: NativeProcessGroupHandle, tensor: NativeTensorHandle): Promise<NativeTensorHandle>;
  distAny(group: NativeProcessGroupHandle, flag: boolean): Promise<boolean>;
  distInfo(group: NativeProcessGroupHandle): { rank: number; worldSize: number; backend: string };
  disposeProcessGroup(group: NativeProcessGroupHandle): void;
  init(errorClass: new (code: string, message: string) => Error): void;
  info(): NativeInfo;
  setNumThreads(n: number): void;
  setAllowTf32(allow: boolean): void;
  /** Process exit only: native calls queued behind the running one never start; later calls are ERR_DISPOSED. */
  dropQueuedWork(): void;
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
