/**
 * The page's likely countries, from what the page itself shows: IBAN and VAT-ID country prefixes,
 * international phone codes, country names, postcode formats, currencies, email top-level domains
 * and label words of a language. Used as the first regions for national phone numbers (instead of
 * a fixed default) and to order national formats.
 */
import { countrySpecs } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

const IBAN_COUNTRIES = new Set(Object.entries(countrySpecs as Record<string, { chars?: number }>).filter(([, s]) => s.chars).map(([c]) => c));

const COUNTRY_NAMES: Record<string, string> = {
  deutschland: 'DE', germany: 'DE', allemagne: 'DE', alemania: 'DE', germania: 'DE', duitsland: 'DE', alemanha: 'DE',
  france: 'FR', frankreich: 'FR', francia: 'FR', frankrijk: 'FR', frança: 'FR',
  españa: 'ES', espana: 'ES', spain: 'ES', spanien: 'ES', espagne: 'ES', spagna: 'ES', spanje: 'ES', espanha: 'ES',
  italia: 'IT', italy: 'IT', italien: 'IT', italie: 'IT', italië: 'IT', itália: 'IT',
  nederland: 'NL', netherlands: 'NL', niederlande: 'NL', 'pays-bas': 'NL', 'países bajos': 'NL', 'paesi bassi': 'NL', 'países baixos': 'NL',
  portugal: 'PT', portogallo: 'PT',
  österreich: 'AT', austria: 'AT', autriche: 'AT', oostenrijk: 'AT',
  schweiz: 'CH', suisse: 'CH', svizzera: 'CH', switzerland: 'CH', zwitserland: 'CH',
  belgique: 'BE', belgië: 'BE', belgium: 'BE', belgien: 'BE', bélgica: 'BE', belgio: 'BE',
  luxembourg: 'LU', luxemburg: 'LU',
  ireland: 'IE', 'united kingdom': 'GB', 'great britain': 'GB', england: 'GB', scotland: 'GB', wales: 'GB',
  'united states': 'US', usa: 'US', 'u.s.a.': 'US', canada: 'CA', australia: 'AU', brasil: 'BR', brazil: 'BR', méxico: 'MX', mexico: 'MX',
};

// Label words that only one language uses -> the countries that write it (first = most likely).
const LANGUAGE_WORDS: [RegExp, string[]][] = [
  [/\b(?:Telefon|Straße|Strasse|Kontonummer|Kontoinhaber|Geburtsdatum|Betrag|Rechnung|Anschrift|Datum|Postleitzahl|PLZ|Überweisung|Steuer-?ID|Sehr geehrte)/giu, ['DE', 'AT', 'CH']],
  [/(?:Téléphone|Tél\.|\brue\b|Montant|Facture|Adresse postale|Date de naissance|Titulaire|Madame|Monsieur|Code postal|\bTVA\b|SIRE[NT])/giu, ['FR', 'BE', 'CH']],
  [/(?:Teléfono|\bCalle\b|Importe|Factura|Dirección|Fecha de nacimiento|Titular de la cuenta|Código postal|\bNIF\b|\bDNI\b|\bNIE\b)/giu, ['ES']],
  [/(?:\bTelefono\b|\bVia\b|Importo|Fattura|Indirizzo|Data di nascita|Intestatario|Codice fiscale|\bCAP\b|Partita IVA)/giu, ['IT']],
  [/(?:Telefoon|straat\b|Bedrag|Factuur|Geboortedatum|Rekeninghouder|Postcode|\bBSN\b|\bBTW\b|Geachte)/giu, ['NL', 'BE']],
  [/(?:Telefone|Telemóvel|\bRua\b|Montante|Fatura|Morada|Data de nascimento|Contribuinte|Código-postal)/giu, ['PT', 'BR']],
];

const TLD_COUNTRY: Record<string, string> = { uk: 'GB', de: 'DE', fr: 'FR', es: 'ES', it: 'IT', nl: 'NL', pt: 'PT', at: 'AT', ch: 'CH', be: 'BE', ie: 'IE', lu: 'LU', us: 'US', ca: 'CA', au: 'AU', br: 'BR' };

/**
 * Countries (ISO 3166 alpha-2) the page points to, most likely first; empty when nothing does.
 * At most `max` countries.
 */
export function countryHints(text: string, max = 3): string[] {
  const score = new Map<string, number>();
  const add = (c: string | undefined, w: number): void => {
    if (c) score.set(c, (score.get(c) ?? 0) + w);
  };
  for (const m of text.matchAll(/(?<![A-Za-z0-9])([A-Z]{2})\d{2}[ -]?[A-Z0-9]{4}/g)) if (IBAN_COUNTRIES.has(m[1])) add(m[1], 3);
  for (const m of text.matchAll(/(?<![\w+])(?:\+|00)([1-9]\d{0,2})[ .\-()]*\d[\d .\-()]{5,16}\d/g)) {
    const digits = m[0].replace(/\D/g, '').replace(/^00/, '');
    add(parsePhoneNumberFromString(`+${digits}`)?.country, 3);
  }
  const lower = text.toLowerCase();
  for (const [name, c] of Object.entries(COUNTRY_NAMES)) {
    if (new RegExp(`(?<![\\p{L}])${name.replace(/[.]/g, '\\.')}(?![\\p{L}])`, 'u').test(lower)) add(c, 2);
  }
  // Postcodes with a country letter ("D-10115", "F-75008"), Dutch "1012 AB", Portuguese "1100-148", UK.
  for (const m of text.matchAll(/(?<![A-Za-z0-9])(D|F|E|I|NL|P|A|CH|B|L)-\d{4,5}\s\p{Lu}/gu)) {
    add({ D: 'DE', F: 'FR', E: 'ES', I: 'IT', NL: 'NL', P: 'PT', A: 'AT', CH: 'CH', B: 'BE', L: 'LU' }[m[1]], 2);
  }
  if (/(?<![\dA-Za-z])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}\s\p{Lu}\p{Ll}+/u.test(text)) add('NL', 1);
  if (/(?<![\d-])\d{4}-\d{3}\s\p{Lu}\p{Ll}+/u.test(text)) add('PT', 2);
  if (/(?<![A-Za-z\d])[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}(?![A-Za-z\d])/.test(text)) add('GB', 2);
  if (/,?\s[A-Z]{2}\s\d{5}(?:-\d{4})?(?!\d)/.test(text)) add('US', 1);
  if (/£|\bGBP\b/.test(text)) add('GB', 1);
  if (/\bCHF\b|\bFr\.\s?\d/.test(text)) add('CH', 1);
  if (/US\$|\bUSD\b/.test(text)) add('US', 1);
  for (const m of text.matchAll(/@[\w.-]+\.([a-z]{2})(?![\w-])/gi)) add(TLD_COUNTRY[m[1].toLowerCase()], 1);
  for (const [re, countries] of LANGUAGE_WORDS) {
    const n = Math.min((text.match(re) ?? []).length, 3);
    // The first country of a language gets the words' weight; the others a little less.
    countries.forEach((c, i) => add(c, n * (i === 0 ? 1 : 0.5)));
  }
  return [...score.entries()]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([c]) => c);
}

/** Countries where documents in a tesseract language usually come from (ISO 3166 alpha-2). */
const LANGUAGE_COUNTRIES: Record<string, readonly string[]> = {
  eng: ['GB', 'US', 'IE', 'CA', 'AU'],
  deu: ['DE', 'AT', 'CH'],
  fra: ['FR', 'BE', 'CH', 'LU', 'CA'],
  spa: ['ES', 'MX', 'AR', 'CO'],
  ita: ['IT', 'CH'],
  nld: ['NL', 'BE'],
  por: ['PT', 'BR'],
  pol: ['PL'],
  dan: ['DK'],
  swe: ['SE'],
  nor: ['NO'],
  fin: ['FI'],
  ces: ['CZ'],
  chi_sim: ['CN'],
  chi_tra: ['TW', 'HK'],
  jpn: ['JP'],
  kor: ['KR'],
};

/**
 * Phone regions to expect for pages read in `languages` (the OCR languages a user named), first
 * language first, before `fallback`; deduplicated, at most 64 (the policy's bound).
 */
export function languageRegions(languages: readonly string[], fallback: readonly string[]): string[] {
  const own = languages.filter((l) => l !== 'eng').flatMap((l) => LANGUAGE_COUNTRIES[l] ?? []);
  return [...new Set([...own, ...fallback])].slice(0, 64);
}
