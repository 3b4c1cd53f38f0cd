/**
 * The report of an anonymize call as JSON (what `--report` writes and what the HTTP API returns):
 * per region the box used, the replacement and, for detected regions, the entity type, the
 * confidence and the recognizer. Original text appears only when the caller opted in.
 */
import type { AnonymizeResult } from './anonymizer';
import type { ReadingReport, VerificationReport } from './detection';
import { boxBounds, type BoxArray, type Quad, type Region } from './regions';
import type { RegionReadBack } from './read-back';
import type { StyleReport } from './style/report';

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
  /** The style the replacement was drawn in (face, size, ink, fit score; see `style/report.ts`), when the engine matched one. */
  style?: StyleReport;
  /** A generating engine's replacement read back: its accuracy, the draws it took and the engine kept (see read-back.ts). */
  readBack?: RegionReadBack;
}

/** A region left as it is (`keep: true`). */
export interface KeptRegion {
  /** Position in the caller's regions. */
  index: number;
  box: [number, number, number, number];
  entity?: string;
  recognizer?: string;
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
  /** Supplied regions the caller kept (left as they are; their text counted as kept by the verification). */
  kept?: KeptRegion[];
  timeMs: number;
  stages: Record<string, number>;
}

const ms = (v: number): number => Math.round(v * 10) / 10;

/** Builds the report of a result; `requested` are the caller's regions when they were given. */
export function buildReport(result: Omit<AnonymizeResult, 'image' | 'format'> & { format?: string }, requested?: readonly Region[]): AnonymizeReport {
  // The regions that were replaced, in the order of the engine's reports (kept ones are not among them).
  const given: ReadonlyArray<Omit<Region, 'original'>> | undefined = result.decisions
    ? result.decisions.filter((d) => d.decision === 'replaced').map((d) => d.region)
    : requested;
  const regions = result.reports.map((r, i): ReportRegion => {
    const d = result.detections?.[i];
    const q = given?.[i];
    const out: ReportRegion = {
      index: r.index,
      box: [r.box.x0, r.box.y0, r.box.x1, r.box.y1],
      replacement: d ? d.replacement : (q?.replacement ?? ''),
      engine: r.engine,
      timeMs: ms(r.timeMs),
    };
    const style = (r.details as { style?: StyleReport }).style;
    if (style) out.style = style;
    const readBack = (r.details as { readBack?: RegionReadBack }).readBack;
    if (readBack) out.readBack = { ...readBack, accuracy: readBack.accuracy === null ? null : Math.round(readBack.accuracy * 1000) / 1000 };
    if (d) {
      out.entity = d.entity;
      out.confidence = d.confidence;
      out.recognizer = d.recognizer;
      out.group = d.group;
      if (d.original !== undefined) out.original = d.original;
    } else if (q) {
      // Supplied regions keep what the caller (a regions document) said about them.
      if (q.entity !== undefined) out.entity = q.entity;
      if (q.confidence !== undefined) out.confidence = q.confidence;
      if (q.recognizer !== undefined) out.recognizer = q.recognizer;
      if (q.group !== undefined) out.group = q.group;
    }
    return out;
  });
  const kept = (result.decisions ?? [])
    .filter((d) => d.decision === 'kept')
    .map((d): KeptRegion => {
      const b = boxBounds(d.region.box as BoxArray | Quad);
      return {
        index: d.index,
        box: [Math.floor(b.x0), Math.floor(b.y0), Math.ceil(b.x1), Math.ceil(b.y1)],
        ...(d.region.entity !== undefined ? { entity: d.region.entity } : {}),
        ...(d.region.recognizer !== undefined ? { recognizer: d.region.recognizer } : {}),
      };
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
    ...(kept.length > 0 ? { kept } : {}),
    timeMs: ms(result.timeMs),
    stages: Object.fromEntries(Object.entries(result.stages).filter(([, t]) => t !== undefined).map(([k, t]) => [k, ms(t as number)])),
  };
}
