/**
 * Data-parallel training on 2 CPU ranks over loopback (c10d Gloo):
 *  - the all-reduce is an exact mean for several sizes and dtypes (float32, bfloat16, float64),
 *    mixed in one call (the C++ harness check dist.allreduce: 2 ranks as 2 threads on one TCPStore);
 *  - `doc-anon train-vae --nproc 2` (2 child processes, batch B each) ends with the same weights
 *    as one process with batch 2B over the same examples, within float tolerance.
 * Needs the native addon built with the gloo headers (libgloo-dev): skipped otherwise, saying so.
 * The children run the compiled CLI, so this builds lib/ first (npm run build:ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/main';
import { readSafetensors } from '../../src/core/safetensors';
import { native } from '../../src/native/loader';
import { checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';

const ROOT = path.join(__dirname, '..', '..');
const gloo = native().info().gloo;
// With gloo (libgloo-dev, which .ci/run installs) the equivalence tests run; without it the same
// suite checks that distributed CPU training is refused cleanly. In CI gloo is required.
const maybe = gloo ? describe : (_name: string, _fn: () => void): void => undefined;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-dist-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The tiny local VAE config, deterministic given the data (no posterior sampling), batch `batch`. */
function vaeConfig(batch: number): string {
  const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', 'vae.local.yaml'), 'utf8'));
  cfg.train.max_steps = 4;
  cfg.train.batch_size = batch;
  cfg.data.crop_size = 32;
  // The posterior draw would differ between one batch of 2B and two of B (the generator's stream
  // is consumed differently); everything else in the step is a function of the examples.
  cfg.loss.sample_posterior = false;
  cfg.checkpoint.every = 4;
  const file = path.join(tmp, `vae-b${batch}.yaml`);
  fs.writeFileSync(file, YAML.stringify(cfg));
  return file;
}

/** Largest elementwise |a - b| over all tensors of two safetensors files with the same keys. */
async function maxAbsDiff(a: string, b: string): Promise<{ maxDiff: number; tensors: number }> {
  const A = (await readSafetensors(a)).tensors;
  const B = (await readSafetensors(b)).tensors;
  expect(Object.keys(A).sort()).toEqual(Object.keys(B).sort());
  let maxDiff = 0;
  for (const k of Object.keys(A)) {
    const x = await A[k].data<'float32'>();
    const y = await B[k].data<'float32'>();
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
  }
  for (const t of [...Object.values(A), ...Object.values(B)]) t.dispose();
  return { maxDiff, tensors: Object.keys(A).length };
}

maybe('data-parallel training (2 CPU ranks, Gloo on loopback)', () => {
  it('all-reduce mean is exact for sizes 1..1M and float32 / bfloat16 / float64 (harness dist.allreduce)', () => {
    const harness = path.join(ROOT, 'build', 'docanon_harness');
    if (!fs.existsSync(harness)) throw new Error(`${harness} is missing: run npm run build:native`);
    const out = execFileSync(harness, ['dist.allreduce'], { encoding: 'utf8', timeout: 120_000 });
    expect(out).toMatch(/\b1 passed, 0 failed/);
    expect(out).toMatch(/BFloat16 n=1048576 rank1/);
  });

  it('--nproc 2 with batch B equals one process with batch 2B (weights, EMA)', async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    const dp = path.join(tmp, 'dp');
    const sp = path.join(tmp, 'sp');
    const sp2 = path.join(tmp, 'sp2');
    process.env.DOC_ANON_LOG_LEVEL = 'warn';
    try {
      expect(await main(['train-vae', '--config', vaeConfig(2), '--nproc', '2', '--out', dp])).toBe(0);
      expect(await main(['train-vae', '--config', vaeConfig(4), '--out', sp])).toBe(0);
      // A control: one rank's batch alone trains differently, so the equality above is not vacuous.
      expect(await main(['train-vae', '--config', vaeConfig(2), '--out', sp2])).toBe(0);
    } finally {
      delete process.env.DOC_ANON_LOG_LEVEL;
    }
    const a = latestCheckpoint(checkpointsRoot(dp)) as string;
    const b = latestCheckpoint(checkpointsRoot(sp)) as string;
    const c = latestCheckpoint(checkpointsRoot(sp2)) as string;
    expect(path.basename(a)).toBe('step-00000004');
    expect(path.basename(b)).toBe('step-00000004');
    // Only rank 0 writes: one metrics line per step.
    expect(fs.readFileSync(path.join(dp, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    for (const f of ['model/diffusion_pytorch_model.safetensors', 'ema/diffusion_pytorch_model.safetensors']) {
      const same = await maxAbsDiff(path.join(a, f), path.join(b, f));
      expect({ f, ok: same.maxDiff < 1e-5, maxDiff: same.maxDiff }).toEqual({ f, ok: true, maxDiff: same.maxDiff });
      const control = await maxAbsDiff(path.join(c, f), path.join(b, f));
      expect(control.maxDiff).toBeGreaterThan(1e-4);
    }
  });

  it('--dry-run shows the ranks', async () => {
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (chunks.push(String(s)), true));
    try {
      expect(await main(['train-vae', '--config', vaeConfig(2), '--nproc', '2', '--dry-run'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const plan = JSON.parse(chunks.join(''));
    expect(plan).toMatchObject({ nproc: 2, examplesPerStep: 4, microBatch: 2, distributed: { launcher: 'nproc', backend: 'gloo' } });
    expect(plan.distributed.ranks.map((r: { rank: number }) => r.rank)).toEqual([0, 1]);
  });
});

if (!gloo) {
  describe('data-parallel training without the gloo headers', () => {
    it('is required in CI (.ci/run installs libgloo-dev)', () => {
      expect({ ci: process.env.CI === 'true', gloo }).toEqual({ ci: false, gloo: false });
    });

    it('--nproc 2 fails with ERR_UNSUPPORTED and says how to enable it', async () => {
      const err: string[] = [];
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
      let code: number;
      try {
        code = await main(['train-vae', '--config', vaeConfig(2), '--nproc', '2', '--max-steps', '1', '--out', path.join(tmp, 'nogloo')]);
      } finally {
        spy.mockRestore();
      }
      expect(code).not.toBe(0);
      expect(err.join('')).toMatch(/ERR_UNSUPPORTED[\s\S]*libgloo-dev/);
    });
  });
}
