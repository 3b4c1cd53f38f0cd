/**
 * Phone numbers, found by libphonenumber-js over every region it knows, with the page's country
 * as the hint (see country.ts; the policy's `phoneRegions` come after it):
 * - international numbers ("+49 30 1234567", "0049 30 1234567") in any region;
 * - national numbers valid in a hinted region, when formatted (separators, brackets) or labelled;
 * - numbers with a country code but no "+" ("91-415-555-0132", "44 20 7946 0958") when valid and
 *   the code stands apart from the rest;
 * - labelled national numbers in any region ("Telefon: 030 1234567", "Tél. 01 42 68 53 00"),
 *   hinted regions first.
 * Numbers that only have a possible length need an international or bracketed format, or a label.
 */
import { findPhoneNumbersInText, getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { countryHints } from '../country';
import { parseDate } from '../dates';
import { hasContext } from './context';
import { ID_LABELS, PHONE_LABELS } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const ALL_REGIONS = getCountries();
// A run of digits with phone separators (spaces, dots, dashes, brackets, slashes), 6-15 digits.
const CANDIDATE = /(?<![\w+\-\/.,])(?:\+|00)?\(?\d[\d().\-\/ ]{4,22}\d(?![\w]|[.,\-\/]\d)/g;

function parse(s: string, region?: string): ReturnType<typeof parsePhoneNumberFromString> {
  try {
    return parsePhoneNumberFromString(s, region as CountryCode | undefined);
  } catch {
    return undefined;
  }
}

/** True when a space-separated part of `raw` is an amount with two decimals ("4263.48", "-1,312.18"). */
function hasAmountPart(raw: string): boolean {
  return raw.split(/\s+/).some((p) => /^[-+]?\d{1,3}(?:(?:[.,]\d{3})*|\d*)[.,]\d{2}$/.test(p));
}

/** The region in which a national number is valid: the hinted ones first, then (when `any`) all. */
export function validRegion(number: string, hints: readonly string[], any: boolean): string | undefined {
  for (const r of hints) if (parse(number, r)?.isValid()) return r;
  if (!any) return undefined;
  for (const r of ALL_REGIONS) if (parse(number, r)?.isValid()) return r;
  return undefined;
}

/**
 * When `raw` starts with a country calling code without "+" (optionally "00") that stands apart
 * from the rest ("91-415-555-0132"), the number as "+..." if it is valid.
 */
export function bareInternational(raw: string): string | undefined {
  const m = /^(00)?(\d{1,3})[ .\-\/]\(?\d/.exec(raw);
  if (!m) return undefined;
  const digits = raw.replace(/\D/g, '').slice(m[1] ? 2 : 0);
  const p = parse(`+${digits}`);
  if (!p?.isValid() || p.countryCallingCode !== m[2]) return undefined;
  return `+${digits}`;
}

/** Finds phone numbers (see the module comment). */
export class PhoneRecognizer implements Recognizer {
  readonly name = 'phone';
  readonly entities = ['phone'] as const;
  /** @param regions fallback regions for national numbers, after the page's own country hints. */
  constructor(private readonly regions: readonly string[] = ['US', 'GB']) {}
  find(text: string): RecognizerMatch[] {
    const hints = [...new Set([...countryHints(text), ...this.regions])];
    const out = new Map<string, RecognizerMatch>();
    const add = (start: number, end: number, score: number): void => {
      const key = `${start}:${end}`;
      const prev = out.get(key);
      if (!prev || prev.score < score) out.set(key, { entity: 'phone', start, end, score, recognizer: this.name });
    };
    // libphonenumber reads ", 020 ..." after a number as an extension and swallows the next
    // number; a bar (same length, so offsets hold) ends a number without that.
    const scanText = text.replace(/[,;]/g, '|');
    for (const region of hints) {
      let found;
      try {
        // POSSIBLE: right length for the region; numbers need not be assigned (typos, fictional
        // 555 numbers and new ranges are still someone's contact data).
        found = findPhoneNumbersInText(scanText, { defaultCountry: region as CountryCode, leniency: 'POSSIBLE' } as never);
      } catch {
        continue;
      }
      for (const f of found) {
        const raw = text.slice(f.startsAt, f.endsAt);
        // Short digit runs ("10.30", extensions) are times, prices or numbers of something else.
        if (raw.replace(/\D/g, '').length < 6) continue;
        // An amount and a balance side by side ("-197.02 4263.48") are not a phone number, nor is a
        // run cut out of bigger numbers ("35 6.650" from "-301,35 6.650,07").
        if (hasAmountPart(raw) || /\d[.,]$/.test(text.slice(Math.max(0, f.startsAt - 2), f.startsAt)) || /^[.,]\d/.test(text.slice(f.endsAt, f.endsAt + 2))) continue;
        // A bare run of digits is more often an account or reference number than a phone.
        const formatted = /^\+|[()\- ]/.test(raw);
        const context = hasContext(text, f.startsAt, f.endsAt, PHONE_LABELS);
        if (!formatted && !context) continue;
        const valid = f.number.isValid();
        if (!valid && !context && !/^\+|^\(/.test(raw)) continue;
        if (!context && !raw.startsWith('+')) {
          // A national number is written with the region's trunk prefix ("030 ..." in Germany):
          // "2021-14233" is valid German without it, but written like that it is a reference.
          const national = f.number.formatNational().replace(/[^\d]/g, '');
          if (national.startsWith('0') && !raw.replace(/[^\d]/g, '').startsWith('0')) continue;
          // A number right after "Invoice no", "Ref", "Customer ID" is that identifier.
          if (hasContext(text, f.startsAt, f.endsAt, ID_LABELS, false, 24)) continue;
        }
        add(f.startsAt, f.endsAt, valid ? (context ? 0.95 : 0.85) : context ? 0.85 : 0.6);
      }
    }
    for (const m of matchAll(CANDIDATE, text)) {
      const raw = m[0].replace(/[\s(]+$/, '');
      const start = m.index;
      const end = start + raw.length;
      const digits = raw.replace(/\D/g, '');
      if (digits.length < 6 || digits.length > 17 || out.has(`${start}:${end}`)) continue;
      // Dates and amounts are not phones.
      if (parseDate(raw) || /^\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{2})?$/.test(raw) || hasAmountPart(raw)) continue;
      const context = hasContext(text, start, end, PHONE_LABELS);
      if (/^(?:\+|00)/.test(raw)) {
        const p = parse(`+${digits.replace(/^00/, '')}`);
        if (p?.isValid()) add(start, end, context ? 0.95 : 0.85);
        continue;
      }
      if (!context && hasContext(text, start, end, ID_LABELS, false, 24)) continue;
      if (bareInternational(raw)) {
        add(start, end, context ? 0.9 : 0.8);
        continue;
      }
      // A labelled national number: valid in a hinted region, else in any region.
      if (context && validRegion(raw, hints, true)) add(start, end, 0.85);
    }
    return [...out.values()];
  }
}
