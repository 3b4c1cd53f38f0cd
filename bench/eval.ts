/**
 * How long `doc-anon eval` takes, per example, on the fixture models (tiny SD2-layout VAE, UNet
 * and TrOCR encoder) and synthetic held-out pages: VAE crops (with and without LPIPS) and DiffUTE
 * lines (sampling + two Tesseract reads per line). Prints a markdown table; it does not pass or
 * fail on time (issue 21: benchmarks, not timed tests, for how long an evaluation takes).
 *
 *   node -r ./bench/register-ts.js bench/eval.ts [--limit 8] [--threads 1]
 *
 * Real models scale with their size: the SD2 VAE's crop and the SD2 UNet's sampling dominate there
 * (see bench/models-vs-diffusers.ts for their forward times); the Tesseract reads stay about the same.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { setNumThreads } from '../src/core/runtime';
import { evaluate } from '../src/eval';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const limit = Number(arg('limit', '8'));
  setNumThreads(Number(arg('threads', '1')));
  const fixtures = process.env.DOC_ANON_FIXTURES ?? path.join(__dirname, '..', 'test', 'fixtures');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-eval-'));
  const backbone = path.join(tmp, 'vgg16_features.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(path.join(fixtures, 'lpips', 'model.safetensors.gz'))));
  const diffute = path.join(tmp, 'diffute');
  fs.mkdirSync(diffute);
  for (const part of ['unet', 'vae', 'glyph_encoder']) fs.symlinkSync(path.join(fixtures, part), path.join(diffute, part));
  const rows: string[] = [];
  const time = async (name: string, run: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now();
    await run();
    const ms = performance.now() - t0;
    rows.push(`| ${name} | ${limit} | ${(ms / 1000).toFixed(2)} | ${(ms / limit).toFixed(0)} |`);
    process.stderr.write(`${name}: ${(ms / 1000).toFixed(2)} s\n`);
  };
  try {
    await time('vae, 64 px crops', () => evaluate({ kind: 'vae', model: path.join(fixtures, 'vae'), data: 'synthetic:777', limit, cropSize: 64 }));
    await time('vae, 64 px crops + LPIPS', () => evaluate({ kind: 'vae', model: path.join(fixtures, 'vae'), data: 'synthetic:777', limit, cropSize: 64, lpips: backbone }));
    await time('vae, 256 px crops', () => evaluate({ kind: 'vae', model: path.join(fixtures, 'vae'), data: 'synthetic:777', limit, cropSize: 256 }));
    await time('unet (DiffUTE), 20 DDIM steps + OCR', () => evaluate({ kind: 'unet', model: diffute, data: 'synthetic:777', limit, steps: 20 }));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`\n| evaluation (fixture models, ${arg('threads', '1')} thread) | examples | total s | ms / example |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
