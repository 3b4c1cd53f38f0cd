/**
 * Errors to HTTP: every error answer is `{ "error": { "code", "message" } }` with a stable code and
 * the status the error table gives it (src/core/errors.ts). Problems with the request are 4xx; 5xx
 * means the server failed (or is out of time or capacity: 503). Internal messages are not sent
 * (they could carry paths or internals): the client gets the code and the request id to quote, the
 * log gets the details.
 */
import { DocAnonError, ErrorCode, httpStatus, isDocAnonError } from '../core/errors';

/** Fastify's own errors (body parsing, routing) mapped to ours. */
const FASTIFY: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.BODY_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.MEDIA_TYPE,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.INPUT,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.INPUT,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.INPUT,
  FST_ERR_CTP_EMPTY_TYPE: ErrorCode.MEDIA_TYPE,
  FST_ERR_CTP_INVALID_TYPE: ErrorCode.MEDIA_TYPE,
};

/** An error as the API answers it. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  /** True for server-side failures (logged at error level, message not sent). */
  internal: boolean;
}

/** Maps any error to status, code and a message fit to send. */
export function toHttpError(e: unknown, requestId: string): HttpError {
  if (isDocAnonError(e)) {
    const status = httpStatus(e.code);
    const internal = status >= 500 && status !== 503;
    return { status, code: e.code, message: internal ? `internal error (request ${requestId}); see the server log` : e.message, internal };
  }
  const f = e as { code?: string; statusCode?: number; message?: string };
  if (typeof f?.code === 'string' && FASTIFY[f.code]) {
    const code = FASTIFY[f.code];
    return { status: httpStatus(code), code, message: f.message ?? code, internal: false };
  }
  if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return { status: f.statusCode, code: ErrorCode.INPUT, message: f.message ?? 'bad request', internal: false };
  }
  return { status: 500, code: ErrorCode.INTERNAL, message: `internal error (request ${requestId}); see the server log`, internal: true };
}

/** An error for a request that ran out of its time. */
export function timeoutError(ms: number): DocAnonError {
  return new DocAnonError(ErrorCode.TIMEOUT, `the request did not finish within ${ms} ms; retry with a smaller document or later`);
}
