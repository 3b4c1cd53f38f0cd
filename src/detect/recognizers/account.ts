/**
 * Bank account numbers: 6-20 digits (grouped by spaces or dashes) or masked numbers ("****1234"),
 * only next to a label such as "Account number", "Acct", "A/C", "Konto", "N° de compte",
 * "Número de cuenta", "Conto", "Rekeningnummer", "Conta" (labels.ts).
 */
import { hasContext } from './context';
import { ACCOUNT_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const NUMBER = /(?<![A-Za-z\d-])(?:[X*•x]{2,12}[ -]?\d{3,6}|\d(?:[ -]?\d){5,19})(?![A-Za-z\d]|[.,]\d)/g;
const CONTEXT = ACCOUNT_LABELS;

/** Finds account numbers next to an account label. */
export class AccountNumberRecognizer implements Recognizer {
  readonly name = 'account_number';
  readonly entities = ['account_number'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(NUMBER, text)) {
      const end = m.index + m[0].length;
      if (!hasContext(text, m.index, end, CONTEXT, false, 32)) continue;
      out.push({ entity: 'account_number', start: m.index, end, score: 0.85, recognizer: this.name });
    }
    return out;
  }
}
