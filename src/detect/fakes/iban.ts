/**
 * Fake IBANs: same country, length and grouping, character classes kept, valid mod-97 and BBAN
 * checks; or, when the document's fakes are moved to another country, an IBAN of that country
 * (its BBAN structure from the IBAN registry) in the original's grouping.
 */
import { countrySpecs, isValidIBAN } from 'ibantools';
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

/** A BBAN of `country`'s structure ("^[A-Z]{4}[0-9]{14}$"), or undefined for a country without one. */
function bbanFor(country: string, rng: Rng): string | undefined {
  const spec = (countrySpecs as Record<string, { bban_regexp?: string }>)[country];
  const re = spec?.bban_regexp;
  if (!re) return undefined;
  let out = '';
  for (const m of re.matchAll(/\[([^\]]+)\]\{(\d+)\}/g)) {
    const n = Number(m[2]);
    for (let i = 0; i < n; i++) {
      const digit = m[1].includes('0-9');
      const letter = m[1].includes('A-Z');
      out += digit && (!letter || rng.int(2) === 0) ? rng.digit() : rng.letter(true);
    }
  }
  return out.length > 0 ? out : undefined;
}

/** A valid IBAN of `country` in the layout of `original` (groups of four when it had spaces). */
export function fakeIbanIn(original: string, rng: Rng, country: string): string {
  if (compactAlnum(original).slice(0, 2) === country) return fakeIban(original, rng);
  let candidate = '';
  for (let i = 0; i < 2000; i++) {
    const bban = bbanFor(country, rng);
    if (!bban) return fakeIban(original, rng);
    candidate = country + ibanCheckDigits(country, bban) + bban;
    if (isValidIBAN(candidate)) break;
  }
  const sep = /[ -]/.exec(original.trim())?.[0];
  return sep ? candidate.replace(/(.{4})(?=.)/g, `$1${sep}`) : candidate;
}
