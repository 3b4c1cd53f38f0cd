/**
 * Errors of doc-anon-torch. Every failure the library reports is a {@link DocAnonError} with a
 * stable string `code`, whether it came from the native core or from TypeScript.
 *
 * {@link ERRORS} is the one table of codes: what each means, the exit status of the `doc-anon`
 * command (2: the caller's input or setup was wrong, 1: anything else) and the HTTP status the
 * server answers. The CLI, the server and the native mirror (native/src/core/error.h, checked by
 * test/unit/errors.test.ts) all read it; a new code is one row here.
 */

/** One row of the error table. */
export interface ErrorInfo {
  /** The stable code carried by {@link DocAnonError.code}. */
  readonly code: `ERR_${string}`;
  /** Exit status of `doc-anon` when a command fails with this code. */
  readonly exit: 1 | 2;
  /** HTTP status of the server's error answer. */
  readonly http: number;
  /** What the code means (for docs and messages). */
  readonly meaning: string;
}

/** Every error code, by name: its code, CLI exit status, HTTP status and meaning. */
export const ERRORS = {
  ARGUMENT: { code: 'ERR_ARGUMENT', exit: 2, http: 400, meaning: 'A bad argument: wrong type, out of range, NaN, negative size, an unknown option.' },
  SHAPE: { code: 'ERR_SHAPE', exit: 2, http: 500, meaning: 'A tensor of the wrong shape for the call (inside the server: its own bug).' },
  DTYPE: { code: 'ERR_DTYPE', exit: 2, http: 500, meaning: 'A tensor or model of a dtype the call does not take.' },
  DEVICE: { code: 'ERR_DEVICE', exit: 1, http: 500, meaning: 'A device that is not there or not usable (no CUDA, no such GPU).' },
  WEIGHTS: { code: 'ERR_WEIGHTS', exit: 2, http: 422, meaning: 'Model weights that do not match the model (missing, unexpected or mis-shaped keys), or missing weights.' },
  SAFETENSORS: { code: 'ERR_SAFETENSORS', exit: 2, http: 500, meaning: 'A malformed safetensors file.' },
  CONFIG: { code: 'ERR_CONFIG', exit: 2, http: 400, meaning: 'An invalid configuration (unknown keys, wrong types, unsupported values).' },
  OOM: { code: 'ERR_OOM', exit: 1, http: 500, meaning: 'Out of memory (CPU or GPU), or a request that would not fit the memory budget.' },
  DISPOSED: { code: 'ERR_DISPOSED', exit: 1, http: 500, meaning: 'A tensor, model or other native object used after dispose(), or native work dropped at process exit.' },
  ABORTED: { code: 'ERR_ABORTED', exit: 1, http: 499, meaning: 'The call was aborted (its AbortSignal fired; over HTTP: the client went away).' },
  IO: { code: 'ERR_IO', exit: 2, http: 500, meaning: 'A file that cannot be read or written (missing, not a regular file, no permission).' },
  UNSUPPORTED: { code: 'ERR_UNSUPPORTED', exit: 2, http: 415, meaning: 'Something this build or this library does not do (a feature, a format, a platform).' },
  TORCH: { code: 'ERR_TORCH', exit: 1, http: 500, meaning: 'Any other libtorch error (mostly a shape or device mismatch inside an operation); the message is libtorch\'s.' },
  INTERNAL: { code: 'ERR_INTERNAL', exit: 1, http: 500, meaning: 'A failure of the library itself (a bug): report it.' },
  BUSY: { code: 'ERR_BUSY', exit: 1, http: 429, meaning: 'Busy: a model used by a running call, or the server\'s queue is full; retry later.' },
  NATIVE_LOAD: { code: 'ERR_NATIVE_LOAD', exit: 1, http: 500, meaning: 'The native addon could not be loaded (the message lists what to do).' },
  STORAGE: { code: 'ERR_STORAGE', exit: 1, http: 500, meaning: 'Remote storage (R2 / S3) or the Hugging Face Hub failed or could not be reached.' },
  CONFLICT: { code: 'ERR_CONFLICT', exit: 2, http: 409, meaning: 'An artifact version that already exists (a create-only write lost the race, or the version was published before).' },
  INTEGRITY: { code: 'ERR_INTEGRITY', exit: 1, http: 500, meaning: 'Downloaded bytes that do not match the manifest\'s sha256 / size.' },
  NOT_FOUND: { code: 'ERR_NOT_FOUND', exit: 2, http: 404, meaning: 'A file, folder or artifact that does not exist.' },
  UNSAFE_KEY: { code: 'ERR_UNSAFE_KEY', exit: 2, http: 500, meaning: 'A storage key or path that is unsafe (traversal, control characters, too long).' },
  IMAGE: { code: 'ERR_IMAGE', exit: 2, http: 400, meaning: 'An image that cannot be decoded or encoded (corrupt, truncated, unsupported format).' },
  IMAGE_TOO_LARGE: { code: 'ERR_IMAGE_TOO_LARGE', exit: 2, http: 413, meaning: 'An image over the pixel limit (decompression-bomb guard); raise `maxPixels` if it is legitimate.' },
  INPUT: { code: 'ERR_INPUT', exit: 2, http: 400, meaning: 'A bad request input: malformed regions or boxes, too many regions, empty or overlong text, malformed dataset files.' },
  UNSUPPORTED_TEXT: { code: 'ERR_UNSUPPORTED_TEXT', exit: 2, http: 422, meaning: 'Replacement text with characters the bundled font cannot draw (the message names them).' },
  OCR: { code: 'ERR_OCR', exit: 1, http: 500, meaning: 'OCR failed (the engine could not start, crashed, or returned something unusable).' },
  OCR_TIMEOUT: { code: 'ERR_OCR_TIMEOUT', exit: 1, http: 503, meaning: 'OCR did not finish within its time limit.' },
  OCR_NO_TEXT: { code: 'ERR_OCR_NO_TEXT', exit: 2, http: 422, meaning: 'OCR read no text on a page that has ink: the page cannot be declared clean.' },
  OCR_INPUT: { code: 'ERR_OCR_INPUT', exit: 2, http: 400, meaning: 'User-supplied OCR results that do not follow the documented shape.' },
  VERIFY: { code: 'ERR_VERIFY', exit: 1, http: 422, meaning: 'Verification found something sensitive still readable after replacement (or a region left unchanged).' },
  UNREADABLE: { code: 'ERR_UNREADABLE', exit: 2, http: 422, meaning: 'The page could not be read well enough to be sure everything sensitive on it was found (turned, too small, too faint, garbled), or the output could not be read back to verify it.' },
  BODY_TOO_LARGE: { code: 'ERR_BODY_TOO_LARGE', exit: 1, http: 413, meaning: 'A request body over the server\'s size limit.' },
  MEDIA_TYPE: { code: 'ERR_MEDIA_TYPE', exit: 1, http: 415, meaning: 'A request body of a media type the endpoint does not take.' },
  UNAUTHORIZED: { code: 'ERR_UNAUTHORIZED', exit: 1, http: 401, meaning: 'A request without the bearer token the server requires, or with a wrong one.' },
  TIMEOUT: { code: 'ERR_TIMEOUT', exit: 1, http: 503, meaning: 'A request that did not finish within its time limit.' },
  PDF: { code: 'ERR_PDF', exit: 2, http: 400, meaning: 'A PDF that cannot be read or rendered (corrupt, encrypted, over the page or pixel limits).' },
  DIVERGED: { code: 'ERR_DIVERGED', exit: 2, http: 500, meaning: 'Training diverged: the gradients stayed non-finite for too many steps in a row (no update applied).' },
} as const satisfies Record<string, ErrorInfo>;

type ErrorTable = typeof ERRORS;

/** Stable error codes by name, e.g. `ErrorCode.SHAPE === 'ERR_SHAPE'` (from {@link ERRORS}). */
export const ErrorCode = Object.freeze(Object.fromEntries(Object.entries(ERRORS).map(([k, v]) => [k, v.code]))) as {
  readonly [K in keyof ErrorTable]: ErrorTable[K]['code'];
};

export type ErrorCode = ErrorTable[keyof ErrorTable]['code'];

const BY_CODE: ReadonlyMap<string, ErrorInfo> = new Map(Object.values(ERRORS).map((r) => [r.code, r]));

/** The table row of `code`, or undefined for a code the library does not define. */
export function errorInfo(code: string): ErrorInfo | undefined {
  return BY_CODE.get(code);
}

/** The `doc-anon` exit status for an error code (1 for codes outside the table). */
export function exitStatus(code: string): 1 | 2 {
  return BY_CODE.get(code)?.exit ?? 1;
}

/** The HTTP status for an error code (500 for codes outside the table). */
export function httpStatus(code: string): number {
  return BY_CODE.get(code)?.http ?? 500;
}

/** The error class of the library: `code` is stable, `message` says what was wrong and what to do. */
export class DocAnonError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DocAnonError';
    this.code = code;
  }
}

/** True when `e` is a DocAnonError (also across realms, e.g. jest's module registry). */
export function isDocAnonError(e: unknown): e is DocAnonError {
  return (
    e instanceof DocAnonError ||
    (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DocAnonError' &&
      typeof (e as { code?: unknown }).code === 'string')
  );
}
