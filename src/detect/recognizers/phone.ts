/**
 * Phone numbers, found by libphonenumber-js for the configured default regions: numbers valid in
 * their region score high; numbers that only have a possible length need an international or
 * bracketed format, or a label.
 */
import { findPhoneNumbersInText, type CountryCode } from 'libphonenumber-js';
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';

const CONTEXT = 'phone|tel|telephone|mobile|mob|cell|fax|call|contact|ph';

/** Finds phone numbers valid in their region (international numbers in any region). */
export class PhoneRecognizer implements Recognizer {
  readonly name = 'phone';
  readonly entities = ['phone'] as const;
  /** @param regions default regions for numbers written without a country code (ISO 3166 alpha-2). */
  constructor(private readonly regions: readonly string[] = ['US', 'GB']) {}
  find(text: string): RecognizerMatch[] {
    const seen = new Set<string>();
    const out: RecognizerMatch[] = [];
    for (const region of this.regions) {
      let found;
      try {
        // POSSIBLE: right length for the region; numbers need not be assigned (typos, fictional
        // 555 numbers and new ranges are still someone's contact data).
        found = findPhoneNumbersInText(text, { defaultCountry: region as CountryCode, leniency: 'POSSIBLE' } as never);
      } catch {
        continue;
      }
      for (const f of found) {
        const key = `${f.startsAt}:${f.endsAt}`;
        if (seen.has(key)) continue;
        const raw = text.slice(f.startsAt, f.endsAt);
        // A bare run of digits is more often an account or reference number than a phone.
        const formatted = /^\+|[()\- ]/.test(raw);
        const context = hasContext(text, f.startsAt, f.endsAt, CONTEXT);
        if (!formatted && !context) continue;
        const valid = f.number.isValid();
        if (!valid && !context && !/^\+|^\(/.test(raw)) continue;
        seen.add(key);
        const score = valid ? (context ? 0.95 : 0.85) : context ? 0.85 : 0.6;
        out.push({ entity: 'phone', start: f.startsAt, end: f.endsAt, score, recognizer: this.name });
      }
    }
    return out;
  }
}
