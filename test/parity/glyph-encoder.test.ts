/** TrOCR glyph encoder vs transformers (fixtures/glyph_encoder): preprocessing and every layer. */
import { GlyphEncoder, SafetensorsFile, Tensor, preprocessTrocr } from '../../src';
import { expectClose, toNumbers } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';

let enc: GlyphEncoder;
let io: SafetensorsFile;
const T = (n: string): Promise<Tensor> => io.load(n);

beforeAll(async () => {
  enc = await GlyphEncoder.fromPretrained(fixture('glyph_encoder'));
  io = await SafetensorsFile.open(fixture('glyph_encoder', 'io.safetensors'));
});
afterAll(() => {
  enc.dispose();
  io.close();
});

describe('glyph encoder parity with transformers', () => {
  it('preprocesses exactly as ViTImageProcessor (torchvision backend)', async () => {
    const img = await T('image_uint8');
    const [n, h, w] = img.shape;
    const data = img.dataSync<'uint8'>();
    const images = Array.from({ length: n }, (_, i) => ({ data: data.subarray(i * h * w * 3, (i + 1) * h * w * 3), width: w, height: h }));
    const r = await preprocessTrocr(images, enc.config.image_size);
    expect(toNumbers(r.resized)).toEqual(toNumbers(await T('resized_uint8')));
    expect(toNumbers(r.pixelValues)).toEqual(toNumbers(await T('pixel_values')));
    // Against the PIL reference, within the one uint8 level the README allows.
    expectClose('resized vs PIL', r.resized.dtype === 'uint8' ? await r.resized.to(undefined, 'float32') : r.resized, await (await T('resized_uint8_pil')).to(undefined, 'float32'), 1);
  });

  it('encodes to the same hidden states, layer by layer', async () => {
    const out = await enc.encode(await T('pixel_values'), { intermediates: true });
    expectClose('embeddings', out.embeddings as Tensor, await T('embeddings'), 1e-4, 1e-4);
    out.layerOutputs.forEach((_, i) => undefined);
    for (let i = 0; i < out.layerOutputs.length; i++) {
      const name = `layer_${i + 1}_output`;
      if (io.entry(name)) expectClose(name, out.layerOutputs[i], await T(name), 1e-4, 1e-4);
    }
    expectClose('last_hidden_state', out.lastHiddenState, await T('last_hidden_state'), 1e-4, 1e-4);
    expect(out.lastHiddenState.shape[1]).toBe(enc.sequenceLength);
  });

  it('encodes rendered glyphs of any length to [N, seq, hidden]', async () => {
    const h = await enc.encodeTexts(['IBAN DE89 3704', '', 'Müller']);
    expect(h.shape).toEqual([3, enc.sequenceLength, enc.config.hidden_size]);
    const v = toNumbers(h);
    const per = enc.sequenceLength * enc.config.hidden_size;
    expect(v.slice(0, per)).not.toEqual(v.slice(per, 2 * per));
  });

  it('rejects text the font cannot draw and wrong pixel shapes', async () => {
    await expect(enc.encodeTexts(['price 漢字'])).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_TEXT' });
    await expect(enc.encode(Tensor.zeros([1, 3, 16, 16]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
