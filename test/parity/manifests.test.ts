/**
 * Full-size models built from the manifests' configs have exactly the reference keys, shapes and
 * parameter counts, so the published weights load strictly.
 */
import * as fs from 'node:fs';
import { AutoencoderKL, GlyphEncoder, UNet2DConditionModel } from '../../src';
import { fixture } from '../helpers/fixtures';

interface Manifest {
  config: Record<string, unknown>;
  num_state_dict_keys: number;
  total_parameters: number;
  state_dict: Array<{ key: string; shape: number[] }>;
}

const read = (name: string): Manifest => JSON.parse(fs.readFileSync(fixture('manifests', name), 'utf8')) as Manifest;

describe.each([
  ['sd2_vae.json', (c: Record<string, unknown>) => AutoencoderKL.fromConfig(c)],
  ['sd2_inpainting_unet.json', (c: Record<string, unknown>) => UNet2DConditionModel.fromConfig(c)],
] as const)('%s', (file, build) => {
  it('has exactly the manifest keys, shapes and parameter count', async () => {
    const m = read(file);
    const model = await build(m.config);
    try {
      const params = model.parameters();
      expect(params.length).toBe(m.num_state_dict_keys);
      const mine = new Map(params.map((p) => [p.name, p.shape]));
      const missing = m.state_dict.filter((e) => !mine.has(e.key)).map((e) => e.key);
      const extra = [...mine.keys()].filter((k) => !m.state_dict.some((e) => e.key === k));
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
      for (const e of m.state_dict) expect([e.key, mine.get(e.key)]).toEqual([e.key, e.shape]);
      expect(model.parameterCount()).toBe(m.total_parameters);
    } finally {
      model.dispose();
    }
  });
});

interface TrocrManifest {
  config: Record<string, unknown>;
  keys: Array<{ name: string; shape: number[] }>;
  param_count: { encoder_without_pooler: number };
}

describe.each(['trocr_encoder_base.json', 'trocr_encoder_large.json'])('%s', (file) => {
  it('has exactly the checkpoint keys, shapes and parameter count', async () => {
    const m = JSON.parse(fs.readFileSync(fixture('manifests', file), 'utf8')) as TrocrManifest;
    const enc = await GlyphEncoder.fromConfig(m.config as never);
    try {
      const mine = enc.parameters().map((p) => ({ name: p.name, shape: p.shape }));
      expect(mine.map((p) => p.name).sort()).toEqual(m.keys.map((k) => k.name).sort());
      const byName = new Map(mine.map((p) => [p.name, p.shape]));
      for (const k of m.keys) expect([k.name, byName.get(k.name)]).toEqual([k.name, k.shape]);
      expect(enc.parameterCount()).toBe(m.param_count.encoder_without_pooler);
      expect(enc.sequenceLength).toBe(577);
    } finally {
      enc.dispose();
    }
  });
});
