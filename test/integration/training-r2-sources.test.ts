/**
 * Training inputs from R2, as a GPU container without local data uses them: a dataset folder and
 * the LPIPS backbone and heads pushed as artifacts are named by r2:// URIs in the config, `--dry-run` checks
 * they are published (downloading nothing) and `train-vae` trains from them. A dry run of the
 * shipped real recipe on a machine without its weights lists what is missing and exits 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { ArtifactStore } from '../../src/storage';
import { generateDocument } from '../../src/training/synthetic';
import { fixture } from '../helpers/fixtures';
import { runCli } from '../helpers/cli';
import { tempDir, useTestR2, type TestS3 } from './storage-server';

let s3: TestS3;
const ROOT = path.join(__dirname, '..', '..');

useTestR2('sources-cache', (s) => (s3 = s));
beforeAll(async () => {
  const store = new ArtifactStore();
  try {
    const data = tempDir('sources-data');
    for (const seed of [1, 2]) {
      const doc = await generateDocument({ seed, kind: 'invoice', width: 300, height: 400 });
      fs.writeFileSync(path.join(data, `page-${seed}.png`), doc.png);
      fs.writeFileSync(path.join(data, `page-${seed}.json`), JSON.stringify(doc.annotation));
    }
    await store.push(data, `r2://${s3.bucket}/datasets/docs/v1`);
    const vgg = tempDir('sources-vgg');
    fs.copyFileSync(fixture('lpips', 'model.safetensors.gz'), path.join(vgg, 'vgg16_features.safetensors.gz'));
    await store.push(vgg, `r2://${s3.bucket}/models/vgg16/v1`);
    const heads = tempDir('sources-heads');
    fs.copyFileSync(fixture('lpips', 'weights', 'lpips_v0.1_vgg_lin.safetensors'), path.join(heads, 'vgg_lin.safetensors'));
    await store.push(heads, `r2://${s3.bucket}/models/lpips-heads/v1`);
  } finally {
    store.close();
  }
});

/** The local VAE recipe reading its pages and LPIPS backbone from R2. */
function vaeConfig(dataset: string): string {
  const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', 'vae.local.yaml'), 'utf8')) as Record<string, any>;
  cfg.train = { ...cfg.train, max_steps: 2, batch_size: 2 };
  cfg.data = { ...cfg.data, source: 'dataset', dataset_dir: dataset, crop_size: 32, examples_per_page: 2 };
  delete cfg.data.synthetic;
  cfg.loss = { ...cfg.loss, lpips_weight: 10 };
  cfg.lpips = { backbone: `r2://${s3.bucket}/models/vgg16/v1`, heads: `r2://${s3.bucket}/models/lpips-heads/v1` };
  const file = path.join(tempDir('sources-cfg'), 'vae.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  return file;
}

test('dataset and LPIPS backbone and heads from R2: the dry run finds them without downloading, training reads them', async () => {
  const cfg = vaeConfig(`r2://${s3.bucket}/datasets/docs/latest`);
  const cache = process.env.DOC_ANON_CACHE as string;
  const cached = (): number => fs.readdirSync(cache, { recursive: true }).length;
  const before = cached();
  const out = path.join(tempDir('sources-run'), 'run');

  const dry = await runCli(['train-vae', '--config', cfg, '--out', out, '--dry-run']);
  expect(dry).toMatchObject({ code: 0, stderr: '' });
  const { sources } = JSON.parse(dry.stdout).checks;
  expect(sources.missing).toEqual({});
  expect(sources.found['data.dataset_dir']).toMatch(/^r2 docs\/v1 \(4 files, \d+ bytes\)$/); // 2 images + 2 JSONs
  expect(sources.found['lpips.backbone']).toMatch(/^r2 vgg16\/v1 \(1 files/);
  expect(sources.found['lpips.heads']).toMatch(/^r2 lpips-heads\/v1 \(1 files/);
  expect(cached()).toBe(before); // nothing downloaded

  const trained = await runCli(['train-vae', '--config', cfg, '--out', out]);
  expect(trained).toMatchObject({ code: 0, stderr: '' });
  const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; lpips: number; loss: number });
  expect(steps.map((s) => s.step)).toEqual([1, 2]);
  for (const s of steps) expect(s.lpips > 0 && Number.isFinite(s.loss)).toBe(true);

  // A new dataset version behind `latest`: the resumed run says it continues on other data.
  const store = new ArtifactStore();
  try {
    const v2 = tempDir('sources-data-v2');
    const doc = await generateDocument({ seed: 3, kind: 'form', width: 300, height: 400 });
    fs.writeFileSync(path.join(v2, 'page-3.png'), doc.png);
    fs.writeFileSync(path.join(v2, 'page-3.json'), JSON.stringify(doc.annotation));
    await store.push(v2, `r2://${s3.bucket}/datasets/docs/v2`);
  } finally {
    store.close();
  }
  const resumed = await runCli(['train-vae', '--config', cfg, '--out', out, '--resume']);
  expect(resumed).toMatchObject({ code: 0, stderr: '' });
  expect(resumed.stdout).toMatch(/"changed":\["dataset version: docs\/v1 -> docs\/v2"\],"msg":"train-vae: resuming with a changed recipe/);
});

test('a dry run lists every missing source and exits 2; device problems are reported, not raised', async () => {
  const missing = await runCli(['train-vae', '--config', vaeConfig(`r2://${s3.bucket}/datasets/docs/v9`), '--out', path.join(tempDir('sources-miss'), 'run'), '--dry-run']);
  expect(missing.code).toBe(2);
  expect(JSON.parse(missing.stdout).checks.sources.missing).toEqual({ 'data.dataset_dir': expect.stringMatching(/nothing is published at r2:\/\/.*docs\/v9/) });
  expect(missing.stderr).toMatch(/^dry run: 1 problem\(s\):\n  1\. \[data\.dataset_dir\] nothing is published at r2:\/\/.*docs\/v9\n     fix: /);

  // The shipped real recipe on this machine (no SD2 weights, no dataset, no GPU), its checkpoints
  // in the test bucket.
  const unet = YAML.parse(fs.readFileSync(path.join(ROOT, 'configs', 'training', 'unet.yaml'), 'utf8')) as Record<string, any>;
  unet.storage = { uri: `r2://${s3.bucket}/training/diffute-unet` };
  const recipeFile = path.join(tempDir('sources-recipe'), 'unet.yaml');
  fs.writeFileSync(recipeFile, YAML.stringify(unet));
  const recipe = await runCli(['train-unet', '--config', recipeFile, '--out', path.join(tempDir('sources-recipe'), 'run'), '--dry-run']);
  expect(recipe.code).toBe(2);
  const checks = JSON.parse(recipe.stdout).checks;
  expect(Object.keys(checks.sources.missing).sort()).toEqual(['data.dataset_dir', 'glyph_encoder.pretrained', 'model.pretrained', 'vae.pretrained']);
  expect(checks.device).toMatch(/^not usable here: --device cuda: /);
  expect(checks.storage).toBe('reachable');
  // All of them at once, the device too, each with its fix.
  expect(checks.findings.map((f: { check: string }) => f.check)).toEqual(['model.pretrained', 'vae.pretrained', 'glyph_encoder.pretrained', 'data.dataset_dir', 'device']);
  expect(recipe.stderr).toMatch(/^dry run: 5 problem\(s\):/);
});
