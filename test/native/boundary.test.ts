import { DocAnonError, info } from '../../src';
import { native } from '../../src/native/loader';

describe('native boundary', () => {
  it('info() reports libtorch and threads', () => {
    const i = info();
    expect(i.libtorch).toMatch(/^2\.\d+/);
    expect(i.threads.intraOp).toBeGreaterThan(0);
    expect(typeof i.cuda.available).toBe('boolean');
    expect(i.napiVersion).toBe(8);
  });

  it('keeps the event loop responsive during a long native call', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await native().testing.spin({ ms: 400 });
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThanOrEqual(380);
    // A blocked loop would fire at most once or twice; a free one ~80 times in 400 ms.
    expect(ticks).toBeGreaterThan(20);
  });

  it.each([
    ['da', 'ERR_SHAPE'],
    ['c10', 'ERR_TORCH'],
    ['torch-op', 'ERR_TORCH'],
    ['oom', 'ERR_OOM'],
    ['std', 'ERR_INTERNAL'],
    ['unknown', 'ERR_INTERNAL'],
  ])('maps a %s exception on a worker to %s', async (kind, code) => {
    const p = native().testing.throwKind({ kind });
    await expect(p).rejects.toBeInstanceOf(DocAnonError);
    await expect(p).rejects.toMatchObject({ code });
  });

  it('torch error messages carry no C++ backtrace', async () => {
    const err = (await native().testing.throwKind({ kind: 'torch-op' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/mat1 and mat2|shapes cannot be multiplied/);
    expect(err.message).not.toMatch(/Exception raised from/);
  });
});

describe('the boundary protocol', () => {
  const VAE = JSON.stringify({ block_out_channels: [8], down_block_types: ['DownEncoderBlock2D'], up_block_types: ['UpDecoderBlock2D'], norm_num_groups: 4, layers_per_block: 1 });

  it('every native object is a handle with dispose() and disposed; a disposed one is ERR_DISPOSED where it is used', async () => {
    const a = native();
    const t = a.TensorHandle.zeros({ shape: [1, 3, 8, 8] });
    const vae = await a.createModel({ kind: 'vae', config: VAE });
    const sched = a.createScheduler({ config: '{"num_train_timesteps":1000}', className: 'DDIMScheduler' });
    const token = a.createAbortToken();
    const trainer = await a.createTrainer(vae, {});
    const handles = { tensor: t, model: vae, scheduler: sched, token, trainer };
    for (const [name, h] of Object.entries(handles)) {
      expect([name, h.disposed]).toEqual([name, false]);
      await h.dispose();
      expect([name, h.disposed]).toEqual([name, true]);
    }
    const unet = await a.createModel({ kind: 'unet', config: JSON.stringify({ block_out_channels: [32], down_block_types: ['DownBlock2D'], up_block_types: ['UpBlock2D'], in_channels: 9, cross_attention_dim: 8, attention_head_dim: 1, layers_per_block: 1 }) });
    const vae2 = await a.createModel({ kind: 'vae', config: VAE });
    const x = a.TensorHandle.zeros({ shape: [1, 3, 8, 8] });
    // (Arguments are checked when the call is made: these throw at once, nothing is queued.)
    expect(() => a.inpaint(unet, vae2, sched, { image: x, mask: x, encoderHiddenStates: x })).toThrow(
      expect.objectContaining({ code: 'ERR_DISPOSED', message: expect.stringContaining('scheduler') }),
    );
    expect(() => a.vaeEncode(vae, { x })).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    expect(() => t.shape).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    unet.dispose();
    vae2.dispose();
  });

  it('takes the objects a call acts on as handles and everything else in one options object, refusing keys it does not take', async () => {
    const a = native();
    const vae = await a.createModel({ kind: 'vae', config: VAE });
    const x = a.TensorHandle.zeros({ shape: [1, 3, 8, 8] });
    try {
      expect(() => a.vaeEncode(vae, { x, sample: x } as never)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', message: expect.stringContaining('sample') }));
      expect(() => a.vaeEncode(x as never, { x })).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', message: expect.stringContaining('ModelHandle') }));
      expect(() => a.TensorHandle.zeros({ shape: [2], dype: 'float32' } as never)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', message: expect.stringContaining('dype') }));
      expect(() => a.loadModel({ kind: 'vea', path: '/x' } as never)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT', message: expect.stringContaining('vae, unet') }));
      expect((await a.vaeEncode(vae, { x })).mean?.shape).toEqual([1, 4, 8, 8]);
    } finally {
      vae.dispose();
      x.dispose();
    }
  });
});
