/**
 * Light augmentation of VAE crops (data.augment): identity when off (byte-identical to the plain
 * crop stream), deterministic per (seed, example index) so a resumed stream is the same bytes,
 * different across indexes, within the configured bounds, uint8 in and out; unknown keys rejected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { parseVaeTrainConfig, type VaeAugmentConfig } from '../../src/training/config';
import { augmentCrop, augmentOff, drawAugment } from '../../src/training/data/augment';
import type { Page, PageSource } from '../../src/training/data/pages';
import { vaeBatch } from '../../src/training/data/vae-examples';
import { Rng } from '../../src/training/synthetic/random';
import { errorText } from '../helpers/cli';

const OFF: VaeAugmentConfig = { hflip: false, brightness: 0, contrast: 0, noise: 0, jpeg_quality: null };
const aug = (o: Partial<VaeAugmentConfig>): VaeAugmentConfig => ({ ...OFF, ...o });

/** One in-memory page, returned for every page index. */
class FixedPages implements PageSource {
  constructor(private readonly p: Page) {}
  page(): Promise<Page> {
    return Promise.resolve(this.p);
  }
}
function makePage(width: number, height: number, pixel: (x: number, y: number) => number): Page {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(pixel(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { data, width, height, annotation: { document: [], entities: [] } };
}
/** A textured page (dark "text" strokes on light paper), asymmetric left-right. */
const textured = makePage(160, 120, (x, y) => ((x * 7 + y * 3) % 23 < 4 || (x < 40 && y % 9 < 2) ? 20 : 235));
/** A flat grey page, so crops differ only by augmentation. */
const grey = makePage(32, 32, () => 128);

const S = 32;
const example = (batch: { images: Uint8Array }, b: number): Uint8Array => batch.images.subarray(b * S * S * 3, (b + 1) * S * S * 3);
const mean = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: Uint8Array): number => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

const ALL = aug({ hflip: true, brightness: 0.1, contrast: 0.2, noise: 6, jpeg_quality: [60, 95] });

describe('VAE augmentation', () => {
  it('is the identity when off: no draws, the crop itself, and the same batch as without augment', async () => {
    const crop = new Uint8Array(S * S * 3).fill(77);
    const rng = new Rng(5);
    expect(await augmentCrop(crop, S, OFF, rng)).toBe(crop);
    expect(await augmentCrop(crop, S, undefined, rng)).toBe(crop);
    expect(rng.next()).toBe(new Rng(5).next()); // the stream was not touched
    expect(augmentOff(OFF)).toBe(true);
    expect(augmentOff(aug({ noise: 1 }))).toBe(false);
    const pages = new FixedPages(textured);
    const plain = await vaeBatch(pages, { seed: 3, cropSize: S, examplesPerPage: 4 }, 0, 4);
    const off = await vaeBatch(pages, { seed: 3, cropSize: S, examplesPerPage: 4, augment: OFF }, 0, 4);
    expect(Buffer.from(off.images).equals(Buffer.from(plain.images))).toBe(true);
  });

  it('is deterministic per (seed, index): same bytes on a rerun and from a resumed cursor, uint8 of the crop size', async () => {
    const pages = new FixedPages(textured);
    const o = { seed: 11, cropSize: S, examplesPerPage: 4, augment: ALL };
    const a = await vaeBatch(pages, o, 0, 6);
    const b = await vaeBatch(pages, o, 0, 6);
    expect(a.images).toBeInstanceOf(Uint8Array);
    expect(a.images.length).toBe(6 * S * S * 3);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    const resumed = await vaeBatch(pages, o, 4, 2);
    expect(Buffer.from(resumed.images).equals(Buffer.from(a.images.subarray(4 * S * S * 3)))).toBe(true);
    // A rank's shard (toDataset) gets the examples of those dataset indexes.
    const shard = await vaeBatch(pages, o, 0, 3, (i) => 2 * i);
    for (let k = 0; k < 3; k++) expect(Buffer.from(example(shard, k)).equals(Buffer.from(example(a, 2 * k)))).toBe(true);
    expect(drawAugment(new Rng(1), ALL)).toEqual(drawAugment(new Rng(1), ALL));
    // The crop position is drawn before the augmentation: with hflip only, every example is the
    // plain crop of the same index or its mirror image.
    const plain = await vaeBatch(pages, { seed: 11, cropSize: S, examplesPerPage: 4 }, 0, 6);
    const flipped = await vaeBatch(pages, { ...o, augment: aug({ hflip: true }) }, 0, 6);
    for (let k = 0; k < 6; k++) {
      const p = example(plain, k);
      const mirror = new Uint8Array(p.length);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) mirror.set(p.subarray((y * S + x) * 3, (y * S + x) * 3 + 3), (y * S + S - 1 - x) * 3);
      const f = Buffer.from(example(flipped, k));
      expect(f.equals(Buffer.from(p)) || f.equals(Buffer.from(mirror))).toBe(true);
    }
  });

  it('differs across example indexes (flat page: only the augmentation can differ)', async () => {
    const pages = new FixedPages(grey);
    const batch = await vaeBatch(pages, { seed: 0, cropSize: S, examplesPerPage: 100, augment: aug({ brightness: 0.2, noise: 3 }) }, 0, 8);
    const keys = new Set(Array.from({ length: 8 }, (_, b) => Buffer.from(example(batch, b)).toString('base64')));
    expect(keys.size).toBe(8);
    const plain = await vaeBatch(pages, { seed: 0, cropSize: S, examplesPerPage: 100 }, 0, 8);
    expect(new Set(Array.from({ length: 8 }, (_, b) => Buffer.from(example(plain, b)).toString('base64'))).size).toBe(1);
  });

  it('brightness shifts a crop uniformly within [-b, b] * 255, both ways', async () => {
    const pages = new FixedPages(grey);
    const batch = await vaeBatch(pages, { seed: 2, cropSize: S, examplesPerPage: 100, augment: aug({ brightness: 0.1 }) }, 0, 40);
    const shifts = Array.from({ length: 40 }, (_, b) => {
      const e = example(batch, b);
      expect(Math.min(...e)).toBe(Math.max(...e)); // a uniform shift of a flat crop stays flat
      return e[0] - 128;
    });
    for (const d of shifts) expect(Math.abs(d)).toBeLessThanOrEqual(Math.round(0.1 * 255));
    expect(Math.min(...shifts)).toBeLessThan(-5);
    expect(Math.max(...shifts)).toBeGreaterThan(5);
  });

  it('contrast scales around mid-grey by a factor within [1 - c, 1 + c]', async () => {
    const page = makePage(S, S, (x) => (x < S / 2 ? 64 : 192));
    const c = 0.3;
    const factors: number[] = [];
    for (let i = 0; i < 20; i++) {
      const rng = new Rng(i);
      const out = await augmentCrop(page.data, S, aug({ contrast: c }), rng);
      const lo = out[0];
      const hi = out[(S - 1) * 3];
      factors.push((hi - lo) / 128);
      expect(Math.abs((lo + hi) / 2 - 127.5)).toBeLessThanOrEqual(1); // pivot stays at mid-grey
    }
    for (const f of factors) {
      expect(f).toBeGreaterThanOrEqual(1 - c - 0.02);
      expect(f).toBeLessThanOrEqual(1 + c + 0.02);
    }
    expect(Math.max(...factors) - Math.min(...factors)).toBeGreaterThan(0.1);
  });

  it('noise has a standard deviation of at most `noise` levels, zero mean, same on all channels', async () => {
    for (let i = 0; i < 10; i++) {
      const out = await augmentCrop(grey.data.subarray(0, S * S * 3), S, aug({ noise: 8 }), new Rng(100 + i));
      expect(std(out)).toBeLessThanOrEqual(8 * 1.15);
      expect(Math.abs(mean(out) - 128)).toBeLessThan(1.5);
      let sameChannels = true;
      for (let p = 0; p < S * S; p++) sameChannels &&= out[p * 3] === out[p * 3 + 1] && out[p * 3] === out[p * 3 + 2];
      expect(sameChannels).toBe(true);
    }
  });

  it('hflip mirrors about half of the crops; JPEG re-compression changes a textured crop but keeps its size', async () => {
    const page = makePage(S, S, (x, y) => (x < 8 && y % 5 < 2 ? 0 : 255));
    const mirrored = makePage(S, S, (x, y) => (S - 1 - x < 8 && y % 5 < 2 ? 0 : 255)).data;
    let flips = 0;
    for (let i = 0; i < 30; i++) {
      const out = await augmentCrop(page.data, S, aug({ hflip: true }), new Rng(i));
      const isFlip = Buffer.from(out).equals(Buffer.from(mirrored));
      expect(isFlip || Buffer.from(out).equals(Buffer.from(page.data))).toBe(true);
      if (isFlip) flips++;
    }
    expect(flips).toBeGreaterThan(5);
    expect(flips).toBeLessThan(25);
    const src = makePage(S, S, (x, y) => ((x * 7 + y * 3) % 23 < 4 ? 20 : 235)).data;
    const jpeg = await augmentCrop(src, S, aug({ jpeg_quality: [30, 40] }), new Rng(1));
    expect(jpeg.length).toBe(S * S * 3);
    expect(Buffer.from(jpeg).equals(Buffer.from(src))).toBe(false);
    expect(Math.abs(mean(jpeg) - mean(src))).toBeLessThan(10);
  });

  describe('config', () => {
    const local = (): Record<string, any> => YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.local.yaml'), 'utf8'));
    const message = errorText;

    it('defaults to all off and takes the documented keys', () => {
      expect(parseVaeTrainConfig(local()).data.augment).toEqual(OFF);
      const c = local();
      c.data.augment = { brightness: 0.05, contrast: 0.1, noise: 2, jpeg_quality: [70, 95] };
      expect(parseVaeTrainConfig(c).data.augment).toEqual({ ...OFF, brightness: 0.05, contrast: 0.1, noise: 2, jpeg_quality: [70, 95] });
    });

    it.each([
      ['an unknown key', { blur: 1 }, 'data.augment.blur: unknown key'],
      ['a reversed JPEG range', { jpeg_quality: [90, 50] }, 'data.augment.jpeg_quality'],
      ['a JPEG quality over 100', { jpeg_quality: [90, 101] }, 'data.augment.jpeg_quality'],
      ['a negative brightness', { brightness: -0.1 }, 'data.augment.brightness'],
      ['hflip as a number', { hflip: 0.5 }, 'data.augment.hflip'],
    ])('rejects %s with its key path', (_name, augment, expected) => {
      const c = local();
      c.data.augment = augment;
      const m = message(() => parseVaeTrainConfig(c));
      expect(m).toContain('ERR_CONFIG');
      expect(m).toContain(expected);
    });
  });
});
