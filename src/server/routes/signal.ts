/** The signal of a request: it aborts at the deadline or when the client goes away. */
import type { FastifyReply } from 'fastify';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { timeoutError } from '../http-errors';

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
