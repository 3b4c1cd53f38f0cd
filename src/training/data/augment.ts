/**
 * Light augmentation of VAE training crops (data.augment in the VAE config): gaussian noise,
 * optional left-right flip, brightness / contrast jitter and JPEG re-compression. Everything is
 * drawn from the example's own Rng (the one that placed the crop), so example i is the same bytes
 * on every run and after a resume. Off by default; with everything off the crop is returned as is.
 *
 * Order: noise (one sample per pixel, added to all three channels: sensor / scan noise, not colour
 * speckle) -> flip -> contrast and brightness (one sharp `linear`: out = a * (x - 127.5) + 127.5 + b,
 * rounded and clamped to 0..255) -> JPEG encode + decode at the drawn quality. Output stays uint8
 * RGB of the same size.
 */
import sharp from 'sharp';
import type { VaeAugmentConfig } from '../config';
import type { Rng } from '../synthetic/random';

/** What one crop draws (exported for tests and logs). */
export interface AugmentDraw {
  flip: boolean;
  /** Contrast factor a (1 = unchanged). */
  contrast: number;
  /** Brightness shift b in levels (0 = unchanged). */
  brightness: number;
  /** Noise standard deviation in levels (0 = none). */
  sigma: number;
  /** JPEG quality, or null for no re-compression. */
  quality: number | null;
}

/** True when the config changes nothing (no draws are made, the crop is returned as is). */
export function augmentOff(a: VaeAugmentConfig | undefined): boolean {
  return !a || (!a.hflip && a.brightness === 0 && a.contrast === 0 && a.noise === 0 && a.jpeg_quality === null);
}

/** Draws one crop's parameters, in a fixed order (only enabled options draw). */
export function drawAugment(rng: Rng, a: VaeAugmentConfig): AugmentDraw {
  return {
    flip: a.hflip ? rng.next() < 0.5 : false,
    contrast: a.contrast > 0 ? rng.float(1 - a.contrast, 1 + a.contrast) : 1,
    brightness: a.brightness > 0 ? rng.float(-a.brightness, a.brightness) * 255 : 0,
    sigma: a.noise > 0 ? rng.float(0, a.noise) : 0,
    quality: a.jpeg_quality ? rng.int(a.jpeg_quality[0], a.jpeg_quality[1]) : null,
  };
}

/** Augments a square RGB HWC uint8 crop of side `side`; returns `data` itself when augmentation is off. */
export async function augmentCrop(data: Uint8Array, side: number, a: VaeAugmentConfig | undefined, rng: Rng): Promise<Uint8Array> {
  if (!a || augmentOff(a)) return data;
  const d = drawAugment(rng, a);
  let px = data;
  if (d.sigma > 0) {
    px = new Uint8Array(data.length);
    const n = side * side;
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const v = d.sigma * rng.gauss();
      for (let c = 0; c < 3; c++) {
        const x = Math.round(data[j + c] + v);
        px[j + c] = x < 0 ? 0 : x > 255 ? 255 : x;
      }
    }
  }
  const linear = d.contrast !== 1 || d.brightness !== 0;
  if (!d.flip && !linear && d.quality === null) return px;
  let img = sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), { raw: { width: side, height: side, channels: 3 } });
  if (d.flip) img = img.flop();
  // sharp truncates toward zero when it casts back to uint8: +0.5 rounds to nearest.
  if (linear) img = img.linear(d.contrast, 127.5 * (1 - d.contrast) + d.brightness + 0.5);
  let out: Buffer;
  if (d.quality !== null) {
    const jpeg = await img.jpeg({ quality: d.quality }).toBuffer();
    out = await sharp(jpeg).removeAlpha().raw().toBuffer();
  } else {
    out = await img.raw().toBuffer();
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
