/** The held-out split of a dataset folder (evaluation pages the training stream never sees). */
import { DocAnonError, ErrorCode } from '../../core/errors';

/**
 * Whether a dataset file is in the held-out split: a hash of its name and `seed` below
 * `fraction`, so the split is the same on every machine and run, and a file never changes side
 * when others are added.
 */
export function isHeldOut(name: string, fraction: number, seed = 0): boolean {
  if (!(fraction >= 0 && fraction < 1)) throw new DocAnonError(ErrorCode.CONFIG, `the held-out fraction must be in [0, 1), got ${fraction}`);
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h / 4294967296 < fraction;
}
