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
    await native().testing.spin(400);
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
    const p = native().testing.throwKind(kind);
    await expect(p).rejects.toBeInstanceOf(DocAnonError);
    await expect(p).rejects.toMatchObject({ code });
  });

  it('torch error messages carry no C++ backtrace', async () => {
    const err = (await native().testing.throwKind('torch-op').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/mat1 and mat2|shapes cannot be multiplied/);
    expect(err.message).not.toMatch(/Exception raised from/);
  });
});
