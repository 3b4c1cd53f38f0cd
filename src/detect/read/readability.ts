/**
 * Was the page read? A reading of a page turned the wrong way, printed too small or too faint
 * comes back as low-confidence fragments that look like no word of any language; a good reading
 * is confident words and numbers of ordinary shapes that cover the page's text-like ink. The
 * score combines both; the decision is the caller's (see `minScore`).
 */
import type { OcrPage } from '../types';
import { type Component, uncoveredShare } from './layout';

/** How well a page was read. */
export interface Readability {
  /** Words read, and their letters and digits. */
  words: number;
  characters: number;
  lines: number;
  /** Letters and digits per line (a page read the wrong way up comes back as many short fragments). */
  charactersPerLine: number;
  /** Mean OCR word confidence (0..1), weighted by letters and digits. */
  meanConfidence: number;
  /** Share of letters and digits in words of a plausible shape (0..1). */
  plausibleShare: number;
  /** Share of character-shaped ink components that no word box covers (0..1). */
  unreadInk: number;
  /** meanConfidence x plausibleShare (0..1). */
  score: number;
}

/** Letters and digits of a string. */
function weight(s: string): number {
  let n = 0;
  for (const ch of s) if (/[\p{L}\p{N}]/u.test(ch)) n++;
  return n;
}

const EDGE_PUNCT = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;
const LATIN_VOWELS = /[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ]/i;

/** A run of letters with a case pattern of ordinary text: lower, Capitalised or UPPER. */
function plausibleLetters(s: string): boolean {
  if (!/^\p{L}+$/u.test(s)) return false;
  const lower = s.toLowerCase();
  const upper = s.toUpperCase();
  const caseOk = s === lower || s === upper || (s[0] === upper[0] && s.slice(1) === lower.slice(1)) || /^(Mc|Mac|O')?\p{Lu}\p{Ll}+$/u.test(s);
  if (!caseOk) return false;
  // Latin words of 4+ letters have a vowel (other scripts are not judged by this).
  if (s.length >= 4 && /^[\p{Script=Latin}]+$/u.test(s) && !LATIN_VOWELS.test(s)) return false;
  return true;
}

/**
 * Whether an OCR token has the shape of something printed on a document: a word (or hyphenated
 * words), a number, an amount, a date, a code of capitals and digits, an email or web address.
 */
export function plausibleToken(token: string): boolean {
  const t = token.normalize('NFKC').replace(EDGE_PUNCT, '');
  if (t.length === 0) return false;
  // Numbers, amounts, dates, times, phone fragments: digits joined by separators.
  if (/^[+\-−]?[\p{Sc}]?\d+([.,:/\-'’]\d+)*[\p{Sc}%]?$/u.test(t)) return true;
  // Codes: capitals and digits (IBAN groups, references), optionally joined by - / .
  if (/^[\p{Lu}\d]+([\-/.][\p{Lu}\d]+)*$/u.test(t) && /\d/.test(t) && /\p{Lu}/u.test(t)) return true;
  // Emails and web addresses.
  if (/^[\p{L}\d._%+\-]+@[\p{L}\d.\-]+\.\p{L}{2,}$/u.test(t) || /^(https?:\/\/|www\.)[\p{L}\d.\-/_%?=&#]+$/iu.test(t)) return true;
  // Words, hyphenated or with an apostrophe; ordinals and unit suffixes ("1st", "20kg").
  if (t.split(/[\-'’]/).every((p) => p.length > 0 && plausibleLetters(p))) return true;
  if (/^\d+\p{Ll}{1,3}$/u.test(t)) return true;
  return false;
}

/** Scores a reading (boxes in the frame of `characters`). */
export function assessReadability(page: OcrPage, characters: readonly Component[]): Readability {
  let characterCount = 0;
  let confSum = 0;
  let plausible = 0;
  let words = 0;
  for (const line of page.lines) {
    for (const w of line.words) {
      words++;
      const n = weight(w.text);
      if (n === 0) continue;
      characterCount += n;
      confSum += n * w.confidence;
      if (plausibleToken(w.text)) plausible += n;
    }
  }
  const meanConfidence = characterCount > 0 ? confSum / characterCount : 0;
  const plausibleShare = characterCount > 0 ? plausible / characterCount : 0;
  const unreadInk = uncoveredShare(
    characters,
    page.lines.flatMap((l) => l.words.map((w) => w.box)),
  );
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    words,
    characters: characterCount,
    lines: page.lines.length,
    charactersPerLine: r(page.lines.length > 0 ? characterCount / page.lines.length : 0),
    meanConfidence: r(meanConfidence),
    plausibleShare: r(plausibleShare),
    unreadInk: r(unreadInk),
    score: r(meanConfidence * plausibleShare),
  };
}
