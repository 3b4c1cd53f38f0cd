/**
 * Towns and postcodes per country for fake addresses that agree with the rest of a document: a
 * German page gets a German town with a German postcode, a British one a British town with its
 * postcode area, an American one a city, its state and a ZIP code of that state. Real towns with
 * the postcode ranges they use (written for the project); the rest of the postcode is drawn.
 */
import type { Rng } from './rng';

/** A town and how its postcodes look. */
interface Town {
  name: string;
  /** DE/FR/ES/IT: first digits of a five-digit code; NL/PT/AT/CH/BE: first digits of a four-digit code; GB: the outward area letters; US: the state and ZIP prefix. */
  code: string;
  state?: string;
}

const t = (spec: string): Town[] =>
  spec
    .trim()
    .split(/\s*;\s*/)
    .map((e) => {
      const [name, code, state] = e.split('|');
      return { name, code, state };
    });

/** Towns per country (ISO 3166 alpha-2). */
export const TOWNS: Readonly<Record<string, readonly Town[]>> = {
  DE: t('Berlin|10;Hamburg|20;München|80;Köln|50;Frankfurt am Main|60;Stuttgart|70;Düsseldorf|40;Leipzig|04;Dresden|01;Bremen|28;Hannover|30;Nürnberg|90;Bonn|53;Essen|45;Münster|48;Kiel|24;Mainz|55;Erfurt|99;Rostock|18;Augsburg|86'),
  AT: t('Wien|10;Graz|80;Linz|40;Salzburg|50;Innsbruck|60;Klagenfurt|90'),
  CH: t('Zürich|80;Bern|30;Basel|40;Genève|12;Lausanne|10;Luzern|60'),
  FR: t('Paris|75;Lyon|69;Marseille|13;Toulouse|31;Nice|06;Nantes|44;Lille|59;Bordeaux|33;Rennes|35;Strasbourg|67;Montpellier|34;Dijon|21;Grenoble|38;Reims|51'),
  BE: t('Bruxelles|10;Antwerpen|20;Gent|90;Liège|40;Brugge|80;Namur|50'),
  LU: t('Luxembourg|14;Esch-sur-Alzette|40;Differdange|45'),
  ES: t('Madrid|28;Barcelona|08;Valencia|46;Sevilla|41;Bilbao|48;Zaragoza|50;Málaga|29;Granada|18;Salamanca|37;Murcia|30'),
  IT: t('Roma|00;Milano|20;Torino|10;Napoli|80;Bologna|40;Firenze|50;Genova|16;Verona|37;Padova|35;Bari|70'),
  NL: t('Amsterdam|10;Rotterdam|30;Utrecht|35;Den Haag|25;Eindhoven|56;Groningen|97;Leiden|23;Haarlem|20;Delft|26;Tilburg|50'),
  PT: t('Lisboa|1;Porto|4;Braga|47;Coimbra|30;Faro|80;Aveiro|38'),
  GB: t('London|SW;London|NW;Leeds|LS;York|YO;Bath|BA;Derby|DE;Bristol|BS;Oxford|OX;Reading|RG;Norwich|NR;Exeter|EX;Chester|CH;Durham|DH;Lincoln|LN;Preston|PR;Leicester|LE;Sheffield|S;Cardiff|CF'),
  IE: t('Dublin|D02;Dublin|D04;Cork|T12;Galway|H91;Limerick|V94'),
  US: t('Springfield|627|IL;Madison|537|WI;Dayton|454|OH;Salem|973|OR;Austin|787|TX;Denver|802|CO;Boston|021|MA;Seattle|981|WA;Tampa|336|FL;Omaha|681|NE;Raleigh|276|NC;Albany|122|NY;Portland|972|OR;Richmond|232|VA;Tucson|857|AZ'),
};

/** Countries whose postcode lines the address fake knows. */
export const ADDRESS_COUNTRIES: readonly string[] = Object.keys(TOWNS);

const digits = (n: number, rng: Rng): string => Array.from({ length: n }, () => rng.digit()).join('');
const letters = (n: number, rng: Rng, from = 'ABDEFGHJLNPQRSTUWXYZ'): string => Array.from({ length: n }, () => from[rng.int(from.length)]).join('');

/** A town of `country`, close in length to `model` when several are (the replacement must fit the original's box). */
export function pickTown(country: string, rng: Rng, model = ''): Town | undefined {
  const list = TOWNS[country];
  if (!list) return undefined;
  const others = list.filter((x) => x.name.toLowerCase() !== model.toLowerCase());
  const pool = others.length > 0 ? others : list;
  // A longer name than the model's is squeezed into its box (drawn smaller than the line), so none
  // longer; a shorter one only leaves some paper.
  const close = pool.filter((x) => x.name.length <= model.length && model.length - x.name.length <= 3);
  return rng.pick(model && close.length > 0 ? close : pool);
}

/** A postcode of `town` in `country`'s format. */
export function postcodeOf(country: string, town: Town, rng: Rng): string {
  switch (country) {
    case 'DE':
    case 'FR':
    case 'ES':
    case 'IT':
      return town.code + digits(5 - town.code.length, rng).replace(/^(0{3})$/, '001');
    case 'AT':
    case 'CH':
    case 'BE':
    case 'LU':
      return town.code + digits(4 - town.code.length, rng);
    case 'NL':
      return `${town.code}${digits(2, rng)} ${letters(2, rng, 'ABCDEGHJKLMNPRTVWXZ')}`;
    case 'PT':
      return `${town.code}${digits(4 - town.code.length, rng)}-${digits(3, rng)}`;
    case 'GB':
      return `${town.code}${1 + rng.int(9)} ${rng.digit()}${letters(2, rng)}`;
    case 'IE':
      return `${town.code} ${letters(1, rng, 'ACDEFHKNPRTVWXY')}${rng.digit()}${letters(1, rng, 'ACDEFHKNPRTVWXY')}${rng.digit()}`;
    case 'US':
      return town.code + digits(5 - town.code.length, rng);
    default:
      return '';
  }
}

/** What a postcode line looks like in each country (the town part captured as `town`). */
const LINE_PATTERNS: Array<{ countries: readonly string[]; re: RegExp }> = [
  // "Springfield, IL 62704"
  { countries: ['US'], re: /(?<town>\p{Lu}[\p{L}.'\-]*(?: \p{Lu}[\p{L}.'\-]*)*), (?<state>[A-Z]{2}) (?<pc>\d{5})(?<ext>-\d{4})?(?!\d)/u },
  // "Leeds LS1 4AP", "London SW1A 2AA"
  { countries: ['GB'], re: /(?<town>\p{Lu}[\p{L}'\-]*(?: \p{Lu}[\p{L}'\-]*)*),? (?<pc>[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})(?![A-Za-z\d])/u },
  // "1012 PH Amsterdam"
  { countries: ['NL'], re: /(?<![\d])(?<pc>[1-9]\d{3} ?[A-Z]{2})\s+(?<town>\p{Lu}[\p{L}'\-]*(?: \p{Lu}[\p{L}'\-]*)*)/u },
  // "1100-420 Lisboa"
  { countries: ['PT'], re: /(?<![\d-])(?<pc>\d{4}-\d{3})\s+(?<town>\p{Lu}[\p{L}'\-]*(?: \p{Lu}[\p{L}'\-]*)*)/u },
  // "10115 Berlin", "75002 Paris", "28013 Madrid", "1010 Wien"
  { countries: ['DE', 'FR', 'ES', 'IT', 'AT', 'CH', 'BE', 'LU'], re: /(?<![\d-])(?<pc>\d{4,5})\s+(?<town>\p{Lu}[\p{L}'\-]*(?:(?: am| an der| sur| de)? (?!Cedex|CEDEX)\p{Lu}[\p{L}'\-]*)*)/u },
];

/** The country whose town table has `name`, if one does. */
export function countryOfTown(name: string): string | undefined {
  // "Frankfurt am Main Süd": the longest leading words that name a town.
  const words = name.split(' ');
  for (let n = words.length; n > 0; n--) {
    const lower = words.slice(0, n).join(' ').toLowerCase();
    const hit = Object.keys(TOWNS).find((c) => TOWNS[c].some((x) => x.name.toLowerCase() === lower));
    if (hit) return hit;
  }
  return undefined;
}

/** The postcode-and-town part of an address line, when it has one in a known country's format. */
export function findPostcodeLine(line: string, hint?: string): { index: number; length: number; country: string; town: string; ext: boolean } | undefined {
  for (const p of LINE_PATTERNS) {
    const m = p.re.exec(line);
    if (!m) continue;
    const pc = m.groups!.pc;
    const town = m.groups!.town;
    let country = p.countries[0];
    if (p.countries.length > 1) {
      // Four or five digits are written in several countries: the town says which, else the page.
      const byTown = countryOfTown(town);
      const fits = (c: string | undefined): boolean => c !== undefined && p.countries.includes(c) && (['DE', 'FR', 'ES', 'IT'].includes(c) ? pc.length === 5 : pc.length === 4);
      country = fits(byTown) ? byTown! : fits(hint) ? hint! : pc.length === 4 ? 'AT' : 'DE';
    }
    return { index: m.index, length: m[0].length, country, town, ext: m.groups!.ext !== undefined };
  }
  return undefined;
}

/**
 * A postcode-and-town part for `country` in that country's format (e.g. "50667 Köln" for DE,
 * "York YO3 7HB" for GB, "Austin, TX 78712" for US); undefined for a country without a table.
 */
export function fakePostcodeLine(country: string, rng: Rng, modelTown = '', ext = false): string | undefined {
  const town = pickTown(country, rng, modelTown);
  if (!town) return undefined;
  const pc = postcodeOf(country, town, rng);
  switch (country) {
    case 'US':
      return `${town.name}, ${town.state} ${pc}${ext ? '-' + digits(4, rng) : ''}`;
    case 'GB':
    case 'IE':
      return `${town.name} ${pc}`;
    default:
      return `${pc} ${town.name}`;
  }
}

/** Every town name of every table (an address word that is one of them is a town). */
export const ALL_TOWN_NAMES: ReadonlySet<string> = new Set(Object.values(TOWNS).flatMap((l) => l.map((x) => x.name.toLowerCase())));

