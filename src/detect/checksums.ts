/**
 * Check-digit algorithms shared by the recognizers (to validate) and the fake generators (to make
 * fakes that validate): Luhn, ABA routing, ISO 13616 mod-97.
 */

/** True when the digit string passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit to append to `payload` (digits). */
export function luhnCheckDigit(payload: string): string {
  for (let d = 0; d < 10; d++) if (luhnValid(payload + d)) return String(d);
  throw new Error('unreachable');
}

/** True when a 9-digit ABA routing number passes its checksum (3-7-1 weights) and prefix rules. */
export function abaValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const prefix = Number(digits.slice(0, 2));
  const prefixOk = prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  if (!prefixOk || digits === '000000000') return false;
  return abaWeightedSum(digits) % 10 === 0;
}

function abaWeightedSum(d: string): number {
  const w = [3, 7, 1];
  let s = 0;
  for (let i = 0; i < d.length; i++) s += (d.charCodeAt(i) - 48) * w[i % 3];
  return s;
}

/** The ninth digit that makes `payload` (8 digits) a valid ABA routing number. */
export function abaCheckDigit(payload: string): string {
  const s = abaWeightedSum(payload);
  return String((10 - (s % 10)) % 10);
}

/** ISO 13616 / 7064 mod-97 of an IBAN-style alphanumeric string (letters A=10 ... Z=35). */
export function mod97(s: string): number {
  let rem = 0;
  for (const ch of s.toUpperCase()) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 && code <= 90 ? String(code - 55) : ch;
    for (const c of v) rem = (rem * 10 + (c.charCodeAt(0) - 48)) % 97;
  }
  return rem;
}

/** The two IBAN check digits for `country` (2 letters) and `bban`. */
export function ibanCheckDigits(country: string, bban: string): string {
  const r = mod97(bban + country + '00');
  return String(98 - r).padStart(2, '0');
}
