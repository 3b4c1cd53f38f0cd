/**
 * detectPii: OCR result + policy -> the regions to replace, each with a box (one per line a value
 * spans), a format-preserving replacement, the entity type and a confidence.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import type { MoneyCell } from './fakes/balances';
import { Replacer } from './fakes/replacer';
import { type DetectionPolicy, type DetectionPolicyInput, parseDetectionPolicy } from './policy';
import { createRecognizers, type Recognizer, type RecognizerMatch } from './recognizers';
import { applyPolicy, resolveOverlaps } from './resolve';
import { columnView } from './columns';
import { spanToSegments } from './spans';
import { buildPageText, type PageText } from './text';
import type { Box, EntityType, OcrPage } from './types';

const M = Math;

/** One region to replace: the shape the Anonymizer takes (`box`, `replacement`) plus the report fields. */
export interface DetectedRegion {
  box: Box;
  replacement: string;
  entity: EntityType;
  /** Recognizer score weighted by the OCR confidence of the covered words, in [0, 1]. */
  confidence: number;
  /** Name of the recognizer that found it. */
  recognizer: string;
  /** Regions cut from one value (a value spanning several lines) share this id. */
  group: number;
  /** The original text of the box; present only with `includeOriginal: true`. */
  original?: string;
}

/** Options of {@link detectPii}. */
export interface DetectOptions {
  /**
   * The Replacer to use. Pass the same one for every page of a document so values stay consistent
   * across pages; by default a new one per call (with `secret` when given).
   */
  replacer?: Replacer;
  /** Secret for cross-document consistent fakes (used when `replacer` is not given). */
  secret?: string | Uint8Array;
  /** Put the original text in each region (for verification or debugging; never log it). */
  includeOriginal?: boolean;
  /** Recognizers to use instead of the ones the policy builds. */
  recognizers?: Recognizer[];
}

/** An entity found in the page text after policy and overlap resolution. */
export interface FoundEntity extends RecognizerMatch {
  text: string;
}

function toPolicy(policy: DetectionPolicy | DetectionPolicyInput | undefined): DetectionPolicy {
  return parseDetectionPolicy(policy ?? {});
}

/** Fails closed on OCR results that say the page was not (fully) read. */
function checkReadable(page: OcrPage, policy: DetectionPolicy): void {
  if (!page || !Array.isArray(page.lines)) {
    throw new DocAnonError(ErrorCode.OCR_INPUT, 'detectPii needs an OCR result with a `lines` array; run an OcrEngine first');
  }
  if (page.lines.length === 0 && (page.inkRatio ?? 0) >= 0.0001) {
    throw new DocAnonError(ErrorCode.OCR_NO_TEXT, 'the OCR result has no text but the page has ink; the page cannot be declared clean');
  }
  if (policy.minInkCoverage > 0 && page.inkCoverage !== undefined && page.inkCoverage < policy.minInkCoverage) {
    throw new DocAnonError(
      ErrorCode.OCR_NO_TEXT,
      `only ${(page.inkCoverage * 100).toFixed(1)}% of the page's ink was read as text (minimum ${(policy.minInkCoverage * 100).toFixed(1)}%); check the image or lower minInkCoverage`,
    );
  }
}

/** Runs the recognizers over the page text and applies the policy (no boxes, no replacements). */
export function findEntities(pt: PageText, policyInput?: DetectionPolicy | DetectionPolicyInput, recognizers?: Recognizer[]): FoundEntity[] {
  const policy = toPolicy(policyInput);
  const recs =
    recognizers ??
    createRecognizers({ phoneRegions: policy.phoneRegions, bareAmounts: policy.bareAmounts, customRules: policy.customRules });
  const raw = recs.flatMap((r) => r.find(pt.text));
  return resolveOverlaps(applyPolicy(pt.text, raw, policy)).map((m) => ({ ...m, text: pt.text.slice(m.start, m.end) }));
}

/**
 * The amounts of the page with a row number each: amounts whose boxes share a line of the page (by
 * their vertical centres, as an OCR reading may put a table's columns in separate lines) share a row.
 */
function tableRows(pt: PageText, entities: readonly FoundEntity[]): MoneyCell[] {
  const cells = entities
    .map((e, id) => ({ e, id, box: e.entity === 'money' ? spanToSegments(pt, e.start, e.end)[0]?.box : undefined }))
    .filter((c): c is { e: FoundEntity; id: number; box: Box } => c.box !== undefined)
    .map((c) => ({ id: c.id, text: c.e.text, y: (c.box[1] + c.box[3]) / 2, h: c.box[3] - c.box[1], x: c.box[0] }))
    .sort((a, b) => a.y - b.y || a.x - b.x);
  let row = -1;
  let rowY = -Infinity;
  return cells.map((c) => {
    if (Math.abs(c.y - rowY) > 0.5 * c.h) {
      row++;
      rowY = c.y;
    }
    return { id: c.id, line: row, text: c.text };
  });
}

/**
 * Finds the sensitive values on an OCR'd page and makes their replacements.
 * Returns one region per line segment of each value, in reading order. Regions below the policy's
 * `minConfidence` are dropped. A value's replacement has the same line breaks as the value, so each
 * segment gets its own part; a segment that covers only part of an OCR word takes the whole word,
 * with the word's other characters unchanged in the replacement.
 */
export function detectPii(page: OcrPage, policyInput?: DetectionPolicy | DetectionPolicyInput, options: DetectOptions = {}): DetectedRegion[] {
  const policy = toPolicy(policyInput);
  checkReadable(page, policy);
  const keepPrefix = Object.fromEntries(policy.customRules.filter((r) => r.keepPrefix > 0).map((r) => [r.entity, r.keepPrefix]));
  const replacer = options.replacer ?? new Replacer({ secret: options.secret, phoneRegions: policy.phoneRegions, keepPrefix, fakes: policy.fakes });
  const regions = detectInView(page, policy, replacer, options, 0);
  // The column view finds what joined columns hide (a label above its value in one column); its
  // values are added where the first view has none.
  const columns = columnView(page);
  if (!columns) return regions;
  const extra = detectInView(columns, policy, replacer, options, regions.length);
  const overlaps = (a: Box, b: Box): boolean => M.min(a[2], b[2]) > M.max(a[0], b[0]) && M.min(a[3], b[3]) > M.max(a[1], b[1]);
  const added = extra.filter((r) => !regions.some((q) => overlaps(q.box, r.box)));
  return [...regions, ...added];
}

/** Detection in one view of the page (see {@link detectPii}); groups are numbered from `groupBase`. */
function detectInView(page: OcrPage, policy: DetectionPolicy, replacer: Replacer, options: DetectOptions, groupBase: number): DetectedRegion[] {
  const pt = buildPageText(page);
  const regions: DetectedRegion[] = [];
  const entities = findEntities(pt, policy, options.recognizers);
  // The fakes agree with the page: its country and date order, names before the emails made of them,
  // balances recomputed from the fake amounts.
  replacer.prepare({ text: pt.text, dates: entities.filter((e) => e.entity === 'date').map((e) => e.text) });
  for (const e of entities) if (e.entity === 'person') replacer.replace(e.entity, e.text);
  const balances = replacer.balanceFakes(tableRows(pt, entities));
  entities.forEach((e, group) => {
    const segments = spanToSegments(pt, e.start, e.end);
    if (segments.length === 0) return;
    const words = segments.flatMap((s) => s.words.map((w) => page.lines[w.line].words[w.word]));
    const ocrConfidence = words.reduce((a, w) => a + w.confidence, 0) / words.length;
    const confidence = Math.round(e.score * (0.5 + 0.5 * ocrConfidence) * 1000) / 1000;
    if (confidence < policy.minConfidence) return;
    const fake = balances.get(group) ?? replacer.replace(e.entity, e.text);
    const fakeLines = fake.split('\n');
    const lines = e.text.split('\n');
    if (fakeLines.length !== lines.length || lines.length !== segments.length) {
      throw new DocAnonError(ErrorCode.INTERNAL, `the ${e.entity} replacement does not keep the value's line breaks; report this as a bug`);
    }
    segments.forEach((s, i) => {
      const a = Math.max(e.start, s.start);
      const b = Math.min(e.end, s.end);
      const part = pt.text.slice(a, b);
      // Leading/trailing spaces of a line part stay; only the value's characters are replaced.
      const lead = part.length - part.trimStart().length;
      const trail = part.length - part.trimEnd().length;
      const core = fakeLines[i].trim();
      const replacement = pt.text.slice(s.start, a + lead) + core + pt.text.slice(b - trail, s.end);
      const region: DetectedRegion = { box: s.box, replacement, entity: e.entity, confidence, recognizer: e.recognizer, group: groupBase + group };
      if (options.includeOriginal) region.original = pt.text.slice(s.start, s.end);
      regions.push(region);
    });
  });
  return regions;
}
