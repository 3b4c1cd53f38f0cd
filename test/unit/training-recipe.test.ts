/**
 * The shipped VAE recipes carry the values measured in docs/training.md (bench/vae-recipe.ts): a
 * change to either config, or to the docs' table of shipped values, fails here until both agree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { loadVaeTrainConfig } from '../../src/training/config';

const root = path.join(__dirname, '..', '..');
const cfg = (name: string) => loadVaeTrainConfig(path.join(root, 'configs', 'training', name));

const SHIPPED = {
  'vae.yaml': { trainable: 'decoder', lr: 5e-4, kl_weight: 1e-6, lpips_weight: 19660.8 },
  'vae.full.yaml': { trainable: 'all', lr: 5e-4, kl_weight: 1e-6, lpips_weight: 19660.8 },
  'vae.modal.yaml': { trainable: 'decoder', lr: 5e-4, kl_weight: 1e-6, lpips_weight: 19660.8 },
} as const;

describe.each(Object.entries(SHIPPED))('%s', (name, want) => {
  it('has the measured recipe', () => {
    const c = cfg(name);
    expect({ trainable: c.trainable, lr: c.optimizer.lr, kl_weight: c.loss.kl_weight, lpips_weight: c.loss.lpips_weight }).toEqual(want);
    expect(c.loss.recon).toBe('l1');
    expect(c.lr_schedule).toMatchObject({ kind: 'cosine', warmup_steps: 500, min_lr: 1e-6 });
    expect(c.train.max_grad_norm).toBe(1);
    expect(c.ema).toMatchObject({ enabled: true, decay: 0.9999 });
    // Evaluated during training on 2% of the dataset held out, the best kept by LPIPS.
    expect(c.eval).toMatchObject({ every: 1000, limit: 64 });
    expect(c.data.val_fraction).toBe(0.02);
    expect(c.checkpoint.keep_best).toBe('lpips');
  });

  it('is the row of the docs table of shipped values', () => {
    const doc = fs.readFileSync(path.join(root, 'docs', 'training.md'), 'utf8');
    const sci = (v: number) => v.toExponential().replace(/\.0+e/, 'e').replace('e+', 'e');
    expect(doc).toContain(`| \`configs/training/${name}\` | ${want.trainable} | ${sci(want.lr)} | ${sci(want.kl_weight)} | ${want.lpips_weight} |`);
  });
});

it('the full recipe is the decoder-only one with the encoder trained (and its own output and storage)', () => {
  const read = (n: string) => YAML.parse(fs.readFileSync(path.join(root, 'configs', 'training', n), 'utf8'));
  const strip = (c: Record<string, unknown>) => ({ ...c, trainable: undefined, output_dir: undefined, storage: undefined });
  expect(strip(read('vae.full.yaml'))).toEqual(strip(read('vae.yaml')));
  expect(read('vae.full.yaml').output_dir).not.toBe(read('vae.yaml').output_dir);
  expect(read('vae.full.yaml').storage.uri).not.toBe(read('vae.yaml').storage.uri);
});
