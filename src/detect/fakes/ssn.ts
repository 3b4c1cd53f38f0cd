/** Fake US SSNs that follow the assignment rules, in the original's layout. */
import { isValidSsn } from '../recognizers/ssn';
import type { Rng } from './rng';
import { reformat } from './shape';

/** A valid-looking SSN (area 001-899 except 666, group 01-99, serial 0001-9999). */
export function fakeSsn(original: string, rng: Rng): string {
  let d = '';
  do {
    const area = rng.range(1, 899);
    d = String(area).padStart(3, '0') + String(rng.range(1, 99)).padStart(2, '0') + String(rng.range(1, 9999)).padStart(4, '0');
  } while (!isValidSsn(d));
  return reformat(original, d);
}
