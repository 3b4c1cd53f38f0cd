/**
 * Check digits for the test pages' values, written here rather than imported from src/detect so the
 * pages do not share a bug with the recognizers they test.
 */

/** mod-97 check digits of an IBAN (ISO 13616). */
export function ibanCheck(country: string, bban: string): string {
  const digits = (bban + country + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let r = 0;
  for (const ch of digits) r = (r * 10 + Number(ch)) % 97;
  return String(98 - r).padStart(2, '0');
}

/** The Luhn check digit of a card number's body. */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
