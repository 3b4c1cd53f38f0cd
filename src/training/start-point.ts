/**
 * Where a training run starts: from scratch, from the newest local checkpoint, or from the newest
 * checkpoint in R2 (`storage.uri`), whichever is further along. A run without `resume` refuses an
 * output folder or storage URI that already holds checkpoints: it would overwrite or interleave
 * with that run's checkpoints (and its pushes would conflict with the published versions).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { ArtifactStore } from '../storage/store';
import { checkpointName, listCheckpoints } from './checkpoint';

const STEP_VERSION = /^step-(\d{8,})$/;

export interface StartPoint {
  from: 'scratch' | 'local' | 'r2';
  /** The optimizer step the run continues after (0 from scratch). */
  step: number;
  /** The local checkpoint folder to resume from (absent from scratch, and for R2 when not pulled). */
  dir?: string;
  /** The R2 version it came (or, without pulling, would come) from. */
  remote?: string;
}

export interface StartPointOptions {
  /** The run's checkpoints folder (checkpointsRoot(out)). */
  root: string;
  resume: boolean;
  store?: ArtifactStore;
  storageUri?: string;
  /** Download an R2 checkpoint chosen to resume from (false: a dry run only reports it). */
  pull: boolean;
}

/** The step an R2 checkpoint version is named after. */
function remoteStep(versionUri: string): number {
  const name = versionUri.split('/').pop() as string;
  const m = STEP_VERSION.exec(name);
  if (!m) {
    throw new DocAnonError(
      ErrorCode.CONFIG,
      `storage.uri's latest version ${versionUri} is not a training checkpoint (versions are named step-NNNNNNNN): point storage.uri at a folder of its own for this run`,
    );
  }
  return Number(m[1]);
}

export async function findStartPoint(o: StartPointOptions): Promise<StartPoint> {
  const local = listCheckpoints(o.root).at(-1);
  const latest = o.store && o.storageUri ? await o.store.latest(o.storageUri) : undefined;
  const remote = latest !== undefined ? { uri: latest, step: remoteStep(latest) } : undefined;
  if (!o.resume) {
    if (local || remote) {
      const where = local ? `${local.dir} (step ${local.step})` : `${remote?.uri} (step ${remote?.step})`;
      throw new DocAnonError(
        ErrorCode.CONFLICT,
        `this run's checkpoints already exist: ${where}. Pass --resume to continue that run, or start a new one with another --out${o.storageUri ? ' and storage.uri' : ''}`,
      );
    }
    return { from: 'scratch', step: 0 };
  }
  if (remote && (!local || remote.step > local.step)) {
    if (!o.pull) return { from: 'r2', step: remote.step, remote: remote.uri };
    const dir = path.join(o.root, checkpointName(remote.step));
    // Pulled beside its final name and renamed: an interrupted download never looks complete
    // (a stale .tmp- folder of a dead process is pruned with the checkpoints).
    const tmp = path.join(o.root, `.tmp-pull-${checkpointName(remote.step)}-${process.pid}-${Date.now()}`);
    try {
      await (o.store as ArtifactStore).pull(remote.uri, tmp);
      // Ranks of one machine started by an outside launcher pull side by side: the first complete
      // copy wins (a folder without trainer.json is an incomplete leftover and is replaced).
      if (listCheckpoints(o.root).some((c) => c.step === remote.step)) fs.rmSync(tmp, { recursive: true, force: true });
      else {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(tmp, dir);
      }
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    return { from: 'r2', step: remote.step, dir, remote: remote.uri };
  }
  if (local) return { from: 'local', step: local.step, dir: local.dir };
  return { from: 'scratch', step: 0 };
}
