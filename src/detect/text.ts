/**
 * The page text that recognizers search: lines joined by "\n", words joined by one space, with the
 * character offsets of every word so matches map back to word boxes.
 */
import type { OcrPage } from './types';

/** Where one OCR word sits in the page text. */
export interface WordRef {
  /** Index of the line in `page.lines`. */
  line: number;
  /** Index of the word in its line. */
  word: number;
  /** Character offsets of the word in `PageText.text` (end exclusive). */
  start: number;
  end: number;
}

/** The searchable text of a page and the word offsets behind it. */
export interface PageText {
  readonly page: OcrPage;
  readonly text: string;
  /** Every word in text order (sorted by `start`). */
  readonly words: readonly WordRef[];
  /** Offset of the first character of each line in `text`. */
  readonly lineStarts: readonly number[];
}

/**
 * Builds the page text: each line's words joined by one space, lines joined by "\n". Whitespace
 * inside a word (which well-formed OCR never produces) is replaced by U+00A0 so offsets stay exact.
 */
export function buildPageText(page: OcrPage): PageText {
  const parts: string[] = [];
  const words: WordRef[] = [];
  const lineStarts: number[] = [];
  let pos = 0;
  page.lines.forEach((line, li) => {
    if (li > 0) {
      parts.push('\n');
      pos += 1;
    }
    lineStarts.push(pos);
    line.words.forEach((w, wi) => {
      if (wi > 0) {
        parts.push(' ');
        pos += 1;
      }
      const t = w.text.replace(/\s/g, '\u00a0');
      parts.push(t);
      words.push({ line: li, word: wi, start: pos, end: pos + t.length });
      pos += t.length;
    });
  });
  return { page, text: parts.join(''), words, lineStarts };
}

/** Index of the line that contains offset `pos` (binary search over `lineStarts`). */
export function lineAt(pt: PageText, pos: number): number {
  let lo = 0;
  let hi = pt.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pt.lineStarts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
