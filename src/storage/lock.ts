/**
 * A cross-process lock file created with O_EXCL (`wx`). Holders refresh its mtime; a lock whose
 * holder is a dead process on this host, or whose mtime is older than `staleMs`, is broken.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { DocAnonError, ErrorCode } from '../core/errors';
import { sleep } from './retry';

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Give up waiting after this long (default 10 min). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is considered abandoned (default 60 s). */
  staleMs?: number;
  /** Poll interval while waiting (default 100 ms). */
  pollMs?: number;
}

/** A held lock; call release() in a finally. */
export interface LockHandle {
  release(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [st, text] = await Promise.all([fs.promises.stat(lockPath), fs.promises.readFile(lockPath, 'utf8')]);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const info = JSON.parse(text) as { pid?: unknown; host?: unknown };
    return info.host === os.hostname() && typeof info.pid === 'number' && !pidAlive(info.pid);
  } catch {
    // Unreadable or half-written (a holder between open and write): not stale unless old, which
    // the mtime check above already covers on the next poll.
    return false;
  }
}

/**
 * Acquires `lockPath`, waiting while another holder has it.
 * @throws DocAnonError ERR_IO when the wait exceeds `timeoutMs`.
 */
export async function acquireLock(lockPath: string, opts: LockOptions = {}): Promise<LockHandle> {
  const staleMs = opts.staleMs ?? 60_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  for (;;) {
    try {
      const fh = await fs.promises.open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), createdAt: new Date().toISOString() }));
      } finally {
        await fh.close();
      }
      const timer = setInterval(() => {
        const now = new Date();
        fs.promises.utimes(lockPath, now, now).catch(() => undefined);
      }, Math.max(1000, Math.floor(staleMs / 3)));
      timer.unref();
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(timer);
          await fs.promises.rm(lockPath, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lockPath, staleMs)) {
      await fs.promises.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new DocAnonError(ErrorCode.IO, `Timed out waiting for lock ${lockPath}. If no other doc-anon process is running, delete it.`);
    }
    await sleep(opts.pollMs ?? 100);
  }
}
