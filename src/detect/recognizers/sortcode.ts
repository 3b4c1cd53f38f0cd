/** UK sort codes (12-34-56, 12 34 56, 123456) next to a "Sort code" label. */
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const SORT = /(?<![\d-])\d{2}([- ]?)\d{2}\1\d{2}(?![\d]|[-.\/]\d)/g;
const CONTEXT = String.raw`sort code|sort-code|sortcode|sort|s\/c|bank code|blz|bankleitzahl|code banque|code guichet`;

/** Finds sort codes. */
export class SortCodeRecognizer implements Recognizer {
  readonly name = 'sort_code';
  readonly entities = ['sort_code'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(SORT, text)) {
      const end = m.index + m[0].length;
      if (!hasContext(text, m.index, end, CONTEXT, false, 24)) continue;
      out.push({ entity: 'sort_code', start: m.index, end, score: 0.95, recognizer: this.name });
    }
    return out;
  }
}
