/**
 * The local rank launcher (`--nproc N`): runs N local ranks of the same command as child processes, with the environment
 * torchrun would give them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT on a free loopback port). Waits for all; when one fails the others are stopped
 * (they would otherwise wait in a collective until the timeout) and the job fails. SIGINT or
 * SIGTERM to the launcher reaches every rank as SIGTERM (as torchrun does): they finish the step,
 * checkpoint and exit 130, and so does the launcher, once they have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import type { Logger } from 'pino';

/** The exit code of a training run stopped by SIGINT/SIGTERM after writing its checkpoint (128 + SIGINT). */
export const STOPPED_BY_SIGNAL = 130;

/** A TCP port free on 127.0.0.1 right now (rank 0's TCPStore binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SpawnRanksOptions {
  nproc: number;
  /** The command and its arguments for each rank (without --nproc). */
  args: string[];
  logger?: Logger;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** The script each rank runs with `args` (the CLI's entry, for `doc-anon train-*`). */
  entry: string;
}

/**
 * Resolves with 0 when all ranks exit 0; 130 when they were stopped by a signal (exit 130, each
 * with its checkpoint); otherwise with the first failing rank's exit code (killed by a signal: 1).
 */
export async function spawnRanks(o: SpawnRanksOptions): Promise<number> {
  const port = await freePort();
  const entry = o.entry;
  const children: ChildProcess[] = [];
  let failed: { rank: number; code: number } | null = null;
  let stopped = false;
  let forwarded = false;
  const exits = Array.from({ length: o.nproc }, (_, rank) => {
    const child = spawn(process.execPath, [entry, ...o.args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ...o.env,
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(o.nproc),
        LOCAL_WORLD_SIZE: String(o.nproc),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
      },
    });
    children.push(child);
    return new Promise<void>((resolve) => {
      child.once('error', (e) => {
        o.logger?.error({ rank, err: e.message }, 'rank could not start');
        failed ??= { rank, code: 1 };
        stopOthers(rank);
        resolve();
      });
      child.once('exit', (code, signal) => {
        const c = code ?? 1;
        // 130: the rank got a signal (or learned of another rank's) and stopped with a checkpoint;
        // a rank still starting up when the launcher passed a signal on just ends by it.
        if (c === STOPPED_BY_SIGNAL || (forwarded && (signal === 'SIGTERM' || signal === 'SIGINT'))) stopped = true;
        else if (c !== 0 && !failed) {
          failed = { rank, code: c };
          o.logger?.error({ rank, code, signal }, `rank ${rank} failed: stopping the other ranks`);
          stopOthers(rank);
        }
        resolve();
      });
    });
  });
  function stopOthers(except: number): void {
    children.forEach((c, i) => {
      if (i !== except && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  // The launcher waits for its ranks instead of dying at once: a signal to it alone (kill, a job
  // scheduler) is passed on, so no rank is orphaned and the launcher's exit means they are done.
  // Ctrl-C in a terminal also reaches the ranks directly (one process group); the SIGTERM forwarded
  // on top changes nothing, and a second Ctrl-C makes each rank exit at once.
  const forward = (): void => {
    if (!forwarded) o.logger?.warn('signal received: each rank finishes its step and writes a checkpoint');
    forwarded = true;
    children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGTERM'));
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  if (failed) return (failed as { code: number }).code || 1;
  return stopped ? STOPPED_BY_SIGNAL : 0;
}
