/** US ABA routing numbers: 9 digits, valid Federal Reserve prefix and 3-7-1 checksum, near a label. */
import { abaValid } from '../checksums';
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const ABA = /(?<![\d-])\d{9}(?![\d]|[.,]\d)/g;
const CONTEXT = 'routing|routing number|routing no|aba|rtn|transit|ach|wire routing';

/** Finds ABA routing numbers (a checksum-valid 9-digit number without a label scores low). */
export class RoutingNumberRecognizer implements Recognizer {
  readonly name = 'routing_number';
  readonly entities = ['routing_number'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(ABA, text)) {
      if (!abaValid(m[0])) continue;
      const end = m.index + m[0].length;
      const context = hasContext(text, m.index, end, CONTEXT);
      if (!context) continue;
      out.push({ entity: 'routing_number', start: m.index, end, score: 0.97, recognizer: this.name });
    }
    return out;
  }
}
