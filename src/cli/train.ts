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
import { info } from '../core/runtime';
import { ArtifactStore } from '../storage/store';
import { checkpointsRoot, STEP_DIR } from '../training/checkpoint';
import { distEnvFromProcess, ProcessGroup, rankDevice, type DistEnv } from '../training/distributed';
import { createTrainer, jobShape, runTrainer, splitThreads, trainingPlan, type Trainer } from '../training/job';
import { loadUnetTrainConfig, loadVaeTrainConfig, type TrainConfig } from '../training/config';
import { stopStep } from '../training/loop';
import { findStartPoint, type StartPoint } from '../training/start-point';
import type { Command } from './commands';
import { progressLine } from './progress';
import { spawnRanks, STOPPED_BY_SIGNAL, withoutNproc } from './spawn-ranks';
import { checkRanksStartTogether, deviceCheck, formatFindings, planFindings } from './train-checks';

const HELP = (kind: string): string => `usage: doc-anon train-${kind} --config FILE [--resume] [--device cpu|cuda[:N]] [--max-steps N] [--out DIR] [--nproc N] [--dry-run]`;

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
      const out = path.resolve(values.out ?? cfg.output_dir);
      const device = values.device ?? cfg.train.device;
      if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new DocAnonError(ErrorCode.ARGUMENT, `--device must be cpu, cuda or cuda:N, got ${device}`);
      const maxSteps = stopStep(values['max-steps'] === undefined ? undefined : Number(values['max-steps']), cfg.train.max_steps);
      const log = logger();
      const dryRun = values['dry-run'];
      // ERR_CONFIG without R2 credentials; a dry run goes on and reports it with every other problem.
      let store: ArtifactStore | undefined;
      try {
        store = cfg.storage.uri ? new ArtifactStore({ logger: log }) : undefined;
      } catch (e) {
        if (!dryRun) throw e;
      }
      try {
        // (A dry run reads R2 but downloads nothing: it reports where the run would start.)
        let startProblem: Error | undefined;
        const start = await findStartPoint({ root: checkpointsRoot(out), resume: values.resume, store, storageUri: store ? cfg.storage.uri : undefined, pull: !dryRun }).catch(
          (e: unknown) => {
            if (!dryRun) throw e;
            startProblem = e as Error;
            return { from: 'scratch', step: 0 } as StartPoint;
          },
        );
        if (values.resume && start.from === 'scratch') log.warn({ out, storage: cfg.storage.uri ?? null }, '--resume: no checkpoint found, starting from scratch');
        const resumeFrom = start.dir;
        const cuda = info().cuda;
        const job = jobShape(device, nproc, dist);
        // A dry run plans a job for another machine as well (a laptop planning a GPU job): device
        // problems are reported in the plan, not raised.
        const deviceProblem = deviceCheck(device, nproc, job.worldSize, cuda);
        if (deviceProblem && !dryRun) throw deviceProblem;
        if (dryRun) {
          // Every problem at once (R2 variables, each missing source, the bucket, the device, the
          // start), each with its fix: one dry run tells everything to fix. Exit 2 when any.
          const s = store;
          const { findings, sources } = await planFindings({
            cfg,
            device,
            nproc,
            worldSize: job.worldSize,
            cuda,
            log,
            // The command's store (closed below), not one of planFindings' own.
            makeStore: s ? () => ({ resolve: (u: string) => s.resolve(u), listVersions: (u: string) => s.listVersions(u), close: () => undefined }) : undefined,
          });
          if (startProblem) {
            const conflict = startProblem instanceof DocAnonError && startProblem.code === ErrorCode.CONFLICT;
            findings.push({
              check: 'start',
              problem: startProblem.message,
              fix: conflict ? 'pass --resume to continue it, or choose another --out / storage.uri' : 'see the storage findings',
              code: startProblem instanceof DocAnonError ? (startProblem.code as ErrorCode) : ErrorCode.INTERNAL,
            });
          }
          const storage = !cfg.storage.uri ? null : findings.some((f) => f.check === 'r2' || f.check === 'storage.uri') ? 'not usable' : 'reachable';
          const checks = { sources, start, device: deviceProblem ? `not usable here: ${deviceProblem.message}` : 'ok', storage, findings };
          process.stdout.write(`${JSON.stringify({ ...trainingPlan(cfg, out, maxSteps, device, resumeFrom, job), checks }, null, 2)}\n`);
          if (findings.length === 0) return 0;
          process.stderr.write(formatFindings(findings));
          return 2;
        }
        if (nproc > 1) {
          // The launcher trains nothing itself: each child is a rank of the same command.
          log.info({ nproc, device }, `train-${kind}: starting ${nproc} local ranks`);
          return spawnRanks({ nproc, args: [`train-${kind}`, ...withoutNproc(args)], logger: log });
        }
        const writer = dist.rank === 0;
        // Only rank 0 reports progress; the others speak up only for problems.
        if (!writer) log.level = 'warn';
        if (writer && store && cfg.storage.uri) {
          // This run is the artifact's only writer: uploads its earlier attempt left half-done
          // (preempted mid-push) would make the same steps' pushes conflict.
          const cleared = await store.abandonAllIncomplete(cfg.storage.uri, STEP_DIR);
          if (cleared.length) log.warn({ versions: cleared }, 'storage: removed unpublished uploads of an earlier attempt');
        }
        const rankDev = rankDevice(device, dist);
        splitThreads(cfg, dist, rankDev);
        const group = dist.worldSize > 1 ? await ProcessGroup.join(dist, rankDev) : undefined;
        let trainer: Trainer;
        try {
          trainer = await createTrainer(cfg, { device: rankDev, resumeFrom, processGroup: group });
        } catch (e) {
          group?.dispose();
          throw e;
        }
        if (writer) {
          fs.mkdirSync(out, { recursive: true });
          fs.writeFileSync(path.join(out, 'config.resolved.json'), `${JSON.stringify(cfg, null, 2)}\n`);
        }
        try {
          if (group) await checkRanksStartTogether(group, trainer.step);
          if (trainer.resumeChanges.length) log.warn({ changed: trainer.resumeChanges }, `train-${kind}: resuming with a changed recipe (not a continuation of the same LR curve and losses)`);
          const precision = rankDev.startsWith('cuda') && cfg.train.autocast ? 'bf16 autocast, float32 weights' : 'float32';
          log.info({ plan: trainingPlan(cfg, out, maxSteps, rankDev, resumeFrom, job), weightsOn: trainer.weightsDevice, precision }, `train-${kind}: starting at step ${trainer.step}`);
          const bar = writer ? progressLine(`train-${kind}`, maxSteps, trainer.step) : () => {};
          const r = await runTrainer(trainer, {
            outDir: out,
            maxSteps,
            logger: log,
            writer,
            store: writer ? store : undefined,
            storageUri: cfg.storage.uri,
            // A local checkpoint ahead of R2 (its push failed or was cut short) goes up first.
            pushFirst: start.from === 'local' && (start.remoteStep ?? -1) < start.step ? start.dir : undefined,
            onStep: (s, step) => {
              const terms = Object.entries(s.terms)
                .filter(([k]) => k !== 'latentStd')
                .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
                .join(' ');
              bar(step, `${terms} lr=${s.lr.toExponential(2)} ${((s.examples * 1000) / s.stepMs).toFixed(1)} samples/s`);
            },
          });
          // No rank leaves (closing its connections) while rank 0 still writes its last checkpoint.
          if (group) await group.barrier();
          log.info({ steps: r.steps, stoppedBy: r.stoppedBy, checkpoint: r.lastCheckpoint, dataWaitFraction: r.dataWaitFraction }, `train-${kind}: ${r.stoppedBy === 'signal' ? 'stopped by signal' : 'done'}`);
          return r.stoppedBy === 'signal' ? STOPPED_BY_SIGNAL : 0;
        } finally {
          trainer.dispose();
          group?.dispose();
        }
      } finally {
        store?.close(); // (its HTTP connections; background pushes were flushed by the loop)
      }
    },
  };
}

export const trainVaeCommand = makeCommand('vae');
export const trainUnetCommand = makeCommand('unet');
