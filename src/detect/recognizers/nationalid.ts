/**
 * National identifiers and VAT IDs of Germany, France, Spain, Italy, the Netherlands and Portugal
 * (and the VAT IDs of Belgium, Austria, Luxembourg and the UK), validated by their check digits
 * (see national.ts). Formats whose check passes for many random numbers (a nine-digit SIREN, BSN
 * or NIF, an eleven-digit Steuer-ID) need their label nearby; the others stand alone and score
 * higher with one.
 */
import { compactId, ID_KINDS, type IdKind } from '../national';
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const compiled = ID_KINDS.map((k) => ({ kind: k, re: new RegExp(String.raw`(?<![\p{L}\p{N}\-\/.])(?:${k.pattern})(?![\p{L}\p{N}]|[\-\/.,]\d)`, 'gu') }));

/** Finds national identifiers and VAT IDs. */
export class NationalIdRecognizer implements Recognizer {
  readonly name = 'national_id';
  readonly entities = ['national_id', 'vat_id'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const { kind, re } of compiled) {
      for (const m of matchAll(re, text)) {
        if (!kind.valid(compactId(m[0]))) continue;
        const end = m.index + m[0].length;
        const score = scoreOf(kind, text, m.index, end);
        if (score === 0) continue;
        out.push({ entity: kind.entity, start: m.index, end, score, recognizer: `${this.name}:${kind.kind}` });
      }
    }
    return out;
  }
}

function scoreOf(kind: IdKind, text: string, start: number, end: number): number {
  if (kind.label) return hasContext(text, start, end, kind.label, false, 40) ? kind.score : 0;
  return kind.context && hasContext(text, start, end, kind.context, false, 40) ? 0.95 : kind.score;
}
