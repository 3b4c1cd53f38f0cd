/**
 * Training the glyph projection with the UNet (a glyph encoder narrower than the UNet's
 * cross-attention, as TrOCR-base with SD2): the config must ask for it, it receives gradients and
 * changes, it is saved (with its EMA) in every checkpoint in its own folder, and resume is exact for
 * it too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GlyphProjection, readSafetensors } from '../../src';
import { checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { expectExactResume, localUnetConfig } from '../helpers/training';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-proj-train-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The local glyph encoder is 32 wide; this UNet attends to 48.
const wide = { model: { config: { cross_attention_dim: 48 } }, train: { max_steps: 6, batch_size: 2 }, ema: { enabled: true }, checkpoint: { every: 3 } };

describe('UNet training with a glyph projection', () => {
  it('refuses mismatched widths without a projection, naming the fix', async () => {
    await expect(UnetTrainer.create(localUnetConfig(wide))).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('glyph_projection'),
    });
  });

  it('trains the projection with the UNet and checkpoints it in its own folder', async () => {
    const cfg = localUnetConfig({ ...wide, glyph_projection: { seed: 3 } });
    const t = await UnetTrainer.create(cfg);
    expect(t.glyphProjection?.config).toEqual({ _class_name: 'GlyphProjection', in_features: 32, out_features: 48 });
    const out = path.join(tmp, 'train');
    await runTraining(t, { outDir: out, maxSteps: 3, handleSignals: false });
    t.dispose();

    const ckpt = latestCheckpoint(checkpointsRoot(out)) as string;
    const state = await readSafetensors(path.join(ckpt, 'trainer_state.safetensors'));
    expect(Object.keys(state.tensors).filter((k) => k.includes('glyph_projection')).sort()).toEqual([
      'adamw.exp_avg.glyph_projection.proj.bias',
      'adamw.exp_avg.glyph_projection.proj.weight',
      'adamw.exp_avg_sq.glyph_projection.proj.bias',
      'adamw.exp_avg_sq.glyph_projection.proj.weight',
      'ema.glyph_projection.proj.bias',
      'ema.glyph_projection.proj.weight',
    ]);
    // Its AdamW moments are non-zero: the projection received gradients.
    const moment = state.tensors['adamw.exp_avg.glyph_projection.proj.weight'].dataSync<'float32'>();
    expect(Math.max(...Array.from(moment, Math.abs))).toBeGreaterThan(0);

    // The saved projection differs from its seeded initialisation, and loads strictly.
    const init = await GlyphProjection.fromConfig({ in_features: 32, out_features: 48 }, { seed: 3 });
    const initDir = path.join(tmp, 'init');
    await init.save(initDir);
    init.dispose();
    const w0 = (await readSafetensors(path.join(initDir, 'model.safetensors'))).tensors['proj.weight'].dataSync<'float32'>();
    const w3 = (await readSafetensors(path.join(ckpt, 'glyph_projection', 'model.safetensors'))).tensors['proj.weight'].dataSync<'float32'>();
    expect(w3.length).toBe(32 * 48);
    expect(Math.max(...w3.map((v, i) => Math.abs(v - w0[i])))).toBeGreaterThan(1e-5);
    const loaded = await GlyphProjection.fromPretrained(path.join(ckpt, 'glyph_projection'));
    const ema = await GlyphProjection.fromPretrained(path.join(ckpt, 'ema_glyph_projection'));
    expect([loaded.config.in_features, ema.config.out_features]).toEqual([32, 48]);
    loaded.dispose();
    ema.dispose();

    // Resuming that checkpoint with a config that has no projection is a config error, not a silent drop.
    await expect(UnetTrainer.create(localUnetConfig({ ...wide, model: { config: { cross_attention_dim: 32 } } }), { resumeFrom: ckpt })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
    });
  });

  it('resumes exactly, projection and its EMA included', async () => {
    const cfg = localUnetConfig({ ...wide, glyph_projection: { seed: 3 } });
    await expectExactResume(tmp, 'proj', (resumeFrom) => UnetTrainer.create(cfg, { resumeFrom }), [
      'unet/diffusion_pytorch_model.safetensors',
      'ema_unet/diffusion_pytorch_model.safetensors',
      'glyph_projection/model.safetensors',
      'ema_glyph_projection/model.safetensors',
      'trainer_state.safetensors',
    ]);
  });
});
