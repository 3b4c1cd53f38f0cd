/**
 * Background pushes for trainers: checkpoints upload one at a time while training continues; a
 * failed push is retried (transient failures only) and reported; `flush()` waits before exit.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import type { PushOptions, PushResult } from './artifacts';
import { newWriterId } from './claim';
import { silentLogger, type StorageLogger } from './log';
import { backoffDelay, isTransientError, sleep } from './retry';

/** State of a background push. */
export type PushState = 'queued' | 'uploading' | 'done' | 'failed';

/** A background push. The folder must not change until it settles. */
export interface PushHandle {
  readonly uri: string;
  readonly state: PushState;
  /** The error of a failed push. */
  readonly error?: unknown;
  /** Waits for this push; rejects when it failed after its retries. */
  flush(): Promise<PushResult>;
}

/** Options of {@link BackgroundPusher}. */
export interface BackgroundOptions {
  /** Whole-push retries after transient failures (default 3). */
  retries?: number;
  /** First backoff ceiling between whole-push retries in ms (default 2000; doubles, max 60000). */
  baseDelayMs?: number;
  /** Called when a push fails for good (after logging it). */
  onError?: (err: unknown, uri: string) => void;
  /** Called when a push is published. */
  onDone?: (result: PushResult) => void;
  logger?: StorageLogger;
}

type PushFn = (dir: string, uri: string, opts: PushOptions) => Promise<PushResult>;

/** A serial queue of pushes running in the background. */
export class BackgroundPusher {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<Promise<PushResult>>();
  /** Failures not yet reported by flush(). */
  private failures: { uri: string; error: unknown }[] = [];
  private readonly log: StorageLogger;

  constructor(private readonly push: PushFn, private readonly opts: BackgroundOptions = {}) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Queues a push and returns at once. */
  enqueue(dir: string, uri: string, pushOpts: PushOptions = {}): PushHandle {
    let state: PushState = 'queued';
    let error: unknown;
    // One writer id for all attempts, so a claim left by a failed attempt is ours to reuse.
    const writerId = pushOpts.writerId ?? newWriterId();
    const run = async (): Promise<PushResult> => {
      state = 'uploading';
      const retries = this.opts.retries ?? 3;
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await this.push(dir, uri, { ...pushOpts, writerId });
          state = 'done';
          this.opts.onDone?.(r);
          return r;
        } catch (e) {
          const transient = isTransientError(e);
          if (!transient || attempt >= retries) {
            state = 'failed';
            error = e;
            this.log.error({ uri, attempt: attempt + 1, err: String((e as Error)?.message ?? e) }, 'storage: background push failed');
            this.failures.push({ uri, error: e });
            this.opts.onError?.(e, uri);
            throw e;
          }
          const delay = backoffDelay(attempt + 1, this.opts.baseDelayMs ?? 2000, 60_000);
          this.log.warn({ uri, attempt: attempt + 1, delayMs: delay, err: String((e as Error)?.message ?? e) }, 'storage: background push failed, retrying');
          await sleep(delay);
        }
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    // Failures are reported through the logger / onError and flush(); never as unhandled rejections.
    result.catch(() => undefined);
    this.pending.add(result);
    void result.finally(() => this.pending.delete(result)).catch(() => undefined);
    return {
      uri,
      get state() {
        return state;
      },
      get error() {
        return error;
      },
      flush: () => result,
    };
  }

  /** Number of pushes queued or running. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Waits for every queued push.
   * @returns the results of the pushes that were pending when called.
   * @throws DocAnonError ERR_STORAGE listing the pushes that failed since the last flush (after all have settled).
   */
  async flush(): Promise<PushResult[]> {
    const settled = await Promise.allSettled([...this.pending]);
    // Pushes queued while we waited are waited for too.
    if (this.pending.size > 0) return this.flush();
    const failures = this.failures;
    this.failures = [];
    if (failures.length > 0) {
      const first = failures[0].error as Error;
      throw new DocAnonError(
        ErrorCode.STORAGE,
        `${failures.length} background push(es) failed (${failures.map((f) => f.uri).join(', ')}); first error: ${first?.message ?? String(first)}`,
        { cause: first },
      );
    }
    return settled.filter((s): s is PromiseFulfilledResult<PushResult> => s.status === 'fulfilled').map((s) => s.value);
  }
}
