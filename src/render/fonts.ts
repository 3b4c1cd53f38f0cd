/**
 * The bundled font registry: the DejaVu fonts shipped in `assets/fonts/` (license in
 * `assets/fonts/LICENSE.dejavu`), their metrics, registration with the canvas renderer, and the
 * coverage check that refuses text a font cannot draw (instead of drawing tofu boxes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../core/package-paths';
import { GlobalFonts } from '@napi-rs/canvas';
import { DocAnonError, ErrorCode } from '../core/errors';

/** Names of the fonts the package ships. */
export type BundledFontName = 'sans' | 'sans-bold' | 'serif' | 'mono';

/** The font used when none is named (glyph images, classic engine). */
export const DEFAULT_FONT: BundledFontName = 'sans';

const FILES: Record<BundledFontName, { file: string; family: string }> = {
  sans: { file: 'DejaVuSans.ttf', family: 'DocAnon DejaVu Sans' },
  'sans-bold': { file: 'DejaVuSans-Bold.ttf', family: 'DocAnon DejaVu Sans Bold' },
  serif: { file: 'DejaVuSerif.ttf', family: 'DocAnon DejaVu Serif' },
  mono: { file: 'DejaVuSansMono.ttf', family: 'DocAnon DejaVu Sans Mono' },
};

/** Every bundled font name. */
export const BUNDLED_FONTS: readonly BundledFontName[] = Object.keys(FILES) as BundledFontName[];

/** Metrics of a font, in font units and as fractions of the em (font size). */
export interface FontMetrics {
  unitsPerEm: number;
  /** hhea ascender (what FreeType, hence PIL, uses for the 'a' anchor), positive, font units. */
  ascender: number;
  /** hhea descender, negative, font units. */
  descender: number;
  /** Height of capital H above the baseline, font units. */
  capHeight: number;
  /** Height of lowercase x above the baseline, font units. */
  xHeight: number;
}

/** A loaded bundled font: its file, the canvas family it is registered under, metrics, coverage. */
export interface BundledFont {
  name: BundledFontName;
  path: string;
  /** The family name to use in a canvas `ctx.font` string (quoted). */
  family: string;
  metrics: FontMetrics;
  /** True when the font has a glyph for the code point. */
  hasGlyph(codePoint: number): boolean;
  /** Advance width of `text` at `fontSize` px (shaped with the font's own layout, no kerning surprises). */
  advanceWidth(text: string, fontSize: number): number;
  /** A canvas `font` shorthand for `fontSize` px. */
  cssFont(fontSize: number): string;
}

// fontkit has no bundled type declarations: the small part we use, typed here.
interface FontkitGlyph { bbox: { minY: number; maxY: number } }
interface FontkitFont {
  unitsPerEm: number;
  hhea: { ascent: number; descent: number };
  hasGlyphForCodePoint(cp: number): boolean;
  glyphForCodePoint(cp: number): FontkitGlyph;
  layout(text: string): { advanceWidth: number };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as { openSync(file: string): FontkitFont };

/**
 * The folder of the bundled fonts. Found from this file's location, so it works from `src/`
 * (ts-jest, ts-node) and from the compiled `lib/` alike; `DOC_ANON_FONTS_DIR` overrides it.
 */
export function fontsDir(): string {
  const env = process.env.DOC_ANON_FONTS_DIR;
  if (env) return env;
  return path.join(packageRoot, 'assets', 'fonts');
}

const loaded = new Map<BundledFontName, BundledFont>();

/**
 * Returns a bundled font, loading and registering it with the canvas renderer on first use.
 * ERR_ARGUMENT for an unknown name, ERR_IO when the font file is missing from the package.
 */
export function getFont(name: BundledFontName = DEFAULT_FONT): BundledFont {
  const cached = loaded.get(name);
  if (cached) return cached;
  const entry = FILES[name as BundledFontName];
  if (!entry) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `unknown font "${String(name)}": use one of ${BUNDLED_FONTS.join(', ')}`);
  }
  const file = path.join(fontsDir(), entry.file);
  if (!fs.existsSync(file)) {
    throw new DocAnonError(
      ErrorCode.IO,
      `bundled font ${entry.file} is missing from ${fontsDir()}: reinstall the package (assets/fonts/ must ship with it) or set DOC_ANON_FONTS_DIR`,
    );
  }
  let fk: FontkitFont;
  try {
    fk = fontkit.openSync(file);
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot read font ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!GlobalFonts.registerFromPath(file, entry.family) && !GlobalFonts.has(entry.family)) {
    throw new DocAnonError(ErrorCode.IO, `the canvas renderer refused font ${file}`);
  }
  const metrics: FontMetrics = {
    unitsPerEm: fk.unitsPerEm,
    ascender: fk.hhea.ascent,
    descender: fk.hhea.descent,
    capHeight: fk.glyphForCodePoint(0x48).bbox.maxY,
    xHeight: fk.glyphForCodePoint(0x78).bbox.maxY,
  };
  const font: BundledFont = {
    name,
    path: file,
    family: entry.family,
    metrics,
    hasGlyph: (cp) => fk.hasGlyphForCodePoint(cp),
    advanceWidth: (text, fontSize) => (fk.layout(text).advanceWidth * fontSize) / fk.unitsPerEm,
    cssFont: (fontSize) => `${fontSize}px "${entry.family}"`,
  };
  loaded.set(name, font);
  return font;
}

/** Characters of `text` that `font` cannot draw (unique, in order of first appearance). */
export function missingCharacters(text: string, font: BundledFont = getFont()): string[] {
  const missing: string[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
    if ((control || !font.hasGlyph(cp)) && !missing.includes(ch)) missing.push(ch);
  }
  return missing;
}

function describe(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? hex : `"${ch}" (${hex})`;
}

/**
 * Throws ERR_UNSUPPORTED_TEXT naming every character of `text` that `font` cannot draw (control
 * characters included: text is drawn as one line).
 */
export function assertDrawable(text: string, font: BundledFont = getFont(), what = 'text'): void {
  const missing = missingCharacters(text, font);
  if (missing.length > 0) {
    throw new DocAnonError(
      ErrorCode.UNSUPPORTED_TEXT,
      `${what} has ${missing.length} character(s) the font ${path.basename(font.path)} cannot draw: ` +
        `${missing.map(describe).join(', ')}; remove or transliterate them (one line of text, no control characters)`,
    );
  }
}
