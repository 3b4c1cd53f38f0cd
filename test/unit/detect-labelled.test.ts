/**
 * Detection on the hand-labelled short texts of test/helpers/labelled-cases.ts (issue 19's hard
 * formats and their neighbours in seven languages, with negatives): per entity type, recall and
 * precision of at least 95% on the first set, 90% on the held-out set (written after tuning).
 * The full table: bench/detect-quality.ts.
 */
import { LABELLED_CASES, LABELLED_HELDOUT } from '../helpers/labelled-cases';
import { evaluateLabelled, rates, twoColumn } from '../helpers/labelled-eval';

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
