#!/usr/bin/env node
/**
 * The `doc-anon` command. Subcommands live in their own files; this one only dispatches.
 * Exit codes: 0 success, and for a failure the error table's (src/core/errors.ts: 2 bad usage or
 * bad input, 1 anything else).
 */
import { exitStatus, isDocAnonError } from '../core/errors';
import { commands } from './commands';

const USAGE = `usage: doc-anon <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`)
  .join('\n')}

Run "doc-anon <command> --help" for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`doc-anon: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isDocAnonError(e)) {
      process.stderr.write(`doc-anon ${name}: ${e.code}: ${e.message}\n`);
      return exitStatus(e.code);
    }
    // node:util parseArgs: an unknown option or a missing value is bad usage, not an internal failure.
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`doc-anon ${name}: ERR_ARGUMENT: ${(e as Error).message} (see doc-anon ${name} --help)\n`);
      return 2;
    }
    process.stderr.write(`doc-anon ${name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`doc-anon: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
