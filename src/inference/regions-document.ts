/**
 * The regions document: one JSON shape for what detection found and what a person decided, used
 * everywhere. `doc-anon detect --json` and `POST /v1/detect` write it; `doc-anon anonymize
 * --regions`, `POST /v1/anonymize` (its `regions` part) and the review page read it; a person can
 * edit it in between (drop or add a region, change a replacement, set `keep`).
 *
 * ```json
 * { "kind": "doc-anon/regions", "version": 1,
 *   "source": { "type": "image", "format": "png", "sha256": "…" },
 *   "pages": [ { "page": 1, "width": 900, "height": 700, "orientation": 0,
 *     "regions": [ { "box": [120, 300, 410, 328], "entity": "iban", "replacement": "GB29 NWBK …",
 *                    "confidence": 0.93, "recognizer": "iban", "group": 3, "keep": false } ] } ] }
 * ```
 *
 * The schema is versioned (`version`; a later version gets its own schema, this one keeps reading
 * version 1) and exported as JSON Schema for other tools (`schemas/regions-document.v1.schema.json`).
 * Original text is in it only when asked for (it is the sensitive part).
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { DetectedRegion } from '../detect/detect';
import { RegionSchema, RegionsSchema, type Region } from './regions';

/** The `kind` of a regions document. */
export const REGIONS_DOCUMENT_KIND = 'doc-anon/regions';
/** The version this library writes (and reads). */
export const REGIONS_DOCUMENT_VERSION = 1;

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

/** One region of a page: where, what, the proposed replacement, and whether to keep it instead. */
export const DocumentRegionSchema = z.strictObject({
  /** `[x0, y0, x1, y1]` in the page's pixels (x1, y1 exclusive). */
  box: z.tuple([finite, finite, finite, finite]).refine((b) => b[0] < b[2] && b[1] < b[3], 'the box is [x0, y0, x1, y1] with x0 < x1 and y0 < y1'),
  /** Entity type (email, iban, person, …; a custom rule's name; absent for a box a person drew without one). */
  entity: RegionSchema.shape.entity,
  /** The text the box holds now: only when asked for (it is what must not leak). */
  original: RegionSchema.shape.original,
  /** The text drawn instead ('' erases the box). */
  replacement: z.string().max(1000),
  /** Detection's confidence in [0, 1]. */
  confidence: RegionSchema.shape.confidence,
  /** The recognizer that found it ("manual" for a box a person added). */
  recognizer: RegionSchema.shape.recognizer,
  /** Regions cut from one value spanning lines share a group. */
  group: RegionSchema.shape.group,
  /** Leave the value as it is (default false): it is then a kept value for the verification too. */
  keep: z.boolean().default(false),
});
/** One region of a regions document. */
export type DocumentRegion = z.output<typeof DocumentRegionSchema>;

/** One page of a regions document. */
export const DocumentPageSchema = z.strictObject({
  /** 1-based page number. */
  page: z.number().int().min(1),
  /** Size of the page in pixels (of the image; of the PDF page rendered at `source.dpi`). */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** How the page's content was turned (clockwise) when it was read; boxes are in the page's own pixels whatever it is. */
  orientation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).default(0),
  regions: z.array(DocumentRegionSchema).max(100_000),
});
/** One page of a regions document. */
export type DocumentPage = z.output<typeof DocumentPageSchema>;

/** A regions document, version 1. */
export const RegionsDocumentSchema = z
  .strictObject({
    /** Editors may point at the JSON Schema file. */
    $schema: z.string().max(2000).optional(),
    kind: z.literal(REGIONS_DOCUMENT_KIND),
    version: z.literal(REGIONS_DOCUMENT_VERSION),
    /** What the regions were found on. */
    source: z
      .strictObject({
        type: z.enum(['image', 'pdf']),
        /** Image format (png, jpeg, tiff, webp) or pdf. */
        format: z.string().max(20).optional(),
        /** sha256 of the file: a document for another file is refused (drop it to apply the regions anyway). */
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits').optional(),
        /** PDF: the resolution the pages were rendered at (the boxes are in those pixels). */
        dpi: z.number().int().min(36).max(600).optional(),
      })
      .optional(),
    pages: z.array(DocumentPageSchema).min(1).max(1000),
  })
  .superRefine((d, ctx) => {
    d.pages.forEach((p, i) => {
      if (p.page !== i + 1) ctx.addIssue({ code: 'custom', path: ['pages', i, 'page'], message: `pages are numbered 1, 2, … in order: expected ${i + 1}` });
    });
  });
/** A regions document as written (defaults optional). */
export type RegionsDocumentInput = z.input<typeof RegionsDocumentSchema>;
/** A regions document with defaults applied. */
export type RegionsDocument = z.output<typeof RegionsDocumentSchema>;

/** Formats zod issues as `path: message` lines (paths from the document's root). */
function issues(error: z.ZodError, root: string): string {
  return error.issues
    .map((i) => {
      const p = [root, ...i.path.map(String)].join('.');
      if (i.code === 'unrecognized_keys') return `${p}: unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}`;
      return `${p}: ${i.message}`;
    })
    .join('\n');
}

/** Validates a regions document (ERR_INPUT naming every problem by its path). */
export function parseRegionsDocument(value: unknown, limits: { maxRegions?: number } = {}): RegionsDocument {
  // Counts before the schema walks a huge array.
  const pages = (value as { pages?: unknown } | null)?.pages;
  if (limits.maxRegions !== undefined && Array.isArray(pages)) {
    pages.forEach((p, i) => {
      const n = (p as { regions?: unknown } | null)?.regions;
      if (Array.isArray(n) && n.length > limits.maxRegions!) {
        throw new DocAnonError(ErrorCode.INPUT, `page ${i + 1} of the regions document has ${n.length} regions, over the limit of ${limits.maxRegions}`);
      }
    });
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  const version = (value as { version?: unknown } | null)?.version;
  if (kind === REGIONS_DOCUMENT_KIND && typeof version === 'number' && version !== REGIONS_DOCUMENT_VERSION) {
    throw new DocAnonError(ErrorCode.INPUT, `regions document version ${version} is not one this version of doc-anon-torch reads (it reads version ${REGIONS_DOCUMENT_VERSION})`);
  }
  const r = RegionsDocumentSchema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid regions document:\n${issues(r.error, 'document')}`);
  return r.data;
}

/**
 * What a `--regions` file or a request's `regions` part holds: a regions document, or (deprecated)
 * the former bare array of `{ box, replacement }` for one image, which still works as before.
 */
export type RegionsInput = { document: RegionsDocument; legacy?: undefined } | { document?: undefined; legacy: Region[] };

/** Reads a regions document or a legacy regions array (ERR_INPUT for anything else). */
export function parseRegionsInput(value: unknown, limits: { maxRegions?: number } = {}): RegionsInput {
  if (Array.isArray(value)) {
    if (limits.maxRegions !== undefined && value.length > limits.maxRegions) {
      throw new DocAnonError(ErrorCode.INPUT, `${value.length} regions given, over the limit of ${limits.maxRegions}`);
    }
    const r = RegionsSchema.safeParse(value);
    if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid regions:\n${issues(r.error, 'regions')}`);
    return { legacy: r.data };
  }
  if (value === null || typeof value !== 'object') {
    throw new DocAnonError(ErrorCode.INPUT, 'regions must be a regions document ({ "kind": "doc-anon/regions", "version": 1, "pages": [...] }, as `detect --json` writes it)');
  }
  return { document: parseRegionsDocument(value, limits) };
}

/** sha256 of bytes, lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A page as detection found it (see {@link toRegionsDocument}). */
export interface DetectedPage {
  width: number;
  height: number;
  orientation: 0 | 90 | 180 | 270;
  regions: readonly DetectedRegion[];
}

/** The regions document of a detection (originals only where the regions carry them). */
export function toRegionsDocument(source: NonNullable<RegionsDocument['source']>, pages: readonly DetectedPage[]): RegionsDocument {
  return {
    kind: REGIONS_DOCUMENT_KIND,
    version: REGIONS_DOCUMENT_VERSION,
    source,
    pages: pages.map((p, i) => ({
      page: i + 1,
      width: p.width,
      height: p.height,
      orientation: p.orientation,
      regions: p.regions.map((r) => ({
        box: [r.box[0], r.box[1], r.box[2], r.box[3]] as [number, number, number, number],
        entity: r.entity,
        ...(r.original !== undefined ? { original: r.original } : {}),
        replacement: r.replacement,
        confidence: r.confidence,
        recognizer: r.recognizer,
        group: r.group,
        keep: false,
      })),
    })),
  };
}

/**
 * Checks a document against the file it is applied to: the same kind of file, the same sha256
 * when the document names one, and per page the same size. ERR_INPUT saying what differs.
 */
export function checkDocumentFits(doc: RegionsDocument, file: { type: 'image' | 'pdf'; sha256?: string; pages?: Array<{ width: number; height: number }> }): void {
  const s = doc.source;
  if (s && s.type !== file.type) throw new DocAnonError(ErrorCode.INPUT, `the regions document is for a${s.type === 'image' ? 'n image' : ' PDF'}, the input is a${file.type === 'image' ? 'n image' : ' PDF'}`);
  if (s?.sha256 && file.sha256 && s.sha256 !== file.sha256) {
    throw new DocAnonError(ErrorCode.INPUT, 'the regions document was made for another file (its source.sha256 differs from the input\'s); remove source.sha256 to apply its regions anyway');
  }
  if (file.type === 'image' && doc.pages.length !== 1) throw new DocAnonError(ErrorCode.INPUT, `the regions document has ${doc.pages.length} pages; an image has one`);
  if (file.pages) {
    if (doc.pages.length !== file.pages.length) throw new DocAnonError(ErrorCode.INPUT, `the regions document has ${doc.pages.length} page(s), the input ${file.pages.length}`);
    doc.pages.forEach((p, i) => {
      const f = file.pages![i];
      if (p.width !== f.width || p.height !== f.height) {
        throw new DocAnonError(
          ErrorCode.INPUT,
          `page ${p.page} of the regions document is ${p.width}x${p.height} px, the input's is ${f.width}x${f.height}` + (file.type === 'pdf' ? ' (render the PDF at the document\'s source.dpi)' : ''),
        );
      }
    });
  }
}

/** A document page's regions as the Anonymizer takes them (keep flags and report fields included). */
export function pageRegions(page: DocumentPage): Region[] {
  return page.regions.map((r) => {
    const out: Region = { box: [...r.box], replacement: r.replacement };
    if (r.original !== undefined) out.original = r.original;
    if (r.keep) out.keep = true;
    if (r.entity !== undefined) out.entity = r.entity;
    if (r.confidence !== undefined) out.confidence = r.confidence;
    if (r.recognizer !== undefined) out.recognizer = r.recognizer;
    if (r.group !== undefined) out.group = r.group;
    return out;
  });
}

/**
 * The regions of a one-page document for an image, after checking that the document fits it
 * (kind, sha256 when named, size in the image's upright pixels, as the Anonymizer decodes it).
 */
export async function regionsForImage(doc: RegionsDocument, bytes: Uint8Array): Promise<Region[]> {
  let width = 0;
  let height = 0;
  try {
    const m = await sharp(bytes, { limitInputPixels: false }).metadata();
    // EXIF orientations 5-8 turn the image a quarter: the decoded page is the other way round.
    const turned = (m.orientation ?? 1) >= 5;
    width = (turned ? m.height : m.width) ?? 0;
    height = (turned ? m.width : m.height) ?? 0;
  } catch {
    // Not decodable: the Anonymizer's own decode says so with ERR_IMAGE.
  }
  checkDocumentFits(doc, { type: 'image', sha256: sha256Hex(bytes), pages: width > 0 ? [{ width, height }] : undefined });
  return pageRegions(doc.pages[0]);
}

/** The JSON Schema of the regions document (draft 2020-12), for other tools. */
export function regionsDocumentJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(RegionsDocumentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    $id: 'urn:doc-anon-torch:regions-document:v1',
    title: 'doc-anon regions document, version 1',
  };
}
