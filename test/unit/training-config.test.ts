/** Training configs: the shipped YAML files parse; bad configs are rejected naming the key path. */
import * as path from 'node:path';
import * as YAML from 'yaml';
import * as fs from 'node:fs';
import { loadUnetTrainConfig, loadVaeTrainConfig, parseUnetTrainConfig, parseVaeTrainConfig } from '../../src/training/config';
import { errorText } from '../helpers/cli';

const dir = path.join(__dirname, '..', '..', 'configs', 'training');
const read = (f: string): Record<string, any> => YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

const message = errorText;

describe('training configs', () => {
  it('the shipped configs are valid', () => {
    expect(loadVaeTrainConfig(path.join(dir, 'vae.yaml')).kind).toBe('vae');
    expect(loadVaeTrainConfig(path.join(dir, 'vae.local.yaml')).train.device).toBe('cpu');
    expect(loadUnetTrainConfig(path.join(dir, 'unet.yaml')).data.resolution).toBe(512);
    expect(loadUnetTrainConfig(path.join(dir, 'unet.local.yaml')).loss.prediction).toBe('epsilon');
  });

  it.each([
    ['an unknown top-level key', (c: any) => (c.epochs = 3), 'epochs: unknown key'],
    ['a misplaced key', (c: any) => (c.train.kl_weight = 1e-6), 'train.kl_weight: unknown key'],
    ['grad_accum = 0', (c: any) => (c.train.grad_accum = 0), 'train.grad_accum'],
    ['a negative beta', (c: any) => (c.loss.kl_weight = -1), 'loss.kl_weight'],
    ['a bad recon', (c: any) => (c.loss.recon = 'l2'), 'loss.recon'],
    ['a bad device', (c: any) => (c.train.device = 'gpu'), 'train.device'],
    ['a bad schedule key', (c: any) => (c.lr_schedule.cycles = 2), 'lr_schedule.cycles: unknown key'],
    ['dataset without a folder', (c: any) => (c.data.source = 'dataset'), 'data.dataset_dir'],
    ['a bad storage uri', (c: any) => (c.storage = { uri: 's3://x/y' }), 'storage.uri'],
    ['both pretrained and config', (c: any) => (c.model.pretrained = 'x'), 'model'],
    ['an lr that overflows the float32 step', (c: any) => (c.optimizer.lr = 1e38), 'optimizer.lr'],
    ['a seed next to pretrained weights', (c: any) => (c.model = { pretrained: 'x', seed: 3 }), 'model.seed: seed only applies to a random init'],
    ['more batches in preparation than prefetched', (c: any) => ((c.data.prefetch = 2), (c.data.concurrency = 3)), 'data.concurrency: concurrency must not exceed prefetch'],
    ['concurrency 0', (c: any) => (c.data.concurrency = 0), 'data.concurrency'],
  ])('VAE: rejects %s with its key path', (_name, edit, expected) => {
    const c = read('vae.local.yaml');
    edit(c);
    const m = message(() => parseVaeTrainConfig(c));
    expect(m).toContain('ERR_CONFIG');
    expect(m).toContain(expected);
  });

  it('UNet: rejects a misplaced and an invalid key with their paths', () => {
    const c = read('unet.local.yaml');
    c.data.crop_sizes = 3;
    c.loss.prediction = 'sample';
    const m = message(() => parseUnetTrainConfig(c));
    expect(m).toContain('data.crop_sizes: unknown key');
    expect(m).toContain('loss.prediction');
  });

  it('UNet: a seed is refused where pretrained weights make it meaningless (frozen models, a saved projection)', () => {
    const c = read('unet.local.yaml');
    c.vae = { pretrained: 'weights/vae', seed: 1 };
    c.glyph_projection = { pretrained: 'runs/x/glyph_projection', seed: 0 };
    const m = message(() => parseUnetTrainConfig(c));
    expect(m).toContain('vae.seed: seed only applies to a random init');
    expect(m).toContain('glyph_projection.seed: seed only applies to a new projection');
    // Alone, both are fine; a seed without pretrained is the random init's.
    c.vae = { pretrained: 'weights/vae' };
    c.glyph_projection = { seed: 4 };
    expect(parseUnetTrainConfig(c).glyph_projection).toEqual({ seed: 4 });
  });
});
