/**
 * What the `doc-anon models` subcommands that build a pipeline folder share: the options naming
 * its parts, and the help / usage answer.
 */

/** parseArgs options naming the parts of a pipeline folder besides the UNet (convert --to pipeline, assemble). */
export const PIPELINE_PART_OPTIONS = {
  vae: { type: 'string' },
  'glyph-encoder': { type: 'string' },
  'glyph-projection': { type: 'string' },
  scheduler: { type: 'string' },
  'unet-config': { type: 'string' },
  out: { type: 'string' },
} as const;

/**
 * Prints `help` for `--help` / `-h` (exit 0) or no arguments (usage: exit 2); undefined when the
 * subcommand should run.
 */
export function helpExit(args: readonly string[], help: string): number | undefined {
  if (args.length > 0 && !args.includes('--help') && !args.includes('-h')) return undefined;
  process.stdout.write(help);
  return args.length === 0 ? 2 : 0;
}
