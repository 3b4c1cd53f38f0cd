/** `doc-anon info`: what the native core was built with and can use. */
import { parseArgs } from 'node:util';
import { info } from '../core/runtime';
import type { Command } from './commands';

export const infoCommand: Command = {
  summary: 'print libtorch, CUDA, thread and build information (JSON with --json)',
  async run(args) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write('usage: doc-anon info [--json]\n');
      return 0;
    }
    const i = info();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `doc-anon-torch ${i.version}`,
      `libtorch       ${i.libtorch}`,
      `addon          ${i.addon.kind === 'prebuilt' ? 'prebuilt' : i.addon.kind === 'env' ? 'DOC_ANON_NATIVE' : 'built from source'} (${i.addon.path})`,
      `cuda           ${i.cuda.available ? `${i.cuda.deviceCount} device(s)` : i.cuda.builtWithCuda ? 'built with CUDA, no GPU visible' : 'not built with CUDA'}`,
      `threads        intra-op ${i.threads.intraOp}, inter-op ${i.threads.interOp}`,
      `sdpa           ${i.sdpa ? 'yes' : 'no'}`,
      `mkldnn         ${i.mkldnn ? 'yes' : 'no'}`,
      `gloo (CPU DDP) ${i.gloo ? 'yes' : 'no (built without gloo headers)'}`,
      `nccl (GPU DDP) ${i.nccl ? 'yes' : 'no'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
