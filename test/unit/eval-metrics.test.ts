/** The evaluation's measures (src/eval/metrics) against values known in closed form. */
import { charAccuracy, editDistance, outsideRectError, psnr, ssim, u8HwcToSignedNchw, signedNchwToHwc255, wordAccuracy } from '../../src/eval/metrics';
import { Rng } from '../../src/training/synthetic/random';

function image(w: number, h: number, seed: number): Uint8Array {
  const r = new Rng(seed);
  // Smooth structure plus texture, as a document crop has.
  return Uint8Array.from({ length: w * h * 3 }, (_, i) => {
    const p = Math.floor(i / 3);
    const x = p % w;
    const y = Math.floor(p / w);
    return Math.max(0, Math.min(255, Math.round(128 + 90 * Math.sin(x / 5) * Math.cos(y / 7) + r.int(-20, 20))));
  });
}

function noisy(a: Uint8Array, amp: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from(a, (v) => v + (r.next() < 0.5 ? -amp : amp));
}

describe('PSNR', () => {
  it('is infinite for an identical image and 20 log10(255 / sigma) for +-sigma noise', () => {
    const a = image(32, 32, 1);
    expect(psnr(a, a)).toBe(Infinity);
    // +-4 everywhere: MSE 16 exactly.
    expect(psnr(a, noisy(a, 4, 2))).toBeCloseTo(20 * Math.log10(255 / 4), 10);
    expect(psnr(a, noisy(a, 16, 2))).toBeLessThan(psnr(a, noisy(a, 4, 2)));
  });
});

describe('SSIM', () => {
  it('is 1 for an identical image, symmetric, and falls with noise', () => {
    const a = image(48, 40, 3);
    expect(ssim(a, a, 48, 40)).toBeCloseTo(1, 12);
    const b = noisy(a, 8, 4);
    const c = noisy(a, 40, 4);
    expect(ssim(a, b, 48, 40)).toBeCloseTo(ssim(b, a, 48, 40), 12);
    expect(ssim(a, b, 48, 40)).toBeLessThan(1);
    expect(ssim(a, c, 48, 40)).toBeLessThan(ssim(a, b, 48, 40));
  });

  it('of a constant image against a shifted constant is the luminance term alone', () => {
    const a = new Uint8Array(16 * 16 * 3).fill(100);
    const b = new Uint8Array(16 * 16 * 3).fill(140);
    const C1 = (0.01 * 255) ** 2;
    expect(ssim(a, b, 16, 16)).toBeCloseTo((2 * 100 * 140 + C1) / (100 ** 2 + 140 ** 2 + C1), 10);
  });
});

describe('OCR accuracy', () => {
  it('character accuracy is 1 - CER and word accuracy whole lines', () => {
    expect(editDistance([...'kitten'], [...'sitting'])).toBe(3);
    expect(charAccuracy('hello', 'hallo')).toBeCloseTo(0.8, 12);
    expect(charAccuracy('IBAN DE89', ' IBAN  DE89 ')).toBe(1);
    expect(charAccuracy('abc', 'xxxxxxxx')).toBe(0);
    expect(charAccuracy('', '')).toBe(1);
    expect(wordAccuracy('Total 12.50', 'Total 12.50')).toBe(1);
    expect(wordAccuracy('Total 12.50', 'Total 12.5O')).toBe(0);
  });
});

it('outsideRectError ignores the rect and counts moved pixels outside it', () => {
  const a = image(10, 8, 5);
  const b = Uint8Array.from(a);
  b[(3 * 10 + 4) * 3] ^= 0xff; // inside [2, 2, 6, 6)
  expect(outsideRectError(a, b, 10, 8, 3, { x0: 2, y0: 2, x1: 6, y1: 6 })).toMatchObject({ mse: 0, changed: 0, count: 80 - 16 });
  b[(7 * 10 + 9) * 3 + 1] = (b[(7 * 10 + 9) * 3 + 1] + 10) % 256; // outside
  expect(outsideRectError(a, b, 10, 8, 3, { x0: 2, y0: 2, x1: 6, y1: 6 }).changed).toBe(1);
});

it('uint8 HWC -> signed NCHW -> 0..255 HWC is the identity', () => {
  const a = image(6, 5, 6);
  const back = signedNchwToHwc255(u8HwcToSignedNchw(Uint8Array.from([...a, ...a]), 2, 5, 6), 2, 5, 6);
  expect(Array.from(back.subarray(0, a.length), (v) => Math.round(v))).toEqual(Array.from(a));
});
