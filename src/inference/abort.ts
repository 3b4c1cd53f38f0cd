/** Cancellation points shared by the engines and the Anonymizer. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DocAnonError, ErrorCode } from '../core/errors';

/** ERR_ABORTED when the caller's signal has fired (whatever its reason: the error is always coded). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new DocAnonError(ErrorCode.ABORTED, 'anonymization aborted by the caller (AbortSignal); no output was produced', { cause: signal.reason });
  }
}

/**
 * Lets the event loop run between units of synchronous work (a region of the classic engine):
 * deadlines and aborts fire, and a server keeps answering other requests.
 */
export function yieldToEventLoop(): Promise<void> {
  return nextTurn();
}
