/** Email addresses (RFC 5321 length limits, no empty or dotted-edge labels). */
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

// OCR sometimes splits an address after a dot ("jane. doe@x.org") or around "@": one space there is allowed.
const EMAIL = /(?<![A-Za-z0-9._%+@-])[A-Za-z0-9._%+-]+(?:(?<=\.) [A-Za-z0-9._%+-]+)* ?@ ?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

/** True when `s` is a plausible email address. */
export function isValidEmail(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at <= 0 || s.length > 254) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => l.length > 0 && l.length <= 63 && !l.startsWith('-') && !l.endsWith('-'));
}

/** Finds email addresses. */
export class EmailRecognizer implements Recognizer {
  readonly name = 'email';
  readonly entities = ['email'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const m of matchAll(EMAIL, text)) {
      let s = m[0];
      // A sentence-final dot is not part of the address.
      while (s.endsWith('.')) s = s.slice(0, -1);
      if (isValidEmail(s.replace(/ /g, ''))) out.push({ entity: 'email', start: m.index, end: m.index + s.length, score: 0.97, recognizer: this.name });
    }
    return out;
  }
}
