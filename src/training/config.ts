/**
 * Training configs (configs/training/*.yaml): strict zod schemas, so an unknown or misplaced key
 * is an error naming its path. Every value here is used by the trainers, with one kind of
 * exception on purpose: settings behind a switch stay accepted while it is off, so that one key
 * flips it (EMA decay with `ema.enabled: false`, the `lpips` block with `lpips_weight: 0`,
 * `min_lr` / `num_cycles` under an `lr_schedule.kind` that has no use for them). A seed next to
 * pretrained weights has no switch to flip and is an error.
 */
import { z } from 'zod';
import { loadConfigFile, parseConfig } from '../core/config';
import { METRIC_DIRECTION, TrainEvalSchema, type EvalMetric } from './eval-config';
import { LrScheduleSchema } from './lr-schedule';
import { GlyphAlignedModeSchema } from '../models/glyph-conditioning';

const positive = z.number().positive();

/** The metrics each kind's evaluation during training reports (checkpoint.keep_best picks one). */
const VAE_METRICS = ['psnr', 'ssim', 'lpips', 'kl'] as const;
const UNET_METRICS = ['ocr_char_acc', 'ocr_word_acc', 'box_psnr', 'ring_psnr'] as const;

/** A model: pretrained (folder or r2:// artifact) or a diffusers config.json object from random init. */
const ModelSourceSchema = z
  .strictObject({
    pretrained: z.string().min(1).optional(),
    /** The model's config.json as an object (random init from `seed`). */
    config: z.record(z.string(), z.unknown()).optional(),
    /** Seed of the random init (with `config` only; default 0). */
    seed: z.number().int().min(0).optional(),
  })
  .refine((m) => (m.pretrained === undefined) !== (m.config === undefined), {
    message: 'give exactly one of pretrained or config',
  })
  .refine((m) => m.pretrained === undefined || m.seed === undefined, {
    message: 'seed only applies to a random init from config; pretrained weights ignore it (remove seed)',
    path: ['seed'],
  });

const OptimizerSchema = z.strictObject({
  /** (Bounded so that lr / Adam's bias correction stays a float32: past it the step itself overflows.) */
  lr: positive.max(1e30).default(1e-4),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: positive.default(1e-8),
  weight_decay: z.number().min(0).default(1e-2),
});

const TrainSchema = z.strictObject({
  max_steps: z.number().int().min(1),
  /** Examples per micro-batch. */
  batch_size: z.number().int().min(1).default(1),
  /** Micro-batches per optimizer step (k >= 1). */
  grad_accum: z.number().int().min(1, { message: 'grad_accum must be >= 1 (k = 0 micro-batches is not a step)' }).default(1),
  /** Global-norm gradient clipping (0 = off). */
  max_grad_norm: z.number().min(0).default(1.0),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** "cpu", "cuda", "cuda:N". */
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, { message: 'must be cpu, cuda or cuda:N' }).default('cpu'),
  /** bf16 autocast (CUDA only; the CPU always trains in float32). */
  autocast: z.boolean().default(true),
  /** Intra-op threads (0 = libtorch's default). */
  threads: z.number().int().min(0).default(0),
  /** Steps in a row with non-finite gradients (skipped, no update) after which the run fails (ERR_DIVERGED). */
  max_consecutive_skips: z.number().int().min(1).default(20),
});

const EmaSchema = z.strictObject({
  enabled: z.boolean().default(false),
  decay: z.number().min(0).max(1).default(0.9999),
  /** diffusers' EMAModel warm-up: decay_t = min(decay, (1 + t) / (10 + t)). */
  warmup: z.boolean().default(true),
});

const SyntheticDataSchema = z.strictObject({
  page_width: z.number().int().min(200).max(10000).default(1654),
  page_height: z.number().int().min(200).max(14000).default(2339),
  kinds: z.array(z.enum(['statement', 'invoice', 'form'])).min(1).default(['statement', 'invoice', 'form']),
  noise: z.number().min(0).max(40).default(0),
  blur: z.number().min(0).max(5).default(0),
  rotation: z.number().min(0).max(10).default(0),
});

/**
 * Light augmentation of VAE crops (default: all off, crops are the page's pixels). Drawn from the
 * same (seed, example) stream as the crop, so a resumed run sees the same examples. Documents-first:
 * no flip and no blur unless asked (mirrored text is not a document; the VAE must keep text sharp).
 */
const VaeAugmentSchema = z.strictObject({
  /** Mirror half of the crops left-right (off: mirrored text is not a document). */
  hflip: z.boolean().default(false),
  /** Brightness shift drawn in [-b, b] as a fraction of full scale (0.1 = up to 25.5 levels). */
  brightness: z.number().min(0).max(0.5).default(0),
  /** Contrast factor drawn in [1 - c, 1 + c], around mid-grey (127.5). */
  contrast: z.number().min(0).max(0.9).default(0),
  /** Gaussian noise: each crop draws a standard deviation in [0, noise] levels (0..255), one sample per pixel (all channels). */
  noise: z.number().min(0).max(64).default(0),
  /** JPEG re-compression at a quality drawn in [min, max] (1..100); null: none. */
  jpeg_quality: z
    .tuple([z.number().int().min(1).max(100), z.number().int().min(1).max(100)])
    .refine(([lo, hi]) => lo <= hi, { message: 'must be [min, max] with min <= max' })
    .nullable()
    .default(null),
});
export type VaeAugmentConfig = z.output<typeof VaeAugmentSchema>;

const dataFields = {
    source: z.enum(['synthetic', 'dataset']).default('synthetic'),
    /**
     * Folder of `*.json` annotations (dataset format) with their images (source: dataset), or an
     * r2:// artifact of such a folder (pulled into the verified cache before training).
     */
    dataset_dir: z.string().min(1).optional(),
    synthetic: SyntheticDataSchema.default(SyntheticDataSchema.parse({})),
    /** Seed of the example stream (example i is a pure function of seed and i). */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Examples drawn from one page before moving to the next. */
    examples_per_page: z.number().int().min(1).default(8),
    /** Batches prepared ahead of the step (bounded memory). */
    prefetch: z.number().int().min(1).max(64).default(4),
    /**
     * Micro-batches prepared at the same time, at most `prefetch`. The examples of each are
     * prepared in parallel already, on libuv's thread pool (UV_THREADPOOL_SIZE, default 4): 2 pays
     * when a micro-batch holds few pages, as in the VAE recipe (bench/data-pipeline.ts measures it).
     */
    concurrency: z.number().int().min(1).max(64).default(1),
    /**
     * Held-out pages for the evaluations (with `eval`): a dataset folder (or r2:// artifact) of its
     * own. Without it and without val_fraction: synthetic pages of another seed than training's
     * (source synthetic), or an error (source dataset: there is no held-out page to use).
     */
    val_dir: z.string().min(1).optional(),
    /**
     * Or this fraction of dataset_dir's files held out (a stable hash of each file name and
     * data.seed): the training stream never sees them.
     */
    val_fraction: z.number().gt(0).lt(1).optional(),
};
const concurrencyWithinPrefetch = (d: { prefetch: number; concurrency: number }): boolean => d.concurrency <= d.prefetch;
const concurrencyMessage = { message: 'concurrency must not exceed prefetch (a batch in preparation takes a prefetch slot)', path: ['concurrency'] };
const needsDir = (d: { source: string; dataset_dir?: string }): boolean => d.source !== 'dataset' || d.dataset_dir !== undefined;
const needsDirMessage = { message: 'source: dataset needs dataset_dir', path: ['dataset_dir'] };
const oneValSource = (d: { val_dir?: string; val_fraction?: number; source: string }): boolean =>
  !(d.val_dir !== undefined && d.val_fraction !== undefined) && (d.val_fraction === undefined || d.source === 'dataset');
const oneValMessage = { message: 'give at most one of val_dir and val_fraction; val_fraction holds out files of dataset_dir (source: dataset)', path: ['val_fraction'] };

const CheckpointSchema = z.strictObject({
  /** Optimizer steps between checkpoints (a final one is always written). */
  every: z.number().int().min(1).default(500),
  keep_last: z.number().int().min(1).default(3),
  /**
   * Keep the checkpoint best by this evaluation metric besides the last N, as `<output>/best/`
   * (needs `eval`; each evaluation then comes with a checkpoint of its step).
   */
  keep_best: z.enum(Object.keys(METRIC_DIRECTION) as [EvalMetric, ...EvalMetric[]]).optional(),
});

const StorageSchema = z.strictObject({
  /** r2://bucket/prefix/name: each checkpoint is pushed as a version in the background. */
  uri: z.string().regex(/^r2:\/\/[^/]+\/.+/, { message: 'must be r2://bucket/[prefix/]name' }).optional(),
});

const LogSchema = z.strictObject({
  every: z.number().int().min(1).default(10),
  /** Metrics JSONL (relative to the output folder). */
  metrics_file: z.string().min(1).default('metrics.jsonl'),
  /** TensorBoard event files under `<output>/tensorboard` (train and eval scalars, sample grids). */
  tensorboard: z.boolean().default(true),
});

const common = {
  optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
  lr_schedule: LrScheduleSchema.default(LrScheduleSchema.parse({})),
  train: TrainSchema,
  ema: EmaSchema.default(EmaSchema.parse({})),
  checkpoint: CheckpointSchema.default(CheckpointSchema.parse({})),
  storage: StorageSchema.default({}),
  log: LogSchema.default(LogSchema.parse({})),
  /** Evaluation on held-out pages every eval.every steps and at the end of the run (absent: none). */
  eval: TrainEvalSchema.optional(),
  /** Where checkpoints, metrics and logs go (the CLI's --out overrides). */
  output_dir: z.string().min(1).default('runs/train'),
};

export const VaeTrainConfigSchema = z.strictObject({
  kind: z.literal('vae'),
  model: ModelSourceSchema,
  /** Which weights train: all; decoder only (encoder + quant_conv frozen, as sd-vae-ft-mse); or all but the encoder. */
  trainable: z.enum(['all', 'decoder', 'frozen_encoder']).default('all'),
  loss: z.strictObject({
    recon: z.enum(['l1', 'mse']).default('l1'),
    /** beta, with the latent-diffusion reductions (see native/src/train/vae_loss.h): 1e-6 as in ldm. */
    kl_weight: z.number().min(0).default(1e-6),
    /** lambda on the batch mean of the per-sample LPIPS distance (ldm's perceptual_weight w = lambda / (C*H*W)). */
    lpips_weight: z.number().min(0).default(0),
    sample_posterior: z.boolean().default(true),
  }),
  lpips: z
    .strictObject({
      /**
       * VGG16 `features.*` safetensors (user-supplied): a file (`.gz` is decompressed to a temp
       * file) or an r2:// artifact holding one such file.
       */
      backbone: z.string().min(1),
      /** Linear heads (default: the bundled v0.1 VGG heads): a file or an r2:// artifact holding one. */
      heads: z.string().min(1).optional(),
    })
    .optional(),
  data: z
    .strictObject({
      ...dataFields,
      /** Side of the square random crop, at the page's native resolution (text stays sharp). */
      crop_size: z.number().int().min(16).default(256),
      /** Where crops are taken: `random` anywhere on the page, `text` around a random OCR line (a VAE for text). */
      crop_at: z.enum(['random', 'text']).default('random'),
      augment: VaeAugmentSchema.default(VaeAugmentSchema.parse({})),
    })
    .refine(needsDir, needsDirMessage)
    .refine(concurrencyWithinPrefetch, concurrencyMessage)
    .refine(oneValSource, oneValMessage),
  ...common,
})
  .refine((c) => c.checkpoint.keep_best === undefined || c.eval !== undefined, { message: 'checkpoint.keep_best needs an eval block', path: ['checkpoint', 'keep_best'] })
  .refine((c) => (c.eval?.early_stop_patience ?? 0) === 0 || c.checkpoint.keep_best !== undefined, { message: 'eval.early_stop_patience needs checkpoint.keep_best (the metric it watches)', path: ['eval', 'early_stop_patience'] })
  .refine((c) => c.checkpoint.keep_best === undefined || (VAE_METRICS as readonly string[]).includes(c.checkpoint.keep_best), {
    message: `a VAE evaluation measures ${VAE_METRICS.join(', ')}`,
    path: ['checkpoint', 'keep_best'],
  })
  .refine((c) => c.checkpoint.keep_best !== 'lpips' || c.loss.lpips_weight > 0, { message: 'keep_best: lpips needs the LPIPS model (loss.lpips_weight > 0 and lpips.backbone)', path: ['checkpoint', 'keep_best'] });
export type VaeTrainConfig = z.output<typeof VaeTrainConfigSchema>;

export const UnetTrainConfigSchema = z.strictObject({
  kind: z.literal('unet'),
  model: ModelSourceSchema,
  /** Frozen. */
  vae: ModelSourceSchema,
  /** Frozen TrOCR encoder (the glyph conditioning). */
  glyph_encoder: ModelSourceSchema,
  /**
   * Glyph-aligned conditioning (src/models/glyph-conditioning.ts): the replacement's glyph rendered
   * into the box enters the UNet as extra input channels (`downsampled`: 1, `vae`: the VAE's
   * latent_channels) after the 9 inpainting ones. A new UNet's config must have the matching
   * in_channels; a pretrained one with fewer gets them on load, conv_in's new weights at zero.
   */
  glyph_aligned: GlyphAlignedModeSchema.default('none'),
  /**
   * A trainable projection hidden_size -> cross_attention_dim between the glyph encoder and the
   * UNet (needed when they differ, e.g. TrOCR-base 768 with SD2's 1024). New from `seed`, or
   * continued from a saved projection folder (`pretrained`). Absent: the sizes must match.
   */
  glyph_projection: z
    .strictObject({
      pretrained: z.string().min(1).optional(),
      /** Seed of a new projection (without `pretrained`; default 0). */
      seed: z.number().int().min(0).optional(),
    })
    .refine((p) => p.pretrained === undefined || p.seed === undefined, {
      message: 'seed only applies to a new projection; a pretrained one ignores it (remove seed)',
      path: ['seed'],
    })
    .optional(),
  /** DDPM noise schedule (diffusers scheduler_config.json fields; default SD2 inpainting's). */
  scheduler: z.record(z.string(), z.unknown()).optional(),
  loss: z.strictObject({
    prediction: z.enum(['epsilon', 'v_prediction']).default('epsilon'),
    /** Probability of zeroing a sample's glyph context (classifier-free guidance). */
    cond_dropout: z.number().min(0).max(1).default(0),
    /** Value of the hole in the masked image: DiffUTE -1 (black), diffusers' pipeline 0. */
    masked_fill: z.number().min(-1).max(1).default(-1),
  }),
  gradient_checkpointing: z.boolean().default(false),
  data: z
    .strictObject({
      ...dataFields,
      /** Model resolution the crop is resized to (its height; its width with aspect 1). */
      resolution: z.number().int().min(16).default(512),
      /**
       * Crop width / height (an integer; 1: square, as DiffUTE). A wide crop keeps a long line's
       * text tall at a small resolution (64 x 256 with aspect 4); the engine samples at the same shape.
       */
      aspect: z.number().int().min(1).max(8).default(1),
      /** Height of the crop around the line, in page pixels (grows to contain long lines). */
      crop_size: z.number().int().min(16).default(256),
      /** Lines with OCR score at or below this are skipped. */
      min_score: z.number().min(0).max(1).default(0.8),
      /** The box bottom is extended by this fraction of its height (DiffUTE: 1/10). */
      box_extend: z.number().min(0).max(1).default(0.1),
    })
    .refine(needsDir, needsDirMessage)
    .refine(concurrencyWithinPrefetch, concurrencyMessage)
    .refine(oneValSource, oneValMessage),
  ...common,
})
  .refine((c) => c.checkpoint.keep_best === undefined || c.eval !== undefined, { message: 'checkpoint.keep_best needs an eval block', path: ['checkpoint', 'keep_best'] })
  .refine((c) => (c.eval?.early_stop_patience ?? 0) === 0 || c.checkpoint.keep_best !== undefined, { message: 'eval.early_stop_patience needs checkpoint.keep_best (the metric it watches)', path: ['eval', 'early_stop_patience'] })
  .refine((c) => c.checkpoint.keep_best === undefined || (UNET_METRICS as readonly string[]).includes(c.checkpoint.keep_best), {
    message: `a DiffUTE evaluation during training measures ${UNET_METRICS.join(', ')}`,
    path: ['checkpoint', 'keep_best'],
  });
export type UnetTrainConfig = z.output<typeof UnetTrainConfigSchema>;

export type TrainConfig = VaeTrainConfig | UnetTrainConfig;

export function parseVaeTrainConfig(value: unknown, source = 'VAE training config'): VaeTrainConfig {
  return parseConfig(VaeTrainConfigSchema, value, source);
}
export function parseUnetTrainConfig(value: unknown, source = 'UNet training config'): UnetTrainConfig {
  return parseConfig(UnetTrainConfigSchema, value, source);
}
export function loadVaeTrainConfig(file: string): VaeTrainConfig {
  return loadConfigFile(VaeTrainConfigSchema, file);
}
export function loadUnetTrainConfig(file: string): UnetTrainConfig {
  return loadConfigFile(UnetTrainConfigSchema, file);
}
