/** What `models pull` resolves a request to, and which files it takes, without a server. */
import * as path from 'node:path';
import { selectFiles } from '../../src/models/hub-pull';
import { KNOWN_MODELS, parsePullSpec, shippedPins, type HubPin } from '../../src/models/hub-registry';
import { defaultCacheRoot } from '../../src/storage/cache';

const pin: HubPin = { revision: 'a'.repeat(40), pinnedAt: '2026-12-05T00:00:00Z', files: {} };

it('parses names, repository ids and revisions; a pinned name holds its commit', () => {
  expect(parsePullSpec('sd2-inpainting', {})).toMatchObject({ repo: 'stabilityai/stable-diffusion-2-inpainting', revision: 'main', known: KNOWN_MODELS['sd2-inpainting'] });
  expect(parsePullSpec('sd2-inpainting', { 'sd2-inpainting': pin })).toMatchObject({ revision: pin.revision, pin });
  expect(parsePullSpec(`sd2-inpainting@${pin.revision}`, { 'sd2-inpainting': pin }).revision).toBe(pin.revision);
  expect(() => parsePullSpec('sd2-inpainting@v2', { 'sd2-inpainting': pin })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  expect(parsePullSpec('org/model.v1@refs/pr/3', {})).toEqual({ repo: 'org/model.v1', revision: 'refs/pr/3' });
  for (const bad of ['model', 'a/b/c', '../x/y', 'org/model@', 'org/model@../../x', 'org/model@refs/../../x', 'org/ model']) {
    expect({ bad, code: (() => { try { parsePullSpec(bad, {}); return 'none'; } catch (e) { return (e as { code: string }).code; } })() }).toEqual({ bad, code: 'ERR_ARGUMENT' });
  }
});

it('the shipped pins are valid and name known models only', () => {
  const pins = shippedPins();
  for (const name of Object.keys(pins)) expect(KNOWN_MODELS[name]).toBeDefined();
});

it('takes what we load: the variant asked for where it exists, the fallback weights when a known repository has no safetensors', () => {
  const e = (p: string): { path: string; size: number } => ({ path: p, size: 1 });
  const sd2 = ['model_index.json', 'scheduler/scheduler_config.json', 'unet/config.json', 'unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.fp16.safetensors', 'vae/config.json', 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors', 'sd.ckpt'].map(e);
  const spec = parsePullSpec('sd2-inpainting', {});
  expect(selectFiles(sd2, spec).map((f) => f.path)).not.toContain('unet/diffusion_pytorch_model.fp16.safetensors');
  const half = selectFiles(sd2, spec, 'fp16').map((f) => f.path);
  expect(half).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
  expect(half).not.toContain('unet/diffusion_pytorch_model.safetensors');
  expect(half).toContain('vae/diffusion_pytorch_model.safetensors');
  expect(half).not.toContain('text_encoder/model.safetensors');
  expect(() => selectFiles(sd2.filter((f) => !f.path.startsWith('vae/')), spec)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND', message: expect.stringContaining('vae/config.json') }));
  const trocr = parsePullSpec('trocr-base-printed', {});
  expect(selectFiles(['config.json', 'preprocessor_config.json', 'pytorch_model.bin', 'tf_model.h5'].map(e), trocr).map((f) => f.path)).toEqual(['config.json', 'preprocessor_config.json', 'pytorch_model.bin']);
  expect(selectFiles(['config.json', 'preprocessor_config.json', 'pytorch_model.bin', 'model.safetensors'].map(e), trocr).map((f) => f.path)).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json']);
  // Only the weights may fall back: a missing config is still missing.
  expect(() => selectFiles(['preprocessor_config.json', 'pytorch_model.bin'].map(e), trocr)).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
});

it('the cache folder: DOC_ANON_CACHE, then its older name DOC_ANON_CACHE_DIR, then XDG_CACHE_HOME', () => {
  expect(defaultCacheRoot({ DOC_ANON_CACHE: '/a', DOC_ANON_CACHE_DIR: '/b' })).toBe(path.resolve('/a'));
  expect(defaultCacheRoot({ DOC_ANON_CACHE_DIR: '/b' })).toBe(path.resolve('/b'));
  expect(defaultCacheRoot({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'doc-anon-torch'));
});
