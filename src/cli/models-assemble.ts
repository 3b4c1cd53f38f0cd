/** `doc-anon models assemble`: a DiffUTE pipeline folder from parts (a trained UNet, the SD2 VAE, TrOCR). */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { assemblePipeline } from '../models/pipeline-assembly';
import type { Command } from './commands';
import { helpExit, PIPELINE_PART_OPTIONS } from './models-options';

const HELP = `usage: doc-anon models assemble --unet <dir|ckpt> --vae <dir> --glyph-encoder <dir>
                                [--glyph-projection <dir>] [--scheduler <file|dir>] [--unet-config FILE]
                                [--ema] [--link] --out DIR

Builds a pipeline folder (model_index.json, unet/, vae/, glyph_encoder/, [glyph_projection/],
scheduler/) and checks that it loads. Parts in our layout are copied (--link: named by absolute
path or r2:// URI in model_index.json _sources instead); others are converted (see models convert).
--ema takes a training checkpoint's EMA UNet (ema_unet/) when it has one. Prints a JSON report.
`;

export const modelsAssembleCommand: Command = {
  summary: 'build a DiffUTE pipeline folder from a UNet, a VAE and a glyph encoder',
  async run(args) {
    const helped = helpExit(args, HELP);
    if (helped !== undefined) return helped;
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...PIPELINE_PART_OPTIONS,
        unet: { type: 'string' },
        ema: { type: 'boolean' },
        link: { type: 'boolean' },
      },
    });
    if (positionals.length) throw new DocAnonError(ErrorCode.ARGUMENT, `assemble takes no positional arguments (got ${positionals.join(' ')})`);
    if (!values.unet || !values.vae || !values['glyph-encoder'] || !values.out) {
      throw new DocAnonError(ErrorCode.ARGUMENT, 'assemble needs --unet, --vae, --glyph-encoder and --out');
    }
    const report = await assemblePipeline(
      { unet: values.unet, vae: values.vae, glyphEncoder: values['glyph-encoder'], glyphProjection: values['glyph-projection'], scheduler: values.scheduler, unetConfig: values['unet-config'] },
      values.out,
      { link: values.link ?? false, preferEma: values.ema ?? false },
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
};
