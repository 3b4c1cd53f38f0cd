/**
 * Shared types of the detection layer: OCR results (pages, lines, words with pixel boxes) and the
 * regions that detection hands to the Anonymizer.
 */

/** An axis-aligned pixel box `[x0, y0, x1, y1]` (x1/y1 exclusive), origin at the top-left corner. */
export type Box = [number, number, number, number];

/** One word read by OCR. `confidence` is in [0, 1]. */
export interface OcrWord {
  text: string;
  box: Box;
  confidence: number;
}

/** One text line: its words in reading order, the union box, and a confidence in [0, 1]. */
export interface OcrLine {
  words: OcrWord[];
  box: Box;
  confidence: number;
}

/** The OCR result of one page (one image). */
export interface OcrPage {
  /** Image width and height in pixels (the coordinate space of every box). */
  width: number;
  height: number;
  /** Lines in reading order. */
  lines: OcrLine[];
  /** Which engine produced the result (e.g. "tesseract", "supplied"). */
  engine: string;
  /** Fraction of the page's pixels that are ink (dark against the background), when measured. */
  inkRatio?: number;
  /** Fraction of the ink pixels that lie inside some word box, when measured. */
  inkCoverage?: number;
}

/** Built-in entity types. Custom rules may add their own names (lower-case identifiers). */
export const BUILTIN_ENTITIES = [
  'email',
  'phone',
  'iban',
  'bic',
  'card',
  'ssn',
  'date',
  'money',
  'account_number',
  'routing_number',
  'sort_code',
  'address',
  'person',
  'organization',
  'id_number',
  'national_id',
  'vat_id',
] as const;

/** A built-in entity type. */
export type BuiltinEntity = (typeof BUILTIN_ENTITIES)[number];

/** An entity type: a built-in one or the name a custom rule gives. */
export type EntityType = BuiltinEntity | (string & {});
