/**
 * The fallback fake for account numbers, sort codes and custom entities: every digit and letter
 * replaced within its class (leading non-zero digits stay non-zero); mask characters stay.
 */
import type { Rng } from './rng';
import { shapeFake } from './shape';

/** A value of the same shape as `original`. */
export function fakeGeneric(original: string, rng: Rng): string {
  // Runs of X used as masks ("XXXX1234") stay masks.
  const masked = /[Xx]{2,}/.test(original);
  return shapeFake(original, rng, { keepLeadingNonZero: true, keepChars: masked ? 'Xx' : '' });
}
