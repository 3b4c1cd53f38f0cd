/** Byte-level crops of RGB HWC pages (copies of rows; areas outside the page are white paper). */
import sharp from 'sharp';
import type { Page } from './pages';

/** The [x, x+width) x [y, y+height) of the page; outside pixels are 255. */
export function cropRect(page: Page, x: number, y: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3).fill(255);
  const x0 = Math.max(0, x);
  const x1 = Math.min(page.width, x + width);
  if (x1 <= x0) return out;
  for (let r = 0; r < height; r++) {
    const py = y + r;
    if (py < 0 || py >= page.height) continue;
    const src = (py * page.width + x0) * 3;
    out.set(page.data.subarray(src, src + (x1 - x0) * 3), (r * width + (x0 - x)) * 3);
  }
  return out;
}

/** The square [x, x+side) x [y, y+side) of the page; outside pixels are 255. */
export function cropSquare(page: Page, x: number, y: number, side: number): Uint8Array {
  return cropRect(page, x, y, side, side);
}

/** Resizes an RGB crop to targetWidth x targetHeight (Lanczos-3 downscale, cubic upscale, by sharp). */
export async function resizeRect(data: Uint8Array, width: number, height: number, targetWidth: number, targetHeight: number): Promise<Uint8Array> {
  if (width === targetWidth && height === targetHeight) return data;
  const buf = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } })
    .resize(targetWidth, targetHeight, { kernel: targetHeight < height ? 'lanczos3' : 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Resizes a square RGB crop (Lanczos-3 downscale, cubic upscale, by sharp). */
export async function resizeSquare(data: Uint8Array, side: number, target: number): Promise<Uint8Array> {
  return resizeRect(data, side, side, target, target);
}
