import {
  AccountNumberRecognizer, AddressRecognizer, BicRecognizer, CardRecognizer, CustomRecognizer, DateRecognizer,
  EmailRecognizer, IbanRecognizer, IdNumberRecognizer, MoneyRecognizer, NationalIdRecognizer, PersonRecognizer, PhoneRecognizer, RoutingNumberRecognizer,
  SortCodeRecognizer, SsnRecognizer, type Recognizer,
} from '../../src/detect/recognizers';
import { parseDate, formatDate } from '../../src/detect/dates';
import { abaValid, luhnValid, ibanCheckDigits, mod97 } from '../../src/detect/checksums';

import { countryHints } from '../../src/detect/country';
import { resolveOverlaps } from '../../src/detect/resolve';

// What the pipeline keeps of one recognizer's matches: overlaps resolved, in text order.
const found = (r: Recognizer, text: string): string[] => resolveOverlaps(r.find(text)).map((m) => text.slice(m.start, m.end));

describe('checksums', () => {
  it('Luhn, ABA and mod-97', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(abaValid('021000021')).toBe(true);
    expect(abaValid('021000022')).toBe(false);
    expect(abaValid('991000021')).toBe(false); // prefix 99 is not a Federal Reserve range
    expect(mod97('WEST12345698765432GB82')).toBe(1);
    expect(ibanCheckDigits('GB', 'WEST12345698765432')).toBe('82');
  });
});

describe('email', () => {
  const r = new EmailRecognizer();
  it('finds valid addresses, without a trailing dot', () => {
    expect(found(r, 'Write to john.smith@example.co.uk. Or a-b+c@mail-server.org')).toEqual(['john.smith@example.co.uk', 'a-b+c@mail-server.org']);
  });
  it('joins an address that OCR split after a dot or around @', () => {
    expect(found(r, 'Email: jennifer. jackson@example.net and bob @example.org')).toEqual(['jennifer. jackson@example.net', 'bob @example.org']);
    // Split after every dot, in the domain too (a monospaced address read by tesseract).
    expect(found(r, 'Email: rosalind. fairbairn@mailbox. co.uk')).toEqual(['rosalind. fairbairn@mailbox. co.uk']);
    // A sentence that ends after a domain-like word is not an address.
    expect(found(r, 'Write to bob@example. Thanks')).toEqual([]);
  });
  it('rejects malformed ones', () => {
    expect(found(r, '.john@example.com john..x@example.com x@-bad.com user@host @example.com')).toEqual([]);
  });
  it('finds punycode and Unicode domains, several on a line', () => {
    expect(found(r, 'info@xn--mnchen-3ya.de, admin@xn--80ak6aa92e.xn--p1ai; jürgen.müller@bücher.de')).toEqual([
      'info@xn--mnchen-3ya.de', 'admin@xn--80ak6aa92e.xn--p1ai', 'jürgen.müller@bücher.de',
    ]);
  });
  it('finds obfuscated addresses', () => {
    expect(found(r, 'Author: tal197 at users.sf.net')).toEqual(['tal197 at users.sf.net']);
    expect(found(r, 'name at domain dot org, name [at] domain.org or name(at)domain.org')).toEqual([
      'name at domain dot org', 'name [at] domain.org', 'name(at)domain.org',
    ]);
    expect(found(r, 'JOHN AT EXAMPLE DOT COM and j.doe {at} mail {dot} example {dot} fr')).toEqual(['JOHN AT EXAMPLE DOT COM', 'j.doe {at} mail {dot} example {dot} fr']);
  });
  it('leaves an ordinary "at" alone', () => {
    expect(found(r, 'Look at example.com for details, meet at 10.30 at the office, arrive at Berlin.de')).toEqual([]);
  });
});

describe('phone', () => {
  const r = new PhoneRecognizer(['US', 'GB']);
  it('finds formatted numbers valid in their region', () => {
    expect(found(r, 'Tel: +44 20 7946 0958 or call (212) 555-0123.')).toEqual(['+44 20 7946 0958', '(212) 555-0123']);
  });
  it('rejects invalid numbers and bare digit runs without context', () => {
    expect(found(r, 'Call +44 20 1')).toEqual([]);
    expect(found(r, 'Reference 2079460958')).toEqual([]);
    expect(found(r, 'Phone 2125550123')).toEqual(['2125550123']);
  });
});

describe('phone: all regions, the page country as the hint', () => {
  const r = new PhoneRecognizer();
  it('finds labelled national numbers of other countries, labels in their languages', () => {
    expect(found(r, 'Telefon: 030 1234567')).toEqual(['030 1234567']);
    expect(found(r, 'Tél. : 01 42 68 53 00')).toEqual(['01 42 68 53 00']);
    expect(found(r, 'Teléfono: 912 345 678')).toEqual(['912 345 678']);
    expect(found(r, 'Telefoon: 06 12345678; Telefone: 21 123 4567; Telefono: 02 1234 5678')).toEqual(['06 12345678', '21 123 4567', '02 1234 5678']);
  });
  it('uses the page country for unlabelled national numbers', () => {
    // A German IBAN on the page makes DE the first region; "030 12345678" is no US or GB number.
    expect(found(r, 'IBAN DE89 3704 0044 0532 0130 00\nZentrale 030 1234567')).toEqual(['030 1234567']);
    expect(found(r, 'Zentrale 030 1234567')).toEqual([]);
  });
  it('finds numbers with a country code but no "+", and with "00"', () => {
    expect(found(r, 'Call 91-415-555-0132 or 44 20 7946 0958 or 0049 30 1234567')).toEqual(['91-415-555-0132', '44 20 7946 0958', '0049 30 1234567']);
  });
  it('a comma between two numbers is no extension', () => {
    expect(found(r, 'Two phones: 020 7946 0958, 020 7946 0959')).toEqual(['020 7946 0958', '020 7946 0959']);
  });
  it('finds several numbers on one line', () => {
    expect(found(r, '+44 20 7946 0958 +33 1 42 68 53 00 (212) 555-0123')).toEqual(['+44 20 7946 0958', '+33 1 42 68 53 00', '(212) 555-0123']);
  });
  it('leaves dates, amounts, sort codes and unlabelled digit runs alone', () => {
    expect(found(r, 'dated 12-03-2024, total 1 234 567, sort code 12-34-56, ref 4415550132, 20 12 2024')).toEqual([]);
    // An amount and its running balance side by side (a statement row) are no phone number, nor
    // are digits cut out of them.
    expect(found(r, '02/03/2026 Northgate Energy -197.02 4263.48')).toEqual([]);
    expect(found(r, '02.03.2026 Stadtwerke Nordheim -301,35 6.650,07')).toEqual([]);
    expect(found(r, 'Paid 1,312.18 20,451.07 on account')).toEqual([]);
    expect(found(r, 'Tél : 01.23.45.67.89')).toEqual(['01.23.45.67.89']);
  });
});

describe('country hints', () => {
  it('reads IBANs, phone codes, country names, postcodes, languages and currencies', () => {
    expect(countryHints('IBAN: FR14 2004 1010 0505 0001 3M02 606')[0]).toBe('FR');
    expect(countryHints('Tel +49 30 1234567')[0]).toBe('DE');
    expect(countryHints('Calle Mayor 5, 28013 Madrid, España')[0]).toBe('ES');
    expect(countryHints('Rua Augusta 12\n1100-048 Lisboa')[0]).toBe('PT');
    expect(countryHints('Kontoinhaber: Hans Müller, Betrag: 12,00 EUR, Datum: 01.02.2024')[0]).toBe('DE');
    expect(countryHints('Total £12.00')[0]).toBe('GB');
    expect(countryHints('nothing here 123')).toEqual([]);
  });
});

describe('iban', () => {
  const r = new IbanRecognizer();
  it('finds grouped and compact IBANs with the country length', () => {
    expect(found(r, 'IBAN: GB82 WEST 1234 5698 7654 32 EUR')).toEqual(['GB82 WEST 1234 5698 7654 32']);
    expect(found(r, 'DE89370400440532013000, gb82west12345698765432')).toEqual(['DE89370400440532013000', 'gb82west12345698765432']);
  });
  it('takes spaces, dashes or none, and several IBANs on one line', () => {
    expect(found(r, 'GB82-WEST-1234-5698-7654-32 DE89 3704 0044 0532 0130 00 FR1420041010050500013M02606')).toEqual([
      'GB82-WEST-1234-5698-7654-32', 'DE89 3704 0044 0532 0130 00', 'FR1420041010050500013M02606',
    ]);
    expect(found(r, 'GB82-WEST 1234-5698 7654 32')).toEqual([]); // mixed separators
  });
  it('takes a misread value when look-alike letters in the check digits explain it or an IBAN label says so', () => {
    // "GB03" read as "GBO3": the repair validates, so it is an IBAN (at a lower score).
    const ms = r.find('Transfer to GBO3 LOYD 5725 2353 4147 87');
    expect(ms.map((m) => [m.score])).toEqual([[0.8]]);
    expect(found(r, 'IBAN: GB83 WEST 1234 5698 7654 32')).toEqual(['GB83 WEST 1234 5698 7654 32']);
    expect(found(r, 'Konto IBAN-Nr. DE88 3704 0044 0532 0130 00')).toEqual(['DE88 3704 0044 0532 0130 00']);
    // Without a label, a failing check is not an IBAN; nor is a wrong length with one.
    expect(found(r, 'Ref GB83 WEST 1234 5698 7654 32')).toEqual([]);
    expect(found(r, 'IBAN: GB82 WEST 1234 5698 7654 3')).toEqual([]);
  });
  it('rejects a wrong check digit, a wrong length and unknown countries', () => {
    expect(found(r, 'GB83 WEST 1234 5698 7654 32')).toEqual([]);
    expect(found(r, 'GB82 WEST 1234 5698 7654 3')).toEqual([]);
    expect(found(r, 'XX82 WEST 1234 5698 7654 32')).toEqual([]);
  });
});

describe('bic', () => {
  const r = new BicRecognizer();
  it('needs a label or a digit in the location', () => {
    expect(found(r, 'BIC: DEUTDEFF')).toEqual(['DEUTDEFF']);
    expect(found(r, 'SWIFT code NWBKGB2L')).toEqual(['NWBKGB2L']);
    expect(found(r, 'Transfer via DEUTDEFF500')).toEqual(['DEUTDEFF500']);
  });
  it('rejects headings and bad country codes', () => {
    expect(found(r, 'BALANCES BROUGHT FORWARD')).toEqual([]);
    expect(found(r, 'BIC: DEUTQQFF')).toEqual([]);
  });
});

describe('card', () => {
  const r = new CardRecognizer();
  it('finds Luhn-valid numbers with a plausible issuer', () => {
    expect(found(r, 'Card 4111 1111 1111 1111 exp 12/27')).toEqual(['4111 1111 1111 1111']);
    expect(found(r, 'Amex 3782-822463-10005, MC 5555555555554444')).toEqual(['3782-822463-10005', '5555555555554444']);
  });
  it('rejects Luhn-invalid numbers, wrong lengths for the issuer and mixed separators', () => {
    expect(found(r, 'Ref 4111 1111 1111 1112')).toEqual([]);
    expect(found(r, '378282246310005 9')).toEqual(['378282246310005']);
    expect(found(r, '5555 5555 5555 444')).toEqual([]); // MC must have 16 digits
    expect(found(r, '4111-1111 1111-1111')).toEqual([]);
    expect(found(r, '1234567812345670')).toEqual([]); // Luhn-valid, no issuer starts with 1
  });
  it('after a card label, takes 13-19 digits whose check fails (a misread digit), at a lower score', () => {
    expect(r.find('Card number: 4682 3831 1188 743').map((m) => m.score)).toEqual([0.75]);
    expect(found(r, 'Kartennummer 4111 1111 1111 1112')).toEqual(['4111 1111 1111 1112']);
    expect(found(r, 'Numéro de carte :\n5555 5555 5555 4445')).toEqual(['5555 5555 5555 4445']);
    // Still not: too few digits, mixed separators, one digit repeated, or no label.
    expect(found(r, 'Card number: 4111 1111 111')).toEqual([]);
    expect(found(r, 'Card number: 4111-1111 1111-1112')).toEqual([]);
    expect(found(r, 'Card number: 0000 0000 0000 0000')).toEqual([]);
    expect(found(r, 'Invoice 4682 3831 1188 743')).toEqual([]);
  });
  it('finds masked numbers that show the last four digits', () => {
    expect(found(r, 'Card **** **** **** 4821 and XXXX-XXXX-XXXX-1234, not ****')).toEqual(['**** **** **** 4821', 'XXXX-XXXX-XXXX-1234']);
  });
  it('finds the card next to other numbers', () => {
    expect(found(r, '2024 4111 1111 1111 1111')).toEqual(['4111 1111 1111 1111']);
  });
  it('finds every card on a line', () => {
    expect(found(r, '4111111111111111 5555555555554444')).toEqual(['4111111111111111', '5555555555554444']);
    expect(found(r, '4111 1111 1111 1111 5555 5555 5555 4444 378282246310005')).toEqual(['4111 1111 1111 1111', '5555 5555 5555 4444', '378282246310005']);
    expect(found(r, '4111-1111-1111-1111, 4012-8888-8888-1881')).toEqual(['4111-1111-1111-1111', '4012-8888-8888-1881']);
  });
});

describe('ssn', () => {
  const r = new SsnRecognizer();
  it('finds dashed SSNs and labelled undashed ones', () => {
    expect(found(r, 'SSN 123-45-6780 and 536-22-1234')).toEqual(['123-45-6780', '536-22-1234']);
    expect(found(r, 'Social Security Number: 536221234')).toEqual(['536221234']);
  });
  it('rejects invalid areas, groups and serials, and bare digits without a label', () => {
    expect(found(r, '000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000 078-05-1120')).toEqual([]);
    expect(found(r, 'Order 536221234')).toEqual([]);
  });
});

describe('dates', () => {
  const r = new DateRecognizer();
  it('finds the supported formats', () => {
    const text = 'On 2024-03-12, 12.03.2024, 03/12/2024, 31/01/24, 12 March 2024, 1st Feb 2023, March 12, 2024, 12-MAR-2024 and March 2024.';
    expect(found(r, text).sort()).toEqual(
      ['2024-03-12', '12.03.2024', '03/12/2024', '31/01/24', '12 March 2024', '1st Feb 2023', 'March 12, 2024', '12-MAR-2024', 'March 2024'].sort(),
    );
  });
  it('finds month-year dates with and without labels', () => {
    expect(found(r, 'since 05/2021, 5/2021, May-2021, Expiry: 05/21, Valid until 05/2021, valid thru 12/27')).toEqual([
      '05/2021', '5/2021', 'May-2021', '05/21', '05/2021', '12/27',
    ]);
    expect(found(r, 'Gültig bis 05/26; März 2024, mars 2024, marzo de 2024')).toEqual(['05/26', 'März 2024', 'mars 2024', 'marzo de 2024']);
  });
  it('needs a label for a two-digit year and skips fractions, scores and ambiguous words', () => {
    expect(found(r, 'scored 5/21 on 12/27 items; set 2024 goals; 1.2024 and 13/2021')).toEqual([]);
  });
  it('takes ISO timestamps and times after a date whole', () => {
    expect(found(r, 'at 2024-03-15T14:30:00Z, 2024-03-15T14:30:00.250+01:00 and 12.03.2024 09:15')).toEqual([
      '2024-03-15T14:30:00Z', '2024-03-15T14:30:00.250+01:00', '12.03.2024 09:15',
    ]);
    expect(found(r, '2024-03-15T25:30:00Z')).toEqual([]);
  });
  it('reads month names of German, French, Spanish, Italian, Dutch and Portuguese', () => {
    expect(found(r, 'Geburtsdatum: 15. März 1985; né le 1er janvier 1990; 15 de marzo de 2024; 3 maggio 2021; 3 maart 2024; 7 de março de 2023')).toEqual([
      '15. März 1985', '1er janvier 1990', '15 de marzo de 2024', '3 maggio 2021', '3 maart 2024', '7 de março de 2023',
    ]);
    expect(found(r, '2 janvier 2024')).toEqual(['2 janvier 2024']);
    expect(found(r, '2er janvier 2024')).toEqual(['janvier 2024']); // "er" marks the first only
  });
  it('finds several dates on one line', () => {
    expect(found(r, '01.02.2024 02.02.2024 03.02.2024')).toEqual(['01.02.2024', '02.02.2024', '03.02.2024']);
  });
  it('rejects impossible dates and non-dates', () => {
    expect(found(r, '2023-02-29 31.04.2024 13/13/2024 1.2.3.4 12 Marts 2024 v1.10.2')).toEqual([]);
    expect(found(r, '2024-02-29')).toEqual(['2024-02-29']);
  });
  it('parses and re-formats with the same tokens', () => {
    const p = parseDate('1st Feb 2023')!;
    expect([p.year, p.month, p.day]).toEqual([2023, 2, 1]);
    expect(formatDate(p.format, 2024, 11, 22)).toBe('22nd Nov 2024');
    const q = parseDate('03/12/2024')!;
    expect([q.month, q.day]).toEqual([3, 12]);
    expect(formatDate(q.format, 2025, 1, 5)).toBe('01/05/2025');
    expect(parseDate('12-MAR-24')!.format.find((t) => t.kind === 'monthName')).toEqual({ kind: 'monthName', lang: 'en', abbr: 'abbr', case: 'upper' });
  });
});

describe('money', () => {
  const r = new MoneyRecognizer();
  it('finds amounts with symbols and codes, before or after', () => {
    expect(found(r, 'Paid £1,234.56 and EUR 99.00, 1.234,56 € and 250 USD; fee $5')).toEqual(['£1,234.56', 'EUR 99.00', '1.234,56 €', '250 USD', '$5']);
  });
  it('finds bare two-decimal amounts and accounting negatives', () => {
    expect(found(r, 'Balance (1,200.00) CR 45.10 and 7.50)')).toEqual(['(1,200.00) CR', '45.10', '7.50']);
  });
  it('finds bare continental amounts: decimal comma, dots or spaces between thousands', () => {
    expect(found(r, 'Stadtwerke -301,35 6.650,07')).toEqual(['-301,35', '6.650,07']);
    expect(found(r, 'Loyer -1 234,56 solde 12\u202f345,67')).toEqual(['-1 234,56', '12\u202f345,67']);
    // A decimal comma with one or three digits is no two-decimal column amount.
    expect(found(r, 'ratio 3,5 and 1,234 items')).toEqual([]);
  });
  it('ignores plain integers, versions and dates', () => {
    expect(found(r, 'Page 3 of 12, version 1.2.3, 12.03.2024')).toEqual([]);
  });
  it('a number after version, section, page, chapter or § is no amount', () => {
    expect(found(r, 'version 0.21, v. 1.10, Section 4.12, page 12.50, chapter 2.10, § 3.14, Abschnitt 2.15, página 1.25')).toEqual([]);
    expect(found(r, 'Total 0.21 and fee 12.50')).toEqual(['0.21', '12.50']);
    expect(found(r, 'sections 7.10 to 7.25, Seiten 3.10 bis 3.40')).toEqual([]);
  });
  it('a bare number with a unit or a time of day is no amount', () => {
    expect(found(r, '21.50 °C, 45.00 %, 2.50 times, 12.50 km, at 10.30, um 10.30 Uhr, à 10.30, 9.15 am')).toEqual([]);
    expect(found(r, 'sold at £10.30 and 12.50 paid')).toEqual(['£10.30', '12.50']);
  });
});

describe('account, routing and sort code', () => {
  it('account numbers need a label', () => {
    const r = new AccountNumberRecognizer();
    expect(found(r, 'Account number: 12345678')).toEqual(['12345678']);
    expect(found(r, 'Acct ****4821')).toEqual(['****4821']);
    expect(found(r, 'A/C No.\n0012 3456 78')).toEqual(['0012 3456 78']);
    expect(found(r, 'Invoice 12345678')).toEqual([]);
    expect(found(r, 'Account holder: Mary Jones\nInvoice 12345678')).toEqual([]);
  });
  it('routing numbers pass the ABA checksum and need a label', () => {
    const r = new RoutingNumberRecognizer();
    expect(found(r, 'Routing: 021000021')).toEqual(['021000021']);
    expect(found(r, 'Routing: 021000022')).toEqual([]);
    expect(found(r, 'Order 021000021')).toEqual([]);
  });
  it('sort codes need a label', () => {
    const r = new SortCodeRecognizer();
    expect(found(r, 'Sort code 12-34-56')).toEqual(['12-34-56']);
    expect(found(r, 'Date 12-03-24')).toEqual([]);
  });
});

describe('address', () => {
  const r = new AddressRecognizer();
  it('merges a street line and a postcode line', () => {
    expect(found(r, 'Mr John Smith\n12 High Street\nLondon SW1A 1AA\nStatement date')).toEqual(['12 High Street\nLondon SW1A 1AA']);
  });
  it('takes no label for the value of the address label above it', () => {
    expect(found(r, 'Adresse:\nNuméro de compte:')).toEqual([]);
    expect(found(r, 'Address:\nAccount number:\n12345678')).toEqual([]);
  });
  it('finds US city lines, German streets and labelled addresses', () => {
    expect(found(r, '1600 Pennsylvania Avenue NW, Washington, DC 20500')).toEqual(['1600 Pennsylvania Avenue NW, Washington, DC 20500']);
    expect(found(r, 'Hauptstraße 5\n10115 Berlin')).toEqual(['Hauptstraße 5\n10115 Berlin']);
    expect(found(r, 'Address: 4 Rue Cler, Paris')).toEqual(['4 Rue Cler, Paris']);
  });
  it('does not take numbers followed by ordinary words', () => {
    expect(found(r, 'You made 12 payments this month\n10115 items')).toEqual([]);
  });
});

describe('address: six more countries', () => {
  const r = new AddressRecognizer();
  it.each([
    ['Berliner Straße 12a\n10115 Berlin'],
    ['Hauptstraße 5\nD-80331 München'],
    ['12 rue de la Paix\n75002 Paris Cedex 02'],
    ['Calle Mayor, 5\n28013 Madrid'],
    ['Via Roma 12\n00184 Roma RM'],
    ['Kalverstraat 92\n1012 PH Amsterdam'],
    ['Rua da Prata, 80\n1100-420 Lisboa'],
    ['Straße des 17. Juni 135\n10623 Berlin'],
  ])('street and postcode line: %s', (addr) => {
    expect(found(r, `Herr Hans Weber\n${addr}\nKontoauszug`)).toEqual([addr]);
  });
  it('labelled addresses in other languages', () => {
    expect(found(r, 'Anschrift: Hauptstr. 5, 80331 München')).toEqual(['Hauptstr. 5, 80331 München']);
    expect(found(r, 'Indirizzo: Corso Vittorio Emanuele II 21, 10121 Torino')).toEqual(['Corso Vittorio Emanuele II 21, 10121 Torino']);
    expect(found(r, 'PLZ/Ort: 10115 Berlin')).toEqual(['10115 Berlin']);
    expect(found(r, 'Morada: Avenida da Liberdade, 100')).toEqual(['Avenida da Liberdade, 100']);
  });
  it('a street without a street word before a postcode line', () => {
    expect(found(r, 'Damrak 1, 1012 LG Amsterdam')).toEqual(['Damrak 1, 1012 LG Amsterdam']);
    expect(found(r, 'Mevr. S. de Jong\nDamrak 1\n1012 LG Amsterdam')).toEqual(['Damrak 1\n1012 LG Amsterdam']);
    expect(found(r, 'Seite 12\n10115 Berlin, Total 2024, 10115 Berlin')).toEqual([]);
  });
  it('a labelled address ends where the next column starts', () => {
    expect(found(r, 'Anschrift: Hauptstraße 5, 10115 Berlin Vertragsnummer: V-123456-A')).toEqual(['Hauptstraße 5, 10115 Berlin']);
    expect(found(r, 'Address: Flat 2 Rose Court Phone: 01234 567890')).toEqual(['Flat 2 Rose Court']);
  });
  it('a postcode-like number without a street or label is no address', () => {
    expect(found(r, 'Betrag 10115 Euro\n75002 Paris\nSeite 12 von 20')).toEqual([]);
  });
});

describe('national identifiers and VAT IDs', () => {
  const r = new NationalIdRecognizer();
  const kinds = (text: string): string[] => resolveOverlaps(r.find(text)).map((m) => `${m.recognizer.split(':')[1]}=${text.slice(m.start, m.end)}`);
  it('finds each format with a valid check', () => {
    expect(kinds('Steuer-ID: 86 095 742 719; USt-IdNr.: DE136695976')).toEqual(['de_steuer_id=86 095 742 719', 'de_vat=DE136695976']);
    expect(kinds('Steuernummer: 21/815/08150')).toEqual(['de_steuernummer=21/815/08150']);
    expect(kinds('N° de sécurité sociale : 1 84 12 76 451 089 46; SIREN 443 061 841; TVA FR40303265045')).toEqual([
      'fr_nir=1 84 12 76 451 089 46', 'fr_siren=443 061 841', 'fr_vat=FR40303265045',
    ]);
    expect(kinds('DNI 12345678-Z, NIE X1234567L, CIF: A58818501, 12.345.678-Z')).toEqual(['es_dni=12345678-Z', 'es_dni=X1234567L', 'es_cif=A58818501', 'es_dni=12.345.678-Z']);
    expect(kinds('Codice fiscale: RSSMRA85T10A562S, P.IVA 00743110157, IT00743110157')).toEqual([
      'it_codice_fiscale=RSSMRA85T10A562S', 'it_vat_bare=00743110157', 'it_vat=IT00743110157',
    ]);
    expect(kinds('BSN: 111222333, btw NL123456782B01')).toEqual(['nl_bsn=111222333', 'nl_vat=NL123456782B01']);
    expect(kinds('NIF: 123 456 789; PT501964843')).toEqual(['pt_nif=123 456 789', 'pt_vat=PT501964843']);
    expect(kinds('BE0403170701 ATU13585627 LU26375245 GB980780684')).toEqual(['be_vat=BE0403170701', 'at_vat=ATU13585627', 'lu_vat=LU26375245', 'gb_vat=GB980780684']);
  });
  it('rejects wrong check digits', () => {
    expect(kinds('Steuer-ID: 86 095 742 718; DE136695977; 1 84 12 76 451 089 47; SIREN 443 061 842; FR41303265045')).toEqual([]);
    expect(kinds('DNI 12345678-A, RSSMRA85T10A562T, BSN: 111222334, NIF: 123 456 788, NL123456783B01')).toEqual([]);
  });
  it('nine- and eleven-digit numbers need their label', () => {
    expect(kinds('Order 111222333, ref 443061841, phone 86095742719, invoice 123456789')).toEqual([]);
  });
});

describe('labels in other languages', () => {
  it('account numbers and reference numbers', () => {
    const a = new AccountNumberRecognizer();
    expect(found(a, 'Kontonummer: 1234567890, N° de compte : 00012345678, Número de cuenta: 1234-5678-90')).toEqual(['1234567890', '00012345678', '1234-5678-90']);
    expect(found(a, 'Rekeningnummer 123456789 Conto corrente 000012345')).toEqual(['123456789', '000012345']);
    const i = new IdNumberRecognizer();
    expect(found(i, 'Kundennummer: K-2024-0042, N° client : 88812, Referência: PT-77-12')).toEqual(['K-2024-0042', '88812', 'PT-77-12']);
  });
});

describe('person', () => {
  const r = new PersonRecognizer();
  it('uses salutations, labels and Dear', () => {
    expect(found(r, 'Dear Mrs Jane Doe-Smith,')).toEqual(['Jane Doe-Smith']);
    expect(found(r, 'Account holder: Mary Johnson\nName: O\'Brien')).toEqual(['Mary Johnson', "O'Brien"]);
    expect(found(r, 'Dr. Hans van der Berg signed')).toEqual(['Hans van der Berg']);
  });
  it('finds a known given name with a surname, and the name line above an address', () => {
    expect(found(r, 'Paid to Olivia Hartley today')).toEqual(['Olivia Hartley']);
    expect(found(r, 'JOHN Q PUBLIC\n12 High Street\nLondon SW1A 1AA')).toEqual(['JOHN Q PUBLIC']);
  });
  it('does not take headings or organisations', () => {
    expect(found(r, 'Customer Service\nAccount Summary\nACME Bank plc\n12 High Street')).toEqual([]);
    expect(found(r, 'Name: Total Balance')).toEqual([]);
  });
  it('takes month and common words after a title or greeting as names', () => {
    expect(found(r, 'Mr. May')).toEqual(['May']);
    expect(found(r, 'Dear Ms. April Jones,')).toEqual(['April Jones']);
    expect(found(r, 'Mr. June Carter called')).toEqual(['June Carter']);
    expect(found(r, 'Dear May,')).toEqual(['May']);
    expect(found(r, 'Mr. May and Mrs. June Carter')).toEqual(['May', 'June Carter']);
  });
  it('finds names without a label from the name lexicon', () => {
    expect(found(r, 'Dan May')).toEqual(['Dan May']);
    expect(found(r, 'signed by hand: Giuseppe Bianchi, and by García López')).toEqual(['Giuseppe Bianchi', 'García López']);
    expect(found(r, 'Peter Baker and John M. Smith')).toEqual(['Peter Baker', 'John M. Smith']);
  });
  it('keeps bare common words, headings and places without context out', () => {
    expect(found(r, 'Payment due in May 2024. April showers. Grant Application. Rose Garden')).toEqual([]);
    expect(found(r, 'Dear Valued Customer, Mark Down')).toEqual([]);
    expect(found(r, 'Offices in New York, San Francisco and Hong Kong')).toEqual([]);
    expect(found(r, 'Lisboa Lisboa, Madrid Barcelona')).toEqual([]);
    expect(found(r, '02 Jan TESCO STORES, Santander UK')).toEqual([]);
    expect(found(r, 'Jan Jansen')).toEqual(['Jan Jansen']);
    expect(found(r, 'Size M Large')).toEqual([]);
  });
  it('reads titles, labels and greetings of other languages, with accented names', () => {
    expect(found(r, 'Sehr geehrte Frau Müller,')).toEqual(['Müller']);
    expect(found(r, 'Kontoinhaber: Müller, Hans')).toEqual(['Müller, Hans']);
    expect(found(r, 'M. Jean-Pierre Dupont et Mme Lefèvre')).toEqual(['Jean-Pierre Dupont', 'Lefèvre']);
    expect(found(r, 'Nombre: Juan Pérez Fecha: 12/03/2024')).toEqual(['Juan Pérez']);
    expect(found(r, 'Sr. José García López y Sra. María Gómez')).toEqual(['José García López', 'María Gómez']);
    expect(found(r, 'Intestatario: Giulia Rossi')).toEqual(['Giulia Rossi']);
    expect(found(r, 'Geachte heer Jansen, t.n.v. Dhr. Pieter de Vries')).toEqual(['Jansen', 'Pieter de Vries']);
    expect(found(r, 'Titular da conta: João Conceição')).toEqual(['João Conceição']);
  });
});

describe('custom rules', () => {
  it('applies the regex, capture group, validator and context', () => {
    const r = new CustomRecognizer({ name: 'member', entity: 'member_id', pattern: 'M-(\\d{6})', group: 1, context: ['member'] });
    expect(found(r, 'Member M-123456\nOther M-654321')).toEqual(['123456']);
    const v = new CustomRecognizer({ name: 'lu', entity: 'luhn_id', pattern: '\\b\\d{8}\\b', validator: 'luhn' });
    expect(found(v, '12345674 12345675')).toEqual(['12345674']);
  });
});
