/**
 * Fake postal addresses: house numbers and postcodes keep their character classes, street types,
 * unit words and punctuation stay, US states become other states, other words become place names
 * of similar length and the same case (compound street names keep their street word), five-digit
 * postcodes stay in a range valid in DE, FR, ES, IT and the US. Line breaks stay where they were.
 */
import { CITIES, PLACE_WORDS, STREET_TYPES, US_STATES } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength, shapeFake } from './shape';

const KEEP = new Set(
  [
    ...STREET_TYPES, 'Flat', 'Apt', 'Apartment', 'Suite', 'Unit', 'Ste', 'PO', 'P', 'O', 'Box', 'Post', 'Office', 'Floor', 'Building', 'of', 'the', 'and', 'N', 'S', 'E', 'W', 'NE', 'NW', 'SE', 'SW',
    // Street words, particles and postal words of German, French, Spanish, Italian, Dutch and Portuguese.
    'Str', 'Ring', 'Damm', 'Ufer', 'Chaussee', 'Am', 'An', 'Auf', 'Im', 'Zum', 'Zur', 'des', 'der', 'den', 'dem', 'Avenue', 'Boulevard', 'Bd', 'Place', 'Allée',
    'Chemin', 'Impasse', 'Quai', 'Cours', 'Route', 'Cedex', 'bis', 'ter', 'de', 'la', 'le', 'les', 'du', 'Avenida', 'Avda', 'Plaza', 'Pza', 'Paseo', 'Camino',
    'Carrer', 'Ronda', 'Travesía', 'Carretera', 'del', 'los', 'las', 'y', 'Viale', 'Piazza', 'Piazzale', 'Corso', 'Largo', 'Vicolo', 'Strada', 'di', 'della',
    'delle', 'dei', 'degli', 'Straat', 'Laan', 'Plein', 'Gracht', 'Kade', 'Singel', 'Dijk', 'van', 'het', 'Rua', 'Travessa', 'Praça', 'Estrada', 'Alameda',
    'Calçada', 'da', 'do', 'dos', 'das', 'e', 'nº', 'no', 'nr', 'esq', 'dto',
  ].map((w) => w.toLowerCase()),
);
// Compound street names keep their street word: "Hauptstraße" -> "Lindenstraße", "Kalverstraat" -> "Molenstraat".
const SUFFIX = /(straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|straat|laan|plein|gracht|kade|singel|dijk|steeg|dreef)$/i;
const STATES = new Set(US_STATES);

/** An address of the same layout. */
export function fakeAddress(original: string, rng: Rng): string {
  return original.replace(/[A-Za-z\u00C0-\u024F'\-]*\d[A-Za-z\d]*|[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'\-]*/g, (tok) => {
    // A five-digit postcode starts 10-52: a valid range in Germany, France, Spain, Italy and the US.
    if (/^\d{5}$/.test(tok)) return String(rng.range(10, 52)) + shapeFake('000', rng);
    if (/\d/.test(tok)) return shapeFake(tok, rng, { keepLeadingNonZero: true });
    if (KEEP.has(tok.toLowerCase().replace(/\.$/, ''))) return tok;
    const suffix = SUFFIX.exec(tok);
    if (suffix && suffix.index >= 3) {
      const stem = tok.slice(0, suffix.index);
      return matchCase(stem, pickSimilarLength(PLACE_WORDS, stem.length, rng, stem)) + suffix[0];
    }
    if (STATES.has(tok)) return rng.pick(US_STATES.filter((s) => s !== tok && s.length === 2));
    if (tok.length <= 2) return shapeFake(tok, rng);
    return matchCase(tok, pickSimilarLength(rng.int(2) === 0 ? PLACE_WORDS : CITIES, tok.length, rng, tok));
  });
}
