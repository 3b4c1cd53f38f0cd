/**
 * Retries with exponential backoff and full jitter for transient storage failures (network
 * errors, 5xx, throttling). Permanent failures (4xx, integrity, conflict) are thrown at once.
 */
import { isDocAnonError } from '../core/errors';

/** How an operation is retried. */
export interface RetryOptions {
  /** Retries after the first attempt (total attempts = retries + 1). Default 4. */
  retries?: number;
  /** First backoff ceiling in ms; doubles each retry. Default 200. */
  baseDelayMs?: number;
  /** Largest backoff ceiling in ms. Default 10000. */
  maxDelayMs?: number;
  /** Called before each retry (for logging / reporting). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const TRANSIENT_NAMES = new Set([
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ThrottlingException', 'Throttling',
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'NetworkingError', 'TooManyRequestsException',
]);

/** True for errors worth retrying: network failures, timeouts, HTTP 5xx and 429. */
export function isTransientError(e: unknown, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 4) return false;
  // Our own errors (conflict, integrity, unsafe key) are decisions, not accidents.
  if (isDocAnonError(e)) return (e as { transient?: boolean }).transient === true;
  const err = e as { code?: unknown; name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; cause?: unknown };
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  if (typeof err.name === 'string' && TRANSIENT_NAMES.has(err.name)) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  if (typeof err.message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|premature close|aborted/i.test(err.message)) return true;
  return isTransientError(err.cause, depth + 1);
}

/** Backoff before retry `attempt` (1-based): uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, baseDelayMs = 200, maxDelayMs = 10000): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * ceiling);
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `op`, retrying transient failures with exponential backoff and jitter.
 * The last error is rethrown unchanged when retries run out or the error is permanent.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (attempt >= retries || !isTransientError(e)) throw e;
      const delay = backoffDelay(attempt + 1, opts.baseDelayMs, opts.maxDelayMs);
      opts.onRetry?.(e, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
