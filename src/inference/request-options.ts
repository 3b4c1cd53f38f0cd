/**
 * The JSON form of an anonymize request's options: what the HTTP API takes in its `options` part
 * and what a caller can keep in a file. Strict (unknown keys are errors), built from the same
 * schemas the library validates with: regions, the detection policy, supplied OCR results.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { formatIssues } from '../core/config';
import { DetectionPolicySchema } from '../detect/policy';
import { RegionsSchema } from './regions';

/** Options of one anonymize request (JSON). */
export const AnonymizeRequestOptionsSchema = z.strictObject({
  /** Boxes and replacements; omit them to detect sensitive text automatically. Images only (not PDFs). */
  regions: RegionsSchema.optional(),
  /** Regions per PDF page (index 0 = page 1); pages without an entry are detected automatically. */
  pageRegions: z.array(RegionsSchema).optional(),
  /** Output image format (default: the input's). Ignored for PDFs. */
  format: z.enum(['png', 'jpeg', 'tiff', 'webp']).optional(),
  /** Detection policy for this request (default: the server's / Anonymizer's): what is replaced and what verification counts as sensitive. */
  policy: DetectionPolicySchema.optional(),
  /** Return each detection's original text in the report (default false). */
  includeOriginal: z.boolean().default(false),
  /** Read the whole output page back and refuse it if anything sensitive is readable (default: the server's, on). */
  verify: z.boolean().optional(),
  /** With `regions` (or `pageRegions`): an empty list is right, the page has nothing to replace. */
  allowEmpty: z.boolean().default(false),
  /** OCR results the caller already has (SuppliedOcr JSON shape, validated when used). */
  ocr: z.record(z.string(), z.unknown()).optional(),
  /** PDF input: rendering resolution. */
  dpi: z.number().int().min(36).max(600).optional(),
});
/** Request options as written. */
export type AnonymizeRequestOptionsInput = z.input<typeof AnonymizeRequestOptionsSchema>;
/** Request options with defaults. */
export type AnonymizeRequestOptions = z.output<typeof AnonymizeRequestOptionsSchema>;

/**
 * Validates request options. ERR_INPUT naming every problem (these come from a request, not from
 * the operator's config). Counts are checked before the schema walks a huge array. A policy with
 * its own regular expressions (customRules, keep.patterns) is refused unless `requestPatterns`.
 */
export function parseRequestOptions(value: unknown, limits: { maxRegions: number; requestPatterns?: boolean }): AnonymizeRequestOptions {
  const regions = (value as { regions?: unknown } | null)?.regions;
  if (Array.isArray(regions) && regions.length > limits.maxRegions) {
    throw new DocAnonError(ErrorCode.INPUT, `${regions.length} regions given, over the limit of ${limits.maxRegions} per request`);
  }
  const pageRegions = (value as { pageRegions?: unknown } | null)?.pageRegions;
  if (Array.isArray(pageRegions) && pageRegions.some((p) => Array.isArray(p) && p.length > limits.maxRegions)) {
    throw new DocAnonError(ErrorCode.INPUT, `a page has more than ${limits.maxRegions} regions`);
  }
  const r = AnonymizeRequestOptionsSchema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid request options:\n${formatIssues(r.error)}`);
  if (r.data.regions && r.data.ocr) {
    throw new DocAnonError(ErrorCode.INPUT, '`ocr` is for automatic detection: give it without `regions`');
  }
  checkPatterns(r.data.policy, limits);
  return r.data;
}

/**
 * Regular expressions run synchronously on the serving thread: one catastrophic pattern (e.g.
 * "(a+)+$") from a client would stall every request. The operator's policy may have them.
 */
function checkPatterns(p: z.output<typeof DetectionPolicySchema> | undefined, limits: { requestPatterns?: boolean }): void {
  if (p && !limits.requestPatterns && (p.customRules.length > 0 || p.keep.patterns.length > 0)) {
    throw new DocAnonError(
      ErrorCode.INPUT,
      'a request policy may not bring its own regular expressions (customRules, keep.patterns): a slow pattern would stall every request. Put them in the server\'s anonymizer policy, or let trusted clients send them with limits.requestPatterns: true',
    );
  }
}

/** Options of one detect request (JSON): what `POST /v1/detect` takes in its `options` part. */
export const DetectRequestOptionsSchema = z.strictObject({
  /** Detection policy for this request (default: the server's). */
  policy: DetectionPolicySchema.optional(),
  /** Put each region's original text into the document (default false: it is the sensitive part). */
  includeOriginal: z.boolean().default(false),
  /** OCR results the caller already has for an image (SuppliedOcr JSON shape). */
  ocr: z.record(z.string(), z.unknown()).optional(),
  /** PDF input: rendering resolution (the document records it; anonymize renders at it). */
  dpi: z.number().int().min(36).max(600).optional(),
});
/** Detect request options with defaults. */
export type DetectRequestOptions = z.output<typeof DetectRequestOptionsSchema>;

/** Validates detect request options (ERR_INPUT; a policy's own regular expressions only with `requestPatterns`). */
export function parseDetectRequestOptions(value: unknown, limits: { requestPatterns?: boolean }): DetectRequestOptions {
  const r = DetectRequestOptionsSchema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid request options:\n${formatIssues(r.error)}`);
  checkPatterns(r.data.policy, limits);
  return r.data;
}
