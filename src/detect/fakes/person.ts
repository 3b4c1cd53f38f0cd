/**
 * Fake person names: each name word becomes a given name (or a surname for the last word) of
 * similar length and the same case; titles, particles and punctuation stay; initials stay initials.
 */
import { FIRST_NAMES, LAST_NAMES } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength } from './shape';

const KEEP = /^(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev|lady|lord|van|von|de|der|den|da|di|le|la|du|del|dos|bin|al|jr|sr|ii|iii|iv)\.?,?$/i;

/** A name of similar length and the same shape. */
export function fakePerson(original: string, rng: Rng): string {
  const parts = original.split(/(\s+)/);
  const wordIdx = parts.map((p, i) => (/\S/.test(p) && !KEEP.test(p) ? i : -1)).filter((i) => i >= 0);
  const lastIdx = wordIdx[wordIdx.length - 1];
  return parts
    .map((p, i) => {
      if (!/\S/.test(p) || KEEP.test(p)) return p;
      const list = i === lastIdx && wordIdx.length > 1 ? LAST_NAMES : FIRST_NAMES;
      // Each letter run (hyphenated names: each part) becomes a name; "J." stays an initial.
      return p.replace(/[A-Za-z\u00C0-\u024F']+/g, (r) => {
        if (r.length === 1) return rng.letter(r === r.toUpperCase());
        return matchCase(r, pickSimilarLength(list, r.length, rng, r));
      });
    })
    .join('');
}
