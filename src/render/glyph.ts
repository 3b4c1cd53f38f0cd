/**
 * DiffUTE's glyph image: the conditioning picture of the replacement text that the TrOCR encoder
 * reads. Reproduces the original `draw_text` (PIL):
 *
 * ```python
 * font = ImageFont.truetype(font_file, 40)
 * img = Image.new('RGB', ((len(text) or 3) + 2) * 40, 60), color='white')
 * ImageDraw.Draw(img).text((40, 10), text, font=font, fill='black')
 * ```
 *
 * - Size 40 px (the em), canvas 60 px high and `(n + 2) * 40` px wide where `n` is the number of
 *   code points (Python's `len`).
 * - PIL's default anchor `'la'`: x = 40 is the pen origin of the first glyph, y = 10 is the
 *   ascender line, so the baseline is at `10 + round(ascender * 40 / unitsPerEm)` with the hhea
 *   ascender (FreeType rounds TrueType size metrics to whole pixels; DejaVu Sans: 37, baseline 47).
 * - An empty string is what the original does: `n` is taken as 3, giving a blank white 200 x 60
 *   image (no error). The original also draws nothing for it.
 * - Characters the font lacks (CJK in DejaVu Sans) are drawn in the registry's fallback face
 *   (Droid Sans Fallback for Chinese, Japanese and Korean), the rest of the line in the font;
 *   characters no bundled face has are an ERR_UNSUPPORTED_TEXT error naming them (the original
 *   would draw tofu boxes).
 * The font differs from the original (`arialuni.ttf`, not redistributable): we use the bundled
 * DejaVu Sans; weights trained with the original glyphs see a slightly different typeface.
 */
import { createCanvas } from '@napi-rs/canvas';
import { DocAnonError, ErrorCode } from '../core/errors';
import { assertDrawable, getFont, type BundledFontName } from './fonts';

/** An RGB uint8 image in HWC order (row-major, 3 bytes per pixel). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Glyph image constants of the original DiffUTE code. */
export const GLYPH_FONT_SIZE = 40;
export const GLYPH_HEIGHT = 60;
export const GLYPH_ORIGIN = { x: 40, y: 10 } as const;
/** The `n` the original uses for an empty string. */
export const GLYPH_EMPTY_LENGTH = 3;
/** Longest text accepted by default (the canvas grows by 40 px per character). */
export const GLYPH_MAX_CHARS = 512;

/** Options of {@link renderGlyph}. */
export interface GlyphOptions {
  /**
   * Bundled font (default DejaVu Sans). The DiffUTE engine passes the face matched to the region's
   * original text, so the glyph encoder sees the typeface the page uses. Characters the face lacks
   * are drawn in the CJK fallback face.
   */
  font?: BundledFontName;
  /** Longest accepted text in code points (default {@link GLYPH_MAX_CHARS}). */
  maxChars?: number;
}

/** The geometry {@link renderGlyph} uses for `text` (no rendering). */
export function glyphLayout(text: string, font: BundledFontName = 'sans'): { width: number; height: number; x: number; baseline: number } {
  const n = Array.from(text).length;
  const m = getFont(font).metrics;
  return {
    width: ((n === 0 ? GLYPH_EMPTY_LENGTH : n) + 2) * GLYPH_FONT_SIZE,
    height: GLYPH_HEIGHT,
    x: GLYPH_ORIGIN.x,
    baseline: GLYPH_ORIGIN.y + Math.round((m.ascender * GLYPH_FONT_SIZE) / m.unitsPerEm),
  };
}

/**
 * Renders `text` as DiffUTE's glyph image (black on white, one line): RGB uint8 HWC.
 * ERR_UNSUPPORTED_TEXT for characters the font lacks, ERR_INPUT for text over `maxChars`.
 */
export function renderGlyph(text: string, options: GlyphOptions = {}): RgbImage {
  if (typeof text !== 'string') throw new DocAnonError(ErrorCode.INPUT, 'glyph text must be a string');
  const maxChars = options.maxChars ?? GLYPH_MAX_CHARS;
  const n = Array.from(text).length;
  if (n > maxChars) {
    throw new DocAnonError(ErrorCode.INPUT, `glyph text has ${n} characters, more than the limit ${maxChars}: split it or raise maxChars`);
  }
  const font = getFont(options.font);
  assertDrawable(text, font, 'glyph text');
  const { width, height, x, baseline } = glyphLayout(text, font.name);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  if (n > 0) {
    ctx.font = font.cssFont(GLYPH_FONT_SIZE);
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    ctx.fillStyle = '#000000';
    ctx.fillText(text, x, baseline);
  }
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { data, width, height };
}
