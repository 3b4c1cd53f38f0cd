/**
 * The dataset annotation format: one JSON file per page image, holding its OCR lines as DiffUTE's
 * data does (`{"document": [{"text", "box", "score"}, ...]}`), plus optional extras this package
 * writes and reads:
 *
 * ```json
 * {
 *   "version": 1,
 *   "image": "statement-000001.png",          // file name of the page, relative to the JSON file
 *   "width": 1654, "height": 2339,            // page size in pixels
 *   "document": [                             // OCR lines (DiffUTE reads only this key)
 *     { "text": "IBAN DE89 3704 0044 0532 0130 00",
 *       "box": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],   // 4 points, clockwise from top-left
 *       "score": 1.0,                                         // OCR confidence 0..1 (1 = ground truth)
 *       "words": [ { "text": "IBAN", "box": [...4 points], "score": 1.0 }, ... ] }
 *   ],
 *   "entities": [                             // sensitive spans (for detection tests and training)
 *     { "type": "IBAN", "text": "DE89 3704 0044 0532 0130 00", "line": 0, "start": 5, "end": 32,
 *       "box": [...4 points] }
 *   ],
 *   "meta": { "generator": "doc-anon-torch/synthetic", "kind": "statement", "seed": 1 }
 * }
 * ```
 *
 * Coordinates are pixels of the image as decoded (EXIF orientation applied), x right, y down.
 * Points are clockwise from the text's top-left (for rotated text the box is rotated). A line's
 * `text` is exactly the characters on the line, words separated by single spaces; an entity's
 * `start`/`end` are UTF-16 offsets into its line's `text` (`end` exclusive), and
 * `text === document[line].text.slice(start, end)`. Unknown keys are rejected (strict schema).
 */
import { z } from 'zod';
import { formatIssues } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
/** A point `[x, y]` in pixels. */
export const PointSchema = z.tuple([finite, finite]);
/** A 4-point box, clockwise from the top-left. */
export const QuadBoxSchema = z.tuple([PointSchema, PointSchema, PointSchema, PointSchema]);
export type QuadBox = z.infer<typeof QuadBoxSchema>;

/** One OCR word. */
export const OcrWordSchema = z.strictObject({
  text: z.string().min(1),
  box: QuadBoxSchema,
  score: z.number().min(0).max(1),
});
export type OcrWord = z.infer<typeof OcrWordSchema>;

/** One OCR line, DiffUTE's unit of training. */
export const OcrLineSchema = z.strictObject({
  text: z.string(),
  box: QuadBoxSchema,
  score: z.number().min(0).max(1),
  words: z.array(OcrWordSchema).optional(),
});
export type OcrLine = z.infer<typeof OcrLineSchema>;

/** Kinds of sensitive spans. */
export const EntityTypeSchema = z.enum([
  'PERSON',
  'ORGANIZATION',
  'ADDRESS',
  'DATE',
  'AMOUNT',
  'IBAN',
  'ACCOUNT_NUMBER',
  'ID_NUMBER',
  'PHONE',
  'EMAIL',
]);
export type EntityType = z.infer<typeof EntityTypeSchema>;

/** A sensitive span inside one line. */
export const EntitySchema = z.strictObject({
  type: EntityTypeSchema,
  text: z.string().min(1),
  line: z.number().int().min(0),
  start: z.number().int().min(0),
  end: z.number().int().min(1),
  box: QuadBoxSchema,
});
export type Entity = z.infer<typeof EntitySchema>;

/** One page's annotation file. */
export const DocumentAnnotationSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    image: z.string().min(1).optional(),
    width: z.number().int().positive().optional(),
    height: z.number().int().positive().optional(),
    document: z.array(OcrLineSchema),
    /** Absent means none: parsed annotations always have an array. */
    entities: z.array(EntitySchema).default([]),
    meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .superRefine((doc, ctx) => {
    doc.entities?.forEach((e, i) => {
      const line = doc.document[e.line];
      if (!line) {
        ctx.addIssue({ code: 'custom', path: ['entities', i, 'line'], message: `no line ${e.line} (document has ${doc.document.length})` });
      } else if (e.end <= e.start || line.text.slice(e.start, e.end) !== e.text) {
        ctx.addIssue({ code: 'custom', path: ['entities', i], message: `text does not equal document[${e.line}].text.slice(${e.start}, ${e.end})` });
      }
    });
  });
/** A parsed annotation (`entities` always present; `[]` when the file has none). */
export type DocumentAnnotation = z.output<typeof DocumentAnnotationSchema>;
/** An annotation as written in a file (`entities` optional). */
export type DocumentAnnotationInput = z.input<typeof DocumentAnnotationSchema>;

/**
 * Validates a parsed annotation JSON; ERR_INPUT listing every problem with its key path
 * (`source` names the file in the message).
 */
export function parseDocumentAnnotation(value: unknown, source = 'annotation'): DocumentAnnotation {
  const r = DocumentAnnotationSchema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid dataset annotation ${source}:\n${formatIssues(r.error)}`);
  return r.data;
}

/** The 4-point box of an axis-aligned rectangle. */
export function quadFromRect(x0: number, y0: number, x1: number, y1: number): QuadBox {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}
