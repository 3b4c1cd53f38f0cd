/**
 * DiffUTE sees the matched typeface: the glyph image of each replacement is drawn in the face the
 * original text was matched to, a batch shares one face, and the report carries the style fields
 * the classic engine reports (fixture models: shapes and plumbing, not visual quality).
 */
import { AutoencoderKL, decodeImage, GlyphEncoder, UNet2DConditionModel, validateRegions } from '../../src';
import { DiffuteEngine } from '../../src/inference/engines/diffute';
import { fixture } from '../helpers/fixtures';
import { itemAt, renderStylePage } from '../helpers/style-pages';

describe('diffute engine and the style match', () => {
  it('renders each glyph image in the face matched to the original and reports the style', async () => {
    const m = {
      unet: await UNet2DConditionModel.fromPretrained(fixture('unet')),
      vae: await AutoencoderKL.fromPretrained(fixture('vae')),
      glyphEncoder: await GlyphEncoder.fromPretrained(fixture('glyph_encoder')),
    };
    try {
      const page = await renderStylePage({ seed: 2, layout: 'statement', country: 'GB', scanned: false });
      const image = await decodeImage(page.png);
      // The name (serif) and the IBAN (monospaced) with their originals, one region without.
      const pick = page.items.map((it, i) => ({ it, i })).filter(({ it }) => ['person', 'iban'].includes(it.kind));
      const regions = pick.map(({ it }) => {
        const words = page.ocr.lines.flatMap((l) => l.words).filter((w) => itemAt(page, w.box) === page.items.indexOf(it));
        const box: [number, number, number, number] = [Math.min(...words.map((w) => w.box[0])), Math.min(...words.map((w) => w.box[1])), Math.max(...words.map((w) => w.box[2])), Math.max(...words.map((w) => w.box[3]))];
        return { box, replacement: it.kind === 'person' ? 'Laura Bennett' : 'GB33 BUKB 2020 1555 5555 55', original: it.text };
      });
      regions.push({ box: regions[0].box.map((v, k) => v + (k % 2 === 1 ? 900 : 0)) as [number, number, number, number], replacement: 'Blank', original: undefined as unknown as string });
      const fonts: string[] = [];
      const encode = m.glyphEncoder.encodeTexts.bind(m.glyphEncoder);
      m.glyphEncoder.encodeTexts = async (texts, glyph = {}) => {
        fonts.push(...texts.map(() => String(glyph.font)));
        return encode(texts, glyph);
      };
      const engine = new DiffuteEngine(m, { resolution: 16, steps: 1, sampler: 'ddim', minCropSide: 32 });
      const valid = validateRegions(regions.map((r) => (r.original ? r : { box: r.box, replacement: r.replacement })), image);
      const res = await engine.anonymize(image, valid);
      const styles = res.reports.map((r) => r.details.style as { font: string; family: string; weight: string; size: number; source: string; fitScore?: number });
      pick.forEach(({ it }, k) => {
        expect(styles[k].family).toBe(it.family);
        expect(styles[k].weight).toBe(it.weight);
        expect(Math.abs(styles[k].size / it.size - 1)).toBeLessThan(0.05);
        expect(styles[k].source).toBe('fit');
        expect(styles[k].fitScore).toBeGreaterThan(0.5);
      });
      expect(styles[pick.length].source).toBe('default');
      // Every glyph image was drawn in its region's face (a batch holds one face).
      expect(fonts.sort()).toEqual(styles.map((s) => s.font).sort());
    } finally {
      for (const x of Object.values(m)) x.dispose();
    }
  });
});
