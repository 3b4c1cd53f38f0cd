/**
 * `doc-anon models promote` against the loopback S3 server: a tiny UNet training checkpoint (EMA
 * on, its frozen VAE and glyph encoder named in `_sources` outside it) becomes a self-contained
 * pipeline artifact with a model card; `latest` and a pinned version load with
 * DiffutePipeline.fromPretrained, `doc-anon anonymize --engine diffute --model r2://.../latest`
 * runs on it, and an interrupted promote publishes nothing and leaves `latest` where it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { readSafetensors } from '../../src/core/safetensors';
import { DiffutePipeline, MODEL_INDEX } from '../../src/models/diffute-pipeline';
import { promoteCheckpoint } from '../../src/training/promote';
import { ArtifactStore } from '../../src/storage/store';
import { checkpointsRoot } from '../../src/training/checkpoint';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { runCli } from '../helpers/cli';
import { localUnetConfig } from '../helpers/training';
import { tempDir, useTestR2, type TestS3 } from './storage-server';

let s3!: TestS3;
useTestR2('promote-cache', (s) => {
  s3 = s;
});

const uri = (k: string): string => `r2://${s3.bucket}/${k}`;

/** A UNet checkpoint (step 0) with EMA, whose VAE and glyph encoder live outside it (`_sources`). */
async function checkpoint(): Promise<string> {
  const run = tempDir('promote-run');
  const trainer = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 1, batch_size: 1 }, ema: { enabled: true } }));
  const ckpt = await trainer.saveCheckpoint(checkpointsRoot(run));
  trainer.dispose();
  const frozen = tempDir('promote-frozen');
  for (const part of ['vae', 'glyph_encoder']) fs.renameSync(path.join(ckpt, part), path.join(frozen, part));
  const indexFile = path.join(ckpt, MODEL_INDEX);
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  index._sources = { vae: path.join(frozen, 'vae'), glyph_encoder: path.join(frozen, 'glyph_encoder') };
  fs.writeFileSync(indexFile, JSON.stringify(index));
  fs.writeFileSync(path.join(run, 'config.resolved.json'), JSON.stringify({ kind: 'unet', recipe_marker: 'from config.resolved.json' }));
  fs.mkdirSync(path.join(ckpt, 'run'), { recursive: true });
  fs.appendFileSync(
    path.join(ckpt, 'run', 'metrics.jsonl'),
    [{ step: 0, group: 'train', loss: 0.5 }, { step: 0, group: 'eval', ocr_char_acc: 0.625, lpips: 0.125 }, { step: 9, group: 'eval', ocr_char_acc: 0.99 }].map((l) => JSON.stringify(l)).join('\n') + '\n',
  );
  return ckpt;
}

it('promote publishes a self-contained pipeline (EMA UNet, frozen parts copied in, model card), then moves latest; latest and a pinned version load; anonymize runs on latest; an interrupted promote leaves latest alone', async () => {
  const ckpt = await checkpoint();
  const v1 = uri('models/diffute/v1');
  const r = await runCli(['models', 'promote', ckpt, v1]);
  expect({ code: r.code, errors: r.stderr.match(/ERR_\w+/g) }).toEqual({ code: 0, errors: null });
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ uri: v1, latest: true, step: 0, ema: true });

  const store = new ArtifactStore({ retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 20 }, clientOptions: { maxAttempts: 1 } });
  try {
    expect(await store.latest(uri('models/diffute'))).toBe(v1);
    const pulled = tempDir('promote-pulled');
    const { manifest } = await store.pull(v1, pulled);
    const files = manifest.files.map((f) => f.path).sort();
    for (const f of [MODEL_INDEX, 'README.md', 'unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'glyph_encoder/model.safetensors', 'scheduler/scheduler_config.json']) {
      expect({ f, published: files.includes(f) }).toEqual({ f, published: true });
    }
    // Self-contained: no _sources, and the UNet is the checkpoint's EMA weights, bit for bit.
    expect(JSON.parse(fs.readFileSync(path.join(pulled, MODEL_INDEX), 'utf8'))._sources).toBeUndefined();
    expect(fs.readFileSync(path.join(pulled, 'unet', 'diffusion_pytorch_model.safetensors')).equals(fs.readFileSync(path.join(ckpt, 'ema_unet', 'diffusion_pytorch_model.safetensors')))).toBe(true);
    const card = fs.readFileSync(path.join(pulled, 'README.md'), 'utf8');
    expect(card).toMatch(/steps: 0 /);
    expect(card).toMatch(/UNet weights: EMA/);
    expect(card).toContain('from config.resolved.json');
    expect(card).toMatch(/evaluation at step 0:[\s\S]*\| ocr_char_acc \| 0\.625000 \|/);
    expect(card).not.toContain('0.99');

    for (const source of [uri('models/diffute/latest'), v1]) {
      const p = await DiffutePipeline.fromPretrained(source);
      expect(p.settings.maskedFill).toBe(-1);
      const ema = (await readSafetensors(path.join(ckpt, 'ema_unet', 'diffusion_pytorch_model.safetensors'))).tensors;
      expect(p.unet.parameters().length).toBe(Object.keys(ema).length);
      p.dispose();
    }

    const png = path.join(tempDir('promote-page'), 'page.png');
    fs.writeFileSync(png, await sharp({ create: { width: 96, height: 64, channels: 3, background: '#ffffff' } }).png().toBuffer());
    const regions = path.join(path.dirname(png), 'regions.json');
    fs.writeFileSync(regions, JSON.stringify([{ box: [8, 8, 80, 30], replacement: 'Jane Roe' }]));
    const a = await runCli(['anonymize', png, '--out', path.join(path.dirname(png), 'out.png'), '--regions', regions, '--engine', 'diffute', '--model', uri('models/diffute/latest'), '--steps', '1', '--no-verify']);
    expect({ code: a.code, errors: a.stderr.match(/ERR_\w+|internal error/g) }).toEqual({ code: 0, errors: null });
    expect(a.stderr).toMatch(/anonymized 1 region\(s\) on 1 page\(s\)/);

    // Interrupted: the server goes away during the upload of v2. Nothing is published, latest stays v1.
    let stopped = false;
    const failed = promoteCheckpoint(ckpt, uri('models/diffute/v2'), {
      store,
      onProgress: (p) => {
        if (p.phase === 'uploading' && !stopped) {
          stopped = true;
          void s3.stop();
        }
      },
    });
    await expect(failed).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_(STORAGE|IO)$/) });
    expect(stopped).toBe(true);
    await s3.restart();
    expect(await store.latest(uri('models/diffute'))).toBe(v1);
    await expect(store.resolve(uri('models/diffute/v2'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });

    // From the checkpoint's R2 copy (as a training run pushes it), pinned, without moving latest.
    await store.push(ckpt, uri('training/diffute-unet/step-00000000'), { setLatest: false });
    const fromR2 = await runCli(['models', 'promote', uri('training/diffute-unet/step-00000000'), uri('models/diffute/v3'), '--no-latest']);
    expect({ code: fromR2.code, errors: fromR2.stderr.match(/ERR_\w+/g) }).toEqual({ code: 0, errors: null });
    expect(JSON.parse(fromR2.stdout)).toMatchObject({ uri: uri('models/diffute/v3'), latest: false, ema: true });
    expect(await store.latest(uri('models/diffute'))).toBe(v1);
    (await DiffutePipeline.fromPretrained(uri('models/diffute/v3'))).dispose();

    // A published version is never overwritten.
    const again = await runCli(['models', 'promote', ckpt, v1, '--no-latest']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/ERR_CONFLICT/);
  } finally {
    store.close();
  }
}, 300_000);
