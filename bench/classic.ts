/**
 * Classic engine page latency: an A4 page at 200 dpi (1654 x 2339), 20 regions with their original
 * texts (so the style match runs, as in automatic mode), split into decode / regions / encode, with
 * the style match on (the default) and off (the engine before it) in the same run. Prints a table;
 * it does not pass or fail on time.
 * Run: npx tsc -p tsconfig.json --outDir /tmp/bench-out && node /tmp/bench-out/bench/classic.js
 * (or: npx ts-node bench/classic.ts where ts-node is installed). Env: BENCH_RUNS (default 5).
 */
import { ClassicEngine } from '../src/inference/engines/classic';
import { decodeImage, encodeImage } from '../src/inference/image-io';
import { validateRegions } from '../src/inference/regions';
import { generateDocument } from '../src/training/synthetic';

const REPLACEMENTS = ['Laura Bennett', '03/14/2022', '4,318.27', 'C-2020-58142', '12 Elm Street', 'NL27 RABO 0183 4472 19'];

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const cases = [
    { name: 'statement, white', opts: { seed: 1, kind: 'statement' as const } },
    { name: 'invoice, gradient+noise 3', opts: { seed: 2, kind: 'invoice' as const, background: 'gradient' as const, noise: 3 } },
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    const doc = await generateDocument(c.opts);
    const entities = doc.annotation.entities;
    const picked = Array.from({ length: 20 }, (_, i) => entities[i % entities.length]);
    for (const [label, engine] of [['style match', new ClassicEngine({ seed: 1 })], ['style match off', new ClassicEngine({ seed: 1, matchStyle: false })]] as const) {
    const t: { decode: number; regions: number; encode: number }[] = [];
    for (let r = 0; r < runs + 1; r++) {
      const t0 = performance.now();
      const page = await decodeImage(doc.png);
      const t1 = performance.now();
      const regions = validateRegions(picked.map((e, i) => ({ box: e.box, replacement: REPLACEMENTS[i % REPLACEMENTS.length], original: e.text })), page);
      const { image } = await engine.anonymize(page, regions);
      const t2 = performance.now();
      await encodeImage(image);
      const t3 = performance.now();
      if (r > 0) t.push({ decode: t1 - t0, regions: t2 - t1, encode: t3 - t2 }); // run 0 warms up (fonts, JIT)
    }
    const med = (k: 'decode' | 'regions' | 'encode'): number => t.map((x) => x[k]).sort((a, b) => a - b)[t.length >> 1];
    const total = med('decode') + med('regions') + med('encode');
    rows.push([`${c.name}, ${label}`, `${doc.png.length >> 10} KiB`, ...[med('decode'), med('regions'), med('encode'), total].map((v) => v.toFixed(1))]);
    }
  }
  const head = ['page (A4 200 dpi, 1654x2339, 20 regions)', 'png size', 'decode ms', 'regions ms', 'encode ms', 'total ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ');
  console.log(`classic engine, median of ${runs} runs after 1 warm-up, node ${process.version}, ${require('node:os').cpus().length} cpus`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
