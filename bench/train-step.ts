/**
 * Train-step throughput and peak memory of the real trainers (VaeTrainer with LPIPS, UnetTrainer)
 * at the tiny local-config sizes and at SD2 sizes (the real SD2 VAE / UNet / TrOCR-large
 * architectures from random init, at a small image size so a CPU step finishes), for 1 thread and
 * all threads. Each (config, threads) runs in its own child process, so the peak RSS is that
 * configuration's alone and libtorch's (process-wide) thread count is set before any model exists.
 * Optionally (--reference) the same step in eager PyTorch + diffusers (bench/reference/train_step.py)
 * runs right after each of ours, on the same case spec, for a side-by-side. Prints markdown tables;
 * it does not pass or fail on time.
 *
 *   node -r ./bench/register-ts.js bench/train-step.ts [--configs tiny,sd2] [--models vae,unet]
 *       [--threads 1,all] [--steps N] [--warmup N] [--reference] [--repeat N]
 *
 * Env equivalents: BENCH_CONFIGS, BENCH_MODELS, BENCH_THREADS, BENCH_STEPS, BENCH_WARMUP,
 * BENCH_REFERENCE=1, BENCH_REPEAT, BENCH_CACHED_DATA=1 (--cached-data: every micro-batch is the first
 * one, so no data preparation runs beside the step), BENCH_GRAD_CKPT=1 (SD2 UNet with gradient
 * checkpointing). Default steps: tiny 20 timed after 3 warm-up; SD2 VAE 5 and SD2 UNet 3 timed after
 * 1 warm-up (about 6 minutes on 2 cores; the SD2 UNet case needs about 21 GB of memory).
 * --reference runs `python3` (BENCH_PYTHON overrides) with .ref/ (diffusers source) on PYTHONPATH
 * when present; when torch or diffusers do not import it prints one line and runs ours alone.
 * --write-cases DIR only writes each case's spec, for running the reference alone
 * (python3 bench/reference/train_step.py --case DIR/<case>.json).
 * Fixtures (SD2 manifests, the VGG16 LPIPS backbone): DOC_ANON_FIXTURES, else test/fixtures.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { setNumThreads } from '../src/core/runtime';
import { bundledLpipsHeads } from '../src/models/lpips';
import { SD2_SCHEDULER_CONFIG } from '../src/models/scheduler';
import type { BaseTrainer } from '../src/training/base-trainer';
import { parseUnetTrainConfig, parseVaeTrainConfig, type TrainConfig, type UnetTrainConfig, type VaeTrainConfig } from '../src/training/config';
import { UnetTrainer } from '../src/training/unet-trainer';
import { VaeTrainer } from '../src/training/vae-trainer';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.resolve(process.env.DOC_ANON_FIXTURES ?? path.join(ROOT, 'test', 'fixtures'));
/** The full VGG16 `features.*` trunk (14.7M parameters; gzip, decompressed to a temp file by buildLpips). */
const VGG16_BACKBONE = path.join(FIXTURES, 'lpips', 'model.safetensors.gz');

type ModelKind = 'vae' | 'unet';
type Size = 'tiny' | 'sd2';

/** What one child measures; also handed to the Python reference (same sizes and hyper-parameters). */
interface CaseSpec {
  model: ModelKind;
  size: Size;
  threads: number;
  warmup: number;
  steps: number;
  config: TrainConfig;
  /** Filled for the reference: the LPIPS backbone (gz) and heads. */
  lpipsBackbone?: string;
  lpipsHeads?: string;
  scheduler?: Record<string, unknown>;
  /** Reuse the first micro-batch (no data preparation beside the step). */
  cachedData?: boolean;
}

interface CaseResult {
  impl: string;
  model: ModelKind;
  size: Size;
  threads: number;
  batch: number;
  steps: number;
  stepMs: number[];
  dataWaitMs: number;
  totalMs: number;
  createMs: number;
  maxRssKiB: number;
  note?: string;
  /** The reference's mean ms per timed step of each part of the step. */
  phases?: Record<string, number>;
}

function merge(a: any, b: any): any {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

function yamlConfig(name: string): any {
  return YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', name), 'utf8'));
}

/** A diffusers / transformers config.json object from a fixture manifest (private `_` keys dropped). */
function manifestConfig(file: string): Record<string, unknown> {
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifests', file), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('_')));
}

/** Warm-up and timed steps per case (--warmup / --steps override): about 8 minutes in all on 2 cores. */
const DEFAULT_STEPS: Record<Size, Record<ModelKind, { warmup: number; steps: number }>> = {
  tiny: { vae: { warmup: 3, steps: 20 }, unet: { warmup: 3, steps: 20 } },
  sd2: { vae: { warmup: 1, steps: 5 }, unet: { warmup: 1, steps: 3 } },
};

/** Settings shared by every case: no checkpoints or logs are written (the trainers never write on trainStep). */
const COMMON = { train: { max_steps: 100000, device: 'cpu' } };

/**
 * The configs measured. tiny: configs/training/*.local.yaml as shipped (VAE: LPIPS added with the
 * full VGG16 trunk). sd2: the SD2 architectures from random init with configs/training/vae.yaml /
 * unet.yaml's recipe (trainable set, loss weights, optimizer, EMA) at a small CPU-sized image.
 */
export function benchConfig(model: ModelKind, size: Size): TrainConfig {
  if (model === 'vae') {
    const base = yamlConfig('vae.local.yaml');
    if (size === 'tiny') {
      // lpips_weight: ldm perceptual_weight 0.1 at 64x64x3 (the local config's own suggestion).
      return parseVaeTrainConfig(merge(merge(base, COMMON), { loss: { lpips_weight: 1228.8 }, lpips: { backbone: VGG16_BACKBONE } }));
    }
    const real = yamlConfig('vae.yaml');
    return parseVaeTrainConfig(
      merge(merge(base, COMMON), {
        model: { seed: 0, config: manifestConfig('sd2_vae.json') },
        trainable: real.trainable, // decoder (sd-vae-ft-mse style)
        loss: { ...real.loss, lpips_weight: 0.1 * 3 * 128 * 128 },
        lpips: { backbone: VGG16_BACKBONE },
        optimizer: real.optimizer,
        ema: real.ema,
        train: { batch_size: 1, grad_accum: 1, max_grad_norm: real.train.max_grad_norm },
        data: { crop_size: 128, examples_per_page: 8 },
      }),
    );
  }
  const base = yamlConfig('unet.local.yaml');
  if (size === 'tiny') return parseUnetTrainConfig(merge(base, COMMON));
  const real = yamlConfig('unet.yaml');
  return parseUnetTrainConfig(
    merge(merge(base, COMMON), {
      model: { seed: 0, config: manifestConfig('sd2_inpainting_unet.json') },
      vae: { seed: 1, config: manifestConfig('sd2_vae.json') },
      glyph_encoder: { seed: 2, config: manifestConfig('trocr_encoder_large.json') },
      loss: real.loss,
      optimizer: real.optimizer,
      ema: real.ema,
      gradient_checkpointing: process.env.BENCH_GRAD_CKPT === '1',
      train: { batch_size: 1, grad_accum: 1, max_grad_norm: real.train.max_grad_norm },
      data: { resolution: 256, crop_size: 256, examples_per_page: 4 },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Child: one (config, threads) case.

async function runChild(spec: CaseSpec): Promise<CaseResult> {
  setNumThreads(spec.threads); // before any model: libtorch's intra-op pool is process-wide
  const t0 = performance.now();
  const trainer: BaseTrainer<unknown> =
    spec.model === 'vae' ? await VaeTrainer.create(spec.config as VaeTrainConfig) : await UnetTrainer.create(spec.config as UnetTrainConfig);
  const createMs = performance.now() - t0;
  if (spec.cachedData) {
    // Diagnostic: every micro-batch is the first one (loaded once), so no data preparation runs
    // beside the step; the difference to a normal run is what the data pipeline costs the step.
    const t = trainer as unknown as { loadMicro(i: number): Promise<unknown> };
    const load = t.loadMicro.bind(trainer);
    let first: Promise<unknown> | undefined;
    t.loadMicro = (i: number) => (first ??= load(i));
  }
  const stepMs: number[] = [];
  let dataWaitMs = 0;
  let batch = 0;
  try {
    for (let i = 0; i < spec.warmup + spec.steps; i++) {
      const r = await trainer.trainStep();
      if (!Number.isFinite(r.terms.loss)) throw new Error(`non-finite loss at step ${i}`);
      process.stderr.write(`  ${spec.size} ${spec.model} t${spec.threads} step ${i + 1}/${spec.warmup + spec.steps}${i < spec.warmup ? ' (warm-up)' : ''}: ${r.stepMs.toFixed(0)} ms, data wait ${r.dataWaitMs.toFixed(0)} ms\n`);
      if (i < spec.warmup) continue;
      stepMs.push(r.stepMs);
      dataWaitMs += r.dataWaitMs;
      batch = r.examples;
    }
  } finally {
    trainer.dispose();
  }
  return {
    impl: spec.cachedData ? 'doc-anon-torch, cached data' : 'doc-anon-torch',
    model: spec.model,
    size: spec.size,
    threads: spec.threads,
    batch,
    steps: spec.steps,
    stepMs,
    dataWaitMs,
    totalMs: stepMs.reduce((a, b) => a + b, 0),
    createMs,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: spawns the cases, prints the tables.

const RESULT_TAG = '@@RESULT ';

function arg(name: string, env: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.env[env];
}

function flag(name: string, env: string): boolean {
  return process.argv.includes(`--${name}`) || process.env[env] === '1';
}

function list<T extends string>(value: string | undefined, allowed: readonly T[], dflt: T[]): T[] {
  if (!value) return dflt;
  const out = value.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  for (const v of out) if (!allowed.includes(v)) throw new Error(`unknown value ${v}; expected ${allowed.join(', ')}`);
  return out;
}

function parseResult(stdout: string): CaseResult | null {
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  return line ? (JSON.parse(line.slice(RESULT_TAG.length)) as CaseResult) : null;
}

function runOurs(spec: CaseSpec): CaseResult | string {
  const r = spawnSync(process.execPath, ['-r', path.join(__dirname, 'register-ts.js'), __filename, '--child', JSON.stringify(spec)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return parseResult(r.stdout ?? '') ?? `failed (exit ${r.status ?? r.signal})`;
}

interface Python {
  exe: string;
  env: NodeJS.ProcessEnv;
}

/** The Python with torch + diffusers, or the reason there is none. */
function findPython(): Python | string {
  const exe = process.env.BENCH_PYTHON ?? 'python3';
  const ref = path.join(ROOT, '.ref');
  const extra = fs.existsSync(path.join(ref, 'diffusers')) ? [ref] : [];
  const env = { ...process.env, PYTHONPATH: [...extra, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
  const r = spawnSync(exe, ['-c', 'import torch, diffusers; print(torch.__version__, diffusers.__version__)'], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').pop();
    return `${exe}: cannot import torch and diffusers (${why}); set BENCH_PYTHON to a Python with torch and PYTHONPATH to diffusers' source`;
  }
  return { exe, env };
}

/** The case as the Python reference reads it: with the LPIPS files and the DDPM config spelled out. */
function referenceSpec(spec: CaseSpec): CaseSpec {
  return { ...spec, lpipsBackbone: VGG16_BACKBONE, lpipsHeads: bundledLpipsHeads(), scheduler: SD2_SCHEDULER_CONFIG };
}

function runReference(py: Python, spec: CaseSpec): CaseResult | string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'train-step-ref-'));
  try {
    const file = path.join(tmp, 'case.json');
    fs.writeFileSync(file, JSON.stringify(referenceSpec(spec)));
    const r = spawnSync(py.exe, [path.join(__dirname, 'reference', 'train_step.py'), '--case', file], {
      cwd: ROOT,
      env: py.env,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    return parseResult(r.stdout ?? '') ?? `failed (exit ${r.status ?? r.signal})`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function describe(model: ModelKind, size: Size, c: TrainConfig): string {
  if (model === 'vae') {
    const v = c as VaeTrainConfig;
    const ch = (v.model.config as { block_out_channels: number[] }).block_out_channels.join('/');
    return `${size} VAE [${ch}] + LPIPS, ${v.data.crop_size}px crop, trainable ${v.trainable}, EMA ${v.ema.enabled ? 'on' : 'off'}`;
  }
  const u = c as UnetTrainConfig;
  const ch = (u.model.config as { block_out_channels: number[] }).block_out_channels.join('/');
  const g = u.glyph_encoder.config as { hidden_size: number; num_hidden_layers: number; image_size: number };
  const lat = u.data.resolution / 2 ** ((u.vae.config as { block_out_channels: number[] }).block_out_channels.length - 1);
  return `${size} UNet [${ch}], ${u.data.resolution}px -> ${lat}x${lat} latent, glyph ViT ${g.hidden_size}x${g.num_hidden_layers} @${g.image_size}, EMA ${u.ema.enabled ? 'on' : 'off'}${u.gradient_checkpointing ? ', grad ckpt' : ''}`;
}

function fmtRow(r: CaseResult, ours?: CaseResult): string[] {
  const mean = r.totalMs / r.stepMs.length;
  const min = Math.min(...r.stepMs);
  const share = r.totalMs > 0 ? r.dataWaitMs / r.totalMs : 0;
  // Ours / eager throughput: > 100% means ours is faster.
  const vsOurs = ours && ours !== r ? `${((mean / (ours.totalMs / ours.stepMs.length)) * 100).toFixed(0)}%` : '';
  return [
    r.impl,
    `${r.size} ${r.model}`,
    String(r.threads),
    String(r.batch),
    String(r.stepMs.length),
    (r.batch / (mean / 1000)).toFixed(r.batch / (mean / 1000) < 10 ? 3 : 1),
    mean.toFixed(0),
    min.toFixed(0),
    r.impl.startsWith('doc-anon-torch') ? `${(share * 100).toFixed(1)}%${share >= 0.05 ? ' (>= 5%!)' : ''}` : 'n/a',
    (r.maxRssKiB / 1024).toFixed(0),
    (r.createMs / 1000).toFixed(1),
    vsOurs,
  ];
}

function table(head: string[], rows: string[][]): string {
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i < 3 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await runChild(JSON.parse(process.argv[3]) as CaseSpec);
    process.stdout.write(`${RESULT_TAG}${JSON.stringify(r)}\n`);
    return;
  }
  const sizes = list(arg('configs', 'BENCH_CONFIGS'), ['tiny', 'sd2'] as const, ['tiny', 'sd2']);
  const models = list(arg('models', 'BENCH_MODELS'), ['vae', 'unet'] as const, ['vae', 'unet']);
  const all = os.availableParallelism();
  const threads = (arg('threads', 'BENCH_THREADS') ?? '1,all')
    .split(',')
    .map((t) => (t.trim() === 'all' ? all : Number(t)))
    .filter((t, i, a) => Number.isInteger(t) && t > 0 && a.indexOf(t) === i);
  const stepsArg = arg('steps', 'BENCH_STEPS');
  const warmupArg = arg('warmup', 'BENCH_WARMUP');
  const repeat = Number(arg('repeat', 'BENCH_REPEAT') ?? 1);
  const withRef = flag('reference', 'BENCH_REFERENCE');
  const writeCases = arg('write-cases', 'BENCH_WRITE_CASES');
  const cachedData = flag('cached-data', 'BENCH_CACHED_DATA');
  if (writeCases) fs.mkdirSync(writeCases, { recursive: true });
  const py = withRef ? findPython() : null;
  if (typeof py === 'string') console.log(`reference: not run: ${py}`);

  console.log(`train step, ${os.cpus()[0]?.model ?? 'cpu'}, ${all} threads available, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  const rows: string[][] = [];
  const phaseRows: string[][] = [];
  const phaseNames = ['forward + loss', 'backward', 'clip', 'AdamW', 'EMA', 'zero grads'];
  const configs: string[] = [];
  for (const size of sizes)
    for (const model of models) {
      const config = benchConfig(model, size);
      configs.push(`- ${describe(model, size, config)}, batch ${config.train.batch_size} x accum ${config.train.grad_accum}`);
      for (const th of threads)
        for (let rep = 0; rep < repeat; rep++) {
          const d = DEFAULT_STEPS[size][model];
          const spec: CaseSpec = { model, size, threads: th, warmup: Number(warmupArg ?? d.warmup), steps: Number(stepsArg ?? d.steps), config, cachedData };
          if (writeCases) {
            const file = path.join(writeCases, `${size}-${model}-t${th}.json`);
            fs.writeFileSync(file, JSON.stringify(referenceSpec(spec), null, 1));
            console.log(`wrote ${file}`);
            continue;
          }
          console.error(`# ${size} ${model}, ${th} thread(s)${repeat > 1 ? `, run ${rep + 1}/${repeat}` : ''}`);
          const ours = runOurs(spec);
          if (typeof ours === 'string') rows.push(['doc-anon-torch', `${size} ${model}`, String(th), ours, '', '', '', '', '', '', '', '']);
          else rows.push(fmtRow(ours));
          if (py && typeof py !== 'string') {
            const ref = runReference(py, spec);
            if (typeof ref === 'string') rows.push(['eager PyTorch', `${size} ${model}`, String(th), ref, '', '', '', '', '', '', '', '']);
            else {
              rows.push(fmtRow(ref, typeof ours === 'string' ? undefined : ours));
              if (ref.phases) phaseRows.push([`${size} ${model}`, String(th), ...phaseNames.map((n) => (ref.phases?.[n] ?? 0).toFixed(n === 'forward + loss' || n === 'backward' ? 0 : 1))]);
            }
          }
        }
    }
  if (writeCases) return;
  console.log('');
  console.log(configs.join('\n'));
  console.log('');
  console.log(
    table(['impl', 'config', 'threads', 'samples/step', 'timed steps', 'samples/s', 'mean ms/step', 'min ms/step', 'data wait', 'peak RSS MiB', 'build s', 'ours / eager'], rows),
  );
  if (phaseRows.length > 0) {
    console.log('\neager PyTorch step, mean ms per timed step by part (the same libtorch kernels run in ours, in one native call):\n');
    console.log(table(['config', 'threads', ...phaseNames], phaseRows));
  }
  console.log('\n(data wait: time the step waited on the prefetcher / step wall time, summed over the timed steps; ours / eager: our throughput relative to the eager row\'s, > 100% = ours faster; build s: model + trainer creation)');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
