/**
 * modal/app.py, imported with a stub `modal` module (no Modal servers) that takes exactly the
 * parameters of the Modal client the app is written for (test/modal/modal-signatures.json, recorded
 * from that version's source) and refuses what Modal refuses: GPUs, secrets, timeouts, retries,
 * image steps, the wheel / CUDA base image pair and the exact CLI each function runs. Where the real
 * `modal` package is installed, the app is also imported with it (Modal's own validation).
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
  torch: { version: string; cuda: string; spec: string; index: string; base_image: string; gcc: string; jobs: number };
  modal_version: string;
  local_sources: Record<string, string[]>;
}
interface Ran {
  cmd: string[];
  cwd: string;
  omp?: string;
  grace?: number;
  help?: string;
  config?: unknown;
  on_exit?: boolean;
}
interface Functions {
  container: Ran[];
  train_printed: string;
  gets: string[];
  remote_calls: Array<{ function: string; how: string; options: Record<string, unknown>; args: unknown[]; kwargs: Record<string, unknown> }>;
  remote_calls_after_errors: number;
  final_exit: string | null;
  errors: Record<string, { type: string; message: string } | null>;
  serve: Ran[];
  batch_printed: string;
  map_calls: Array<{ function: string; inputs: unknown[][]; kwargs: Record<string, unknown> }>;
  batch_remote: { function: string; how: string; args: unknown[] };
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
      plan_batch: ['doc-anon-r2'],
      anonymize_chunk: ['doc-anon-r2', 'doc-anon-serve'],
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

  it('train_vae and train_unet each run their own kind from /app (the Modal recipes by default), in a process group with 4 OMP threads per rank', () => {
    const group = { cwd: '/app', omp: '4', grace: 25 };
    expect(calls.container).toEqual([
      { cmd: cli('train-vae', '--config', 'configs/training/vae.modal.yaml', '--device', 'cuda', '--nproc', '8', '--resume', '--out', '/runs/vae'), ...group },
      {
        cmd: cli('train-unet', '--config', 'configs/training/unet.local.yaml', '--device', 'cuda', '--nproc', '2', '--resume', '--out', '/runs/unet', '--max-steps', '10'),
        ...group,
      },
    ]);
  });

  it('the train entrypoint spawns the chosen function (not a blocking .remote()) with the GPU type and count of the run, and 4 CPU cores per GPU', () => {
    expect(calls.remote_calls).toEqual([
      { function: 'train_vae', how: 'spawn', options: { gpu: 'A100-80GB:4', cpu: 16 }, args: ['configs/training/vae.modal.yaml', 4, null], kwargs: {} },
      { function: 'train_unet', how: 'spawn', options: { gpu: 'H100:8', cpu: 32 }, args: ['configs/training/unet.modal.yaml', 8, 50], kwargs: {} },
    ]);
    // It prints the call id, how to follow and cancel it; --wait (default) follows it, --no-wait returns.
    expect(calls.train_printed).toMatch(/call fc-stub0001/);
    expect(calls.train_printed).toContain('modal app logs doc-anon-torch');
    expect(calls.train_printed).toContain('modal app stop doc-anon-torch');
    expect(calls.gets).toEqual(['fc-stub0001']);
  });

  it('the train entrypoint refuses a config that reads local weights or data (not in the image); the .modal.yaml recipes read only r2://', () => {
    expect(calls.errors.local_weights?.message).toMatch(/unet\.yaml reads local weights or data.*weights\/stable-diffusion-2-inpainting\/unet.*dataset_dir: data\/documents/);
    expect(out.local_sources['unet.modal.yaml']).toEqual([]);
    expect(out.local_sources['vae.modal.yaml']).toEqual([]);
    expect(out.local_sources['vae.yaml'].length).toBeGreaterThanOrEqual(3);
  });

  it('the train entrypoint rejects an unknown kind, a count inside --gpu and a count below 1, before launching anything', () => {
    expect(calls.errors.kind).toEqual({ type: 'ValueError', message: "--kind must be one of vae, unet, got 'gan'" });
    expect(calls.errors.gpu_with_count?.type).toBe('ValueError');
    expect(calls.errors.gpu_with_count?.message).toContain('--count');
    expect(calls.errors.count?.type).toBe('ValueError');
    // Modal's GPU types: a typo fails before anything is launched.
    expect(calls.errors.unknown_gpu).toMatchObject({ type: 'InvalidError', message: expect.stringContaining("'H1000'") });
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
    expect(f.opts.retries).toBeUndefined(); // Modal refuses retries on web functions
    expect(f.opts.max_containers).toBeGreaterThanOrEqual(1); // a crashing deploy cannot fan out
  });

  it('serves the configured pipeline artifact or a pinned version, waits for serve to listen and ends the container when it exits', () => {
    const [configured, pinned] = calls.serve;
    expect(configured.cmd).toEqual([...out.serve_command.slice(0, -1), path.join(root, 'configs', 'inference', 'modal.yaml')]);
    expect(configured.on_exit).toBe(true);
    expect(configured.help).toContain('r2://doc-anon/models/diffute/latest');
    expect(configured.help).toContain('doc-anon models promote` comes with issue 23');
    // DOC_ANON_MODEL at deploy time: a copy of the config with that model.
    expect(pinned.config).toMatchObject({ anonymizer: { engine: 'diffute', model: 'r2://doc-anon/models/diffute/v3' }, port: 8080 });
    expect(pinned.help).toContain('r2://doc-anon/models/diffute/v3');
  });

  it('the endpoint fails at once when serve exits before listening (a missing model), with its error and how to publish or pin one; a later exit is reported', () => {
    // The real `doc-anon serve` (compiled CLI) with a pinned pipeline that does not exist.
    if (!fs.existsSync(path.join(root, 'lib', 'cli', 'main.js'))) throw new Error('lib/cli/main.js is missing: run npm run build:ts');
    const stdout = execFileSync('python3', [path.join(root, 'test', 'modal', 'run_serve.py'), root], {
      env: { ...process.env, DOC_ANON_LOG_LEVEL: 'warn', PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').pop() as string);
    // (serve's own words for a missing pipeline folder: ERR_NOT_FOUND naming it.)
    expect(r.missing_model).toMatch(/^doc-anon serve exited with code 2 before listening on port \d+\. MODEL-HELP\nIts last lines:\n[\s\S]*ERR_[A-Z_]+: [\s\S]*no-such-pipeline/);
    expect(r.missing_model_s).toBeLessThan(30); // not the 15-minute start-up timeout
    expect(r.listening_returned).toBe(true);
    expect(r.exit_seen).toEqual([3]);
  });

  it('the batch entrypoint plans remotely, then maps chunks of documents with the prefixes as keyword arguments', () => {
    expect(calls.batch_remote).toMatchObject({ function: 'plan_batch', how: 'remote', args: ['r2://b/in', 'r2://b/out'] });
    expect(calls.map_calls).toEqual([
      {
        function: 'anonymize_chunk',
        inputs: [[['in/p0.png', 'in/p1.png']], [['in/p2.png', 'in/p3.png']], [['in/p4.png']]],
        kwargs: { input_uri: 'r2://b/in', output_uri: 'r2://b/out', model: '' },
      },
    ]);
    expect(calls.batch_printed).toMatch(/5 documents to anonymize in 3 chunks[\s\S]*4 done, 1 refused/);
    const f = out.functions.anonymize_chunk;
    expect(f.opts.gpu).toBe('L4');
    expect(f.opts.secrets).toEqual(['doc-anon-r2', 'doc-anon-serve']);
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

  it('pins a CUDA wheel that PyTorch publishes for that version, on a CUDA base image of the same CUDA', () => {
    const matrix = JSON.parse(fs.readFileSync(path.join(root, 'test', 'modal', 'pytorch-cuda-matrix.json'), 'utf8')) as {
      torch: Record<string, { stable: string[]; experimental: string[] }>;
    };
    const t = out.torch;
    const minor = t.version.split('.').slice(0, 2).join('.');
    expect(t.spec).toBe(`torch==${t.version}`);
    // A stable build of that version (2.13 has 12.6 and 13.0, no 12.8).
    expect(matrix.torch[minor].stable).toContain(t.cuda);
    const tag = /\/whl\/cu(\d+)(\d)$/.exec(t.index);
    expect(tag && `${tag[1]}.${tag[2]}`).toBe(t.cuda);
    // nvidia/cuda:<major>.<minor>.<patch>-devel-ubuntu22.04: the toolkit the native build may fall back on.
    const base = /^nvidia\/cuda:(\d+\.\d+)\.\d+-devel-ubuntu\d+\.\d+$/.exec(t.base_image);
    expect(base?.[1]).toBe(t.cuda);
    const [from, , pip] = steps;
    expect(from).toEqual(['from_registry', t.base_image, { add_python: '3.11' }]);
    expect(pip).toEqual(['pip_install', [t.spec], { index_url: t.index }]);
  });

  it('builds the addon with GCC 12 (the project\'s compiler) and bounded parallelism', () => {
    expect(out.torch.gcc).toBe('12');
    expect(JSON.stringify(steps[1])).toContain('g++-12');
    const native = events[ran(/build-native\.sh/)].arg;
    expect(native).toContain('CC=gcc-12 CXX=g++-12');
    expect(native).toMatch(/DOC_ANON_JOBS=[1-8] /);
    // build-native.sh reads DOC_ANON_JOBS for cmake-js --parallel.
    expect(fs.readFileSync(path.join(root, 'scripts', 'build-native.sh'), 'utf8')).toMatch(/JOBS="\$\{DOC_ANON_JOBS:-/);
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

describe('modal/container_entry.py launcher (run_group)', () => {
  it('on an interrupt (preemption) signals the launcher and its ranks (one process group), gives them the grace to checkpoint, kills what is left, then lets the interrupt go on', () => {
    const lines = execFileSync('python3', [path.join(root, 'test', 'modal', 'run_interrupt.py'), appPy], {
      env: stubEnv,
      encoding: 'utf8',
      timeout: 60_000,
    })
      .trim()
      .split('\n');
    // subprocess.run would have SIGKILLed the launcher alone 0.25 s after the interrupt: no checkpoint, orphaned ranks.
    expect(JSON.parse(lines[lines.length - 1])).toEqual({
      interrupt_raised: true,
      markers: ['launcher', 'rank'],
      rank_left: false,
      stubborn_raised: true,
      stubborn_within_grace: true,
      stubborn_left: false,
      ok_after_orphan: 0,
      orphan_left: false,
      failure: 3,
      final: 2,
      ok: 0,
    });
  });
});

describe('the stub `modal`: the parameters and limits of the Modal client the app is written for', () => {
  const sigs = JSON.parse(fs.readFileSync(path.join(root, 'test', 'modal', 'modal-signatures.json'), 'utf8')) as {
    modal_client: string;
    source: string;
    signatures: Record<string, { params: Array<{ name: string }> }>;
  };
  /** Runs `code` with the stub; 'ok' or the last line of its error. */
  const tryPy = (code: string): string => {
    try {
      execFileSync('python3', ['-c', `import modal\n${code}`], { env: stubEnv, stdio: 'pipe' });
      return 'ok';
    } catch (e) {
      return String((e as { stderr: Buffer }).stderr).trim().split('\n').pop() as string;
    }
  };

  it('is modal 1.5.4, recorded from that tag of the client source', () => {
    expect(out.modal_version).toBe('1.5.4');
    expect(sigs.source).toBe('github.com/modal-labs/modal-client tag py/v1.5.4');
    expect(sigs.signatures['App.function'].params.map((p) => p.name)).toEqual(expect.arrayContaining(['gpu', 'cpu', 'secrets', 'timeout', 'startup_timeout', 'retries', 'max_containers', 'scaledown_window', 'env']));
    expect(sigs.signatures['Retries'].params.map((p) => p.name)).toEqual(['max_retries', 'backoff_coefficient', 'initial_delay', 'max_delay']);
  });

  it('accepts what the app declares', () => {
    expect(tryPy('r = modal.Retries(max_retries=4, backoff_coefficient=1.0, initial_delay=10.0)')).toBe('ok');
  });

  it.each([
    ['a misspelled function option', 'modal.App("x").function(gpus="H100")', /unexpected keyword argument 'gpus'/],
    ['an option Modal 1.x removed', 'modal.App("x").function(keep_warm=1)', /unexpected keyword argument 'keep_warm'/],
    ['an option Modal 1.x renamed (container_idle_timeout)', 'modal.App("x").function(container_idle_timeout=300)', /unexpected keyword/],
    ['a misspelled image option', 'modal.Image.from_registry("a").pip_install("x", index="y")', /unexpected keyword argument 'index'/],
    ['a misspelled secret option', 'modal.Secret.from_name("s", required=["A"])', /unexpected keyword argument 'required'/],
    ['a positional Retries', 'modal.Retries(3)', /positional|missing a required/],
    ['a retry delay over 60 s', 'modal.Retries(max_retries=1, initial_delay=120.0)', /initial_delay/],
    ['a retry backoff under 1', 'modal.Retries(max_retries=1, backoff_coefficient=0.5)', /backoff_coefficient/],
    ['a timeout over 24 h', 'modal.App("x").function(timeout=90000)(lambda: 0)', /24 h/],
    ['a GPU count that is not a number', 'modal.App("x").function(gpu="H100:eight")(lambda: 0)', /Invalid GPU count/],
    ['retries on a web function', 'modal.App("x").function(retries=2)(modal.web_server(port=8080)(lambda: 0))', /Web Functions do not support retries/],
    ['@web_server above @app.function', 'modal.web_server(port=8080)(modal.App("x").function()(lambda: 0))', /below `@app.function`/],
    ['a web function with parameters', 'modal.App("x").function()(modal.web_server(port=8080)(lambda a: 0))', /can't have parameters/],
    ['@concurrent without max_inputs', 'modal.concurrent()', /max_inputs/],
    ['with_options with a misspelled option', 'f = modal.App("x").function()(lambda: 0)\nf.with_options(gpus="H100")', /unexpected keyword argument 'gpus'/],
    ['a spawn with an argument the function lacks', 'def g(a): pass\nmodal.App("x").function()(g).spawn(1, b=2)', /unexpected keyword argument 'b'/],
    ['map with a misspelled option', 'def g(a): pass\nmodal.App("x").function()(g).map([1], kwarg={})', /unexpected keyword argument 'kwarg'/],
  ])('refuses %s', (_what, code, message) => {
    expect(tryPy(code)).toMatch(message);
  });
});

// Where the real client is installed (not from this machine's package index), the app is imported
// with it too: Modal's own validation of every decorator and image step, no server needed.
const realModal = (() => {
  try {
    return execFileSync('python3', ['-c', 'import modal; print(modal.__version__)'], { env: { ...process.env, PYTHONPATH: '' }, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
})();
(realModal ? describe : describe.skip)(`modal/app.py with the real modal package (${realModal ?? 'not installed'})`, () => {
  it('imports, and declares the same functions and entrypoints', () => {
    const code = [
      'import importlib.util, json, sys',
      'spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])',
      'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
      'print(json.dumps(sorted(m.app.registered_functions)))',
    ].join('\n');
    const names = JSON.parse(execFileSync('python3', ['-c', code, appPy], { env: { ...process.env, PYTHONPATH: '', PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' }));
    expect(names).toEqual(Object.keys(out.functions).sort());
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
