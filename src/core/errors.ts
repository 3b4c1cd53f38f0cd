/**
 * Errors of doc-anon-torch. Every failure the library reports is a {@link DocAnonError} with a
 * stable string `code`, whether it came from the native core or from TypeScript.
 */

/** Stable error codes. Native codes mirror native/src/core/error.h. */
export const ErrorCode = {
  /** A bad argument: wrong type, out of range, NaN, negative size. */
  ARGUMENT: 'ERR_ARGUMENT',
  SHAPE: 'ERR_SHAPE',
  DTYPE: 'ERR_DTYPE',
  DEVICE: 'ERR_DEVICE',
  /** Model weights do not match the model (missing, unexpected or mis-shaped keys). */
  WEIGHTS: 'ERR_WEIGHTS',
  /** A malformed safetensors file. */
  SAFETENSORS: 'ERR_SAFETENSORS',
  /** An invalid configuration (unknown keys, wrong types, unsupported values). */
  CONFIG: 'ERR_CONFIG',
  OOM: 'ERR_OOM',
  /** A tensor or model used after dispose(). */
  DISPOSED: 'ERR_DISPOSED',
  ABORTED: 'ERR_ABORTED',
  IO: 'ERR_IO',
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  /** The native addon could not be loaded. */
  NATIVE_LOAD: 'ERR_NATIVE_LOAD',
  /** Remote storage (R2 / S3) failures. */
  STORAGE: 'ERR_STORAGE',
  /** An artifact version already exists (create-only write lost the race). */
  CONFLICT: 'ERR_CONFLICT',
  /** Downloaded bytes do not match the manifest's sha256 / size. */
  INTEGRITY: 'ERR_INTEGRITY',
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** A storage key or path that is unsafe (traversal, control characters, too long). */
  UNSAFE_KEY: 'ERR_UNSAFE_KEY',
  INTERNAL: 'ERR_INTERNAL',
  /** An image that cannot be decoded or encoded (corrupt, truncated, unsupported format). */
  IMAGE: 'ERR_IMAGE',
  /** An image over the pixel limit (decompression-bomb guard); raise `maxPixels` if it is legitimate. */
  IMAGE_TOO_LARGE: 'ERR_IMAGE_TOO_LARGE',
  /** A bad request input: malformed regions or boxes, too many regions, empty or overlong text. */
  INPUT: 'ERR_INPUT',
  /** Replacement text with characters the bundled font cannot draw (the message names them). */
  UNSUPPORTED_TEXT: 'ERR_UNSUPPORTED_TEXT',
  /** OCR failed (the engine could not start, crashed, or returned something unusable). */
  OCR: 'ERR_OCR',
  /** OCR did not finish within its time limit. */
  OCR_TIMEOUT: 'ERR_OCR_TIMEOUT',
  /** OCR read no text on a page that has ink: the page cannot be declared clean. */
  OCR_NO_TEXT: 'ERR_OCR_NO_TEXT',
  /** User-supplied OCR results that do not follow the documented shape. */
  OCR_INPUT: 'ERR_OCR_INPUT',
  /** Verification found an original sensitive value still readable after replacement. */
  VERIFY: 'ERR_VERIFY',
  /**
   * The page could not be read well enough to be sure everything sensitive on it was found (turned,
   * too small, too faint, garbled), or the output could not be read back to verify it.
   */
  UNREADABLE: 'ERR_UNREADABLE',
  /** A request body over the server's size limit. */
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  /** A request body of a media type the endpoint does not take. */
  MEDIA_TYPE: 'ERR_MEDIA_TYPE',
  /** A request without the bearer token the server requires, or with a wrong one. */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** The server's queue is full; retry later (HTTP 429). */
  BUSY: 'ERR_BUSY',
  /** A request that did not finish within its time limit. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** A PDF that cannot be read or rendered (corrupt, encrypted, over the page or pixel limits). */
  PDF: 'ERR_PDF',
  /** Training diverged: the gradients stayed non-finite for too many steps in a row (no update applied). */
  DIVERGED: 'ERR_DIVERGED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
