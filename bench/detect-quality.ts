/**
 * Detection quality per entity type (ground-truth text: measures the recognizers, not OCR):
 * 1. the synthetic corpus (the training generator's pages);
 * 2. the hand-labelled short texts of test/helpers/labelled-cases.ts (issue 19's formats and their
 *    neighbours in seven languages, with negatives): the first set, the held-out set, and both laid
 *    out as two-column lines; per type, per language, and type x language.
 * Run: node -r ./bench/register-ts.js bench/detect-quality.ts [synthetic docs, default 60] [--markdown]
 */
import { generateDocument } from '../src/training/synthetic';
import { evaluateDocument, rates, type TypeCounts } from '../test/helpers/detect-eval';
import { LABELLED_CASES, LABELLED_HELDOUT } from '../test/helpers/labelled-cases';
import { evaluateLabelled, twoColumn, type LabelledResult } from '../test/helpers/labelled-eval';

const markdown = process.argv.includes('--markdown');
const pct = (x: number): string => (x * 100).toFixed(1);

function table(title: string, rows: [string, TypeCounts][]): void {
  console.log(`\n${title}`);
  if (markdown) {
    console.log('\n| entity | values | recall % | detections | precision % |\n|---|---:|---:|---:|---:|');
    for (const [k, c] of rows) {
      const r = rates(c);
      console.log(`| ${k} | ${c.truth} | ${c.truth ? pct(r.recall) : '-'} | ${c.predicted} | ${c.predicted ? pct(r.precision) : '-'} |`);
    }
    return;
  }
  console.log('entity           truth  recall  any-type  predicted  precision');
  for (const [k, c] of rows) {
    const r = rates(c);
    console.log(`${k.padEnd(16)} ${String(c.truth).padStart(5)}  ${r.recall.toFixed(3)}   ${r.anyRecall.toFixed(3)}     ${String(c.predicted).padStart(6)}     ${r.precision.toFixed(3)}`);
  }
}

/** Type x language: "recall/precision" per cell (percent), "-" where a type has no value or detection there. */
function matrix(title: string, r: LabelledResult): void {
  const langs = Object.keys(r.byLang).sort();
  const types = Object.keys(r.byType).sort();
  console.log(`\n${title}`);
  console.log(`\n| entity | ${langs.join(' | ')} |\n|---|${langs.map(() => '---:').join('|')}|`);
  for (const t of types) {
    const cells = langs.map((l) => {
      const c = r.byTypeLang[`${t}/${l}`];
      if (!c) return '-';
      const x = rates(c);
      return `${c.truth ? pct(x.recall) : '-'}/${c.predicted ? pct(x.precision) : '-'}`;
    });
    console.log(`| ${t} | ${cells.join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 60);
  const counts: Record<string, TypeCounts> = {};
  for (let seed = 1000; seed < 1000 + n; seed++) {
    const doc = await generateDocument({ seed, width: 827, height: 1170 });
    evaluateDocument(doc.annotation, counts);
  }
  table(`Synthetic corpus: ${n} documents`, Object.entries(counts).sort());

  const sets: [string, LabelledResult, number][] = [
    ['Labelled short texts, first set', evaluateLabelled(LABELLED_CASES), LABELLED_CASES.length],
    ['Labelled short texts, held-out set', evaluateLabelled(LABELLED_HELDOUT), LABELLED_HELDOUT.length],
  ];
  const two = twoColumn([...LABELLED_CASES, ...LABELLED_HELDOUT]);
  sets.push(['Both sets as two-column lines', evaluateLabelled(two), two.length]);
  for (const [title, r, cases] of sets) {
    table(`${title}: ${cases} texts`, Object.entries(r.byType).sort());
    table(`${title}, per language (all types)`, Object.entries(r.byLang).sort());
  }
  matrix('First set, recall % / precision % per entity type and language', sets[0][1]);
  const problems = sets.flatMap(([title, r]) => r.problems.map((p) => `${title}: ${p.kind} ${p.type} ${JSON.stringify(p.value)} in ${JSON.stringify(p.text)}`));
  console.log(`\nMisses and false positives (${problems.length}):`);
  for (const p of problems) console.log(`- ${p}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
