/**
 * Detection settings of the Anonymizer and the two OCR passes of the automatic flow:
 * before the engine runs, OCR + detectPii turn the page into regions (with their originals kept in
 * memory, never in the result unless asked); after it, an OCR pass over the output checks that no
 * original is still readable in its box. Both passes fail closed: an OCR failure, a timeout or a
 * page with ink but no text is an error with a code, never a page reported clean.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { detectPii, type DetectedRegion } from '../detect/detect';
import type { Replacer } from '../detect/fakes/replacer';
import type { OcrEngine, RawImage } from '../detect/ocr/engine';
import { SuppliedOcr } from '../detect/ocr/supplied';
import { DetectionPolicySchema, type DetectionPolicyInput, parseDetectionPolicy } from '../detect/policy';
import type { OcrPage } from '../detect/types';
import { verifyNoOriginals, type VerifyResult } from '../detect/verify';
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
   * OCR the output and fail with ERR_VERIFY when an original value is still readable in (or next
   * to) its box. 'auto' (default): on for the classic engine, off for diffute (whose output on a
   * CPU is slow to produce and is verified by the caller's own pipeline when needed).
   */
  verify: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Where verification looks for originals: around each replaced box (default) or anywhere on the page. */
  verifyScope: z.enum(['boxes', 'page']).default('boxes'),
  /** The built-in OCR (tesseract.js, offline English data). */
  ocr: z
    .strictObject({
      /** Worker threads (default: cores, at most 8). */
      workers: z.number().int().min(1).max(64).optional(),
      /** Time limit per page and pass, ms (ERR_OCR_TIMEOUT). */
      timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
      /** Resolution to tell tesseract (default: estimated). */
      dpi: z.number().int().min(30).max(2400).optional(),
    })
    .default({ timeoutMs: 60_000 }),
});
/** Detection settings as written. */
export type DetectionOptions = z.input<typeof DetectionOptionsSchema>;
/** Detection settings with defaults applied. */
export type ResolvedDetectionOptions = z.output<typeof DetectionOptionsSchema>;

/** The verification result of an automatic call (originals referred to by index, never by text). */
export interface VerificationReport extends VerifyResult {
  scope: 'boxes' | 'page';
  timeMs: number;
}

/** Per-call detection inputs. */
export interface DetectCallOptions {
  ocr: OcrEngine;
  /** OCR results the caller already has for this image (SuppliedOcr JSON shape); skips the first OCR pass. */
  suppliedOcr?: unknown;
  policy?: DetectionPolicyInput;
  secret?: string;
  replacer?: Replacer;
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

/**
 * First pass: OCR (or the supplied results) and detection. Returns the regions with their
 * originals (needed for verification; the caller strips them before returning anything).
 */
export async function detectRegions(page: DecodedImage, o: DetectCallOptions): Promise<{ regions: DetectedRegion[]; ocrMs: number; detectMs: number }> {
  const t0 = performance.now();
  let ocrPage: OcrPage;
  if (o.suppliedOcr !== undefined) {
    ocrPage = await new SuppliedOcr(o.suppliedOcr).recognize(rawOf(page));
  } else {
    ocrPage = await abandonOnAbort(o.ocr.recognize(rawOf(page), { timeoutMs: o.timeoutMs }), o.signal, o.onUnfinishedWork);
  }
  if (ocrPage.width !== page.width || ocrPage.height !== page.height) {
    throw new DocAnonError(ErrorCode.OCR, `the OCR engine returned a ${ocrPage.width}x${ocrPage.height} result for a ${page.width}x${page.height} page`);
  }
  const t1 = performance.now();
  const policy = parseDetectionPolicy(o.policy ?? {});
  const regions = detectPii(ocrPage, policy, { replacer: o.replacer, secret: o.secret, includeOriginal: true });
  return { regions, ocrMs: t1 - t0, detectMs: performance.now() - t1 };
}

/**
 * Second pass: OCR of the anonymized page, then the check that no original is readable. Throws
 * ERR_VERIFY (leaks named by index and box) and, like the first pass, fails on any OCR error.
 */
export async function verifyOutput(
  output: DecodedImage,
  regions: readonly DetectedRegion[],
  o: { ocr: OcrEngine; scope: 'boxes' | 'page'; signal?: AbortSignal; onUnfinishedWork?: (work: Promise<unknown>) => void; timeoutMs: number },
): Promise<VerificationReport> {
  const t0 = performance.now();
  const targets = regions.map((r) => {
    if (r.original === undefined) throw new DocAnonError(ErrorCode.INTERNAL, 'verification needs the original text of every region');
    return { box: r.box, original: r.original, entity: r.entity };
  });
  // An OCR failure here (including "ink but no text") propagates: an output that could not be read
  // was not checked, so it is not returned.
  const read = await abandonOnAbort(o.ocr.recognize(rawOf(output), { timeoutMs: o.timeoutMs }), o.signal, o.onUnfinishedWork);
  const result = verifyNoOriginals(read, targets, { wholePage: o.scope === 'page' });
  if (!result.ok) {
    const which = result.leaks.map((l) => `#${l.index}${l.entity ? ` (${l.entity})` : ''} at [${l.box.join(', ')}]`).join(', ');
    throw new DocAnonError(
      ErrorCode.VERIFY,
      `${result.leaks.length} original value(s) are still readable after replacement: ${which}; nothing was returned. ` +
        'Try the classic engine, a higher-resolution scan, or report the document layout.',
    );
  }
  return { ...result, scope: o.scope, timeMs: performance.now() - t0 };
}

/** Removes the original text unless the caller opted in (it is never logged either way). */
export function publicDetections(regions: readonly DetectedRegion[], includeOriginal: boolean): DetectedRegion[] {
  return regions.map((r) => {
    if (includeOriginal) return { ...r };
    const { original: _omit, ...rest } = r;
    return rest;
  });
}
