/**
 * `--nproc N`: runs N local ranks of the same command as child processes, with the environment
 * torchrun would give them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT on a free loopback port). Waits for all; when one fails the others are stopped
 * (they would otherwise wait in a collective until the timeout) and the job fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';

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

/** The CLI script the children run: this process's own entry when it is the CLI, else the compiled lib/cli/main.js. */
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

export interface SpawnRanksOptions {
  nproc: number;
  /** The command and its arguments for each rank (without --nproc). */
  args: string[];
  logger?: Logger;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
}

/** Resolves with 0 when all ranks exit 0; otherwise with the first failing rank's exit code (signals: 1). */
export async function spawnRanks(o: SpawnRanksOptions): Promise<number> {
  const port = await freePort();
  const entry = cliEntry();
  const children: ChildProcess[] = [];
  let failed: { rank: number; code: number } | null = null;
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
        if (c !== 0 && !failed) {
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
  // Ctrl-C reaches the children through the terminal's process group; a SIGTERM sent to the
  // launcher alone is forwarded so no rank is orphaned.
  const forward = (): void => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.on('SIGTERM', forward);
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGTERM', forward);
  }
  return failed ? (failed as { code: number }).code || 1 : 0;
}
