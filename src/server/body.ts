/**
 * What a POST /v1/anonymize request carries: the document bytes (raw body, or the `image` / `file`
 * part of a multipart body) and the options (the multipart `options` part, JSON). Both are held in
 * memory only.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { parseRequestOptions, type AnonymizeRequestOptions } from '../inference/request-options';
import { parseMultipart } from './multipart';

/** Media types taken as a raw document body. */
export const RAW_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp', 'application/pdf', 'application/octet-stream'];

/** The document and options of a request. */
export interface RequestInput {
  document: Buffer;
  options: AnonymizeRequestOptions;
}

/** Reads a parsed body (a Buffer from the content-type parsers) into document + options. */
export function readRequest(
  body: unknown,
  contentType: string | undefined,
  limits: { maxRegions: number; optionsBytes: number; requestPatterns?: boolean },
): RequestInput {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new DocAnonError(ErrorCode.INPUT, 'empty request body: send the image (or PDF) as the body, or as the `image` part of a multipart/form-data body');
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'multipart/form-data') return { document: body, options: parseRequestOptions({}, limits) };
  const parts = parseMultipart(body, contentType!);
  const doc = parts.filter((p) => p.name === 'image' || p.name === 'file');
  if (doc.length !== 1) throw new DocAnonError(ErrorCode.INPUT, 'a multipart request needs exactly one `image` (or `file`) part');
  if (doc[0].data.length === 0) throw new DocAnonError(ErrorCode.INPUT, 'the `image` part is empty');
  const unknown = parts.filter((p) => !['image', 'file', 'options'].includes(p.name)).map((p) => p.name);
  if (unknown.length) throw new DocAnonError(ErrorCode.INPUT, `unknown multipart part(s): ${unknown.join(', ')}; use \`image\` and \`options\``);
  const optionParts = parts.filter((p) => p.name === 'options');
  if (optionParts.length > 1) throw new DocAnonError(ErrorCode.INPUT, 'more than one `options` part');
  let options: unknown = {};
  if (optionParts.length === 1) {
    const raw = optionParts[0].data;
    if (raw.length > limits.optionsBytes) {
      throw new DocAnonError(ErrorCode.BODY_TOO_LARGE, `the options part has ${raw.length} bytes, over the limit of ${limits.optionsBytes}`);
    }
    try {
      options = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new DocAnonError(ErrorCode.INPUT, `the options part is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new DocAnonError(ErrorCode.INPUT, 'the options part must be a JSON object');
    }
  }
  return { document: doc[0].data, options: parseRequestOptions(options, limits) };
}
