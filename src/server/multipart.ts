/**
 * A multipart/form-data parser over a body already held in memory (the body limit applies first).
 * The API takes at most a few small parts, so a streaming parser would buy nothing, and nothing is
 * ever written to disk.
 */
import { DocAnonError, ErrorCode } from '../core/errors';

/** One part of a multipart body. */
export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The boundary of a multipart/form-data content type; ERR_INPUT without one. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  if (!m) throw new DocAnonError(ErrorCode.INPUT, 'multipart/form-data without a boundary parameter');
  return m[1] ?? m[2];
}

function parseHeaders(block: string): { name?: string; filename?: string; contentType?: string } {
  const out: { name?: string; filename?: string; contentType?: string } = {};
  for (const line of block.split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (key === 'content-disposition') {
      out.name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(value)?.[1];
      out.filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1];
    } else if (key === 'content-type') {
      out.contentType = value.toLowerCase();
    }
  }
  return out;
}

/** Splits a multipart body into parts; ERR_INPUT when it is malformed or has more than `maxParts`. */
export function parseMultipart(body: Buffer, contentType: string, maxParts = 8): Part[] {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`, 'latin1');
  const bad = (why: string): DocAnonError => new DocAnonError(ErrorCode.INPUT, `malformed multipart body: ${why}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw bad('the boundary does not occur');
  const parts: Part[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing delimiter "--"
    // Transport padding, then CRLF.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw bad('no line break after a boundary');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0 || headerEnd - pos > 16 * 1024) throw bad('part headers do not end');
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const start = headerEnd + 4;
    const end = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), start);
    if (end < 0) throw bad('a part is not terminated (truncated body?)');
    if (!headers.name) throw bad('a part has no name in Content-Disposition');
    parts.push({ name: headers.name, filename: headers.filename, contentType: headers.contentType, data: body.subarray(start, end) });
    if (parts.length > maxParts) throw new DocAnonError(ErrorCode.INPUT, `more than ${maxParts} parts in a multipart body`);
    pos = end + 2;
  }
  return parts;
}
