/**
 * Detection quality per entity type on the synthetic corpus (ground-truth text: measures the
 * recognizers, not OCR). Run: node -r ./bench/register-ts.js bench/detect-quality.ts [docs]
 */
import { generateDocument } from '../src/training/synthetic';
import { evaluateDocument, rates, type TypeCounts } from '../test/helpers/detect-eval';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 60);
  const counts: Record<string, TypeCounts> = {};
  for (let seed = 1000; seed < 1000 + n; seed++) {
    const doc = await generateDocument({ seed, width: 827, height: 1170 });
    evaluateDocument(doc.annotation, counts);
  }
  console.log(`documents: ${n}`);
  console.log('entity           truth  recall  any-type  predicted  precision');
  for (const [type, c] of Object.entries(counts).sort()) {
    const r = rates(c);
    console.log(`${type.padEnd(16)} ${String(c.truth).padStart(5)}  ${r.recall.toFixed(3)}   ${r.anyRecall.toFixed(3)}     ${String(c.predicted).padStart(6)}     ${r.precision.toFixed(3)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
