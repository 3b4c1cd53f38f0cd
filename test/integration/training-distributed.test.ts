/**
 * Data-parallel training on 2 CPU ranks over loopback (c10d Gloo):
 *  - the all-reduce is an exact mean for several sizes and dtypes (float32, bfloat16, float64),
 *    mixed in one call (the C++ harness check dist.allreduce: 2 ranks as 2 threads on one TCPStore);
 *  - `doc-anon train-vae --nproc 2` (2 child processes, batch B each) ends with the same weights
 *    as one process with batch 2B over the same examples, within float tolerance;
 *  - a 2-rank run resumed from a checkpoint equals the uninterrupted run bit for bit (each rank
 *    gets its own generator back);
 *  - a signal to one rank stops both after the same step, with a checkpoint and exit code 130, and
 *    so does a signal to the --nproc launcher, which waits for its ranks;
 *  - a rank that dies makes the other fail with ERR_IO (exit 2) instead of waiting forever.
 * Needs the native addon built with the gloo headers (libgloo-dev): skipped otherwise, saying so.
 * The children run the compiled CLI, so this builds lib/ first (npm run build:ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/main';
import { readSafetensors } from '../../src/core/safetensors';
import { native } from '../../src/native/loader';
import { freePort } from '../../src/training/launch';
import { checkpointsRoot, latestCheckpoint, readCheckpointMeta } from '../../src/training/checkpoint';

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
function vaeConfig(batch: number, o: { steps?: number; every?: number; sample?: boolean; name?: string } = {}): string {
  const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', 'vae.local.yaml'), 'utf8'));
  cfg.train.max_steps = o.steps ?? 4;
  cfg.train.batch_size = batch;
  cfg.data.crop_size = 32;
  // The posterior draw would differ between one batch of 2B and two of B (the generator's stream
  // is consumed differently); everything else in the step is a function of the examples.
  cfg.loss.sample_posterior = o.sample ?? false;
  cfg.checkpoint.every = o.every ?? 4;
  const file = path.join(tmp, `${o.name ?? 'vae'}-b${batch}.yaml`);
  fs.writeFileSync(file, YAML.stringify(cfg));
  return file;
}

/** Runs `fn` with the CLI's logs at warn (the children inherit it). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  process.env.DOC_ANON_LOG_LEVEL = 'warn';
  try {
    return await fn();
  } finally {
    delete process.env.DOC_ANON_LOG_LEVEL;
  }
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

  it('all-reduce mean of an integer tensor is ERR_DTYPE naming it (a mean of integers is no integer)', async () => {
    const g = await native().distInit({ rank: 0, worldSize: 1, masterAddr: '127.0.0.1', masterPort: await freePort(), device: 'cpu', timeoutMs: 30_000 });
    const { Tensor } = await import('../../src/core/tensor');
    const ok = Tensor.from(new Float32Array([1, 2]), [2]);
    const ints = Tensor.from(new Int32Array([1, 2]), [2], 'int32');
    try {
      await expect(g.allReduceMean({ tensors: [ok.handle, ints.handle] })).rejects.toMatchObject({ code: 'ERR_DTYPE', message: expect.stringContaining('tensors[1] is Int') });
      // The group still works afterwards.
      await g.allReduceMean({ tensors: [ok.handle] });
      expect(Array.from(await ok.data<'float32'>())).toEqual([1, 2]);
    } finally {
      ok.dispose();
      ints.dispose();
      g.dispose();
    }
  });

  it('a CPU rank waiting for its peers does not hold up the process\'s other native calls', async () => {
    const port = await freePort();
    const t0 = performance.now();
    // Rank 0 of 2: its peer never comes, so the join waits until its timeout.
    const join = native()
      .distInit({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, device: 'cpu', timeoutMs: 4000 })
      .then(() => 'joined', (e: { code?: string }) => e.code);
    const vae = await native().createModel({ kind: 'vae', config: JSON.stringify({ block_out_channels: [8], down_block_types: ['DownEncoderBlock2D'], up_block_types: ['UpDecoderBlock2D'], norm_num_groups: 4, layers_per_block: 1 }) });
    const modelReadyMs = performance.now() - t0;
    vae.dispose();
    expect(await join).toBe('ERR_IO');
    const joinMs = performance.now() - t0;
    // The model was made while the join waited (it used to queue behind it on the compute thread).
    expect(modelReadyMs).toBeLessThan(joinMs - 2000);
  });

  // The ranks run the compiled CLI.
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  });

  it('--nproc 2 with batch B equals one process with batch 2B (weights, EMA)', async () => {
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
    for (const f of ['vae/diffusion_pytorch_model.safetensors', 'ema_vae/diffusion_pytorch_model.safetensors']) {
      const same = await maxAbsDiff(path.join(a, f), path.join(b, f));
      expect({ f, ok: same.maxDiff < 1e-5, maxDiff: same.maxDiff }).toEqual({ f, ok: true, maxDiff: same.maxDiff });
      const control = await maxAbsDiff(path.join(c, f), path.join(b, f));
      expect(control.maxDiff).toBeGreaterThan(1e-4);
    }
  });

  it('a resumed 2-rank run equals the uninterrupted one bit for bit (every rank gets its own generator back)', async () => {
    // Posterior sampling on: each rank draws noise from its own generator every step.
    const cfg = vaeConfig(2, { steps: 4, every: 2, sample: true, name: 'resume' });
    const whole = path.join(tmp, 'dp-whole');
    const parts = path.join(tmp, 'dp-parts');
    await quietly(async () => {
      expect(await main(['train-vae', '--config', cfg, '--nproc', '2', '--out', whole])).toBe(0);
      expect(await main(['train-vae', '--config', cfg, '--nproc', '2', '--out', parts, '--max-steps', '2'])).toBe(0);
      expect(await main(['train-vae', '--config', cfg, '--nproc', '2', '--out', parts, '--resume'])).toBe(0);
    });
    const a = latestCheckpoint(checkpointsRoot(whole)) as string;
    const b = latestCheckpoint(checkpointsRoot(parts)) as string;
    expect([path.basename(a), path.basename(b)]).toEqual(['step-00000004', 'step-00000004']);
    expect(readCheckpointMeta(b).worldSize).toBe(2);
    for (const f of ['vae/diffusion_pytorch_model.safetensors', 'ema_vae/diffusion_pytorch_model.safetensors', 'trainer_state.safetensors', 'rng_ranks.safetensors']) {
      const equal = fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)));
      expect({ f, equal }).toEqual({ f, equal: true });
    }
    // The two ranks' generators are different streams (rank seeds differ).
    const rng = (await readSafetensors(path.join(b, 'rng_ranks.safetensors'))).tensors['rng.cpu'];
    expect(rng.shape[0]).toBe(2);
    const bytes = rng.dataSync<'uint8'>();
    const S = rng.shape[1];
    expect(Buffer.from(bytes.subarray(0, S)).equals(Buffer.from(bytes.subarray(S)))).toBe(false);
    // Resuming with another number of ranks is refused (the cursor and generators are per rank).
    const err: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    try {
      expect(await quietly(() => main(['train-vae', '--config', cfg, '--out', parts, '--resume', '--max-steps', '4']))).not.toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(err.join('')).toMatch(/ERR_CONFIG[\s\S]*2 rank/);
  });

  /**
   * Starts `train-vae` processes (one per environment, `extra` arguments), waits for 3 logged
   * steps, sends `signal` to process `target` and resolves with every exit code (null: killed),
   * failing when they do not all end within 60 s. Each process leads its own process group, so
   * the cleanup also reaches the ranks a launcher started.
   */
  async function trainThenSignal(
    name: string,
    envs: NodeJS.ProcessEnv[],
    extra: string[],
    target: number,
    signal: NodeJS.Signals,
  ): Promise<{ codes: (number | null)[]; logs: string[]; out: string }> {
    const cfg = vaeConfig(2, { steps: 100000, every: 100000, name });
    const out = path.join(tmp, `dp-${name}`);
    const entry = path.join(ROOT, 'lib', 'cli', 'main.js');
    const procs = envs.map((env) =>
      spawn(process.execPath, [entry, 'train-vae', '--config', cfg, '--out', out, ...extra], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        env: { ...process.env, DOC_ANON_LOG_LEVEL: 'warn', ...env },
      }),
    );
    const logs = procs.map(() => '');
    procs.forEach((r, i) => {
      r.stdout?.on('data', (d) => (logs[i] += String(d)));
      r.stderr?.on('data', (d) => (logs[i] += String(d)));
    });
    const exits = procs.map((r) => new Promise<number | null>((resolve) => r.once('exit', (code) => resolve(code))));
    const metrics = path.join(out, 'metrics.jsonl');
    const lines = (): number => (fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').trim().split('\n').filter(Boolean).length : 0);
    try {
      const t0 = Date.now();
      while (lines() < 3) {
        if (Date.now() - t0 > 60_000) throw new Error(`no training progress after 60 s (${lines()} steps): ${logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      procs[target].kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const codes = await Promise.race([
        Promise.all(exits),
        new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`not stopped within 60 s (exit codes ${procs.map((r) => r.exitCode)}): ${logs.join('\n')}`)), 60_000)),
        ),
      ]).finally(() => clearTimeout(timer));
      return { codes, logs, out };
    } finally {
      for (const r of procs) {
        try {
          process.kill(-(r.pid as number), 'SIGKILL');
        } catch {
          // The group is gone: everything in it has exited.
        }
      }
    }
  }

  /** The environments of 2 ranks as torchrun (or any launcher) sets them. */
  async function rankEnvs(): Promise<NodeJS.ProcessEnv[]> {
    const port = await freePort();
    return [0, 1].map((rank) => ({ RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) }));
  }

  /** Rank 0 logged every step it took and checkpointed the last one: all ranks stopped there. */
  function expectCheckpointOfLastStep(out: string): void {
    const ckpt = latestCheckpoint(checkpointsRoot(out)) as string;
    const meta = readCheckpointMeta(ckpt);
    const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    expect(meta).toMatchObject({ step: steps, worldSize: 2 });
    expect(meta.step).toBeGreaterThanOrEqual(3);
    expect(fs.existsSync(path.join(ckpt, 'rng_ranks.safetensors'))).toBe(true);
  }

  it('SIGINT to one rank stops both after the same step, with a checkpoint (exit 130)', async () => {
    const { codes, logs, out } = await trainThenSignal('signal', await rankEnvs(), [], 1, 'SIGINT');
    expect(codes).toEqual([130, 130]);
    expectCheckpointOfLastStep(out);
    // Rank 1 got the signal; rank 0 learned it from rank 1 and stopped at the same step.
    expect(logs[0]).toMatch(/another rank received a signal/);
    expect(logs[1]).toMatch(/signal received/);
  }, 180_000);

  it('SIGINT to the --nproc launcher stops its ranks with a checkpoint; it waits for them and exits 130', async () => {
    const { codes, logs, out } = await trainThenSignal('launcher', [{}], ['--nproc', '2'], 0, 'SIGINT');
    expect(codes).toEqual([130]);
    expectCheckpointOfLastStep(out);
    expect(logs[0]).toMatch(/each rank finishes its step and writes a checkpoint/);
    // A rank that stops on a signal (exit 130) is not a failure: nobody is killed.
    expect(logs[0]).not.toMatch(/failed: stopping the other ranks/);
  }, 180_000);

  it('a rank that dies makes the others fail with ERR_IO naming the collective (no hang, exit 2)', async () => {
    const { codes, logs } = await trainThenSignal('killed', await rankEnvs(), [], 1, 'SIGKILL');
    expect(codes).toEqual([2, null]);
    // Gloo's own reason varies with timing (closed by peer, reset by peer, a broken pipe); it names the peer.
    expect(logs[0]).toMatch(/ERR_IO: distributed [a-z -]+(\(stop flag\) )?failed on rank 0: .*\[127\.0\.0\.1\]/);
  }, 180_000);

  it('ranks that would resume from different steps (one machine has a checkpoint, another none) all refuse with ERR_CONFIG', async () => {
    const cfg = vaeConfig(2, { steps: 4, every: 2, name: 'apart' });
    const ahead = path.join(tmp, 'dp-apart-a');
    const empty = path.join(tmp, 'dp-apart-b');
    expect(await quietly(() => main(['train-vae', '--config', cfg, '--nproc', '2', '--max-steps', '2', '--out', ahead]))).toBe(0);
    const entry = path.join(ROOT, 'lib', 'cli', 'main.js');
    const envs = await rankEnvs();
    const runs = [ahead, empty].map(
      (out, rank) =>
        new Promise<{ code: number | null; log: string }>((resolve) => {
          const r = spawn(process.execPath, [entry, 'train-vae', '--config', cfg, '--out', out, '--resume'], {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, DOC_ANON_LOG_LEVEL: 'warn', ...envs[rank] },
          });
          let log = '';
          r.stdout?.on('data', (d) => (log += String(d)));
          r.stderr?.on('data', (d) => (log += String(d)));
          const timer = setTimeout(() => r.kill('SIGKILL'), 90_000);
          r.once('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, log });
          });
        }),
    );
    const [r0, r1] = await Promise.all(runs);
    for (const r of [r0, r1]) {
      expect(r.code).toBe(2);
      expect(r.log).toMatch(/ERR_CONFIG: the ranks would start from different steps \(rank 0: 2, rank 1: 0\)/);
    }
    // Nothing trained on either side.
    expect(fs.readFileSync(path.join(ahead, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(fs.existsSync(path.join(empty, 'metrics.jsonl'))).toBe(false);
  }, 180_000);

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
