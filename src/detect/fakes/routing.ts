/** Fake ABA routing numbers: same Federal Reserve prefix (first two digits), valid checksum. */
import { abaCheckDigit } from '../checksums';
import type { Rng } from './rng';
import { reformat } from './shape';

/** A checksum-valid routing number in the original's layout. */
export function fakeRouting(original: string, rng: Rng): string {
  const digits = original.replace(/\D/g, '');
  let body = digits.slice(0, 2);
  while (body.length < 8) body += rng.digit();
  return reformat(original, body + abaCheckDigit(body));
}
