/**
 * Date parsing and formatting shared by the date recognizer and the date fake: a date string is
 * split into tokens (numbers, month names, ordinal suffixes, separators) so a fake can be written
 * back in exactly the same format (padding, month-name style and case, separators).
 */

export const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june',
  'july', 'august', 'september', 'october', 'november', 'december',
];

/** Month name or abbreviation (3 letters, or "sept") -> month 1..12. */
export function monthFromName(name: string): number | undefined {
  const n = name.toLowerCase();
  if (n === 'sept') return 9;
  if (n.length < 3) return undefined;
  const i = MONTHS.findIndex((m) => m === n || (n.length === 3 && m.startsWith(n)));
  return i >= 0 ? i + 1 : undefined;
}

type Case = 'upper' | 'lower' | 'title';

/** One token of a date format. */
export type DateToken =
  | { kind: 'year'; width: 2 | 4 }
  | { kind: 'month'; pad: boolean }
  | { kind: 'monthName'; abbr: 'full' | 'three' | 'sept'; case: Case }
  | { kind: 'day'; pad: boolean }
  | { kind: 'ordinal'; case: Case }
  | { kind: 'lit'; text: string };

/** A parsed date and the format it was written in. */
export interface ParsedDate {
  year: number;
  month: number;
  /** Absent for month-year dates ("March 2024"). */
  day?: number;
  format: DateToken[];
}

function caseOf(s: string): Case {
  if (s === s.toUpperCase()) return 'upper';
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

const ORDINALS = new Set(['st', 'nd', 'rd', 'th']);

/**
 * Parses a date written in one of the supported formats: ISO (2024-03-12, 2024/03/12), numeric
 * day-first or month-first (12.03.2024, 03/12/2024, 12-03-24; month-first when ambiguous and
 * slashes are used, as in the US), and textual ("12 March 2024", "12th Mar 2024", "March 12, 2024",
 * "12-MAR-2024", "March 2024"). Returns undefined for anything else or an impossible date.
 */
export function parseDate(text: string): ParsedDate | undefined {
  const raw = text.match(/\d+|[A-Za-z]+|[^A-Za-z\d]+/g);
  if (!raw) return undefined;
  const format: DateToken[] = [];
  const nums: { idx: number; s: string }[] = [];
  let monthName: number | undefined;
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i];
    if (/^\d+$/.test(t)) {
      nums.push({ idx: format.length, s: t });
      format.push({ kind: 'lit', text: t }); // resolved below
    } else if (/^[A-Za-z]+$/.test(t)) {
      const prev = raw[i - 1];
      if (ORDINALS.has(t.toLowerCase()) && prev !== undefined && /^\d{1,2}$/.test(prev)) {
        format.push({ kind: 'ordinal', case: caseOf(t) });
        continue;
      }
      const m = monthFromName(t);
      if (m === undefined || monthName !== undefined) return undefined;
      monthName = m;
      const abbr = t.length === 3 ? 'three' : t.toLowerCase() === 'sept' ? 'sept' : 'full';
      if (abbr === 'full' && t.toLowerCase() !== MONTHS[m - 1]) return undefined;
      format.push({ kind: 'monthName', abbr, case: caseOf(t) });
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
  if (format.some((t) => t.kind === 'ordinal') && day === undefined) return undefined;
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
          const full = MONTHS[month - 1];
          const name = t.abbr === 'full' ? full : t.abbr === 'sept' && month === 9 ? 'sept' : full.slice(0, 3);
          return applyCase(name, t.case);
        }
        case 'day':
          return t.pad ? String(day).padStart(2, '0') : String(day);
        case 'ordinal':
          return applyCase(ordinalSuffix(day ?? 1), t.case);
        default:
          return t.text;
      }
    })
    .join('');
}
