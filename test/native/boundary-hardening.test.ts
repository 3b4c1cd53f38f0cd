/**
 * Inputs a fuzz of the native boundary found crashing the process (segfault, SIGFPE, SIGBUS,
 * abort) or hanging it, each now a DocAnonError with a code. The cases run in child processes:
 * a regression kills the child, not the test run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/core/package-paths';

const ADDON = JSON.stringify(path.join(packageRoot, 'build', 'Release', 'docanon.node'));
const HEADER = `const a = require(${ADDON}); a.init(class DocAnonError extends Error { constructor(code, m) { super(m); this.code = code; } });`;
const VAE = JSON.stringify({ in_channels: 3, out_channels: 3, latent_channels: 4, block_out_channels: [8, 8], down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'], up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'], layers_per_block: 1, norm_num_groups: 4 });

/** Runs `body` (which fills `out`) in a fresh node; returns its exit, signal and `out`. */
function runChild(body: string, dir: string): { status: number | null; signal: string | null; out: Record<string, string>; stderr: string } {
  const file = path.join(dir, `case-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, `${HEADER}\nconst out = {};\nconst code = (f) => { try { f(); return 'no error'; } catch (e) { return e.code ?? ('no code: ' + e.message); } };\nconst acode = (p) => p.then(() => 'no error', (e) => e.code ?? ('no code: ' + e.message));\n(async () => {\n${body}\nprocess.stdout.write(JSON.stringify(out));\nprocess.exit(0);\n})().catch((e) => { console.error(e); process.exit(3); });\n`);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
  let out: Record<string, string> = {};
  try {
    out = JSON.parse(r.stdout) as Record<string, string>;
  } catch {
    // (the child died before printing: status/signal say why)
  }
  return { status: r.status, signal: r.signal, out, stderr: r.stderr.slice(-2000) };
}

describe('native boundary: inputs that used to crash or hang the process', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-harden-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every case is a DocAnonError with its code', () => {
    const fifo = path.join(dir, 'fifo');
    const vaeDir = path.join(dir, 'vae-fifo');
    fs.mkdirSync(vaeDir);
    spawnSync('mkfifo', [fifo]);
    spawnSync('mkfifo', [path.join(vaeDir, 'config.json')]);
    const st = JSON.stringify(path.join(dir, 't.safetensors'));
    const r = runChild(
      `
      // A zero group count divided by zero (SIGFPE).
      const noGroups = JSON.parse(${JSON.stringify(VAE)}); noGroups.norm_num_groups = 0;
      out.vaeGroups = await acode(a.createModel({ kind: 'vae', config: JSON.stringify(noGroups) }));
      out.unetGroups = await acode(a.createModel({ kind: 'unet', config: JSON.stringify({ norm_num_groups: 0 }) }));
      // Handles of one kind passed to another class's constructor (any External was accepted).
      const vae = await a.createModel({ kind: 'vae', config: ${JSON.stringify(VAE)} });
      const trainer = await a.createTrainer(vae, {});
      const sched = a.createScheduler({ config: '{"num_train_timesteps":1000}', className: 'DDIMScheduler' });
      const tensor = a.TensorHandle.zeros({ shape: [2] });
      out.schedulerCtor = code(() => new sched.constructor(trainer));
      out.tensorCtor = code(() => new a.TensorHandle(trainer));
      out.modelCtor = code(() => new a.ModelHandle(trainer));
      // An accessor called on an object of another class.
      const getter = (o, k) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(o), k).get;
      out.schedulerGetter = code(() => getter(sched, 'className').call(tensor));
      out.tensorGetter = code(() => getter(tensor, 'numel').call(vae));
      out.modelGetter = code(() => getter(vae, 'kind').call(tensor));
      // A shape getter that detaches the data's buffer before it is copied.
      const buf = new ArrayBuffer(1 << 16), shape = [];
      Object.defineProperty(shape, 0, { enumerable: true, get() { structuredClone(buf, { transfer: [buf] }); return 1 << 16; } });
      out.detached = code(() => a.TensorHandle.fromTypedArray(new Uint8Array(buf), { shape, dtype: 'uint8' }));
      // A safetensors file truncated after it was opened (SIGBUS from the mapping).
      await a.writeSafetensors({ path: ${st}, names: ['a', 'b'], tensors: [a.TensorHandle.zeros({ shape: [1024, 64] }), a.TensorHandle.zeros({ shape: [1024, 64] })] });
      const h = await a.openSafetensors({ path: ${st} });
      require('fs').truncateSync(${st}, 100);
      out.truncated = await acode(h.load({ name: 'b' }));
      // FIFOs blocked the open (and the one compute thread) forever.
      out.fifoSafetensors = await acode(a.openSafetensors({ path: ${JSON.stringify(fifo)} }));
      out.fifoConfig = await acode(a.loadModel({ kind: 'vae', path: ${JSON.stringify(vaeDir)} }));
      // Counts far beyond any model built for hours or until memory ran out.
      const deep = JSON.parse(${JSON.stringify(VAE)}); deep.layers_per_block = 1e9;
      out.vaeLayers = await acode(a.createModel({ kind: 'vae', config: JSON.stringify(deep) }));
      out.unetLayers = await acode(a.createModel({ kind: 'unet', config: JSON.stringify({ layers_per_block: 100000 }) }));
      out.schedulerSteps = code(() => a.createScheduler({ config: '{"num_train_timesteps":1000000000}', className: 'DDIMScheduler' }));
      `,
      dir,
    );
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.out).toEqual({
      vaeGroups: 'ERR_CONFIG',
      unetGroups: 'ERR_CONFIG',
      schedulerCtor: 'ERR_ARGUMENT',
      tensorCtor: 'ERR_ARGUMENT',
      modelCtor: 'ERR_ARGUMENT',
      schedulerGetter: 'ERR_ARGUMENT',
      tensorGetter: 'ERR_ARGUMENT',
      modelGetter: 'ERR_ARGUMENT',
      detached: 'ERR_SHAPE',
      truncated: 'ERR_SAFETENSORS',
      fifoSafetensors: 'ERR_IO',
      fifoConfig: 'ERR_IO',
      vaeLayers: 'ERR_CONFIG',
      unetLayers: 'ERR_CONFIG',
      schedulerSteps: 'ERR_CONFIG',
    });
  });

  it('JS-thread gradient calls during a train step are ERR_BUSY (they raced the step), and a bad prefix is refused', () => {
    const r = runChild(
      `
      const vae = await a.createModel({ kind: 'vae', config: ${JSON.stringify(VAE)} });
      const trainer = await a.createTrainer(vae, {});
      // A step long enough (hundreds of ms here) to still be running when the calls below come.
      const x = a.TensorHandle.zeros({ shape: [2, 192, 192, 3], dtype: 'uint8' });
      const step = trainer.vaeStep({ micro: [x], recon: 'l1', klWeight: 1e-6, lpipsWeight: 0, lr: 1e-4, maxGradNorm: 1 });
      await new Promise((r) => setTimeout(r, 60));
      out.zeroGrad = code(() => vae.zeroGrad());
      out.setRequiresGrad = code(() => vae.setRequiresGrad({ requiresGrad: false }));
      out.grad = code(() => vae.grad({ name: vae.parameters()[0].name }));
      out.step = await acode(step);
      out.afterStep = code(() => vae.zeroGrad());
      // A prefix that is not a string used to mean "every parameter".
      out.prefix = code(() => vae.setRequiresGrad({ requiresGrad: false, prefix: 5 }));
      `,
      dir,
    );
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.out).toEqual({ zeroGrad: 'ERR_BUSY', setRequiresGrad: 'ERR_BUSY', grad: 'ERR_BUSY', step: 'no error', afterStep: 'no error', prefix: 'ERR_ARGUMENT' });
  });

  it('a worker thread using the addon can be terminated mid-call (it aborted the process)', () => {
    const worker = `${HEADER} require('worker_threads').parentPort.postMessage('ready'); a.testing.spin({ ms: 400 });`;
    const r = runChild(
      `
      const { Worker } = require('worker_threads');
      for (let i = 0; i < 6; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        await new Promise((r) => w.once('message', r));
        await new Promise((r) => setTimeout(r, 5 + i * 7));
        await w.terminate();
      }
      out.survived = 'yes';
      `,
      dir,
    );
    expect({ status: r.status, signal: r.signal, out: r.out }).toEqual({ status: 0, signal: null, out: { survived: 'yes' } });
  });
});

describe('the error class given to init()', () => {
  it('one that cannot construct errors still gives coded errors, and leaves no exception pending', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-init-'));
    try {
      for (const cls of ['() => {}', 'class Throws extends Error { constructor() { throw new Error("no"); } }']) {
        const file = path.join(dir, 'child.js');
        fs.writeFileSync(
          file,
          `const a = require(${ADDON}); a.init(${cls});
           let sync; try { a.TensorHandle.zeros({ shape: [-1] }); } catch (e) { sync = e.code; }
           a.createModel({ kind: 'vae', config: '{"norm_num_groups":0}' }).then(() => console.log('no error'), (e) => {
             process.stdout.write(JSON.stringify({ sync, async: e.code, isError: e instanceof Error }));
           });`,
        );
        const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
        expect({ status: r.status, stderr: r.stderr, out: r.stdout }).toEqual({
          status: 0,
          stderr: '',
          out: JSON.stringify({ sync: 'ERR_ARGUMENT', async: 'ERR_CONFIG', isError: true }),
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('process exit with native calls queued', () => {
  it('the calls queued behind the running one never start (exit used to wait for each of them)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-exit-'));
    try {
      const file = path.join(dir, 'child.js');
      const written = path.join(dir, 'saved-vae');
      // What the loader does: drop the queue on the main thread's 'exit' event.
      fs.writeFileSync(
        file,
        `${HEADER}
         process.once('exit', () => a.dropQueuedWork());
         a.createModel({ kind: 'vae', config: ${JSON.stringify(VAE)} }).then((vae) => {
           a.testing.spin({ ms: 1500 });
           // Queued once the spin holds the compute thread (two calls made at once may reach it in either order).
           setTimeout(() => vae.save({ dir: ${JSON.stringify(written)} }), 100);
           setTimeout(() => process.exit(0), 300);
         });`,
      );
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      // The queued write never ran (with the old exit it ran once the spin had finished).
      expect(fs.existsSync(written)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the loader drops the queue on the main thread exit', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { native } = require('../../src/native/loader') as typeof import('../../src/native/loader');
    const before = process.listeners('exit').length;
    native();
    const hooks = process.listeners('exit');
    expect(hooks.some((f) => /dropQueuedWork/.test(String(f)))).toBe(true);
    expect(hooks.length).toBeLessThanOrEqual(before + 1);
  });
});
