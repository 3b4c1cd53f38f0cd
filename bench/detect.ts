/**
 * Detection benchmark: OCR + detection of a generated A4 page at 200 dpi (1654x2339), split by
 * stage, then OCR-level detection quality on a few pages (boxes of ground-truth entities covered
 * by detected regions). Prints tables; passes or fails on nothing.
 *
 *   node -r ./bench/register-ts.js bench/detect.ts [--workers N] [--pages N]
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { detectPii } from '../src/detect/detect';
import { inkStats, toGrey } from '../src/detect/ocr/image';
import { TesseractOcr } from '../src/detect/ocr/tesseract';
import type { Box } from '../src/detect/types';
import { generateDocument } from '../src/training/synthetic';
import { TYPE_MAP } from '../test/helpers/detect-eval';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: number): number => performance.now() - t0;

async function main(): Promise<void> {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const workers = arg('workers', cores);
  const pages = arg('pages', 3);
  const doc = await generateDocument({ seed: 7, kind: 'statement' });
  console.log(`page: ${doc.width}x${doc.height} (A4 at 200 dpi), ${doc.annotation.document.length} lines; cores: ${cores}, OCR workers: ${workers}`);

  let t0 = performance.now();
  const ocr = new TesseractOcr({ workers });
  // Worker start-up (once per process) is reported apart from the per-page time.
  const warm = await ocr.recognize(doc.png);
  const startup = ms(t0);
  const runs: { decode: number; ocr: number; detect: number; total: number; cpu: number }[] = [];
  let regions = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    const grey = await toGrey(doc.png);
    inkStats(grey);
    const decode = ms(t0);
    t0 = performance.now();
    const page = await ocr.recognize({ data: grey.data, width: grey.width, height: grey.height, channels: 1 });
    const ocrTime = ms(t0);
    t0 = performance.now();
    regions = detectPii(page).length;
    const detect = ms(t0);
    const cpu = process.cpuUsage(cpu0);
    runs.push({ decode, ocr: ocrTime, detect, total: ms(t), cpu: (cpu.user + cpu.system) / 1000 });
  }
  console.log(`first call (worker start-up + page): ${startup.toFixed(0)} ms; words read: ${warm.lines.reduce((a, l) => a + l.words.length, 0)}`);
  console.log('stage                      median ms');
  console.log(`decode + ink estimate      ${median(runs.map((r) => r.decode)).toFixed(0).padStart(9)}`);
  console.log(`OCR (tesseract, bands)     ${median(runs.map((r) => r.ocr)).toFixed(0).padStart(9)}`);
  console.log(`detection + replacements   ${median(runs.map((r) => r.detect)).toFixed(0).padStart(9)}   (${regions} regions)`);
  console.log(`total per page             ${median(runs.map((r) => r.total)).toFixed(0).padStart(9)}`);
  // On a shared machine wall time includes waiting for cores; CPU time (all threads) does not.
  console.log(`CPU time per page, all threads: ${median(runs.map((r) => r.cpu)).toFixed(0)} ms; load average: ${os.loadavg()[0].toFixed(2)} on ${cores} cores`);

  // End-to-end quality through OCR: a ground-truth entity counts as covered when detected regions
  // cover at least 90% of its box area (any entity type: what matters for leaks).
  const per: Record<string, { truth: number; covered: number }> = {};
  let predicted = 0;
  let correct = 0;
  for (let seed = 100; seed < 100 + pages; seed++) {
    const d = await generateDocument({ seed });
    const page = await ocr.recognize(d.png);
    const found = detectPii(page);
    const boxes = (d.annotation.entities ?? []).map((e) => ({
      type: TYPE_MAP[e.type] ?? e.type,
      box: [Math.min(...e.box.map((p) => p[0])), Math.min(...e.box.map((p) => p[1])), Math.max(...e.box.map((p) => p[0])), Math.max(...e.box.map((p) => p[1]))] as Box,
    }));
    for (const t of boxes) {
      const c = (per[t.type] ??= { truth: 0, covered: 0 });
      c.truth++;
      if (coveredFraction(t.box, found.map((r) => r.box)) >= 0.9) c.covered++;
    }
    for (const r of found) {
      predicted++;
      if (boxes.some((t) => overlap(t.box, r.box) > 0)) correct++;
    }
  }
  console.log(`\nthrough OCR, ${pages} generated pages: entity boxes covered by detected regions (any type)`);
  console.log('entity           truth  covered');
  for (const [type, c] of Object.entries(per).sort()) console.log(`${type.padEnd(16)} ${String(c.truth).padStart(5)}  ${(c.covered / c.truth).toFixed(3)}`);
  console.log(`regions overlapping a ground-truth entity (precision): ${(correct / Math.max(1, predicted)).toFixed(3)} of ${predicted}`);
  await ocr.close();
}

function overlap(a: Box, b: Box): number {
  return Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
}

/** Fraction of `box` covered by the union of `cover` (sampled on a 2 px grid). */
function coveredFraction(box: Box, cover: Box[]): number {
  let n = 0;
  let hit = 0;
  for (let y = box[1] + 1; y < box[3]; y += 2) {
    for (let x = box[0] + 1; x < box[2]; x += 2) {
      n++;
      // Detected boxes are word boxes (ink), ground-truth boxes are typographic: allow a few px.
      if (cover.some((c) => x >= c[0] - 4 && x <= c[2] + 4 && y >= c[1] - 12 && y <= c[3] + 12)) hit++;
    }
  }
  return n ? hit / n : 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
