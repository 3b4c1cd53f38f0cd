import { execFileSync } from 'node:child_process';
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

  it('reads only regular files: a FIFO or a device is ERR_IO at once, a file larger than any image within the pixel limit is ERR_IMAGE_TOO_LARGE', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-io-'));
    try {
      const fifo = path.join(dir, 'fifo.png');
      execFileSync('mkfifo', [fifo]);
      // Used to block a libuv thread forever (no writer ever opens the FIFO).
      expect(await codeOf(decodeImage(fifo))).toBe('ERR_IO');
      // Used to read until memory ran out.
      expect(await codeOf(decodeImage('/dev/zero'))).toBe('ERR_IO');
      const sparse = path.join(dir, 'huge.png');
      fs.closeSync(fs.openSync(sparse, 'w'));
      fs.truncateSync(sparse, 65 * 2 ** 20); // sparse: no disk used
      expect(await codeOf(decodeImage(sparse, { maxPixels: 1 }))).toBe('ERR_IMAGE_TOO_LARGE');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('WebP chunks: a size that reads negative as int32 does not loop forever; a one-frame animation of a lossless image is lossless', async () => {
    const lossless = await encoded('webp', 40, 20); // RIFF....WEBP VP8L...
    const u24 = (n: number): Buffer => Buffer.from([n & 255, (n >> 8) & 255, (n >> 16) & 255]);
    const chunk = (id: string, d: Buffer): Buffer => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(d.length);
      return Buffer.concat([Buffer.from(id, 'latin1'), len, d, d.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
    };
    const vp8x = chunk('VP8X', Buffer.concat([Buffer.from([0x02 | 0x10, 0, 0, 0]), u24(39), u24(19)]));
    const anim = chunk('ANIM', Buffer.from([255, 255, 255, 255, 0, 0]));
    const frame = chunk('ANMF', Buffer.concat([u24(0), u24(0), u24(39), u24(19), u24(100), Buffer.from([0]), lossless.subarray(12)]));
    const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), vp8x, anim, frame]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(body.length);
    const oneFrame = Buffer.concat([Buffer.from('RIFF', 'latin1'), size, body]);
    const img = await decodeImage(oneFrame);
    expect([img.format, img.lossless]).toEqual(['webp', true]);
    // A chunk of size 0xFFFFFFF8 (-8 as int32) after the image: the chunk walk used to stand still.
    const trailing = Buffer.concat([oneFrame, Buffer.from('JUNK', 'latin1'), Buffer.from([0xf8, 0xff, 0xff, 0xff]), Buffer.alloc(8)]);
    const inside = Buffer.from(trailing);
    inside.writeUInt32LE(trailing.length - 8, 4); // the same chunk inside the RIFF size
    // (The old walk never returned here: the test would hang, not pass.)
    expect((await decodeImage(trailing)).lossless).toBe(true);
    expect(await decodeImage(inside).then((i) => i.lossless, (e) => (isDocAnonError(e) ? e.code : String(e)))).not.toBe(false);
  });
});
