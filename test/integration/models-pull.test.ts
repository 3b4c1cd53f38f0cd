/**
 * `doc-anon models pull / ls / verify` against a local Hub emulator (test/helpers/hub-emulator.ts),
 * never the real Hub: only the files we load are fetched, the plan comes before the weights, a cut
 * transfer resumes with a Range request, a file whose bytes do not match its sha256 is refused and
 * removed, a gated repository needs HF_TOKEN (never printed), a pin holds the commit and the sha256
 * of every file, and a folder is checked against its manifest.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlobCache } from '../../src/storage/cache';
import { pinModel, pullModel } from '../../src/models/hub-pull';
import { parsePullSpec } from '../../src/models/hub-registry';
import { runCli } from '../helpers/cli';
import { fixture } from '../helpers/fixtures';
import { HubEmulator } from '../helpers/hub-emulator';
import { tempDir } from './storage-server';

const SD2 = 'stabilityai/stable-diffusion-2-inpainting';
const read = (...p: string[]): Buffer => fs.readFileSync(fixture(...p));

/** An SD2-inpainting-shaped repository: the parts we load, and parts we must not fetch. */
function sd2Files(): Record<string, Buffer> {
  return {
    'model_index.json': Buffer.from(JSON.stringify({ _class_name: 'StableDiffusionInpaintPipeline', _diffusers_version: '0.8.0' })),
    'scheduler/scheduler_config.json': read('pipeline', 'scheduler_config.json'),
    'unet/config.json': read('unet', 'config.json'),
    'unet/diffusion_pytorch_model.safetensors': read('unet', 'diffusion_pytorch_model.safetensors'),
    'unet/diffusion_pytorch_model.fp16.safetensors': Buffer.concat([Buffer.from('half '), read('unet', 'diffusion_pytorch_model.safetensors').subarray(0, 4000)]),
    'vae/config.json': read('vae', 'config.json'),
    'vae/diffusion_pytorch_model.safetensors': read('vae', 'diffusion_pytorch_model.safetensors'),
    'text_encoder/model.safetensors': Buffer.alloc(3000, 7),
    '512-inpainting-ema.ckpt': Buffer.alloc(5000, 1),
    'README.md': Buffer.from('# not fetched\n'),
  };
}

let hub!: HubEmulator;
const savedEnv = { ...process.env };
beforeEach(async () => {
  hub = new HubEmulator();
  await hub.start();
  process.env.HF_ENDPOINT = hub.endpoint;
  delete process.env.HF_TOKEN;
  process.env.DOC_ANON_CACHE = tempDir('hub-cache');
});
afterEach(async () => {
  await hub.stop();
  for (const k of ['HF_ENDPOINT', 'HF_TOKEN', 'DOC_ANON_CACHE']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

const errors = (s: string): string[] | null => s.match(/ERR_\w+|internal error/g);

it('pull: the plan first (only what we load, sizes, the commit), then an interrupted download that resumes with Range; ls and verify see the folder; a second pull comes from the cache', async () => {
  const files = sd2Files();
  const commit = hub.commit(SD2, files);

  const dry = await runCli(['models', 'pull', 'sd2-inpainting', '--dry-run']);
  expect({ code: dry.code, errors: errors(dry.stderr) }).toEqual({ code: 0, errors: null });
  const plan = JSON.parse(dry.stdout);
  const wanted = ['model_index.json', 'scheduler/scheduler_config.json', 'unet/config.json', 'unet/diffusion_pytorch_model.safetensors', 'vae/config.json', 'vae/diffusion_pytorch_model.safetensors'];
  expect(plan.files.map((f: { path: string }) => f.path)).toEqual(wanted);
  expect(plan).toMatchObject({ repo: SD2, revision: 'main', commit, pinned: false, totalBytes: wanted.reduce((s, p) => s + files[p]!.length, 0) });
  expect(dry.stderr).toContain(`${SD2}@${commit} (main): 6 file(s)`);
  expect(hub.lfsBodyRequests()).toEqual([]); // a dry run fetches no weights

  const unetBytes = files['unet/diffusion_pytorch_model.safetensors']!;
  const cutAt = Math.floor(unetBytes.length / 3);
  hub.cutAfter.set('unet/diffusion_pytorch_model.safetensors', cutAt);
  const out = tempDir('hub-out');
  const r = await runCli(['models', 'pull', `sd2-inpainting@main`, '--out', out]);
  expect({ code: r.code, errors: errors(r.stderr) }).toEqual({ code: 0, errors: null });
  const result = JSON.parse(r.stdout);
  expect(result).toMatchObject({ repo: SD2, commit, pinned: false, cacheHits: 0, resumed: 1 });
  // The plan was printed before the first weights byte moved, and the resume asked for the rest only.
  expect(r.stderr.indexOf('6 file(s)')).toBeLessThan(r.stderr.indexOf('pulled '));
  expect(hub.requests.some((q) => q.url.startsWith('/cdn/') && q.range === `bytes=${cutAt}-${unetBytes.length - 1}`)).toBe(true);
  for (const p of wanted) {
    expect({ p, same: fs.readFileSync(path.join(result.dir, p)).equals(files[p]!) }).toEqual({ p, same: true });
    expect({ p, same: fs.readFileSync(path.join(out, p)).equals(files[p]!) }).toEqual({ p, same: true });
  }
  for (const p of ['text_encoder/model.safetensors', '512-inpainting-ema.ckpt', 'README.md', 'unet/diffusion_pytorch_model.fp16.safetensors']) {
    expect(fs.existsSync(path.join(result.dir, p))).toBe(false);
    expect(hub.requests.some((q) => q.url.includes(encodeURI(p)) && q.url.includes('/resolve/'))).toBe(false);
  }
  expect(r.stderr).toMatch(/next: doc-anon models assemble/);

  const ls = await runCli(['models', 'ls', '--json']);
  expect(ls.code).toBe(0);
  expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ source: `hf://${SD2}@${commit}`, dir: result.dir, kind: 'diffusers pipeline (StableDiffusionInpaintPipeline)', files: 6 })]);
  const ok = await runCli(['models', 'verify', out]);
  expect({ code: ok.code, ok: JSON.parse(ok.stdout).ok, checked: JSON.parse(ok.stdout).checked }).toEqual({ code: 0, ok: true, checked: 6 });

  // Tampered: a changed byte, a removed file and a stray file are each named; exit 1, ERR_INTEGRITY.
  const vae = path.join(out, 'vae', 'diffusion_pytorch_model.safetensors');
  const b = fs.readFileSync(vae);
  b[100] ^= 1;
  fs.writeFileSync(vae, b);
  fs.rmSync(path.join(out, 'unet', 'config.json'));
  fs.writeFileSync(path.join(out, 'stray.bin'), 'x');
  const bad = await runCli(['models', 'verify', out]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/ERR_INTEGRITY/);
  expect(JSON.parse(bad.stdout).problems).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ path: 'vae/diffusion_pytorch_model.safetensors', problem: 'sha256' }),
      expect.objectContaining({ path: 'unet/config.json', problem: 'missing' }),
      expect.objectContaining({ path: 'stray.bin', problem: 'unlisted' }),
    ]),
  );

  // Again, from the same cache: nothing downloaded.
  const before = hub.lfsBodyRequests().length;
  const again = await runCli(['models', 'pull', 'sd2-inpainting']);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ cacheHits: 6, dir: result.dir });
  expect(hub.lfsBodyRequests().length).toBe(before);
}, 120_000);

it('pull --variant fp16 takes the float16 weights where the repository has them, the full ones elsewhere', async () => {
  const files = sd2Files();
  hub.commit(SD2, files);
  const r = await runCli(['models', 'pull', SD2, '--variant', 'fp16']);
  expect({ code: r.code, errors: errors(r.stderr) }).toEqual({ code: 0, errors: null });
  const paths = JSON.parse(r.stdout).files.map((f: { path: string }) => f.path);
  expect(paths).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
  expect(paths).not.toContain('unet/diffusion_pytorch_model.safetensors');
  expect(paths).toContain('vae/diffusion_pytorch_model.safetensors');
  // An arbitrary repository: every .json and .safetensors, nothing else.
  expect(paths).toContain('text_encoder/model.safetensors');
  expect(paths).not.toContain('512-inpainting-ema.ckpt');
  expect(JSON.parse(r.stdout).dir).toMatch(/\+fp16$/);
});

it('a file whose bytes do not match its sha256 is refused and removed: nothing is cached or placed', async () => {
  hub.commit(SD2, sd2Files());
  hub.corrupt.add('vae/diffusion_pytorch_model.safetensors');
  const out = tempDir('hub-bad');
  const r = await runCli(['models', 'pull', 'sd2-inpainting', '--out', out]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/ERR_INTEGRITY/);
  const cache = new BlobCache();
  const vaeSha = (await import('node:crypto')).createHash('sha256').update(sd2Files()['vae/diffusion_pytorch_model.safetensors']!).digest('hex');
  expect(fs.existsSync(cache.blobPath(vaeSha))).toBe(false);
  expect(fs.readdirSync(cache.tmpDir)).toEqual([]);
  expect(fs.readdirSync(out)).toEqual([]);
  expect(fs.readdirSync(cache.hubDir)).toEqual([]);
});

it('a gated repository needs HF_TOKEN: ERR_UNAUTHORIZED without it (saying what to do), a pull with it; the token is never printed', async () => {
  const token = 'hf_emulatorSecretToken123';
  hub.commit(SD2, sd2Files(), { token });
  const denied = await runCli(['models', 'pull', 'sd2-inpainting']);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/ERR_UNAUTHORIZED.*HF_TOKEN/);
  process.env.HF_TOKEN = token;
  const r = await runCli(['models', 'pull', 'sd2-inpainting']);
  expect({ code: r.code, errors: errors(r.stderr) }).toEqual({ code: 0, errors: null });
  expect(r.stdout + r.stderr + denied.stderr).not.toContain(token);
  process.env.HF_TOKEN = 'not-a-token';
  const wrong = await runCli(['models', 'pull', 'sd2-inpainting']);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/ERR_CONFIG/);
  expect(wrong.stderr).not.toContain('not-a-token');
});

it('a pin holds its commit and sha256 values: main moving on does not change a pinned pull, a pin that disagrees with the Hub is refused before any weights move', async () => {
  const files = sd2Files();
  const first = hub.commit(SD2, files);
  const pin = await pinModel(parsePullSpec('sd2-inpainting@main', {}), { endpoint: hub.endpoint });
  expect(pin.revision).toBe(first);
  expect(Object.keys(pin.files)).toContain('unet/diffusion_pytorch_model.fp16.safetensors'); // both variants pinned
  expect(hub.lfsBodyRequests()).toEqual([]); // pinning reads the LFS pointers, not the weights

  const changed = { ...files, 'vae/diffusion_pytorch_model.safetensors': Buffer.concat([files['vae/diffusion_pytorch_model.safetensors']!, Buffer.from('x')]) };
  hub.commit(SD2, changed);
  const cache = new BlobCache({ root: tempDir('hub-pinned-cache') });
  const pinned = await pullModel(parsePullSpec('sd2-inpainting', { 'sd2-inpainting': pin }), { endpoint: hub.endpoint, cache });
  expect(pinned.plan).toMatchObject({ commit: first, pinned: true });
  expect(fs.readFileSync(path.join(pinned.dir, 'vae/diffusion_pytorch_model.safetensors')).equals(files['vae/diffusion_pytorch_model.safetensors']!)).toBe(true);
  expect(pinned.manifest.files.find((f) => f.path === 'vae/config.json')!.sha256).toBe(pin.files['vae/config.json']!.sha256);
  expect(() => parsePullSpec('sd2-inpainting@main', { 'sd2-inpainting': pin })).toThrow(/pinned to/);

  const lie = { ...pin, files: { ...pin.files, 'unet/diffusion_pytorch_model.safetensors': { ...pin.files['unet/diffusion_pytorch_model.safetensors']!, sha256: 'f'.repeat(64) } } };
  const before = hub.lfsBodyRequests().length;
  await expect(pullModel(parsePullSpec('sd2-inpainting', { 'sd2-inpainting': lie }), { endpoint: hub.endpoint, cache: new BlobCache({ root: tempDir('hub-lie') }) })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  expect(hub.lfsBodyRequests().length).toBe(before);

  // A small (non-LFS) file that changed under a pinned commit id is caught by its pinned sha256.
  const cfgLie = { ...pin, files: { ...pin.files, 'unet/config.json': { ...pin.files['unet/config.json']!, sha256: '0'.repeat(64) } } };
  await expect(pullModel(parsePullSpec('sd2-inpainting', { 'sd2-inpainting': cfgLie }), { endpoint: hub.endpoint, cache: new BlobCache({ root: tempDir('hub-lie2') }) })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
});

it('bad requests are coded: unknown repository, missing revision, a name that is neither, a repository without safetensors, an unreachable Hub', async () => {
  hub.commit('someone/only-bin', { 'config.json': Buffer.from('{}'), 'pytorch_model.bin': Buffer.alloc(100) });
  const cases: [string[], number, RegExp][] = [
    [['models', 'pull', 'nobody/nothing'], 2, /ERR_NOT_FOUND/],
    [['models', 'pull', 'someone/only-bin@v9'], 2, /ERR_NOT_FOUND/],
    [['models', 'pull', 'not a repo'], 2, /ERR_ARGUMENT/],
    [['models', 'pull', 'someone/only-bin'], 2, /ERR_NOT_FOUND.*safetensors/],
    [['models', 'pull', 'sd2-inpainting', '--variant', 'int8'], 2, /ERR_ARGUMENT/],
    [['models', 'verify', tempDir('empty-folder')], 2, /ERR_NOT_FOUND.*manifest/],
  ];
  for (const [args, code, re] of cases) {
    const r = await runCli(args);
    expect({ args, code: r.code, matched: re.test(r.stderr) }).toEqual({ args, code, matched: true });
  }
  await hub.stop();
  const off = await runCli(['models', 'pull', 'sd2-inpainting']);
  expect(off.code).toBe(1);
  expect(off.stderr).toMatch(/ERR_STORAGE/);
});
