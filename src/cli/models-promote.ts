/**
 * `doc-anon models promote`: a UNet training checkpoint becomes a served model in R2 (a
 * self-contained pipeline artifact with a model card); `latest` moves only once it is published.
 */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { promoteCheckpoint } from '../training/promote';
import type { Command } from './commands';
import { helpExit } from './models-options';

const HELP = `usage: doc-anon models promote <checkpoint dir | r2://bucket/.../step-N> r2://bucket/models/<name>/<version> [--no-latest]

Publishes the checkpoint (its EMA UNet when it has one, the frozen VAE and glyph encoder it names
copied in, a README.md model card with the recipe, steps and that checkpoint's evaluation) as a
pipeline artifact, then points r2://bucket/models/<name>/latest at it (not with --no-latest).
A version that exists is never overwritten (ERR_CONFLICT); an interrupted promote publishes
nothing and leaves latest where it was. R2 credentials come from the environment.
`;

export const modelsPromoteCommand: Command = {
  summary: 'publish a training checkpoint as a pipeline artifact in R2 and move latest to it',
  async run(args) {
    const helped = helpExit(args, HELP);
    if (helped !== undefined) return helped;
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { 'no-latest': { type: 'boolean' } } });
    const [source, target, ...extra] = positionals;
    if (!source || !target || extra.length) throw new DocAnonError(ErrorCode.ARGUMENT, 'promote needs <checkpoint> <r2://bucket/models/name/version>');
    if (!target.startsWith('r2://')) throw new DocAnonError(ErrorCode.ARGUMENT, `the target must be an r2:// version URI, got ${target}`);
    const r = await promoteCheckpoint(source, target, { setLatest: !values['no-latest'] });
    process.stderr.write(`promoted ${source} to ${r.uri}${r.latest ? ' (now latest)' : ''}\n`);
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  },
};
