/**
 * Fake money amounts: same currency (symbol or code, same position), sign, separators, number of
 * decimals and number of integer digits (so the same magnitude), different digits.
 */
import type { Rng } from './rng';

/** An amount of the same currency, format and magnitude. */
export function fakeMoney(original: string, rng: Rng): string {
  const first = original.search(/\d/);
  if (first < 0) return original;
  let last = first;
  for (let i = first; i < original.length; i++) if (/\d/.test(original[i])) last = i;
  const num = original.slice(first, last + 1);
  const dec = /[.,](\d{1,2})$/.exec(num);
  const intPart = dec ? num.slice(0, dec.index) : num;
  let out = '';
  let leading = true;
  for (const ch of intPart) {
    if (/\d/.test(ch)) {
      const only = intPart.replace(/\D/g, '').length === 1;
      out += leading && !(only && ch === '0') ? String(1 + rng.int(9)) : rng.digit();
      leading = false;
    } else out += ch;
  }
  if (dec) {
    out += num[dec.index];
    // Whole amounts (".00") stay whole so statements keep their look.
    out += /^0+$/.test(dec[1]) ? dec[1] : dec[1].replace(/\d/g, () => rng.digit());
  }
  return original.slice(0, first) + out + original.slice(last + 1);
}
