/**
 * What a POST /v1/anonymize or /v1/detect request carries: the document bytes (raw body, or the
 * `image` / `file` part of a multipart body), the options (the multipart `options` part, JSON) and,
 * for anonymize, a regions document (the `regions` part, JSON). All held in memory only.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { parseRegionsInput, type RegionsInput } from '../inference/regions-document';
import { parseDetectRequestOptions, parseRequestOptions, type AnonymizeRequestOptions, type DetectRequestOptions } from '../inference/request-options';
import { parseMultipart } from './multipart';

/** Media types taken as a raw document body. */
export const RAW_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp', 'application/pdf', 'application/octet-stream'];

/** The document and options of a request. */
export interface RequestInput {
  document: Buffer;
  options: AnonymizeRequestOptions;
  /** A `regions` part: a regions document (or the deprecated bare array), with its bytes. */
  regions?: { input: RegionsInput; bytes: Buffer };
}

/** The document and options of a detect request. */
export interface DetectInput {
  document: Buffer;
  options: DetectRequestOptions;
}

/** Limits of the request readers. */
export interface BodyLimits {
  maxRegions: number;
  optionsBytes: number;
  requestPatterns?: boolean;
}

/** A JSON part of a multipart body: an object or array, within the size limit. */
function jsonPart(raw: Buffer, name: string, limit: number): unknown {
  if (raw.length > limit) throw new DocAnonError(ErrorCode.BODY_TOO_LARGE, `the ${name} part has ${raw.length} bytes, over the limit of ${limit}`);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new DocAnonError(ErrorCode.INPUT, `the ${name} part is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) throw new DocAnonError(ErrorCode.INPUT, `the ${name} part must be a JSON object`);
  return value;
}

/** The document part and the named JSON parts of a body (raw: the body is the document). */
function readParts(body: unknown, contentType: string | undefined, allowed: readonly string[]): { document: Buffer; parts: Record<string, Buffer> } {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new DocAnonError(ErrorCode.INPUT, 'empty request body: send the image (or PDF) as the body, or as the `image` part of a multipart/form-data body');
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'multipart/form-data') return { document: body, parts: {} };
  const parts = parseMultipart(body, contentType!);
  const doc = parts.filter((p) => p.name === 'image' || p.name === 'file');
  if (doc.length !== 1) throw new DocAnonError(ErrorCode.INPUT, 'a multipart request needs exactly one `image` (or `file`) part');
  if (doc[0].data.length === 0) throw new DocAnonError(ErrorCode.INPUT, 'the `image` part is empty');
  const unknown = parts.filter((p) => !['image', 'file', ...allowed].includes(p.name)).map((p) => p.name);
  if (unknown.length) throw new DocAnonError(ErrorCode.INPUT, `unknown multipart part(s): ${unknown.join(', ')}; use \`image\`${allowed.map((a) => `, \`${a}\``).join('')}`);
  const named: Record<string, Buffer> = {};
  for (const name of allowed) {
    const found = parts.filter((p) => p.name === name);
    if (found.length > 1) throw new DocAnonError(ErrorCode.INPUT, `more than one \`${name}\` part`);
    if (found.length === 1) named[name] = found[0].data;
  }
  return { document: doc[0].data, parts: named };
}

/** Reads a parsed body (a Buffer from the content-type parsers) into document + options (+ regions document). */
export function readRequest(body: unknown, contentType: string | undefined, limits: BodyLimits): RequestInput {
  const { document, parts } = readParts(body, contentType, ['options', 'regions']);
  const options = parseRequestOptions(parts.options ? jsonPart(parts.options, 'options', limits.optionsBytes) : {}, limits);
  if (!parts.regions) return { document, options };
  if (options.regions || options.pageRegions) throw new DocAnonError(ErrorCode.INPUT, 'give the regions in the `regions` part or in the options, not both');
  if (options.ocr) throw new DocAnonError(ErrorCode.INPUT, '`ocr` is for automatic detection: give it without a `regions` part');
  const input = parseRegionsInput(jsonPart(parts.regions, 'regions', limits.optionsBytes), { maxRegions: limits.maxRegions });
  return { document, options, regions: { input, bytes: parts.regions } };
}

/** Reads the body of a detect request into document + options. */
export function readDetectRequest(body: unknown, contentType: string | undefined, limits: BodyLimits): DetectInput {
  const { document, parts } = readParts(body, contentType, ['options']);
  return { document, options: parseDetectRequestOptions(parts.options ? jsonPart(parts.options, 'options', limits.optionsBytes) : {}, limits) };
}
