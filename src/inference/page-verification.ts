/**
 * Verification of an anonymized page: the whole page is read again (in its detected orientation,
 * and in the other three when the orientation was not certain) and checked for
 * - originals still readable where they were replaced (the engine failed there: a leak),
 * - sensitive values readable anywhere outside the replaced boxes (missed by the first reading, or
 *   an original found again elsewhere): findings, which the automatic flow replaces in another
 *   round and everything else reports as a failure.
 * It also returns what it read in each replaced box, for the read-back check of a learned engine.
 * A page that cannot be read back well enough is not verified (ERR_UNREADABLE from the caller).
 * Findings carry their text for the next round; nothing here is logged or put in a report.
 */
import { detectPii } from '../detect/detect';
import { Replacer } from '../detect/fakes/replacer';
import type { OcrEngine } from '../detect/ocr/engine';
import type { GreyImage } from '../detect/ocr/image';
import type { DetectionPolicy } from '../detect/policy';
import { type Orientation, ORIENTATIONS, pageToPageFrame, turnBox, type ReadingTransform } from '../detect/read/geometry';
import { type PageReading, readAgain, readPage, type ResolvedReadingOptions } from '../detect/read/read-page';
import type { Readability } from '../detect/read/readability';
import { unionBox } from '../detect/spans';
import type { Box, OcrPage } from '../detect/types';
import { findReadableOriginals, normalizeForVerify } from '../detect/verify';

/** A replaced region, in the frame of the image being verified. */
export interface VerificationTarget {
  box: Box;
  /** The text that was there (when known: automatic detection, or read under supplied boxes). */
  original?: string;
  replacement: string;
  entity?: string;
}

/** A sensitive value readable outside every replaced box. */
export interface PageFinding {
  entity: string;
  /** The words' box, in the frame of the image. */
  box: Box;
  /** The value as read (internal: for the next round's replacement; never reported). */
  text: string;
  /** 'detected': the detection found it; 'original': it repeats an original value. */
  kind: 'detected' | 'original';
}

/** One reading done by the verification. */
export interface VerificationReading {
  orientation: Orientation;
  role: 'main' | 'other';
  readability: Readability;
}

/** The outcome of {@link verifyPage}. */
export interface PageVerification {
  ok: boolean;
  scope: 'page';
  readings: VerificationReading[];
  /** Targets whose original was looked for, and those too short to look for (under 3 letters or digits). */
  checked: number;
  skipped: number;
  /** Originals still readable inside their own replaced box: the engine did not erase them. */
  leaks: Array<{ index: number; entity?: string; box: Box }>;
  findings: PageFinding[];
  /**
   * The text the main reading finds in each target's box (internal: for the read-back check of the
   * replacement, src/inference/read-back.ts; never reported).
   */
  readBack: Array<string | undefined>;
  /** Why the main reading is not good enough to verify by (empty when it is). */
  problems: string[];
  timeMs: number;
}

/** What a verification needs. */
export interface VerifyPageContext {
  ocr: OcrEngine;
  timeoutMs: number;
  wait?: <T>(work: Promise<T>) => Promise<T>;
  policy: DetectionPolicy;
  reading: ResolvedReadingOptions;
  /** How the input was read: the output is read the same way. Without it the output is read afresh. */
  known?: { orientation: Orientation; transform: ReadingTransform; certain: boolean };
  /** The input's own reading, when the output's pixels are the input's (nothing was replaced). */
  reuse?: PageReading;
  /** Boxes the caller keeps as they are: what is read in them is no finding. */
  kept?: readonly Box[];
}

/** Entity types whose structure (checksums, @) makes a hit in a garbled reading of a wrong orientation meaningful. */
const STRUCTURED = new Set(['email', 'iban', 'card']);

/** Share of `box` covered by `areas`. */
function coveredShare(box: Box, areas: readonly Box[]): number {
  const a = Math.max(1, (box[2] - box[0]) * (box[3] - box[1]));
  let covered = 0;
  for (const r of areas) {
    const w = Math.min(box[2], r[2]) - Math.max(box[0], r[0]);
    const h = Math.min(box[3], r[3]) - Math.max(box[1], r[1]);
    if (w > 0 && h > 0) covered += w * h;
  }
  return Math.min(1, covered / a);
}

/** A replaced box grown by a third of its height (a replacement's ink may reach a little past it). */
function grow(b: Box): Box {
  const m = (b[3] - b[1]) / 3;
  return [b[0] - m, b[1] - m, b[2] + m, b[3] + m];
}

/** The words of `page` inside `box` that lie outside every replaced area, as one box and text. */
function wordsOutside(page: OcrPage, box: Box, replaced: readonly Box[]): { box: Box; text: string } | undefined {
  const words = page.lines
    .flatMap((l) => l.words)
    .filter((w) => coveredShare(w.box, [box]) >= 0.5 && coveredShare(w.box, replaced) < 0.5);
  if (words.length === 0 || normalizeForVerify(words.map((w) => w.text).join('')).length === 0) return undefined;
  return { box: unionBox(words.map((w) => w.box)), text: words.map((w) => w.text).join(' ') };
}

/** What a replaced word reads as for the detection: a token no recognizer takes for a value or a label. */
const MASK = '\u25aa';

/**
 * The upright reading with the words that lie in replaced areas (located through `framed`, the same
 * reading in the image's frame) masked. Masked, not removed: a label keeps something after it, so a
 * recognizer does not take the next line for the label's value.
 */
function maskReplaced(upright: OcrPage, framed: OcrPage, replaced: readonly Box[]): OcrPage {
  return {
    ...upright,
    lines: upright.lines.map((l, li) => ({
      ...l,
      words: l.words.map((w, wi) => (coveredShare(framed.lines[li].words[wi].box, replaced) >= 0.5 ? { ...w, text: MASK } : w)),
    })),
  };
}

/** Detected values of an upright reading, their boxes mapped to the image's frame. */
function detectIn(upright: OcrPage, orientation: Orientation, policy: DetectionPolicy, onlyStructured: boolean): Array<{ entity: string; box: Box }> {
  const p = onlyStructured
    ? { ...policy, entities: (policy.entities === 'all' ? [...STRUCTURED] : policy.entities.filter((e) => STRUCTURED.has(e))) as string[] }
    : policy;
  if (p.entities.length === 0) return [];
  // Replacements are irrelevant here; a throwaway Replacer keeps the caller's one untouched.
  const found = detectPii(upright, p, { replacer: new Replacer({ phoneRegions: policy.phoneRegions }) });
  const size = { width: upright.width, height: upright.height };
  return found.map((r) => ({ entity: r.entity, box: turnBox(r.box, size, orientation) }));
}

/** Reads the anonymized page back and checks it (see the module comment). */
export async function verifyPage(grey: GreyImage, targets: readonly VerificationTarget[], ctx: VerifyPageContext): Promise<PageVerification> {
  const t0 = performance.now();
  const rctx = { ocr: ctx.ocr, timeoutMs: ctx.timeoutMs, wait: ctx.wait };
  let main: { upright: OcrPage; orientation: Orientation; readability: Readability; problems: string[]; certain: boolean };
  if (ctx.reuse) {
    const r = ctx.reuse;
    main = { upright: r.upright, orientation: r.orientation, readability: r.readability, problems: r.problems, certain: r.orientationCertain };
  } else if (ctx.known) {
    const r = await readAgain(grey, ctx.known.orientation, ctx.known.transform, ctx.reading, rctx);
    main = { ...r, orientation: ctx.known.orientation, certain: ctx.known.certain };
  } else {
    const r = await readPage(grey, ctx.reading, rctx);
    main = { upright: r.upright, orientation: r.orientation, readability: r.readability, problems: r.problems, certain: r.orientationCertain };
  }
  const readings: VerificationReading[] = [{ orientation: main.orientation, role: 'main', readability: main.readability }];
  const pages: Array<{ page: OcrPage; upright: OcrPage; orientation: Orientation; main: boolean }> = [
    { page: pageToPageFrame(main.upright, main.orientation), upright: main.upright, orientation: main.orientation, main: true },
  ];
  if (!main.certain) {
    for (const o of ORIENTATIONS) {
      if (o === main.orientation) continue;
      const r = await readAgain(grey, o, undefined, ctx.reading, rctx);
      readings.push({ orientation: o, role: 'other', readability: r.readability });
      pages.push({ page: pageToPageFrame(r.upright, o), upright: r.upright, orientation: o, main: false });
    }
  }
  const replaced = targets.map((t) => grow(t.box));
  const settled = [...replaced, ...(ctx.kept ?? [])];
  const withOriginal = targets.map((t, index) => ({ index, t })).filter((x) => x.t.original !== undefined && normalizeForVerify(x.t.original).length >= 3);
  const leaks: PageVerification['leaks'] = [];
  const findings: PageFinding[] = [];
  const leaked = new Set<number>();
  for (const p of pages) {
    // Originals: inside their own box they are a leak; anywhere else, a value to replace there too.
    const matches = findReadableOriginals(
      p.page,
      withOriginal.map((x) => ({ box: x.t.box, original: x.t.original!, entity: x.t.entity })),
      { replaced },
    );
    for (const m of matches) {
      const { index: own, t } = withOriginal[m.index];
      // Read inside a replaced box: that box still shows an original (its own, or a repeat of it).
      const at = replaced.map((r, i) => ({ i, share: coveredShare(m.box, [r]) })).sort((a, b) => b.share - a.share)[0];
      if (at && at.share >= 0.5) {
        // (Unless that box's own replacement says it: a fake may equal another value of the page.)
        if (at.i !== own && normalizeForVerify(targets[at.i].replacement).includes(normalizeForVerify(t.original!))) continue;
        if (!leaked.has(at.i)) leaks.push({ index: at.i, entity: targets[at.i].entity, box: targets[at.i].box });
        leaked.add(at.i);
        continue;
      }
      const outside = wordsOutside(p.page, m.box, settled);
      if (outside) findings.push({ entity: t.entity ?? 'custom', box: outside.box, text: outside.text, kind: 'original' });
    }
    // Values the detection finds in the text that was not replaced (the replacements themselves are
    // masked first: a recognizer reading a fake together with its neighbour is no finding).
    for (const d of detectIn(maskReplaced(p.upright, p.page, replaced), p.orientation, ctx.policy, !p.main)) {
      const outside = wordsOutside(p.page, d.box, settled);
      if (outside && !findings.some((f) => coveredShare(f.box, [outside.box]) >= 0.5)) findings.push({ entity: d.entity, box: outside.box, text: outside.text, kind: 'detected' });
    }
  }
  const mainPage = pages[0].page;
  const readBack = replaced.map((area) => {
    const words = mainPage.lines.flatMap((l) => l.words).filter((w) => coveredShare(w.box, [area]) >= 0.5);
    return words.length > 0 ? words.map((w) => w.text).join(' ') : undefined;
  });
  return {
    ok: leaks.length === 0 && findings.length === 0 && main.problems.length === 0,
    scope: 'page',
    readings,
    checked: withOriginal.length,
    skipped: targets.length - withOriginal.length,
    leaks,
    findings,
    readBack,
    problems: main.problems,
    timeMs: performance.now() - t0,
  };
}
