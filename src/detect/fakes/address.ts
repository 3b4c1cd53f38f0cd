/**
 * Fake postal addresses: house numbers and postcodes keep their character classes, street types,
 * unit words and punctuation stay, US states become other states, other words become place names
 * of similar length and the same case. Line breaks stay where they were.
 */
import { CITIES, PLACE_WORDS, STREET_TYPES, US_STATES } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength, shapeFake } from './shape';

const KEEP = new Set(
  [...STREET_TYPES, 'Flat', 'Apt', 'Apartment', 'Suite', 'Unit', 'Ste', 'PO', 'P', 'O', 'Box', 'Post', 'Office', 'Floor', 'Building', 'of', 'the', 'and', 'N', 'S', 'E', 'W', 'NE', 'NW', 'SE', 'SW']
    .map((w) => w.toLowerCase()),
);
const STATES = new Set(US_STATES);

/** An address of the same layout. */
export function fakeAddress(original: string, rng: Rng): string {
  return original.replace(/[A-Za-z\u00C0-\u024F'\-]*\d[A-Za-z\d]*|[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'\-]*/g, (tok) => {
    if (/\d/.test(tok)) return shapeFake(tok, rng, { keepLeadingNonZero: true });
    if (KEEP.has(tok.toLowerCase().replace(/\.$/, ''))) return tok;
    if (STATES.has(tok)) return rng.pick(US_STATES.filter((s) => s !== tok && s.length === 2));
    if (tok.length <= 2) return shapeFake(tok, rng);
    return matchCase(tok, pickSimilarLength(rng.int(2) === 0 ? PLACE_WORDS : CITIES, tok.length, rng, tok));
  });
}
