/**
 * modal/app.py, imported with a stub `modal` module (no Modal servers): GPUs, secrets, timeouts,
 * retries, image steps and the exact CLI each function runs.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

interface Inspected {
  functions: Record<string, { opts: Record<string, unknown>; web: { port: number } | null; concurrent: unknown }>;
  images: unknown[][][];
  secrets: Array<{ name: string; required_keys?: string[] }>;
  entrypoints: string[];
  train_command: { unet: string[]; vae: string[] };
  serve_command: string[];
}

const out = JSON.parse(
  execFileSync('python3', [path.join(root, 'test', 'modal', 'inspect_app.py'), path.join(root, 'modal', 'app.py')], {
    env: { ...process.env, PYTHONPATH: path.join(root, 'test', 'modal', 'stub') },
    encoding: 'utf8',
  }),
) as Inspected;

describe('modal/app.py', () => {
  it('trains on GPUs with the R2 secret, a day-long timeout and retries', () => {
    for (const name of ['train_vae', 'train_unet']) {
      const f = out.functions[name];
      expect(f.opts.gpu).toBe('H100:8');
      expect(f.opts.secrets).toEqual(['doc-anon-r2']);
      expect(f.opts.timeout).toBe(24 * 3600);
      expect((f.opts.retries as { max_retries: number }).max_retries).toBeGreaterThanOrEqual(1);
    }
    expect(out.secrets[0].required_keys).toEqual(['R2_ACCOUNT_ID', 'R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY']);
    expect(out.entrypoints).toContain('train');
  });

  it('runs the package CLI on cuda with NCCL ranks per GPU and resumes from R2', () => {
    expect(out.train_command.unet).toEqual([
      'node', '/app/lib/cli/main.js', 'train-unet', '--config', 'configs/training/unet.yaml', '--device', 'cuda', '--nproc', '8', '--resume',
    ]);
    expect(out.train_command.vae).toEqual([
      'node', '/app/lib/cli/main.js', 'train-vae', '--config', 'configs/training/vae.yaml', '--device', 'cuda', '--nproc', '2', '--resume', '--max-steps', '100',
    ]);
  });

  it('builds an image with Node 20, a CUDA PyTorch and the native build against its libtorch', () => {
    const steps = JSON.stringify(out.images[0]);
    expect(steps).toContain('nvidia/cuda:');
    expect(steps).toContain('torch==2.13.0');
    expect(steps).toContain('download.pytorch.org/whl/cu');
    expect(steps).toContain('setup_20.x');
    expect(steps).toMatch(/LIBTORCH=.*npm ci/);
    expect(steps).toContain('libgloo-dev');
  });

  it('serves the same HTTP API on a smaller GPU', () => {
    const f = out.functions.anonymize;
    expect(f.opts.gpu).toBe('L4');
    expect(f.web?.port).toBe(8080);
    expect(out.serve_command.slice(0, 3)).toEqual(['node', '/app/lib/cli/main.js', 'serve']);
    expect(out.serve_command).toContain('--config');
  });
});

describe('configs/inference', () => {
  it.each(['modal.yaml', 'local.yaml'])('%s validates against the server schema', async (file) => {
    const { loadConfigFile } = await import('../../src/core/config');
    const { ServerOptionsSchema } = await import('../../src/server/options');
    const c = loadConfigFile(ServerOptionsSchema, path.join(root, 'configs', 'inference', file));
    expect(c.anonymizer?.engine).toBe(file === 'modal.yaml' ? 'diffute' : 'classic');
  });

  it('on an interrupt (preemption) gives the launcher SIGTERM and time to checkpoint, then lets the interrupt go on', () => {
    const lines = execFileSync('python3', [path.join(root, 'test', 'modal', 'run_interrupt.py'), path.join(root, 'modal', 'app.py')], {
      env: { ...process.env, PYTHONPATH: path.join(root, 'test', 'modal', 'stub') },
      encoding: 'utf8',
      timeout: 60_000,
    })
      .trim()
      .split('\n');
    // subprocess.run would have SIGKILLed the launcher 0.25 s after the interrupt: no checkpoint.
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ interrupt_raised: true, marker: 'checkpointed', failure: 3 });
  });
});

