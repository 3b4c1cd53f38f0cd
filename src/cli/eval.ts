/**
 * `doc-anon eval vae|unet|pipeline --model M --data D [--limit N] [--out DIR] [--seed S] ...`:
 * the evaluation of src/eval (`evaluate()`), printed as a table (or JSON with --json); with --out
 * also report.json, report.md and sample grids in DIR.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { evalReportJson, evaluate, formatEvalReport, writeScalingFactor } from '../eval';
import type { Command } from './commands';
import { progressLine } from './progress';

const HELP = `usage: doc-anon eval vae|unet|pipeline --model M --data D [options]

  vae        reconstructions of held-out crops: PSNR, SSIM, LPIPS, KL per sample, latent mean/std
             against scaling_factor
  unet       DiffUTE's measure: erase a line's box, inpaint its ground-truth text, read it back with
             OCR (Tesseract): character accuracy (1-CER) and line accuracy; PSNR/LPIPS of the edited
             box, PSNR of the ring around it, pixels changed outside the engine's paste (must be 0)
  pipeline   both, on one DiffUTE folder

  --model M      vae: a VAE folder (or one holding vae/ or ema_vae/, or an older checkpoint's ema/
                 or model/); unet|pipeline: a DiffUTE pipeline folder (unet/, vae/, glyph_encoder/
                 [glyph_projection/, scheduler/, model_index.json]; a UNet checkpoint is one); or r2://...
  --data D       dataset-format folder (or r2://...), or synthetic[:SEED] (generated pages; use a
                 seed other than training's)
  --limit N      examples (default 32 VAE crops, 16 DiffUTE lines)
  --seed S       crops, lines and sampling noise (default 0): the same seed, the same report
  --out DIR      write report.json, report.md and *-samples.png there
  --device D     cpu (default), cuda, cuda:N
  --lpips FILE   VGG16 features safetensors for LPIPS (not shipped, see docs/lpips.md)
  --crop-size N  VAE crop side (default 256, or the VAE's sample_size when smaller)
  --steps N      DiffUTE sampling steps (default 20)
  --sampler S    ddim (default), ddpm, euler, dpmpp2m, pndm
  --guidance G   classifier-free guidance scale (default: the pipeline's guidance_scale, else 1: off)
  --json         print the JSON report instead of the table
  --set-scaling-factor
                 vae: write scaling_factor = 1 / the measured latent std into the VAE folder's
                 config.json (a VAE trained from scratch, before a UNet is trained on it)

Exit codes: 0 done, 2 bad usage or input (missing model part, data), 1 anything else.
`;

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new DocAnonError(ErrorCode.ARGUMENT, `--${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

export const evalCommand: Command = {
  summary: 'evaluate a VAE, a DiffUTE UNet or a pipeline on held-out data (table + JSON report)',
  async run(args) {
    const [kind, ...rest] = args;
    if (!kind || kind === '--help' || kind === '-h') {
      process.stdout.write(HELP);
      return kind ? 0 : 2;
    }
    if (kind !== 'vae' && kind !== 'unet' && kind !== 'pipeline') throw new DocAnonError(ErrorCode.ARGUMENT, `unknown eval kind "${kind}" (vae, unet, pipeline)\n${HELP}`);
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        model: { type: 'string' },
        data: { type: 'string' },
        limit: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string', short: 'o' },
        device: { type: 'string' },
        lpips: { type: 'string' },
        'crop-size': { type: 'string' },
        steps: { type: 'string' },
        sampler: { type: 'string' },
        guidance: { type: 'string' },
        json: { type: 'boolean' },
        'set-scaling-factor': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!values.model || !values.data) throw new DocAnonError(ErrorCode.ARGUMENT, `--model and --data are required\n${HELP}`);
    if (values['set-scaling-factor'] && kind !== 'vae') throw new DocAnonError(ErrorCode.ARGUMENT, '--set-scaling-factor goes with eval vae');
    const bars: Record<string, (done: number) => void> = {};
    const report = await evaluate({
      kind,
      model: values.model,
      data: values.data,
      limit: int(values.limit, 'limit'),
      seed: int(values.seed, 'seed'),
      out: values.out,
      device: values.device,
      lpips: values.lpips,
      cropSize: int(values['crop-size'], 'crop-size'),
      steps: int(values.steps, 'steps'),
      guidanceScale: values.guidance === undefined ? undefined : Number(values.guidance),
      sampler: values.sampler as never,
      onProgress: (part, done, total) => {
        bars[part] ??= progressLine(`eval ${part}`, total);
        bars[part](done);
      },
    });
    if (values['set-scaling-factor'] && report.vae) {
      const w = writeScalingFactor(values.model, report.vae);
      process.stderr.write(`scaling_factor ${w.scalingFactor} (1 / latent std) written to ${path.join(w.dir, 'config.json')}\n`);
    }
    if (values.json) process.stdout.write(`${evalReportJson(report)}\n`);
    else process.stdout.write(formatEvalReport(report) + (report.files ? `\nwritten: ${report.files.join(', ')}\n` : ''));
    return 0;
  },
};
