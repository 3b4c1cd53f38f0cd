/** Small HTTP helpers for the server tests: multipart bodies, PNG bombs, OCR text checks. */
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import type { OcrPage } from '../../src/detect/types';

/** A multipart/form-data body from parts (the document part and an optional JSON options part). */
export function multipart(parts: Array<{ name: string; data: Buffer | string; type?: string; filename?: string }>): { body: Buffer; contentType: string } {
  const boundary = `----docanon${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\nContent-Type: ${p.type ?? 'application/octet-stream'}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A tiny PNG whose header declares `width` x `height` (grey, 8 bit) with one compressed row of data. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const idat = zlib.deflateSync(Buffer.alloc(width + 1));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Case-folded letters and digits of a text (how verification compares). */
export const norm = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** The whole text of an OCR page, normalized. */
export function pageText(page: OcrPage): string {
  return norm(page.lines.map((l) => l.words.map((w) => w.text).join(' ')).join('\n'));
}

/** Originals from a synthetic document's annotation that a reader could still recognise (4+ letters/digits). */
export function checkableOriginals(entities: ReadonlyArray<{ text: string }>): string[] {
  return [...new Set(entities.map((e) => norm(e.text)).filter((t) => t.length >= 4))];
}

/**
 * Sends `head` (a raw request, possibly malformed or without its body) to the server at `base` and
 * resolves with the raw response once it is complete (headers and Content-Length bytes of body) or
 * the connection ends; after `waitMs` without that, with what arrived so far (empty: no answer).
 */
export function rawHttp(base: string, head: string, waitMs = 2000): Promise<string> {
  const u = new URL(base);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(text);
    };
    const complete = (): boolean => {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      return Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length?.[1] ?? 0);
    };
    const sock = net.connect(Number(u.port), u.hostname, () => sock.write(head));
    const timer = setTimeout(finish, waitMs);
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (complete()) finish();
    });
    sock.on('end', finish);
    sock.on('error', (e) => (clearTimeout(timer), reject(e)));
  });
}
