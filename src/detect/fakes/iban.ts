/** Fake IBANs: same country, length and grouping, character classes kept, valid mod-97 and BBAN checks. */
import { isValidIBAN } from 'ibantools';
import { ibanCheckDigits } from '../checksums';
import type { Rng } from './rng';
import { compactAlnum, reformat, shapeFake } from './shape';

/** A valid IBAN of the same country and shape as `original` (falls back to mod-97-only validity). */
export function fakeIban(original: string, rng: Rng): string {
  const compact = compactAlnum(original);
  const country = compact.slice(0, 2);
  const bban = compact.slice(4);
  let candidate = '';
  for (let i = 0; i < 2000; i++) {
    const fakeBban = shapeFake(bban, rng);
    candidate = country + ibanCheckDigits(country, fakeBban) + fakeBban;
    if (isValidIBAN(candidate)) break;
  }
  return reformat(original, candidate);
}
