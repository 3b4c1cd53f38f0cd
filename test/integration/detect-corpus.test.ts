/**
 * Detection quality on a small subset of the labelled synthetic corpus (ground-truth OCR text, so
 * this checks the recognizers): per entity type, recall >= 0.98 and precision >= 0.90 are the
 * targets; asserted here with a margin (0.95 / 0.85). The full table: bench/detect-quality.ts.
 */
import { generateDocument } from '../../src/training/synthetic';
import { evaluateDocument, rates, type TypeCounts } from '../helpers/detect-eval';

describe('detection on the synthetic corpus', () => {
  const counts: Record<string, TypeCounts> = {};
  beforeAll(async () => {
    for (let seed = 500; seed < 515; seed++) {
      const doc = await generateDocument({ seed, width: 827, height: 1170 });
      evaluateDocument(doc.annotation, counts);
    }
  });

  it('covers every entity type the corpus labels', () => {
    expect(Object.keys(counts).sort()).toEqual(
      ['account_number', 'address', 'date', 'email', 'iban', 'id_number', 'money', 'organization', 'person', 'phone'].sort(),
    );
  });

  it.each(['account_number', 'address', 'date', 'email', 'iban', 'id_number', 'money', 'organization', 'person', 'phone'])(
    '%s: recall and precision within the margin',
    (type) => {
      const c = counts[type];
      expect(c.truth).toBeGreaterThan(0);
      const r = rates(c);
      expect(r.recall).toBeGreaterThanOrEqual(0.95);
      expect(r.anyRecall).toBeGreaterThanOrEqual(0.98);
      expect(r.precision).toBeGreaterThanOrEqual(0.85);
    },
  );
});
