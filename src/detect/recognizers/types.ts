/** The recognizer contract: find entity spans in the page text. */
import type { EntityType } from '../types';

/** A span of the page text that a recognizer believes is an entity. */
export interface RecognizerMatch {
  entity: EntityType;
  /** Character offsets in the page text (end exclusive). */
  start: number;
  end: number;
  /** How sure the recognizer is, in [0, 1] (validated formats score higher). */
  score: number;
  /** Name of the recognizer that found it. */
  recognizer: string;
}

/** Finds one family of entities in the page text (lines joined by "\n", words by one space). */
export interface Recognizer {
  readonly name: string;
  /** Entity types this recognizer can produce. */
  readonly entities: readonly EntityType[];
  find(text: string): RecognizerMatch[];
}

/** Iterates the matches of a global regex. */
export function* matchAll(re: RegExp, text: string): Generator<RegExpExecArray> {
  const r = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let m: RegExpExecArray | null;
  while ((m = r.exec(text)) !== null) {
    if (m[0].length === 0) {
      r.lastIndex++;
      continue;
    }
    yield m;
  }
}
