/**
 * Character-class-preserving helpers: digits stay digits, letters keep their case, separators stay
 * where they were.
 */
import type { Rng } from './rng';

/** Alphanumerics of `s`, upper-cased (the canonical form of codes and numbers). */
export function compactAlnum(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

/**
 * Writes `compact` (alphanumerics) back into the layout of `original`: every alphanumeric of the
 * original is replaced in order, separators are kept, and letter case follows the original.
 */
export function reformat(original: string, compact: string): string {
  let k = 0;
  let out = '';
  for (const ch of original) {
    if (/[A-Za-z0-9]/.test(ch) && k < compact.length) {
      const c = compact[k++];
      out += ch >= 'a' && ch <= 'z' ? c.toLowerCase() : c;
    } else out += ch;
  }
  return out + compact.slice(k);
}

/** Options for {@link shapeFake}. */
export interface ShapeOptions {
  /** Keep this many leading alphanumerics. */
  keepPrefix?: number;
  /** The first digit of each digit run stays non-zero when it was non-zero. */
  keepLeadingNonZero?: boolean;
  /** Characters kept as they are (mask characters such as X or *). */
  keepChars?: string;
}

/** Replaces every digit by a random digit and every ASCII letter by a random letter of the same case. */
export function shapeFake(original: string, rng: Rng, options: ShapeOptions = {}): string {
  let out = '';
  let alnum = 0;
  let prevDigit = false;
  for (const ch of original) {
    const isDigit = ch >= '0' && ch <= '9';
    const isUpper = ch >= 'A' && ch <= 'Z';
    const isLower = ch >= 'a' && ch <= 'z';
    if ((isDigit || isUpper || isLower) && options.keepChars?.includes(ch)) {
      out += ch;
    } else if (isDigit || isUpper || isLower) {
      if (alnum < (options.keepPrefix ?? 0)) out += ch;
      else if (isDigit) out += rng.digit(options.keepLeadingNonZero === true && !prevDigit && ch !== '0');
      else out += rng.letter(isUpper);
      alnum++;
    } else out += ch;
    prevDigit = isDigit;
  }
  return out;
}

/** Applies the case style of `model` (UPPER, lower, Title) to `word`. */
export function matchCase(model: string, word: string): string {
  const letters = model.replace(/[^A-Za-z]/g, '');
  if (letters.length > 1 && letters === letters.toUpperCase()) return word.toUpperCase();
  if (letters.length > 0 && letters === letters.toLowerCase()) return word.toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

/**
 * Picks a word from `list` whose length is within `slack` of `length` (widening the slack until
 * one exists), avoiding `avoid` (case-insensitive) when possible.
 */
export function pickSimilarLength(list: readonly string[], length: number, rng: Rng, avoid = ''): string {
  for (let slack = 0; slack <= 12; slack++) {
    const c = list.filter((w) => Math.abs(w.length - length) <= slack && w.toLowerCase() !== avoid.toLowerCase());
    if (c.length >= 3 || (slack >= 2 && c.length > 0)) return rng.pick(c);
  }
  return rng.pick(list);
}
