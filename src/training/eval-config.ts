/** The `eval` block of the training configs and the evaluation metrics' directions (no heavy imports: config.ts reads it). */
import { z } from 'zod';

/** Which way each metric improves. */
export const METRIC_DIRECTION = {
  psnr: 'max',
  ssim: 'max',
  lpips: 'min',
  kl: 'min',
  ocr_char_acc: 'max',
  ocr_word_acc: 'max',
  box_psnr: 'max',
  box_lpips: 'min',
  ring_psnr: 'max',
} as const;
export type EvalMetric = keyof typeof METRIC_DIRECTION;

/** The `eval` block of a training config. */
export const TrainEvalSchema = z.strictObject({
  /** Optimizer steps between evaluations (one more is made at the end of every run). */
  every: z.number().int().min(1).default(500),
  /** Examples per evaluation (VAE crops / DiffUTE lines). */
  limit: z.number().int().min(1).max(10000).default(16),
  /** Seed of the evaluation's crops, lines and sampling noise (the same at every evaluation). */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** DiffUTE sampling steps of an evaluation. */
  steps: z.number().int().min(1).max(1000).default(20),
  /**
   * DiffUTE classifier-free guidance of an evaluation (1: off; needs loss.cond_dropout > 0). A UNet
   * checkpoint's model_index.json records it as the pipeline's default guidance.
   */
  guidance_scale: z.number().min(1).max(30).default(1),
  /** TensorBoard event files beside metrics.jsonl. */
  tensorboard: z.boolean().default(true),
  /** Stop when checkpoint.keep_best's metric has not improved for this many evaluations in a row (0: never). */
  early_stop_patience: z.number().int().min(0).default(0),
});
export type TrainEvalConfig = z.output<typeof TrainEvalSchema>;
