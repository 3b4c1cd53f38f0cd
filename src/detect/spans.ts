/**
 * Maps a character span of the page text to pixel boxes through the OCR word boxes (never by
 * character ratios): one segment per line the span touches, each the union of the boxes of the
 * words it covers. A span that covers part of a word takes the whole word.
 */
import type { Box } from './types';
import type { PageText, WordRef } from './text';

/** The part of a span that lies on one line. */
export interface SpanSegment {
  /** Line index in the page. */
  line: number;
  /** Union of the covered words' boxes. */
  box: Box;
  /** The covered words, in order. */
  words: WordRef[];
  /** Offsets in the page text from the first covered word's start to the last one's end. */
  start: number;
  end: number;
}

function firstWordEndingAfter(words: readonly WordRef[], pos: number): number {
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].end <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Union of boxes. */
export function unionBox(boxes: readonly Box[]): Box {
  let [x0, y0, x1, y1] = boxes[0];
  for (const b of boxes) {
    x0 = Math.min(x0, b[0]);
    y0 = Math.min(y0, b[1]);
    x1 = Math.max(x1, b[2]);
    y1 = Math.max(y1, b[3]);
  }
  return [x0, y0, x1, y1];
}

/**
 * The line segments of the span `[start, end)`. Words that the span only touches with whitespace
 * are not included; an empty list means the span covers no word.
 */
export function spanToSegments(pt: PageText, start: number, end: number): SpanSegment[] {
  const segments: SpanSegment[] = [];
  for (let i = firstWordEndingAfter(pt.words, start); i < pt.words.length && pt.words[i].start < end; i++) {
    const w = pt.words[i];
    const last = segments[segments.length - 1];
    if (last && last.line === w.line) {
      last.words.push(w);
      last.end = w.end;
    } else {
      segments.push({ line: w.line, box: [0, 0, 0, 0], words: [w], start: w.start, end: w.end });
    }
  }
  for (const s of segments) {
    s.box = unionBox(s.words.map((w) => pt.page.lines[w.line].words[w.word].box));
  }
  return segments;
}
