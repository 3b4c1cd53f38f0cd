import { isDocAnonError } from '../../src/core/errors';
import { assertDrawable, BUNDLED_FONTS, drawableFace, faceSpec, findFace, fontsDir, getFont, missingCharacters } from '../../src/render/fonts';
import { glyphLayout, renderGlyph, type RgbImage } from '../../src/render/glyph';
import * as fs from 'node:fs';

/** Ink bbox (pixels darker than 128). */
function inkBox(img: RgbImage): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[(y * img.width + x) * 3] < 128) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isDocAnonError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('bundled fonts', () => {
  it('finds every bundled font from the source tree, with its licence', () => {
    expect(fs.existsSync(`${fontsDir()}/LICENSE.dejavu`)).toBe(true);
    for (const name of BUNDLED_FONTS) {
      const f = getFont(name);
      expect(fs.existsSync(f.path)).toBe(true);
      expect(fs.existsSync(`${fontsDir()}/${f.spec.licence}`)).toBe(true);
      // The CJK fallback's "cap height" is the top of its ideographs (0.81 em for Droid Sans Fallback).
      expect(f.metrics.capHeight / f.metrics.unitsPerEm).toBeGreaterThan(0.6);
      expect(f.metrics.capHeight / f.metrics.unitsPerEm).toBeLessThan(f.spec.role === 'fallback' ? 0.9 : 0.8);
      expect(f.metrics.xHeight).toBeLessThan(f.metrics.capHeight);
    }
    // The short names of earlier versions are the DejaVu faces, metrics unchanged.
    for (const name of ['sans', 'sans-bold', 'serif', 'mono'] as const) {
      expect(getFont(name).metrics.unitsPerEm).toBe(2048);
      expect(getFont(name).metrics.ascender).toBe(1901);
      expect(getFont(name).spec.family.startsWith('dejavu')).toBe(true);
    }
  });

  it('has regular, bold, italic and bold italic of the metric-compatible families, and a fallback for what a face lacks', () => {
    for (const family of ['liberation-sans', 'liberation-serif', 'liberation-mono'] as const) {
      for (const weight of ['regular', 'bold'] as const) for (const style of ['normal', 'italic'] as const) expect(findFace(family, weight, style)).toBeDefined();
    }
    expect(faceSpec('liberation-sans').compatibleWith).toContain('Arial');
    expect(faceSpec('liberation-serif').compatibleWith).toContain('Times New Roman');
    expect(faceSpec('liberation-mono').compatibleWith).toContain('Courier New');
    expect(faceSpec('carlito').compatibleWith).toContain('Calibri');
    // Liberation's monospace advances are Courier's 0.6 em.
    const mono = getFont('liberation-mono');
    expect(mono.advanceWidth('0123456789', 100)).toBeCloseTo(600, 0);
    // Armenian is in DejaVu, not in Liberation: the same category's face that has it is drawn.
    expect(missingCharacters('Բարեւ', getFont('liberation-sans')).length).toBeGreaterThan(0);
    expect(drawableFace('Բարեւ', 'liberation-sans')).toBe('dejavu-sans');
    expect(drawableFace('Name 12', 'liberation-serif-bold')).toBe('liberation-serif-bold');
    // CJK is drawn by the fallback face within the chosen face's line; what no face has is refused.
    expect(drawableFace('李雷', 'liberation-sans')).toBe('liberation-sans');
    expect(drawableFace('🧠', 'liberation-sans')).toBeUndefined();
  });

  it('names the characters a font cannot draw', () => {
    expect(missingCharacters('Straße 12 € ÅÉ')).toEqual([]);
    expect(missingCharacters('ab中c🧠中\n')).toEqual(['🧠', '\n']);
    expect(missingCharacters('ab中c', getFont('droid-sans-fallback'))).toEqual(['a', 'b', 'c']);
    const err = codeOf(() => assertDrawable('Name: 李雷 🧠'));
    expect(err.code).toBe('ERR_UNSUPPORTED_TEXT');
    expect(err.message).toContain('"🧠" (U+1F9E0)');
    expect(err.message).not.toContain('李');
  });

  it('refuses an unknown font name', () => {
    expect(codeOf(() => getFont('comic' as never)).code).toBe('ERR_ARGUMENT');
  });
});

describe('renderGlyph (DiffUTE glyph image)', () => {
  it('has the original geometry: 60 high, (len + 2) * 40 wide, RGB', () => {
    const g = renderGlyph('Hello');
    expect([g.width, g.height]).toEqual([7 * 40, 60]);
    expect(g.data.length).toBe(g.width * g.height * 3);
    // Code points, as Python's len(): an astral-free accented string and a surrogate-free count.
    expect(renderGlyph('Ünïcödé').width).toBe(9 * 40);
  });

  it('puts the pen at x = 40 and the ascender line at y = 10 (PIL anchor "la")', () => {
    const layout = glyphLayout('H');
    expect(layout.baseline).toBe(47); // 10 + round(1901 * 40 / 2048)
    const h = inkBox(renderGlyph('H'))!;
    // H: left side bearing 201/2048 em, cap height 1493/2048 em, sits on the baseline.
    expect(h.x0).toBeGreaterThanOrEqual(43);
    expect(h.x0).toBeLessThanOrEqual(45);
    expect(h.y1).toBe(46);
    expect(h.y0).toBeGreaterThanOrEqual(17);
    expect(h.y0).toBeLessThanOrEqual(19);
    // É reaches the ascender line: its top is at y = 10.
    const e = inkBox(renderGlyph('É'))!;
    expect(e.y0).toBeGreaterThanOrEqual(9);
    expect(e.y0).toBeLessThanOrEqual(11);
  });

  it('is black text on white, pixels outside the ink white', () => {
    const g = renderGlyph('Wg');
    let min = 255;
    for (const v of g.data) min = Math.min(min, v);
    expect(min).toBeLessThan(20);
    for (let x = 0; x < g.width; x++) {
      expect(g.data[x * 3]).toBe(255); // top row
      expect(g.data[((g.height - 1) * g.width + x) * 3]).toBe(255); // bottom row
    }
    const box = inkBox(g)!;
    expect(box.x1).toBeLessThan(40 + 2 * 40);
    expect(box.y1).toBeGreaterThan(47); // the g descender goes below the baseline
  });

  it('treats an empty string as DiffUTE does: blank 200 x 60', () => {
    const g = renderGlyph('');
    expect([g.width, g.height]).toEqual([200, 60]);
    expect(g.data.every((v) => v === 255)).toBe(true);
  });

  it('is deterministic', () => {
    expect(Buffer.from(renderGlyph('IBAN DE89').data).equals(Buffer.from(renderGlyph('IBAN DE89').data))).toBe(true);
  });

  it('refuses undrawable and overlong text with codes', () => {
    const err = codeOf(() => renderGlyph('Tokyo 🗼'));
    expect(err.code).toBe('ERR_UNSUPPORTED_TEXT');
    expect(err.message).toContain('🗼');
    expect(codeOf(() => renderGlyph('x'.repeat(600))).code).toBe('ERR_INPUT');
    expect(codeOf(() => renderGlyph('x'.repeat(20), { maxChars: 10 })).code).toBe('ERR_INPUT');
  });

  it('draws Chinese, Japanese and Korean in the CJK fallback face, mixed with Latin in the chosen face', () => {
    for (const text of ['姓名：张伟', '電話番号：03-1234-5678', 'Tokyo 東京', 'ひらがなカタカナ', '한국어 이름']) {
      const g = renderGlyph(text);
      const box = inkBox(g)!;
      expect(box).not.toBeNull();
      // Ink spans most of the line (no glyph left out) and stays inside the canvas.
      expect(box.x1 - box.x0).toBeGreaterThan(0.6 * Array.from(text).length * 40 * 0.5);
      expect(box.y0).toBeGreaterThanOrEqual(0);
    }
    // Each ideograph is its own glyph, not one repeated .notdef box.
    expect(Buffer.from(renderGlyph('张伟').data).equals(Buffer.from(renderGlyph('李娜').data))).toBe(false);
    // Advances and ink of mixed text combine both faces (CJK ideographs are 1 em wide).
    const f = getFont('sans');
    expect(f.advanceWidth('東京', 40)).toBeCloseTo(80, 0);
    expect(f.advanceWidth('Tokyo 東京', 40)).toBeCloseTo(f.advanceWidth('Tokyo ', 40) + 80, 0);
    const ink = f.ink('Tokyo 東京');
    expect(ink.intervals.length / 2).toBe(7);
    expect(ink.maxX).toBeGreaterThan(f.ink('Tokyo ').advance);
    expect(getFont('sans').cssFont(40)).toContain('droid-sans-fallback');
  });
});
