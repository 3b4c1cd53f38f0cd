import { isValidIBAN } from 'ibantools';
import { detectPii, findEntities } from '../../src/detect/detect';
import { parseDetectionPolicy } from '../../src/detect/policy';
import { Replacer } from '../../src/detect/fakes/replacer';
import { spanToSegments } from '../../src/detect/spans';
import { buildPageText } from '../../src/detect/text';
import type { Box, OcrPage } from '../../src/detect/types';
import { assertNoOriginals, verifyNoOriginals } from '../../src/detect/verify';
import { columnView } from '../../src/detect/columns';

/** A page laid out on a grid: 10 px per character, 40 px per line, words separated by a 10 px gap. */
function page(text: string, conf = 0.95): OcrPage {
  const lines = text.split('\n').map((l, li) => {
    let x = 50;
    const words = l.split(' ').filter(Boolean).map((w) => {
      const box: [number, number, number, number] = [x, 100 + li * 40, x + w.length * 10, 100 + li * 40 + 24];
      x += w.length * 10 + 10;
      return { text: w, box, confidence: conf };
    });
    return { words, box: [50, 100 + li * 40, x - 10, 124 + li * 40] as [number, number, number, number], confidence: conf };
  });
  return { width: 1000, height: 1400, lines, engine: 'test' };
}

describe('page text and span mapping', () => {
  const p = page('IBAN: GB82 WEST 1234\nName: John Smith\nTotal due');
  const pt = buildPageText(p);
  it('joins words by one space and lines by a newline, with word offsets', () => {
    expect(pt.text).toBe('IBAN: GB82 WEST 1234\nName: John Smith\nTotal due');
    expect(pt.words[1]).toEqual({ line: 0, word: 1, start: 6, end: 10 });
  });
  it('maps a span over several words to the union of their boxes', () => {
    const s = spanToSegments(pt, 6, 20);
    expect(s).toHaveLength(1);
    expect(s[0].box).toEqual([110, 100, 250, 124]);
  });
  it('splits a span over two lines into one box per line', () => {
    const s = spanToSegments(pt, pt.text.indexOf('1234'), pt.text.indexOf('Smith') + 5);
    expect(s.map((x) => x.box)).toEqual([
      [210, 100, 250, 124],
      [50, 140, 210, 164],
    ]);
  });
  it('takes whole words for a span inside a word, and nothing for whitespace', () => {
    expect(spanToSegments(pt, 8, 9)[0].box).toEqual([110, 100, 150, 124]);
    expect(spanToSegments(pt, 5, 6)).toEqual([]);
  });
});

const STATEMENT = [
  'ACME Bank plc',
  'Mr John Smith',
  '12 High Street',
  'London SW1A 1AA',
  'Statement date: 12 March 2024',
  'IBAN: GB82 WEST 1234 5698 7654 32 BIC: NWBKGB2L',
  'Sort code 12-34-56 Account number 12345678',
  'Email: john.smith@example.com Phone: +44 20 7946 0958',
  'Card 4111 1111 1111 1111 Amount: £1,234.56',
  // Failing checks without a label are not values (after an IBAN or card label they would be: a misread).
  'Invalid: GB83 WEST 1234 5698 7654 32 and 4111 1111 1111 1112',
].join('\n');

describe('detectPii', () => {
  const p = page(STATEMENT);
  const regions = detectPii(p, {}, { includeOriginal: true, secret: 'a-test-secret-of-32-characters!!' });
  const byEntity = (e: string) => regions.filter((r) => r.entity === e);

  it('finds each entity of a statement, and nothing invalid', () => {
    const entities = new Set(regions.map((r) => r.entity));
    for (const e of ['person', 'address', 'date', 'iban', 'bic', 'sort_code', 'account_number', 'email', 'phone', 'card', 'money']) {
      expect(entities).toContain(e);
    }
    expect(regions.some((r) => r.original?.includes('GB83'))).toBe(false);
    expect(regions.some((r) => r.original?.includes('1112'))).toBe(false);
  });

  it('gives the IBAN one box over its words and a valid replacement', () => {
    const [iban] = byEntity('iban');
    expect(iban.original).toBe('GB82 WEST 1234 5698 7654 32');
    expect(iban.box).toEqual([110, 300, 380, 324]);
    expect(isValidIBAN(iban.replacement.replace(/ /g, ''))).toBe(true);
    expect(iban.replacement).not.toBe(iban.original);
  });

  it('splits the two-line address into two regions of one group', () => {
    const addr = byEntity('address');
    expect(addr.map((r) => r.original)).toEqual(['12 High Street', 'London SW1A 1AA']);
    expect(addr[0].group).toBe(addr[1].group);
    expect(addr[0].box[1]).toBe(180);
    expect(addr[1].box[1]).toBe(220);
    expect(addr[0].replacement).toMatch(/^\d\d [A-Z][a-z]+ Street$/);
  });

  it('keeps the title out of the name and the label out of values', () => {
    expect(byEntity('person').map((r) => r.original)).toEqual(['John Smith']);
    expect(byEntity('email')[0].original).toBe('john.smith@example.com');
  });

  it('withholds originals unless asked', () => {
    const plain = detectPii(p);
    expect(plain.length).toBe(regions.length);
    expect(plain.every((r) => r.original === undefined)).toBe(true);
  });

  it('keeps a glued label in the replacement when the value is part of a word', () => {
    const q = page('IBAN:GB82WEST12345698765432');
    const [r] = detectPii(q, {}, { includeOriginal: true });
    expect(r.original).toBe('IBAN:GB82WEST12345698765432');
    expect(r.replacement.startsWith('IBAN:GB')).toBe(true);
    expect(isValidIBAN(r.replacement.slice(5))).toBe(true);
  });

  it('uses one Replacer for consistent values across pages', () => {
    const replacer = new Replacer();
    const a = detectPii(page('Name: John Smith'), {}, { replacer });
    const b = detectPii(page('Dear John Smith,'), {}, { replacer });
    expect(a[0].replacement.replace('Name: ', '')).toBe(b[0].replacement.replace(/,$/, ''));
  });

  it('weights the confidence by OCR confidence and drops regions below the minimum', () => {
    const low = page('Email: john.smith@example.com', 0.1);
    const r = detectPii(low, { minConfidence: 0 });
    expect(r[0].confidence).toBeCloseTo(0.97 * 0.55, 2);
    expect(detectPii(low, { minConfidence: 0.6 })).toEqual([]);
  });
});

describe('fail closed', () => {
  it('refuses OCR results without text on a page with ink, or with too much unread ink', () => {
    expect(() => detectPii({ width: 10, height: 10, lines: [], engine: 'x', inkRatio: 0.2 })).toThrow(expect.objectContaining({ code: 'ERR_OCR_NO_TEXT' }));
    expect(detectPii({ width: 10, height: 10, lines: [], engine: 'x', inkRatio: 0 })).toEqual([]);
    const p = { ...page('Email: a.b@example.com'), inkCoverage: 0.4 };
    expect(detectPii(p)).toHaveLength(1);
    expect(() => detectPii(p, { minInkCoverage: 0.8 })).toThrow(expect.objectContaining({ code: 'ERR_OCR_NO_TEXT' }));
    expect(() => detectPii({} as OcrPage)).toThrow(expect.objectContaining({ code: 'ERR_OCR_INPUT' }));
  });
});

describe('policy', () => {
  it('replaces only the listed entity types and skips the skipped ones', () => {
    const p = page(STATEMENT);
    const only = detectPii(p, { entities: ['iban', 'email'] });
    expect(new Set(only.map((r) => r.entity))).toEqual(new Set(['iban', 'email']));
    const skip = detectPii(p, { skipEntities: ['money', 'date'] });
    expect(skip.some((r) => r.entity === 'money' || r.entity === 'date')).toBe(false);
  });
  it('keeps kept values and patterns', () => {
    const text = 'Customer: Mary Jones\nContact: Olivia Hartley\nBIC: NWBKGB2L\n1 Bank Street\nLondon E14 5AB';
    const pt = buildPageText(page(text));
    const all = findEntities(pt, {}).map((e) => e.text);
    expect(all).toEqual(expect.arrayContaining(['Mary Jones', 'Olivia Hartley', 'NWBKGB2L', '1 Bank Street\nLondon E14 5AB']));
    const kept = findEntities(pt, { keep: { values: ['olivia  HARTLEY', '1 Bank Street London E14 5AB'], patterns: ['NWBK.*'] } }).map((e) => e.text);
    expect(kept).toEqual(['Mary Jones']);
  });
  it('applies custom rules with their own entity type', () => {
    const policy = { customRules: [{ name: 'member', entity: 'member_id', pattern: 'MBR-\\d{6}', keepPrefix: 4 }] };
    const r = detectPii(page('Member MBR-123456'), policy, { includeOriginal: true });
    expect(r).toHaveLength(1);
    expect(r[0].entity).toBe('member_id');
    expect(r[0].replacement).toMatch(/^MBR-\d{6}$/);
    expect(r[0].replacement).not.toBe('MBR-123456');
  });
  it('rejects unknown keys, unknown entities, bad regexes and empty-matching patterns', () => {
    expect(() => parseDetectionPolicy({ entites: ['iban'] })).toThrow(/entites: unknown key/);
    expect(() => parseDetectionPolicy({ entities: ['passport'] })).toThrow(/unknown entity "passport"/);
    expect(() => parseDetectionPolicy({ customRules: [{ name: 'x', entity: 'x', pattern: '(' }] })).toThrow(/not a valid JavaScript regular expression/);
    expect(() => parseDetectionPolicy({ customRules: [{ name: 'x', entity: 'x', pattern: 'a*' }] })).toThrow(/matches the empty string/);
    expect(() => parseDetectionPolicy({ minConfidence: 2 })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(parseDetectionPolicy({ entities: ['member'], customRules: [{ name: 'm', entity: 'member', pattern: 'M\\d+' }] }).entities).toEqual(['member']);
  });
});

describe('verifyNoOriginals', () => {
  const targets = [
    { box: [110, 100, 380, 124] as [number, number, number, number], original: 'GB82 WEST 1234 5698 7654 32', entity: 'iban' },
    { box: [110, 140, 300, 164] as [number, number, number, number], original: 'john.smith@example.com', entity: 'email' },
  ];
  it('passes when the boxes read other text', () => {
    const out = page('IBAN: GB47 ABCD 9876 5432 1098 76\nEmail: mark.jones@sample.org');
    expect(verifyNoOriginals(out, targets)).toEqual({ ok: true, checked: 2, skipped: 0, leaks: [] });
    expect(verifyNoOriginals(out, [{ box: [110, 140, 300, 164], original: '$5' }])).toEqual({ ok: true, checked: 0, skipped: 1, leaks: [] });
  });
  it('flags an original still readable, ignoring case, spacing and separators', () => {
    const out = page('IBAN: gb82west 1234-5698 765432\nEmail: mark.jones@sample.org');
    const r = verifyNoOriginals(out, targets);
    expect(r.ok).toBe(false);
    expect(r.leaks).toEqual([{ index: 0, box: targets[0].box, entity: 'iban' }]);
    expect(() => assertNoOriginals(out, targets)).toThrow(expect.objectContaining({ code: 'ERR_VERIFY' }));
  });
  it('looks only near the box unless asked for the whole page', () => {
    const out = page('nothing here\nnothing here\nnothing here\nnothing here\nnothing here\nEmail: john.smith@example.com');
    expect(verifyNoOriginals(out, targets).ok).toBe(true);
    expect(verifyNoOriginals(out, targets, { wholePage: true }).leaks.map((l) => l.index)).toEqual([1]);
  });
});

describe('detection policy bounds', () => {
  it('phoneRegions is deduplicated and bounded (each region is one more parse of every phone-like text)', () => {
    expect(parseDetectionPolicy({ phoneRegions: ['US', 'US', 'GB', 'US'] }).phoneRegions).toEqual(['US', 'GB']);
    // A request used to hold the server's event loop for 30 s with 150,000 copies of "US".
    expect(() => parseDetectionPolicy({ phoneRegions: Array.from({ length: 65 }, () => 'US') })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });
});

describe('joined columns', () => {
  // Two columns of fields that OCR read as one line each: labels above their values in each column.
  const line = (y: number, parts: Array<[number, string]>) => ({
    box: [0, y, 1200, y + 20] as Box,
    confidence: 0.95,
    words: parts.flatMap(([x, t]) => {
      let at = x;
      return t.split(' ').map((w) => {
        const box: Box = [at, y, at + w.length * 10, y + 20];
        at += w.length * 10 + 8;
        return { text: w, box, confidence: 0.95 };
      });
    }),
  });
  const joined = {
    width: 1300,
    height: 400,
    engine: 'test',
    lines: [
      line(100, [[100, 'Titulaire du compte:'], [660, 'IBAN:']]),
      line(130, [[100, 'Amélie Lefèvre'], [660, 'FR76 4177 9708 8026 8553 9831 455']]),
      line(160, [[100, 'Adresse:'], [660, 'Numéro de carte:']]),
      line(190, [[100, '110 place du Marché'], [660, '5111 8867 6736 2186']]),
    ],
  };

  it('the column view cuts lines at wide gaps and orders the pieces column by column', () => {
    const v = columnView(joined)!;
    expect(v.lines.map((l) => l.words.map((w) => w.text).join(' '))).toEqual([
      'Titulaire du compte:', 'Amélie Lefèvre', 'Adresse:', '110 place du Marché',
      'IBAN:', 'FR76 4177 9708 8026 8553 9831 455', 'Numéro de carte:', '5111 8867 6736 2186',
    ]);
    // A page without wide gaps has no second view.
    expect(columnView(page('Account holder: Mary Johnson\nIBAN: GB82 WEST 1234 5698 7654 32'))).toBeUndefined();
  });

  it('detection finds the values a label above them in their column names, once each', () => {
    const regions = detectPii(joined, {}, { includeOriginal: true });
    expect(regions.map((r) => [r.entity, r.original])).toEqual(
      expect.arrayContaining([
        ['person', 'Amélie Lefèvre'],
        ['address', '110 place du Marché'],
        ['iban', 'FR76 4177 9708 8026 8553 9831 455'],
        ['card', '5111 8867 6736 2186'],
      ]),
    );
    const boxes = regions.map((r) => r.box.join());
    expect(new Set(boxes).size).toBe(boxes.length);
  });
});
