/**
 * Fake organisation names: name words become family names or place words of similar length (so
 * "Union Bank GmbH" becomes "Lindner Bank GmbH", never letter soup); sector words and legal forms
 * stay, unless they are all the name has, when the first of them is replaced too.
 */
import { LEGAL_FORMS, SECTOR_WORDS } from '../recognizers/organization';
import { LAST_NAMES, PLACE_WORDS } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength } from './shape';

const LEGAL = new Set([...LEGAL_FORMS, '&', 'and', 'of', 'the', 'und', 'et', 'y', 'e'].map((w) => w.toLowerCase()));
const KEEP = new Set([...LEGAL, ...SECTOR_WORDS.flatMap((w) => w.split(' ')).map((w) => w.toLowerCase())]);
const WORDS = [...LAST_NAMES, ...PLACE_WORDS];

/** An organisation name of the same shape, made of real words. */
export function fakeOrganization(original: string, rng: Rng): string {
  const words = original.match(/[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F.'\-/]*/g) ?? [];
  // "Credit Union Bank": every word is a sector word; the first one is the name then.
  const allKept = words.every((w) => KEEP.has(w.toLowerCase()));
  let forced = false;
  return original.replace(/[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F.'\-/]*/g, (w) => {
    const lower = w.toLowerCase();
    if (LEGAL.has(lower) || (KEEP.has(lower) && !(allKept && !forced))) return w;
    forced = true;
    if (w.length <= 2) return w.replace(/[A-Za-z]/g, (c) => rng.letter(c === c.toUpperCase()));
    return matchCase(w, pickSimilarLength(WORDS, w.length, rng, w));
  });
}
