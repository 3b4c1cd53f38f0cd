/**
 * The glyph projection (Linear hidden_size -> cross_attention_dim): its math, save/load in its own
 * folder layout with a strict key check, and its place in the DiffUTE engine (between the glyph
 * encoder and the UNet). Training it with the UNet is in training-glyph-projection.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Anonymizer, GlyphProjection, Tensor, generateDocument, readSafetensors, writeSafetensors } from '../../src';
import { fixture } from '../helpers/fixtures';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-proj-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A projection folder written by hand: config.json + model.safetensors. */
async function writeProjection(dir: string, weight: Float32Array, bias: Float32Array, inF: number, outF: number, extra?: Record<string, Tensor>): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ _class_name: 'GlyphProjection', in_features: inF, out_features: outF }));
  await writeSafetensors(path.join(dir, 'model.safetensors'), { 'proj.weight': Tensor.from(weight, [outF, inF]), 'proj.bias': Tensor.from(bias, [outF]), ...extra });
  return dir;
}

describe('GlyphProjection', () => {
  it('computes x W^T + b, and saves and loads its own folder exactly', async () => {
    const proj = await GlyphProjection.fromConfig({ in_features: 6, out_features: 5 }, { seed: 11 });
    expect(proj.parameters().map((p) => [p.name, p.shape])).toEqual([
      ['proj.weight', [5, 6]],
      ['proj.bias', [5]],
    ]);
    const dir = path.join(tmp, 'saved');
    await proj.save(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))).toMatchObject({ in_features: 6, out_features: 5 });
    const { tensors } = await readSafetensors(path.join(dir, 'model.safetensors'));
    const W = tensors['proj.weight'].dataSync<'float32'>();
    const b = tensors['proj.bias'].dataSync<'float32'>();

    const x = Float32Array.from({ length: 2 * 3 * 6 }, (_, i) => Math.sin(i * 0.7));
    const y = (await proj.forward(Tensor.from(x, [2, 3, 6]))).dataSync<'float32'>();
    expect(y.length).toBe(2 * 3 * 5);
    for (let r = 0; r < 6; r++) {
      for (let o = 0; o < 5; o++) {
        let want = b[o];
        for (let i = 0; i < 6; i++) want += x[r * 6 + i] * W[o * 6 + i];
        expect(Math.abs(y[r * 5 + o] - want)).toBeLessThan(1e-5);
      }
    }
    const loaded = await GlyphProjection.fromPretrained(dir);
    const y2 = (await loaded.forward(Tensor.from(x, [2, 3, 6]))).dataSync<'float32'>();
    expect(Buffer.from(y2.buffer).equals(Buffer.from(y.buffer))).toBe(true);
    proj.dispose();
    loaded.dispose();
  });

  it('rejects bad configs, extra or mis-shaped keys and inputs of the wrong width', async () => {
    await expect(GlyphProjection.fromConfig({ in_features: 6, out_features: 5, bias: false } as never)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    const extra = await writeProjection(path.join(tmp, 'extra'), new Float32Array(6), new Float32Array(3), 2, 3, { 'proj.scale': Tensor.from(new Float32Array(3), [3]) });
    await expect(GlyphProjection.fromPretrained(extra)).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringContaining('proj.scale') });
    const shape = await writeProjection(path.join(tmp, 'shape'), new Float32Array(6), new Float32Array(3), 2, 3);
    fs.writeFileSync(path.join(shape, 'config.json'), JSON.stringify({ in_features: 3, out_features: 2 }));
    await expect(GlyphProjection.fromPretrained(shape)).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringContaining('proj.weight') });
    await expect(GlyphProjection.fromPretrained(path.join(tmp, 'missing'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const p = await GlyphProjection.fromConfig({ in_features: 4, out_features: 2 });
    await expect(p.forward(Tensor.from(new Float32Array(6), [1, 6]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    p.dispose();
  });
});

describe('the DiffUTE engine with a glyph projection', () => {
  const models = { unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') };
  const diffute = { resolution: 16, steps: 2, sampler: 'ddim' as const, seed: 5, minCropSide: 32 };
  const width = 32; // the fixture encoder's hidden_size and the fixture UNet's cross_attention_dim

  async function page(): Promise<{ png: Buffer; regions: Array<{ box: [number, number, number, number]; replacement: string }> }> {
    const doc = await generateDocument({ seed: 4, kind: 'invoice', width: 500, height: 600 });
    const l = doc.annotation.document.find((x) => x.text.length > 4)!;
    const xs = l.box.map((p) => p[0]);
    const ys = l.box.map((p) => p[1]);
    return { png: doc.png, regions: [{ box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], replacement: 'Jane Roe' }] };
  }

  async function run(glyphProjection?: string): Promise<Buffer> {
    const a = await Anonymizer.create({ engine: 'diffute', models: { ...models, glyphProjection }, diffute });
    try {
      const { png, regions } = await page();
      return (await a.anonymize(png, { regions, verify: false })).image; // (the engine's output is the point)
    } finally {
      a.dispose();
    }
  }

  it('applies the projection between the encoder and the UNet: identity changes nothing, another map changes the output', async () => {
    const eye = new Float32Array(width * width);
    for (let i = 0; i < width; i++) eye[i * width + i] = 1;
    const identity = await writeProjection(path.join(tmp, 'identity'), eye, new Float32Array(width), width, width);
    const scaled = await writeProjection(path.join(tmp, 'scaled'), eye.map((v) => v * -3), new Float32Array(width).fill(0.5), width, width);
    const plain = await run();
    expect((await run(identity)).equals(plain)).toBe(true);
    expect((await run(scaled)).equals(plain)).toBe(false);
  });

  it('refuses a projection whose widths do not fit the encoder and the UNet', async () => {
    const wrong = await writeProjection(path.join(tmp, 'wrong'), new Float32Array(width * 48), new Float32Array(48), width, 48);
    await expect(Anonymizer.create({ engine: 'diffute', models: { ...models, glyphProjection: wrong }, diffute })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('32 -> 48'),
    });
  });
});
