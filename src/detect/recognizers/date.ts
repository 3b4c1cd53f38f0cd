/** Dates in common numeric and textual formats, validated as real calendar dates. */
import { parseDate } from '../dates';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const MON = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const ORD = '(?:st|nd|rd|th)?';
const PATTERNS: RegExp[] = [
  // 2024-03-12, 2024/03/12
  /(?<![\d.\/-])\d{4}([-\/.])\d{1,2}\1\d{1,2}(?![\d]|[.\/-]\d)/g,
  // 12.03.2024, 03/12/2024, 12-03-24
  /(?<![\d.\/-])\d{1,2}([-\/.])\d{1,2}\1(?:\d{4}|\d{2})(?![\d]|[.\/-]\d)/g,
  // 12 March 2024, 12th Mar. 2024, 12-MAR-2024, 12 Mar 24
  new RegExp(`(?<![A-Za-z\\d])\\d{1,2}${ORD}[ -]${MON}\\.?,?[ -](?:\\d{4}|\\d{2})(?![A-Za-z\\d])`, 'gi'),
  // March 12, 2024, Mar 12 2024
  new RegExp(`(?<![A-Za-z\\d])${MON}\\.? \\d{1,2}${ORD},? \\d{4}(?![A-Za-z\\d])`, 'gi'),
  // March 2024
  new RegExp(`(?<![A-Za-z\\d])${MON} \\d{4}(?![A-Za-z\\d])`, 'gi'),
];

/** Finds dates. */
export class DateRecognizer implements Recognizer {
  readonly name = 'date';
  readonly entities = ['date'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    PATTERNS.forEach((re, k) => {
      for (const m of matchAll(re, text)) {
        if (!parseDate(m[0].replace(/\.(?=\s)/, ''))) continue;
        const score = k === 4 ? 0.75 : 0.9;
        out.push({ entity: 'date', start: m.index, end: m.index + m[0].length, score, recognizer: this.name });
      }
    });
    return out;
  }
}
