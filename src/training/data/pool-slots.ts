/**
 * The data pipeline's share of libuv's thread pool. Page decodes, resizes and glyph preprocessing
 * are pool jobs, and so is every native call of the train step (it waits on a pool thread for the
 * compute thread). The pool serves jobs first in, first out, so a step queued behind a batch's
 * jobs waited for all of them to start (measured: a 1 ms native call took 141 ms behind 16
 * resizes, 14 ms alone). Examples in preparation are therefore bounded to one less than the
 * pool's size; each runs one pool job at a time, so a thread is free for the step.
 */
import { Semaphore } from '../../core/semaphore';

/** libuv's thread-pool size as libuv reads UV_THREADPOOL_SIZE: default 4, clamped to 1..1024. */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  if (!Number.isFinite(n)) return 4;
  return Math.min(1024, Math.max(1, n));
}

/** Examples being prepared at once, across all batches. */
export const dataSlots = new Semaphore(Math.max(1, threadPoolSize() - 1));
