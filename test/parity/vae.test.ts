/**
 * AutoencoderKL vs diffusers (fixtures/vae): every stored output and gradient. Sizes come from the
 * files, so another fixture root of the same layout (DOC_ANON_FIXTURES) runs unchanged.
 */
import { AutoencoderKL, Tensor } from '../../src';
import { expectClose } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';
import { expectGradientsMatch, parityFixture } from '../helpers/parity';

const fx = parityFixture('vae', (dir) => AutoencoderKL.fromPretrained(dir));
const { T } = fx;

describe('AutoencoderKL parity with diffusers', () => {
  it('encodes to the same posterior', async () => {
    const p = await fx.model.encode(await T('input.x'));
    expectClose('moments', p.moments, await T('output.moments'), 1e-4, 1e-5);
    expectClose('mean', p.mean, await T('output.mean'), 1e-5, 1e-5);
    expectClose('logvar', p.logvar, await T('output.logvar'), 1e-5, 1e-5);
    expectClose('std', p.std, await T('output.std'), 1e-5, 1e-5);
    expectClose('var', p.var, await T('output.var'), 1e-5, 1e-5);
    // float64 spread of kl is 3e-4 on values ~3.8e3
    expectClose('kl', p.kl, await T('output.kl'), 5e-3, 1e-6);
  });

  it('computes the loss and its gradients like diffusers', async () => {
    fx.model.zeroGrad();
    const r = await fx.model.loss({ x: await T('input.x'), eps: await T('input.eps'), recon: 'mse', reconReduction: 'mean', klWeight: 1e-6, backward: true });
    expectClose('z', r.z, await T('output.z'), 1e-5, 1e-5);
    expectClose('decoded', r.decoded, await T('output.decoded'), 1e-4, 1e-5);
    expectClose('recon_mse', r.recon, await T('output.recon_mse'), 1e-6, 1e-5);
    expectClose('loss', r.loss, await T('output.loss'), 1e-6, 1e-5);
    await expectGradientsMatch(fx, (p) => fx.model.grad(p));
    // The clamped logvar channel has zero gradient, as in PyTorch.
    expect(fx.model.grad('encoder.conv_in.weight')?.shape).toEqual((await T('grad.encoder.conv_in.weight')).shape);
  });

  it('by default computes the trainer\'s objective: L1 summed per sample and batch-averaged, + 1e-6 * batch-mean KL', async () => {
    const x = await T('input.x');
    const r = await fx.model.loss({ x, samplePosterior: false });
    const p = await fx.model.encode(x);
    const dec = (await fx.model.decode(p.mean)).dataSync<'float32'>();
    const xs = x.dataSync<'float32'>();
    const B = x.shape[0];
    let l1 = 0;
    for (let i = 0; i < xs.length; i++) l1 += Math.abs(dec[i] - xs[i]);
    const kl = p.kl.dataSync<'float32'>();
    const klMean = kl.reduce((a, b) => a + b, 0) / B;
    const v = (t: Tensor): number => t.dataSync<'float32'>()[0];
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
    expect(rel(v(r.recon), l1 / B)).toBeLessThan(1e-5);
    expect(rel(v(r.klMean), klMean)).toBeLessThan(1e-5);
    expect(rel(v(r.loss), l1 / B + 1e-6 * klMean)).toBeLessThan(1e-5);
    await expect(fx.model.loss({ x, reconReduction: 'median' as never })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', message: expect.stringMatching(/reconReduction/) });
    await expect(fx.model.loss({ x, eps: Tensor.zeros([1, 4, 4, 4]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });

  it('computes the objective of a bfloat16 model too (the float32 posterior sample is decoded in the model\'s dtype)', async () => {
    const bf16 = await AutoencoderKL.fromPretrained(fixture('vae'), { dtype: 'bfloat16' });
    try {
      const r = await bf16.loss({ x: await T('input.x'), eps: await T('input.eps') });
      const f32 = await fx.model.loss({ x: await T('input.x'), eps: await T('input.eps') });
      const [a, b] = [r.loss.dataSync<'float32'>()[0], f32.loss.dataSync<'float32'>()[0]];
      expect(Number.isFinite(a)).toBe(true);
      expect(Math.abs(a - b) / b).toBeLessThan(5e-2); // bf16 rounding of the weights and activations
    } finally {
      bf16.dispose();
    }
  });

  it('decodes the posterior mode like forward(sample_posterior=False)', async () => {
    const p = await fx.model.encode(await T('input.x'));
    expectClose('decoded_mode', await fx.model.decode(p.mean), await T('output.decoded_mode'), 1e-4, 1e-5);
  });

  it('rejects wrong input shapes with ERR_SHAPE', async () => {
    await expect(fx.model.encode(Tensor.zeros([1, 4, 32, 32]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(fx.model.encode(Tensor.zeros([1, 3, 33, 32]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(fx.model.decode(Tensor.zeros([1, 3, 8, 8]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
