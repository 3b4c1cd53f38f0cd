/**
 * Fake dates: shifted by 1 to 400 days (months for month-year dates), written in the same format
 * and language; a time of day after the date ("2024-03-15T14:30:00Z") gets other digits of the
 * same layout, its zone kept.
 *
 * Coherent fakes ({@link DateContext}): every date of a document moves by one offset, a whole
 * number of weeks, so their order, the days between them and their weekdays stay; month-year dates
 * move by the nearest whole number of months. A numeric date with slashes is read day first when
 * the document writes day first (`05/03/2026` on a page that also has `14/03/2026`, or a British or
 * European page), so it stays day first.
 */
import { type DateToken, formatDate, parseDate, splitTime } from '../dates';
import type { Rng } from './rng';
import { shapeFake } from './shape';

/** Canonical form of a date (ISO), so the same day maps to the same fake in any format. */
export function canonicalDate(original: string): string {
  const { date, time } = splitTime(original);
  const p = parseDate(date);
  if (!p) return original;
  const iso = `${p.year}-${String(p.month).padStart(2, '0')}${p.day === undefined ? '' : '-' + String(p.day).padStart(2, '0')}`;
  return time ? `${iso}T${time.slice(1).replace(/\D/g, '')}` : iso;
}

/** A time of day in the layout of `time` (" 14:30", "T09:15:02.123Z"); zone and offset kept. */
function fakeTime(time: string, rng: Rng): string {
  const m = /^([T ])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(time);
  if (!m) return time;
  const two = (n: number): string => String(n).padStart(2, '0');
  let out = `${m[1]}${two(rng.int(24))}:${two(rng.int(60))}`;
  if (m[4] !== undefined) out += `:${two(rng.int(60))}`;
  const rest = time.slice(m[0].length);
  // Fractional seconds get other digits; "Z" and "+01:00" stay.
  return out + rest.replace(/^([.,])(\d+)/, (_, sep: string, d: string) => sep + d.replace(/\d/g, () => rng.digit()));
}

/** The document's date rule: one shift, and which way ambiguous numeric dates are read. */
export interface DateContext {
  /** Days every date moves (a non-zero multiple of 7). */
  offsetDays: number;
  /** Read "05/03/2026" as 5 March (true), 3 May (false), or as the parser does (undefined: month first with slashes). */
  dayFirst?: boolean;
}

/** A month-first numeric reading turned day-first ("05/03/2026": 3 May -> 5 March), when that is a real date. */
function readDayFirst(p: NonNullable<ReturnType<typeof parseDate>>): NonNullable<ReturnType<typeof parseDate>> {
  const mi = p.format.findIndex((t) => t.kind === 'month');
  const di = p.format.findIndex((t) => t.kind === 'day');
  if (mi < 0 || di < 0 || mi > di || p.day === undefined || p.day > 12) return p;
  const format: DateToken[] = [...p.format];
  format[mi] = { kind: 'day', pad: (p.format[mi] as { pad: boolean }).pad };
  format[di] = { kind: 'month', pad: (p.format[di] as { pad: boolean }).pad };
  const day = p.month;
  const month = p.day;
  if (day > new Date(Date.UTC(p.year, month, 0)).getUTCDate()) return p;
  return { ...p, format, day, month };
}

/** A different date in the same format (digits replaced when the text is not a parseable date). */
export function fakeDate(original: string, rng: Rng, context?: DateContext): string {
  const { date, time } = splitTime(original);
  let p = parseDate(date);
  if (!p) return shapeFake(original, rng);
  if (context?.dayFirst === true && /\//.test(date)) p = readDayFirst(p);
  const sign = rng.int(2) === 0 ? -1 : 1;
  let y: number;
  let m: number;
  let d: number | undefined;
  if (p.day === undefined) {
    const months = context ? Math.sign(context.offsetDays) * Math.max(1, Math.round(Math.abs(context.offsetDays) / 30.44)) : sign * rng.range(1, 12);
    const total = p.year * 12 + (p.month - 1) + months;
    y = Math.floor(total / 12);
    m = (total % 12) + 1;
  } else {
    const days = context ? context.offsetDays : sign * rng.range(1, 400);
    const t = new Date(Date.UTC(p.year, p.month - 1, p.day) + days * 86400000);
    y = t.getUTCFullYear();
    m = t.getUTCMonth() + 1;
    d = t.getUTCDate();
  }
  if (y < 1900 || y > 2099) y = p.year;
  return formatDate(p.format, y, m, d) + (time ? fakeTime(time, rng) : '');
}

/**
 * Which way a document writes numeric dates with slashes: day first when one of them has a first
 * number over 12 ("14/03/2026"), month first when one has a second number over 12, else as its
 * country does (month first in the US, day first elsewhere); undefined when nothing says.
 */
export function dayFirstOf(dates: readonly string[], country?: string): boolean | undefined {
  let dayFirst = false;
  let monthFirst = false;
  for (const s of dates) {
    const m = /(?<!\d)(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?!\d)/.exec(s);
    if (!m) continue;
    if (Number(m[1]) > 12) dayFirst = true;
    if (Number(m[2]) > 12) monthFirst = true;
  }
  if (dayFirst !== monthFirst) return dayFirst;
  if (country === undefined) return undefined;
  return !['US', 'PH', 'FM', 'MH', 'PW'].includes(country);
}
