/** UNet2DConditionModel vs diffusers (fixtures/unet): output, intermediates, loss and gradients. */
import { Tensor, UNet2DConditionModel } from '../../src';
import { expectClose } from '../helpers/compare';
import { expectGradientsMatch, parityFixture } from '../helpers/parity';

const fx = parityFixture('unet', (dir) => UNet2DConditionModel.fromPretrained(dir));
const { T } = fx;

describe('UNet2DConditionModel parity with diffusers', () => {
  it('forward and intermediates', async () => {
    const out = await fx.model.forward({
      sample: await T('input.sample'),
      timesteps: await T('input.timesteps'),
      encoderHiddenStates: await T('input.encoder_hidden_states'),
      intermediates: true,
    });
    expectClose('time_proj', out.timeProj as Tensor, await T('intermediate.time_proj'), 1e-6);
    expectClose('time_embedding', out.timeEmbedding as Tensor, await T('intermediate.time_embedding'), 1e-5, 1e-5);
    expectClose('mid_block', out.midBlock as Tensor, await T('intermediate.mid_block'), 1e-4, 1e-5);
    expectClose('sample', out.sample, await T('output.sample'), 1e-4, 1e-5);
  });

  it('loss and gradients', async () => {
    fx.model.zeroGrad();
    const r = await fx.model.loss({
      sample: await T('input.sample'),
      timesteps: await T('input.timesteps'),
      encoderHiddenStates: await T('input.encoder_hidden_states'),
      target: await T('input.target'),
      backward: true,
    });
    expectClose('loss', r.loss, await T('output.loss'), 1e-6, 1e-5);
    await expectGradientsMatch(fx, (p) => fx.model.grad(p));
  });

  it('handles latent sizes that are not a multiple of 2^levels', async () => {
    const s = await T('input.sample');
    const [b, c] = s.shape;
    const ctx = await T('input.encoder_hidden_states');
    const out = await fx.model.forward({ sample: Tensor.randn([b, c, 11, 13], 1), timesteps: await T('input.timesteps'), encoderHiddenStates: ctx });
    expect(out.sample.shape).toEqual([b, fx.model.config.out_channels ?? 4, 11, 13]);
  });

  it('rejects bad inputs with ERR_SHAPE', async () => {
    const ctx = await T('input.encoder_hidden_states');
    const t = await T('input.timesteps');
    await expect(fx.model.forward({ sample: Tensor.zeros([2, 3, 16, 16]), timesteps: t, encoderHiddenStates: ctx })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(fx.model.forward({ sample: await T('input.sample'), timesteps: t, encoderHiddenStates: Tensor.zeros([2, 7, 5]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
