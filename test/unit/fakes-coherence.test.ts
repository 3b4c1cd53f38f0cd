/**
 * Fakes that agree with each other and the page (issue 20): one persona, one country, one date
 * shift, balances that add up, organisation names of words; each rule a policy option.
 */
import { isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { detectPii } from '../../src/detect/detect';
import { parseDate } from '../../src/detect/dates';
import { balanceFakes, formatAmount, parseAmount } from '../../src/detect/fakes/balances';
import { dayFirstOf } from '../../src/detect/fakes/date';
import { findPostcodeLine } from '../../src/detect/fakes/places';
import { Replacer } from '../../src/detect/fakes/replacer';
import { parseDetectionPolicy } from '../../src/detect/policy';
import type { OcrPage } from '../../src/detect/types';
import { LAST_NAMES, PLACE_WORDS } from '../../src/detect/wordlists';

/** A page of text lines with made-up word boxes (what an OCR reading gives). */
function page(lines: string[]): OcrPage {
  return {
    width: 2000,
    height: 60 * lines.length + 60,
    engine: 'test',
    lines: lines.map((l, i) => {
      let x = 10;
      const words = l.split(' ').map((t) => {
        const box: [number, number, number, number] = [x, 10 + i * 60, x + 14 * t.length, 40 + i * 60];
        x += 14 * t.length + 14;
        return { text: t, box, confidence: 0.95 };
      });
      return { words, box: [10, 10 + i * 60, x, 40 + i * 60] as [number, number, number, number], confidence: 0.95 };
    }),
  };
}

const day = (s: string, dayFirst = true): number => {
  const p = parseDate(s)!;
  let { month, day: d } = p;
  const m = /^(\d{1,2})\/(\d{1,2})\//.exec(s);
  if (m && dayFirst) [d, month] = [Number(m[1]), Number(m[2])];
  return Date.UTC(p.year, month - 1, d!) / 86400000;
};

const GERMAN = [
  'Kontoinhaber: Margaret Whitfield',
  'Lindenstraße 12',
  '80331 München',
  'IBAN: DE89 3704 0044 0532 0130 00',
  'Telefon: +49 30 12345678',
  'E-Mail: margaret.whitfield@postfach.de',
  'Datum Beschreibung Betrag Saldo',
  '02.03.2026 Miete -850,00 4.150,00',
  '05.03.2026 Gehalt 2.400,00 6.550,00',
  '09.03.2026 Strom -64,20 6.485,80',
  '14.03.2026 Bäcker -12,35 6.473,45',
];

function fakesOf(lines: string[], policy = {}, secret = 'coherence-test-secret-0001'): Map<string, string> {
  const regions = detectPii(page(lines), policy, { replacer: new Replacer({ secret, fakes: parseDetectionPolicy(policy).fakes }), includeOriginal: true });
  // A region covers whole words: "Dear Margaret," holds "Margaret," (keyed without the punctuation).
  return new Map(regions.map((r) => [r.original!.replace(/[,;:]$/, ''), r.replacement.replace(/[,;:]$/, '')]));
}

describe('one persona per document', () => {
  it('an email made of the name follows the fake name, with or without the name detected first', () => {
    const f = fakesOf(GERMAN);
    const name = f.get('Margaret Whitfield')!;
    expect(name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    const [given, family] = name.toLowerCase().split(' ');
    expect(f.get('margaret.whitfield@postfach.de')!.split('@')[0]).toBe(`${given}.${family}`);
    // "f.last" and a greeting by the first name follow the same person.
    const g = fakesOf(['Account holder: Margaret Whitfield', 'Email: m.whitfield@example.org', 'Dear Margaret,']);
    const [g1, f1] = g.get('Margaret Whitfield')!.toLowerCase().split(' ');
    expect(g.get('m.whitfield@example.org')!.split('@')[0]).toBe(`${g1[0]}.${f1}`);
    expect(g.get('Margaret')?.toLowerCase()).toBe(g1);
  });

  it('holds across documents with one secret, and is off with persona: false', () => {
    const a = fakesOf(GERMAN);
    const b = fakesOf(['Dear Margaret Whitfield,', 'Your email margaret.whitfield@postfach.de was changed.']);
    expect(b.get('Margaret Whitfield')).toBe(a.get('Margaret Whitfield'));
    expect(b.get('margaret.whitfield@postfach.de')?.split('@')[0]).toBe(a.get('margaret.whitfield@postfach.de')?.split('@')[0]);
    let independent = 0;
    for (const s of ['persona-test-secret-0001', 'persona-test-secret-0002', 'persona-test-secret-0003']) {
      const off = fakesOf(GERMAN, { fakes: { persona: false } }, s);
      if (off.get('margaret.whitfield@postfach.de')!.split('@')[0] !== off.get('Margaret Whitfield')!.toLowerCase().replace(' ', '.')) independent++;
    }
    expect(independent).toBeGreaterThan(0);
  });
});

describe('one country', () => {
  it("keeps the page's country: a German postcode line becomes a German town with a German postcode", () => {
    for (const secret of ['country-secret-000001', 'country-secret-000002', 'country-secret-000003']) {
      const f = fakesOf(GERMAN, {}, secret);
      expect(findPostcodeLine(f.get('80331 München')!, 'DE')?.country).toBe('DE');
      expect(f.get('DE89 3704 0044 0532 0130 00')!.startsWith('DE')).toBe(true);
      expect(f.get('+49 30 12345678')!.startsWith('+49')).toBe(true);
    }
    // A British and an American line stay British and American.
    const gb = fakesOf(['Account holder: John Smith', '12 High Street', 'Leeds LS1 4AP', 'Phone: +44 20 7946 0123']);
    expect(findPostcodeLine(gb.get('Leeds LS1 4AP')!)?.country).toBe('GB');
    const us = fakesOf(['Customer: John Smith', '142 Elm Street', 'Dayton, OH 45402']);
    expect(us.get('Dayton, OH 45402')).toMatch(/^[A-Z][a-z]+, [A-Z]{2} \d{5}$/);
  });

  it('moves every value to the country the policy names', () => {
    const f = fakesOf(GERMAN, { fakes: { country: 'FR' } });
    const iban = f.get('DE89 3704 0044 0532 0130 00')!;
    expect(iban.slice(0, 2)).toBe('FR');
    expect(isValidIBAN(iban.replace(/ /g, ''))).toBe(true);
    expect(iban).toMatch(/^(?:[A-Z0-9]{4} )+[A-Z0-9]{1,4}$/);
    const phone = parsePhoneNumberFromString(f.get('+49 30 12345678')!);
    expect(phone?.country).toBe('FR');
    expect(phone?.isValid()).toBe(true);
    expect(findPostcodeLine(f.get('80331 München')!, 'FR')?.country).toBe('FR');
  });

  it('refuses a country that is not an ISO code, and unknown fakes options', () => {
    expect(() => parseDetectionPolicy({ fakes: { country: 'Germany' } })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(() => parseDetectionPolicy({ fakes: { persona: true, sameCountry: true } })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });
});

describe('dates', () => {
  it('move by one offset of whole weeks: order, spacing, weekdays and format kept', () => {
    const f = fakesOf(GERMAN);
    const orig = ['02.03.2026', '05.03.2026', '09.03.2026', '14.03.2026'];
    const fake = orig.map((d) => f.get(d)!);
    for (const d of fake) expect(d).toMatch(/^\d\d\.\d\d\.\d{4}$/);
    const shift = day(fake[0]) - day(orig[0]);
    expect(Math.abs(shift % 7)).toBe(0);
    expect(shift).not.toBe(0);
    orig.forEach((d, i) => expect(day(fake[i]) - day(d)).toBe(shift));
    // Per value, as before: the shifts differ.
    const per = fakesOf(GERMAN, { fakes: { dateShift: 'per-value' } });
    expect(new Set(orig.map((d) => day(per.get(d)!) - day(d))).size).toBeGreaterThan(1);
  });

  it('keep a day-first page day first ("05/03/2026" stays 5 March beside "14/03/2026")', () => {
    expect(dayFirstOf(['05/03/2026', '14/03/2026'])).toBe(true);
    expect(dayFirstOf(['05/03/2026', '03/14/2026'])).toBe(false);
    expect(dayFirstOf(['05/03/2026'], 'GB')).toBe(true);
    expect(dayFirstOf(['05/03/2026'], 'US')).toBe(false);
    expect(dayFirstOf(['05/03/2026'])).toBeUndefined();
    const lines = ['Statement for Margaret Whitfield', 'Date Description Amount', '05/03/2026 Rent -850.00', '14/03/2026 Salary 2,400.00'];
    const f = fakesOf(lines);
    const shift = day(f.get('05/03/2026')!) - day('05/03/2026');
    expect(day(f.get('14/03/2026')!) - day('14/03/2026')).toBe(shift);
    expect(Math.abs(shift % 7)).toBe(0);
    // Fixed month first: the same shift, applied to 3 May.
    const mdy = fakesOf(lines, { fakes: { dateOrder: 'month-first' } }).get('05/03/2026')!;
    expect(day(mdy, false) - day('05/03/2026', false)).toBe(shift);
    expect(mdy).not.toBe(f.get('05/03/2026'));
  });

  it('coherent: false gives every value its own fake, as before', () => {
    const off = fakesOf(GERMAN, { fakes: { coherent: false } });
    const orig = ['02.03.2026', '05.03.2026', '09.03.2026', '14.03.2026'];
    expect(new Set(orig.map((d) => day(off.get(d)!) - day(d))).size).toBeGreaterThan(1);
    const [given, family] = off.get('Margaret Whitfield')!.toLowerCase().split(' ');
    expect(off.get('margaret.whitfield@postfach.de')!.startsWith(`${given}.${family}@`)).toBe(false);
  });
});

describe('amounts and balances', () => {
  it('reads and writes amounts in their own format', () => {
    for (const s of ['-1,234.56', '1.234,56 €', '(45.00)', '£12.50', '120.00-', '1 234,50']) {
      const p = parseAmount(s)!;
      expect(formatAmount(p.value, p.format)).toBe(s);
    }
    expect(parseAmount('-1.234,56')!.value).toBeCloseTo(-1234.56, 5);
    expect(formatAmount(-5, parseAmount('1,000.00')!.format)).toBe('-5.00');
  });

  it('a running balance column still adds up after the amounts change', () => {
    const f = fakesOf(GERMAN);
    const rows = [['-850,00', '4.150,00'], ['2.400,00', '6.550,00'], ['-64,20', '6.485,80'], ['-12,35', '6.473,45']];
    for (let i = 1; i < rows.length; i++) {
      const prev = parseAmount(f.get(rows[i - 1][1])!)!.value;
      const amount = parseAmount(f.get(rows[i][0])!)!.value;
      expect(parseAmount(f.get(rows[i][1])!)!.value).toBeCloseTo(prev + amount, 2);
      expect(f.get(rows[i][1])).toMatch(/^-?\d{1,3}(?:\.\d{3})*,\d\d$/);
    }
    // Newest first works too; fewer than three rows is no column; the policy can turn it off.
    const cells = [
      { id: 0, line: 0, text: '-12.35' }, { id: 1, line: 0, text: '6,473.45' },
      { id: 2, line: 1, text: '-64.20' }, { id: 3, line: 1, text: '6,485.80' },
      { id: 4, line: 2, text: '2,400.00' }, { id: 5, line: 2, text: '6,550.00' },
    ];
    const fake = (t: string): string => (t.startsWith('-') ? '-100.00' : '1,000.00');
    const out = balanceFakes(cells, fake);
    expect(parseAmount(out.get(1)!)!.value).toBeCloseTo(parseAmount(out.get(3)!)!.value - 100, 2);
    expect(balanceFakes(cells.slice(0, 4), fake).size).toBe(0);
    const off = fakesOf(GERMAN, { fakes: { balances: false } });
    const sums = [1, 2, 3].filter((i) => Math.abs(parseAmount(off.get(rows[i - 1][1])!)!.value + parseAmount(off.get(rows[i][0])!)!.value - parseAmount(off.get(rows[i][1])!)!.value) < 0.005);
    expect(sums.length).toBeLessThan(3);
  });
});

describe('cards and organisations', () => {
  it('a card keeps its network, length and grouping and passes Luhn', () => {
    const f = fakesOf(['Card number: 4111 1111 1111 1111', 'Card: 5500 0000 0000 0004']);
    for (const [o, n] of [['4111 1111 1111 1111', '4'], ['5500 0000 0000 0004', '5']]) {
      const c = f.get(o)!;
      expect(c).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      expect(c[0]).toBe(n);
    }
  });

  it('an organisation becomes a name made of words, its legal form kept ("Union Bank GmbH" was letter soup)', () => {
    const words = new Set([...LAST_NAMES, ...PLACE_WORDS].map((w) => w.toLowerCase()));
    for (const secret of ['org-secret-0000000001', 'org-secret-0000000002', 'org-secret-0000000003']) {
      const f = fakesOf(['Statement from Union Bank GmbH', 'Credit Union Bank'], {}, secret);
      const fake = f.get('Union Bank GmbH')!;
      expect(fake).toMatch(/^[A-Z][a-z]+ Bank GmbH$/);
      expect(words.has(fake.split(' ')[0].toLowerCase())).toBe(true);
    }
  });
});
