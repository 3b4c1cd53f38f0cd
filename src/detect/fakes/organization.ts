/** Fake organisation names: name words become place words of similar length; sector words and legal forms stay. */
import { LEGAL_FORMS, SECTOR_WORDS } from '../recognizers/organization';
import { PLACE_WORDS } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength } from './shape';

const KEEP = new Set([...LEGAL_FORMS, ...SECTOR_WORDS.flatMap((w) => w.split(' ')), '&', 'and', 'of', 'the'].map((w) => w.toLowerCase()));

/** An organisation name of the same shape. */
export function fakeOrganization(original: string, rng: Rng): string {
  return original.replace(/[A-Za-z][A-Za-z.'\-/]*/g, (w) => {
    if (KEEP.has(w.toLowerCase())) return w;
    if (w.length <= 2) return w.replace(/[A-Za-z]/g, (c) => rng.letter(c === c.toUpperCase()));
    return matchCase(w, pickSimilarLength(PLACE_WORDS, w.length, rng, w));
  });
}
