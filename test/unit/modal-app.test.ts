/**
 * modal/app.py, imported with a stub `modal` module (no Modal servers): GPUs, secrets, timeouts,
 * retries, image steps and the exact CLI each function runs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const appPy = path.join(root, 'modal', 'app.py');
// No __pycache__ left in the checkout.
const stubEnv = { ...process.env, PYTHONPATH: path.join(root, 'test', 'modal', 'stub'), PYTHONDONTWRITEBYTECODE: '1' };

type Step = unknown[];
interface Inspected {
  functions: Record<string, { opts: Record<string, unknown>; web: { port: number } | null; concurrent: unknown }>;
  images: Step[][];
  secrets: Array<{ name: string; required_keys?: string[] }>;
  entrypoints: string[];
  ignore: string[];
  ignore_at_root: Record<string, boolean>;
  tracked_dropped: Record<string, string[]>;
  native_check_py: string;
  train_command: { unet: string[]; vae: string[]; out: string[] };
  serve_command: string[];
}
interface Ran {
  cmd: string[];
  cwd: string;
}
interface Functions {
  container: Ran[];
  remote_calls: Array<{ function: string; options: Record<string, unknown>; args: unknown[]; kwargs: Record<string, unknown> }>;
  remote_calls_after_errors: number;
  final_exit: string | null;
  errors: Record<string, { type: string; message: string } | null>;
  serve: Ran[];
}

const py = <T>(script: string): T =>
  JSON.parse(execFileSync('python3', [path.join(root, 'test', 'modal', script), appPy], { env: stubEnv, encoding: 'utf8' })) as T;
const out = py<Inspected>('inspect_app.py');
const calls = py<Functions>('run_functions.py');

const cli = (...rest: string[]): string[] => ['node', '/app/lib/cli/main.js', ...rest];

describe('modal/app.py functions', () => {
  it('trains on GPUs with the R2 secret, a day-long timeout and retries', () => {
    for (const name of ['train_vae', 'train_unet']) {
      const f = out.functions[name];
      expect(f.opts.gpu).toBe('H100:8');
      expect(f.opts.cpu).toBe(32); // 4 cores per GPU for its rank's data pipeline
      expect(f.opts.secrets).toEqual(['doc-anon-r2']);
      expect(f.opts.timeout).toBe(24 * 3600);
      expect((f.opts.retries as { max_retries: number }).max_retries).toBeGreaterThanOrEqual(1);
    }
    expect(out.entrypoints).toContain('train');
  });

  it('attaches the R2 secret to every function and the serve secret (token, replacement secret) to the endpoint only', () => {
    expect(Object.fromEntries(Object.entries(out.functions).map(([n, f]) => [n, f.opts.secrets]))).toEqual({
      train_vae: ['doc-anon-r2'],
      train_unet: ['doc-anon-r2'],
      anonymize: ['doc-anon-r2', 'doc-anon-serve'],
    });
    expect(out.secrets).toEqual([
      { name: 'doc-anon-r2', required_keys: ['R2_ACCOUNT_ID', 'R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY'] },
      { name: 'doc-anon-serve', required_keys: ['DOC_ANON_TOKEN', 'DOC_ANON_SECRET'] },
    ]);
  });

  it('runs the package CLI on cuda with NCCL ranks per GPU, resumes from R2 and writes outside the image', () => {
    expect(out.train_command.unet).toEqual(
      cli('train-unet', '--config', 'configs/training/unet.yaml', '--device', 'cuda', '--nproc', '8', '--resume', '--out', '/runs/unet'),
    );
    expect(out.train_command.vae).toEqual(
      cli('train-vae', '--config', 'configs/training/vae.yaml', '--device', 'cuda', '--nproc', '2', '--resume', '--out', '/runs/vae', '--max-steps', '100'),
    );
    expect(out.train_command.out).toEqual(cli('train-vae', '--config', 'c.yaml', '--device', 'cuda', '--nproc', '1', '--resume', '--out', '/tmp/x'));
  });

  it('train_vae and train_unet each run their own kind, from /app', () => {
    expect(calls.container).toEqual([
      {
        cmd: cli('train-vae', '--config', 'configs/training/vae.yaml', '--device', 'cuda', '--nproc', '8', '--resume', '--out', '/runs/vae'),
        cwd: '/app',
      },
      {
        cmd: cli('train-unet', '--config', 'configs/training/unet.local.yaml', '--device', 'cuda', '--nproc', '2', '--resume', '--out', '/runs/unet', '--max-steps', '10'),
        cwd: '/app',
      },
    ]);
  });

  it('the train entrypoint gives the chosen function the GPU type and count of the run, and 4 CPU cores per GPU', () => {
    expect(calls.remote_calls).toEqual([
      { function: 'train_vae', options: { gpu: 'A100-80GB:4', cpu: 16 }, args: ['configs/training/vae.yaml', 4, null], kwargs: {} },
      { function: 'train_unet', options: { gpu: 'H100:8', cpu: 32 }, args: ['configs/training/unet.local.yaml', 8, 50], kwargs: {} },
    ]);
  });

  it('the train entrypoint rejects an unknown kind, a count inside --gpu and a count below 1, before launching anything', () => {
    expect(calls.errors.kind).toEqual({ type: 'ValueError', message: "--kind must be one of vae, unet, got 'gan'" });
    expect(calls.errors.gpu_with_count?.type).toBe('ValueError');
    expect(calls.errors.gpu_with_count?.message).toContain('--count');
    expect(calls.errors.count?.type).toBe('ValueError');
    expect(calls.remote_calls_after_errors).toBe(2);
  });

  it('a run that ends in bad input (exit 2: config, sources, divergence) is not retried and fails the entrypoint', () => {
    // The container returns the code (a raise would make Modal retry it on the same GPUs for nothing)...
    expect(calls.final_exit).toBe('train-vae failed with exit code 2 (not retried: fix the config or data; the log says what)');
  });

  it('serves the same HTTP API on a smaller GPU, and never starts without its bearer token', () => {
    const f = out.functions.anonymize;
    expect(f.opts.gpu).toBe('L4');
    expect(f.web?.port).toBe(8080);
    expect(out.serve_command.slice(0, 3)).toEqual(cli('serve'));
    expect(out.serve_command).toContain('--config');
    expect(calls.errors.serve_without_token?.type).toBe('RuntimeError');
    expect(calls.errors.serve_without_token_with_secret?.message).toContain('DOC_ANON_TOKEN');
    expect(calls.serve).toEqual([{ cmd: out.serve_command, cwd: '/app' }]);
  });
});

describe('modal/app.py image', () => {
  const steps = out.images[0];
  // One entry per file added or command run, in build order.
  const events = steps.flatMap((s): Array<{ op: string; arg: string; dir?: boolean; copy?: boolean; ignore?: string[] }> => {
    if (s[0] === 'run_commands') return (s[1] as string[]).map((c) => ({ op: 'run', arg: c }));
    if (s[0] === 'add_local_dir' || s[0] === 'add_local_file') {
      const kw = s[3] as { copy?: boolean; ignore?: string[] };
      return [{ op: 'add', arg: s[1] as string, dir: s[0] === 'add_local_dir', copy: kw.copy, ignore: kw.ignore }];
    }
    return [{ op: s[0] as string, arg: '' }];
  });
  const at = (pred: (e: (typeof events)[number]) => boolean): number => {
    const i = events.findIndex(pred);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };
  const added = (name: string): number => at((e) => e.op === 'add' && e.arg === name);
  const ran = (re: RegExp): number => at((e) => e.op === 'run' && re.test(e.arg));

  it('builds an image with Node 24 (no AWS SDK warning on the R2 uploads), a CUDA PyTorch and the native build against its libtorch', () => {
    const all = JSON.stringify(steps);
    expect(all).toContain('nvidia/cuda:');
    expect(all).toContain('torch==2.13.0');
    expect(all).toContain('download.pytorch.org/whl/cu');
    expect(all).toContain('setup_24.x');
    expect(all).toMatch(/LIBTORCH=.*scripts\/build-native\.sh/);
    expect(all).toContain('libgloo-dev');
  });

  it('adds only the native build inputs before npm ci and the native build, TypeScript after them, then checks the addon', () => {
    const npmCi = ran(/npm ci/);
    const native = ran(/LIBTORCH=.*build-native\.sh/);
    const tsc = ran(/npm run build:ts/);
    const check = ran(/info --json/);
    const before = events.slice(0, npmCi).filter((e) => e.op === 'add').map((e) => e.arg);
    expect(before).toEqual(['package.json', 'package-lock.json', 'CMakeLists.txt', 'native', 'scripts']);
    expect(npmCi).toBeLessThan(native);
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'src']) {
      expect(added(f)).toBeGreaterThan(native);
      expect(added(f)).toBeLessThan(tsc);
    }
    expect(check).toBeGreaterThan(tsc);
    // The build inputs are layers (later commands read them); package.json's scripts are what npm ci would run.
    for (const e of events.slice(0, tsc).filter((x) => x.op === 'add')) expect(e.copy).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // install.cjs builds from source with build-native.sh whenever LIBTORCH is set; prepare is build:ts.
    expect(pkg.scripts.install).toBe('node scripts/install.cjs');
    expect(fs.readFileSync(path.join(root, 'scripts', 'install.cjs'), 'utf8')).toMatch(/if \(env\.LIBTORCH\) return/);
    expect(pkg.scripts.prepare).toBe('npm run build:ts');
    expect(events[npmCi].arg).toContain('--ignore-scripts');
  });

  it('runs no build step after a copy=False add, and every command is one line (a Dockerfile RUN)', () => {
    const firstMounted = events.findIndex((e) => e.op === 'add' && e.copy === false);
    expect(firstMounted).toBeGreaterThan(0);
    expect(events.slice(firstMounted).every((e) => e.op === 'add' && e.copy === false)).toBe(true);
    for (const e of events.filter((x) => x.op === 'run')) expect(e.arg).not.toContain('\n');
  });

  it('the build check fails an addon without CUDA or NCCL and passes a CUDA + NCCL one with no GPU visible', () => {
    const check = (info: object): { ok: boolean; text: string } => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'modal-info-')), 'info.json');
      fs.writeFileSync(file, JSON.stringify(info));
      try {
        return { ok: true, text: execFileSync('python3', ['-c', out.native_check_py, file], { encoding: 'utf8', stdio: 'pipe' }) };
      } catch (e) {
        return { ok: false, text: String((e as { stderr: string }).stderr) };
      }
    };
    const info = (builtWithCuda: boolean, nccl: boolean): object => ({
      version: '0.1.0',
      libtorch: '2.13.0',
      cuda: { available: false, deviceCount: 0, builtWithCuda },
      gloo: true,
      nccl,
    });
    expect(check(info(true, true))).toEqual({ ok: true, text: expect.stringContaining('native build ok') });
    expect(check(info(false, true))).toEqual({ ok: false, text: expect.stringContaining('CPU-only libtorch') });
    expect(check(info(true, false))).toEqual({ ok: false, text: expect.stringContaining('without NCCL') });
    // The command runs exactly this check on what `doc-anon info --json` printed.
    expect(events[ran(/info --json/)].arg).toContain(out.native_check_py.slice(0, 40));
  });

  it('keeps local runs, data, weights, caches and build outputs out of the image', () => {
    for (const p of ['runs', 'data', 'weights', '.device-node', '.device-fixtures', '.ref', '.cache', 'build', 'lib', 'node_modules', '**/*.log']) {
      expect(out.ignore).toContain(p);
    }
    for (const [p, hit] of Object.entries(out.ignore_at_root)) {
      expect([p, hit]).toEqual([p, !/^(src|scripts|configs)\//.test(p)]);
    }
    // Folders are added one by one (never the repo root), and no tracked file of theirs is dropped.
    expect(events.filter((e) => e.op === 'add').map((e) => e.arg)).not.toContain('.');
    expect(out.tracked_dropped).toEqual({ native: [], scripts: [], src: [], web: [], configs: [], assets: [], schemas: [] });
    for (const e of events.filter((x) => x.dir)) expect(e.ignore).toContain('**/node_modules');
  });

  it('ships every runtime file of the package (package.json "files") into /app', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    const adds = steps.filter((s) => s[0] === 'add_local_dir' || s[0] === 'add_local_file');
    // By top-level entry: lib/ is compiled in the image, prebuilt/ only exists in a packed tarball
    // (the image builds the addon from source against its CUDA libtorch).
    const top = [...new Set(pkg.files.map((x) => x.split('/')[0]))];
    expect(top).toEqual(expect.arrayContaining(['lib', 'native', 'scripts', 'prebuilt']));
    for (const f of top.filter((x) => !['lib', 'prebuilt', 'README.md'].includes(x))) {
      expect(adds.map((s) => [s[1], s[2]])).toContainEqual([f, `/app/${f}`]);
    }
  });
});

describe('modal/app.py launcher (_run)', () => {
  it('on an interrupt (preemption) gives the launcher SIGTERM and time to checkpoint, then lets the interrupt go on', () => {
    const lines = execFileSync('python3', [path.join(root, 'test', 'modal', 'run_interrupt.py'), appPy], {
      env: stubEnv,
      encoding: 'utf8',
      timeout: 60_000,
    })
      .trim()
      .split('\n');
    // subprocess.run would have SIGKILLed the launcher 0.25 s after the interrupt: no checkpoint.
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ interrupt_raised: true, marker: 'checkpointed', failure: 3, final: 2, ok: 0 });
  });
});

describe('configs/inference', () => {
  it.each(['modal.yaml', 'local.yaml'])('%s validates against the server schema', async (file) => {
    const { loadConfigFile } = await import('../../src/core/config');
    const { ServerOptionsSchema } = await import('../../src/server/options');
    const c = loadConfigFile(ServerOptionsSchema, path.join(root, 'configs', 'inference', file));
    expect(c.anonymizer?.engine).toBe(file === 'modal.yaml' ? 'diffute' : 'classic');
  });
});
