/**
 * The leak forms issue 19 lists, printed on a page and run through the whole pipeline (OCR,
 * detection, replacement, verification): none of them may be readable on the output by an
 * independent reading, and every one must have been replaced (not merely missed by both readings).
 */
import { Anonymizer } from '../../src/inference/anonymizer';
import { IndependentOcr, readableIn } from '../helpers/independent-ocr';
import { renderLines } from '../helpers/render-text';

jest.setTimeout(120_000);

const LINES = [
  'Cards on file: 4111111111111111 5555555555554444',
  'Dear Ms. April Jones, your adviser Mr. June Carter',
  'Card expiry: 05/21. Valid until 05/2021.',
  'IBAN: GB82-WEST-1234-5698-7654-32',
  'Logged at 2024-03-15T14:30:00Z by the system',
  'Email: info@xn--mller-kva.de',
  'Call 91-415-555-0132 or Telefon: 030 1234567',
  'Contact: tal197 at users.sf.net',
  'This is version 0.21 of the form.',
];

/** The values that must not stay readable, as printed. */
const VALUES = [
  '4111111111111111',
  '5555555555554444',
  'April Jones',
  'June Carter',
  '05/2021',
  'GB82-WEST-1234-5698-7654-32',
  '2024-03-15T14:30:00Z',
  'info@xn--mller-kva.de',
  '91-415-555-0132',
  '030 1234567',
  'tal197 at users.sf.net',
];

describe('the listed leak forms on a page', () => {
  it('are all replaced, none readable afterwards, and the version number is left alone', async () => {
    const page = renderLines(LINES, { width: 1400, height: 640, size: 30, lineHeight: 64 });
    const anonymizer = await Anonymizer.create({});
    const independent = await IndependentOcr.create();
    try {
      const before = await independent.read(page.png, 0);
      // The independent reading reads them on the input: not reading them later means something.
      expect(VALUES.filter((v) => !before.some((r) => readableIn(r.text, v)))).toEqual([]);
      const r = await anonymizer.anonymize(page.png, { includeOriginal: true });
      expect(r.verified).toBe(true);
      const originals = r.detections!.map((d) => d.original ?? '').join('\n');
      for (const v of VALUES) expect([v, readableIn(originals, v)]).toEqual([v, true]);
      const after = await independent.read(r.image, 0);
      expect(VALUES.filter((v) => after.some((x) => readableIn(x.text, v)))).toEqual([]);
      expect(after.some((x) => readableIn(x.text, 'version 0.21'))).toBe(true);
    } finally {
      await independent.close();
      await anonymizer.close();
    }
  });
});
