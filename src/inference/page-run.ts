/**
 * One page through an engine, the safe way:
 * 1. read the input the right way up, or refuse it (ERR_UNREADABLE) — always for automatic
 *    detection, and for supplied regions when verification is on (to know the originals under
 *    the boxes and the page's orientation);
 * 2. find the regions (or take the caller's), in the upright frame (the page turned losslessly,
 *    so a sideways page gets upright replacements);
 * 3. run the engine, read the whole output back and check it (see `page-verification.ts`);
 *    values the first reading missed are replaced in another round (automatic detection only);
 * 4. turn the result back: the output is the input with only the regions changed, and every box
 *    in the result is in the input's pixels.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { detectPii, type DetectedRegion } from '../detect/detect';
import { languageRegions } from '../detect/country';
import { Replacer } from '../detect/fakes/replacer';
import type { OcrEngine } from '../detect/ocr/engine';
import { toGrey } from '../detect/ocr/image';
import { SuppliedOcr } from '../detect/ocr/supplied';
import { type DetectionPolicy, parseDetectionPolicy } from '../detect/policy';
import { inverseTurn, type Orientation, turnBox, turnedSize, turnPixels } from '../detect/read/geometry';
import { analyseLayout, uncoveredShare } from '../detect/read/layout';
import type { PageReading } from '../detect/read/read-page';
import type { Box, OcrPage } from '../detect/types';
import {
  type ReadingReport,
  readingReport,
  readInput,
  rawOf,
  type ReadBackSummary,
  type ResolvedDetectionOptions,
  type VerificationReport,
  waitFor,
} from './detection';
import type { Engine, EngineProgress, EngineResult, RegionReport } from './engines/types';
import type { DecodedImage } from './image-io';
import { verifyPage, type PageVerification, type VerificationTarget } from './page-verification';
import { ReadBackTracker, type ReadBackDecision } from './read-back';
import { boxBounds, type BoxArray, type Quad, type Rect, type Region, type ValidatedRegion, validateRegions } from './regions';

/** Region limits of the Anonymizer. */
export interface PageLimits {
  maxRegions: number;
  minSize: number;
  maxTextLength: number;
}

/** What one page run needs. */
export interface PageRunInput {
  page: DecodedImage;
  engine: Engine;
  ocr: () => OcrEngine;
  detection: ResolvedDetectionOptions;
  limits: PageLimits;
  /** The caller's regions (page frame); undefined: detect them. */
  regions?: Region[];
  /** Supplied regions: the caller says an empty list is right (the page has nothing to replace). */
  allowEmpty: boolean;
  verify: boolean;
  suppliedOcr?: unknown;
  /**
   * The page's exact text where it has one (a PDF's text layer, in this image's pixels): detection
   * reads it instead of OCR when it covers the page's text, else OCR reads the rest.
   */
  textLayer?: OcrPage;
  policy?: DetectionPolicy | Parameters<typeof parseDetectionPolicy>[0];
  /**
   * Supplied regions the caller keeps (page frame): the verification finds nothing in their boxes,
   * and `values` (called once the input is read, with the text the reading holds under a box;
   * undefined when it was not read) are added to the policy's kept values.
   */
  kept?: { boxes: Box[]; values: (textUnder: (box: Box) => string | undefined) => string[] };
  /** The engine that draws replacements the main engine's do not read back (the classic engine). */
  fallback?: Engine;
  replacer?: Replacer;
  signal?: AbortSignal;
  onUnfinishedWork?: (work: Promise<unknown>) => void;
  onProgress?: (progress: EngineProgress) => void;
}

/** What one page run did (boxes in the input's pixels). */
export interface PageRunResult {
  image: DecodedImage;
  reports: RegionReport[];
  /** Automatic detection: the regions, originals included (the caller strips them). */
  detections?: DetectedRegion[];
  reading?: ReadingReport;
  verification: VerificationReport | { status: 'off' };
  verified: boolean;
  stages: { ocr?: number; detect?: number; engine: number; verify?: number };
}

/** A region to replace, in the upright frame, with what is known about it. */
interface Target extends VerificationTarget {
  detected?: DetectedRegion;
}

const rectBox = (r: Rect): Box => [r.x0, r.y0, r.x1, r.y1];
const boxRect = (b: Box): Rect => ({ x0: b[0], y0: b[1], x1: b[2], y1: b[3] });

/** The words of a reading under a box (at least half of each word inside), as the box's original text. */
function textUnder(page: OcrPage, box: Box): string | undefined {
  const words = page.lines.flatMap((l) =>
    l.words.filter((w) => {
      const a = Math.max(1, (w.box[2] - w.box[0]) * (w.box[3] - w.box[1]));
      const iw = Math.min(w.box[2], box[2]) - Math.max(w.box[0], box[0]);
      const ih = Math.min(w.box[3], box[3]) - Math.max(w.box[1], box[1]);
      return iw > 0 && ih > 0 && (iw * ih) / a >= 0.5;
    }),
  );
  return words.length > 0 ? words.map((w) => w.text).join(' ') : undefined;
}

/** ERR_VERIFY naming what is still readable by entity type and box (never by text). */
function verifyError(v: PageVerification, toPage: (b: Box) => Box, rounds: number): DocAnonError {
  const at = (b: Box): string => `[${toPage(b).map((n) => Math.round(n)).join(', ')}]`;
  const parts = [
    ...v.leaks.map((l) => `${l.entity ?? 'region'} #${l.index} still readable in its replaced box at ${at(l.box)}`),
    ...v.findings.map((f) => `${f.entity} readable at ${at(f.box)}`),
  ];
  return new DocAnonError(
    ErrorCode.VERIFY,
    `the anonymized page was read back and sensitive text is still readable (${parts.join('; ')}) after ${rounds} pass(es); nothing was written. ` +
      'Add regions for these values (or widen the boxes), or try the classic engine.',
  );
}

/** An engine's result must be a page of the input's size with one report per region. */
function checkEngineResult(result: EngineResult, page: DecodedImage, regions: number): void {
  if (result.image.width !== page.width || result.image.height !== page.height || result.reports.length !== regions) {
    throw new DocAnonError(ErrorCode.INTERNAL, 'the engine returned a page of another size or an incomplete report; nothing was written');
  }
}

/** ERR_VERIFY for replacements that do not read back as their text where the options say to refuse (never the text). */
function unreadableError(regions: Array<{ entity?: string; box: Box }>): DocAnonError {
  const parts = regions.map((r) => `${r.entity ?? 'region'} at [${r.box.map((n) => Math.round(n)).join(', ')}]`);
  return new DocAnonError(
    ErrorCode.VERIFY,
    `the replacement does not read back as its text (${parts.join('; ')}) and readBack.onUnreadable is 'fail'; nothing was written. ` +
      "Use onUnreadable 'retry' or 'classic', a better-trained model, or the classic engine.",
  );
}

/** Copies the pixels of `rect` from `src` into `dst` (same size and channels), row by row. */
function copyRect(dst: DecodedImage, src: DecodedImage, rect: Rect): void {
  const c = dst.channels;
  for (let y = Math.max(0, rect.y0); y < Math.min(dst.height, rect.y1); y++) {
    const a = (y * dst.width + Math.max(0, rect.x0)) * c;
    const b = (y * dst.width + Math.min(dst.width, rect.x1)) * c;
    dst.data.set(src.data.subarray(a, b), a);
  }
}

/**
 * Draws the regions of `decision` again: the generating engine with its next seed, the rest with
 * the classic engine (`fallback`). Each is drawn on the input (so its style is fitted to the
 * original, not to the drawing it replaces) and its pasted area copied into the current output.
 */
async function redraw(
  input: DecodedImage,
  current: EngineResult,
  regions: readonly ValidatedRegion[],
  decision: ReadBackDecision,
  tracker: ReadBackTracker,
  o: { engine: Engine; fallback?: Engine; signal?: AbortSignal },
): Promise<EngineResult> {
  const image: DecodedImage = { ...current.image, data: new Uint8Array(current.image.data) };
  const reports = [...current.reports];
  const passes: Array<{ engine: Engine; indices: number[] }> = [];
  // Redos of one attempt number go together (the engine seeds a call's regions by that number).
  const byAttempt = new Map<number, number[]>();
  for (const i of decision.retry) byAttempt.set(tracker.attemptOf(i), [...(byAttempt.get(tracker.attemptOf(i)) ?? []), i]);
  for (const [, indices] of byAttempt) passes.push({ engine: o.engine, indices });
  if (decision.classic.length > 0) {
    if (!o.fallback) throw new DocAnonError(ErrorCode.INTERNAL, 'a replacement must be drawn by the classic engine, but none was given to the page run');
    passes.push({ engine: o.fallback, indices: decision.classic });
  }
  for (const p of passes) {
    const subset = p.indices.map((i) => regions[i]);
    const r = await p.engine.anonymize(input, subset, { signal: o.signal, attempt: p.engine === o.engine ? tracker.attemptOf(p.indices[0]) : 0 });
    checkEngineResult(r, input, subset.length);
    for (const rep of r.reports) {
      copyRect(image, r.image, rep.pasted);
      reports[rep.index] = rep;
    }
    tracker.redrawn(p.indices, p.engine.name);
  }
  return { image, reports };
}

/** The page's read-back summary: regions scored, redrawn with another seed, and drawn by the classic engine instead. */
function readBackSummary(tracker: ReadBackTracker, n: number, engineName: string): ReadBackSummary {
  const all = Array.from({ length: n }, (_, i) => tracker.report(i));
  return {
    scored: all.filter((r) => r.accuracy !== null).length,
    redrawn: all.filter((r) => r.attempts > 1).length,
    classic: all.filter((r) => r.drawnBy !== engineName).length,
  };
}

/** Runs one page (see the module comment). */
export async function runPage(input: PageRunInput): Promise<PageRunResult> {
  const { page, engine, detection: det } = input;
  const automatic = input.regions === undefined;
  const given = parseDetectionPolicy(input.policy ?? det.policy ?? {});
  // Pages read in German are likelier to carry German phone numbers than US ones.
  let policy = { ...given, phoneRegions: languageRegions(det.ocr.languages, given.phoneRegions) };
  const stages: PageRunResult['stages'] = { engine: 0 };
  const readCtx = { ocr: input.ocr(), reading: det.reading, signal: input.signal, onUnfinishedWork: input.onUnfinishedWork, timeoutMs: det.ocr.timeoutMs };
  if (!automatic && input.regions!.length === 0 && !input.allowEmpty) {
    throw new DocAnonError(
      ErrorCode.INPUT,
      'regions is empty, so nothing would be replaced; omit regions to detect the sensitive values, or pass allowEmpty (CLI: --allow-empty) if the page truly has nothing to replace',
    );
  }
  // 1. Reading the input.
  let reading: PageReading | undefined;
  let textPage: OcrPage | undefined;
  const t0 = performance.now();
  if (automatic && input.textLayer && input.suppliedOcr === undefined) {
    // The text layer where it covers the page's text-like ink; OCR for the rest (scans, pictures).
    const layout = analyseLayout(await toGrey(rawOf(page)));
    const words = input.textLayer.lines.flatMap((l) => l.words.map((w) => w.box));
    if (uncoveredShare(layout.characters, words) > TEXT_LAYER_UNCOVERED) {
      reading = await readInput(page, readCtx);
      if (reading.orientation === 0) textPage = mergeReadings(input.textLayer, reading.upright);
    } else textPage = input.textLayer;
    stages.ocr = performance.now() - t0;
  } else if ((automatic && input.suppliedOcr === undefined) || (!automatic && input.verify)) {
    reading = await readInput(page, readCtx);
    stages.ocr = performance.now() - t0;
  }
  const orientation: Orientation = textPage ? 0 : (reading?.orientation ?? 0);
  const pageSize = { width: page.width, height: page.height };
  const uprightSize = turnedSize(pageSize, inverseTurn(orientation));
  const toUpright = (b: Box): Box => turnBox(b, pageSize, inverseTurn(orientation));
  const toPage = (b: Box): Box => turnBox(b, uprightSize, orientation);
  const upright = orientation === 0 ? page : await turnPixels(page, inverseTurn(orientation));
  const kept = input.kept?.values((box) => (reading ? textUnder(reading.upright, toUpright(box)) : undefined)) ?? [];
  if (kept.length > 0) policy = { ...policy, keep: { ...policy.keep, values: [...policy.keep.values, ...kept] } };
  const keptBoxes = input.kept?.boxes.map(toUpright);

  // 2. The regions, in the upright frame.
  let targets: Target[];
  const replacer = input.replacer ?? new Replacer({ secret: det.secret, phoneRegions: policy.phoneRegions, fakes: policy.fakes });
  const td = performance.now();
  if (automatic) {
    let ocrPage: OcrPage;
    if (textPage) ocrPage = textPage;
    else if (reading) ocrPage = reading.upright;
    else {
      ocrPage = await new SuppliedOcr(input.suppliedOcr).recognize(rawOf(page));
      stages.ocr = performance.now() - t0;
      if (ocrPage.width !== page.width || ocrPage.height !== page.height) {
        throw new DocAnonError(ErrorCode.OCR, `the OCR results are for a ${ocrPage.width}x${ocrPage.height} page, the image is ${page.width}x${page.height}`);
      }
    }
    const found = detectPii(ocrPage, policy, { replacer, includeOriginal: true });
    targets = found.map((d) => ({ box: d.box, original: d.original, replacement: d.replacement, entity: d.entity, detected: d }));
    stages.detect = performance.now() - td;
  } else {
    targets = input.regions!.map((r) => {
      const b = boxBounds(r.box as BoxArray | Quad);
      const box = toUpright([b.x0, b.y0, b.x1, b.y1]);
      return { box, replacement: r.replacement, original: r.original ?? (reading ? textUnder(reading.upright, box) : undefined) };
    });
  }

  // 3. Engine and verification, in rounds; within a round, redos of replacements that do not read back.
  const rounds = automatic ? det.maxRounds : 1;
  let added = 0;
  rounds: for (let round = 1; ; round++) {
    const regions = validateRegions(
      targets.map((t) => ({ box: [...t.box] as BoxArray, replacement: t.replacement, ...(t.original !== undefined ? { original: t.original } : {}) })),
      uprightSize,
      input.limits,
    );
    const te = performance.now();
    let result = await engine.anonymize(upright, regions, { signal: input.signal, onProgress: input.onProgress });
    stages.engine += performance.now() - te;
    checkEngineResult(result, upright, regions.length);
    let verification: PageRunResult['verification'] = { status: 'off' };
    const readBack = input.verify && engine.readBack ? new ReadBackTracker(engine.readBack, engine.name, regions.length) : undefined;
    while (input.verify) {
      const v = await verifyPage(
        await toGrey(rawOf(result.image)),
        targets.map((t, i) => ({ ...t, box: rectBox(result.reports[i].box) })),
        {
          ocr: readCtx.ocr,
          timeoutMs: readCtx.timeoutMs,
          wait: waitFor(readCtx),
          policy,
          kept: keptBoxes,
          reading: det.reading,
          known: reading ? { orientation: 0, transform: reading.transform, certain: reading.orientationCertain } : undefined,
          // Nothing replaced: the output is the input, whose reading is the output's.
          reuse: targets.length === 0 && reading ? reading : undefined,
        },
      );
      stages.verify = (stages.verify ?? 0) + v.timeMs;
      if (v.problems.length > 0) {
        throw new DocAnonError(
          ErrorCode.UNREADABLE,
          `the anonymized page could not be read back well enough to verify it: ${v.problems.join('; ')}. Nothing was written. ` +
            'Rescan the page at a higher resolution or with better contrast; turning verification off makes the result unverified.',
        );
      }
      if (v.leaks.length > 0) throw verifyError(v, toPage, round);
      if (v.findings.length > 0) {
        if (round >= rounds) throw verifyError(v, toPage, round);
        // Replace what the first reading missed too, and run the engine again on the input.
        for (const f of v.findings) {
          const replacement = replacer.replace(f.entity, f.text);
          const d: DetectedRegion = { box: f.box, replacement, entity: f.entity, confidence: 1, recognizer: `verification:${f.kind}`, group: targets.length, original: f.text };
          targets.push({ box: f.box, original: f.text, replacement, entity: f.entity, detected: d });
          added++;
        }
        continue rounds;
      }
      if (readBack) {
        const decision = readBack.judge(
          targets.map((t) => t.replacement),
          v.readBack,
          engine.name,
        );
        if (decision.fail.length > 0) throw unreadableError(decision.fail.map((i) => ({ entity: targets[i].entity, box: toPage(targets[i].box) })));
        if (decision.retry.length > 0 || decision.classic.length > 0) {
          const tr = performance.now();
          result = await redraw(upright, result, regions, decision, readBack, { engine, fallback: input.fallback, signal: input.signal });
          stages.engine += performance.now() - tr;
          continue;
        }
      }
      verification = {
        status: 'verified',
        scope: 'page',
        rounds: round,
        added,
        readings: v.readings.map((r) => ({ orientation: r.orientation, role: r.role, score: r.readability.score })),
        checked: v.checked,
        skipped: v.skipped,
        ...(readBack ? { readBack: readBackSummary(readBack, regions.length, engine.name) } : {}),
        timeMs: stages.verify,
      };
      break;
    }
    if (readBack) result = { ...result, reports: result.reports.map((r, i) => ({ ...r, details: { ...r.details, readBack: readBack.report(i) } })) };
    // 4. Back to the input's orientation and pixels.
    const image = orientation === 0 ? result.image : await turnPixels(result.image, orientation);
    const reports = result.reports.map((r) => ({ ...r, box: boxRect(toPage(rectBox(r.box))), pasted: boxRect(toPage(rectBox(r.pasted))) }));
    const detections = automatic ? targets.map((t) => ({ ...t.detected!, box: toPage(t.box) })) : undefined;
    return {
      image,
      reports,
      detections,
      reading: textPage ? textLayerReading(textPage, reading) : reading ? readingReport(reading) : automatic ? suppliedReading(orientation) : undefined,
      verification,
      verified: verification.status === 'verified',
      stages,
    };
  }
}

/** Share of a page's text-like ink a text layer may leave unread before OCR reads the page too. */
const TEXT_LAYER_UNCOVERED = 0.05;

/** The text layer's lines, and the OCR's lines for what the text layer does not cover. */
function mergeReadings(text: OcrPage, ocr: OcrPage): OcrPage {
  const taken = text.lines.flatMap((l) => l.words.map((w) => w.box));
  const overlaps = (b: Box): boolean =>
    taken.some((t) => Math.min(b[2], t[2]) > Math.max(b[0], t[0]) && Math.min(b[3], t[3]) > Math.max(b[1], t[1]));
  const extra = ocr.lines.map((l) => ({ ...l, words: l.words.filter((w) => !overlaps(w.box)) })).filter((l) => l.words.length > 0);
  const lines = [...text.lines, ...extra].sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  return { ...text, lines, engine: 'pdf-text+ocr' };
}

/** The reading report of a page read from its text layer (with OCR for the rest when `ocr`). */
function textLayerReading(text: OcrPage, ocr: PageReading | undefined): ReadingReport {
  const words = text.lines.reduce((n, l) => n + l.words.length, 0);
  const base = ocr ? readingReport(ocr) : suppliedReading(0);
  return { ...base, source: ocr ? 'text-layer+ocr' : 'text-layer', readability: { ...base.readability, words } };
}

/** The reading report of supplied OCR results (not read here, not scored). */
function suppliedReading(orientation: Orientation): ReadingReport {
  return {
    source: 'supplied',
    orientation,
    orientationCertain: false,
    skew: 0,
    scale: 1,
    textHeight: 0,
    readability: { score: 0, meanConfidence: 0, plausibleShare: 0, unreadInk: 0, words: 0, charactersPerLine: 0 },
    attempts: [],
  };
}
