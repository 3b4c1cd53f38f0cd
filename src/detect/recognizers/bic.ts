/**
 * BIC / SWIFT codes (ISO 9362: 4-letter institution, country, 2-char location, optional branch).
 * Upper-case words of 8 or 11 letters are common in headings, so a BIC needs a label nearby or a
 * digit in its location/branch part.
 */
import { isValidBIC } from 'ibantools';
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const BIC = /(?<![A-Za-z0-9])[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])/g;
const CONTEXT = 'bic|swift|swift code|bic code|bic/swift|swift/bic';

/** Finds BIC codes. */
export class BicRecognizer implements Recognizer {
  readonly name = 'bic';
  readonly entities = ['bic'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(BIC, text)) {
      if (!isValidBIC(m[0])) continue;
      const context = hasContext(text, m.index, m.index + m[0].length, CONTEXT);
      const digit = /\d/.test(m[0].slice(6));
      if (!context && !digit) continue;
      out.push({ entity: 'bic', start: m.index, end: m.index + m[0].length, score: context ? 0.95 : 0.6, recognizer: this.name });
    }
    return out;
  }
}
