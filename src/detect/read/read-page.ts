/**
 * Reading a page the right way up: orientation detection (tesseract OSD when the engine has it),
 * then the page turned upright (losslessly), deskewed and upscaled for the OCR only, read, and its
 * boxes mapped back to the upright frame. The reading is scored ({@link assessReadability}); when
 * the orientation was uncertain or the reading poor, the other orientations are read too and the
 * best one is kept. Whether the best is good enough is {@link PageReading.readable}: the caller
 * refuses the page when it is not (ERR_UNREADABLE), it never reports a page it could not read.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { OcrEngine } from '../ocr/engine';
import type { GreyImage } from '../ocr/image';
import type { OrientationGuess } from '../ocr/osd';
import type { OcrPage } from '../types';
import { applyReadingTransform, inverseTurn, type Orientation, pageToUpright, type ReadingTransform, turnPixels } from './geometry';
import { cleanForReading, type CleanupStep } from './clean';
import { analyseLayout, type PageLayout } from './layout';
import { assessReadability, type Readability } from './readability';

const M = Math;

/** Reading settings (strict; all optional). */
export const ReadingOptionsSchema = z.strictObject({
  /** 'auto' (default): detect how the page is turned; or the clockwise turn of its content, if known. */
  orientation: z.union([z.literal('auto'), z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).default('auto'),
  /** Estimate the skew of the lines and straighten the page for the OCR (default true). */
  deskew: z.boolean().default(true),
  /** Upscale small print for the OCR (default true): text under `minTextHeight` px is scaled to `targetTextHeight`. */
  upscale: z.boolean().default(true),
  minTextHeight: z.number().min(4).max(100).default(14),
  targetTextHeight: z.number().min(8).max(100).default(20),
  /** Largest upscale factor, and largest reading image in pixels. */
  maxScale: z.number().min(1).max(8).default(4),
  maxReadingPixels: z.number().int().min(1_000_000).max(400_000_000).default(60_000_000),
  /**
   * The readability a page needs (0..1: mean OCR confidence x share of plausible words); below it
   * the page is refused with ERR_UNREADABLE. 0 turns the check off (the report still has the score).
   */
  minReadability: z.number().min(0).max(1).default(0.55),
  /** Largest share of character-shaped ink that the OCR may leave unread (1 turns the check off). */
  maxUnreadInk: z.number().min(0).max(1).default(0.35),
  /** OSD confidence from which its orientation is taken without reading the others (tesseract's margin). */
  osdConfidence: z.number().min(0).max(100).default(5),
  /** A reading at least this good ends the search for the orientation when OSD was unsure. */
  strongReadability: z.number().min(0).max(1).default(0.8),
});
/** Reading settings as written. */
export type ReadingOptions = z.input<typeof ReadingOptionsSchema>;
/** Reading settings with defaults applied. */
export type ResolvedReadingOptions = z.output<typeof ReadingOptionsSchema>;

/** Skew (degrees) from which a page is straightened for reading. */
const MIN_DESKEW = 1;

/** One orientation read. */
export interface ReadingAttempt {
  orientation: Orientation;
  readability: Readability;
}

/** A page read upright, and how. */
export interface PageReading {
  /** The words, in the upright frame (the page turned by `inverseTurn(orientation)`). */
  upright: OcrPage;
  /** How the page's content is turned (clockwise); the upright frame undoes it. */
  orientation: Orientation;
  /**
   * Whether the orientation is known: given, firm OSD that the reading confirmed, a strong reading,
   * or one reading far better than the other three.
   */
  orientationCertain: boolean;
  /** What OSD said, when the engine has it. */
  osd?: OrientationGuess;
  /** Skew (degrees, clockwise) and scale used for the OCR. */
  skew: number;
  scale: number;
  /** Median character height in the upright page, px. */
  textHeight: number;
  readability: Readability;
  /** Whether the reading meets `minReadability` and `maxUnreadInk`. */
  readable: boolean;
  /** Why not, in words (empty when readable). */
  problems: string[];
  /** Every orientation read, best first. */
  attempts: ReadingAttempt[];
  /** How the reading image was made from the upright page (to read another image of the page the same way). */
  transform: ReadingTransform;
}

/** What a read needs beyond the image. */
export interface ReadPageContext {
  ocr: OcrEngine;
  timeoutMs: number;
  /** Wraps each OCR call (e.g. to give up waiting on abort while the read finishes in the background). */
  wait?: <T>(work: Promise<T>) => Promise<T>;
}

/** The skew and scale to read an upright page with, from its layout. */
function chooseTransform(upright: GreyImage, layout: PageLayout, o: ResolvedReadingOptions): { skew: number; scale: number } {
  // Tesseract reads lines within a degree of level as they are; straightening them would only resample.
  const skew = o.deskew && M.abs(layout.skew) >= MIN_DESKEW && layout.skewConfidence >= 0.3 ? layout.skew : 0;
  let scale = 1;
  if (o.upscale && layout.textHeight > 0 && layout.textHeight < o.minTextHeight) {
    const room = M.sqrt(o.maxReadingPixels / (upright.width * upright.height));
    scale = M.max(1, M.min(o.maxScale, o.targetTextHeight / layout.textHeight, room));
  }
  return { skew, scale };
}

/**
 * One read of an upright grey page: reading transform (chosen from the layout, or `fixed`), OCR,
 * boxes mapped back to the upright frame, score.
 */
async function readUpright(
  upright: GreyImage,
  layout: PageLayout,
  o: ResolvedReadingOptions,
  ctx: ReadPageContext,
  fixed?: { skew: number; scale: number },
): Promise<{ page: OcrPage; transform: ReadingTransform; readability: Readability; cleanup: CleanupStep[] }> {
  const wait = ctx.wait ?? (<T>(p: Promise<T>) => p);
  const { skew, scale } = fixed ?? chooseTransform(upright, layout, o);
  const cleaned = await cleanForReading(upright, layout);
  const { image, transform } = await applyReadingTransform(cleaned.image, skew, scale, cleaned.paper);
  let read: OcrPage;
  try {
    read = await wait(ctx.ocr.recognize({ data: image.data, width: image.width, height: image.height, channels: 1 }, { timeoutMs: ctx.timeoutMs }));
  } catch (e) {
    // Ink but no words: in this orientation nothing was legible (another one may be).
    if (!(e instanceof DocAnonError && e.code === ErrorCode.OCR_NO_TEXT)) throw e;
    read = { width: image.width, height: image.height, lines: [], engine: 'tesseract', inkRatio: undefined };
  }
  if (read.width !== image.width || read.height !== image.height) {
    throw new DocAnonError(ErrorCode.OCR, `the OCR engine returned a ${read.width}x${read.height} result for a ${image.width}x${image.height} image`);
  }
  const page = pageToUpright(transform, read);
  return { page, transform, readability: assessReadability(page, layout.characters), cleanup: cleaned.steps };
}

/**
 * Whether a readability passes the gate, and what is wrong when it does not. Words read are always
 * judged; a page where nothing was read passes only when it has no text-like ink either (blank).
 */
export function judgeReadability(r: Readability, o: Pick<ResolvedReadingOptions, 'minReadability' | 'maxUnreadInk'>, hasTextInk: boolean): string[] {
  const problems: string[] = [];
  if (r.characters === 0) {
    if (hasTextInk) problems.push('no words could be read although the page has text-like ink');
    return problems;
  }
  if (r.score < o.minReadability) {
    problems.push(
      `the reading is poor (readability ${r.score.toFixed(2)} < ${o.minReadability}: mean OCR confidence ${r.meanConfidence.toFixed(2)}, ` +
        `${M.round(r.plausibleShare * 100)}% of the text in plausible words)`,
    );
  }
  if (r.unreadInk > o.maxUnreadInk) problems.push(`${M.round(r.unreadInk * 100)}% of the text-like ink was not read (at most ${M.round(o.maxUnreadInk * 100)}% allowed)`);
  return problems;
}

/**
 * Reads a page (grey pixels in the page frame). Never throws for a poor reading: the result says
 * whether it is `readable`; OCR failures other than "no text" do throw.
 */
export async function readPage(grey: GreyImage, options: ReadingOptions | ResolvedReadingOptions, ctx: ReadPageContext): Promise<PageReading> {
  const o = ReadingOptionsSchema.parse(options);
  const wait = ctx.wait ?? (<T>(p: Promise<T>) => p);
  let osd: OrientationGuess | undefined;
  let order: Orientation[];
  if (o.orientation !== 'auto') {
    order = [o.orientation];
  } else {
    if (ctx.ocr.detectOrientation) {
      // OSD on the page as it is; small print is upscaled first (OSD sees glyph shapes too).
      const layout = analyseLayout(grey);
      const h = layout.textHeight;
      const small = o.upscale && h > 0 && h < o.minTextHeight;
      const cleaned = await cleanForReading(grey, layout);
      const img = (await applyReadingTransform(cleaned.image, 0, small ? M.min(o.maxScale, o.targetTextHeight / h) : 1, cleaned.paper)).image;
      osd = await wait(ctx.ocr.detectOrientation({ data: img.data, width: img.width, height: img.height, channels: 1 }, { timeoutMs: ctx.timeoutMs }));
    }
    const first = osd?.orientation ?? 0;
    // Then the sideways turns (more common than upside down for a sheet fed the wrong way).
    order = [first, ...([0, 90, 270, 180] as Orientation[]).filter((d) => d !== first)];
  }
  const attempts: Array<ReadingAttempt & { page: OcrPage; transform: ReadingTransform; layout: PageLayout; problems: string[] }> = [];
  for (const orientation of order) {
    const upright = await turnPixels({ ...grey, channels: 1 }, inverseTurn(orientation));
    const layout = analyseLayout(upright);
    const hasText = layout.characters.length > 0;
    const r = await readUpright(upright, layout, o, ctx);
    const problems = judgeReadability(r.readability, o, hasText);
    attempts.push({ orientation, readability: r.readability, page: r.page, transform: r.transform, layout, problems });
    if (o.orientation !== 'auto') break;
    const firmOsd = osd !== undefined && osd.confidence >= o.osdConfidence && orientation === osd.orientation;
    if (problems.length === 0 && (firmOsd || r.readability.score >= o.strongReadability)) break;
    if (!hasText && r.readability.characters === 0) break; // blank: nothing to read in any orientation
  }
  const ranked = [...attempts].sort((a, b) => b.readability.score - a.readability.score);
  const best = ranked[0];
  const others = ranked.slice(1);
  const given = o.orientation !== 'auto';
  const firm = osd !== undefined && osd.confidence >= o.osdConfidence && osd.orientation === best.orientation;
  // Every other orientation read and clearly worse: the readings themselves agree on this one.
  const agreed = attempts.length === 4 && others.every((a) => a.readability.score < best.readability.score / 2);
  const blank = best.layout.characters.length === 0 && best.readability.characters === 0;
  return {
    upright: best.page,
    orientation: best.orientation,
    // A strong reading cannot come from a page turned the wrong way (that reads as garbage); a blank
    // page has no orientation to be unsure of.
    orientationCertain: given || blank || (best.problems.length === 0 && (firm || agreed || best.readability.score >= o.strongReadability)),
    osd,
    skew: best.transform.skew,
    scale: M.round(best.transform.scale * 1000) / 1000,
    textHeight: best.layout.textHeight,
    readability: best.readability,
    readable: best.problems.length === 0,
    problems: best.problems,
    attempts: ranked.map((a) => ({ orientation: a.orientation, readability: a.readability })),
    transform: best.transform,
  };
}

/**
 * Reads another image of a page (the anonymized output) in a known orientation with the reading
 * transform of an earlier reading, so both readings see the page the same way.
 */
export async function readAgain(
  grey: GreyImage,
  orientation: Orientation,
  transform: ReadingTransform | undefined,
  options: ReadingOptions | ResolvedReadingOptions,
  ctx: ReadPageContext,
): Promise<{ upright: OcrPage; readability: Readability; problems: string[] }> {
  const o = ReadingOptionsSchema.parse(options);
  const upright = await turnPixels({ ...grey, channels: 1 }, inverseTurn(orientation));
  const layout = analyseLayout(upright);
  const same = transform && transform.source.width === upright.width && transform.source.height === upright.height;
  const r = await readUpright(upright, layout, o, ctx, same ? { skew: transform.skew, scale: transform.scale } : undefined);
  return { upright: r.page, readability: r.readability, problems: judgeReadability(r.readability, o, layout.characters.length > 0) };
}

