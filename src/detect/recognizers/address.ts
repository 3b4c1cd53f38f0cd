/**
 * Postal addresses: street lines (house number + street name + street type, German "-straße 12",
 * PO boxes), UK postcodes with their town, US "City, ST 12345" lines, European "12345 City" and "City 12345" lines
 * below a street line, and the text after an "Address:" label. Parts on the same or consecutive
 * lines are merged into one address.
 */
import { STREET_TYPES, US_STATES } from '../wordlists';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const variants = (ws: readonly string[]): string =>
  [...new Set(ws.flatMap((w) => [w, w.toUpperCase()]))].sort((a, b) => b.length - a.length).join('|');

const TYPES = variants(STREET_TYPES);
const UNIT = String.raw`(?:Flat|FLAT|Apt\.?|APT\.?|Apartment|Suite|SUITE|Unit|UNIT|Ste\.?|#)\s?[0-9A-Z]{1,5}`;
const STREET_WORD = String.raw`(?:[A-Z][A-Za-z'.\-]*|\d{1,3}(?:st|nd|rd|th))`;
const STREET = new RegExp(
  String.raw`(?<![A-Za-z\d])(?:${UNIT},?\s)?\d{1,5}[A-Za-z]?(?:[-/]\d{1,5})?,?\s(?:${STREET_WORD}\s){0,3}(?:${TYPES}|[A-Z][a-z]+way)\b\.?(?:,?\s${UNIT})?`,
  'g',
);
const GERMAN_STREET = /(?<![A-Za-z])[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee|ring|damm)\s\d{1,4}[a-z]?(?![\dA-Za-z])/g;
const PO_BOX = /(?<![A-Za-z])(?:P\.?\s?O\.?\s?Box|PO BOX|Post Office Box)\s\d{1,6}(?!\d)/gi;
const CITY_WORDS = String.raw`(?:[A-Z][A-Za-z'.\-]+,?\s){0,3}`;
const UK_POSTCODE = new RegExp(String.raw`(?<![A-Za-z\d])${CITY_WORDS}(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}(?![A-Za-z\d])`, 'g');
const US_CITY = new RegExp(
  String.raw`(?<![A-Za-z\d])[A-Z][A-Za-z.'\-]*(?:\s[A-Z][A-Za-z.'\-]*){0,3},?\s(?:${US_STATES.join('|')})\s\d{5}(?:-\d{4})?(?![\dA-Za-z])`,
  'g',
);
const EU_CITY = /(?<![A-Za-z\d-])(?:[A-Z]{1,2}-)?\d{4,5}\s[A-ZÄÖÜ][a-zäöüßéè]+(?:[ -][A-ZÄÖÜ][a-zäöüßéè]+)?(?![A-Za-z\d])/g;
// A label, then the value on the same line or (label ending its line) on the next one.
const LABEL = /(?:^|\n)[^\n]*?(?:Address|ADDRESS|Addr\.|Adresse|Anschrift|Street|STREET|City|CITY|Town|Postcode|Post code|ZIP|Zip code|ZIP code)[ \t]*:[ \t]*\n?([^\n]+)/g;
// "Springfield 62704": a town and a 5-digit ZIP without a state, below a street line.
const CITY_ZIP = /(?<![A-Za-z\d])[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\s\d{5}(?![\dA-Za-z])/g;
const BETWEEN_SAME_LINE = /^[\s,]*(?:[A-Z][A-Za-z'.\-]*,?\s*){0,3}$/;

/** Finds postal addresses. */
export class AddressRecognizer implements Recognizer {
  readonly name = 'address';
  readonly entities = ['address'] as const;
  find(text: string): RecognizerMatch[] {
    const parts: RecognizerMatch[] = [];
    const add = (start: number, end: number, score: number): void => {
      parts.push({ entity: 'address', start, end, score, recognizer: this.name });
    };
    const streets: { start: number; end: number }[] = [];
    for (const re of [STREET, GERMAN_STREET, PO_BOX]) {
      for (const m of matchAll(re, text)) {
        let end = m.index + m[0].length;
        // "12 High Street, London" -> take the town after the comma too.
        const nl = text.indexOf('\n', end);
        const rest = text.slice(end, nl < 0 ? text.length : nl);
        if (/^,\s*[A-Z][A-Za-z'\-]+(?:\s[A-Z][A-Za-z'\-]+){0,2}\s*$/.test(rest)) end += rest.trimEnd().length;
        streets.push({ start: m.index, end });
        add(m.index, end, 0.85);
      }
    }
    for (const m of matchAll(UK_POSTCODE, text)) add(m.index, m.index + m[0].length, 0.85);
    for (const m of matchAll(US_CITY, text)) add(m.index, m.index + m[0].length, 0.9);
    // "10115 Berlin": only on the line after a street line, or on the street line itself.
    for (const m of [...matchAll(EU_CITY, text), ...matchAll(CITY_ZIP, text)]) {
      const lineStart = text.lastIndexOf('\n', m.index - 1) + 1;
      const prevStart = lineStart > 0 ? text.lastIndexOf('\n', lineStart - 2) + 1 : -1;
      const near = streets.some((s) => (s.start >= lineStart && s.end <= m.index) || (prevStart >= 0 && s.start >= prevStart && s.start < lineStart));
      if (near) add(m.index, m.index + m[0].length, 0.8);
    }
    for (const m of matchAll(LABEL, text)) {
      const value = m[1].trimEnd();
      const start = m.index + m[0].length - m[1].length;
      if (/[A-Za-z0-9]/.test(value)) add(start, start + value.length, 0.8);
    }
    return mergeAddressParts(text, parts);
  }
}

/** Merges address parts that touch, sit on the same line with only town words between, or on consecutive lines. */
export function mergeAddressParts(text: string, parts: RecognizerMatch[]): RecognizerMatch[] {
  const sorted = [...parts].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: RecognizerMatch[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.start <= last.end) {
      last.end = Math.max(last.end, p.end);
      last.score = Math.max(last.score, p.score);
      continue;
    }
    if (last) {
      const between = text.slice(last.end, p.start);
      const newlines = (between.match(/\n/g) ?? []).length;
      const sameLineOk = newlines === 0 && BETWEEN_SAME_LINE.test(between);
      // Consecutive lines: the rest of the first line and the start of the next hold at most a few words.
      const nextLineOk = newlines === 1 && between.split('\n').every((s) => BETWEEN_SAME_LINE.test(s));
      if (sameLineOk || nextLineOk) {
        last.end = p.end;
        last.score = Math.max(last.score, p.score);
        continue;
      }
    }
    out.push({ ...p });
  }
  return out;
}
