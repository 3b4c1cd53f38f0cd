/** Fake reference identifiers: a leading letter prefix ("INV-", "C-") stays, everything after is replaced within its class. */
import type { Rng } from './rng';
import { shapeFake } from './shape';

/** An identifier of the same shape and prefix. */
export function fakeIdNumber(original: string, rng: Rng): string {
  const prefix = /^[A-Za-z]+[-\/ ]?(?=.*\d)/.exec(original)?.[0] ?? '';
  return prefix + shapeFake(original.slice(prefix.length), rng, { keepLeadingNonZero: true });
}
