/**
 * A bounded work queue: at most `concurrency` tasks run, at most `maxQueue` wait, and any more are
 * refused at once (ERR_BUSY -> HTTP 429) instead of piling up memory and latency. A waiting task
 * whose signal aborts (timeout, client gone) leaves the queue without running.
 */
import { DocAnonError, ErrorCode } from '../core/errors';

interface Waiter {
  start: () => void;
  cancel: (e: unknown) => void;
}

export class BoundedQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; ERR_BUSY when the queue is full, ERR_ABORTED if `signal` aborts first. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.active >= this.concurrency) await this.wait(signal);
    else this.active++;
    try {
      signal?.throwIfAborted();
      return await task();
    } finally {
      this.release();
    }
  }

  private wait(signal?: AbortSignal): Promise<void> {
    if (this.waiting.length >= this.maxQueue) {
      throw new DocAnonError(ErrorCode.BUSY, `the server is busy (${this.active} running, ${this.waiting.length} waiting); retry later`);
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new DocAnonError(ErrorCode.ABORTED, 'aborted while waiting'));
      };
      const waiter: Waiter = {
        // The slot is handed over by release(): `active` is not decremented in between.
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        cancel: reject,
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.active--;
  }
}
