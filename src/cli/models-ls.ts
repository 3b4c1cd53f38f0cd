/** `doc-anon models ls`: the model folders in the cache, and what each one is. */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { listCachedModels } from '../models/model-folders';
import { defaultCacheRoot } from '../storage/cache';
import type { Command } from './commands';
import { formatBytes } from './progress';

const HELP = `usage: doc-anon models ls [--json]

Lists the model folders in the cache ($DOC_ANON_CACHE, default ~/.cache/doc-anon-torch): models
pulled from the Hub (hf://owner/name@commit) and R2 artifacts loaded by r2:// URIs, with what each
is, its size and when it was last used (the cache evicts the least recently used first).
`;

export const modelsLsCommand: Command = {
  summary: 'list the model folders in the cache and what each one is',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
    if (positionals.length) throw new DocAnonError(ErrorCode.ARGUMENT, 'models ls takes no arguments');
    const models = listCachedModels();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
      return 0;
    }
    if (models.length === 0) {
      process.stdout.write(`no models in ${defaultCacheRoot()}\n`);
      return 0;
    }
    for (const m of models) {
      process.stdout.write(`${m.source}\n  ${m.kind}, ${m.files} file(s), ${formatBytes(m.bytes)}, last used ${m.lastUsed}\n  ${m.dir}\n`);
    }
    return 0;
  },
};
