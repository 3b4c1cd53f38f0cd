/**
 * The glyph image of glyph-aligned conditioning (src/models/glyph-conditioning.ts): the replacement
 * text drawn black on white into its box of a crop, so that the UNet sees where each character
 * goes. The text is sized to the box height and compressed (canvas maxWidth) when wider than the box.
 */
import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import { DocAnonError, ErrorCode } from '../core/errors';
import { assertDrawable, getFont, type BundledFontName } from './fonts';

/** x0, y0, x1, y1 in pixels of the crop. */
export type GlyphBox = readonly [number, number, number, number];

/**
 * The text's glyphs fitted into `box` of a width x height white image: RGB uint8 HWC.
 * ERR_UNSUPPORTED_TEXT for characters the font lacks.
 */
export async function renderAlignedGlyph(
  text: string,
  width: number,
  height: number,
  box: GlyphBox,
  options: { font?: BundledFontName } = {},
): Promise<Uint8Array> {
  const [x0, y0, x1, y1] = box;
  if (![x0, y0, x1, y1].every(Number.isFinite)) throw new DocAnonError(ErrorCode.INPUT, 'a glyph box must be four finite numbers (x0, y0, x1, y1)');
  const font = getFont(options.font);
  assertDrawable(text, font, 'glyph text');
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const bw = x1 - x0;
  const bh = y1 - y0;
  if (text.length > 0 && bw > 0 && bh > 0) {
    const m = font.metrics;
    // Ascender to descender fills the box height, as a line of text fills its OCR box.
    const em = (m.ascender - m.descender) / m.unitsPerEm;
    const size = Math.max(1, bh / em);
    ctx.font = font.cssFont(size);
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    ctx.fillStyle = '#000000';
    ctx.fillText(text, x0, y0 + (m.ascender * size) / m.unitsPerEm, bw);
  }
  // RGBA -> RGB by sharp (no per-pixel loop here).
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const buf = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } })
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
