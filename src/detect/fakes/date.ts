/** Fake dates: shifted by 1 to 400 days (months for month-year dates), written in the same format. */
import { formatDate, parseDate } from '../dates';
import type { Rng } from './rng';
import { shapeFake } from './shape';

/** Canonical form of a date (ISO), so the same day maps to the same fake in any format. */
export function canonicalDate(original: string): string {
  const p = parseDate(original.replace(/\.(?=\s)/, ''));
  if (!p) return original;
  return `${p.year}-${String(p.month).padStart(2, '0')}${p.day === undefined ? '' : '-' + String(p.day).padStart(2, '0')}`;
}

/** A different date in the same format (digits replaced when the text is not a parseable date). */
export function fakeDate(original: string, rng: Rng): string {
  const dot = /\.(?=\s)/.exec(original);
  const p = parseDate(original.replace(/\.(?=\s)/, ''));
  if (!p) return shapeFake(original, rng);
  const sign = rng.int(2) === 0 ? -1 : 1;
  let y: number;
  let m: number;
  let d: number | undefined;
  if (p.day === undefined) {
    const total = p.year * 12 + (p.month - 1) + sign * rng.range(1, 12);
    y = Math.floor(total / 12);
    m = (total % 12) + 1;
  } else {
    const t = new Date(Date.UTC(p.year, p.month - 1, p.day) + sign * rng.range(1, 400) * 86400000);
    y = t.getUTCFullYear();
    m = t.getUTCMonth() + 1;
    d = t.getUTCDate();
  }
  if (y < 1900 || y > 2099) y = p.year;
  const text = formatDate(p.format, y, m, d);
  // Put back an abbreviation dot ("Mar. 12") where the original had one.
  return dot ? text.slice(0, dot.index) + '.' + text.slice(dot.index) : text;
}
