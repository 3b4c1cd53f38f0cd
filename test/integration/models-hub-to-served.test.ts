/**
 * The whole way from where users have weights to a served model, in one test, through the CLI:
 * from an empty cache, `models pull` of pinned models from a local Hub emulator (SD2-inpainting's
 * VAE and scheduler, a TrOCR folder that only has a pytorch_model.bin), `models convert` of a
 * VGG16 .pth (LPIPS) and of a DiffUTE accelerate checkpoint written with libtorch in the test,
 * `models assemble`, `models promote` to the loopback S3 (R2) server, then
 * `anonymize --engine diffute --model r2://.../latest`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { readSafetensors } from '../../src/core/safetensors';
import type { Tensor } from '../../src/core/tensor';
import { pinModel } from '../../src/models/hub-pull';
import { parsePullSpec } from '../../src/models/hub-registry';
import { writeTorchStateDict } from '../../src/models/torch-checkpoint';
import { runCli } from '../helpers/cli';
import { fixture } from '../helpers/fixtures';
import { HubEmulator } from '../helpers/hub-emulator';
import { tempDir, useTestR2, type TestS3 } from './storage-server';

let s3!: TestS3;
useTestR2('hub-served-cache', (s) => {
  s3 = s;
});

let hub!: HubEmulator;
const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, DOC_ANON_CACHE: process.env.DOC_ANON_CACHE };
beforeAll(async () => {
  hub = new HubEmulator();
  await hub.start();
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.DOC_ANON_CACHE = tempDir('hub-served-empty-cache');
});
afterAll(async () => {
  await hub.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const read = (...p: string[]): Buffer => fs.readFileSync(fixture(...p));
const ok = (r: { code: number; stderr: string }): { code: number; errors: string[] | null } => ({ code: r.code, errors: r.stderr.match(/ERR_\w+|internal error/g) });

async function torchSaved(tensors: Record<string, Tensor>): Promise<Buffer> {
  const f = path.join(tempDir('hub-served-pth'), 'w.pth');
  await writeTorchStateDict(f, tensors);
  return fs.readFileSync(f);
}

it('pull (pinned) -> convert (VGG16 .pth, DiffUTE checkpoint) -> assemble -> promote -> anonymize r2://.../latest', async () => {
  // The Hub side: SD2-inpainting-shaped and TrOCR-shaped repositories made of the fixture models.
  const sd2 = hub.commit('stabilityai/stable-diffusion-2-inpainting', {
    'model_index.json': Buffer.from(JSON.stringify({ _class_name: 'StableDiffusionInpaintPipeline' })),
    'scheduler/scheduler_config.json': read('pipeline', 'scheduler_config.json'),
    'unet/config.json': read('unet', 'config.json'),
    'unet/diffusion_pytorch_model.safetensors': read('unet', 'diffusion_pytorch_model.safetensors'),
    'vae/config.json': read('vae', 'config.json'),
    'vae/diffusion_pytorch_model.safetensors': read('vae', 'diffusion_pytorch_model.safetensors'),
  });
  const glyph = (await readSafetensors(fixture('glyph_encoder', 'model.safetensors'))).tensors;
  const encoderConfig = JSON.parse(read('glyph_encoder', 'config.json').toString());
  delete encoderConfig.fixture;
  const trocrBin = await torchSaved(Object.fromEntries(Object.entries(glyph).map(([k, t]) => [`encoder.${k}`, t])));
  const trocr = hub.commit('microsoft/trocr-base-printed', {
    'config.json': Buffer.from(JSON.stringify({ model_type: 'vision-encoder-decoder', encoder: encoderConfig, decoder: { model_type: 'trocr' } })),
    'preprocessor_config.json': Buffer.from(JSON.stringify({ image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], size: 32 })),
    'pytorch_model.bin': trocrBin,
  });
  // The cache starts empty.
  expect(fs.readdirSync(process.env.DOC_ANON_CACHE!)).toEqual([]);

  // 1. pull, pinned: SD2 at the commit a pin names (checked against the pin's sha256 values), TrOCR by commit id.
  const pin = await pinModel(parsePullSpec('sd2-inpainting@main', {}), { endpoint: hub.endpoint });
  expect(pin.revision).toBe(sd2);
  const pulledSd2 = await runCli(['models', 'pull', `sd2-inpainting@${sd2}`]);
  expect(ok(pulledSd2)).toEqual({ code: 0, errors: null });
  const sd2Dir = JSON.parse(pulledSd2.stdout).dir as string;
  for (const f of JSON.parse(pulledSd2.stdout).files as { path: string; sha256: string }[]) expect({ f: f.path, sha256: f.sha256 }).toEqual({ f: f.path, sha256: pin.files[f.path]!.sha256 });
  const trocrDir = tempDir('hub-served-trocr');
  const pulledTrocr = await runCli(['models', 'pull', `trocr-base-printed@${trocr}`, '--out', trocrDir]);
  expect(ok(pulledTrocr)).toEqual({ code: 0, errors: null });
  expect(JSON.parse(pulledTrocr.stdout).files.map((f: { path: string }) => f.path)).toEqual(['config.json', 'preprocessor_config.json', 'pytorch_model.bin']);

  // 2. convert: a VGG16 .pth (the fixture's VGG16 trunk + a classifier) written by libtorch.
  const work = tempDir('hub-served-work');
  const vggGz = path.join(work, 'vgg.safetensors');
  fs.writeFileSync(vggGz, zlib.gunzipSync(read('lpips', 'model.safetensors.gz')));
  const vgg = (await readSafetensors(vggGz)).tensors;
  fs.writeFileSync(path.join(work, 'vgg16.pth'), await torchSaved(vgg));
  const lpips = await runCli(['models', 'convert', path.join(work, 'vgg16.pth'), '--out', path.join(work, 'vgg16_features.safetensors')]);
  expect(ok(lpips)).toEqual({ code: 0, errors: null });
  expect(JSON.parse(lpips.stdout).components[0]).toMatchObject({ component: 'lpips_backbone', taken: Object.keys(vgg).length });

  //    and a DiffUTE checkpoint as the original training code saves it (accelerate's checkpoint-N/unet/*.bin).
  const unet = (await readSafetensors(fixture('unet', 'diffusion_pytorch_model.safetensors'))).tensors;
  const ckpt = path.join(work, 'run', 'checkpoint-500');
  fs.mkdirSync(path.join(ckpt, 'unet'), { recursive: true });
  fs.copyFileSync(fixture('unet', 'config.json'), path.join(ckpt, 'unet', 'config.json'));
  fs.writeFileSync(path.join(ckpt, 'unet', 'diffusion_pytorch_model.bin'), await torchSaved(unet));
  const converted = path.join(work, 'converted');
  const conv = await runCli(['models', 'convert', ckpt, '--to', 'pipeline', '--vae', path.join(sd2Dir, 'vae'), '--glyph-encoder', trocrDir, '--scheduler', path.join(sd2Dir, 'scheduler', 'scheduler_config.json'), '--out', converted]);
  expect(ok(conv)).toEqual({ code: 0, errors: null });

  // 3. assemble: the converted UNet with the pulled SD2 VAE and the converted glyph encoder.
  const assembled = path.join(work, 'assembled');
  const asm = await runCli(['models', 'assemble', '--unet', path.join(converted, 'unet'), '--vae', path.join(sd2Dir, 'vae'), '--glyph-encoder', path.join(converted, 'glyph_encoder'), '--scheduler', path.join(sd2Dir, 'scheduler', 'scheduler_config.json'), '--out', assembled]);
  expect(ok(asm)).toEqual({ code: 0, errors: null });
  expect(fs.readFileSync(path.join(assembled, 'vae', 'diffusion_pytorch_model.safetensors')).equals(read('vae', 'diffusion_pytorch_model.safetensors'))).toBe(true);

  // 4. promote to R2, which moves latest.
  const v1 = `r2://${s3.bucket}/models/diffute-hub/v1`;
  const prom = await runCli(['models', 'promote', assembled, v1]);
  expect(ok(prom)).toEqual({ code: 0, errors: null });
  expect(JSON.parse(prom.stdout)).toMatchObject({ uri: v1, latest: true });

  // 5. anonymize with the served model.
  const page = path.join(work, 'page.png');
  fs.writeFileSync(page, await sharp({ create: { width: 96, height: 64, channels: 3, background: '#ffffff' } }).png().toBuffer());
  const regions = path.join(work, 'regions.json');
  fs.writeFileSync(regions, JSON.stringify([{ box: [8, 8, 80, 30], replacement: 'Jane Roe' }]));
  const out = path.join(work, 'out.png');
  const a = await runCli(['anonymize', page, '--out', out, '--regions', regions, '--engine', 'diffute', '--model', `r2://${s3.bucket}/models/diffute-hub/latest`, '--steps', '1', '--no-verify']);
  expect(ok(a)).toEqual({ code: 0, errors: null });
  expect(a.stderr).toMatch(/anonymized 1 region\(s\) on 1 page\(s\)/);
  expect((await sharp(out).metadata()).width).toBe(96);

  // The cache now lists the two pulls and the served artifact.
  const ls = await runCli(['models', 'ls', '--json']);
  const sources = (JSON.parse(ls.stdout) as { source: string }[]).map((m) => m.source).sort();
  expect(sources).toEqual(expect.arrayContaining([`hf://stabilityai/stable-diffusion-2-inpainting@${sd2}`, `hf://microsoft/trocr-base-printed@${trocr}`]));
}, 300_000);
