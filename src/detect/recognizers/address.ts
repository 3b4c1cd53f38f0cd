/**
 * Postal addresses: street lines (house number + street name + street type; German "-straße 12",
 * Dutch "-straat 12", "Via Roma 12", "Calle Mayor, 5", "Rua da Prata, 80", "12 rue de la Paix";
 * PO boxes), UK postcodes with their town, US "City, ST 12345" lines, European postcode lines
 * ("10115 Berlin", "75008 Paris Cedex", "1012 AB Amsterdam", "1100-148 Lisboa", "City 12345") on
 * or below a street line, and the text after an address label in seven languages ("Address:",
 * "Anschrift:", "Adresse :", "Dirección:", "Indirizzo:", "Adres:", "Morada:", "PLZ:", "CAP:").
 * Parts on the same or consecutive lines are merged into one address.
 */
import { monthFromName } from '../dates';
import { NOT_NAME_WORDS, STREET_TYPES, US_STATES } from '../wordlists';
import { ADDRESS_LABELS } from './labels';
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
// Street names in German, French, Spanish, Italian, Dutch and Portuguese: a street word (or a
// compound ending in one) with the name words around it and the house number after ("Kalverstraat
// 12", "Via Roma 12", "Calle Mayor, 5", "Rua da Prata, 80", "Berliner Straße 12a") or before it
// ("12 rue de la Paix", "3 bis, avenue Victor Hugo").
const NAME_W = String.raw`(?:\p{Lu}[\p{L}'’\-]*\.?|\d{1,2}\.?)`;
const JOIN_W = String.raw`(?:de|del|de la|de los|de las|des|du|di|della|delle|dei|degli|da|do|dos|das|van|der|den|het|von|am|an|der|im|zum|zur|y|e|la|le|les|l'|d')`;
const NAME_SEQ = String.raw`${NAME_W}(?:[ ](?:${JOIN_W}[ ])?${NAME_W}){0,4}`;
const HOUSE_NO = String.raw`(?:n[º°o]\.?[ ]?|nr\.?[ ]?)?\d{1,4}(?:[ ]?[a-zA-Z](?![\p{L}]))?(?:[-/]\d{1,4}[a-zA-Z]?)?(?:[ ]?(?:bis|ter|BIS|hs|HS))?`;
const TYPE_FIRST = String.raw`(?:Calle|C\/|Avenida|Avda\.?|Av\.|Plaza|Pza\.?|Paseo|Camino|Carrer|Ronda|Travesía|Carretera|Via|Viale|V\.le|Piazza|P\.za|Piazzale|Corso|C\.so|Largo|Vicolo|Strada|Rua|R\.|Travessa|Tv\.|Praça|Pç\.|Estrada|Alameda|Calçada|Rue|Avenue|Boulevard|Bd|Place|Allée|Chemin|Impasse|Quai|Cours|Route|Am|An der|Auf der|Im|Zum|Zur|Straße des|Platz der)`;
const EU_STREET_TYPE_FIRST = new RegExp(String.raw`(?<![\p{L}\d])${TYPE_FIRST}[ ](?:${JOIN_W}[ ])?${NAME_SEQ},?[ ]${HOUSE_NO}(?![\p{L}\d])`, 'gu');
const COMPOUND = String.raw`\p{Lu}[\p{Ll}äöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|straat|laan|plein|gracht|kade|singel|dijk|pad|hof|steeg|dreef|park)`;
const EU_STREET_COMPOUND = new RegExp(String.raw`(?<![\p{L}\d])(?:${NAME_W}[ ])?${COMPOUND},?[ ]${HOUSE_NO}(?![\p{L}\d])`, 'gu');
const EU_STREET_TWO_WORD = new RegExp(
  String.raw`(?<![\p{L}\d])\p{Lu}[\p{L}\-]+(?:er|sche|schen)?[ ](?:Straße|Strasse|Str\.|Weg|Platz|Allee|Ring|Gasse|Damm|Ufer|Chaussee|Straat|Laan|Weg|Plein|Gracht|Kade|Singel|Dijk)[ ]${HOUSE_NO}(?![\p{L}\d])`,
  'gu',
);
const NUMBER_FIRST = new RegExp(
  String.raw`(?<![\p{L}\d])\d{1,4}(?:[ ]?(?:bis|ter|[a-zA-Z]))?,?[ ](?:rue|avenue|av\.|boulevard|bd|place|allée|chemin|impasse|quai|cours|route|square|passage|voie|Rue|Avenue|Boulevard|Place|Allée|Chemin|Impasse|Quai|Cours|Route|RUE|AVENUE|BOULEVARD)[ ](?:${JOIN_W}[ ])?${NAME_SEQ}`,
  'gu',
);
const PO_BOX = /(?<![A-Za-z])(?:P\.?\s?O\.?\s?Box|PO BOX|Post Office Box)\s\d{1,6}(?!\d)/gi;
const CITY_WORDS = String.raw`(?:[A-Z][A-Za-z'.\-]+,?\s){0,3}`;
const UK_POSTCODE = new RegExp(String.raw`(?<![A-Za-z\d])${CITY_WORDS}(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}(?![A-Za-z\d])`, 'g');
const US_CITY = new RegExp(
  String.raw`(?<![A-Za-z\d])[A-Z][A-Za-z.'\-]*(?:\s[A-Z][A-Za-z.'\-]*){0,3},?\s(?:${US_STATES.join('|')})\s\d{5}(?:-\d{4})?(?![\dA-Za-z])`,
  'g',
);
const NAME_NUMBER = String.raw`(?<![\p{L}\d])\p{Lu}[\p{L}'’\-]+(?:[ ](?:${JOIN_W}[ ])?\p{Lu}[\p{L}'’\-]*\.?){0,3}[ ]\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?`;
const NAME_NUMBER_COMMA = new RegExp(String.raw`${NAME_NUMBER},[ ]$`, 'u');
const NAME_NUMBER_LINE = new RegExp(String.raw`^\s*${NAME_NUMBER}\s*$`, 'u');
// "10115 Berlin", "75008 Paris Cedex 08", "D-10115 Berlin", "1012 AB Amsterdam", "1100-148 Lisboa", "28013 MADRID".
const EU_CITY = new RegExp(
  String.raw`(?<![\p{L}\d-])(?:[A-Z]{1,2}-)?(?:\d{4,5}|[1-9]\d{3}[ ]?[A-Z]{2}|\d{4}-\d{3})\s\p{Lu}[\p{L}'’]+(?:[ -](?:(?:sur|sous|en|lès|le|la|de|del|di|am|an|der|im|aan|den)[ -])?(?!Cedex|CEDEX)\p{Lu}[\p{L}'’]+){0,2}(?:[ ](?:Cedex|CEDEX)(?:[ ]\d{1,2})?)?(?![\p{L}\d]|[ ]?:)`,
  'gu',
);
// A label, then the value on the same line or (label ending its line) on the next one.
const LABEL = new RegExp(String.raw`(?:^|\n)[^\n]*?(?<![\p{L}])(?:${ADDRESS_LABELS})[ \t]*:[ \t]*\n?([^\n]+)`, 'gu');
// Where a second column's label starts: a capitalised word or two and a colon.
const NEXT_LABEL = /\s(?=\p{Lu}[\p{L}.\-\/]*(?:[ ]\p{L}[\p{L}.\-\/]*){0,2}[ ]?:(?:\s|$))/u;
// A line that is only a label: a capitalised word or up to three, and a colon.
const LABEL_ONLY = /^\p{Lu}[\p{L}.\-\/]*(?:[ ]\p{L}[\p{L}.\-\/]*){0,3}[ ]?:$/u;
// "Springfield 62704": a town and a 5-digit ZIP without a state, below a street line.
const CITY_ZIP = /(?<![A-Za-z\d])[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\s\d{5}(?![\dA-Za-z])/g;
const BETWEEN_SAME_LINE = /^[\s,]*(?:\p{Lu}[\p{L}'.\-]*,?\s*){0,3}$/u;

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
    for (const re of [STREET, GERMAN_STREET, PO_BOX, EU_STREET_TYPE_FIRST, EU_STREET_COMPOUND, EU_STREET_TWO_WORD, NUMBER_FIRST]) {
      for (const m of matchAll(re, text)) {
        let end = m.index + m[0].length;
        // "12 High Street, London" -> take the town after the comma too.
        const nl = text.indexOf('\n', end);
        const rest = text.slice(end, nl < 0 ? text.length : nl);
        if (/^,\s*\p{Lu}[\p{L}'\-]+(?:\s\p{Lu}[\p{L}'\-]+){0,2}\s*$/u.test(rest)) end += rest.trimEnd().length;
        streets.push({ start: m.index, end });
        add(m.index, end, 0.85);
      }
    }
    for (const m of matchAll(UK_POSTCODE, text)) add(m.index, m.index + m[0].length, 0.85);
    for (const m of matchAll(US_CITY, text)) add(m.index, m.index + m[0].length, 0.9);
    // A street without a street word ("Damrak 1"): name words and a house number right before a
    // postcode line, on the line above it or before it on its line after a comma.
    for (const m of matchAll(EU_CITY, text)) {
      if (!/^(?:[A-Z]{1,2}-)?(?:\d{4}[ ]?[A-Z]{2}|\d{4}-\d{3}|\d{4,5})\s/.test(m[0])) continue;
      const lineStart = text.lastIndexOf('\n', m.index - 1) + 1;
      const before = text.slice(lineStart, m.index);
      // Headings and labels ("Seite 12", "Total 2024") are no street names.
      const streetName = (t: string): boolean => !NOT_NAME_WORDS.has(/\p{L}+/u.exec(t)?.[0].toLowerCase() ?? '') && monthFromName(/\p{L}+/u.exec(t)?.[0] ?? '') === undefined;
      const same = NAME_NUMBER_COMMA.exec(before);
      if (same && streetName(same[0])) {
        streets.push({ start: lineStart + same.index, end: m.index });
        add(lineStart + same.index, lineStart + same.index + same[0].replace(/,\s*$/, '').length, 0.8);
      } else if (before.trim() === '' && lineStart > 0) {
        const prevStart = text.lastIndexOf('\n', lineStart - 2) + 1;
        const prev = text.slice(prevStart, lineStart - 1);
        const line = NAME_NUMBER_LINE.exec(prev);
        if (line && streetName(line[0])) {
          streets.push({ start: prevStart + line.index, end: prevStart + line.index + line[0].length });
          add(prevStart + line.index, prevStart + line.index + line[0].trimEnd().length, 0.8);
        }
      }
    }
    // "10115 Berlin": only on the line after a street line, or on the street line itself.
    for (const m of [...matchAll(EU_CITY, text), ...matchAll(CITY_ZIP, text)]) {
      const lineStart = text.lastIndexOf('\n', m.index - 1) + 1;
      const prevStart = lineStart > 0 ? text.lastIndexOf('\n', lineStart - 2) + 1 : -1;
      const near = streets.some((s) => (s.start >= lineStart && s.end <= m.index) || (prevStart >= 0 && s.start >= prevStart && s.start < lineStart));
      if (near) add(m.index, m.index + m[0].length, 0.8);
    }
    // The value after an address label ends with the last street or postcode part found in it;
    // without one, at the next label ("... Berlin Vertragsnummer: V-12") or after eight words, so
    // a second column on the same line is not taken for the address.
    const structured = parts.map((p) => ({ ...p }));
    for (const m of matchAll(LABEL, text)) {
      let value = m[1].trimEnd();
      const start = m.index + m[0].length - m[1].length;
      // The next line being another label ("Address:" then "Account number:") is no address.
      if (LABEL_ONLY.test(value)) continue;
      const inside = structured.filter((p) => p.start >= start && p.start < start + value.length && p.start - start <= 40);
      if (inside.length > 0) value = text.slice(start, Math.max(...inside.map((p) => p.end)));
      else {
        const next = NEXT_LABEL.exec(value);
        if (next) value = value.slice(0, next.index);
        value = value.split(' ').slice(0, 8).join(' ').replace(/[\s,;]+$/, '');
      }
      if (/[\p{L}\p{N}]/u.test(value)) add(start, start + value.length, 0.8);
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
