/**
 * Fake phone numbers: the "+" or "00" and the country calling code (also a bare one, as in
 * "91-415-555-0132"), a trunk prefix, the first national digit and every separator are kept; the
 * other digits are drawn until the number is valid for the same country (when the original was).
 */
import { getCountryCallingCode, getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import examples from 'libphonenumber-js/examples.mobile.json';
import { bareInternational, validRegion } from '../recognizers/phone';
import type { Rng } from './rng';

function valid(s: string, region?: string): boolean {
  try {
    return parsePhoneNumberFromString(s, region as CountryCode | undefined)?.isValid() === true;
  } catch {
    return false;
  }
}

function callingCode(international: string): string {
  return parsePhoneNumberFromString(international)?.countryCallingCode ?? '';
}

/** A plausible phone number in the original's format. */
export function fakePhone(original: string, rng: Rng, regions: readonly string[] = ['US', 'GB']): string {
  const trimmed = original.trim();
  const digits = original.replace(/\D/g, '');
  // How the number is read decides what is kept and how a candidate is checked.
  let keepCc = 0;
  let check: ((candidateDigits: string) => boolean) | undefined;
  if (trimmed.startsWith('+') && valid(trimmed)) {
    keepCc = callingCode(trimmed).length;
    check = (d) => valid(`+${d}`);
  } else if (digits.startsWith('00') && valid(`+${digits.slice(2)}`)) {
    keepCc = 2 + callingCode(`+${digits.slice(2)}`).length;
    check = (d) => valid(`+${d.slice(2)}`);
  } else {
    const region = validRegion(original, regions, false);
    if (region) check = (d) => valid(d, region);
    else if (bareInternational(trimmed)) {
      keepCc = callingCode(`+${digits}`).length;
      check = (d) => valid(`+${d}`);
    } else {
      const anywhere = validRegion(original, [], true);
      if (anywhere) check = (d) => valid(d, anywhere);
    }
  }
  if (trimmed.startsWith('+') && !check) keepCc = Math.min(3, digits.length - 4);
  // Keep the country code, a trunk "0" or "1" prefix, and the first digit of the national number.
  const national = digits.slice(keepCc);
  const trunk = keepCc === 0 && /^[01]/.test(national) && (digits.length > 10 || national[0] === '0') ? 1 : 0;
  const keep = keepCc + trunk + 1;
  let candidate = original;
  for (let attempt = 0; attempt < 60; attempt++) {
    let k = 0;
    candidate = original.replace(/\d/g, (d) => (k++ < keep ? d : rng.digit()));
    if (!check || check(candidate.replace(/\D/g, ''))) break;
  }
  return candidate;
}

/**
 * A valid number of `country` written the way `original` is ("+49 ...", "0049 ...", or national),
 * for documents whose fakes are moved to another country; the original's own country keeps
 * {@link fakePhone}'s format-preserving fake.
 */
export function fakePhoneIn(original: string, rng: Rng, country: string, regions: readonly string[] = ['US', 'GB']): string {
  const trimmed = original.trim();
  let own: string | undefined;
  try {
    own = parsePhoneNumberFromString(trimmed.replace(/^00/, '+'), regions[0] as CountryCode)?.country;
  } catch {
    own = undefined;
  }
  if (own === country) return fakePhone(original, rng, [country, ...regions]);
  let example;
  try {
    example = getExampleNumber(country as CountryCode, examples);
  } catch {
    example = undefined;
  }
  if (!example) return fakePhone(original, rng, regions);
  const national = String(example.nationalNumber);
  let candidate = example;
  for (let i = 0; i < 60; i++) {
    const digits = national.slice(0, 2) + Array.from({ length: national.length - 2 }, () => rng.digit()).join('');
    const p = parsePhoneNumberFromString(`+${getCountryCallingCode(country as CountryCode)}${digits}`);
    if (p?.isValid()) {
      candidate = p;
      break;
    }
  }
  if (trimmed.startsWith('+')) return candidate.formatInternational();
  if (/^00/.test(trimmed)) return '00' + candidate.formatInternational().slice(1);
  return candidate.formatNational();
}
