/**
 * Date parsing and formatting shared by the date recognizer and the date fake: a date string is
 * split into tokens (numbers, month names, ordinal suffixes, separators) so a fake can be written
 * back in exactly the same format (padding, language, month-name style and case, separators).
 * Month names: English, German, French, Spanish, Italian, Dutch and Portuguese, full and
 * abbreviated, with or without accents ("März"/"Marz", "février"/"fevrier").
 */

/** English month names (lower case). */
export const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june',
  'july', 'august', 'september', 'october', 'november', 'december',
];

const split = (s: string): string[] => s.trim().split(/\s+/);

/** Month names per language: full names and the usual abbreviations, January first. */
export const MONTH_NAMES: Readonly<Record<string, { full: readonly string[]; abbr: readonly string[] }>> = {
  en: { full: MONTHS, abbr: split('jan feb mar apr may jun jul aug sep oct nov dec') },
  de: {
    full: split('januar februar märz april mai juni juli august september oktober november dezember'),
    abbr: split('jan feb mär apr mai jun jul aug sep okt nov dez'),
  },
  fr: {
    full: split('janvier février mars avril mai juin juillet août septembre octobre novembre décembre'),
    abbr: split('janv févr mars avr mai juin juil août sept oct nov déc'),
  },
  es: {
    full: split('enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre'),
    abbr: split('ene feb mar abr may jun jul ago sep oct nov dic'),
  },
  it: {
    full: split('gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre'),
    abbr: split('gen feb mar apr mag giu lug ago set ott nov dic'),
  },
  nl: {
    full: split('januari februari maart april mei juni juli augustus september oktober november december'),
    abbr: split('jan feb mrt apr mei jun jul aug sep okt nov dec'),
  },
  pt: {
    full: split('janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro'),
    abbr: split('jan fev mar abr mai jun jul ago set out nov dez'),
  },
};

/** Languages whose names carry accents get an accent-free twin ("marz", "fevrier", "marco"). */
const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '');
const TABLES: Record<string, { full: readonly string[]; abbr: readonly string[] }> = { ...MONTH_NAMES };
for (const [lang, t] of Object.entries(MONTH_NAMES)) {
  if ([...t.full, ...t.abbr].some((n) => fold(n) !== n)) TABLES[`${lang}-ascii`] = { full: t.full.map(fold), abbr: t.abbr.map(fold) };
}
TABLES['de-ae'] = { full: MONTH_NAMES.de.full.map((n) => n.replace('ä', 'ae')), abbr: MONTH_NAMES.de.abbr };
// Spanish "setiembre" (Latin America) next to "septiembre".
TABLES['es-set'] = { full: MONTH_NAMES.es.full.map((n, i) => (i === 8 ? 'setiembre' : n)), abbr: MONTH_NAMES.es.abbr };

type Form = 'full' | 'abbr' | 'sept';
interface MonthHit {
  month: number;
  lang: string;
  form: Form;
}

// Name -> first (language, form) that spells it; English first, so "mar", "may", "dec" read as English.
const BY_NAME = new Map<string, MonthHit>();
for (const [lang, t] of Object.entries(TABLES)) {
  t.full.forEach((n, i) => BY_NAME.has(n) || BY_NAME.set(n, { month: i + 1, lang, form: 'full' }));
  t.abbr.forEach((n, i) => BY_NAME.has(n) || BY_NAME.set(n, { month: i + 1, lang, form: 'abbr' }));
}
BY_NAME.set('sept', { month: 9, lang: 'en', form: 'sept' });

/** Every spelling of a month name (for building recognizer patterns), longest first. */
export const MONTH_SPELLINGS: readonly string[] = [...BY_NAME.keys()].sort((a, b) => b.length - a.length);

/** Month name or abbreviation in any supported language -> month 1..12. */
export function monthFromName(name: string): number | undefined {
  return BY_NAME.get(name.toLowerCase())?.month;
}

type Case = 'upper' | 'lower' | 'title';

/** One token of a date format. */
export type DateToken =
  | { kind: 'year'; width: 2 | 4 }
  | { kind: 'month'; pad: boolean }
  | { kind: 'monthName'; lang: string; abbr: Form; case: Case }
  | { kind: 'day'; pad: boolean }
  | { kind: 'ordinal'; style: 'en' | 'fr'; case: Case }
  | { kind: 'lit'; text: string };

/** A parsed date and the format it was written in. */
export interface ParsedDate {
  year: number;
  month: number;
  /** Absent for month-year dates ("March 2024", "05/2021"). */
  day?: number;
  format: DateToken[];
}

function caseOf(s: string): Case {
  if (s === s.toUpperCase() && s.length > 1) return 'upper';
  if (s === s.toLowerCase()) return 'lower';
  return 'title';
}

function applyCase(s: string, c: Case): string {
  if (c === 'upper') return s.toUpperCase();
  if (c === 'lower') return s.toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

/** Days in a month (1..12) of a year (Gregorian). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const EN_ORDINALS = new Set(['st', 'nd', 'rd', 'th']);
// Words that may sit between the parts of a written date: "15 de marzo de 2024", "15th of March".
const JOINERS = new Set(['de', 'del', 'of']);

/**
 * Parses a date written in one of the supported formats: ISO (2024-03-12, 2024/03/12), numeric
 * day-first or month-first (12.03.2024, 03/12/2024, 12-03-24; month-first when ambiguous and
 * slashes are used, as in the US), numeric month-year (05/2021, 5/2021, 2021-05, and 05/21, which
 * the recognizer takes only next to a label), and textual in the supported languages
 * ("12 March 2024", "12th Mar 2024", "March 12, 2024", "12-MAR-2024", "March 2024", "May-2021",
 * "15. März 2024", "1er janvier 2024", "15 de marzo de 2024"). Returns undefined for anything else
 * or an impossible date.
 */
export function parseDate(text: string): ParsedDate | undefined {
  const raw = text.match(/\d+|\p{L}+|[^\p{L}\d]+/gu);
  if (!raw) return undefined;
  const format: DateToken[] = [];
  const nums: { idx: number; s: string }[] = [];
  let monthName: number | undefined;
  let ordinal: { style: 'en' | 'fr' } | undefined;
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i];
    if (/^\d+$/.test(t)) {
      nums.push({ idx: format.length, s: t });
      format.push({ kind: 'lit', text: t }); // resolved below
    } else if (/^\p{L}+$/u.test(t)) {
      const lower = t.toLowerCase();
      const prev = raw[i - 1];
      const afterDay = prev !== undefined && /^\d{1,2}$/.test(prev);
      if (afterDay && (EN_ORDINALS.has(lower) || lower === 'er')) {
        ordinal = { style: lower === 'er' ? 'fr' : 'en' };
        format.push({ kind: 'ordinal', style: ordinal.style, case: caseOf(t) });
        continue;
      }
      // "1º", "1ª" (Spanish, Portuguese): kept as written.
      if (afterDay && (t === 'º' || t === 'ª')) {
        format.push({ kind: 'lit', text: t });
        continue;
      }
      if (JOINERS.has(lower)) {
        format.push({ kind: 'lit', text: t });
        continue;
      }
      const hit = BY_NAME.get(lower);
      if (hit === undefined || monthName !== undefined) return undefined;
      monthName = hit.month;
      format.push({ kind: 'monthName', lang: hit.lang, abbr: hit.form, case: caseOf(t) });
    } else {
      if (t.length > 3) return undefined;
      format.push({ kind: 'lit', text: t });
    }
  }
  let year: number | undefined;
  let month: number | undefined = monthName;
  let day: number | undefined;
  const setTok = (k: number, tok: DateToken): void => {
    format[nums[k].idx] = tok;
  };
  const yearOf = (s: string): number => (s.length === 4 ? Number(s) : 2000 + Number(s) - (Number(s) >= 70 ? 100 : 0));
  if (monthName !== undefined) {
    if (nums.length === 1) {
      if (nums[0].s.length !== 4) return undefined;
      year = Number(nums[0].s);
      setTok(0, { kind: 'year', width: 4 });
    } else if (nums.length === 2) {
      // The year is the 4-digit number, else the last one.
      const yi = nums[0].s.length === 4 ? 0 : 1;
      const di = 1 - yi;
      if (nums[yi].s.length !== 4 && nums[yi].s.length !== 2) return undefined;
      if (nums[di].s.length > 2) return undefined;
      year = yearOf(nums[yi].s);
      day = Number(nums[di].s);
      setTok(yi, { kind: 'year', width: nums[yi].s.length as 2 | 4 });
      setTok(di, { kind: 'day', pad: nums[di].s.length === 2 });
    } else return undefined;
  } else if (nums.length === 2) {
    // Month-year: 05/2021, 5-2021, 05.2021, 2021-05, 05/21.
    if (format.length !== 3) return undefined;
    const sep = (format[1] as { text: string }).text;
    if (!['-', '/', '.'].includes(sep)) return undefined;
    const [a, b] = nums.map((n) => n.s);
    let mi: number;
    if (a.length === 4 && b.length <= 2 && sep !== '.') mi = 1;
    else if (a.length <= 2 && (b.length === 4 || (b.length === 2 && sep !== '.'))) mi = 0;
    else return undefined;
    const yi = 1 - mi;
    month = Number(nums[mi].s);
    year = yearOf(nums[yi].s);
    setTok(mi, { kind: 'month', pad: nums[mi].s.length === 2 });
    setTok(yi, { kind: 'year', width: nums[yi].s.length as 2 | 4 });
  } else {
    if (nums.length !== 3 || format.length !== 5) return undefined;
    const sep1 = (format[1] as { text: string }).text;
    const sep2 = (format[3] as { text: string }).text;
    if (sep1 !== sep2 || !['-', '/', '.'].includes(sep1)) return undefined;
    const [a, b, c] = nums.map((n) => n.s);
    let order: ('y' | 'm' | 'd')[];
    if (a.length === 4) order = ['y', 'm', 'd'];
    else if (c.length === 4 || c.length === 2) {
      if (a.length > 2 || b.length > 2) return undefined;
      const an = Number(a);
      const bn = Number(b);
      if (sep1 === '/') order = an > 12 ? ['d', 'm', 'y'] : ['m', 'd', 'y'];
      else order = an <= 12 && bn > 12 ? ['m', 'd', 'y'] : ['d', 'm', 'y'];
    } else return undefined;
    for (let k = 0; k < 3; k++) {
      const s = nums[k].s;
      if (order[k] === 'y') {
        if (s.length !== 4 && s.length !== 2) return undefined;
        year = yearOf(s);
        setTok(k, { kind: 'year', width: s.length as 2 | 4 });
      } else {
        if (s.length > 2) return undefined;
        if (order[k] === 'm') {
          month = Number(s);
          setTok(k, { kind: 'month', pad: s.length === 2 });
        } else {
          day = Number(s);
          setTok(k, { kind: 'day', pad: s.length === 2 });
        }
      }
    }
  }
  if (year === undefined || month === undefined) return undefined;
  if (year < 1900 || year > 2099 || month < 1 || month > 12) return undefined;
  if (day !== undefined && (day < 1 || day > daysInMonth(year, month))) return undefined;
  if (ordinal && day === undefined) return undefined;
  // "1er" is French for the first only.
  if (ordinal?.style === 'fr' && day !== 1) return undefined;
  return { year, month, day, format };
}

function ordinalSuffix(day: number): string {
  if (day % 100 >= 11 && day % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][day % 10] ?? 'th';
}

/** Writes a date in a format obtained from {@link parseDate}. */
export function formatDate(format: readonly DateToken[], year: number, month: number, day?: number): string {
  return format
    .map((t) => {
      switch (t.kind) {
        case 'year':
          return t.width === 4 ? String(year) : String(year % 100).padStart(2, '0');
        case 'month':
          return t.pad ? String(month).padStart(2, '0') : String(month);
        case 'monthName': {
          const table = TABLES[t.lang] ?? TABLES.en;
          const name = t.abbr === 'full' ? table.full[month - 1] : t.abbr === 'sept' && month === 9 ? 'sept' : table.abbr[month - 1];
          return applyCase(name, t.case);
        }
        case 'day':
          return t.pad ? String(day).padStart(2, '0') : String(day);
        case 'ordinal':
          // French marks only the first ("1er janvier", "2 janvier").
          if (t.style === 'fr') return day === 1 ? applyCase('er', t.case) : '';
          return applyCase(ordinalSuffix(day ?? 1), t.case);
        default:
          return t.text;
      }
    })
    .join('');
}

/** A time of day after a date ("T14:30:00Z", " 14:30", " 09:15:02.123+01:00"). */
export const TIME_SUFFIX = String.raw`(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+\-]\d{2}(?::?\d{2})?)?)`;

/** Splits "2024-03-15T14:30:00Z" into the date and its time part ("" when there is none). */
export function splitTime(text: string): { date: string; time: string } {
  const m = new RegExp(`${TIME_SUFFIX}$`).exec(text);
  if (!m || m.index === 0) return { date: text, time: '' };
  return { date: text.slice(0, m.index), time: m[0] };
}

/** True when the hours, minutes, seconds and offset of a time part are in range. */
export function validTime(time: string): boolean {
  if (time === '') return true;
  const m = /^[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(time);
  if (!m) return false;
  const off = /[+\-](\d{2})(?::?(\d{2}))?$/.exec(time.slice(m[0].length));
  if (off && (Number(off[1]) > 14 || Number(off[2] ?? 0) > 59)) return false;
  return Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3] ?? 0) <= 60;
}
