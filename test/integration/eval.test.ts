/**
 * `evaluate()` / `doc-anon eval` on the fixture models (tiny SD2-layout VAE, UNet and TrOCR
 * encoder) and a small dataset folder of synthetic pages: the report's parts, determinism for a
 * seed, DiffUTE's paste leaving everything outside it untouched, and the OCR ceiling.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { evalReportJson, evaluate, evaluateVaeModel } from '../../src/eval';
import { main } from '../../src/cli/main';
import { AutoencoderKL } from '../../src/models/autoencoder-kl';
import { DatasetPages } from '../../src/training/data/pages';
import { generateDocument } from '../../src/training/synthetic';
import { fixture } from '../helpers/fixtures';

let tmp: string;
let data: string;
let backbone: string;
let diffute: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-eval-'));
  data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  for (let i = 0; i < 2; i++) {
    const doc = await generateDocument({ seed: 100 + i, kind: i ? 'invoice' : 'statement', width: 600, height: 800 });
    fs.writeFileSync(path.join(data, `page-${i}.png`), doc.png);
    fs.writeFileSync(path.join(data, `page-${i}.json`), JSON.stringify(doc.annotation));
  }
  backbone = path.join(tmp, 'vgg16_features.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(fixture('lpips', 'model.safetensors.gz'))));
  // A DiffUTE model folder of the fixtures (the UNet's cross_attention_dim equals the encoder's width).
  diffute = path.join(tmp, 'diffute');
  fs.mkdirSync(diffute);
  for (const part of ['unet', 'vae', 'glyph_encoder']) fs.symlinkSync(fixture(part), path.join(diffute, part));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('VAE evaluation', () => {
  it('reports PSNR, SSIM, LPIPS, KL and latent statistics, identical for a seed, and writes its files', async () => {
    const out = path.join(tmp, 'vae-out');
    const a = await evaluate({ kind: 'vae', model: fixture('vae'), data, limit: 4, cropSize: 64, lpips: backbone, out });
    const v = a.vae!;
    expect(v.examples).toBe(4);
    expect(v.psnr.mean).toBeGreaterThan(0);
    expect(v.psnr.mean).toBeLessThan(40); // a random VAE does not reconstruct
    expect(v.ssim.mean).toBeGreaterThan(-1);
    expect(v.ssim.mean).toBeLessThan(0.99);
    expect(v.lpips!.mean).toBeGreaterThan(0);
    expect(v.klPerSample.mean).toBeGreaterThan(0);
    expect(v.latent.scalingFactor).toBe(0.18215);
    expect(v.latent.scaledStd).toBeCloseTo(v.latent.std * 0.18215, 10);
    for (const f of ['report.json', 'report.md', 'vae-samples.png']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).vae.psnr.mean).toBeCloseTo(v.psnr.mean, 10);

    const b = await evaluate({ kind: 'vae', model: fixture('vae'), data, limit: 4, cropSize: 64, lpips: backbone });
    expect(b.vae).toEqual(a.vae);
    // Another seed, other crops (white paper crops score alike, so compare them all).
    const c = await evaluate({ kind: 'vae', model: fixture('vae'), data, limit: 4, cropSize: 64, seed: 1 });
    expect(c.vae!.perExample).not.toEqual(a.vae!.perExample);
    expect(c.vae!.lpips).toBeNull();
  });

  it('gives the same numbers for the same crops (evaluateVaeModel on a page source)', async () => {
    const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
    const pages = new DatasetPages(data);
    try {
      const good = await evaluateVaeModel(vae, pages, { limit: 2, cropSize: 32 });
      // Same crops, same seed: identical numbers.
      expect((await evaluateVaeModel(vae, pages, { limit: 2, cropSize: 32 })).perExample).toEqual(good.perExample);
      expect(good.perExample.every((e) => Number.isFinite(e.psnr) && e.ssim <= 1)).toBe(true);
    } finally {
      vae.dispose();
    }
  });
});

describe('DiffUTE evaluation', () => {
  it('edits only inside the paste, reads the originals, and is deterministic for a seed', async () => {
    const opts = { kind: 'unet' as const, model: diffute, data, limit: 2, steps: 3, lpips: backbone };
    const a = await evaluate(opts);
    const u = a.unet!;
    expect(u.examples).toBe(2);
    // Nothing outside the engine's pasted area moved.
    expect(u.changedOutsidePasted).toBe(0);
    for (const e of u.perExample) expect(e.changedOutsidePasted).toBe(0);
    // The OCR reads the clean originals (the ceiling), and the random tiny UNet does not write the text back.
    expect(u.ocrCharAccOriginal.mean).toBeGreaterThan(0.9);
    expect(u.ocrCharAcc.mean).toBeLessThan(u.ocrCharAccOriginal.mean);
    expect(u.boxPsnr.mean).toBeGreaterThan(0);
    expect(u.boxLpips!.mean).toBeGreaterThan(0);
    const b = await evaluate(opts);
    expect(evalReportJson(b)).toBe(evalReportJson(a));
  });
});

describe('doc-anon eval', () => {
  it('prints the JSON report, and refuses an unknown kind or a folder without the model parts (exit 2)', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['eval', 'vae', '--model', fixture('vae'), '--data', 'synthetic:5', '--limit', '2', '--crop-size', '32', '--json'])).toBe(0);
      const printed = write.mock.calls.map((c) => String(c[0])).join('');
      expect(JSON.parse(printed)).toMatchObject({ kind: 'vae', vae: { examples: 2, cropSize: 32 } });
      expect(await main(['eval', 'vea', '--model', fixture('vae'), '--data', data])).toBe(2);
      expect(await main(['eval', 'unet', '--model', fixture('vae'), '--data', data])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/ERR_NOT_FOUND: .*unet is missing/);
    } finally {
      write.mockRestore();
      err.mockRestore();
    }
  });

  it('eval vae --set-scaling-factor writes 1 / the measured latent std into the VAE folder (a checkpoint\'s ema_vae/), and the VAE then scales latents by it', async () => {
    const ckpt = path.join(tmp, 'ckpt');
    fs.mkdirSync(path.join(ckpt, 'ema_vae'), { recursive: true });
    for (const f of ['config.json', 'diffusion_pytorch_model.safetensors']) fs.copyFileSync(fixture('vae', f), path.join(ckpt, 'ema_vae', f));
    const before = JSON.parse(fs.readFileSync(path.join(ckpt, 'ema_vae', 'config.json'), 'utf8')).scaling_factor;
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['eval', 'vae', '--model', ckpt, '--data', 'synthetic:5', '--limit', '2', '--crop-size', '32', '--json', '--set-scaling-factor'])).toBe(0);
      const report = JSON.parse(write.mock.calls.map((c) => String(c[0])).join(''));
      const written = JSON.parse(fs.readFileSync(path.join(ckpt, 'ema_vae', 'config.json'), 'utf8')).scaling_factor;
      expect(written).not.toBe(before);
      expect(written).toBeCloseTo(1 / report.vae.latent.std, 4);
      const vae = await AutoencoderKL.fromPretrained(path.join(ckpt, 'ema_vae'));
      expect(vae.scalingFactor).toBe(written);
      vae.dispose();
      expect(await main(['eval', 'unet', '--model', diffute, '--data', data, '--set-scaling-factor'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/ERR_ARGUMENT: --set-scaling-factor goes with eval vae/);
    } finally {
      write.mockRestore();
      err.mockRestore();
    }
  });
});
