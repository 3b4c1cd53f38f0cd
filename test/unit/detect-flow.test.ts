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
    const result = await step(image, o);
    const raw = image as { width?: number; height?: number };
    // (A scripted page of another size than the test page is returned as it is: a broken engine.)
    if (raw.width === undefined || raw.height === undefined || result.width !== 700 || result.height !== 140) return result;
    if (raw.width === result.width && raw.height === result.height) return result;
    // The reading upscaled the page (small print): the script's boxes scale with it.
    const sx = raw.width / result.width;
    const sy = raw.height / result.height;
    if (Math.abs(sx - sy) < 0.02 * sx) {
      const scale = (b: Box): Box => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
      return { ...result, width: raw.width, height: raw.height, lines: result.lines.map((l) => ({ ...l, box: scale(l.box), words: l.words.map((w) => ({ ...w, box: scale(w.box) })) })) };
    }
    // The page turned sideways (a reading tries the other orientations): nothing legible.
    return { width: raw.width, height: raw.height, lines: [], engine: 'scripted' };
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
    expect(r.verification).toMatchObject({ status: 'verified', scope: 'page', checked: 2, rounds: 1, added: 0 });
    expect(r.reading).toMatchObject({ source: 'ocr', orientation: 0, orientationCertain: true });
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
    expect(r.verification).toEqual({ status: 'off' });
    expect(ocr.calls).toBe(3);
    await a.close();
  });

  it('fails closed on OCR failures: an error, a timeout, ink without text, a result of the wrong size', async () => {
    const cases: Array<[string, () => Promise<OcrPage>]> = [
      [ErrorCode.OCR, async () => Promise.reject(new DocAnonError(ErrorCode.OCR, 'worker crashed'))],
      [ErrorCode.OCR_TIMEOUT, async () => Promise.reject(new DocAnonError(ErrorCode.OCR_TIMEOUT, 'too slow'))],
      // Ink but no words: the page cannot be read, so it cannot be declared clean.
      [ErrorCode.UNREADABLE, async () => page([], 0.05)],
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

  it('replaces in a second pass a value that only the reading of the output finds, and says so', async () => {
    let fakes: string[] = [];
    const probe = await Anonymizer.create({ detection: { secret: 'a-secret-of-sixteen+', verify: false } }, { ocr: new ScriptedOcr([async () => page(linesOf(LINES))]) });
    fakes = (await probe.anonymize(rendered.png)).detections!.map((d) => d.replacement);
    const ocr = new ScriptedOcr([
      // The first reading loses the IBAN's last group (too short to be one: not detected) ...
      async () => page(linesOf(['Account holder: Mary Johnson', 'IBAN: GB82 WEST 1234 5698 7654'])),
      // ... the reading of the output gets it right: a value outside every replaced box.
      async () => page(linesOf(['Account holder: ' + fakes[0], 'IBAN: GB82 WEST 1234 5698 7654 32'])),
      // After the second pass both read as replacements.
      async () => page(linesOf(['Account holder: ' + fakes[0], 'IBAN: ' + fakes[1]])),
    ]);
    const a = await Anonymizer.create({ detection: { secret: 'a-secret-of-sixteen+' } }, { ocr });
    const r = await a.anonymize(rendered.png);
    expect(r.verified).toBe(true);
    expect(r.verification).toMatchObject({ status: 'verified', rounds: 2, added: 1 });
    expect(r.detections!.map((d) => [d.entity, d.recognizer])).toEqual([['person', 'person'], ['iban', 'verification:detected']]);
    expect(ocr.calls).toBe(3);
    // With one pass allowed, the same page fails closed.
    const once = await Anonymizer.create({ detection: { secret: 'a-secret-of-sixteen+', maxRounds: 1 } }, { ocr: new ScriptedOcr(ocr['script']) });
    await expect(once.anonymize(rendered.png)).rejects.toMatchObject({ code: ErrorCode.VERIFY, message: expect.stringMatching(/iban readable at \[/) });
    for (const x of [probe, a, once]) await x.close();
  });

  it('refuses a page it cannot read (ERR_UNREADABLE) instead of reporting it clean', async () => {
    const garbage = (): OcrLine[] =>
      linesOf(['Acc0unt h0lder: M4ry J0hns0n', 'IBAN: GB82 WEST 1234 5698 7654 32']).map((l) => ({ ...l, words: l.words.map((w) => ({ ...w, text: w.text.split('').reverse().join('').replace(/a/g, 'ʞ'), confidence: 0.2 })) }));
    const a = await Anonymizer.create({}, { ocr: new ScriptedOcr([async () => page(garbage())]) });
    await expect(a.anonymize(rendered.png)).rejects.toMatchObject({ code: ErrorCode.UNREADABLE, message: expect.stringContaining('rescan') });
    // Off, the check still reports the score; a refusal threshold of 0 accepts the page.
    const lax = await Anonymizer.create({ detection: { verify: false, reading: { minReadability: 0 } } }, { ocr: new ScriptedOcr([async () => page(garbage())]) });
    const r = await lax.anonymize(rendered.png);
    expect(r.reading!.readability.score).toBeLessThan(0.3);
    await a.close();
    await lax.close();
  });

  it('verifies supplied regions on the whole page and refuses an empty list unless allowed', async () => {
    const iban = rendered.lines[1].box;
    const ibanBox: Box = [iban[0] + 80, iban[1], iban[2], iban[3]];
    // The output still shows the account holder's name, which the caller's regions left out.
    const ocr = new ScriptedOcr([async () => page(linesOf(LINES)), async () => page(linesOf(['Account holder: Mary Johnson', 'IBAN: GB47 ABCD 9876 5432 1098 76']))]);
    const a = await Anonymizer.create({}, { ocr });
    await expect(a.anonymize(rendered.png, { regions: [{ box: ibanBox, replacement: 'GB47 ABCD 9876 5432 1098 76' }] })).rejects.toMatchObject({
      code: ErrorCode.VERIFY,
      message: expect.stringContaining('person readable at'),
    });
    expect(ocr.calls).toBe(2);
    // The policy says what counts: replacing only IBANs, the name left in place is no finding.
    const ibansOnly = new ScriptedOcr([async () => page(linesOf(LINES)), async () => page(linesOf(['Account holder: Mary Johnson', 'IBAN: GB47 ABCD 9876 5432 1098 76']))]);
    const b = await Anonymizer.create({}, { ocr: ibansOnly });
    const ok = await b.anonymize(rendered.png, { regions: [{ box: ibanBox, replacement: 'GB47 ABCD 9876 5432 1098 76' }], policy: { entities: ['iban'] } });
    expect(ok).toMatchObject({ verified: true, verification: { status: 'verified', checked: 1 } });
    await b.close();
    // The box still reads as its original: a leak in the box itself.
    const stuck = await Anonymizer.create({}, { ocr: new ScriptedOcr([async () => page(linesOf(LINES))]) });
    await expect(stuck.anonymize(rendered.png, { regions: [{ box: ibanBox, replacement: 'GB47 ABCD 9876 5432 1098 76' }] })).rejects.toMatchObject({
      code: ErrorCode.VERIFY,
      message: expect.stringContaining('still readable in its replaced box'),
    });
    await expect(a.anonymize(rendered.png, { regions: [] })).rejects.toMatchObject({ code: ErrorCode.INPUT, message: expect.stringContaining('allowEmpty') });
    const clean = await Anonymizer.create({}, { ocr: new ScriptedOcr([async () => page(linesOf(['Account holder:', 'IBAN:']))]) });
    const r = await clean.anonymize(rendered.png, { regions: [], allowEmpty: true });
    expect(r).toMatchObject({ verified: true, emptyAllowed: true, reports: [] });
    // Verification off for supplied regions: nothing is read, and the result says so.
    const off = await clean.anonymize(rendered.png, { regions: [{ box: ibanBox, replacement: 'x' }], verify: false });
    expect(off).toMatchObject({ verified: false, verification: { status: 'off' } });
    expect(off.reading).toBeUndefined();
    for (const x of [a, stuck, clean]) await x.close();
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
    await expect(a.anonymize(rendered.png, { regions: [], ocr: supplied })).rejects.toMatchObject({ code: ErrorCode.ARGUMENT });
    await expect(Anonymizer.create({ detection: { secret: 'short' } })).rejects.toMatchObject({ code: ErrorCode.CONFIG });
    await a.close();
  });
});
