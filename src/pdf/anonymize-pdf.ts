/**
 * PDF in, PDF out: every page is rendered at a chosen dpi, anonymized like an image (detection by
 * default, from the page's text layer where it has one and OCR elsewhere, one Replacer for the whole
 * document so a value gets the same fake on every page; the output is verified by OCR as always), and
 * the result is written as a PDF of page images. The input's text layer, fonts, annotations,
 * attachments and metadata do not survive: only the anonymized pixels do.
 */
import sharp from 'sharp';
import { DocAnonError, ErrorCode } from '../core/errors';
import { Replacer } from '../detect/fakes/replacer';
import { parseDetectionPolicy, type DetectionPolicyInput } from '../detect/policy';
import type { AnonymizeRequest, AnonymizeResult, Anonymizer } from '../inference/anonymizer';
import type { EngineProgress } from '../inference/engines/types';
import type { Region } from '../inference/regions';
import { checkDocumentFits, pageRegions as documentPageRegions, sha256Hex, type RegionsDocument } from '../inference/regions-document';
import { rasterizePdf, type RasterizeOptions } from './rasterize';
import { textLayerPage } from './text-layer';
import { toSuppliedOcr } from '../detect/ocr/supplied';
import { writeImagePdfAsync, type PdfImagePage } from './write';

/** Options of {@link anonymizePdf}. */
export interface AnonymizePdfOptions extends Omit<RasterizeOptions, 'signal'> {
  /** Regions per page (index 0 = page 1); pages without an entry are detected automatically. */
  pageRegions?: Region[][];
  /**
   * A regions document for this PDF (instead of `pageRegions`): checked against it (sha256 when it
   * names one, page count and sizes), rendered at its `source.dpi` unless `dpi` says otherwise; a
   * page without regions in it is a page with nothing to replace.
   */
  regionsDocument?: RegionsDocument;
  policy?: DetectionPolicyInput;
  includeOriginal?: boolean;
  verify?: boolean;
  /** Pages given an empty regions list have nothing to replace (see {@link AnonymizeRequest.allowEmpty}). */
  allowEmpty?: boolean;
  signal?: AbortSignal;
  /** See {@link AnonymizeRequest.onUnfinishedWork}. */
  onUnfinishedWork?: (work: Promise<unknown>) => void;
  onProgress?: (progress: EngineProgress & { page: number; pages: number }) => void;
}

/** What was done to one page (the image itself is inside the PDF). */
export type PdfPageResult = Omit<AnonymizeResult, 'image' | 'format'> & { page: number };

/** The anonymized PDF and one result per page. */
export interface AnonymizePdfResult {
  pdf: Buffer;
  pages: PdfPageResult[];
  dpi: number;
  timeMs: number;
}

/**
 * Anonymizes a PDF. Errors as {@link rasterizePdf} and {@link Anonymizer.anonymize}; a failure on
 * any page fails the whole document (no partly anonymized PDF is ever returned).
 */
export async function anonymizePdf(anonymizer: Anonymizer, bytes: Uint8Array, options: AnonymizePdfOptions = {}): Promise<AnonymizePdfResult> {
  const t0 = performance.now();
  const doc = options.regionsDocument;
  if (doc && options.pageRegions) throw new DocAnonError(ErrorCode.INPUT, 'give a regions document or pageRegions, not both');
  if (doc) checkDocumentFits(doc, { type: 'pdf', sha256: sha256Hex(bytes) });
  const rendered = await rasterizePdf(bytes, {
    ...options,
    dpi: options.dpi ?? doc?.source?.dpi,
    // Pages are anonymized at the Anonymizer's own pixel limit too; the lower one wins.
    maxPixelsPerPage: Math.min(options.maxPixelsPerPage ?? 40_000_000, anonymizer.options.limits.maxPixels),
    signal: options.signal,
  });
  if (doc) checkDocumentFits(doc, { type: 'pdf', pages: rendered });
  const pageRegions = doc ? doc.pages.map(documentPageRegions) : options.pageRegions;
  if (options.pageRegions && options.pageRegions.length > rendered.length) {
    throw new DocAnonError(ErrorCode.INPUT, `regions were given for ${options.pageRegions.length} pages but the PDF has ${rendered.length}`);
  }
  const policyInput = options.policy ?? anonymizer.options.detection.policy ?? {};
  const policy = parseDetectionPolicy(policyInput);
  const keepPrefix = Object.fromEntries(policy.customRules.filter((r) => r.keepPrefix > 0).map((r) => [r.entity, r.keepPrefix]));
  const replacer = new Replacer({ secret: anonymizer.options.detection.secret, phoneRegions: policy.phoneRegions, keepPrefix, fakes: policy.fakes });
  const out: PdfImagePage[] = [];
  const pages: PdfPageResult[] = [];
  for (const r of rendered) {
    // Lossless PNG between the renderer and the Anonymizer: the pixels it sees are the rendered ones.
    const png = await sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const regions = pageRegions?.[r.page - 1];
    // A born-digital page's exact text replaces OCR where it covers the page.
    const layer = regions ? undefined : textLayerPage(r);
    const text = layer && toSuppliedOcr(layer);
    const res = await anonymizer.anonymize(png, {
      regions,
      textLayer: text,
      policy,
      includeOriginal: options.includeOriginal,
      verify: options.verify,
      allowEmpty: options.allowEmpty || doc !== undefined,
      replacer: regions ? undefined : replacer,
      signal: options.signal,
      onUnfinishedWork: options.onUnfinishedWork,
      onProgress: options.onProgress && ((p) => options.onProgress!({ ...p, page: r.page, pages: rendered.length })),
    });
    const pixels = await sharp(res.image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    out.push({ data: pixels.data, width: pixels.info.width, height: pixels.info.height, channels: 3, dpi: r.dpi });
    const { image: _image, format: _format, ...rest } = res;
    pages.push({ ...rest, page: r.page });
  }
  return { pdf: await writeImagePdfAsync(out), pages, dpi: rendered[0].dpi, timeMs: performance.now() - t0 };
}
