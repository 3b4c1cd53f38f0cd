/**
 * Throughput of the training data pipeline alone (no train step), at the real recipes' sizes:
 * configs/training/vae.yaml (256 px native-resolution crops, batch 8, 8 examples per page) and
 * unet.yaml (line crops resized to 512, TrOCR glyphs at 384, batch 16, 4 examples per page), on
 * A4 pages at 200 dpi, either generated on the fly (source: synthetic) or decoded from PNG files
 * (source: dataset; the bench writes them first). The baseline, in the same run, is the pipeline as
 * it was before parallel preparation: one example after the other. A train step is fed when the
 * pipeline makes at least batch / step-time examples per second (see docs/benchmarks.md for the
 * GPU step times to compare with). Prints markdown tables; it does not pass or fail on time.
 *
 *   node -r ./bench/register-ts.js bench/data-pipeline.ts [--batches N] [--models vae,unet] [--sources synthetic,dataset]
 *
 * Env equivalents: BENCH_BATCHES (micro-batches per row, default 8, timed from an empty pipeline),
 * BENCH_MODELS, BENCH_SOURCES. libuv's pool size (UV_THREADPOOL_SIZE, default 4) bounds how much
 * runs at once; set it before starting Node to see its effect.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetPages, SyntheticPages, type PageSource } from '../src/training/data/pages';
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

interface Recipe {
  batch: number;
  /** Builds micro-batch `index` (examples index*batch ..) from `pages`. */
  build(pages: PageSource, index: number, batch: number): Promise<unknown>;
}

const RECIPES: Record<string, Recipe> = {
  vae: {
    batch: 8,
    build: (pages, index, batch) => vaeBatch(pages, { seed: 0, cropSize: 256, examplesPerPage: 8 }, index * batch, batch),
  },
  unet: {
    batch: 16,
    build: (pages, index, batch) =>
      unetBatch(pages, { seed: 0, resolution: 512, cropSize: 256, minScore: 0.8, boxExtend: 0.1, examplesPerPage: 4, glyphSize: 384 }, index * batch, batch),
  },
};

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

/**
 * Examples per second over BATCHES micro-batches, counted from an empty pipeline (a fresh page
 * source and prefetcher: nothing prepared in advance, page loads part of the cost).
 */
async function measure(recipe: Recipe, source: string, datasetDir: string, mode: { concurrency: number } | 'one-at-a-time'): Promise<number> {
  const t0 = performance.now();
  const pages = pageSource(source, datasetDir);
  const B = recipe.batch;
  if (mode === 'one-at-a-time') {
    // The pipeline before parallel preparation: each example awaited before the next one starts.
    for (let i = 0; i < BATCHES * B; i++) await recipe.build(pages, i, 1);
  } else {
    const f = new Prefetcher((i) => recipe.build(pages, i, B), 0, 8, mode.concurrency);
    for (let k = 0; k < BATCHES; k++) await f.take();
  }
  return (BATCHES * B) / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-data-bench-'));
  try {
    const datasetDir = path.join(tmp, 'dataset');
    // Enough pages for every row of the UNet recipe (4 examples per page).
    if (SOURCES.includes('dataset')) await writeDataset(datasetDir, 8);
    console.log(`# Training data pipeline (${os.cpus().length} CPUs, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, A4 pages at 200 dpi)\n`);
    for (const model of MODELS) {
      const recipe = RECIPES[model];
      if (!recipe) throw new Error(`unknown model ${model} (vae, unet)`);
      console.log(`## ${model} (batch ${recipe.batch}; ${BATCHES} micro-batches, timed from an empty pipeline)\n`);
      console.log('| source | mode | examples/s | vs baseline |');
      console.log('|---|---|---:|---:|');
      for (const source of SOURCES) {
        // Warm-up, not timed: the glyph font, sharp's and libtorch's first calls.
        await recipe.build(pageSource(source, datasetDir), 0, 2);
        const base = await measure(recipe, source, datasetDir, 'one-at-a-time');
        console.log(`| ${source} | one example at a time (baseline) | ${base.toFixed(1)} | 1.00x |`);
        for (const concurrency of [1, 2, 4]) {
          const r = await measure(recipe, source, datasetDir, { concurrency });
          console.log(`| ${source} | batch in parallel, ${concurrency} micro-batch${concurrency > 1 ? 'es' : ''} at once | ${r.toFixed(1)} | ${(r / base).toFixed(2)}x |`);
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
