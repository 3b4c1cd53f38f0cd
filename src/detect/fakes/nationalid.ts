/**
 * Fake national identifiers and VAT IDs: the same format and country prefix, valid check digits
 * (a value that passes several formats' checks gets a fake that passes them all), the original's
 * separators and case; a value of no known format gets a shape-preserving fake.
 */
import { compactId, makeIdLike } from '../national';
import { fakeGeneric } from './generic';
import type { Rng } from './rng';
import { reformat } from './shape';

/** A valid identifier of the same kind and layout as `original`. */
export function fakeNationalId(original: string, rng: Rng, entity?: string): string {
  const made = makeIdLike(compactId(original), rng, entity);
  return made ? reformat(original, made) : fakeGeneric(original, rng);
}
