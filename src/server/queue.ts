/**
 * A bounded work queue: at most `concurrency` tasks run, at most `maxQueue` wait, and any more are
 * refused at once (ERR_BUSY -> HTTP 429) instead of piling up memory and latency. A waiting task
 * whose signal aborts (timeout, client gone) leaves the queue without running.
 *
 * A task can `keep` its slot for work that outlives it: an OCR read abandoned when its request
 * aborted still runs (interrupting it would restart the OCR workers other requests share), so it
 * still counts against `concurrency` until it settles. Otherwise clients that give up at once could
 * pile up unbounded background work.
 */
import { DocAnonError, ErrorCode } from '../core/errors';

/** Holds the caller's slot until `work` settles (see {@link BoundedQueue.run}). */
export type KeepSlot = (work: Promise<unknown>) => void;

interface Waiter {
  start: () => void;
  cancel: (e: unknown) => void;
}

export class BoundedQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private kept = 0;
  private admitted = 0;

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Slots held only by work that outlived its task (abandoned OCR reads finishing). */
  get lingering(): number {
    return this.kept;
  }

  /** Tasks waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Requests admitted whose bodies are still arriving (see {@link BoundedQueue.admit}). */
  get arriving(): number {
    return this.admitted;
  }

  /**
   * Admits a request before its body is read: ERR_BUSY at once when running, waiting and arriving
   * requests already fill the queue, so a busy server does not buffer bodies it will refuse. The
   * admission counts against the capacity until the returned release is called (when the request
   * enters {@link BoundedQueue.run}, or ends without running); releasing twice is harmless.
   */
  admit(): () => void {
    if (this.active + this.waiting.length + this.admitted >= this.concurrency + this.maxQueue) {
      throw new DocAnonError(ErrorCode.BUSY, `the server is busy (${this.active} running, ${this.waiting.length} waiting, ${this.admitted} arriving); retry later`);
    }
    this.admitted++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted--;
    };
  }

  /**
   * Runs `task` when a slot is free; ERR_BUSY when the queue is full, ERR_ABORTED if `signal` aborts
   * first. Settles with the task; the slot is freed once the task and all work it passed to `keep`
   * have settled.
   */
  async run<T>(task: (keep: KeepSlot) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.active >= this.concurrency) await this.wait(signal);
    else this.active++;
    const held: Promise<unknown>[] = [];
    let settled = false;
    // Work kept after the slot went cannot take it back; it is bounded by its own time limit.
    const keep: KeepSlot = (work) => {
      if (!settled) held.push(work.catch(() => undefined));
    };
    try {
      signal?.throwIfAborted();
      return await task(keep);
    } finally {
      settled = true;
      if (held.length === 0) this.release();
      else {
        this.kept++;
        void Promise.all(held).then(() => {
          this.kept--;
          this.release();
        });
      }
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
