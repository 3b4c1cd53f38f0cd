/**
 * The bundled font registry: the faces shipped in `assets/fonts/` (licences beside them:
 * `LICENSE.liberation`, `LICENSE.carlito`, `LICENSE.dejavu`, `LICENSE.droid`), their metrics, registration with the
 * canvas renderer, and the coverage check that refuses text a font cannot draw (instead of drawing
 * tofu boxes).
 *
 * The set covers what documents are printed in: Liberation Sans / Serif / Mono are metric-compatible
 * with Arial and Helvetica, Times New Roman and Courier New (every one with regular, bold, italic
 * and bold italic); Carlito with Calibri (regular, bold); DejaVu Sans / Serif / Sans Mono (regular,
 * bold) is what many generated documents use. A face is named `<family>[-bold][-italic]`
 * (`liberation-serif-bold-italic`); the short names `sans`, `sans-bold`, `serif` and `mono` are
 * DejaVu faces, kept for callers of earlier versions.
 *
 * Scripts the families lack: the faces with `role: 'fallback'` in {@link FACE_SPECS} draw the
 * characters a style face has no glyph for, within the same line: Droid Sans Fallback (Apache-2.0,
 * from the Android Open Source Project) covers Chinese (simplified and traditional), Japanese kana
 * and kanji and Korean Hangul, so "Tokyo 東京" is Latin in the chosen face and kanji in the
 * fallback. A style face's coverage ({@link BundledFont.hasGlyph}), advances, ink and canvas font
 * list include its fallbacks; a character no bundled face has is still refused (ERR_UNSUPPORTED_TEXT,
 * never a tofu box).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../core/package-paths';
import { GlobalFonts } from '@napi-rs/canvas';
import { DocAnonError, ErrorCode } from '../core/errors';

/** Font families of the package. */
export type FontFamilyName = 'liberation-sans' | 'liberation-serif' | 'liberation-mono' | 'carlito' | 'dejavu-sans' | 'dejavu-serif' | 'dejavu-mono' | 'droid-sans-fallback';

/** Broad class of a family: what a document's style asks for when the family itself is not known. */
export type FontCategory = 'sans' | 'serif' | 'mono';

/** One face of the registry. */
export interface FaceSpec {
  /** The face's name (`liberation-sans-bold`). */
  name: string;
  family: FontFamilyName;
  category: FontCategory;
  weight: 'regular' | 'bold';
  style: 'normal' | 'italic';
  file: string;
  /** The licence file beside it in `assets/fonts/`. */
  licence: string;
  /** Proprietary faces this one has the metrics of (what a document made with them is matched to). */
  compatibleWith: readonly string[];
  /**
   * 'style': a candidate when matching a document's typeface; 'fallback': only drawn when the
   * chosen face lacks characters (e.g. a CJK face), in registry order.
   */
  role: 'style' | 'fallback';
}

const LIB = 'LICENSE.liberation';
const face = (
  name: string,
  family: FontFamilyName,
  category: FontCategory,
  weight: FaceSpec['weight'],
  style: FaceSpec['style'],
  file: string,
  licence: string,
  compatibleWith: readonly string[],
  role: FaceSpec['role'] = 'style',
): FaceSpec => ({ name, family, category, weight, style, file, licence, compatibleWith, role });

/** Every face the package ships, in preference order within a category. */
export const FACE_SPECS: readonly FaceSpec[] = [
  face('liberation-sans', 'liberation-sans', 'sans', 'regular', 'normal', 'LiberationSans-Regular.ttf', LIB, ['Arial', 'Helvetica']),
  face('liberation-sans-bold', 'liberation-sans', 'sans', 'bold', 'normal', 'LiberationSans-Bold.ttf', LIB, ['Arial Bold', 'Helvetica Bold']),
  face('liberation-sans-italic', 'liberation-sans', 'sans', 'regular', 'italic', 'LiberationSans-Italic.ttf', LIB, ['Arial Italic', 'Helvetica Oblique']),
  face('liberation-sans-bold-italic', 'liberation-sans', 'sans', 'bold', 'italic', 'LiberationSans-BoldItalic.ttf', LIB, ['Arial Bold Italic']),
  face('liberation-serif', 'liberation-serif', 'serif', 'regular', 'normal', 'LiberationSerif-Regular.ttf', LIB, ['Times New Roman', 'Times']),
  face('liberation-serif-bold', 'liberation-serif', 'serif', 'bold', 'normal', 'LiberationSerif-Bold.ttf', LIB, ['Times New Roman Bold']),
  face('liberation-serif-italic', 'liberation-serif', 'serif', 'regular', 'italic', 'LiberationSerif-Italic.ttf', LIB, ['Times New Roman Italic']),
  face('liberation-serif-bold-italic', 'liberation-serif', 'serif', 'bold', 'italic', 'LiberationSerif-BoldItalic.ttf', LIB, ['Times New Roman Bold Italic']),
  face('liberation-mono', 'liberation-mono', 'mono', 'regular', 'normal', 'LiberationMono-Regular.ttf', LIB, ['Courier New', 'Courier']),
  face('liberation-mono-bold', 'liberation-mono', 'mono', 'bold', 'normal', 'LiberationMono-Bold.ttf', LIB, ['Courier New Bold']),
  face('liberation-mono-italic', 'liberation-mono', 'mono', 'regular', 'italic', 'LiberationMono-Italic.ttf', LIB, ['Courier New Italic']),
  face('liberation-mono-bold-italic', 'liberation-mono', 'mono', 'bold', 'italic', 'LiberationMono-BoldItalic.ttf', LIB, ['Courier New Bold Italic']),
  face('carlito', 'carlito', 'sans', 'regular', 'normal', 'Carlito-Regular.ttf', 'LICENSE.carlito', ['Calibri']),
  face('carlito-bold', 'carlito', 'sans', 'bold', 'normal', 'Carlito-Bold.ttf', 'LICENSE.carlito', ['Calibri Bold']),
  face('dejavu-sans', 'dejavu-sans', 'sans', 'regular', 'normal', 'DejaVuSans.ttf', 'LICENSE.dejavu', ['DejaVu Sans', 'Bitstream Vera Sans']),
  face('dejavu-sans-bold', 'dejavu-sans', 'sans', 'bold', 'normal', 'DejaVuSans-Bold.ttf', 'LICENSE.dejavu', ['DejaVu Sans Bold']),
  face('dejavu-serif', 'dejavu-serif', 'serif', 'regular', 'normal', 'DejaVuSerif.ttf', 'LICENSE.dejavu', ['DejaVu Serif']),
  face('dejavu-serif-bold', 'dejavu-serif', 'serif', 'bold', 'normal', 'DejaVuSerif-Bold.ttf', 'LICENSE.dejavu', ['DejaVu Serif Bold']),
  face('dejavu-mono', 'dejavu-mono', 'mono', 'regular', 'normal', 'DejaVuSansMono.ttf', 'LICENSE.dejavu', ['DejaVu Sans Mono']),
  face('dejavu-mono-bold', 'dejavu-mono', 'mono', 'bold', 'normal', 'DejaVuSansMono-Bold.ttf', 'LICENSE.dejavu', ['DejaVu Sans Mono Bold']),
  // CJK (Chinese, Japanese, Korean): drawn only for characters the chosen face lacks.
  face('droid-sans-fallback', 'droid-sans-fallback', 'sans', 'regular', 'normal', 'DroidSansFallback.ttf', 'LICENSE.droid', ['Droid Sans Fallback'], 'fallback'),
];

/** The short names of earlier versions: DejaVu faces. */
const ALIASES = { sans: 'dejavu-sans', 'sans-bold': 'dejavu-sans-bold', serif: 'dejavu-serif', mono: 'dejavu-mono' } as const;

/** A bundled face's name: `<family>[-bold][-italic]`, or one of the short DejaVu names. */
export type BundledFontName =
  | keyof typeof ALIASES
  | 'liberation-sans' | 'liberation-sans-bold' | 'liberation-sans-italic' | 'liberation-sans-bold-italic'
  | 'liberation-serif' | 'liberation-serif-bold' | 'liberation-serif-italic' | 'liberation-serif-bold-italic'
  | 'liberation-mono' | 'liberation-mono-bold' | 'liberation-mono-italic' | 'liberation-mono-bold-italic'
  | 'carlito' | 'carlito-bold'
  | 'dejavu-sans' | 'dejavu-sans-bold' | 'dejavu-serif' | 'dejavu-serif-bold' | 'dejavu-mono' | 'dejavu-mono-bold'
  | 'droid-sans-fallback';

/** The font used when none is named (glyph images, classic engine without a style match). */
export const DEFAULT_FONT: BundledFontName = 'sans';

/** Every bundled font name: the short names first, then every face. */
export const BUNDLED_FONTS: readonly BundledFontName[] = [...(Object.keys(ALIASES) as BundledFontName[]), ...FACE_SPECS.map((f) => f.name as BundledFontName)];

/** The faces that are candidates when matching a document's typeface (no fallbacks, no aliases). */
export const STYLE_FACES: readonly BundledFontName[] = FACE_SPECS.filter((f) => f.role === 'style').map((f) => f.name as BundledFontName);

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

/** The ink extent of a laid-out line of text, font units, pen origin at 0 on the baseline (y up). */
export interface TextInk {
  /** Sum of the advances (kerning included). */
  advance: number;
  /** Left edge of the leftmost ink and right edge of the rightmost ink. */
  minX: number;
  maxX: number;
  /** Highest ink above the baseline and lowest (negative below it). */
  maxY: number;
  minY: number;
  /** Glyphs (code points drawn). */
  glyphs: number;
  /** Each inked glyph's horizontal ink interval [left, right], font units, in order (pairs). */
  intervals: Float32Array;
}

/** A loaded bundled font: its file, the canvas family it is registered under, metrics, coverage. */
export interface BundledFont {
  /** The face's canonical name (aliases resolve to it). */
  name: BundledFontName;
  spec: FaceSpec;
  path: string;
  /** The family name to use in a canvas `ctx.font` string (quoted). */
  family: string;
  metrics: FontMetrics;
  /** True when the font, or for a style face one of the fallback faces drawn with it, has a glyph for the code point. */
  hasGlyph(codePoint: number): boolean;
  /** Advance width of `text` at `fontSize` px (shaped with the font's own layout, no kerning surprises). */
  advanceWidth(text: string, fontSize: number): number;
  /** The ink extent of `text` in font units (cached per text). */
  ink(text: string): TextInk;
  /** A canvas `font` shorthand for `fontSize` px. */
  cssFont(fontSize: number): string;
}

// fontkit has no bundled type declarations: the small part we use, typed here.
interface FontkitBBox { minX: number; minY: number; maxX: number; maxY: number }
interface FontkitGlyph { bbox: FontkitBBox }
interface FontkitFont {
  unitsPerEm: number;
  hhea: { ascent: number; descent: number };
  hasGlyphForCodePoint(cp: number): boolean;
  glyphForCodePoint(cp: number): FontkitGlyph;
  layout(text: string): { advanceWidth: number; glyphs: FontkitGlyph[]; positions: Array<{ xAdvance: number; xOffset: number; yOffset: number }> };
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

const loaded = new Map<string, BundledFont>();

/** The registry entry of a face or alias name; ERR_ARGUMENT for an unknown name. */
export function faceSpec(name: BundledFontName | string): FaceSpec {
  const canonical = (ALIASES as Record<string, string>)[name] ?? name;
  const spec = FACE_SPECS.find((f) => f.name === canonical);
  if (!spec) throw new DocAnonError(ErrorCode.ARGUMENT, `unknown font "${String(name)}": use one of ${BUNDLED_FONTS.join(', ')}`);
  return spec;
}

/** The face of `family` with the given weight and style, when the package ships it. */
export function findFace(family: FontFamilyName, weight: FaceSpec['weight'], style: FaceSpec['style']): BundledFontName | undefined {
  return FACE_SPECS.find((f) => f.family === family && f.weight === weight && f.style === style)?.name as BundledFontName | undefined;
}

/**
 * Height above the baseline of the glyph of `cp` (H for the cap height, x for the x-height). A face
 * without Latin letters (the CJK fallback) has the top of the ideograph 中 as its cap height (what
 * the ink of its text reaches, which sizing from a measured ink height needs) and 0.7 of it as its
 * x-height; with neither, 0.7 em and 0.5 em.
 */
function heightOf(fk: FontkitFont, cp: number): number {
  if (fk.hasGlyphForCodePoint(cp)) return fk.glyphForCodePoint(cp).bbox.maxY;
  if (fk.hasGlyphForCodePoint(0x4e2d)) return fk.glyphForCodePoint(0x4e2d).bbox.maxY * (cp === 0x48 ? 1 : 0.7);
  return fk.unitsPerEm * (cp === 0x48 ? 0.7 : 0.5);
}

/**
 * Returns a bundled font, loading and registering it with the canvas renderer on first use.
 * ERR_ARGUMENT for an unknown name, ERR_IO when the font file is missing from the package.
 */
export function getFont(name: BundledFontName = DEFAULT_FONT): BundledFont {
  const cached = loaded.get(name);
  if (cached) return cached;
  const spec = faceSpec(name);
  const canonical = loaded.get(spec.name);
  if (canonical) {
    loaded.set(name, canonical);
    return canonical;
  }
  const file = path.join(fontsDir(), spec.file);
  if (!fs.existsSync(file)) {
    throw new DocAnonError(
      ErrorCode.IO,
      `bundled font ${spec.file} is missing from ${fontsDir()}: reinstall the package (assets/fonts/ must ship with it) or set DOC_ANON_FONTS_DIR`,
    );
  }
  let fk: FontkitFont;
  try {
    fk = fontkit.openSync(file);
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot read font ${file}: ${(e as Error).message}`, { cause: e });
  }
  // One canvas family per face: weight and style are in the file, never synthesised by the renderer.
  const family = `DocAnon ${spec.name}`;
  if (!GlobalFonts.registerFromPath(file, family) && !GlobalFonts.has(family)) {
    throw new DocAnonError(ErrorCode.IO, `the canvas renderer refused font ${file}`);
  }
  const metrics: FontMetrics = {
    unitsPerEm: fk.unitsPerEm,
    ascender: fk.hhea.ascent,
    descender: fk.hhea.descent,
    capHeight: heightOf(fk, 0x48),
    xHeight: heightOf(fk, 0x78),
  };
  // A style face draws what it lacks (CJK) in the fallback faces: coverage, metrics and the canvas
  // font list include them. Loaded on first need (the CJK face is large).
  let fallbackFaces: BundledFont[] | undefined;
  const fallbacks = (): BundledFont[] =>
    (fallbackFaces ??= spec.role === 'style' ? FACE_SPECS.filter((f) => f.role === 'fallback').map((f) => getFont(f.name as BundledFontName)) : []);
  const own = (cp: number): boolean => fk.hasGlyphForCodePoint(cp);
  /** The face that draws `cp`: this one when it has it (or nothing has it), else the first fallback that does. */
  const sourceOf = (cp: number): BundledFont | undefined => (own(cp) ? undefined : fallbacks().find((f) => f.hasGlyph(cp)));
  /** `text` cut into runs of one drawing face (undefined: this one). */
  const runsOf = (text: string): Array<{ text: string; face: BundledFont | undefined }> => {
    const runs: Array<{ text: string; face: BundledFont | undefined }> = [];
    for (const ch of text) {
      const face = sourceOf(ch.codePointAt(0)!);
      const last = runs[runs.length - 1];
      if (last && last.face === face) last.text += ch;
      else runs.push({ text: ch, face });
    }
    return runs;
  };
  const inkCache = new Map<string, TextInk>();
  const ink = (text: string): TextInk => {
    const hit = inkCache.get(text);
    if (hit) return hit;
    const runs = runsOf(text);
    const out = runs.length > 1 || (runs.length === 1 && runs[0].face) ? mixedInk(runs) : ownInk(text);
    if (inkCache.size > 512) inkCache.clear(); // bounded: texts of one page at most
    inkCache.set(text, out);
    return out;
  };
  /** Ink of text drawn in several faces: each run measured in its face, scaled to this face's units. */
  const mixedInk = (runs: Array<{ text: string; face: BundledFont | undefined }>): TextInk => {
    let pen = 0;
    let glyphs = 0;
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    const intervals: number[] = [];
    for (const r of runs) {
      const k = r.face ? fk.unitsPerEm / r.face.metrics.unitsPerEm : 1;
      const i = r.face ? r.face.ink(r.text) : ownInk(r.text);
      for (let j = 0; j < i.intervals.length; j++) intervals.push(pen + i.intervals[j] * k);
      if (i.intervals.length > 0) {
        minX = Math.min(minX, pen + i.minX * k);
        maxX = Math.max(maxX, pen + i.maxX * k);
        minY = Math.min(minY, i.minY * k);
        maxY = Math.max(maxY, i.maxY * k);
      }
      pen += i.advance * k;
      glyphs += i.glyphs;
    }
    return Number.isFinite(minX)
      ? { advance: pen, minX, maxX, minY, maxY, glyphs, intervals: Float32Array.from(intervals) }
      : { advance: pen, minX: 0, maxX: 0, minY: 0, maxY: 0, glyphs, intervals: new Float32Array(0) };
  };
  const ownInk = (text: string): TextInk => {
    const run = fk.layout(text);
    let pen = 0;
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    const intervals: number[] = [];
    run.glyphs.forEach((g, i) => {
      const p = run.positions[i];
      const b = g.bbox;
      if (b.maxX > b.minX && b.maxY > b.minY) {
        intervals.push(pen + p.xOffset + b.minX, pen + p.xOffset + b.maxX);
        minX = Math.min(minX, pen + p.xOffset + b.minX);
        maxX = Math.max(maxX, pen + p.xOffset + b.maxX);
        minY = Math.min(minY, p.yOffset + b.minY);
        maxY = Math.max(maxY, p.yOffset + b.maxY);
      }
      pen += p.xAdvance;
    });
    return Number.isFinite(minX)
      ? { advance: pen, minX, maxX, minY, maxY, glyphs: run.glyphs.length, intervals: Float32Array.from(intervals) }
      : { advance: pen, minX: 0, maxX: 0, minY: 0, maxY: 0, glyphs: run.glyphs.length, intervals: new Float32Array(0) };
  };
  const font: BundledFont = {
    name: spec.name as BundledFontName,
    spec,
    path: file,
    family,
    metrics,
    hasGlyph: (cp) => own(cp) || sourceOf(cp) !== undefined,
    advanceWidth: (text, fontSize) =>
      runsOf(text).reduce((w, r) => w + (r.face ? r.face.advanceWidth(r.text, fontSize) : (fk.layout(r.text).advanceWidth * fontSize) / fk.unitsPerEm), 0),
    ink,
    cssFont: (fontSize) => [`${fontSize}px "${family}"`, ...fallbacks().map((f) => `"${f.family}"`)].join(', '),
  };
  loaded.set(spec.name, font);
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

/**
 * The face to draw `text` in when `wanted` is the style: `wanted` itself when it has every
 * character, else the face of the same category, weight and style that has them (DejaVu covers
 * more scripts than Liberation and Carlito), else the first fallback face that does. Undefined when
 * no bundled face can draw it.
 */
export function drawableFace(text: string, wanted: BundledFontName): BundledFontName | undefined {
  const want = faceSpec(wanted);
  const candidates = [
    want,
    ...FACE_SPECS.filter((f) => f !== want && f.role === 'style' && f.category === want.category && f.weight === want.weight && f.style === want.style),
    ...FACE_SPECS.filter((f) => f !== want && f.role === 'style' && f.category === want.category && f.weight === want.weight),
    ...FACE_SPECS.filter((f) => f.role === 'fallback'),
    faceSpec(DEFAULT_FONT),
  ];
  for (const c of candidates) if (missingCharacters(text, getFont(c.name as BundledFontName)).length === 0) return c.name as BundledFontName;
  return undefined;
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
