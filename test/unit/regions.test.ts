import { isDocAnonError } from '../../src/core/errors';
import {
  adaptiveCrop,
  maskRect,
  pasteFeathered,
  validateRegions,
  type Rect,
} from '../../src/inference/regions';

const page = { width: 1000, height: 800 };

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isDocAnonError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('validateRegions', () => {
  it('accepts boxes and 4-point quads, rounds outward and clamps to the page', () => {
    const r = validateRegions(
      [
        { box: [10.2, 20.7, 110.5, 50.1], replacement: 'Jane Roe' },
        { box: [[100, 100], [200, 95], [205, 130], [98, 135]], replacement: '' },
        { box: [-20, 790, 60, 900], replacement: 'x' },
      ],
      page,
    );
    expect(r.map((x) => x.rect)).toEqual([
      { x0: 10, y0: 20, x1: 111, y1: 51 },
      { x0: 98, y0: 95, x1: 205, y1: 135 },
      { x0: 0, y0: 790, x1: 60, y1: 800 },
    ]);
    expect(r.map((x) => x.index)).toEqual([0, 1, 2]);
  });

  it.each([
    ['not an array', { box: [0, 0, 10, 10] }, /array/],
    ['NaN', [{ box: [0, Number.NaN, 10, 10], replacement: 'a' }], /regions\.0\.box/],
    ['Infinity', [{ box: [0, 0, Infinity, 10], replacement: 'a' }], /regions\.0\.box/],
    ['strings', [{ box: ['0', 0, 10, 10], replacement: 'a' }], /regions\.0\.box/],
    ['3 points', [{ box: [[0, 0], [1, 1], [2, 2]], replacement: 'a' }], /regions\.0\.box/],
    ['unknown key', [{ box: [0, 0, 10, 10], replacement: 'a', text: 'b' }], /unknown key.*text/],
    ['missing replacement', [{ box: [0, 0, 10, 10] }], /regions\.0\.replacement/],
    ['x, y, w, h by mistake', [{ box: [0, 0, 10, 10] , replacement: 'a' }, { box: [50, 50, 20, 10], replacement: 'a' }], /regions\.1\.box.*x0 < x1/],
    ['outside the page', [{ box: [1200, 10, 1300, 40], replacement: 'a' }], /outside the 1000x800 page/],
    ['too small after clamping', [{ box: [998, 10, 1100, 40], replacement: 'a' }], /2x30 px.*minimum 4/],
    ['too long', [{ box: [0, 0, 10, 10], replacement: 'a'.repeat(201) }], /201 characters/],
  ])('refuses %s with ERR_INPUT', (_name, regions, message) => {
    const e = errorOf(() => validateRegions(regions, page));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(message);
  });

  it('limits the number of regions', () => {
    const many = Array.from({ length: 5 }, () => ({ box: [0, 0, 10, 10], replacement: 'a' }));
    expect(validateRegions(many, page, { maxRegions: 5 })).toHaveLength(5);
    expect(errorOf(() => validateRegions(many, page, { maxRegions: 4 })).message).toMatch(/5 regions.*limit of 4/);
  });

  it('names undrawable replacement characters with ERR_UNSUPPORTED_TEXT', () => {
    const e = errorOf(() => validateRegions([{ box: [0, 0, 10, 10], replacement: 'ok' }, { box: [0, 0, 10, 10], replacement: 'Wang 🐉' }], page));
    expect(e.code).toBe('ERR_UNSUPPORTED_TEXT');
    expect(e.message).toMatch(/regions\.1\.replacement.*"🐉" \(U\+1F409\)/);
    // CJK is drawn by the bundled CJK fallback face: accepted.
    expect(validateRegions([{ box: [0, 0, 10, 10], replacement: 'Wang 王' }], page)).toHaveLength(1);
  });
});

describe('shared geometry', () => {
  it('extends the DiffUTE mask bottom by h/10, clipped', () => {
    expect(maskRect({ x0: 5, y0: 100, x1: 50, y1: 150 }, page)).toEqual({ x0: 5, y0: 100, x1: 50, y1: 155 });
    expect(maskRect({ x0: 5, y0: 750, x1: 50, y1: 799 }, page).y1).toBe(800);
  });

  it('grows the crop with the text height, at least the box width, inside the page', () => {
    const small = adaptiveCrop({ x0: 500, y0: 400, x1: 540, y1: 410 }, page);
    expect(small.x1 - small.x0).toBe(128); // 6 * 10 < minSide 128
    const tall = adaptiveCrop({ x0: 500, y0: 400, x1: 540, y1: 450 }, page);
    expect(tall.x1 - tall.x0).toBe(300);
    expect(tall.y1 - tall.y0).toBe(300);
    const wide = adaptiveCrop({ x0: 100, y0: 400, x1: 600, y1: 420 }, page);
    expect(wide.x1 - wide.x0).toBe(500);
    const corner = adaptiveCrop({ x0: 0, y0: 770, x1: 40, y1: 800 }, page);
    expect(corner).toEqual({ x0: 0, y0: 620, x1: 180, y1: 800 });
    const huge = adaptiveCrop({ x0: 0, y0: 0, x1: 900, y1: 200 }, page);
    expect(huge).toEqual({ x0: 0, y0: 0, x1: 1000, y1: 800 });
    for (const c of [small, tall, wide, corner]) {
      expect(c.x0).toBeGreaterThanOrEqual(0);
      expect(c.y1).toBeLessThanOrEqual(800);
    }
  });

  it('pastes with a feathered edge and never touches pixels outside the rect', () => {
    const w = 30;
    const h = 20;
    const img = { data: new Uint8Array(w * h * 4).map((_, i) => (i * 31) & 255), width: w, height: h, channels: 4 };
    const before = img.data.slice();
    const rect: Rect = { x0: 5, y0: 4, x1: 25, y1: 16 };
    const patch = new Uint8Array(20 * 12 * 4).fill(200);
    pasteFeathered(img, patch, rect, 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        const inside = x >= rect.x0 && x < rect.x1 && y >= rect.y0 && y < rect.y1;
        if (!inside) expect(Array.from(img.data.subarray(i, i + 4))).toEqual(Array.from(before.subarray(i, i + 4)));
        else expect(img.data[i + 3]).toBe(before[i + 3]); // alpha is kept
      }
    }
    // Centre fully replaced, border blended.
    const centre = ((10 * w) + 15) * 4;
    expect(img.data[centre]).toBe(200);
    const edge = ((4 * w) + 15) * 4;
    expect(img.data[edge]).not.toBe(200);
    expect(() => pasteFeathered(img, patch, { x0: 20, y0: 4, x1: 40, y1: 16 }, 1)).toThrow(/not inside/);
  });
});
