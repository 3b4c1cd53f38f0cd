/** sha256 of local files, streamed (checkpoints are gigabytes). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** sha256 (lowercase hex) and size of a file, optionally of its first `limit` bytes only. */
export async function sha256File(filePath: string, limit?: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  if (limit === 0) return { sha256: hash.digest('hex'), size: 0 };
  const stream = fs.createReadStream(filePath, { highWaterMark: 1024 * 1024, ...(limit !== undefined ? { end: limit - 1 } : {}) });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** sha256 (hex) of a JSON value with object keys sorted, so equal configs hash equally. */
export function stableJsonHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}
