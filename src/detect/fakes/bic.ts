/** Fake BICs: random institution code, same country, location and branch shape ("XXX" kept). */
import type { Rng } from './rng';
import { shapeFake } from './shape';

/** A BIC of the same country and shape. */
export function fakeBic(original: string, rng: Rng): string {
  const bank = shapeFake(original.slice(0, 4), rng);
  const country = original.slice(4, 6);
  const location = shapeFake(original.slice(6, 8), rng);
  const branch = original.slice(8);
  return bank + country + location + (/^x{3}$/i.test(branch) ? branch : shapeFake(branch, rng));
}
