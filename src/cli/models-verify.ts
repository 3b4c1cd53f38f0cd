/** `doc-anon models verify DIR`: a model folder checked against its manifest.json. */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { verifyModelFolder } from '../models/model-folders';
import type { Command } from './commands';
import { helpExit } from './models-options';

const HELP = `usage: doc-anon models verify DIR

Checks every file of DIR against the manifest.json it came with (models pull, artifacts pull,
promote): size and sha256, and files the manifest does not list. Prints a JSON report; exits 0 when
the folder matches, else 1 with ERR_INTEGRITY naming the files.
`;

export const modelsVerifyCommand: Command = {
  summary: 'check a model folder against its manifest (sizes and sha256)',
  async run(args) {
    const helped = helpExit(args, HELP);
    if (helped !== undefined) return helped;
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
    if (positionals.length !== 1) throw new DocAnonError(ErrorCode.ARGUMENT, 'verify takes one folder');
    const r = await verifyModelFolder(positionals[0]!);
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    if (!r.ok) {
      throw new DocAnonError(ErrorCode.INTEGRITY, `${r.dir} does not match its manifest: ${r.problems.map((p) => `${p.path} (${p.problem})`).join(', ')}`);
    }
    process.stderr.write(`${r.dir}: ${r.checked} file(s) match the manifest\n`);
    return 0;
  },
};
