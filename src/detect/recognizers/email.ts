/**
 * Email addresses: RFC 5321 length limits, no empty or dotted-edge labels, internationalised
 * (Unicode letters, punycode "xn--" labels and top-level domains); and obfuscated addresses as
 * printed on web pages and in documents ("name at domain dot org", "name [at] domain.org",
 * "name(at)domain.org", "tal197 at users.sf.net").
 */
import { getCountries } from 'libphonenumber-js';
import { isCommonWord } from '../lexicon';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const LOCAL = String.raw`[\p{L}\p{N}._%+\-]+`;
const LABEL = String.raw`[\p{L}\p{N}\-]+`;
const TLD = String.raw`(?:xn--[A-Za-z0-9\-]{1,59}|\p{L}{2,24})`;
// OCR sometimes splits an address after a dot ("jane. doe@x.org", "x@mail. co.uk") or around "@":
// one space there is allowed (in the domain only before a lower-case label: "bob@example. Thanks"
// is the end of a sentence).
const DOMAIN_DOT = String.raw`\.(?: (?=\p{Ll}))?`;
const EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}._%+@\-])${LOCAL}(?:(?<=\.) ${LOCAL})* ?@ ?${LABEL}(?:${DOMAIN_DOT}${LABEL})*${DOMAIN_DOT}${TLD}(?![\p{L}\p{N}\-])`,
  'gu',
);

// Obfuscated "@" and ".": bracketed ("[at]", "(at)", "{dot}"), or spelled out between spaces.
const BRACKET_AT = String.raw`[ ]?[\[({<][ ]?(?:at|AT|At|@)[ ]?[\])}>][ ]?`;
const WORD_AT = String.raw`[ ](?:at|AT)[ ]`;
const BRACKET_DOT = String.raw`[ ]?[\[({<][ ]?(?:dot|DOT|Dot|\.)[ ]?[\])}>][ ]?`;
const WORD_DOT = String.raw`[ ](?:dot|DOT)[ ]`;
const DOT = `(?:${BRACKET_DOT}|${WORD_DOT}|\\.)`;
const OBFUSCATED = new RegExp(
  String.raw`(?<![\p{L}\p{N}._%+@\-])(${LOCAL})(${BRACKET_AT}|${WORD_AT})(${LABEL}(?:${DOT}${LABEL})*${DOT}${TLD})(?![\p{L}\p{N}\-]|\.\p{L})`,
  'gu',
);
/** Separators of an obfuscated address, for the fake and the canonical form. */
export const OBFUSCATED_AT = new RegExp(`${BRACKET_AT}|${WORD_AT}`);
export const OBFUSCATED_DOT = new RegExp(`${BRACKET_DOT}|${WORD_DOT}`, 'g');

// Top-level domains an obfuscated address without brackets must end in: country codes and the
// common generic ones (a spelled-out "at" is an ordinary word, so the rest must look like a domain).
const TLDS = new Set([
  ...getCountries().map((c) => c.toLowerCase()),
  'uk', 'eu', 'com', 'net', 'org', 'edu', 'gov', 'mil', 'int', 'info', 'biz', 'name', 'pro', 'io', 'app', 'dev', 'ai', 'me',
  'tv', 'cc', 'xyz', 'online', 'site', 'tech', 'email', 'mail',
]);

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

/** The plain form of an (obfuscated) address: "name at domain dot org" -> "name@domain.org". */
export function deobfuscateEmail(s: string): string {
  if (s.includes('@') && !/[\[({<]/.test(s)) return s.replace(/ /g, '');
  const at = OBFUSCATED_AT.exec(s);
  if (!at) return s.replace(/ /g, '');
  const local = s.slice(0, at.index);
  const domain = s.slice(at.index + at[0].length).replace(OBFUSCATED_DOT, '.');
  return `${local}@${domain}`.replace(/ /g, '');
}

/** Finds email addresses, plain and obfuscated. */
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
    for (const m of matchAll(OBFUSCATED, text)) {
      const [whole, local, at, domain] = m;
      const plain = deobfuscateEmail(whole);
      if (!isValidEmail(plain)) continue;
      const tld = plain.slice(plain.lastIndexOf('.') + 1).toLowerCase();
      const bracketed = /[\[({<]/.test(at);
      const spelledDot = /[ \])}>]dot[ \[({<]|[\[({<]\.[\])}>]/i.test(domain);
      if (!bracketed) {
        // " at " is an ordinary word: the domain must end in a known TLD and, with literal dots
        // only, the name must not be an ordinary word ("look at example.com").
        if (!TLDS.has(tld) && !tld.startsWith('xn--')) continue;
        if (!spelledDot && /^[\p{L}]+$/u.test(local) && isCommonWord(local)) continue;
      }
      out.push({ entity: 'email', start: m.index, end: m.index + whole.length, score: bracketed || spelledDot ? 0.9 : 0.8, recognizer: this.name });
    }
    return out;
  }
}
