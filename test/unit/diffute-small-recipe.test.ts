/**
 * The DiffUTE small configs (docs/training.md, "DiffUTE small") parse, and each UNet's in_channels
 * fits its glyph_aligned mode next to the small VAE's latent channels.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { unetInChannels } from '../../src/models/glyph-conditioning';
import { loadUnetTrainConfig, loadVaeTrainConfig } from '../../src/training/config';

const dir = path.join(__dirname, '..', '..', 'configs', 'training');

describe('DiffUTE small recipe', () => {
  const vae = loadVaeTrainConfig(path.join(dir, 'diffute-small-vae.yaml'));
  const latent = (vae.model.config as { latent_channels: number }).latent_channels;

  it.each([
    ['diffute-small.yaml', 'vae'],
    ['diffute-small-xattn.yaml', 'none'],
    ['diffute-small-gpu.yaml', 'vae'],
  ])('%s: glyph_aligned %s with the matching in_channels, the small VAE stage frozen', (file, mode) => {
    const c = loadUnetTrainConfig(path.join(dir, file));
    expect(c.glyph_aligned).toBe(mode);
    expect((c.model.config as { in_channels: number }).in_channels).toBe(unetInChannels(c.glyph_aligned, latent));
    expect(c.vae.pretrained).toMatch(/^runs\/diffute-small-vae\/checkpoints\/step-\d+\/ema_vae$/);
    expect(c.loss.cond_dropout).toBeGreaterThan(0);
  });

  it('the CPU stages run on one thread (the shared 2-core machines)', () => {
    expect(vae.train.threads).toBe(1);
    expect(loadUnetTrainConfig(path.join(dir, 'diffute-small.yaml')).train.threads).toBe(1);
    // The comparison differs from the recipe only in the conditioning and where it writes.
    const strip = (f: string): unknown => {
      const y = YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      delete y.glyph_aligned;
      delete y.output_dir;
      delete y.model.config.in_channels;
      return y;
    };
    expect(strip('diffute-small-xattn.yaml')).toEqual(strip('diffute-small.yaml'));
  });

  it('the VAE learns on crops around text, and the UNet stage samples 64 x 256 crops', () => {
    expect(vae.data.crop_at).toBe('text');
    const c = loadUnetTrainConfig(path.join(dir, 'diffute-small.yaml'));
    expect([c.data.resolution, c.data.resolution * c.data.aspect]).toEqual([64, 256]);
    // Its frozen VAE is the stage-1 run's last checkpoint.
    expect(c.vae.pretrained).toBe(`runs/diffute-small-vae/checkpoints/step-${String(vae.train.max_steps).padStart(8, '0')}/ema_vae`);
  });
});
