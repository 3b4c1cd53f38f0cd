import { getFont } from '../../src/render/fonts';
import { fitText, renderTextCoverage, renderTextLayer } from '../../src/render/text';

describe('text rendering into a box', () => {
  it('fits the font to the box height by default', () => {
    const fit = fitText('Ab', 400, 58.2);
    const m = getFont().metrics;
    expect(fit.fontSize).toBeCloseTo((58.2 * m.unitsPerEm) / (m.ascender - m.descender), 5);
    expect(fit.scaleX).toBe(1);
    expect(fit.baseline).toBeCloseTo((fit.fontSize * m.ascender) / m.unitsPerEm, 5);
  });

  it('condenses, then shrinks, text wider than the box', () => {
    const wide = 'A rather long replacement text';
    const natural = getFont().advanceWidth(wide, 30);
    const a = fitText(wide, natural * 0.9, 40, { fontSize: 30, baseline: 30 });
    expect(a.fontSize).toBe(30);
    expect(a.scaleX).toBeCloseTo(0.9, 5);
    const b = fitText(wide, natural * 0.5, 40, { fontSize: 30, baseline: 30, minScaleX: 0.8 });
    expect(b.scaleX).toBe(0.8);
    expect(b.fontSize).toBeCloseTo(30 * (0.5 / 0.8), 5);
    expect(b.baseline).toBe(30);
  });

  it('draws ink only inside the box, in the requested colour', () => {
    const layer = renderTextLayer('Jane Roe', 200, 40, [200, 10, 30], { fontSize: 28, baseline: 30, x: 4 });
    expect(layer.width).toBe(200);
    let inked = 0;
    let maxX = 0;
    for (let i = 0; i < 200 * 40; i++) {
      if (layer.data[i * 4 + 3] > 0) {
        inked++;
        maxX = Math.max(maxX, i % 200);
        expect([layer.data[i * 4], layer.data[i * 4 + 1], layer.data[i * 4 + 2]]).toEqual([200, 10, 30]);
      }
    }
    expect(inked).toBeGreaterThan(200);
    const advance = getFont().advanceWidth('Jane Roe', 28);
    expect(maxX).toBeLessThanOrEqual(Math.ceil(4 + advance));
    expect(maxX).toBeGreaterThan(4 + advance * 0.8);
  });

  it('refuses characters the font lacks', () => {
    expect(() => renderTextCoverage('名前 🎌', 100, 30, { fontSize: 20, baseline: 20, x: 0, scaleX: 1 })).toThrow(/U\+1F38C/);
    // Japanese itself is drawn (in the CJK fallback face).
    const cov = renderTextCoverage('名前', 100, 30, { fontSize: 20, baseline: 20, x: 0, scaleX: 1 });
    expect(cov.some((a) => a > 128)).toBe(true);
  });
});
