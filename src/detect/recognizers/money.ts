/**
 * Money amounts: a number with a currency symbol or ISO 4217 code before or after it, with
 * thousands separators (",", ".", space, apostrophe) and decimals; also bare amounts with exactly
 * two decimals (the columns of a statement: "1,234.56", "1.234,56", "1 234,56"), at a lower score.
 */
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

/** Currency symbols recognised (longest first). */
export const CURRENCY_SYMBOLS = ['US$', 'C$', 'A$', 'R$', 'HK$', '$', '£', '€', '¥', '₹', '₩', '₽', '₺', '₪', '₱', '₫', 'zł', 'kr', 'Fr.'];
/** ISO 4217 codes recognised. */
export const CURRENCY_CODES = [
  'USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'NZD', 'CNY', 'HKD', 'SGD', 'INR', 'SEK', 'NOK', 'DKK', 'PLN',
  'CZK', 'HUF', 'RON', 'BGN', 'TRY', 'ZAR', 'BRL', 'MXN', 'RUB', 'KRW', 'AED', 'SAR', 'ILS', 'THB', 'IDR', 'MYR', 'PHP',
];

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CUR = `(?:${[...CURRENCY_SYMBOLS.map(esc), ...CURRENCY_CODES].join('|')})`;
// 1,234,567.89 | 1.234.567,89 | 1 234 567,89 | 1'234.50 | 1234.5 | 1234
const NUM = String.raw`(?:\d{1,3}(?:([,.' \u00a0\u202f])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)`;
const SIGN = String.raw`[-\u2212+]?`;

const BEFORE = new RegExp(String.raw`(?<![A-Za-z\d])\(?${SIGN}${CUR} ?${SIGN}${NUM}\)?(?![\d]|[.,]\d)`, 'g');
const AFTER = new RegExp(String.raw`(?<![\d.,])\(?${SIGN}${NUM} ?${CUR}\)?(?![A-Za-z\d])`, 'g');
// Bare amounts: "1,234.56" (English), and "1.234,56" or "1 234,56" (continental: a comma before two
// final digits is a decimal comma, never an English thousands separator).
const BARE = /(?<![\d.,A-Za-z])\(?[-\u2212]?(?:\d{1,3}(?:,\d{3})*\.\d{2}|\d{1,3}(?:\.\d{3})*,\d{2}|\d{1,3}(?:[ \u00a0\u202f]\d{3})+,\d{2})\)?(?![\d]|[.,]\d)(?: ?(?:CR|DR|Cr|Dr)\b)?/g;

// A bare number after these words is a version, section or page number, not an amount ("version 0.21").
const NOT_AMOUNT_BEFORE = new RegExp(
  String.raw`(?:^|[^\p{L}])(?:versions?|versione|versión|versão|versie|fassung|ver|v|release|rel|revision|rev|build|section|sections|sec|sect|§+|¶|page|pages|pp?|chapter|chap|ch|clause|paragraph|para|art|article|figure|fig|table|tab|appendix|annex|step|item|rule|rfc|kapitel|abschnitt|abschnitte|seite|seiten|artikel|chapters|articles|páginas|paginas|pagine|capítulos|capitoli|sezioni|articoli|hoofdstukken|secties|absatz|abs|ziffer|nr|chapitre|alinéa|capítulo|sección|seccion|página|pagina|artículo|articulo|capitolo|sezione|articolo|hoofdstuk|sectie|bladzijde|capitulo|secção|seção)\.?[ :#]*$`,
  'iu',
);

// Nor is a number followed by a unit, or a time of day ("at 10.30", "um 10.30 Uhr", "à 10.30").
const UNIT_AFTER = /^\s?(?:%|‰|°|percent|per cent|prozent|pour cent|por ciento|per cento|procent|por cento|times|x\b|km|kg|mg|g\b|m\b|cm|mm|ml|l\b|kwh|kw|mph|h\b|hrs?\b|hours|uhr|min|am\b|pm\b|a\.m\.|p\.m\.)/i;
const TIME_BEFORE = /(?:^|[^\p{L}])(?:at|um|à|a las|alle|om|às|ab|bis|from|until|till)\s$/iu;

// The second number of a range after such a word: "sections 7.10 to 7.25", "Seiten 3.1 bis 3.4".
const RANGE_BEFORE = new RegExp(NOT_AMOUNT_BEFORE.source.replace(/\[ :#\]\*\$$/, String.raw`[ :#]*\d+(?:[.,]\d+)*\s*(?:to|and|or|-|–|bis|und|à|et|a|al|y|e|tot|en|até)\s*$`), 'iu');

/** True when the words just before `start` on its line say the number is no amount. */
function afterNonAmountWord(text: string, start: number): boolean {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const before = text.slice(Math.max(lineStart, start - 40), start);
  return NOT_AMOUNT_BEFORE.test(before.slice(-24)) || RANGE_BEFORE.test(before);
}

/** True when a bare number is a measurement or a time of day. */
function unitOrTime(text: string, start: number, end: number): boolean {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  if (UNIT_AFTER.test(text.slice(end, end + 12))) return true;
  // "at 10.30": two decimals that read as minutes.
  return /^\d{1,2}[.:][0-5]\d$/.test(text.slice(start, end)) && TIME_BEFORE.test(text.slice(Math.max(lineStart, start - 8), start));
}

function trimParens(s: string, start: number): { start: number; end: number } {
  // Keep parentheses only when balanced (accounting negatives).
  const open = s.startsWith('(');
  const close = s.indexOf(')');
  if (open && close < 0) return { start: start + 1, end: start + s.length };
  if (!open && close >= 0) return { start, end: start + close };
  return { start, end: start + s.length };
}

/** Finds money amounts. */
export class MoneyRecognizer implements Recognizer {
  readonly name = 'money';
  readonly entities = ['money'] as const;
  constructor(private readonly bareAmounts = true) {}
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const re of [BEFORE, AFTER]) {
      for (const m of matchAll(re, text)) {
        if (!/\d/.test(m[0])) continue;
        out.push({ entity: 'money', ...trimParens(m[0], m.index), score: 0.9, recognizer: this.name });
      }
    }
    if (this.bareAmounts) {
      for (const m of matchAll(BARE, text)) {
        if (afterNonAmountWord(text, m.index) || unitOrTime(text, m.index, m.index + m[0].length)) continue;
        out.push({ entity: 'money', ...trimParens(m[0], m.index), score: 0.6, recognizer: this.name });
      }
    }
    return out;
  }
}
