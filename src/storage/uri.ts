/**
 * `r2://bucket/key` URIs and storage keys. Everything that names a remote object or a local file
 * derived from a remote name goes through here, so traversal (`..`), absolute paths, control
 * characters and overlong keys are rejected in one place with ERR_UNSAFE_KEY.
 */
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';

/** S3 limits keys to 1024 UTF-8 bytes; we keep headroom for `/manifest.json` and claim names. */
export const MAX_KEY_BYTES = 900;
/** Longest single path segment (most file systems allow 255 bytes). */
export const MAX_SEGMENT_BYTES = 255;

/** A parsed `r2://bucket/key` URI. `key` has no leading or trailing `/` and may be empty. */
export interface R2Location {
  bucket: string;
  key: string;
}

// R2 bucket names: lowercase letters, digits and hyphens, 3-63 characters, no leading/trailing hyphen.
const BUCKET_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// Artifact names and versions are single segments with a conservative alphabet, as they also
// become directory names in the cache on every OS.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function unsafe(what: string, value: string, why: string): DocAnonError {
  // JSON.stringify makes control characters visible in the message instead of printing them.
  return new DocAnonError(
    ErrorCode.UNSAFE_KEY,
    `Unsafe ${what} ${JSON.stringify(value.length > 120 ? value.slice(0, 120) + '…' : value)}: ${why}. ` +
      'Use relative keys made of non-empty segments without "." or "..", backslashes or control characters.',
  );
}

/**
 * Validates a storage key (or a relative file path inside an artifact) and returns it unchanged.
 * @throws DocAnonError ERR_UNSAFE_KEY when it is empty, absolute, has `.`/`..`/empty segments,
 *   backslashes, control characters, or is longer than {@link MAX_KEY_BYTES} bytes.
 */
export function validateKey(key: string, what = 'key'): string {
  if (typeof key !== 'string') throw unsafe(what, String(key), 'not a string');
  if (key.length === 0) throw unsafe(what, key, 'it is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw unsafe(what, key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (CONTROL_RE.test(key)) throw unsafe(what, key, 'it contains a control character');
  if (key.includes('\\')) throw unsafe(what, key, 'it contains a backslash');
  if (key.startsWith('/')) throw unsafe(what, key, 'it starts with "/" (absolute)');
  if (/^[A-Za-z]:/.test(key)) throw unsafe(what, key, 'it starts with a drive letter');
  for (const seg of key.split('/')) {
    if (seg === '') throw unsafe(what, key, 'it has an empty segment ("//" or a trailing "/")');
    if (seg === '.' || seg === '..') throw unsafe(what, key, `it has a "${seg}" segment`);
    if (Buffer.byteLength(seg, 'utf8') > MAX_SEGMENT_BYTES) throw unsafe(what, key, `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return key;
}

/** Validates one artifact name or version segment (`[A-Za-z0-9][A-Za-z0-9._+-]*`, at most 128 chars). */
export function validateSegment(seg: string, what: string): string {
  if (typeof seg !== 'string' || seg.length === 0 || seg.length > 128 || !NAME_RE.test(seg) || seg === '..' ) {
    throw new DocAnonError(
      ErrorCode.UNSAFE_KEY,
      `Invalid ${what} ${JSON.stringify(String(seg))}: use 1-128 characters from A-Z a-z 0-9 . _ + - starting with a letter or digit.`,
    );
  }
  return seg;
}

/** Validates an R2/S3 bucket name. */
export function validateBucket(bucket: string): string {
  if (typeof bucket !== 'string' || !BUCKET_RE.test(bucket)) {
    throw new DocAnonError(
      ErrorCode.UNSAFE_KEY,
      `Invalid bucket name ${JSON.stringify(String(bucket))}: use 3-63 lowercase letters, digits and hyphens.`,
    );
  }
  return bucket;
}

/**
 * Parses `r2://bucket[/key]`. A trailing `/` is ignored; the key is validated with {@link validateKey}.
 * @throws DocAnonError ERR_ARGUMENT when the scheme is not `r2://`, ERR_UNSAFE_KEY for an unsafe bucket or key.
 */
export function parseR2Uri(uri: string): R2Location {
  if (typeof uri !== 'string' || !uri.startsWith('r2://')) {
    throw new DocAnonError(
      ErrorCode.ARGUMENT,
      `Not an R2 URI: ${JSON.stringify(String(uri).slice(0, 200))}. Expected r2://bucket/prefix/...`,
    );
  }
  const rest = uri.slice('r2://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let key = slash < 0 ? '' : rest.slice(slash + 1);
  if (key.endsWith('/')) key = key.slice(0, -1);
  validateBucket(bucket);
  if (key !== '') validateKey(key);
  return { bucket, key };
}

/** Formats a location back to `r2://bucket/key`. */
export function formatR2Uri(loc: R2Location): string {
  return loc.key ? `r2://${loc.bucket}/${loc.key}` : `r2://${loc.bucket}`;
}

/** Joins validated key parts with `/` and validates the result. Empty parts are skipped. */
export function joinKey(...parts: string[]): string {
  return validateKey(parts.filter((p) => p !== '').join('/'));
}

/**
 * Maps a relative key to a path under `root`, guaranteeing the result stays inside `root`
 * (after validation and resolution; symlinks inside root are the caller's business).
 * @throws DocAnonError ERR_UNSAFE_KEY when the key is unsafe or would escape `root`.
 */
export function safeLocalPath(root: string, key: string): string {
  validateKey(key, 'path');
  if (key.includes(':') && process.platform === 'win32') throw unsafe('path', key, 'it contains ":"');
  const absRoot = path.resolve(root);
  const full = path.resolve(absRoot, ...key.split('/'));
  const rel = path.relative(absRoot, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw unsafe('path', key, `it escapes ${absRoot}`);
  return full;
}
