/**
 * The shape every anonymization engine has (classic now, diffute next to it): it takes a decoded
 * page and validated regions, returns a new page (the input is never modified) and one report per
 * region. Engines fail closed: an error is thrown, never a partial result.
 */
import type { DecodedImage } from '../image-io';
import type { ReadBackOptions } from '../read-back';
import type { Rect, ValidatedRegion } from '../regions';

/** Progress of one anonymize call. */
export interface EngineProgress {
  /** Regions finished. */
  done: number;
  total: number;
  /** Index (in the request) of the region just finished. */
  region?: number;
  stage: string;
}

/** Per-call options of an engine. */
export interface EngineRunOptions {
  /** Checked between regions (and steps); an abort throws ERR_ABORTED. */
  signal?: AbortSignal;
  onProgress?: (progress: EngineProgress) => void;
  /**
   * The how-manieth redo of these regions (0: the first draw). A generating engine draws a redo
   * with another seed; the classic engine draws the same text the same way and ignores it.
   */
  attempt?: number;
}

/** What an engine did to one region. */
export interface RegionReport {
  /** Position in the request. */
  index: number;
  engine: string;
  /** The validated box, integer pixels (x1, y1 exclusive). */
  box: Rect;
  /** The area whose pixels may differ from the input (box plus margin, feathered). */
  pasted: Rect;
  /** Wall time spent on this region, ms. */
  timeMs: number;
  /** Engine-specific details. */
  details: Record<string, unknown>;
}

/** The result of an engine call. */
export interface EngineResult {
  image: DecodedImage;
  reports: RegionReport[];
}

/** An anonymization engine. */
export interface Engine {
  readonly name: string;
  /**
   * An engine that generates its text (diffute) says how its replacements are read back: the
   * verification then checks each one reads as its text and redoes it when not (read-back.ts).
   */
  readonly readBack?: ReadBackOptions;
  anonymize(image: DecodedImage, regions: readonly ValidatedRegion[], options?: EngineRunOptions): Promise<EngineResult>;
  dispose(): void;
}
