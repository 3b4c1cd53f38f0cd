/**
 * Detection settings of the Anonymizer and the reading passes of the automatic flow: before the
 * engine runs, the page is read the right way up (orientation, skew, small print; see
 * `detect/read`) and refused with ERR_UNREADABLE when it cannot be read well enough to be sure;
 * detection turns the reading into regions (their originals kept in memory, never in the result
 * unless asked). After the engine, `page-verification.ts` reads the whole output page again.
 * Every pass fails closed: an OCR failure, a timeout or an unreadable page is an error with a code,
 * never a page reported clean.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { DetectedRegion } from '../detect/detect';
import type { OcrEngine, RawImage } from '../detect/ocr/engine';
import { toGrey } from '../detect/ocr/image';
import { LANGUAGE_CODE } from '../detect/ocr/tesseract-data';
import { DetectionPolicySchema } from '../detect/policy';
import { type PageReading, readPage, ReadingOptionsSchema, type ResolvedReadingOptions } from '../detect/read/read-page';
import type { DecodedImage } from './image-io';

/** Detection settings of an Anonymizer (strict): used when `anonymize` is called without `regions`. */
export const DetectionOptionsSchema = z.strictObject({
  /** Which entity types to replace and which values to keep (see the detection policy). */
  policy: DetectionPolicySchema.optional(),
  /**
   * Secret (16+ characters) for fakes that stay the same across documents (keyed HMAC). Without it
   * each call (or each PDF) draws its own key. Prefer the environment (DOC_ANON_SECRET) to files.
   */
  secret: z.string().min(16).optional(),
  /**
   * Read the whole output page back and fail (ERR_VERIFY) when anything sensitive is still
   * readable; on by default for both engines. `false` turns it off, and the result says so
   * (`verified: false`, `verification.status: 'off'`). 'auto' is the former default, now the same as true.
   */
  verify: z.union([z.boolean(), z.literal('auto')]).default(true).transform((v) => v !== false),
  /** Verification always reads the whole page; 'page' is the only scope (the former 'boxes' could miss values). */
  verifyScope: z.literal('page').optional(),
  /**
   * Automatic detection: engine passes at most. A value the verification finds outside every
   * replaced box (missed by the first reading) is replaced in another pass; past the last one the
   * page fails with ERR_VERIFY.
   */
  maxRounds: z.number().int().min(1).max(4).default(2),
  /** How pages are read: orientation, deskew, upscaling and the readability a page needs. */
  reading: ReadingOptionsSchema.prefault({}),
  /** The built-in OCR (tesseract.js, offline English data). */
  ocr: z
    .strictObject({
      /** Worker threads (default: cores, at most 8). */
      workers: z.number().int().min(1).max(64).optional(),
      /** Time limit per page and pass, ms (ERR_OCR_TIMEOUT). */
      timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
      /** Resolution to tell tesseract (default: estimated). */
      dpi: z.number().int().min(30).max(2400).optional(),
      /**
       * Languages the pages are in, tesseract codes (default ['eng']; e.g. ['deu', 'eng']). Their data
       * comes from the `@tesseract.js-data/<lang>` packages (install the ones you need) or `langPath`.
       * The languages also tell detection which countries' phone numbers to expect.
       */
      languages: z
        .array(z.string().regex(LANGUAGE_CODE, 'a tesseract language code such as eng, deu, fra, chi_sim'))
        .min(1)
        .max(8)
        .refine((l) => new Set(l).size === l.length, 'languages must not repeat')
        .default(['eng']),
      /** A folder with `<lang>.traineddata(.gz)` for every language (e.g. Debian's tessdata); default: the npm packages. */
      langPath: z.string().min(1).optional(),
    })
    .default({ timeoutMs: 60_000, languages: ['eng'] }),
});
/** Detection settings as written. */
export type DetectionOptions = z.input<typeof DetectionOptionsSchema>;
/** Detection settings with defaults applied. */
export type ResolvedDetectionOptions = z.output<typeof DetectionOptionsSchema>;

/** How the input page was read, as results report it (no text). */
export interface ReadingReport {
  /**
   * 'ocr': read here; 'supplied': the caller's OCR results were used (not read, not scored);
   * 'text-layer': a PDF's exact text covered the page; 'text-layer+ocr': OCR read what it did not.
   */
  source: 'ocr' | 'supplied' | 'text-layer' | 'text-layer+ocr';
  /** How the page's content is turned (clockwise); it was read turned back. */
  orientation: 0 | 90 | 180 | 270;
  orientationCertain: boolean;
  /** Tesseract's orientation detection, when it ran. */
  osd?: { orientation: number; confidence: number };
  /** Skew (degrees) and scale the OCR read it with; median character height in px. */
  skew: number;
  scale: number;
  textHeight: number;
  /** The readability of the reading used (see `detect/read/readability`). */
  readability: { score: number; meanConfidence: number; plausibleShare: number; unreadInk: number; words: number; charactersPerLine: number };
  /** Every orientation read, best first, with its readability score. */
  attempts: Array<{ orientation: number; score: number }>;
}

/** The report form of a reading. */
export function readingReport(r: PageReading): ReadingReport {
  const { score, meanConfidence, plausibleShare, unreadInk, words, charactersPerLine } = r.readability;
  return {
    source: 'ocr',
    orientation: r.orientation,
    orientationCertain: r.orientationCertain,
    ...(r.osd ? { osd: { orientation: r.osd.orientation, confidence: r.osd.confidence } } : {}),
    skew: r.skew,
    scale: r.scale,
    textHeight: r.textHeight,
    readability: { score, meanConfidence, plausibleShare, unreadInk, words, charactersPerLine },
    attempts: r.attempts.map((a) => ({ orientation: a.orientation, score: a.readability.score })),
  };
}

/** What a verification of the output found and how, as results report it (no text). */
export interface VerificationReport {
  /** 'verified': the whole output page was read back and nothing sensitive was found; 'off': the caller turned verification off. */
  status: 'verified' | 'off';
  scope: 'page';
  /** Engine passes (2+ when values found by the verification were replaced too) and regions added that way. */
  rounds: number;
  added: number;
  /** The readings of the output: the detected orientation, and the others when it was not certain. */
  readings: Array<{ orientation: number; role: 'main' | 'other'; score: number }>;
  /** Replaced originals looked for on the whole page, and those too short to look for. */
  checked: number;
  skipped: number;
  /**
   * A generating engine's replacements read back (src/inference/read-back.ts): regions scored,
   * redrawn with another seed, and drawn by the classic engine instead. Each region's report has
   * its own `details.readBack`.
   */
  readBack?: ReadBackSummary;
  timeMs: number;
}

/** The page's read-back of a generating engine's replacements. */
export interface ReadBackSummary {
  scored: number;
  redrawn: number;
  classic: number;
}

/** Per-call reading inputs. */
export interface ReadCallOptions {
  ocr: OcrEngine;
  reading: ResolvedReadingOptions;
  signal?: AbortSignal;
  /** Receives an OCR read abandoned when `signal` aborted (see {@link abandonOnAbort}). */
  onUnfinishedWork?: (work: Promise<unknown>) => void;
  timeoutMs: number;
}

/**
 * Waits for `work` unless `signal` aborts first (then ERR_ABORTED; the work finishes unobserved and
 * is handed to `onUnfinished`, so that a server can count it against its concurrency).
 * Why not hand the signal to the OCR engine: an aborted tesseract call terminates the whole worker
 * pool, so every other page being read at the same time (e.g. other HTTP requests) would have to
 * be read again on a new pool; the engine's own time limit still bounds an abandoned page.
 */
export async function abandonOnAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, onUnfinished?: (work: Promise<unknown>) => void): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    onUnfinished?.(work);
    throw new DocAnonError(ErrorCode.ABORTED, 'aborted');
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      onUnfinished?.(work);
      reject(new DocAnonError(ErrorCode.ABORTED, 'aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    work.catch(() => undefined);
    signal.removeEventListener('abort', onAbort!);
  }
}

/** Decoded pixels as an OCR engine takes them (same orientation as the regions). */
export function rawOf(page: DecodedImage): RawImage {
  return { data: page.data, width: page.width, height: page.height, channels: page.channels };
}

/** Waits for one OCR call of a request (giving up on abort, see {@link abandonOnAbort}). */
export function waitFor(o: Pick<ReadCallOptions, 'signal' | 'onUnfinishedWork'>): <T>(work: Promise<T>) => Promise<T> {
  return (work) => abandonOnAbort(work, o.signal, o.onUnfinishedWork);
}

/**
 * Reads a page the right way up and refuses it (ERR_UNREADABLE, saying what was wrong and what to
 * do) when the reading is not good enough to be sure that everything sensitive on it was found.
 */
export async function readInput(page: DecodedImage, o: ReadCallOptions): Promise<PageReading> {
  const grey = await toGrey(rawOf(page));
  const reading = await readPage(grey, o.reading, { ocr: o.ocr, timeoutMs: o.timeoutMs, wait: waitFor(o) });
  if (!reading.readable) {
    throw new DocAnonError(
      ErrorCode.UNREADABLE,
      `the page could not be read well enough to find everything sensitive on it: ${reading.problems.join('; ')} ` +
        `(orientations read: ${reading.attempts.map((a) => `${a.orientation}° ${a.readability.score.toFixed(2)}`).join(', ')}). Nothing was written. ` +
        'Turn the page upright, rescan it at 300 dpi or more with good contrast and focus, or supply OCR results for it.',
    );
  }
  return reading;
}

/** Removes the original text unless the caller opted in (it is never logged either way). */
export function publicDetections(regions: readonly DetectedRegion[], includeOriginal: boolean): DetectedRegion[] {
  return regions.map((r) => {
    if (includeOriginal) return { ...r };
    const { original: _omit, ...rest } = r;
    return rest;
  });
}
