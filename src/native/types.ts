/**
 * The typed surface of the native addon (native/src/bind). Internal: only the wrapper classes of
 * src/core (Tensor, SafetensorsFile, runtime), src/models and src/training call it.
 *
 * The boundary protocol (docs/architecture.md): every long-lived native object is a handle class
 * with `dispose()` and `disposed`; a call takes the native objects it acts on as positional
 * handles and everything else (tensors, settings, optional objects, callbacks) in ONE options
 * object, whose unknown keys are refused with ERR_ARGUMENT.
 */

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

/** The model kinds of the native registry (native/src/models/registry.h). */
export type ModelKind = 'vae' | 'unet' | 'glyph_encoder' | 'glyph_projection' | 'lpips';

/** What every native handle has. */
export interface NativeHandle {
  readonly disposed: boolean;
  dispose(): void;
}

export interface NativeTensorHandle extends NativeHandle {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: string;
  readonly numel: number;
  toTypedArray(): TypedArrayFor<DType>;
  toTypedArrayAsync(): Promise<TypedArrayFor<DType>>;
  to(options: { device?: string; dtype?: DType }): Promise<NativeTensorHandle>;
}

export interface NativeTensorHandleStatic {
  fromTypedArray(data: ArrayBufferView, options: { shape: number[]; dtype: DType }): NativeTensorHandle;
  zeros(options: { shape: number[]; dtype?: DType; device?: string }): NativeTensorHandle;
  randn(options: { shape: number[]; seed: number; dtype?: DType }): NativeTensorHandle;
}

export interface NativeSafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

export interface NativeSafetensorsHandle extends NativeHandle {
  entries(): NativeSafetensorsEntry[];
  metadata(): Record<string, string>;
  load(options: { name: string }): Promise<NativeTensorHandle>;
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

export interface NativeModelHandle extends NativeHandle {
  readonly kind: ModelKind;
  /** config.json text (null for kinds without a config). */
  config(): string | null;
  parameters(): NativeParameterInfo[];
  parameterCount(): number;
  grad(options: { name: string }): NativeTensorHandle | null;
  zeroGrad(): void;
  setRequiresGrad(options: { requiresGrad: boolean; prefix?: string }): number;
  save(options: { dir: string }): Promise<void>;
}

/** How a model is loaded or created (native ModelSpec). */
export interface NativeModelSpec {
  dtype?: string;
  device?: string;
  variant?: string;
  /** LPIPS: its linear heads file. */
  heads?: string;
  /** UNet: load with this many input channels (conv_in's extra ones start at zero). */
  inChannels?: number;
}

export type NativeTensorMap = Record<string, NativeTensorHandle | undefined>;

export interface NativeSchedulerHandle extends NativeHandle {
  readonly className: string;
  readonly predictionType: string;
  readonly initNoiseSigma: number;
  readonly order: number;
  readonly numTrainTimesteps: number;
  setTimesteps(options: { steps: number }): void;
  timesteps(): NativeTensorHandle;
  sigmas(): NativeTensorHandle;
  betas(): NativeTensorHandle;
  alphasCumprod(): NativeTensorHandle;
  scaleModelInput(options: { sample: NativeTensorHandle; timestep: number }): NativeTensorHandle;
  step(options: {
    modelOutput: NativeTensorHandle;
    timestep: number;
    sample: NativeTensorHandle;
    eta?: number;
    varianceNoise?: NativeTensorHandle;
  }): { prevSample: NativeTensorHandle; predOriginalSample?: NativeTensorHandle; varianceNoise?: NativeTensorHandle };
  addNoise(options: { original: NativeTensorHandle; noise: NativeTensorHandle; timesteps: NativeTensorHandle }): NativeTensorHandle;
  getVelocity(options: { sample: NativeTensorHandle; noise: NativeTensorHandle; timesteps: NativeTensorHandle }): NativeTensorHandle;
  manualSeed(options: { seed: number }): void;
}

export interface NativeAbortToken extends NativeHandle {
  abort(): void;
  readonly aborted: boolean;
}

/** The request of the native sampling loop (native InpaintRequest) with its progress and abort. */
export interface NativeInpaintRequest {
  image: NativeTensorHandle;
  mask: NativeTensorHandle;
  encoderHiddenStates: NativeTensorHandle;
  negativeEncoderHiddenStates?: NativeTensorHandle;
  latents?: NativeTensorHandle;
  glyphImage?: NativeTensorHandle;
  steps?: number;
  guidanceScale?: number;
  maskedFill?: number;
  eta?: number;
  seed?: number;
  keepIntermediates?: boolean;
  onProgress?: (step: number, total: number) => void;
  abort?: NativeAbortToken;
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

/** A c10d process group (native/src/bind/dist_bind.cc). */
export interface NativeProcessGroupHandle extends NativeHandle {
  allReduceMean(options: { tensors: NativeTensorHandle[] }): Promise<void>;
  barrier(): Promise<void>;
  allGather(options: { tensor: NativeTensorHandle }): Promise<NativeTensorHandle>;
  any(options: { flag: boolean }): Promise<boolean>;
  info(): { rank: number; worldSize: number; backend: string };
}

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

/** One optimizer step's settings (native StepOptions) and the bf16 autocast switch (CUDA). */
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
  glyphImage?: NativeTensorHandle;
}

/** The VAE objective's options (native VaeLossOptions). */
export interface NativeVaeLossOptions {
  recon?: 'l1' | 'mse';
  reconReduction?: 'sum_per_sample' | 'mean';
  klWeight?: number;
  lpipsWeight?: number;
  samplePosterior?: boolean;
  eps?: NativeTensorHandle;
  autocast?: boolean;
}

/** The UNet objective's options (native UnetLossOptions). */
export interface NativeUnetLossOptions {
  prediction?: 'epsilon' | 'v_prediction';
  condDropout?: number;
  maskedFill?: number;
  autocast?: boolean;
}

export interface NativeTrainerHandle {
  readonly disposed: boolean;
  /** `device`: where the trained weights live ("cpu", "cuda:0"). */
  info(): { step: number; ema: boolean; device: string; trainable: string[] };
  vaeStep(options: NativeStepOptions & NativeVaeLossOptions & { micro: NativeTensorHandle[]; lpips?: NativeModelHandle }): Promise<NativeStepResult>;
  unetStep(
    vae: NativeModelHandle,
    scheduler: NativeSchedulerHandle,
    options: NativeStepOptions & NativeUnetLossOptions & { micro: NativeUnetMicroBatch[]; glyphEncoder?: NativeModelHandle; gradientCheckpointing?: boolean },
  ): Promise<NativeStepResult>;
  saveState(options: { path: string }): Promise<void>;
  loadState(options: { path: string }): Promise<void>;
  saveEma(options: { dir: string; part?: 'glyph_projection' }): Promise<void>;
  generatorState(): Promise<NativeTensorHandle>;
  setGeneratorState(options: { state: NativeTensorHandle }): Promise<void>;
  /** Calls already queued fail with ERR_DISPOSED; the optimizer state is freed after a running step (the Promise then resolves). */
  dispose(): Promise<void>;
}

export interface NativeAddon {
  init(errorClass: new (code: string, message: string) => Error): void;
  info(): NativeInfo;
  configure(options: { threads?: number; allowTf32?: boolean }): void;
  /** Process exit only: native calls queued behind the running one never start; later calls are ERR_DISPOSED. */
  dropQueuedWork(): void;
  TensorHandle: NativeTensorHandleStatic;
  openSafetensors(options: { path: string }): Promise<NativeSafetensorsHandle>;
  writeSafetensors(options: { path: string; names: string[]; tensors: NativeTensorHandle[]; metadata?: Record<string, string> }): Promise<void>;
  readTorchStateDict(options: { path: string }): Promise<{ names: string[]; tensors: NativeTensorHandle[]; skipped: string[]; wrapper: string }>;
  writeTorchStateDict(options: { path: string; names: string[]; tensors: NativeTensorHandle[]; wrapper?: string }): Promise<void>;
  loadModel(options: NativeModelSpec & { kind: ModelKind; path: string }): Promise<NativeModelHandle>;
  createModel(options: NativeModelSpec & { kind: ModelKind; config: string; seed?: number }): Promise<NativeModelHandle>;
  /** The config fields of a kind (native/src/models/config_fields.h), JSON; null for kinds without a config. */
  modelConfigSchema(options: { kind: ModelKind }): string | null;
  vaeEncode(vae: NativeModelHandle, options: { x: NativeTensorHandle }): Promise<NativeTensorMap>;
  vaeDecode(vae: NativeModelHandle, options: { z: NativeTensorHandle }): Promise<NativeTensorHandle>;
  vaeLoss(vae: NativeModelHandle, options: NativeVaeLossOptions & { x: NativeTensorHandle; seed?: number; backward?: boolean }): Promise<NativeTensorMap>;
  unetForward(
    unet: NativeModelHandle,
    options: { sample: NativeTensorHandle; timesteps: NativeTensorHandle; encoderHiddenStates: NativeTensorHandle; intermediates?: boolean },
  ): Promise<NativeTensorMap>;
  unetLoss(
    unet: NativeModelHandle,
    options: { sample: NativeTensorHandle; timesteps: NativeTensorHandle; encoderHiddenStates: NativeTensorHandle; target: NativeTensorHandle; backward?: boolean },
  ): Promise<NativeTensorMap>;
  createScheduler(options: { config: string; className?: string }): NativeSchedulerHandle;
  inpaint(unet: NativeModelHandle, vae: NativeModelHandle, scheduler: NativeSchedulerHandle, request: NativeInpaintRequest): Promise<NativeInpaintResult>;
  createAbortToken(): NativeAbortToken;
  glyphEncode(
    encoder: NativeModelHandle,
    options: { pixelValues: NativeTensorHandle; intermediates?: boolean },
  ): Promise<{ lastHiddenState: NativeTensorHandle; embeddings?: NativeTensorHandle; layerOutputs: NativeTensorHandle[] }>;
  glyphProject(projection: NativeModelHandle, options: { hiddenStates: NativeTensorHandle }): Promise<NativeTensorHandle>;
  preprocessTrocr(options: { images: NativeTensorHandle; size: number }): Promise<{ pixelValues: NativeTensorHandle; resized: NativeTensorHandle }>;
  imageToTensor(options: { image: NativeTensorHandle }): Promise<NativeTensorHandle>;
  tensorToImage(options: { tensor: NativeTensorHandle }): Promise<NativeTensorHandle>;
  lpipsForward(
    lpips: NativeModelHandle,
    options: { in0: NativeTensorHandle; in1: NativeTensorHandle; normalize?: boolean; keepFeatures?: boolean; gradInput0?: boolean },
  ): Promise<{
    dist: NativeTensorHandle;
    layers: NativeTensorHandle[];
    feats0?: NativeTensorHandle[];
    feats1?: NativeTensorHandle[];
    diffs?: NativeTensorHandle[];
    gradInput0?: NativeTensorHandle;
  }>;
  createTrainer(model: NativeModelHandle, options: NativeTrainerOptions): Promise<NativeTrainerHandle>;
  distInit(options: { rank: number; worldSize: number; masterAddr: string; masterPort: number; device?: string; timeoutMs?: number }): Promise<NativeProcessGroupHandle>;
  testing: {
    spin(options: { ms: number }): Promise<number>;
    throwKind(options: { kind: string }): Promise<void>;
  };
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
