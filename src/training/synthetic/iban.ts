/**
 * IBANs for synthetic documents: structurally valid (length and BBAN shape per country) with
 * correct ISO 13616 mod-97 check digits and, where a country has one that is simple (Belgium), the
 * national check digits, so detectors that validate them accept them. Countries whose national
 * checks are more involved (France, Spain) are left out.
 */
import type { Rng } from './random';

/** BBAN shapes: n = digits, a = uppercase letters, c = alphanumeric. */
const BBAN: Record<string, string[]> = {
  DE: ['8n', '10n'],
  GB: ['4a', '6n', '8n'],
  NL: ['4a', '10n'],
  IT: ['1a', '5n', '5n', '12n'],
  BE: ['3n', '7n', '2n'],
  AT: ['5n', '11n'],
};

/** Countries {@link makeIban} can generate. */
export const IBAN_COUNTRIES = Object.keys(BBAN);

/** The mod-97 remainder of an IBAN (spaces ignored); 1 for a valid IBAN. */
export function ibanMod97(iban: string): number {
  const s = iban.replace(/\s+/g, '').toUpperCase();
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 && code <= 90 ? String(code - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem;
}

/** True when `iban` passes the mod-97 check (format per country is not checked here). */
export function isValidIbanChecksum(iban: string): boolean {
  return /^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban.replace(/\s+/g, '').toUpperCase()) && ibanMod97(iban) === 1;
}

/** A random valid IBAN of `country` (electronic form, no spaces). */
export function makeIban(rng: Rng, country = rng.pick(IBAN_COUNTRIES)): string {
  const parts = BBAN[country];
  if (!parts) throw new Error(`no IBAN format for ${country}`);
  const bban = parts
    .map((p) => {
      const n = Number(p.slice(0, -1));
      return p.endsWith('a') ? rng.letters(n) : rng.digits(n);
    })
    .join('');
  const national = country === 'BE' ? `${bban.slice(0, 10)}${String(Number(bban.slice(0, 10)) % 97 || 97).padStart(2, '0')}` : bban;
  return withCheckDigits(country, national);
}

function withCheckDigits(country: string, bban: string): string {
  const check = 98 - ibanMod97(`${country}00${bban}`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

/** The print form: groups of 4 separated by spaces. */
export function formatIban(iban: string): string {
  return iban.replace(/(.{4})/g, '$1 ').trim();
}
