/**
 * The model configs are declared once, in the native field tables (native/src/models: each config
 * struct's fields()), which drive the C++ reader and writer; src/models/config-types.ts is
 * generated from them (scripts/gen-config-types.cjs). Here the file and the tables must agree.
 */
import * as fs from 'node:fs';
import { GlyphProjectionConfigSchema } from '../../src/models/glyph-projection';
import { native } from '../../src/native/loader';
import type { ModelKind } from '../../src/native/types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../../scripts/gen-config-types.cjs') as { generate: (schemaOf: (kind: ModelKind) => string) => string; OUT: string };
const schemaOf = (kind: ModelKind): string => native().modelConfigSchema({ kind }) as string;

it('src/models/config-types.ts is what the native field tables generate (run node scripts/gen-config-types.cjs after changing a table)', () => {
  expect(fs.readFileSync(gen.OUT, 'utf8')).toBe(gen.generate(schemaOf));
});

it('lists every field the native writer writes, and the writer writes every field listed', async () => {
  const { UNet2DConditionModel } = await import('../../src/models/unet-2d-condition');
  const unet = await UNet2DConditionModel.fromConfig({ block_out_channels: [32], down_block_types: ['DownBlock2D'], up_block_types: ['UpBlock2D'], cross_attention_dim: 8, attention_head_dim: 1 });
  try {
    const written = Object.keys(unet.config).filter((k) => !k.startsWith('_')).sort();
    const declared = (JSON.parse(schemaOf('unet')) as { fields: Array<{ key: string }> }).fields.map((f) => f.key).sort();
    expect(written).toEqual(declared);
  } finally {
    unet.dispose();
  }
});

it('the glyph projection config schema (zod) has the native table\'s fields', () => {
  const declared = (JSON.parse(schemaOf('glyph_projection')) as { fields: Array<{ key: string }> }).fields.map((f) => f.key).sort();
  expect(Object.keys(GlyphProjectionConfigSchema.shape).filter((k) => !k.startsWith('_')).sort()).toEqual(declared);
  expect(native().modelConfigSchema({ kind: 'lpips' })).toBeNull();
});
