/**
 * Detection on the hand-labelled short texts of test/helpers/labelled-cases.ts (issue 19's hard
 * formats and their neighbours in seven languages, with negatives): per entity type, recall and
 * precision of at least 95% on the first set, 90% on the held-out set (written after tuning).
 * The full table: bench/detect-quality.ts.
 */
import { LABELLED_CASES, LABELLED_HELDOUT } from '../helpers/labelled-cases';
import { detectPii } from '../../src/detect/detect';
import { evaluateLabelled, pageOf, rates, twoColumn } from '../helpers/labelled-eval';

describe('detection on the labelled short texts', () => {
  const main = evaluateLabelled(LABELLED_CASES);
  const held = evaluateLabelled(LABELLED_HELDOUT);
  const describeProblems = (r: typeof main, type: string): string =>
    r.problems.filter((p) => p.type === type).map((p) => `${p.kind} ${p.lang} ${JSON.stringify(p.value)} in ${JSON.stringify(p.text)}`).join('\n');

  it('labels every language and the new entity types', () => {
    expect(Object.keys(main.byLang).sort()).toEqual(['de', 'en', 'es', 'fr', 'it', 'nl', 'pt']);
    for (const t of ['card', 'date', 'email', 'iban', 'person', 'phone', 'money', 'address', 'national_id', 'vat_id']) expect(main.byType[t].truth).toBeGreaterThan(4);
  });

  it.each(Object.keys(main.byType).sort())('%s: recall and precision >= 0.95', (type) => {
    const r = rates(main.byType[type]);
    // The misses and false positives are in the message when this fails.
    expect(r.recall >= 0.95 && r.precision >= 0.95 ? '' : `recall ${r.recall.toFixed(3)}, precision ${r.precision.toFixed(3)}\n${describeProblems(main, type)}`).toBe('');
  });

  it('held-out set: every type at recall and precision >= 0.9', () => {
    const bad = Object.entries(held.byType)
      .map(([type, c]) => ({ type, ...rates(c) }))
      .filter((r) => r.recall < 0.9 || r.precision < 0.9);
    expect(bad.map((b) => `${b.type} ${b.recall.toFixed(3)}/${b.precision.toFixed(3)}\n${describeProblems(held, b.type)}`)).toEqual([]);
  });

  it('two-column lines (one column label before the other column values): every type at >= 0.9', () => {
    const two = evaluateLabelled(twoColumn([...LABELLED_CASES, ...LABELLED_HELDOUT]));
    const bad = Object.entries(two.byType)
      .map(([type, c]) => ({ type, ...rates(c) }))
      .filter((r) => r.recall < 0.9 || r.precision < 0.9);
    expect(bad.map((b) => `${b.type} ${b.recall.toFixed(3)}/${b.precision.toFixed(3)}\n${describeProblems(two, b.type)}`)).toEqual([]);
  });

  it('the negatives (version, section, page numbers, times, units, common words, places) give nothing', () => {
    const negatives = [...LABELLED_CASES, ...LABELLED_HELDOUT].filter(([, , labels]) => labels.length === 0);
    expect(negatives.length).toBeGreaterThan(25);
    expect(evaluateLabelled(negatives).problems.map((p) => `${p.type} ${JSON.stringify(p.value)} in ${JSON.stringify(p.text)}`)).toEqual([]);
  });
});

describe('German and French statements through detectPii', () => {
  // Written here, not by the generator: the values of a statement header and two bookings.
  const statements: Record<string, { text: string; values: string[] }> = {
    de: {
      text: [
        'Kontoauszug Nr. 3 vom 01.02.2024',
        'Herrn Jürgen Weißenberger',
        'Lindenallee 23',
        '50968 Köln',
        'IBAN: DE89 3704 0044 0532 0130 00 BIC: COBADEFFXXX',
        'Steuer-ID: 86 095 742 719 Telefon: 0221 1234567',
        'Geburtsdatum: 15. März 1985 E-Mail: j.weissenberger@beispiel.de',
        '02.01.2024 Miete Januar 2024 -850,00 EUR',
        '15.01.2024 Gutschrift Sabine Krüger 1.234,56 EUR',
      ].join('\n'),
      values: [
        '01.02.2024', 'Jürgen Weißenberger', 'Lindenallee 23', '50968 Köln', 'DE89 3704 0044 0532 0130 00', 'COBADEFFXXX', '86 095 742 719',
        '0221 1234567', '15. März 1985', 'j.weissenberger@beispiel.de', '02.01.2024', 'Januar 2024', '850,00 EUR', '15.01.2024', 'Sabine Krüger', '1.234,56 EUR',
      ],
    },
    fr: {
      text: [
        'Relevé de compte du 1er février 2024',
        'Madame Claire Lefèvre',
        '8 avenue Victor Hugo',
        '69002 Lyon',
        'IBAN : FR14 2004 1010 0505 0001 3M02 606',
        'N° de sécurité sociale : 2 69 05 49 588 157 80 Tél. : 04 72 00 00 00',
        'Date de naissance : 12/03/1985 Courriel : claire.lefevre@exemple.fr',
        '03/01/2024 Virement M. Paul Girard 1 250,00 €',
      ].join('\n'),
      values: [
        '1er février 2024', 'Claire Lefèvre', '8 avenue Victor Hugo', '69002 Lyon', 'FR14 2004 1010 0505 0001 3M02 606', '2 69 05 49 588 157 80',
        '04 72 00 00 00', '12/03/1985', 'claire.lefevre@exemple.fr', '03/01/2024', 'Paul Girard', '1 250,00 €',
      ],
    },
  };
  it.each(Object.keys(statements))('%s: every sensitive value is replaced and no replacement repeats it', (lang) => {
    const { text, values } = statements[lang];
    const regions = detectPii(pageOf(text), {}, { includeOriginal: true });
    const replaced = regions.map((r) => r.original!).join('\n');
    const squash = (s: string): string => s.replace(/[\s.,\-\/]/g, '').toLowerCase();
    for (const v of values) expect({ v, covered: squash(replaced).includes(squash(v)) }).toEqual({ v, covered: true });
    for (const r of regions) expect(squash(r.replacement)).not.toBe(squash(r.original!));
    // The output text (replacements in place) holds none of the values.
    const out = regions.map((r) => r.replacement).join('\n');
    for (const v of values) expect(squash(out).includes(squash(v))).toBe(false);
  });
});
