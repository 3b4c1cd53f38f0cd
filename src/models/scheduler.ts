/**
 * Noise schedulers compatible with diffusers (DDPM, DDIM, EulerDiscrete, DPMSolverMultistep
 * (2M, dpmsolver++), PNDM), built from a `scheduler_config.json`. Like diffusers' `from_config`,
 * one SD2 config builds any of them; keys a class does not use are ignored, unsupported values fail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { NativeObject } from '../core/native-object';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { NativeSchedulerHandle } from '../native/types';

export const SCHEDULER_CLASSES = {
  ddpm: 'DDPMScheduler',
  ddim: 'DDIMScheduler',
  euler: 'EulerDiscreteScheduler',
  dpmpp2m: 'DPMSolverMultistepScheduler',
  pndm: 'PNDMScheduler',
} as const;

export type SamplerName = keyof typeof SCHEDULER_CLASSES;

/** SD2-inpainting's scheduler config (DDPM/DDIM family; epsilon prediction). */
export const SD2_SCHEDULER_CONFIG: Record<string, unknown> = {
  num_train_timesteps: 1000,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  steps_offset: 1,
  clip_sample: false,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
};

export interface StepResult {
  prevSample: Tensor;
  predOriginalSample?: Tensor;
  /** The N(0,1) draw a stochastic step (DDPM) added. */
  varianceNoise?: Tensor;
}

/** The class name `sampler` names ("ddim", or a diffusers class name; empty: the config's `_class_name`). */
function schedulerClass(sampler?: SamplerName | string): string {
  return sampler ? ((SCHEDULER_CLASSES as Record<string, string>)[sampler] ?? sampler) : '';
}

export class NoiseScheduler extends NativeObject<NativeSchedulerHandle> {
  /** The scheduler_config.json text it was built from (another sampler can be built from it: {@link withSampler}). */
  readonly configText: string;

  private constructor(handle: NativeSchedulerHandle, configText: string) {
    super(handle);
    this.configText = configText;
  }

  /**
   * Builds a scheduler from a config object. `sampler` picks the class ("ddim", or a diffusers class
   * name); default: the config's `_class_name`.
   */
  static fromConfig(config: Record<string, unknown>, sampler?: SamplerName | string): NoiseScheduler {
    return NoiseScheduler.fromConfigText(JSON.stringify(config), sampler);
  }

  /** Builds a scheduler from the text of a scheduler_config.json (Python's -Infinity/NaN literals accepted). */
  static fromConfigText(text: string, sampler?: SamplerName | string): NoiseScheduler {
    return new NoiseScheduler(native().createScheduler({ config: text, className: schedulerClass(sampler) }), text);
  }

  /** The config as a scheduler_config.json names it: its text, with `_class_name` set to this scheduler's class when it had none. */
  configFileText(): string {
    if (/"_class_name"\s*:/.test(this.configText)) return this.configText;
    return this.configText.replace(/^\s*\{\s*/, (open) => `${open}"_class_name": ${JSON.stringify(this.className)}${/^\s*\{\s*\}/.test(this.configText) ? '' : ', '}`);
  }

  /** A new scheduler of another class from the same config (as diffusers' `from_config`). */
  withSampler(sampler: SamplerName | string): NoiseScheduler {
    return NoiseScheduler.fromConfigText(this.configText, sampler);
  }

  /** Reads `scheduler_config.json` from a file or from a model folder's `scheduler/` subfolder. */
  static fromPretrained(source: string, sampler?: SamplerName | string): NoiseScheduler {
    const candidates = [source, path.join(source, 'scheduler_config.json'), path.join(source, 'scheduler', 'scheduler_config.json')];
    const file = candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (!file) throw new DocAnonError(ErrorCode.NOT_FOUND, `no scheduler_config.json at ${source}`);
    // The native reader parses the file text itself: diffusers writes Python literals such as
    // -Infinity (DPM-Solver's lambda_min_clipped) that JSON.parse rejects.
    return NoiseScheduler.fromConfigText(fs.readFileSync(file, 'utf8'), sampler);
  }

  get className(): string {
    return this.handle.className;
  }
  get predictionType(): string {
    return this.handle.predictionType;
  }
  get initNoiseSigma(): number {
    return this.handle.initNoiseSigma;
  }
  get numTrainTimesteps(): number {
    return this.handle.numTrainTimesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    this.handle.setTimesteps({ steps: numInferenceSteps });
  }
  /** The inference timesteps (int64, float32 for Euler). */
  timesteps(): Tensor {
    return new Tensor(this.handle.timesteps());
  }
  /** Euler / DPM-Solver sigmas (length timesteps + 1); empty for the others. */
  sigmas(): Tensor {
    return new Tensor(this.handle.sigmas());
  }
  betas(): Tensor {
    return new Tensor(this.handle.betas());
  }
  alphasCumprod(): Tensor {
    return new Tensor(this.handle.alphasCumprod());
  }
  scaleModelInput(sample: Tensor, timestep: number): Tensor {
    return new Tensor(this.handle.scaleModelInput({ sample: sample.handle, timestep }));
  }
  /** One reverse step. DDPM draws its noise from the seed set by {@link manualSeed} unless `varianceNoise` is given. */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: { eta?: number; varianceNoise?: Tensor } = {}): StepResult {
    const r = this.handle.step({ modelOutput: modelOutput.handle, timestep, sample: sample.handle, eta: options.eta, varianceNoise: options.varianceNoise?.handle });
    return {
      prevSample: new Tensor(r.prevSample),
      predOriginalSample: r.predOriginalSample ? new Tensor(r.predOriginalSample) : undefined,
      varianceNoise: r.varianceNoise ? new Tensor(r.varianceNoise) : undefined,
    };
  }
  addNoise(original: Tensor, noise: Tensor, timesteps: Tensor): Tensor {
    return new Tensor(this.handle.addNoise({ original: original.handle, noise: noise.handle, timesteps: timesteps.handle }));
  }
  getVelocity(sample: Tensor, noise: Tensor, timesteps: Tensor): Tensor {
    return new Tensor(this.handle.getVelocity({ sample: sample.handle, noise: noise.handle, timesteps: timesteps.handle }));
  }
  manualSeed(seed: number): void {
    this.handle.manualSeed({ seed });
  }
}
