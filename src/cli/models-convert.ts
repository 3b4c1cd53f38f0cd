/**
 * `doc-anon models convert`: PyTorch checkpoints to our safetensors layouts without Python (the
 * native core reads them with libtorch). Prints the conversion report as JSON.
 */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { convertVgg16 } from '../models/convert';
import { convertToPipeline } from '../models/pipeline-assembly';
import type { Command } from './commands';
import { helpExit, PIPELINE_PART_OPTIONS } from './models-options';

const HELP = `usage: doc-anon models convert vgg16-397923af.pth --out vgg16.safetensors
       doc-anon models convert <unet checkpoint> --to pipeline --vae DIR --glyph-encoder DIR
                               [--unet-config FILE] [--glyph-projection DIR] [--scheduler FILE|DIR] --out DIR

--to lpips (default): torchvision's VGG16 state dict -> the LPIPS backbone safetensors (every
features.* tensor bit for bit, the classifier dropped).
--to pipeline: a DiffUTE UNet checkpoint (accelerate's checkpoint-N/ with unet/ in diffusers
layout, a diffusers folder, or a bare pytorch_model.bin with --unet-config) plus a VAE folder and a
TrOCR VisionEncoderDecoderModel folder (its encoder is kept) -> a DiffUTE pipeline folder, loaded
strictly (every key mapped, every shape checked) before it is put in place.
Reads torch.save files in the zip container (PyTorch >= 1.6) and in the legacy one before it
(torchvision's 2017 vgg16-397923af.pth); nothing in the pickle is executed.
`;

export const modelsConvertCommand: Command = {
  summary: 'convert PyTorch checkpoints (VGG16 for LPIPS, DiffUTE + TrOCR) to safetensors / a pipeline folder',
  async run(args) {
    const helped = helpExit(args, HELP);
    if (helped !== undefined) return helped;
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...PIPELINE_PART_OPTIONS,
        to: { type: 'string' },
      },
    });
    const [src, ...extra] = positionals;
    if (!src || extra.length) throw new DocAnonError(ErrorCode.ARGUMENT, 'convert takes one source checkpoint (see doc-anon models convert --help)');
    if (!values.out) throw new DocAnonError(ErrorCode.ARGUMENT, 'convert needs --out');
    const to = values.to ?? 'lpips';
    let report;
    if (to === 'lpips') {
      report = await convertVgg16(src, values.out);
    } else if (to === 'pipeline') {
      if (!values.vae || !values['glyph-encoder']) throw new DocAnonError(ErrorCode.ARGUMENT, '--to pipeline needs --vae DIR and --glyph-encoder DIR (the TrOCR folder)');
      report = await convertToPipeline(
        { unet: src, vae: values.vae, glyphEncoder: values['glyph-encoder'], glyphProjection: values['glyph-projection'], scheduler: values.scheduler, unetConfig: values['unet-config'] },
        values.out,
      );
    } else {
      throw new DocAnonError(ErrorCode.ARGUMENT, `--to must be lpips or pipeline, got "${to}"`);
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
};
