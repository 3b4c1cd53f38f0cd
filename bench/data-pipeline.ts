/**
 * Throughput of the training data pipeline alone (no train step), at the real recipes' sizes:
 * configs/training/vae.yaml (256 px native-resolution crops, batch 8, 8 examples per page) and
 * unet.yaml (line crops resized to 512, TrOCR glyphs at 384, batch 16, 4 examples per page), on
 * A4 pages at 200 dpi, either generated on the fly (source: synthetic) or decoded from PNG files
 * (source: dataset; the bench writes them first). The baseline, in the same run, is the pipeline
 * as it was before parallel preparation: one example after the other. Also measured while each
 * row runs: how long a 1 ms native call (what a train step's call is, to libuv) waits, since data
 * jobs and the step share libuv's thread pool. With --ranks W (default 8) the rows are repeated as
 * rank 0 of W, with the examples a rank takes: every W-th (before) or a run of B (now).
 * Prints markdown tables; it does not pass or fail on time.
 *
 *   node -r ./bench/register-ts.js bench/data-pipeline.ts [--batches N] [--models vae,unet]
 *       [--sources synthetic,dataset] [--ranks W]
 *
 * Env equivalents: BENCH_BATCHES (micro-batches per row, default 8, timed from an empty pipeline),
 * BENCH_MODELS, BENCH_SOURCES, BENCH_RANKS (1: no multi-rank rows). libuv's pool size
 * (UV_THREADPOOL_SIZE, default 4) bounds how much runs at once; set it before starting Node.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../src/native/loader';
import { DatasetPages, SyntheticPages, type PageSource } from '../src/training/data/pages';
import { dataSlots, threadPoolSize } from '../src/training/data/pool-slots';
import { Prefetcher } from '../src/training/data/prefetch';
import { unetBatch } from '../src/training/data/unet-examples';
import { vaeBatch } from '../src/training/data/vae-examples';
import { generateDocument } from '../src/training/synthetic';

const A4_200DPI = { width: 1654, height: 2339 };
const KINDS: Array<'statement' | 'invoice' | 'form'> = ['statement', 'invoice', 'form'];

function arg(name: string, env: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : (process.env[env] ?? dflt);
}

const BATCHES = Number(arg('batches', 'BENCH_BATCHES', '8'));
const MODELS = arg('models', 'BENCH_MODELS', 'vae,unet').split(',');
const SOURCES = arg('sources', 'BENCH_SOURCES', 'synthetic,dataset').split(',');
const RANKS = Number(arg('ranks', 'BENCH_RANKS', '8'));

/** Maps a rank's local example to its dataset index. */
type Layout = (local: number) => number;

interface Recipe {
  batch: number;
  /** Builds the micro-batch of local examples start .. start+batch-1 from `pages`. */
  build(pages: PageSource, start: number, batch: number, layout: Layout): Promise<unknown>;
}

const RECIPES: Record<string, Recipe> = {
  vae: {
    batch: 8,
    build: (pages, start, batch, layout) => vaeBatch(pages, { seed: 0, cropSize: 256, examplesPerPage: 8 }, start, batch, layout),
  },
  unet: {
    batch: 16,
    build: (pages, start, batch, layout) =>
      unetBatch(pages, { seed: 0, resolution: 512, cropSize: 256, minScore: 0.8, boxExtend: 0.1, examplesPerPage: 4, glyphSize: 384 }, start, batch, layout),
  },
};

/** Rank 0 of W: every W-th example (the sharding before 2026-11-26) or the first run of B of each W*B (now). */
function layouts(B: number, W: number): Record<string, Layout> {
  return {
    'one rank': (i) => i,
    [`rank 0 of ${W}, every ${W}th example (before)`]: (i) => i * W,
    [`rank 0 of ${W}, runs of ${B} (now)`]: (i) => Math.floor(i / B) * W * B + (i % B),
  };
}

/** A dataset folder of PNG pages with their annotations, made once from the generator. */
async function writeDataset(dir: string, pages: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (let p = 0; p < pages; p++) {
    const doc = await generateDocument({ seed: 1000 + p, kind: KINDS[p % KINDS.length], ...A4_200DPI });
    fs.writeFileSync(path.join(dir, `page-${p}.png`), doc.png);
    fs.writeFileSync(path.join(dir, `page-${p}.json`), JSON.stringify(doc.annotation));
  }
}

function pageSource(source: string, datasetDir: string): PageSource {
  return source === 'dataset'
    ? new DatasetPages(datasetDir)
    : new SyntheticPages({ seed: 0, ...A4_200DPI, kinds: KINDS, noise: 0, blur: 0, rotation: 0 });
}

/** Latency of a 1 ms native call, issued every 25 ms while `work` runs: mean and max in ms. */
async function probeWhile(work: Promise<void>): Promise<{ mean: number; max: number }> {
  const samples: number[] = [];
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  while (!done) {
    const t0 = performance.now();
    await native().testing.spin({ ms: 1 });
    samples.push(performance.now() - t0);
    await Promise.race([finished, new Promise((r) => setTimeout(r, 25))]);
  }
  await finished;
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, max: Math.max(...samples) };
}

interface Row {
  examplesPerSec: number;
  probe: { mean: number; max: number };
}

/**
 * BATCHES micro-batches from an empty pipeline (a fresh page source and prefetcher: nothing
 * prepared in advance, page loads part of the cost). Nothing is prepared past them, so no work
 * runs on into the next row.
 */
async function measure(recipe: Recipe, source: string, datasetDir: string, layout: Layout, mode: { concurrency: number } | 'one-at-a-time'): Promise<Row> {
  const pages = pageSource(source, datasetDir);
  const B = recipe.batch;
  const t0 = performance.now();
  const run = async (): Promise<void> => {
    if (mode === 'one-at-a-time') {
      // The pipeline before parallel preparation: each example awaited before the next one starts.
      for (let i = 0; i < BATCHES * B; i++) await recipe.build(pages, i, 1, layout);
    } else {
      const f = new Prefetcher((k) => (k < BATCHES ? recipe.build(pages, k * B, B, layout) : Promise.resolve(null)), 0, 8, mode.concurrency);
      for (let k = 0; k < BATCHES; k++) await f.take();
    }
  };
  const probe = await probeWhile(run());
  return { examplesPerSec: (BATCHES * B) / ((performance.now() - t0) / 1000), probe };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-data-bench-'));
  try {
    const datasetDir = path.join(tmp, 'dataset');
    if (SOURCES.includes('dataset')) await writeDataset(datasetDir, 12);
    console.log(
      `# Training data pipeline (${os.cpus().length} CPUs, libuv pool ${threadPoolSize()} threads, ${dataSlots.size} for data; A4 pages at 200 dpi; ${BATCHES} micro-batches per row)\n`,
    );
    console.log('"native call wait": a 1 ms native call issued every 25 ms during the row, mean / max ms (alone: ~1 ms).\n');
    for (const model of MODELS) {
      const recipe = RECIPES[model];
      if (!recipe) throw new Error(`unknown model ${model} (vae, unet)`);
      console.log(`## ${model} (batch ${recipe.batch})\n`);
      console.log('| source | examples of | mode | examples/s | vs one at a time | native call wait ms |');
      console.log('|---|---|---|---:|---:|---:|');
      const all = layouts(recipe.batch, RANKS);
      const names = RANKS > 1 ? Object.keys(all) : ['one rank'];
      for (const source of SOURCES) {
        // Warm-up, not timed: the glyph font, sharp's and libtorch's first calls.
        await recipe.build(pageSource(source, datasetDir), 0, 2, (i) => i);
        for (const name of names) {
          const layout = all[name];
          const row = (mode: string, r: Row, base: number): void =>
            console.log(`| ${source} | ${name} | ${mode} | ${r.examplesPerSec.toFixed(1)} | ${(r.examplesPerSec / base).toFixed(2)}x | ${r.probe.mean.toFixed(1)} / ${r.probe.max.toFixed(0)} |`);
          const base = await measure(recipe, source, datasetDir, layout, 'one-at-a-time');
          row('one example at a time (before)', base, base.examplesPerSec);
          for (const concurrency of [1, 2]) {
            const r = await measure(recipe, source, datasetDir, layout, { concurrency });
            row(`parallel examples, ${concurrency} micro-batch${concurrency > 1 ? 'es' : ''} at once`, r, base.examplesPerSec);
          }
        }
      }
      console.log('');
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
