/**
 * The report of an anonymize call as JSON (what `--report` writes and what the HTTP API returns):
 * per region the box used, the replacement and, for detected regions, the entity type, the
 * confidence and the recognizer. Original text appears only when the caller opted in.
 */
import type { AnonymizeResult } from './anonymizer';
import type { ReadingReport, VerificationReport } from './detection';
import type { Region } from './regions';

/** One region of a report. */
export interface ReportRegion {
  index: number;
  /** The box used, integer pixels `[x0, y0, x1, y1]` (x1, y1 exclusive). */
  box: [number, number, number, number];
  replacement: string;
  /** Detected regions only. */
  entity?: string;
  confidence?: number;
  recognizer?: string;
  /** Regions cut from one value that spans lines share a group. */
  group?: number;
  /** Only with `includeOriginal`. */
  original?: string;
  engine: string;
  timeMs: number;
}

/** A report of one page. */
export interface AnonymizeReport {
  /** 'detected' (automatic) or 'supplied' (regions given by the caller). */
  mode: 'detected' | 'supplied';
  format: string;
  width: number;
  height: number;
  /** True only when the whole output page was read back and nothing sensitive was found on it. */
  verified: boolean;
  /** How the input was read (orientation, skew, scale, readability), when it was. */
  reading?: ReadingReport;
  /** How the output was checked; `{ status: 'off' }` when verification was turned off. */
  verification: VerificationReport | { status: 'off' };
  /** The caller passed an empty regions list and said the page has nothing to replace. */
  emptyAllowed?: true;
  regions: ReportRegion[];
  timeMs: number;
  stages: Record<string, number>;
}

const ms = (v: number): number => Math.round(v * 10) / 10;

/** Builds the report of a result; `requested` are the caller's regions when they were given. */
export function buildReport(result: Omit<AnonymizeResult, 'image' | 'format'> & { format?: string }, requested?: readonly Region[]): AnonymizeReport {
  const regions = result.reports.map((r, i): ReportRegion => {
    const d = result.detections?.[i];
    const out: ReportRegion = {
      index: r.index,
      box: [r.box.x0, r.box.y0, r.box.x1, r.box.y1],
      replacement: d ? d.replacement : (requested?.[i]?.replacement ?? ''),
      engine: r.engine,
      timeMs: ms(r.timeMs),
    };
    if (d) {
      out.entity = d.entity;
      out.confidence = d.confidence;
      out.recognizer = d.recognizer;
      out.group = d.group;
      if (d.original !== undefined) out.original = d.original;
    }
    return out;
  });
  const v = result.verification;
  return {
    mode: result.detections ? 'detected' : 'supplied',
    format: result.format ?? '',
    width: result.width,
    height: result.height,
    verified: result.verified,
    ...(result.reading ? { reading: result.reading } : {}),
    verification: v.status === 'off' ? { status: 'off' } : { ...v, timeMs: ms(v.timeMs) },
    ...(result.emptyAllowed ? { emptyAllowed: true as const } : {}),
    regions,
    timeMs: ms(result.timeMs),
    stages: Object.fromEntries(Object.entries(result.stages).filter(([, t]) => t !== undefined).map(([k, t]) => [k, ms(t as number)])),
  };
}
