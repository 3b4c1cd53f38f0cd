/**
 * National identifiers that EU financial documents carry, each with its check-digit rule and a
 * generator of valid values of the same shape (for fakes):
 * Germany: Steuer-ID (IdNr, ISO 7064 MOD 11,10 and the digit-repetition rule), Steuernummer
 * (labelled, no common check), USt-IdNr; France: NIR (social security, key 97 - N mod 97),
 * SIREN and SIRET (Luhn), TVA; Spain: DNI, NIE (mod-23 letter), CIF (company NIF), IVA;
 * Italy: codice fiscale (odd/even table check letter), partita IVA (Luhn); Netherlands: BSN
 * (11-proof), btw-id (11-proof or mod 97); Portugal: NIF (mod 11); plus the VAT IDs of Belgium,
 * Austria, Luxembourg and the United Kingdom. Values are compared in compact form: separators
 * removed, letters upper-cased.
 */
import { luhnCheckDigit, luhnValid, mod97 } from './checksums';
import type { Rng } from './fakes/rng';

const digitsOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0) - 48);
const isDigits = (s: string, n?: number): boolean => /^\d+$/.test(s) && (n === undefined || s.length === n);
const randomDigits = (rng: Rng, n: number, firstNonZero = false): string =>
  Array.from({ length: n }, (_, i) => rng.digit(firstNonZero && i === 0)).join('');

/** ISO 7064 MOD 11,10 check digit of a digit string (German Steuer-ID and USt-IdNr). */
export function mod1110(payload: string): number {
  let product = 10;
  for (const d of digitsOf(payload)) {
    let sum = (d + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

// --- Germany ---

/** Steuer-ID: 11 digits, no leading 0, in the first ten one digit twice or thrice (not three in a row), the rest at most once. */
export function validDeSteuerId(c: string): boolean {
  if (!isDigits(c, 11) || c[0] === '0') return false;
  const counts = new Map<string, number>();
  for (const ch of c.slice(0, 10)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const multi = [...counts.entries()].filter(([, n]) => n > 1);
  if (multi.length !== 1 || multi[0][1] > 3) return false;
  if (multi[0][1] === 3 && c.slice(0, 10).includes(multi[0][0].repeat(3))) return false;
  return mod1110(c.slice(0, 10)) === Number(c[10]);
}

function makeDeSteuerId(_c: string, rng: Rng): string {
  for (;;) {
    // Nine distinct digits, one of them repeated once: the usual (pre-2016) shape.
    const pool = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    const picked: string[] = [];
    while (picked.length < 9) picked.push(pool.splice(rng.int(pool.length), 1)[0]);
    picked.splice(rng.int(10), 0, picked[rng.int(9)]);
    const body = picked.join('');
    if (body[0] === '0') continue;
    const c = body + mod1110(body);
    if (validDeSteuerId(c)) return c;
  }
}

export const validDeVat = (c: string): boolean => /^DE[1-9]\d{8}$/.test(c) && mod1110(c.slice(2, 10)) === Number(c[10]);
const makeDeVat = (_c: string, rng: Rng): string => {
  const body = randomDigits(rng, 8, true);
  return `DE${body}${mod1110(body)}`;
};

// --- France ---

/** NIR: sex, year, month, department (2A/2B for Corsica), commune, order, 2-digit key. */
export function validFrNir(c: string): boolean {
  if (!/^[1-478]\d{4}(?:\d{2}|2[AB])\d{6}\d{2}$/.test(c)) return false;
  const month = Number(c.slice(3, 5));
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50)) return false;
  const body = c.slice(0, 13).replace('2A', '19').replace('2B', '18');
  return 97 - Number(BigInt(body) % 97n) === Number(c.slice(13));
}

function makeFrNir(c: string, rng: Rng): string {
  const sex = c[0] === '2' ? '2' : '1';
  const year = String(rng.int(100)).padStart(2, '0');
  const month = String(rng.range(1, 12)).padStart(2, '0');
  const dept = String(rng.range(1, 95)).padStart(2, '0').replace(/^20$/, '21');
  const body = sex + year + month + dept + randomDigits(rng, 6);
  return body + String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
}

/** SIREN (9 digits) and SIRET (SIREN + 5-digit establishment): Luhn; La Poste's SIRETs use a digit sum divisible by 5. */
export function validFrSiren(c: string): boolean {
  return isDigits(c, 9) && !/^0+$/.test(c) && luhnValid(c);
}
export function validFrSiret(c: string): boolean {
  if (!isDigits(c, 14) || /^0+$/.test(c)) return false;
  if (c.startsWith('356000000')) return digitsOf(c).reduce((a, b) => a + b, 0) % 5 === 0;
  return luhnValid(c);
}
const makeLuhn = (n: number) => (_c: string, rng: Rng): string => {
  const body = randomDigits(rng, n - 1, true);
  return body + luhnCheckDigit(body);
};

/** French VAT: FR + 2-digit key ((12 + 3 x (SIREN mod 97)) mod 97) + SIREN. */
export function validFrVat(c: string): boolean {
  if (!/^FR\d{11}$/.test(c)) return false;
  const siren = c.slice(4);
  return (12 + 3 * (Number(siren) % 97)) % 97 === Number(c.slice(2, 4));
}
const makeFrVat = (c: string, rng: Rng): string => {
  const siren = makeLuhn(9)(c, rng);
  return `FR${String((12 + 3 * (Number(siren) % 97)) % 97).padStart(2, '0')}${siren}`;
};

// --- Spain ---

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the letter is digits mod 23. */
export function validEsDni(c: string): boolean {
  const m = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(c);
  if (!m || (m[1] ? m[2].length !== 7 : m[2].length !== 8)) return false;
  const n = Number((m[1] ? String('XYZ'.indexOf(m[1])) : '') + m[2]);
  return DNI_LETTERS[n % 23] === m[3];
}
function makeEsDni(c: string, rng: Rng): string {
  const prefix = /^[XYZ]/.test(c) ? c[0] : '';
  const body = randomDigits(rng, prefix ? 7 : 8, !prefix);
  const n = Number((prefix ? String('XYZ'.indexOf(prefix)) : '') + body);
  return prefix + body + DNI_LETTERS[n % 23];
}

/** CIF (company NIF): organisation letter, 7 digits, control digit or letter. */
export function validEsCif(c: string): boolean {
  const m = /^([ABCDEFGHJNPQRSUVW])(\d{7})([0-9A-J])$/.exec(c);
  if (!m) return false;
  const control = cifControl(m[2]);
  const letter = 'JABCDEFGHI'[control];
  if ('KPQSNW'.includes(m[1])) return m[3] === letter;
  if ('ABEH'.includes(m[1])) return m[3] === String(control);
  return m[3] === String(control) || m[3] === letter;
}
function cifControl(d7: string): number {
  let sum = 0;
  digitsOf(d7).forEach((d, i) => {
    if (i % 2 === 1) sum += d;
    else {
      const x = d * 2;
      sum += Math.floor(x / 10) + (x % 10);
    }
  });
  return (10 - (sum % 10)) % 10;
}
function makeEsCif(c: string, rng: Rng): string {
  const org = c[0];
  const body = randomDigits(rng, 7);
  const control = cifControl(body);
  const letterControl = 'KPQSNW'.includes(org) || (!'ABEH'.includes(org) && /[A-J]$/.test(c));
  return org + body + (letterControl ? 'JABCDEFGHI'[control] : String(control));
}

export const validEsVat = (c: string): boolean => /^ES[0-9A-Z]\d{7}[0-9A-Z]$/.test(c) && (validEsDni(c.slice(2)) || validEsCif(c.slice(2)));
const makeEsVat = (c: string, rng: Rng): string => `ES${validEsCif(c.slice(2)) ? makeEsCif(c.slice(2), rng) : makeEsDni(c.slice(2), rng)}`;

// --- Italy ---

const CF_ODD: Record<string, number> = {};
'1 0 5 7 9 13 15 17 19 21'.split(' ').forEach((v, i) => {
  CF_ODD[String(i)] = Number(v);
  CF_ODD[String.fromCharCode(65 + i)] = Number(v);
});
'2 4 18 20 11 3 6 8 12 14 16 10 22 25 24 23'.split(' ').forEach((v, i) => {
  CF_ODD[String.fromCharCode(75 + i)] = Number(v); // K..Z
});
const cfEven = (ch: string): number => (/\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 65);
const CF_SHAPE = /^[A-Z]{6}[\dLMNPQRSTUV]{2}[ABCDEHLMPRST][\dLMNPQRSTUV]{2}[A-Z][\dLMNPQRSTUV]{3}[A-Z]$/;

/** Codice fiscale check letter of the first 15 characters. */
export function cfCheck(first15: string): string {
  let sum = 0;
  [...first15].forEach((ch, i) => (sum += i % 2 === 0 ? CF_ODD[ch] : cfEven(ch)));
  return String.fromCharCode(65 + (sum % 26));
}
export const validItCf = (c: string): boolean => CF_SHAPE.test(c) && cfCheck(c.slice(0, 15)) === c[15];
function makeItCf(_c: string, rng: Rng): string {
  const L = (): string => rng.letter(true);
  const day = rng.range(1, 28) + (rng.int(2) ? 40 : 0);
  const body =
    L() + L() + L() + L() + L() + L() + randomDigits(rng, 2) + 'ABCDEHLMPRST'[rng.int(12)] + String(day).padStart(2, '0') + L() + randomDigits(rng, 3);
  return body + cfCheck(body);
}

export const validItVat = (c: string): boolean => /^(?:IT)?\d{11}$/.test(c) && !/^(?:IT)?0+$/.test(c) && luhnValid(c.replace(/^IT/, ''));
const makeItVat = (c: string, rng: Rng): string => (c.startsWith('IT') ? 'IT' : '') + makeLuhn(11)('', rng);

// --- Netherlands ---

/** BSN: 9 digits, 9 x d1 + 8 x d2 + ... + 2 x d8 - d9 divisible by 11. */
export function validNlBsn(c: string): boolean {
  if (!isDigits(c, 9) || /^0+$/.test(c)) return false;
  const d = digitsOf(c);
  const s = d.slice(0, 8).reduce((a, x, i) => a + x * (9 - i), 0) - d[8];
  return s % 11 === 0;
}
function makeNlBsn(_c: string, rng: Rng): string {
  for (;;) {
    const body = randomDigits(rng, 8, true);
    const s = digitsOf(body).reduce((a, x, i) => a + x * (9 - i), 0) % 11;
    if (s < 10) return body + s;
  }
}

/** Dutch btw-id: NL + 9 digits + B + 2 digits; 11-proof on the 9 digits (older numbers) or ISO 7064 mod 97 over the whole (since 2020). */
export function validNlVat(c: string): boolean {
  if (!/^NL\d{9}B\d{2}$/.test(c)) return false;
  const d = digitsOf(c.slice(2, 11));
  const elf = d.slice(0, 8).reduce((a, x, i) => a + x * (9 - i), 0) % 11 === d[8];
  return elf || mod97(c) === 1;
}
function makeNlVat(c: string, rng: Rng): string {
  for (;;) {
    const body = randomDigits(rng, 8, true);
    const s = digitsOf(body).reduce((a, x, i) => a + x * (9 - i), 0) % 11;
    if (s < 10) return `NL${body}${s}B${c.slice(12) === '01' ? '01' : String(rng.range(1, 99)).padStart(2, '0')}`;
  }
}

// --- Portugal ---

/** NIF / NIPC: 9 digits, allowed first digits, mod 11 check digit. */
export function validPtNif(c: string): boolean {
  if (!isDigits(c, 9) || !/^(?:[12356]|45|7[0-9]|8|9[0189])/.test(c)) return false;
  const d = digitsOf(c);
  const r = d.slice(0, 8).reduce((a, x, i) => a + x * (9 - i), 0) % 11;
  return (r < 2 ? 0 : 11 - r) === d[8];
}
function makePtNif(c: string, rng: Rng): string {
  const first = /^[12356]/.test(c) ? c[0] : '2';
  const body = first + randomDigits(rng, 7);
  const r = digitsOf(body).reduce((a, x, i) => a + x * (9 - i), 0) % 11;
  return body + (r < 2 ? 0 : 11 - r);
}
export const validPtVat = (c: string): boolean => /^PT\d{9}$/.test(c) && validPtNif(c.slice(2));
const makePtVat = (c: string, rng: Rng): string => `PT${makePtNif(c.slice(2), rng)}`;

// --- Belgium, Austria, Luxembourg, United Kingdom (VAT) ---

export const validBeVat = (c: string): boolean => /^BE[01]\d{9}$/.test(c) && 97 - (Number(c.slice(2, 10)) % 97) === Number(c.slice(10));
const makeBeVat = (_c: string, rng: Rng): string => {
  const body = '0' + randomDigits(rng, 7, true);
  return `BE${body}${String(97 - (Number(body) % 97)).padStart(2, '0')}`;
};

function atCheck(d7: string): number {
  let s = 0;
  digitsOf(d7).forEach((d, i) => {
    if (i % 2 === 1) {
      const x = d * 2;
      s += Math.floor(x / 10) + (x % 10);
    } else s += d;
  });
  return (10 - ((s + 4) % 10)) % 10;
}
export const validAtVat = (c: string): boolean => /^ATU\d{8}$/.test(c) && atCheck(c.slice(3, 10)) === Number(c[10]);
const makeAtVat = (_c: string, rng: Rng): string => {
  const body = randomDigits(rng, 7);
  return `ATU${body}${atCheck(body)}`;
};

export const validLuVat = (c: string): boolean => /^LU\d{8}$/.test(c) && Number(c.slice(2, 8)) % 89 === Number(c.slice(8));
const makeLuVat = (_c: string, rng: Rng): string => {
  const body = randomDigits(rng, 6, true);
  return `LU${body}${String(Number(body) % 89).padStart(2, '0')}`;
};

function gbSum(d7: string): number {
  return digitsOf(d7).reduce((a, x, i) => a + x * (8 - i), 0);
}
export function validGbVat(c: string): boolean {
  if (!/^GB\d{9}(?:\d{3})?$/.test(c)) return false;
  const s = gbSum(c.slice(2, 9)) + Number(c.slice(9, 11));
  return s % 97 === 0 || (s + 55) % 97 === 0;
}
const makeGbVat = (c: string, rng: Rng): string => {
  const body = randomDigits(rng, 7, true);
  const check = (97 - (gbSum(body) % 97)) % 97;
  return `GB${body}${String(check).padStart(2, '0')}${c.slice(11)}`;
};

/** One identifier format. */
export interface IdKind {
  kind: string;
  entity: 'national_id' | 'vat_id';
  /** The value as printed (regex source; separators allowed where the format prints them). */
  pattern: string;
  /** Validates the compact value (separators removed, upper case). */
  valid: (compact: string) => boolean;
  /** A different valid compact value of the same shape (country prefix and leading kind kept). */
  make: (compact: string, rng: Rng) => string;
  /** Label words (regex alternation) the value needs nearby; absent: the check digits suffice. */
  label?: string;
  /** Label words that raise the score of a value that needs none. */
  context?: string;
  /** Score without a label (with one: 0.95). */
  score: number;
}

const VAT_LABELS = String.raw`vat|vat no\.?|vat number|vat reg\.? no\.?|vat id|ust-?id(?:nr)?\.?|ust\.?-?idnr\.?|umsatzsteuer-?id(?:entifikationsnummer)?|tva|n° tva|numéro de tva|tva intracommunautaire|iva|nif-iva|n\.?i\.?f\.?|p\.? ?iva|partita iva|btw|btw-?nummer|btw-id|mwst|uid|nipc|intra-?community vat`;

/** The supported formats, most specific first. */
export const ID_KINDS: readonly IdKind[] = [
  { kind: 'de_vat', entity: 'vat_id', pattern: String.raw`DE[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validDeVat, make: makeDeVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'fr_vat', entity: 'vat_id', pattern: String.raw`FR[ ]?\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validFrVat, make: makeFrVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'es_vat', entity: 'vat_id', pattern: String.raw`ES[ ]?[0-9A-Z]-?\d{7}-?[0-9A-Z]`, valid: validEsVat, make: makeEsVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'it_vat', entity: 'vat_id', pattern: String.raw`IT[ ]?\d{11}`, valid: validItVat, make: makeItVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'nl_vat', entity: 'vat_id', pattern: String.raw`NL[ ]?\d{9}[ ]?B[ ]?\d{2}`, valid: validNlVat, make: makeNlVat, context: VAT_LABELS, score: 0.9 },
  { kind: 'pt_vat', entity: 'vat_id', pattern: String.raw`PT[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validPtVat, make: makePtVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'be_vat', entity: 'vat_id', pattern: String.raw`BE[ ]?[01]\d{3}[ .]?\d{3}[ .]?\d{3}`, valid: validBeVat, make: makeBeVat, context: VAT_LABELS, score: 0.85 },
  { kind: 'at_vat', entity: 'vat_id', pattern: String.raw`ATU[ ]?\d{8}`, valid: validAtVat, make: makeAtVat, context: VAT_LABELS, score: 0.9 },
  { kind: 'lu_vat', entity: 'vat_id', pattern: String.raw`LU[ ]?\d{8}`, valid: validLuVat, make: makeLuVat, context: VAT_LABELS, score: 0.8 },
  { kind: 'gb_vat', entity: 'vat_id', pattern: String.raw`GB[ ]?\d{3}[ ]?\d{4}[ ]?\d{2}(?:[ ]?\d{3})?`, valid: validGbVat, make: makeGbVat, context: VAT_LABELS, score: 0.8 },
  { kind: 'it_vat_bare', entity: 'vat_id', pattern: String.raw`\d{11}`, valid: validItVat, make: makeItVat, label: String.raw`p\.? ?iva|partita iva|p\.iva|codice iva`, score: 0.9 },
  {
    kind: 'it_codice_fiscale', entity: 'national_id', pattern: String.raw`[A-Z]{6}[\dLMNPQRSTUV]{2}[ABCDEHLMPRST][\dLMNPQRSTUV]{2}[A-Z][\dLMNPQRSTUV]{3}[A-Z]`,
    valid: validItCf, make: makeItCf, context: String.raw`codice fiscale|cod\.? fisc\.?|c\.f\.|cf`, score: 0.9,
  },
  {
    kind: 'fr_nir', entity: 'national_id', pattern: String.raw`[1-478][ ]?\d{2}[ ]?\d{2}[ ]?(?:\d{2}|2[AB])[ ]?\d{3}[ ]?\d{3}[ ]?\d{2}`,
    valid: validFrNir, make: makeFrNir, context: String.raw`n° de sécurité sociale|numéro de sécurité sociale|sécurité sociale|nir|n° ss|insee`, score: 0.9,
  },
  {
    kind: 'es_dni', entity: 'national_id', pattern: String.raw`(?:\d{8}|\d{2}\.\d{3}\.\d{3}|[XYZ]-?\d{7})[- ]?[A-Z]`,
    valid: validEsDni, make: makeEsDni, context: String.raw`dni|nie|nif|n\.i\.f\.|d\.n\.i\.|documento nacional de identidad|número de identidad`, score: 0.85,
  },
  {
    kind: 'es_cif', entity: 'national_id', pattern: String.raw`[ABCDEFGHJNPQRSUVW]-?\d{7}-?[0-9A-J]`, valid: validEsCif, make: makeEsCif,
    label: String.raw`cif|c\.i\.f\.|nif|n\.i\.f\.`, score: 0.9,
  },
  {
    kind: 'de_steuer_id', entity: 'national_id', pattern: String.raw`\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validDeSteuerId, make: makeDeSteuerId,
    label: String.raw`steuer-?id|steuer-identifikationsnummer|steueridentifikationsnummer|steuerliche identifikationsnummer|identifikationsnummer|idnr\.?|id-nr\.?|tin|tax id|tax identification number`,
    score: 0.95,
  },
  {
    kind: 'fr_siret', entity: 'national_id', pattern: String.raw`\d{3}[ ]?\d{3}[ ]?\d{3}[ ]?\d{5}`, valid: validFrSiret, make: makeLuhn(14),
    label: String.raw`siret|n° siret|numéro siret`, score: 0.95,
  },
  {
    kind: 'fr_siren', entity: 'national_id', pattern: String.raw`\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validFrSiren, make: makeLuhn(9),
    label: String.raw`siren|n° siren|rcs|r\.c\.s\.(?: [a-zé]+)?|rcs [a-zé]+`, score: 0.95,
  },
  {
    kind: 'nl_bsn', entity: 'national_id', pattern: String.raw`\d{4}\.?\d{2}\.?\d{3}|\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validNlBsn, make: makeNlBsn,
    label: String.raw`bsn|burgerservicenummer|burger service nummer|sofinummer|sofi-nummer|sofi`, score: 0.95,
  },
  {
    kind: 'pt_nif', entity: 'national_id', pattern: String.raw`\d{3}[ ]?\d{3}[ ]?\d{3}`, valid: validPtNif, make: makePtNif,
    label: String.raw`nif|n\.i\.f\.|nipc|contribuinte|n\.º de contribuinte|número de contribuinte|número de identificação fiscal`, score: 0.95,
  },
  {
    kind: 'de_steuernummer', entity: 'national_id', pattern: String.raw`\d{2,3}\/\d{3,4}\/\d{4,5}|\d{13}`, valid: (c) => isDigits(c) && c.length >= 10 && c.length <= 13,
    make: (c, rng) => randomDigits(rng, c.length, true), label: String.raw`steuernummer|steuer-nr\.?|st\.?-?nr\.?|stnr\.?`, score: 0.9,
  },
];

/** Compact form: separators removed, letters upper-cased. */
export const compactId = (s: string): string => s.replace(/[^0-9A-Za-z]/g, '').toUpperCase();

/**
 * A valid fake of the same kinds: a value that passes every check the original passes (a nine-digit
 * number may be a valid SIREN and BSN at once), of the same shape. Falls back to the first kind's
 * value when no draw passes all.
 */
export function makeIdLike(compact: string, rng: Rng, entity?: string): string | undefined {
  const kinds = ID_KINDS.filter((k) => (!entity || k.entity === entity) && new RegExp(`^(?:${k.pattern})$`).test(compact) && k.valid(compact));
  if (kinds.length === 0) return undefined;
  let first = '';
  for (let i = 0; i < 4000; i++) {
    const c = kinds[0].make(compact, rng);
    if (i === 0) first = c;
    if (c !== compact && c.length === compact.length && kinds.every((k) => k.valid(c))) return c;
  }
  return first;
}
