/**
 * `doc-anon models <subcommand>`: getting, converting and publishing model weights. Each
 * subcommand lives in its own file (models-*.ts) and is registered in {@link modelsSubcommands}.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import type { Command } from './commands';
import { modelsAssembleCommand } from './models-assemble';
import { modelsConvertCommand } from './models-convert';
import { modelsLsCommand } from './models-ls';
import { modelsPromoteCommand } from './models-promote';
import { modelsPullCommand } from './models-pull';
import { modelsVerifyCommand } from './models-verify';

/** The `doc-anon models` subcommands, by name. */
export const modelsSubcommands: Record<string, Command> = {
  pull: modelsPullCommand,
  ls: modelsLsCommand,
  verify: modelsVerifyCommand,
  convert: modelsConvertCommand,
  assemble: modelsAssembleCommand,
  promote: modelsPromoteCommand,
};

function help(): string {
  const width = Math.max(...Object.keys(modelsSubcommands).map((n) => n.length));
  const lines = Object.entries(modelsSubcommands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `usage: doc-anon models <subcommand> [options]   (doc-anon models <subcommand> --help)\n\n${lines.join('\n')}\n`;
}

export const modelsCommand: Command = {
  summary: 'pull, list, verify, convert, assemble and promote models',
  async run(args) {
    const [name, ...rest] = args;
    if (!name || name === '--help' || name === '-h') {
      process.stdout.write(help());
      return name ? 0 : 2;
    }
    const sub = modelsSubcommands[name];
    if (!sub) throw new DocAnonError(ErrorCode.ARGUMENT, `unknown models subcommand "${name}" (${Object.keys(modelsSubcommands).join(', ')})`);
    return sub.run(rest);
  },
};
