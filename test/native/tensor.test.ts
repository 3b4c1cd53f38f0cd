import * as util from 'node:util';
import { DocAnonError, Tensor, info, setNumThreads } from '../../src';
import type { DType } from '../../src';

function sampleData(dtype: DType, n: number): ArrayBufferView {
  switch (dtype) {
    case 'float32': return Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    case 'float64': return Float64Array.from({ length: n }, (_, i) => i / 3);
    case 'float16':
    case 'bfloat16': return Uint16Array.from({ length: n }, (_, i) => 0x3c00 + i); // raw bits
    case 'int64': return BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n - 5n);
    case 'int32': return Int32Array.from({ length: n }, (_, i) => i * 7 - 11);
    case 'uint8': return Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256);
    case 'bool': return Uint8Array.from({ length: n }, (_, i) => i % 2);
  }
}

describe('Tensor round trips', () => {
  const dtypes: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'];
  it.each(dtypes)('%s keeps values and shape', async (dtype) => {
    const data = sampleData(dtype, 24);
    const t = Tensor.from(data, [2, 3, 4], dtype);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe(dtype);
    expect(t.device).toBe('cpu');
    expect(t.numel).toBe(24);
    const back = t.dataSync();
    expect(util.types.isTypedArray(back)).toBe(true);
    expect(Object.prototype.toString.call(back)).toBe(Object.prototype.toString.call(data));
    expect(Array.from(back as ArrayLike<number | bigint>)).toEqual(Array.from(data as unknown as ArrayLike<number | bigint>));
    const asyncBack = await t.data();
    expect(Array.from(asyncBack as ArrayLike<number | bigint>)).toEqual(Array.from(data as unknown as ArrayLike<number | bigint>));
    t.dispose();
  });

  it('returns a copy owned by JavaScript', () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const t = Tensor.from(data, [4]);
    data[0] = 100;
    const a = t.dataSync<'float32'>();
    expect(a[0]).toBe(1);
    a[1] = 50;
    expect(t.dataSync<'float32'>()[1]).toBe(2);
    expect(util.types.isArrayBuffer(a.buffer)).toBe(true);
  });

  it('converts dtype and keeps values representable in float16', async () => {
    const t = Tensor.from(new Float32Array([0.5, -2, 1024]), [3]);
    const h = await t.to(undefined, 'float16');
    expect(h.dtype).toBe('float16');
    expect(Array.from(h.dataSync<'float16'>())).toEqual([0x3800, 0xc000, 0x6400]);
    const f = await h.to('cpu', 'float32');
    expect(Array.from(f.dataSync<'float32'>())).toEqual([0.5, -2, 1024]);
  });

  it('handles views into a larger buffer and empty tensors', () => {
    const big = new Float32Array([9, 9, 1, 2, 3, 9]);
    const view = big.subarray(2, 5);
    expect(Array.from(Tensor.from(view, [3]).dataSync() as Float32Array)).toEqual([1, 2, 3]);
    const empty = Tensor.from(new Float32Array(0), [0, 5]);
    expect(empty.shape).toEqual([0, 5]);
    expect((empty.dataSync() as Float32Array).length).toBe(0);
  });

  it('randn is seeded and deterministic', () => {
    const a = Tensor.randn([3, 4], 42).dataSync<'float32'>();
    const b = Tensor.randn([3, 4], 42).dataSync<'float32'>();
    const c = Tensor.randn([3, 4], 43).dataSync<'float32'>();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('supports explicit resource management', () => {
    let t: Tensor;
    {
      using scoped = Tensor.zeros([2, 2]);
      t = scoped;
      expect(t.disposed).toBe(false);
    }
    expect(t.disposed).toBe(true);
  });
});

describe('bad arguments become DocAnonErrors, never crashes', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['wrong element count', () => Tensor.from(new Float32Array(5), [2, 3]), 'ERR_SHAPE'],
    ['wrong array type for dtype', () => Tensor.from(new Float64Array(4), [4], 'float32'), 'ERR_DTYPE'],
    ['unknown dtype', () => Tensor.from(new Float32Array(4), [4], 'complex64' as DType), 'ERR_DTYPE'],
    ['negative dim', () => Tensor.from(new Float32Array(4), [-4]), 'ERR_ARGUMENT'],
    ['NaN dim', () => Tensor.from(new Float32Array(4), [NaN]), 'ERR_ARGUMENT'],
    ['fractional dim', () => Tensor.from(new Float32Array(4), [2.5]), 'ERR_ARGUMENT'],
    ['shape not an array', () => Tensor.from(new Float32Array(4), 4 as unknown as number[]), 'ERR_ARGUMENT'],
    ['data not a typed array', () => Tensor.from([1, 2, 3] as unknown as Float32Array, [3]), 'ERR_DTYPE'],
    ['huge allocation', () => Tensor.zeros([1 << 20, 1 << 20, 1 << 10]), 'ERR_OOM'],
    ['rank too large', () => Tensor.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]), 'ERR_ARGUMENT'],
    ['cuda on a CPU build', () => Tensor.zeros([2], 'float32', info().cuda.available ? 'cuda:99' : 'cuda'), 'ERR_DEVICE'],
    ['bad device string', () => Tensor.zeros([2], 'float32', 'tpu'), 'ERR_DEVICE'],
    ['non-integer thread count', () => setNumThreads(1.5), 'ERR_ARGUMENT'],
  ];
  it.each(cases)('%s', (_name, fn, code) => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DocAnonError);
    expect((caught as DocAnonError).code).toBe(code);
    expect((caught as DocAnonError).message.length).toBeGreaterThan(10);
  });

  it('a disposed tensor fails with ERR_DISPOSED', async () => {
    const t = Tensor.zeros([2]);
    t.dispose();
    t.dispose(); // idempotent
    expect(() => t.shape).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    expect(() => t.dataSync()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    await expect(async () => t.to('cpu', 'float16')).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });

  it('a forged handle is rejected', async () => {
    const { writeSafetensors } = await import('../../src');
    const forged = Object.create(Tensor.prototype) as Tensor;
    (forged as unknown as { handle: object }).handle = { dtype: 'float32' };
    await expect(writeSafetensors('/tmp/never.safetensors', { x: forged })).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  });
});
