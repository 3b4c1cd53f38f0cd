/**
 * Dates in common numeric and textual formats (month names in seven languages), validated as real
 * calendar dates; a time of day after a date is part of it ("2024-03-15T14:30:00Z"). Month-year
 * dates as printed on cards and statements: "05/2021", "5/2021", "May-2021", "März 2024"; a
 * two-digit year ("05/21") only next to a label such as "Expiry", "Valid thru", "gültig bis".
 */
import { MONTH_SPELLINGS, parseDate, splitTime, TIME_SUFFIX, validTime } from '../dates';
import { hasContext } from './context';
import { EXPIRY_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MON = `(?:${MONTH_SPELLINGS.map(esc).join('|')})`;
// Abbreviations that are also everyday words ("set", "out", "ago", "mag", "gen"): a month only with a day.
const AMBIGUOUS = new Set(['set', 'out', 'ago', 'gen', 'mag', 'mar', 'dic', 'fev', 'ene', 'mrt', 'giu', 'lug', 'ott', 'abr', 'avr']);
const ORD = '(?:st|nd|rd|th|er|º|ª)?';
const L = String.raw`[\p{L}\p{N}]`;
const TIME = `${TIME_SUFFIX}?`;

interface Pattern {
  re: RegExp;
  score: number;
  /** The value needs a date label before it. */
  label?: boolean;
  /** Month-year: the month name must not be an ambiguous abbreviation. */
  monthYear?: boolean;
}

const PATTERNS: Pattern[] = [
  // 2024-03-12, 2024/03/12, 2024-03-15T14:30:00Z
  { re: new RegExp(String.raw`(?<![\d.\/-])\d{4}([-\/.])\d{1,2}\1\d{1,2}${TIME}(?![\d:]|[.\/-]\d)`, 'g'), score: 0.9 },
  // 12.03.2024, 03/12/2024, 12-03-24, 12.03.2024 14:30
  { re: new RegExp(String.raw`(?<![\d.,\/-])\d{1,2}([-\/.])\d{1,2}\1(?:\d{4}|\d{2})${TIME}(?![\d:]|[.\/-]\d)`, 'g'), score: 0.9 },
  // 12 March 2024, 12th Mar. 2024, 12-MAR-2024, 15. März 2024, 1er janvier 2024, 15 de marzo de 2024
  {
    re: new RegExp(String.raw`(?<!${L})\d{1,2}${ORD}\.?[ -](?:(?:de|of)[ ])?${MON}\.?,?[ -](?:(?:de|del)[ ])?(?:\d{4}|\d{2})(?!${L})`, 'giu'),
    score: 0.9,
  },
  // March 12, 2024, Mar 12 2024
  { re: new RegExp(String.raw`(?<!${L})${MON}\.? \d{1,2}${ORD},? \d{4}(?!${L})`, 'giu'), score: 0.9 },
  // March 2024, May-2021, marzo de 2024
  { re: new RegExp(String.raw`(?<!${L})${MON}\.?[ \-\/](?:de[ ])?\d{4}(?!${L})`, 'giu'), score: 0.75, monthYear: true },
  // 05/2021, 5/2021, 05-2021, 05.2021
  { re: /(?<![\d.,\/-])(?:\d{1,2}\/\d{4}|\d{2}[-.]\d{4})(?![\d]|[.,\/-]\d)/g, score: 0.7 },
  // 2021-05 (also a span of years, "2011-12": a low score, a label raises it)
  { re: /(?<![\d.,\/-])\d{4}-\d{2}(?![\d]|[.,\/-]\d)/g, score: 0.5 },
  // Expiry: 05/21
  { re: /(?<![\d.,\/-])\d{1,2}[\/-]\d{2}(?![\d]|[.,\/-]\d)/g, score: 0.85, label: true },
];

/** Finds dates. */
export class DateRecognizer implements Recognizer {
  readonly name = 'date';
  readonly entities = ['date'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const p of PATTERNS) {
      for (const m of matchAll(p.re, text)) {
        const { date, time } = splitTime(m[0]);
        if (!validTime(time)) continue;
        const parsed = parseDate(date);
        if (!parsed) continue;
        if (p.monthYear) {
          const name = /\p{L}+/u.exec(date)?.[0].toLowerCase() ?? '';
          if (AMBIGUOUS.has(name)) continue;
        }
        const end = m.index + m[0].length;
        const labelled = hasContext(text, m.index, end, EXPIRY_LABELS, false, 32);
        if (p.label && !labelled) continue;
        const score = parsed.day === undefined && labelled ? 0.9 : p.score;
        out.push({ entity: 'date', start: m.index, end, score, recognizer: this.name });
      }
    }
    return out;
  }
}
