/**
 * IBANs: country code + check digits + BBAN, printed compact or in groups; the exact length per
 * country and the mod-97 check (plus national BBAN checks) are validated with ibantools.
 */
import { countrySpecs, isValidIBAN } from 'ibantools';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ -]?[A-Za-z0-9])/g;

/** Expected total IBAN length for a country, or undefined when the country has no IBAN. */
export function ibanLength(country: string): number | undefined {
  const spec = (countrySpecs as Record<string, { chars?: number }>)[country.toUpperCase()];
  return spec?.chars;
}

/** True when `compact` (no separators) is a valid IBAN. */
export function isIban(compact: string): boolean {
  return isValidIBAN(compact.toUpperCase());
}

/** Finds IBANs (single spaces or dashes between groups allowed). */
export class IbanRecognizer implements Recognizer {
  readonly name = 'iban';
  readonly entities = ['iban'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(START, text)) {
      const len = ibanLength(m[0].slice(0, 2));
      if (!len) continue;
      // Consume exactly `len` alphanumerics, allowing one separator between characters: spaces or
      // dashes ("GB82-WEST-1234-..."), the same one throughout.
      let i = m.index;
      let compact = '';
      let sep = '';
      while (i < text.length && compact.length < len) {
        const ch = text[i];
        if (/[A-Za-z0-9]/.test(ch)) compact += ch;
        else if ((ch !== ' ' && ch !== '-') || (sep && ch !== sep) || !/[A-Za-z0-9]/.test(text[i - 1])) break;
        else sep = ch;
        i++;
      }
      if (compact.length !== len || /[A-Za-z0-9]/.test(text[i] ?? '')) continue;
      if (!isIban(compact)) continue;
      out.push({ entity: 'iban', start: m.index, end: i, score: 0.99, recognizer: this.name });
    }
    return out;
  }
}
