/**
 * Do the fakes of a page agree with each other and the page? The checks of issue 20, for the tests
 * and `bench/style-match.ts`: the email follows the fake name, one country throughout (IBAN prefix,
 * phone code, postcode line), dates keep their order, spacing and format, balances still add up,
 * cards keep network, length and Luhn, organisation names are made of words. Each check is
 * undefined when the page has nothing it applies to.
 */
import { isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { DetectedRegion } from '../../src/detect/detect';
import { parseDate } from '../../src/detect/dates';
import { parseAmount } from '../../src/detect/fakes/balances';
import { countryOfTown, findPostcodeLine } from '../../src/detect/fakes/places';
import { LEGAL_FORMS, SECTOR_WORDS } from '../../src/detect/recognizers/organization';
import { CITIES, FIRST_NAMES, LAST_NAMES, PLACE_WORDS } from '../../src/detect/wordlists';
import type { StylePage } from './style-pages';

/** The result of the checks on one page. */
export interface CoherenceResult {
  checks: Record<string, boolean | undefined>;
  /** Why a check failed. */
  notes: string[];
}

const CALLING: Record<string, string> = { GB: '44', DE: '49', US: '1' };

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const shape = (s: string): string => s.replace(/\d/g, '0').replace(/\p{Lu}/gu, 'A').replace(/\p{Ll}/gu, 'a');

/** Day number of a date written day first (or month first in the US). */
function dayNumber(text: string, country: string): number | undefined {
  const p = parseDate(text);
  if (!p || p.day === undefined) return undefined;
  let { month, day } = p;
  // The parser reads "05/03/2026" month first; a day-first country means 5 March.
  const m = /^(\d{1,2})\/(\d{1,2})\//.exec(text);
  if (m && country !== 'US') {
    day = Number(m[1]);
    month = Number(m[2]);
  }
  return Date.UTC(p.year, month - 1, day) / 86400000;
}

const WORDS = new Set([...LAST_NAMES, ...PLACE_WORDS, ...CITIES, ...FIRST_NAMES, ...LEGAL_FORMS, ...SECTOR_WORDS.flatMap((w) => w.split(' '))].map((w) => w.toLowerCase()));

/** Runs every check on the regions detected on `page` (items: the page item each region lies on, -1 for none). */
export function coherenceChecks(page: StylePage, regions: readonly DetectedRegion[], items: readonly number[]): CoherenceResult {
  const notes: string[] = [];
  const checks: Record<string, boolean | undefined> = {};
  const country = page.spec.country;
  const of = (entity: string): DetectedRegion[] => regions.filter((r) => r.entity === entity && r.original !== undefined);
  const check = (name: string, ok: boolean, note: string): void => {
    checks[name] = (checks[name] ?? true) && ok;
    if (!ok) notes.push(`${name}: ${note}`);
  };
  // The email's local part follows the fake name (when the original was made of the name).
  const people = of('person').filter((r) => /\s/.test(r.original!.trim()));
  for (const e of of('email')) {
    const local = e.original!.split('@')[0].toLowerCase();
    const person = people.find((p) => p.original!.toLowerCase().split(/\s+/).every((t) => local.includes(t)));
    if (!person) continue;
    const fakeTokens = person.replacement.toLowerCase().split(/\s+/);
    const fakeLocal = e.replacement.split('@')[0].toLowerCase();
    check('email follows the fake name', fakeTokens.every((t) => fakeLocal.includes(t)) && fakeLocal.replace(/[._-]/g, '') === fakeTokens.join(''), `${fakeLocal} vs ${fakeTokens.join(' ')}`);
  }
  // One country: the IBAN's prefix, the phone's code, the postcode line's format and town.
  for (const r of of('iban')) {
    const compact = r.replacement.replace(/[\s-]/g, '');
    check('one country throughout', compact.startsWith(country) && isValidIBAN(compact), `IBAN ${compact.slice(0, 2)}`);
  }
  for (const r of of('phone')) {
    const m = /\+[\d ]+/.exec(r.replacement);
    if (!m) continue;
    const p = parsePhoneNumberFromString(m[0].trim());
    check('one country throughout', p?.countryCallingCode === CALLING[country], `phone +${p?.countryCallingCode}`);
  }
  for (const r of of('address')) {
    const orig = findPostcodeLine(r.original!, country);
    if (!orig) continue;
    const fake = findPostcodeLine(r.replacement, country);
    // Its format and its town: "80331 Oxford" is no German address.
    check('one country throughout', fake?.country === country && countryOfTown(fake.town) === country, `postcode line "${r.replacement}" reads as ${fake?.country}`);
  }
  // Dates: same format, same order, same days between them.
  const dates = of('date')
    .map((r) => ({ r, o: dayNumber(r.original!, country), f: dayNumber(r.replacement, country) }))
    .filter((d) => d.o !== undefined);
  for (const d of dates) check('dates keep format, order and spacing', d.f !== undefined && shape(d.r.original!) === shape(d.r.replacement), `${d.r.original} -> ${d.r.replacement}`);
  for (let i = 1; i < dates.length; i++) {
    const a = dates[i - 1];
    const b = dates[i];
    if (a.f === undefined || b.f === undefined) continue;
    check('dates keep format, order and spacing', b.f - a.f === b.o! - a.o!, `${a.r.original}..${b.r.original} became ${a.r.replacement}..${b.r.replacement}`);
  }
  // Balances: on the statement's rows, fake balance = previous fake balance + fake amount.
  if (page.spec.layout === 'statement') {
    const rows = new Map<number, { amount?: DetectedRegion; balance?: DetectedRegion }>();
    regions.forEach((r, k) => {
      const i = items[k];
      if (r.entity !== 'money' || i < 0) return;
      const it = page.items[i];
      const row = rows.get(it.baseline) ?? {};
      if (it.x > 1000) row.balance = r;
      else row.amount = r;
      rows.set(it.baseline, row);
    });
    const list = [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1].balance;
      const { amount, balance } = list[i];
      if (!prev || !amount || !balance) continue;
      const v = (s: string): number => parseAmount(s)?.value ?? NaN;
      check('running balances add up', Math.abs(v(prev.replacement) + v(amount.replacement) - v(balance.replacement)) < 0.005, `${prev.replacement} + ${amount.replacement} != ${balance.replacement}`);
    }
  }
  // Cards: network (first digit), length, grouping, Luhn.
  for (const r of of('card')) {
    const d = r.replacement.replace(/\D/g, '');
    check('card keeps network, length and Luhn', shape(r.replacement) === shape(r.original!) && d[0] === r.original!.replace(/\D/g, '')[0] && luhnValid(d), r.replacement);
  }
  // Organisation names: words, not letter soup.
  for (const r of of('organization')) {
    const words = r.replacement.match(/\p{L}{3,}/gu) ?? [];
    check('organisation names are words', words.every((w) => WORDS.has(w.toLowerCase())), r.replacement);
  }
  return { checks, notes };
}
