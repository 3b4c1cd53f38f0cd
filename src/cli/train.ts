/**
 * `doc-anon train-vae` and `doc-anon train-unet`: run a training config.
 *   --config F      YAML config (configs/training/*.yaml)
 *   --resume        continue from the newest checkpoint of the output folder and, with storage.uri,
 *                   of R2 (whichever is further along; an R2 one is downloaded). Without it, a run
 *                   whose output folder or storage.uri already holds checkpoints is refused.
 *   --device D      cpu | cuda | cuda:N (overrides train.device)
 *   --max-steps N   stop after step N <= train.max_steps (the LR schedule still spans train.max_steps)
 *   --out DIR       output folder (overrides output_dir)
 *   --nproc N       data-parallel training on N local ranks (child processes); ranks started by
 *                   torchrun-style env vars (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK)
 *                   join the same way. Each rank trains on its shard; only rank 0 writes.
 *   --dry-run       print the resolved plan and train nothing: checks the config, that every model,
 *                   dataset and LPIPS source exists (r2:// ones are published; nothing is
 *                   downloaded), the R2 variables and bucket, where the run would start, and the
 *                   device; lists every problem found at once, each with its fix, and exits 2
 * Progress line on a TTY, JSON log lines otherwise; metrics appended to <out>/metrics.jsonl;
 * SIGINT/SIGTERM write a checkpoint and exit (a second SIGINT exits at once); any failure exits non-zero with the reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { logger } from '../core/logger';
import { formatFindings } from '../training/checks';
import { loadUnetTrainConfig, loadVaeTrainConfig, type TrainConfig } from '../training/config';
import { distEnvFromProcess, type DistEnv } from '../training/distributed';
import { runTrainingJob } from '../training/job';
import { stopStep } from '../training/loop';
import type { Command } from './commands';
import { progressLine } from './progress';

const HELP = (kind: string): string => `usage: doc-anon train-${kind} --config FILE [--resume] [--device cpu|cuda[:N]] [--max-steps N] [--out DIR] [--nproc N] [--dry-run]`;

/** The CLI script the ranks of `--nproc` run: this process's own entry when it is the CLI, else the compiled lib/cli/main.js. */
export function cliEntry(): string {
  const own = process.argv[1];
  if (own && /[\\/]cli[\\/]main\.js$/.test(own)) return own;
  const compiled = path.join(__dirname, 'main.js');
  if (fs.existsSync(compiled)) return compiled;
  const lib = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
  if (fs.existsSync(lib)) return lib;
  throw new DocAnonError(ErrorCode.UNSUPPORTED, '--nproc needs the compiled CLI (lib/cli/main.js): run npm run build:ts');
}

/** Removes `--nproc N` / `--nproc=N` so the children run as ranks, not as launchers. */
export function withoutNproc(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--nproc') i++;
    else if (!args[i].startsWith('--nproc=')) out.push(args[i]);
  }
  return out;
}

/** The step's loss terms, learning rate and throughput, for the progress line. */
function stepSummary(s: { terms: Record<string, number>; lr: number; examples: number; stepMs: number }): string {
  const terms = Object.entries(s.terms)
    .filter(([k]) => k !== 'latentStd')
    .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
    .join(' ');
  return `${terms} lr=${s.lr.toExponential(2)} ${((s.examples * 1000) / s.stepMs).toFixed(1)} samples/s`;
}

function makeCommand(kind: 'vae' | 'unet'): Command {
  return {
    summary: kind === 'vae' ? 'train / fine-tune the VAE (recon + beta*KL + LPIPS)' : 'train the DiffUTE UNet (glyph-conditioned inpainting)',
    async run(args: string[]): Promise<number> {
      const { values } = parseArgs({
        args,
        options: {
          config: { type: 'string' },
          resume: { type: 'boolean', default: false },
          device: { type: 'string' },
          'max-steps': { type: 'string' },
          out: { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          nproc: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      });
      if (values.help) {
        process.stdout.write(`${HELP(kind)}\n`);
        return 0;
      }
      if (!values.config) throw new DocAnonError(ErrorCode.ARGUMENT, `--config is required\n${HELP(kind)}`);
      let nproc = 1;
      if (values.nproc !== undefined) {
        nproc = Number(values.nproc);
        if (!Number.isInteger(nproc) || nproc < 1 || nproc > 1024) throw new DocAnonError(ErrorCode.ARGUMENT, '--nproc must be a positive integer');
      }
      const dist: DistEnv = distEnvFromProcess();
      if (nproc > 1 && dist.worldSize > 1) {
        throw new DocAnonError(ErrorCode.ARGUMENT, `--nproc ${nproc} inside a distributed job (WORLD_SIZE=${dist.worldSize}): launch with one or the other`);
      }
      const cfg: TrainConfig = kind === 'vae' ? loadVaeTrainConfig(values.config) : loadUnetTrainConfig(values.config);
      if (cfg.kind !== kind) throw new DocAnonError(ErrorCode.CONFIG, `${values.config} is a ${cfg.kind} config; use train-${cfg.kind}`);
      const device = values.device ?? cfg.train.device;
      if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new DocAnonError(ErrorCode.ARGUMENT, `--device must be cpu, cuda or cuda:N, got ${device}`);
      let bar: ((step: number, text: string) => void) | undefined;
      const outcome = await runTrainingJob(
        {
          cfg,
          out: path.resolve(values.out ?? cfg.output_dir),
          device,
          maxSteps: stopStep(values['max-steps'] === undefined ? undefined : Number(values['max-steps']), cfg.train.max_steps),
          nproc,
          resume: values.resume,
          dryRun: values['dry-run'],
          dist,
          rankCommand: nproc > 1 ? { entry: cliEntry(), args: [`train-${kind}`, ...withoutNproc(args)] } : undefined,
          logger: logger(),
        },
        {
          onStart: (step, maxSteps) => {
            bar = progressLine(`train-${kind}`, maxSteps, step);
          },
          onStep: (s, step) => bar?.(step, stepSummary(s)),
        },
      );
      if (outcome.kind !== 'plan') return outcome.exitCode;
      // A dry run: the plan on stdout; every problem found, each with its fix, on stderr (exit 2).
      process.stdout.write(`${JSON.stringify(outcome.plan, null, 2)}\n`);
      if (outcome.findings.length === 0) return 0;
      process.stderr.write(formatFindings(outcome.findings));
      return 2;
    },
  };
}

export const trainVaeCommand = makeCommand('vae');
export const trainUnetCommand = makeCommand('unet');
