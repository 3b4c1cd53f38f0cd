/** The signal of a request: it aborts at the deadline or when the client goes away. */
import type { FastifyReply } from 'fastify';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { timeoutError } from '../http-errors';
import type { BoundedQueue, KeepSlot } from '../queue';

/** A signal that aborts at the deadline or when the client goes away (the response closes unfinished). */
export function requestSignal(reply: FastifyReply, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const ac = new AbortController();
  const deadline = performance.now() + timeoutMs;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(timeoutError(timeoutMs));
  }, timeoutMs);
  const onClose = (): void => {
    if (!reply.raw.writableFinished) ac.abort(new DocAnonError(ErrorCode.ABORTED, 'the client closed the connection'));
  };
  reply.raw.once('close', onClose);
  return {
    signal: ac.signal,
    // Also past the deadline when synchronous work kept the timer from firing.
    timedOut: () => timedOut || performance.now() > deadline,
    done: () => {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    },
  };
}

/**
 * Runs a request's work in the queue under its deadline: the work gets the request's signal and
 * the queue's slot keeper; an abort caused by the deadline, or work that finished after it, is a
 * timeout whatever layer noticed it (the contract is a timeout, not a late success).
 */
export async function runBeforeDeadline<T>(
  queue: BoundedQueue,
  reply: FastifyReply,
  timeoutMs: number,
  work: (signal: AbortSignal, keep: KeepSlot) => Promise<T>,
): Promise<T> {
  const s = requestSignal(reply, timeoutMs);
  let result: T;
  try {
    result = await queue.run((keep) => work(s.signal, keep), s.signal);
  } catch (e) {
    if (s.timedOut()) throw timeoutError(timeoutMs);
    throw e;
  } finally {
    s.done();
  }
  if (s.timedOut()) throw timeoutError(timeoutMs);
  return result;
}
