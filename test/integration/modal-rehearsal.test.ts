/**
 * A CPU rehearsal of a Modal training container: modal/container_entry.py, the script
 * modal/app.py's train_vae / train_unet run, started as Modal starts it (`train`, with --device cpu
 * instead of cuda and this checkout as the repo), launcher + 2 ranks (Gloo) on the tiny VAE config
 * of training-distributed.test.ts. SIGINT to the entry script alone (Modal's preemption interrupt
 * reaches the function's process, not the launcher's group) must:
 *  - stop the launcher and both ranks after the same step, each with its checkpoint, within the grace;
 *  - leave no process of the run behind (no orphaned rank);
 *  - leave a checkpoint the next attempt (the same script, as Modal's retry runs it) resumes from.
 * Needs the native addon with gloo; builds lib/ first (the ranks run the compiled CLI).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { native } from '../../src/native/loader';
import { checkpointsRoot, latestCheckpoint, readCheckpointMeta } from '../../src/training/checkpoint';

const ROOT = path.join(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'modal', 'container_entry.py');
const gloo = native().info().gloo;
const maybe = gloo ? describe : describe.skip;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-modal-rehearsal-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Live processes (not zombies) whose command line mentions `needle`. */
function processesMentioning(needle: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (cmd.includes(needle) && state !== 'Z') out.push({ pid: Number(name), cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function runEntry(args: string[]): { done: Promise<{ code: number | null; log: string }>; pid: number; log: () => string } {
  const p = spawn('python3', [ENTRY, 'train', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOC_ANON_LOG_LEVEL: 'warn', PYTHONDONTWRITEBYTECODE: '1' },
  });
  let log = '';
  p.stdout?.on('data', (d) => (log += String(d)));
  p.stderr?.on('data', (d) => (log += String(d)));
  const done = new Promise<{ code: number | null; log: string }>((resolve) => p.once('exit', (code) => resolve({ code, log })));
  return { done, pid: p.pid as number, log: () => log };
}

maybe('Modal training container entry, rehearsed on CPU (launcher + 2 ranks)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  });

  it('SIGINT to the entry script: every rank checkpoints the same step, nothing is orphaned, and the next attempt resumes from it', async () => {
    const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', 'vae.local.yaml'), 'utf8'));
    cfg.train.max_steps = 100000;
    cfg.train.batch_size = 2;
    cfg.data.crop_size = 32;
    cfg.checkpoint.every = 100000; // only the checkpoint written on the interrupt
    const config = path.join(tmp, 'vae-tiny.yaml');
    fs.writeFileSync(config, YAML.stringify(cfg));
    const out = path.join(tmp, 'run');
    const common = ['--kind', 'vae', '--config', config, '--gpus', '2', '--device', 'cpu', '--repo', ROOT, '--out', out, '--cpu-per-gpu', '1'];

    const first = runEntry([...common, '--grace', '90']);
    const metrics = path.join(out, 'metrics.jsonl');
    const steps = (): number => (fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').trim().split('\n').filter(Boolean).length : 0);
    try {
      const t0 = Date.now();
      while (steps() < 3) {
        if (Date.now() - t0 > 90_000) throw new Error(`no training progress after 90 s: ${first.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The launcher and its ranks: 3 node processes with the run's folder on their command line.
      expect(processesMentioning(out).filter((p) => p.cmd.startsWith(process.execPath) || p.cmd.startsWith('node')).length).toBe(3);
      process.kill(first.pid, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        first.done,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not stopped within 120 s: ${first.log()}`)), 120_000))),
      ]).finally(() => clearTimeout(timer));
      expect({ code: r.code }).toEqual({ code: 130 });
      expect(r.log).toMatch(/interrupt: SIGTERM to the launcher and its ranks \(process group \d+\)/);
      expect(r.log).not.toMatch(/SIGKILL/); // they stopped within the grace
      // Nothing of the run is left.
      expect(processesMentioning(out)).toEqual([]);
    } finally {
      for (const p of processesMentioning(out)) process.kill(p.pid, 'SIGKILL');
    }
    const ckpt = latestCheckpoint(checkpointsRoot(out)) as string;
    const meta = readCheckpointMeta(ckpt);
    const stopped = steps();
    expect(meta).toMatchObject({ step: stopped, worldSize: 2 });
    expect(fs.existsSync(path.join(ckpt, 'rng_ranks.safetensors'))).toBe(true);

    // The retry: the same script, as Modal runs it again (always --resume), two steps further.
    const second = runEntry([...common, '--max-steps', String(stopped + 2)]);
    const r2 = await second.done;
    expect({ code: r2.code, log: r2.code === 0 ? '' : r2.log }).toEqual({ code: 0, log: '' });
    const after = readCheckpointMeta(latestCheckpoint(checkpointsRoot(out)) as string);
    expect(after).toMatchObject({ step: stopped + 2, worldSize: 2 });
    // It continued (the metrics go on from the stopped step), it did not start over.
    const lines = fs.readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: stopped + 2 }, (_, i) => i + 1));
    expect(processesMentioning(out)).toEqual([]);
  }, 300_000);
});
