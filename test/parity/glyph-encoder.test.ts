/** TrOCR glyph encoder vs transformers (fixtures/glyph_encoder): preprocessing and every layer. */
import { GlyphEncoder, Tensor, preprocessTrocr } from '../../src';
import { expectClose, toNumbers } from '../helpers/compare';
import { parityFixture } from '../helpers/parity';

const fx = parityFixture('glyph_encoder', (dir) => GlyphEncoder.fromPretrained(dir));
const { T, has } = fx;

describe('glyph encoder parity with transformers', () => {
  it('preprocesses exactly as ViTImageProcessor (torchvision backend)', async () => {
    const img = await T('image_uint8');
    const [n, h, w] = img.shape;
    const data = img.dataSync<'uint8'>();
    const images = Array.from({ length: n }, (_, i) => ({ data: data.subarray(i * h * w * 3, (i + 1) * h * w * 3), width: w, height: h }));
    const r = await preprocessTrocr(images, fx.model.config.image_size);
    expect(toNumbers(r.resized)).toEqual(toNumbers(await T('resized_uint8')));
    expect(toNumbers(r.pixelValues)).toEqual(toNumbers(await T('pixel_values')));
    // Against the PIL reference, within the one uint8 level the README allows.
    expectClose('resized vs PIL', r.resized.dtype === 'uint8' ? await r.resized.to(undefined, 'float32') : r.resized, await (await T('resized_uint8_pil')).to(undefined, 'float32'), 1);
  });

  it('encodes to the same hidden states, layer by layer', async () => {
    const out = await fx.model.encode(await T('pixel_values'), { intermediates: true });
    expectClose('embeddings', out.embeddings as Tensor, await T('embeddings'), 1e-4, 1e-4);
    for (let i = 0; i < out.layerOutputs.length; i++) {
      const name = `layer_${i + 1}_output`;
      if (has(name)) expectClose(name, out.layerOutputs[i], await T(name), 1e-4, 1e-4);
    }
    expectClose('last_hidden_state', out.lastHiddenState, await T('last_hidden_state'), 1e-4, 1e-4);
    expect(out.lastHiddenState.shape[1]).toBe(fx.model.sequenceLength);
  });

  it('encodes rendered glyphs of any length to [N, seq, hidden]', async () => {
    const h = await fx.model.encodeTexts(['IBAN DE89 3704', '', 'Müller']);
    expect(h.shape).toEqual([3, fx.model.sequenceLength, fx.model.config.hidden_size]);
    const v = toNumbers(h);
    const per = fx.model.sequenceLength * fx.model.config.hidden_size;
    expect(v.slice(0, per)).not.toEqual(v.slice(per, 2 * per));
  });

  it('rejects text the font cannot draw and wrong pixel shapes', async () => {
    await expect(fx.model.encodeTexts(['price 🪙'])).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_TEXT' });
    await expect(fx.model.encode(Tensor.zeros([1, 3, 16, 16]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
