/**
 * The automatic flow of the Anonymizer with a scripted OCR engine (no tesseract: fast and exact):
 * detection feeds the engine, the output is verified, and every failure fails closed with a code
 * (OCR error, timeout, ink without text, a leak found by verification, an abort).
 */
import { DocAnonError, ErrorCode } from '../../src/core/errors';
import type { OcrEngine, OcrImage, RecognizeOptions } from '../../src/detect/ocr/engine';
import type { Box, OcrLine, OcrPage } from '../../src/detect/types';
import { Anonymizer } from '../../src/inference/anonymizer';
import { buildReport } from '../../src/inference/report';
import { renderLines } from '../helpers/render-text';

const LINES = ['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654 32'];
const rendered = renderLines(LINES, { width: 700, height: 140, size: 24 });

/** OCR lines from the drawn lines, words boxed by their share of characters (good enough for a script). */
function linesOf(texts: string[]): OcrLine[] {
  return texts.map((t, i) => {
    const lb = rendered.lines[i].box;
    const per = (lb[2] - lb[0]) / t.length;
    let x = 0;
    const words = t.split(' ').map((w) => {
      const box: Box = [Math.round(lb[0] + x * per), lb[1], Math.round(lb[0] + (x + w.length) * per), lb[3]];
      x += w.length + 1;
      return { text: w, box, confidence: 0.95 };
    });
    return { words, box: lb, confidence: 0.95 };
  });
}

/** An OCR engine that answers from a script, one entry per call. */
class ScriptedOcr implements OcrEngine {
  calls = 0;
  constructor(private readonly script: Array<(image: OcrImage, o?: RecognizeOptions) => Promise<OcrPage>>) {}
  async recognize(image: OcrImage, o?: RecognizeOptions): Promise<OcrPage> {
    const step = this.script[Math.min(this.calls++, this.script.length - 1)];
    return step(image, o);
  }
  async close(): Promise<void> {}
}

const page = (lines: OcrLine[], inkRatio = 0.02): OcrPage => ({ width: 700, height: 140, lines, engine: 'scripted', inkRatio });

describe('Anonymizer without regions (automatic detection)', () => {
  it('detects, replaces and verifies; the result withholds the original text', async () => {
    let fakes: string[] = [];
    const ocr = new ScriptedOcr([
      async () => page(linesOf(LINES)),
      // The output reads as the replacements.
      async () => page(linesOf(['Account holder: ' + fakes[0], 'IBAN: ' + fakes[1]])),
    ]);
    // Run once to learn the fakes (the Replacer is random-keyed per call without a secret).
    const probe = await Anonymizer.create({ detection: { secret: 'a-secret-of-sixteen+', verify: false } }, { ocr: new ScriptedOcr([async () => page(linesOf(LINES))]) });
    const p = await probe.anonymize(rendered.png);
    fakes = p.detections!.map((d) => d.replacement);
    const b = await Anonymizer.create({ detection: { secret: 'a-secret-of-sixteen+' } }, { ocr });
    const r = await b.anonymize(rendered.png);
    expect(r.verified).toBe(true);
    expect(r.verification).toMatchObject({ ok: true, checked: 2, scope: 'boxes' });
    expect(r.detections!.map((d) => d.entity)).toEqual(['person', 'iban']);
    expect(r.detections!.every((d) => d.original === undefined)).toBe(true);
    expect(r.stages).toEqual(expect.objectContaining({ ocr: expect.any(Number), detect: expect.any(Number), verify: expect.any(Number) }));
    const report = buildReport(r);
    expect(report.regions[1]).toMatchObject({ entity: 'iban', replacement: fakes[1] });
    expect(JSON.stringify(report)).not.toContain('Mary Johnson');
    const withOriginal = await Anonymizer.create({ detection: { verify: false } }, { ocr: new ScriptedOcr([async () => page(linesOf(LINES))]) });
    expect((await withOriginal.anonymize(rendered.png, { includeOriginal: true })).detections!.map((d) => d.original)).toEqual(['Mary Johnson', 'GB82 WEST 1234 5698 7654 32']);
    for (const x of [probe, b, withOriginal]) await x.close();
  });

  it('fails with ERR_VERIFY when an original is still readable after replacement', async () => {
    const ocr = new ScriptedOcr([async () => page(linesOf(LINES))]); // the output still reads as the input
    const a = await Anonymizer.create({}, { ocr });
    await expect(a.anonymize(rendered.png)).rejects.toMatchObject({ code: ErrorCode.VERIFY });
    expect(ocr.calls).toBe(2);
    // Verification off: one OCR pass, and the result says it was not verified.
    const r = await a.anonymize(rendered.png, { verify: false });
    expect(r.verified).toBe(false);
    expect(ocr.calls).toBe(3);
    await a.close();
  });

  it('fails closed on OCR failures: an error, a timeout, ink without text, a result of the wrong size', async () => {
    const cases: Array<[string, () => Promise<OcrPage>]> = [
      [ErrorCode.OCR, async () => Promise.reject(new DocAnonError(ErrorCode.OCR, 'worker crashed'))],
      [ErrorCode.OCR_TIMEOUT, async () => Promise.reject(new DocAnonError(ErrorCode.OCR_TIMEOUT, 'too slow'))],
      [ErrorCode.OCR_NO_TEXT, async () => page([], 0.05)],
      [ErrorCode.OCR, async () => ({ ...page(linesOf(LINES)), width: 10 })],
    ];
    for (const [code, step] of cases) {
      const a = await Anonymizer.create({}, { ocr: new ScriptedOcr([step]) });
      await expect(a.anonymize(rendered.png)).rejects.toMatchObject({ code });
      await a.close();
    }
    // The verification pass fails closed the same way.
    const a = await Anonymizer.create({}, { ocr: new ScriptedOcr([async () => page(linesOf(LINES)), async () => Promise.reject(new DocAnonError(ErrorCode.OCR_TIMEOUT, 'too slow'))]) });
    await expect(a.anonymize(rendered.png)).rejects.toMatchObject({ code: ErrorCode.OCR_TIMEOUT });
    await a.close();
  });

  it('a page where detection finds nothing is returned as read and checked', async () => {
    const a = await Anonymizer.create({}, { ocr: new ScriptedOcr([async () => page(linesOf(['Account holder:', 'IBAN:']))]) });
    const r = await a.anonymize(rendered.png);
    expect(r.reports).toEqual([]);
    expect(r.verified).toBe(true);
    await a.close();
  });

  it('abandons the OCR on abort (ERR_ABORTED) and takes supplied OCR results', async () => {
    const slow = new ScriptedOcr([() => new Promise((res) => setTimeout(() => res(page(linesOf(LINES))), 300))]);
    const a = await Anonymizer.create({ detection: { verify: false } }, { ocr: slow });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(a.anonymize(rendered.png, { signal: ac.signal })).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    const supplied = { width: 700, height: 140, lines: linesOf(LINES).map((l) => ({ words: l.words })) };
    const r = await a.anonymize(rendered.png, { ocr: supplied });
    expect(r.detections!.map((d) => d.entity)).toEqual(['person', 'iban']);
    await expect(a.anonymize(rendered.png, { ocr: { width: 700 } })).rejects.toMatchObject({ code: ErrorCode.OCR_INPUT });
    await expect(a.anonymize(rendered.png, { regions: [], policy: {} })).rejects.toMatchObject({ code: ErrorCode.ARGUMENT });
    await expect(Anonymizer.create({ detection: { secret: 'short' } })).rejects.toMatchObject({ code: ErrorCode.CONFIG });
    await a.close();
  });
});
