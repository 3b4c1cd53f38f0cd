/**
 * IBANs: country code + check digits + BBAN, printed compact or in groups; the exact length per
 * country and the mod-97 check (plus national BBAN checks) are validated with ibantools. A value of
 * the right length whose check fails is still an IBAN (at a lower score) when look-alike letters in
 * the check digits explain it or an IBAN label precedes it: OCR misreads must not leave it in place.
 */
import { countrySpecs, isValidIBAN } from 'ibantools';
import { hasContext } from './context';
import { IBAN_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

// The check digits may be misread as look-alike letters (O for 0, I or l for 1, S for 5, B for 8).
const START = /(?<![A-Za-z0-9])[A-Za-z]{2}[\dOoIlSB]{2}(?=[ -]?[A-Za-z0-9])/g;
const LOOKALIKE: Record<string, string> = { O: '0', o: '0', I: '1', l: '1', S: '5', B: '8' };

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
      const repaired = compact.slice(0, 2) + compact.slice(2, 4).replace(/[OoIlSB]/g, (c) => LOOKALIKE[c]) + compact.slice(4);
      if (compact === repaired && isIban(compact)) {
        out.push({ entity: 'iban', start: m.index, end: i, score: 0.99, recognizer: this.name });
      } else if (isIban(repaired) || hasContext(text, m.index, i, IBAN_LABELS)) {
        // A misread character breaks the check, but the value is there to read: an IBAN all the
        // same when the repair validates or a label says so (a lower score).
        out.push({ entity: 'iban', start: m.index, end: i, score: 0.8, recognizer: this.name });
      }
    }
    return out;
  }
}
