import * as util from 'node:util';
import { Tensor } from '../../src';

/** max |a - b| over two tensors of the same shape (as float64 in JS). */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = toNumbers(a);
  const y = toNumbers(b);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxAbs(a: Tensor): number {
  let m = 0;
  for (const v of toNumbers(a)) m = Math.max(m, Math.abs(v));
  return m;
}

export function toNumbers(t: Tensor): number[] {
  const d = t.dataSync();
  // Arrays made by the addon come from another realm under jest: no instanceof.
  if (util.types.isBigInt64Array(d)) return Array.from(d as BigInt64Array, (v) => Number(v));
  return Array.from(d as ArrayLike<number>);
}

/** Asserts max|got - ref| <= atol + rtol * max|ref| and returns the difference. */
export function expectClose(name: string, got: Tensor, ref: Tensor, atol: number, rtol = 0): number {
  const diff = maxAbsDiff(got, ref);
  const limit = atol + rtol * maxAbs(ref);
  if (!(diff <= limit)) throw new Error(`${name}: max abs diff ${diff.toExponential(3)} > limit ${limit.toExponential(3)}`);
  return diff;
}
