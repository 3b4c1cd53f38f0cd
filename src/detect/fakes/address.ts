/**
 * Fake postal addresses: house numbers and postcodes keep their character classes, street types,
 * unit words and punctuation stay, US states become other states, other words become place names
 * of similar length and the same case (compound street names keep their street word), five-digit
 * postcodes stay in a range valid in DE, FR, ES, IT and the US. Line breaks stay where they were.
 *
 * With a country (coherent fakes): a postcode line in a known country's format ("10115 Berlin",
 * "Leeds LS1 4AP", "Springfield, IL 62704") becomes a real town of that country with a postcode in
 * that country's format and range, and a town named alone becomes another town of that country.
 */
import { CITIES, PLACE_WORDS, STREET_TYPES, US_STATES } from '../wordlists';
import { ALL_TOWN_NAMES, fakePostcodeLine, findPostcodeLine, pickTown } from './places';
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

/** The street part: every word and number of the same shape (no town table). */
function fakeWords(text: string, rng: Rng, country?: string): string {
  return text.replace(/[A-Za-z\u00C0-\u024F'\-]*\d[A-Za-z\d]*|[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'\-]*/g, (tok) => {
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
    // A town on its own becomes a town of the document's country.
    const town = country && ALL_TOWN_NAMES.has(tok.toLowerCase()) ? pickTown(country, rng, tok) : undefined;
    if (town) return matchCase(tok, town.name);
    if (tok.length <= 2) return shapeFake(tok, rng);
    return matchCase(tok, pickSimilarLength(rng.int(2) === 0 ? PLACE_WORDS : CITIES, tok.length, rng, tok));
  });
}

/**
 * An address of the same layout. With `country`, the postcode line becomes a town of that
 * country; with `country` 'auto', of the country the line itself is written for (its format and
 * town, `hint` breaking ties between countries that write postcodes alike).
 */
export function fakeAddress(original: string, rng: Rng, country?: string, hint?: string): string {
  if (country !== undefined) {
    const hit = findPostcodeLine(original, hint);
    const target = country === 'auto' ? hit?.country : country;
    const line = hit && target ? fakePostcodeLine(target, rng, hit.town, hit.ext) : undefined;
    if (hit && line) {
      const words = country === 'auto' ? hit.country : country;
      return fakeWords(original.slice(0, hit.index), rng, words) + line + fakeWords(original.slice(hit.index + hit.length), rng, words);
    }
    return fakeWords(original, rng, country === 'auto' ? hint : country);
  }
  return fakeWords(original, rng);
}
