/**
 * Glyph-aligned conditioning (src/models/glyph-conditioning.ts, native models/glyph_conditioning.h):
 * a 9-channel UNet grows its glyph channels on load with conv_in's new weights at zero, so it
 * samples exactly what the 9-channel UNet samples (sampling loop, engine and `evaluate()`); the
 * option trains, checkpoints (model_index.json says it) and the checkpoint evaluates as a pipeline.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AutoencoderKL, DiffutePipeline, GlyphEncoder, MODEL_INDEX, readSafetensors, Tensor, UNet2DConditionModel } from '../../src';
import { evalReportJson, evaluate } from '../../src/eval';
import { conditioningChannels, glyphAlignedModeOf, unetInChannels } from '../../src/models/glyph-conditioning';
import { inpaint } from '../../src/models/inpaint';
import { NoiseScheduler } from '../../src/models/scheduler';
import { renderAlignedGlyph } from '../../src/render/aligned-glyph';
import { checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';
import { runTraining } from '../../src/training/loop';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { generateDocument } from '../../src/training/synthetic';
import { fixture } from '../helpers/fixtures';
import { localUnetConfig } from '../helpers/training';

let tmp: string;
let data: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-glyph-aligned-'));
  data = path.join(tmp, 'data');
  fs.mkdirSync(data);
  const doc = await generateDocument({ seed: 101, kind: 'statement', width: 600, height: 800 });
  fs.writeFileSync(path.join(data, 'page-0.png'), doc.png);
  fs.writeFileSync(path.join(data, 'page-0.json'), JSON.stringify(doc.annotation));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A pipeline folder: the fixture VAE and glyph encoder linked, `unet` saved or linked. */
async function pipelineFolder(name: string, unet: UNet2DConditionModel | string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const part of ['vae', 'glyph_encoder']) fs.symlinkSync(fixture(part), path.join(dir, part));
  if (typeof unet === 'string') fs.symlinkSync(unet, path.join(dir, 'unet'));
  else await unet.save(path.join(dir, 'unet'));
  return dir;
}

describe('glyph-aligned modes', () => {
  it('count their channels and are read back from in_channels', () => {
    expect([conditioningChannels('none', 4), conditioningChannels('downsampled', 4), conditioningChannels('vae', 4)]).toEqual([0, 1, 4]);
    expect([unetInChannels('none', 4), unetInChannels('downsampled', 4), unetInChannels('vae', 4)]).toEqual([9, 10, 13]);
    expect([glyphAlignedModeOf(9, 4), glyphAlignedModeOf(10, 4), glyphAlignedModeOf(13, 4)]).toEqual(['none', 'downsampled', 'vae']);
    expect(() => glyphAlignedModeOf(11, 4)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });

  it('render the text into its box only (white elsewhere)', async () => {
    const img = await renderAlignedGlyph('DE89 3704', 64, 32, [8, 10, 56, 22]);
    expect(img.length).toBe(64 * 32 * 3);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 64; x++) {
        const dark = img[(y * 64 + x) * 3] < 128;
        if (dark && x >= 7 && x <= 57 && y >= 8 && y <= 24) inside++;
        else if (dark) outside++;
      }
    expect(inside).toBeGreaterThan(20);
    expect(outside).toBe(0);
  });
});

describe('a 9-channel UNet grown to glyph channels (conv_in at zero)', () => {
  it('loads with zero weights for the new channels and samples exactly what the 9-channel UNet samples', async () => {
    const base = await UNet2DConditionModel.fromPretrained(fixture('unet'));
    const grown = await UNet2DConditionModel.fromPretrained(fixture('unet'), { inChannels: 10 });
    const grown4 = await UNet2DConditionModel.fromPretrained(fixture('unet'), { inChannels: 13 });
    const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
    const sched = NoiseScheduler.fromConfig({}, 'ddim');
    const owned: Tensor[] = [];
    const keep = (t: Tensor): Tensor => (owned.push(t), t);
    try {
      expect([grown.config.in_channels, grown4.config.in_channels]).toEqual([10, 13]);
      await expect(UNet2DConditionModel.fromPretrained(fixture('unet'), { inChannels: 8 })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
      const R = 32;
      const image = keep(Tensor.randn([1, 3, R, R], 1));
      const img01 = keep(Tensor.from(new Float32Array(3 * R * R).fill(0.8), [1, 3, R, R]));
      void image;
      const maskData = new Float32Array(R * R);
      maskData.fill(1, 10 * R, 20 * R);
      const mask = keep(Tensor.from(maskData, [1, 1, R, R]));
      const glyphBytes = await renderAlignedGlyph('Anna 12', R, R, [2, 10, 30, 20]);
      const glyphU8 = keep(Tensor.from(glyphBytes, [1, R, R, 3], 'uint8'));
      const glyphImage = keep(await glyphU8.imageToFloat());
      const context = keep(Tensor.randn([1, 8, 32], 2));
      const run = async (unet: UNet2DConditionModel, g?: Tensor, guidance = 1): Promise<Float32Array> => {
        const r = await inpaint(unet, vae, sched, {
          image: img01,
          mask,
          encoderHiddenStates: context,
          negativeEncoderHiddenStates: guidance > 1 ? keep(Tensor.zeros([1, 8, 32])) : undefined,
          guidanceScale: guidance,
          glyphImage: g,
          steps: 3,
          seed: 7,
        });
        const out = await r.image.data<'float32'>();
        r.image.dispose();
        r.finalLatents.dispose();
        r.imageDecoded.dispose();
        return out;
      };
      const ref = await run(base);
      expect(await run(grown, glyphImage)).toEqual(ref);
      expect(await run(grown4, glyphImage)).toEqual(ref);
      expect(await run(grown, glyphImage, 3)).toEqual(await run(base, undefined, 3));
      // The glyph image is required exactly when the UNet has glyph channels.
      await expect(run(grown)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
      await expect(run(base, glyphImage)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    } finally {
      for (const t of owned) t.dispose();
      for (const m of [base, grown, grown4, vae]) m.dispose();
      sched.dispose();
    }
  });

  it('evaluates (engine, eval) to the same report as the 9-channel pipeline', async () => {
    const grown = await UNet2DConditionModel.fromPretrained(fixture('unet'), { inChannels: 10 });
    const grownDir = await pipelineFolder('grown', grown);
    grown.dispose();
    const baseDir = await pipelineFolder('base', fixture('unet'));
    const p = await DiffutePipeline.fromPretrained(grownDir);
    expect(p.settings.glyphAligned).toBe('downsampled');
    p.dispose();
    const opts = { kind: 'pipeline' as const, data, limit: 1, steps: 2 };
    const a = await evaluate({ ...opts, model: baseDir });
    const b = await evaluate({ ...opts, model: grownDir });
    expect(b.unet!.changedOutsidePasted).toBe(0);
    expect(evalReportJson({ ...b, model: a.model })).toBe(evalReportJson(a));
  });
});

describe('training with glyph_aligned', () => {
  it('refuses a new UNet whose in_channels do not fit the mode, naming the fix', async () => {
    await expect(UnetTrainer.create(localUnetConfig({ glyph_aligned: 'downsampled' }))).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('in_channels: 10'),
    });
  });

  it('grows a pretrained 9-channel UNet, trains, checkpoints a pipeline that says glyph_aligned and evaluates', async () => {
    const cfg = localUnetConfig({
      glyph_aligned: 'downsampled',
      model: { pretrained: fixture('unet'), seed: undefined, config: undefined },
      vae: { pretrained: fixture('vae'), seed: undefined, config: undefined },
      glyph_encoder: { pretrained: fixture('glyph_encoder'), seed: undefined, config: undefined },
      train: { max_steps: 2, batch_size: 2 },
      data: { resolution: 32, crop_size: 64 },
      checkpoint: { every: 2 },
    });
    const t = await UnetTrainer.create(cfg);
    expect(t.unet.config.in_channels).toBe(10);
    const out = path.join(tmp, 'train');
    await runTraining(t, { outDir: out, maxSteps: 2, handleSignals: false });
    t.dispose();
    const ckpt = latestCheckpoint(checkpointsRoot(out)) as string;
    expect(JSON.parse(fs.readFileSync(path.join(ckpt, MODEL_INDEX), 'utf8')).glyph_aligned).toBe('downsampled');
    // The new channel's weights left zero and were trained.
    const w = (await readSafetensors(path.join(ckpt, 'unet', 'diffusion_pytorch_model.safetensors'))).tensors['conv_in.weight'];
    expect(w.shape[1]).toBe(10);
    const v = w.dataSync<'float32'>();
    const [o, i, kh, kw] = w.shape;
    let extra = 0;
    for (let a = 0; a < o; a++) for (let k = 0; k < kh * kw; k++) extra = Math.max(extra, Math.abs(v[(a * i + 9) * kh * kw + k]));
    expect(extra).toBeGreaterThan(0);
    const p = await DiffutePipeline.fromPretrained(ckpt);
    expect(p.settings.glyphAligned).toBe('downsampled');
    p.dispose();
    const r = await evaluate({ kind: 'pipeline', model: ckpt, data, limit: 1, steps: 2 });
    expect(r.unet!.examples).toBe(1);
    expect(r.unet!.changedOutsidePasted).toBe(0);
    void GlyphEncoder;
  });
});
