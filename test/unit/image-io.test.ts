import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { isDocAnonError } from '../../src/core/errors';
import { decodeImage, encodeImage, type DecodedImage, type ImageFormat } from '../../src/inference/image-io';

/** A deterministic test pattern with gradients and sharp edges. */
function pattern(width: number, height: number, channels: 3 | 4): Buffer {
  const b = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      b[i] = (x * 7 + y) & 255;
      b[i + 1] = (y * 5) & 255;
      b[i + 2] = (x ^ y) & 255;
      if (channels === 4) b[i + 3] = 128 + ((x + y) & 127);
    }
  }
  return b;
}

async function encoded(format: ImageFormat, width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> {
  const p = sharp(pattern(width, height, channels), { raw: { width, height, channels } });
  if (format === 'png') return p.png().toBuffer();
  if (format === 'jpeg') return p.jpeg({ quality: 90 }).toBuffer();
  if (format === 'tiff') return p.tiff({ compression: 'lzw' }).toBuffer();
  return p.webp({ lossless: true }).toBuffer();
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isDocAnonError(e)) return e.code;
    throw e;
  }
  throw new Error('expected an error');
}

/** A PNG whose header claims `w` x `h` but holds almost no data (a decompression-bomb shape). */
function fakeHugePng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('image IO', () => {
  it.each<[ImageFormat, number, number]>([
    ['png', 37, 23],
    ['jpeg', 64, 33],
    ['tiff', 51, 70],
    ['webp', 45, 19],
  ])('round-trips %s at its exact size and format (%ix%i)', async (format, w, h) => {
    const img = await decodeImage(await encoded(format, w, h));
    expect([img.format, img.width, img.height, img.channels]).toEqual([format, w, h, 3]);
    expect(img.data.length).toBe(w * h * 3);
    const out = await encodeImage(img);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([format, w, h]);
    const again = await decodeImage(out);
    if (format === 'jpeg') {
      let err = 0;
      for (let i = 0; i < img.data.length; i++) err += Math.abs(img.data[i] - again.data[i]);
      expect(err / img.data.length).toBeLessThan(6);
    } else {
      // Lossless formats (lossless WebP stays lossless): byte-identical pixels.
      expect(img.lossless).toBe(true);
      expect(Buffer.from(again.data).equals(Buffer.from(img.data))).toBe(true);
    }
  });

  it('keeps an alpha channel (RGBA PNG) exactly', async () => {
    const img = await decodeImage(await encoded('png', 20, 10, 4));
    expect(img.channels).toBe(4);
    expect(Buffer.from(img.data).equals(pattern(20, 10, 4))).toBe(true);
    const again = await decodeImage(await encodeImage(img));
    expect(Buffer.from(again.data).equals(Buffer.from(img.data))).toBe(true);
  });

  it('reads from a path, and says ERR_IO for a missing file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-io-'));
    try {
      const file = path.join(dir, 'page.tiff');
      fs.writeFileSync(file, await encoded('tiff', 12, 9));
      const img = await decodeImage(file);
      expect([img.format, img.width, img.height]).toEqual(['tiff', 12, 9]);
      expect(await codeOf(decodeImage(path.join(dir, 'missing.png')))).toBe('ERR_IO');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies EXIF orientation on decode and writes an upright image without metadata', async () => {
    const src = await sharp(pattern(40, 20, 3), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(src).metadata()).orientation).toBe(6);
    const img = await decodeImage(src);
    expect([img.width, img.height]).toEqual([20, 40]); // rotated 90 degrees for display
    const out = await encodeImage(img);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([20, 40]);
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
  });

  it('refuses decompression bombs from the header, before decoding', async () => {
    const bomb = fakeHugePng(60000, 60000);
    expect(bomb.length).toBeLessThan(2000);
    expect(await codeOf(decodeImage(bomb))).toBe('ERR_IMAGE_TOO_LARGE');
    expect(await codeOf(decodeImage(await encoded('png', 100, 100), { maxPixels: 9999 }))).toBe('ERR_IMAGE_TOO_LARGE');
    await expect(decodeImage(await encoded('png', 100, 100), { maxPixels: 10000 })).resolves.toBeDefined();
  });

  it('says ERR_IMAGE for garbage, truncated and unsupported input', async () => {
    expect(await codeOf(decodeImage(Buffer.from('this is not an image at all')))).toBe('ERR_IMAGE');
    const png = await encoded('png', 200, 200);
    expect(await codeOf(decodeImage(png.subarray(0, png.length >> 1)))).toBe('ERR_IMAGE');
    const gif = await sharp(pattern(8, 8, 3), { raw: { width: 8, height: 8, channels: 3 } }).gif().toBuffer();
    expect(await codeOf(decodeImage(gif))).toBe('ERR_IMAGE');
  });

  it('refuses an inconsistent pixel buffer on encode', async () => {
    const bad: DecodedImage = { data: new Uint8Array(10), width: 4, height: 4, channels: 3, format: 'png', lossless: true };
    expect(await codeOf(encodeImage(bad))).toBe('ERR_ARGUMENT');
  });
});
