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
import { checkpointName, listCheckpoints, META_FILE, STEP_DIR } from './checkpoint';

export interface StartPoint {
  from: 'scratch' | 'local' | 'r2';
  /** The optimizer step the run continues after (0 from scratch). */
  step: number;
  /** The local checkpoint folder to resume from (absent from scratch, and for R2 when not pulled). */
  dir?: string;
  /** The R2 version it came (or, without pulling, would come) from. */
  remote?: string;
  /** The newest checkpoint step in R2 (absent: none, or no storage.uri). */
  remoteStep?: number;
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

export async function findStartPoint(o: StartPointOptions): Promise<StartPoint> {
  const local = listCheckpoints(o.root).at(-1);
  // The newest published checkpoint by step (not the `latest` pointer, which a writer that died
  // between publishing and moving it leaves behind); versions not named step-N are not checkpoints.
  let remote: { uri: string; step: number } | undefined;
  for (const v of o.store && o.storageUri ? await o.store.listVersions(o.storageUri) : []) {
    const m = STEP_DIR.exec(v.version);
    if (m && (!remote || Number(m[1]) > remote.step)) remote = { uri: v.uri, step: Number(m[1]) };
  }
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
    if (!o.pull) return { from: 'r2', step: remote.step, remote: remote.uri, remoteStep: remote.step };
    const dir = path.join(o.root, checkpointName(remote.step));
    // Pulled beside its final name and renamed: an interrupted download never looks complete
    // (a stale .tmp- folder of a dead process is pruned with the checkpoints).
    const tmp = path.join(o.root, `.tmp-pull-${checkpointName(remote.step)}-${process.pid}-${Date.now()}`);
    try {
      await (o.store as ArtifactStore).pull(remote.uri, tmp);
      // Ranks of one machine started by an outside launcher pull side by side: the first complete
      // copy wins (renames are atomic, so a folder without trainer.json is a leftover of an older
      // non-atomic pull and is replaced).
      const complete = (): boolean => listCheckpoints(o.root).some((c) => c.step === remote.step);
      if (!complete()) {
        if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, META_FILE))) fs.rmSync(dir, { recursive: true, force: true });
        try {
          fs.renameSync(tmp, dir);
        } catch (e) {
          if (!complete()) throw e; // (another rank's rename won the race otherwise)
        }
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return { from: 'r2', step: remote.step, dir, remote: remote.uri, remoteStep: remote.step };
  }
  if (local) return { from: 'local', step: local.step, dir: local.dir, ...(remote ? { remoteStep: remote.step } : {}) };
  return { from: 'scratch', step: 0 };
}
