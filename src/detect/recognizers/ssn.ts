/**
 * US Social Security numbers: AAA-GG-SSSS with area not 000, 666 or 900-999, group not 00, serial
 * not 0000 (and not the famous advertising numbers). Dashed numbers stand alone; undashed or
 * space-separated ones need a label nearby.
 */
import { hasContext } from './context';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const SSN = /(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])/g;
const CONTEXT = 'ssn|social security|social security number|ss#|ss no|taxpayer|tin';

/** True when the nine digits follow the SSA's assignment rules. */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  if (area === 0 || area === 666 || area >= 900 || group === 0 || serial === 0) return false;
  return !['078051120', '219099999', '123456789'].includes(digits);
}

/** Finds US SSNs. */
export class SsnRecognizer implements Recognizer {
  readonly name = 'ssn';
  readonly entities = ['ssn'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(SSN, text)) {
      const digits = m[1] + m[3] + m[4];
      if (!isValidSsn(digits)) continue;
      const end = m.index + m[0].length;
      const context = hasContext(text, m.index, end, CONTEXT);
      if (m[2] !== '-' && !context) continue;
      out.push({ entity: 'ssn', start: m.index, end, score: context ? 0.95 : 0.75, recognizer: this.name });
    }
    return out;
  }
}
