/** The table of `doc-anon` subcommands. */
import { infoCommand } from './info';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  info: infoCommand,
};
