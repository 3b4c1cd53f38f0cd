/**
 * Fake phone numbers: the "+" and country calling code, the first national digit and every
 * separator are kept; the other digits are drawn until the number is valid for the same country
 * (when the original was valid).
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Rng } from './rng';

function valid(s: string, region?: string): boolean {
  try {
    return parsePhoneNumberFromString(s, region as CountryCode | undefined)?.isValid() === true;
  } catch {
    return false;
  }
}

/** A plausible phone number in the original's format. */
export function fakePhone(original: string, rng: Rng, regions: readonly string[] = ['US', 'GB']): string {
  const region = regions.find((r) => valid(original, r));
  const parsed = region ? parsePhoneNumberFromString(original, region as CountryCode) : undefined;
  const digitCount = original.replace(/\D/g, '').length;
  const ccDigits = original.trim().startsWith('+') && parsed ? parsed.countryCallingCode.length : 0;
  // Keep the country code, a trunk "0" or "1" prefix, and the first digit of the national number.
  const trunk = !original.trim().startsWith('+') && /^[01]/.test(original.replace(/\D/g, '')) && digitCount > 10 ? 1 : 0;
  const keep = ccDigits + trunk + (original.replace(/\D/g, '')[ccDigits + trunk] === '0' ? 2 : 1);
  let candidate = original;
  for (let attempt = 0; attempt < 60; attempt++) {
    let k = 0;
    candidate = original.replace(/\d/g, (d) => (k++ < keep ? d : rng.digit()));
    if (!parsed || valid(candidate, region)) break;
  }
  return candidate;
}
