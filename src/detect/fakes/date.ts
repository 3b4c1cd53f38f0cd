/**
 * Fake dates: shifted by 1 to 400 days (months for month-year dates), written in the same format
 * and language; a time of day after the date ("2024-03-15T14:30:00Z") gets other digits of the
 * same layout, its zone kept.
 */
import { formatDate, parseDate, splitTime } from '../dates';
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

/** A different date in the same format (digits replaced when the text is not a parseable date). */
export function fakeDate(original: string, rng: Rng): string {
  const { date, time } = splitTime(original);
  const p = parseDate(date);
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
  return formatDate(p.format, y, m, d) + (time ? fakeTime(time, rng) : '');
}
