/**
 * Reference identifiers next to a label: customer, client, member, policy, contract, invoice and
 * order numbers ("Customer ID: C-2024-00417", "Invoice no: INV-2023-1182", "Kundennummer",
 * "N° client", "Número de factura", "Codice cliente", "Klantnummer", "Referência"; labels.ts).
 */
import { hasContext } from './context';
import { ID_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

// An optional series prefix of capitals before a space ("FT 2024/118", Portuguese invoices).
const ID = /(?<![A-Za-z\d-])(?:[A-Z]{1,4} (?=\d))?(?=[A-Za-z\-\/]*\d)[A-Z0-9][A-Za-z0-9]*(?:[-\/][A-Za-z0-9]+){0,4}(?![A-Za-z\d])/g;
const CONTEXT = ID_LABELS;

/** Finds labelled reference identifiers (at least 4 characters, at least one digit). */
export class IdNumberRecognizer implements Recognizer {
  readonly name = 'id_number';
  readonly entities = ['id_number'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(ID, text)) {
      if (m[0].length < 4) continue;
      const end = m.index + m[0].length;
      if (!hasContext(text, m.index, end, CONTEXT, false, 20)) continue;
      out.push({ entity: 'id_number', start: m.index, end, score: 0.8, recognizer: this.name });
    }
    return out;
  }
}
