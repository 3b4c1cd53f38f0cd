import { isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { abaValid, luhnValid } from '../../src/detect/checksums';
import { formatDate, parseDate } from '../../src/detect/dates';
import { Replacer } from '../../src/detect/fakes/replacer';
import {
  compactId, validAtVat, validBeVat, validDeSteuerId, validDeVat, validEsCif, validEsDni, validFrNir, validFrSiren, validFrVat, validGbVat,
  validItCf, validItVat, validNlBsn, validNlVat, validPtNif, validPtVat,
} from '../../src/detect/national';
import { isCardNumber } from '../../src/detect/recognizers/card';
import { isValidEmail } from '../../src/detect/recognizers/email';
import { isValidSsn } from '../../src/detect/recognizers/ssn';

const SECRET = 'a-test-secret-of-32-characters!!';
const shape = (s: string): string => s.replace(/\d/g, '9').replace(/[A-Z]/g, 'A').replace(/[a-z]/g, 'a');

/** Runs `check` on the fakes of many Replacers (different random keys) to cover many draws. */
function manyFakes(entity: string, original: string, n = 40): string[] {
  return Array.from({ length: n }, () => new Replacer().replace(entity, original));
}

describe('fake IBAN', () => {
  it.each(['GB82 WEST 1234 5698 7654 32', 'DE89370400440532013000', 'FR14 2004 1010 0505 0001 3M02 606', 'BE68 5390 0754 7034', 'nl91abna0417164300', 'GB82-WEST-1234-5698-7654-32'])(
    'same country, length, grouping and case; valid mod-97 and BBAN checks: %s',
    (iban) => {
      for (const f of manyFakes('iban', iban, 15)) {
        expect(f).not.toBe(iban);
        expect(shape(f)).toBe(shape(iban));
        expect(f.slice(0, 2)).toBe(iban.slice(0, 2));
        expect(isValidIBAN(f.replace(/[\s-]/g, '').toUpperCase())).toBe(true);
      }
    },
  );
});

describe('fake card', () => {
  it.each(['4111 1111 1111 1111', '3782-822463-10005', '5555555555554444', '2223 0031 2200 3222'])('Luhn-valid, same length, grouping and network: %s', (card) => {
    for (const f of manyFakes('card', card)) {
      const d = f.replace(/\D/g, '');
      expect(f).not.toBe(card);
      expect(shape(f)).toBe(shape(card));
      expect(luhnValid(d)).toBe(true);
      expect(isCardNumber(d)).toBe(true);
      expect(d.slice(0, 2)).toBe(card.slice(0, 2));
    }
  });
});

describe('fake masked card', () => {
  it('keeps the mask and changes the last four digits', () => {
    for (const f of manyFakes('card', '**** **** **** 4821')) expect(f).toMatch(/^\*{4} \*{4} \*{4} [1-9]\d{3}$/);
    for (const f of manyFakes('card', '**** **** **** 4821')) expect(f).not.toBe('**** **** **** 4821');
  });
});

describe('fake routing, SSN, BIC, account, sort code', () => {
  it('routing numbers pass the ABA checksum', () => {
    for (const f of manyFakes('routing_number', '021000021')) {
      expect(f).toMatch(/^02\d{7}$/);
      expect(abaValid(f)).toBe(true);
      expect(f).not.toBe('021000021');
    }
  });
  it('SSNs follow the rules and the layout', () => {
    for (const f of manyFakes('ssn', '536-22-1234')) {
      expect(f).toMatch(/^\d{3}-\d{2}-\d{4}$/);
      expect(isValidSsn(f.replace(/-/g, ''))).toBe(true);
    }
  });
  it('BICs keep the country and a XXX branch', () => {
    for (const f of manyFakes('bic', 'DEUTDEFFXXX')) {
      expect(f).toMatch(/^[A-Z]{4}DE[A-Z]{2}XXX$/);
      expect(f).not.toBe('DEUTDEFFXXX');
    }
  });
  it('account numbers and sort codes keep their shape and masks', () => {
    for (const f of manyFakes('account_number', 'XXXX 1234 5678')) expect(f).toMatch(/^XXXX \d{4} \d{4}$/);
    for (const f of manyFakes('sort_code', '12-34-56')) expect(f).toMatch(/^[1-9]\d-\d{2}-\d{2}$/);
  });
});

describe('fake dates', () => {
  it.each(['2024-03-12', '12.03.2024', '03/12/2024', '12 March 2024', '1st Feb 2023', 'March 12, 2024', '12-MAR-24', 'March 2024', 'Mar. 5, 2024'])(
    'same format, different valid date: %s',
    (d) => {
      for (const f of manyFakes('date', d, 20)) {
        expect(f).not.toBe(d);
        const p = parseDate(f.replace(/\.(?=\s)/, ''));
        expect(p).toBeDefined();
        // Same tokens: same separators, month-name style, padding.
        expect(f.replace(/\d+/g, '9').replace(/(st|nd|rd|th)\b/g, 'th').replace(/[A-Za-z]{3,}/g, (m) => (m === m.toUpperCase() ? 'M' : 'm'))).toBe(
          d.replace(/\d+/g, '9').replace(/(st|nd|rd|th)\b/g, 'th').replace(/[A-Za-z]{3,}/g, (m) => (m === m.toUpperCase() ? 'M' : 'm')),
        );
      }
    },
  );
  it.each(['05/2021', '5/2021', 'May-2021', '05/21', '15. März 1985', '1er janvier 2024', '15 de marzo de 2024', '3 maart 2024', 'MÄRZ 2024', 'fevrier 2024'])(
    'month-year and other languages keep format and language: %s',
    (d) => {
      const p = parseDate(d)!;
      for (const f of manyFakes('date', d, 20)) {
        expect(f).not.toBe(d);
        const q = parseDate(f)!;
        expect(q).toBeDefined();
        expect(q.day === undefined).toBe(p.day === undefined);
        // The fake is the original's format (language, spelling, case, separators) at another date.
        expect(formatDate(p.format, q.year, q.month, q.day)).toBe(f);
      }
    },
  );
  it('timestamps keep the layout and zone, with a valid time', () => {
    for (const f of manyFakes('date', '2024-03-15T14:30:00Z', 20)) expect(f).toMatch(/^20\d\d-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/);
    for (const f of manyFakes('date', '12.03.2024 09:15:02.123+01:00', 20)) expect(f).toMatch(/^\d\d\.\d\d\.20\d\d ([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}\+01:00$/);
  });
  it('the same date in two formats maps to the same fake date', () => {
    const r = new Replacer({ secret: SECRET });
    const a = parseDate(r.replace('date', '2024-03-12'))!;
    const b = parseDate(r.replace('date', '12 March 2024'))!;
    expect([a.year, a.month, a.day]).toEqual([b.year, b.month, b.day]);
  });
});

describe('fake national identifiers and VAT IDs', () => {
  it.each([
    ['national_id', '86 095 742 719', validDeSteuerId],
    ['national_id', '1 84 12 76 451 089 46', validFrNir],
    ['national_id', '443 061 841', validFrSiren],
    ['national_id', '12345678-Z', validEsDni],
    ['national_id', 'X1234567L', validEsDni],
    ['national_id', 'A58818501', validEsCif],
    ['national_id', 'RSSMRA85T10A562S', validItCf],
    ['national_id', '111222333', validNlBsn],
    ['national_id', '123 456 789', validPtNif],
    ['vat_id', 'DE136695976', validDeVat],
    ['vat_id', 'FR40303265045', validFrVat],
    ['vat_id', 'IT00743110157', validItVat],
    ['vat_id', 'NL123456782B01', validNlVat],
    ['vat_id', 'PT501964843', validPtVat],
    ['vat_id', 'BE0403170701', validBeVat],
    ['vat_id', 'ATU13585627', validAtVat],
    ['vat_id', 'GB980780684', validGbVat],
  ] as const)('%s %s: same layout, valid check digits', (entity, original, valid) => {
    for (const f of manyFakes(entity, original, 15)) {
      expect(f).not.toBe(original);
      expect(shape(f)).toBe(shape(original));
      expect(valid(compactId(f))).toBe(true);
    }
  });
  it('a value valid in several formats gets a fake valid in all of them', () => {
    // 123456782 is a valid BSN and a valid SIREN.
    expect(validNlBsn('123456782') && validFrSiren('123456782')).toBe(true);
    for (const f of manyFakes('national_id', '123456782', 10)) expect(validNlBsn(f) && validFrSiren(f)).toBe(true);
  });
});

describe('fake money', () => {
  it.each(['£1,234.56', 'EUR 99.00', '1.234,56 €', '250 USD', '$5', '(12,000.10)', '-€0.99'])('same currency, format and magnitude: %s', (m) => {
    for (const f of manyFakes('money', m, 20)) {
      expect(f).not.toBe(m);
      expect(shape(f)).toBe(shape(m));
      const lead = (s: string): string => s.replace(/[^\d]/g, '')[0];
      if (lead(m) !== '0') expect(lead(f)).not.toBe('0');
    }
  });
});

describe('fake phone, email, person, address', () => {
  it('phones keep the format and country and stay valid', () => {
    for (const f of manyFakes('phone', '+44 20 7946 0958')) {
      expect(f).toMatch(/^\+44 2\d \d{4} \d{4}$/);
      expect(parsePhoneNumberFromString(f)?.isValid()).toBe(true);
    }
    for (const f of manyFakes('phone', '(212) 555-0123')) expect(f).toMatch(/^\(2\d\d\) \d{3}-\d{4}$/);
  });
  it('phones of other countries, with "00" or a bare country code, keep it and stay valid', () => {
    for (const f of manyFakes('phone', '030 1234567')) {
      expect(f).toMatch(/^03\d \d{7}$/);
      expect(parsePhoneNumberFromString(f, 'DE')?.isValid()).toBe(true);
    }
    for (const f of manyFakes('phone', '91-415-555-0132')) {
      expect(f).toMatch(/^91-4\d\d-\d{3}-\d{4}$/);
      expect(parsePhoneNumberFromString(`+${f.replace(/\D/g, '')}`)?.isValid()).toBe(true);
    }
    for (const f of manyFakes('phone', '0049 30 1234567')) {
      expect(f).toMatch(/^0049 3\d \d{7}$/);
      expect(parsePhoneNumberFromString(`+${f.replace(/\D/g, '').slice(2)}`)?.isValid()).toBe(true);
    }
  });
  it('emails keep the structure, the TLD and public providers', () => {
    for (const f of manyFakes('email', 'john.smith@example.co.uk')) {
      expect(isValidEmail(f)).toBe(true);
      expect(f).toMatch(/^[a-z]+\.[a-z]+@[a-z]+\.[a-z]+\.uk$/);
      expect(f).not.toBe('john.smith@example.co.uk');
    }
    for (const f of manyFakes('email', 'Mary.Jones77@gmail.com')) expect(f).toMatch(/^[A-Z][a-z]+\.[A-Z][a-z]+\d\d@gmail\.com$/);
  });
  it('obfuscated and punycode emails keep their separators and prefixes', () => {
    for (const f of manyFakes('email', 'tal197 at users.sf.net')) expect(f).toMatch(/^[a-z]+\d{3} at [a-z]+\.[a-z]+\.net$/);
    for (const f of manyFakes('email', 'name at domain dot org')) expect(f).toMatch(/^[a-z]+ at [a-z]+ dot org$/);
    for (const f of manyFakes('email', 'name [at] domain.org')) expect(f).toMatch(/^[a-z]+ \[at\] [a-z]+\.org$/);
    for (const f of manyFakes('email', 'info@xn--mnchen-3ya.de')) expect(f).toMatch(/^[a-z]+@xn--[a-z]+-\d[a-z]{2}\.de$/);
    for (const f of manyFakes('email', 'jürgen@bücher.de')) {
      expect(f).toMatch(/^[a-z]+@[a-z]+\.de$/);
    }
    const r = new Replacer({ secret: SECRET });
    // One address, plain or obfuscated: the same underlying fake.
    expect(r.replace('email', 'name at domain dot org').replace(/ at /, '@').replace(/ dot /, '.')).toBe(r.replace('email', 'name@domain.org'));
  });
  it('names keep titles, case, initials and similar length', () => {
    for (const f of manyFakes('person', 'Mr J. SMITH')) expect(f).toMatch(/^Mr [A-Z]\. [A-Z]{3,7}$/);
    for (const f of manyFakes('person', 'Mary Johnson')) {
      const [a, b] = f.split(' ');
      expect(Math.abs(a.length - 4)).toBeLessThanOrEqual(2);
      expect(Math.abs(b.length - 7)).toBeLessThanOrEqual(2);
      expect(f).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    }
  });
  it('addresses of other countries keep street words, compounds and postcode shapes', () => {
    // The postcode line becomes a Dutch town with a Dutch postcode ("Den Haag" has two words).
    for (const f of manyFakes('address', 'Kalverstraat 92\n1012 PH Amsterdam')) expect(f).toMatch(/^[A-Z][a-z]+straat [1-9]\d\n[1-9]\d{3} [A-Z]{2} [A-Z][a-z]+(?: [A-Z][a-z]+)?$/);
    // A French town with a postcode of its département.
    for (const f of manyFakes('address', '12 rue de la Paix\n75002 Paris Cedex 02')) expect(f).toMatch(/^[1-9]\d rue de la [A-Z][a-z]+\n\d{5} [A-Z][a-z]+ Cedex \d\d$/);
    for (const f of manyFakes('address', 'Rua da Prata, 80\n1100-420 Lisboa')) expect(f).toMatch(/^Rua da [A-Z][a-z]+, [1-9]\d\n[1-9]\d{3}-\d{3} [A-Z][a-z]+$/);
  });
  it('addresses keep numbers, street types, line breaks and postcode shape', () => {
    for (const f of manyFakes('address', '12 High Street\nLondon SW1A 1AA')) {
      // A British town with a postcode of its area (UK postcode formats: A9, A99, AA9, AA99, A9A, AA9A).
      expect(f).toMatch(/^[1-9]\d [A-Z][a-z]+ Street\n[A-Z][a-z]+ [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/);
      expect(f).not.toBe('12 High Street\nLondon SW1A 1AA');
    }
  });
});

describe('consistency', () => {
  it('the same value maps to the same fake within a Replacer, across formats for codes', () => {
    const r = new Replacer();
    const a = r.replace('iban', 'GB82 WEST 1234 5698 7654 32');
    expect(r.replace('iban', 'GB82 WEST 1234 5698 7654 32')).toBe(a);
    expect(r.replace('iban', 'GB82WEST12345698765432')).toBe(a.replace(/ /g, ''));
    expect(r.replace('person', 'JOHN SMITH')).toBe(r.replace('person', 'John Smith').toUpperCase());
  });
  it('with a secret, across Replacers (documents); without one, not', () => {
    const a = new Replacer({ secret: SECRET });
    const b = new Replacer({ secret: SECRET });
    const c = new Replacer({ secret: SECRET.replace('a', 'b') });
    const values: [string, string][] = [['iban', 'DE89370400440532013000'], ['person', 'Mary Johnson'], ['card', '4111111111111111'], ['email', 'a.b@example.com'], ['money', '£1,234.56']];
    for (const [e, v] of values) expect(b.replace(e, v)).toBe(a.replace(e, v));
    expect(values.filter(([e, v]) => c.replace(e, v) === a.replace(e, v)).length).toBeLessThan(2);
    const unkeyed = values.filter(([e, v]) => new Replacer().replace(e, v) === new Replacer().replace(e, v)).length;
    expect(unkeyed).toBeLessThan(2);
  });
  it('two different originals do not share a fake', () => {
    const r = new Replacer({ secret: SECRET });
    const fakes = new Set<string>();
    for (let i = 0; i < 200; i++) fakes.add(r.replace('sort_code', `1${String(i).padStart(2, '0')}`));
    expect(fakes.size).toBe(200);
  });
  it('rejects short secrets and values without letters or digits', () => {
    expect(() => new Replacer({ secret: 'short' })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(() => new Replacer().replace('person', '---')).toThrow(expect.objectContaining({ code: 'ERR_INPUT' }));
  });
});
