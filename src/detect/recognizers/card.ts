/**
 * Payment card numbers: 13-19 digits (grouped by spaces or dashes, consistently), a plausible
 * issuer prefix (IIN) for the length, and a valid Luhn check digit, or any 13-19 digits after a card
 * label (a lower score); and masked numbers that show only the last four digits.
 */
import { luhnValid } from '../checksums';
import { hasContext } from './context';
import { CARD_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

// Masked numbers as printed on receipts and statements: "**** **** **** 1234", "XXXX-XXXX-XXXX-1234".
const MASKED = /(?<![\w*•])(?:[*Xx•]{4}[ -]?){2,3}(?:[*Xx•]{2,4}[ -]?)?\d{4}(?!\d)/g;
const CANDIDATE = /(?<![\d.,])\d{1,19}(?:[ -]\d{1,19}){0,15}(?![\d]|[.,]\d)/g;

/** True when the issuer prefix fits the length (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro). */
export function plausibleIin(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  const p3 = Number(d.slice(0, 3));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19;
  if (p2 === 35) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305)) return n >= 14 && n <= 16;
  if (p2 === 62) return n >= 16 && n <= 19;
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19;
  return false;
}

/** True when `digits` is a plausible, Luhn-valid card number. */
export function isCardNumber(digits: string): boolean {
  return /^\d{13,19}$/.test(digits) && !/^(\d)\1+$/.test(digits) && plausibleIin(digits) && luhnValid(digits);
}

/** Finds payment card numbers. */
export class CardRecognizer implements Recognizer {
  readonly name = 'card';
  readonly entities = ['card'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(CANDIDATE, text)) {
      const groups: { s: string; at: number }[] = [];
      const re = /\d+/g;
      let g: RegExpExecArray | null;
      while ((g = re.exec(m[0])) !== null) groups.push({ s: g[0], at: m.index + g.index });
      // From each group on, the longest run of groups that is a card; after a card the scan goes
      // on behind it, so several cards on one line ("4111111111111111 5555555555554444") are all found.
      let a = 0;
      while (a < groups.length) {
        let found: { start: number; end: number; next: number; score: number } | undefined;
        for (let len = Math.min(groups.length - a, 19); len >= 1 && !found; len--) {
          const run = groups.slice(a, a + len);
          const digits = run.map((x) => x.s).join('');
          if (digits.length < 13 || digits.length > 19) continue;
          const start = run[0].at;
          const end = run[len - 1].at + run[len - 1].s.length;
          const seps = new Set(text.slice(start, end).replace(/\d/g, ''));
          if (seps.size > 1) continue;
          if (isCardNumber(digits)) found = { start, end, next: a + len, score: 0.97 };
        }
        // After a card label, 13-19 digits are a card even when the check fails: a misread digit
        // (or a printing error) does not make the number any less private.
        if (!found) {
          for (let len = Math.min(groups.length - a, 19); len >= 1 && !found; len--) {
            const run = groups.slice(a, a + len);
            const digits = run.map((x) => x.s).join('');
            if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) continue;
            const start = run[0].at;
            const end = run[len - 1].at + run[len - 1].s.length;
            if (new Set(text.slice(start, end).replace(/\d/g, '')).size > 1) continue;
            if (hasContext(text, start, end, CARD_LABELS)) found = { start, end, next: a + len, score: 0.75 };
          }
        }
        if (found) {
          out.push({ entity: 'card', start: found.start, end: found.end, score: found.score, recognizer: this.name });
          a = found.next;
        } else a++;
      }
    }
    for (const m of matchAll(MASKED, text)) {
      out.push({ entity: 'card', start: m.index, end: m.index + m[0].length, score: 0.8, recognizer: this.name });
    }
    return out;
  }
}
