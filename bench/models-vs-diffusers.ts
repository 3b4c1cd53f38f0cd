/**
 * SD2 UNet (and optionally VAE) speed side by side with diffusers in eager PyTorch, on this machine
 * and thread count, in rounds that interleave the two (so drifting machine load hits both alike),
 * with the ratio per round and its median. Ours is the C++ harness benchmark (build/docanon_harness
 * bench.unet / bench.vae); diffusers' is bench/reference/diffusers_unet.py, which needs a Python with
 * torch and the diffusers source (`.ref/` is put on PYTHONPATH when present; BENCH_PYTHON picks the
 * interpreter). Without them it says so and times ours alone. Random weights: timing only. A second
 * table compares peak memory: the resident-size peak of the timed runs above the process's size
 * before them (both sides reset the high-water mark the same way), i.e. activations and workspaces,
 * not the weights.
 *
 *   node -r ./bench/register-ts.js bench/models-vs-diffusers.ts [--rounds 3] [--threads N]
 *       [--latents 32[,64]] [--backward] [--vae]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.join(__dirname, '..');
const FIXTURES = process.env.DOC_ANON_FIXTURES ?? path.join(ROOT, 'test', 'fixtures');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    latents: { type: 'string', default: '32' },
    backward: { type: 'boolean', default: false },
    vae: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const threads = Number(values.threads);

interface Measure {
  ms: number;
  peakMb: number;
}

/** Rows `| case | mean ms | min ms | iters | peak MB | ...` of a benchmark's markdown output, by case name without its thread tag. */
function rows(text: string): Map<string, Measure> {
  const out = new Map<string, Measure>();
  for (const line of text.split('\n')) {
    const m = /^\| (?:diffusers )?(sd2 [^|]*?) \| ([\d.]+) \| [\d.]+ \| \d+ \| (-?[\d.]+|nan) \|/.exec(line);
    if (m) out.set(m[1].replace(/ t\d+(?= )/, ''), { ms: Number(m[2]), peakMb: Number(m[3]) });
  }
  return out;
}

function ours(): Map<string, Measure> {
  const harness = path.join(ROOT, 'build', 'docanon_harness');
  if (!fs.existsSync(harness)) throw new Error(`${harness} is missing: npm run build:native`);
  const r = spawnSync(harness, ['--fixtures', FIXTURES, 'bench.unet', ...(values.vae ? ['bench.vae'] : [])], {
    encoding: 'utf8',
    env: {
      ...process.env,
      OMP_NUM_THREADS: String(threads),
      DOC_ANON_BENCH_THREADS: 'all',
      DOC_ANON_BENCH_LATENTS: values.latents,
      DOC_ANON_BENCH_BACKWARD: values.backward ? '1' : '0',
    },
  });
  if (r.status !== 0) throw new Error(`harness failed: ${r.stderr || r.stdout}`);
  return rows(r.stdout);
}

function reference(): Map<string, Measure> | string {
  const python = process.env.BENCH_PYTHON ?? 'python3';
  const ref = path.join(ROOT, '.ref');
  const env = { ...process.env, PYTHONPATH: [fs.existsSync(ref) ? ref : '', process.env.PYTHONPATH ?? ''].filter(Boolean).join(path.delimiter) };
  const args = [path.join(ROOT, 'bench', 'reference', 'diffusers_unet.py'), '--fixtures', FIXTURES, '--threads', String(threads), '--latents', values.latents];
  if (!values.backward) args.push('--quick');
  if (!values.vae) args.push('--no-vae');
  const r = spawnSync(python, args, { encoding: 'utf8', env });
  if (r.status !== 0) return `diffusers reference unavailable (${python}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return rows(r.stdout);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const mine: Array<Map<string, Measure>> = [];
const theirs: Array<Map<string, Measure>> = [];
let unavailable: string | undefined;
for (let i = 0; i < rounds; i++) {
  process.stderr.write(`round ${i + 1}/${rounds}: ours`);
  mine.push(ours());
  if (!unavailable) {
    process.stderr.write(', diffusers');
    const r = reference();
    if (typeof r === 'string') unavailable = r;
    else theirs.push(r);
  }
  process.stderr.write('\n');
}

const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' / ');
console.log(`\nSD2 models, CPU float32, ${threads} thread(s), ${rounds} interleaved round(s), ${new Date().toISOString().slice(0, 10)}`);
if (unavailable) console.log(unavailable);

/** One table: per case, ours and diffusers per round, diffusers / ours per round and the median. */
function table(title: string, pick: (m: Measure) => number): void {
  console.log(`\n${title}\n`);
  console.log('| case | ours per round | diffusers per round | diffusers / ours per round | median |');
  console.log('|---|---|---|---|---:|');
  for (const name of mine[0].keys()) {
    const a = mine.map((m) => (m.has(name) ? pick(m.get(name)!) : NaN));
    const b = theirs.map((m) => (m.has(name) ? pick(m.get(name)!) : NaN));
    const ratios = b.map((x, i) => x / a[i]);
    const r = ratios.length ? `${ratios.map((x) => x.toFixed(3)).join(' / ')} | ${median(ratios).toFixed(3)}` : 'n/a | n/a';
    console.log(`| ${name} | ${fmt(a)} | ${b.length ? fmt(b) : 'n/a'} | ${r} |`);
  }
}
table('Mean time per run, ms', (m) => m.ms);
table('Peak memory of the runs above the resident size before them, MiB', (m) => m.peakMb);
console.log("\n(diffusers / ours > 1: ours is faster, or needs less memory. Compare within a round; times are the mean of the benchmark's timed iterations.)");
