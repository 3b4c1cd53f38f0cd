/** Fake card numbers: same length, grouping and network prefix (first two digits), Luhn-valid; masks kept. */
import { luhnCheckDigit } from '../checksums';
import { isCardNumber } from '../recognizers/card';
import { fakeGeneric } from './generic';
import type { Rng } from './rng';
import { reformat } from './shape';

/** A Luhn-valid card number with the original's network prefix, length and grouping. */
export function fakeCard(original: string, rng: Rng): string {
  const digits = original.replace(/\D/g, '');
  // A masked number ("**** 1234") keeps its mask; only the visible digits change.
  if (digits.length < 12) return fakeGeneric(original, rng);
  let candidate = digits;
  for (let i = 0; i < 200; i++) {
    let body = digits.slice(0, 2);
    while (body.length < digits.length - 1) body += rng.digit();
    candidate = body + luhnCheckDigit(body);
    if (isCardNumber(candidate) || !isCardNumber(digits)) break;
  }
  return reformat(original, candidate);
}
