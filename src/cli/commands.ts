/** The table of `doc-anon` subcommands. */
import { anonymizeCommand } from './anonymize';
import { artifactsCommand } from './artifacts';
import { auditCommand } from './audit';
import { datasetCommand } from './dataset';
import { detectCommand } from './detect';
import { evalCommand } from './eval';
import { modelsCommand } from './models';
import { serveCommand } from './serve';
import { infoCommand } from './info';
import { trainUnetCommand, trainVaeCommand } from './train';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  info: infoCommand,
  anonymize: anonymizeCommand,
  artifacts: artifactsCommand,
  audit: auditCommand,
  detect: detectCommand,
  serve: serveCommand,
  'train-vae': trainVaeCommand,
  'train-unet': trainUnetCommand,
  dataset: datasetCommand,
  eval: evalCommand,
  models: modelsCommand,
};
