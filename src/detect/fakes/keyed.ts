/**
 * Keyed derivation of fake seeds: HMAC-SHA256(key, version, entity, canonical value, attempt).
 * With a caller's secret as the key, the same value maps to the same fake in every document (joins
 * survive); without one, each Replacer draws a random key, so mappings hold within one document
 * only and cannot be replayed by someone who knows the library.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Rng } from './rng';

const VERSION = 'doc-anon/fake/v1';

/** A key for seed derivation: the UTF-8 bytes of a secret, or 32 random bytes. */
export function fakeKey(secret?: string | Uint8Array): Buffer {
  if (secret === undefined) return randomBytes(32);
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
}

/** The RNG for one (entity, canonical value, attempt). */
export function keyedRng(key: Uint8Array, entity: string, canonical: string, attempt: number): Rng {
  const h = createHmac('sha256', key);
  h.update(`${VERSION}\u0000${entity}\u0000${canonical}\u0000${attempt}`);
  return new Rng(h.digest());
}
