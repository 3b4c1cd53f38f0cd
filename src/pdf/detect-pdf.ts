/**
 * Detection on a PDF: every page rendered as {@link anonymizePdf} renders it and read as it reads
 * it (the text layer where it covers the page, OCR elsewhere), with one Replacer for the document,
 * so the regions found are those an automatic anonymization would replace, with the same fakes.
 */
import sharp from 'sharp';
import { Replacer } from '../detect/fakes/replacer';
import { toSuppliedOcr } from '../detect/ocr/supplied';
import { parseDetectionPolicy, type DetectionPolicyInput } from '../detect/policy';
import type { Anonymizer, DetectResult } from '../inference/anonymizer';
import { rasterizePdf, type RasterizeOptions } from './rasterize';
import { textLayerPage } from './text-layer';

/** Options of {@link detectPdf}. */
export interface DetectPdfOptions extends Omit<RasterizeOptions, 'signal'> {
  policy?: DetectionPolicyInput;
  includeOriginal?: boolean;
  signal?: AbortSignal;
  /** See {@link AnonymizeRequest.onUnfinishedWork}. */
  onUnfinishedWork?: (work: Promise<unknown>) => void;
}

/** What detection found on each page of a PDF. */
export interface DetectPdfResult {
  pages: Array<DetectResult & { page: number }>;
  /** The resolution the pages were rendered at: the boxes are in those pixels. */
  dpi: number;
  timeMs: number;
}

/** Detects the sensitive values on every page of a PDF (errors as {@link rasterizePdf} and {@link Anonymizer.detect}). */
export async function detectPdf(anonymizer: Anonymizer, bytes: Uint8Array, options: DetectPdfOptions = {}): Promise<DetectPdfResult> {
  const t0 = performance.now();
  const rendered = await rasterizePdf(bytes, {
    ...options,
    maxPixelsPerPage: Math.min(options.maxPixelsPerPage ?? 40_000_000, anonymizer.options.limits.maxPixels),
    signal: options.signal,
  });
  // The same policy and Replacer anonymizePdf makes: the same value gets the same fake on every page.
  const policy = parseDetectionPolicy(options.policy ?? anonymizer.options.detection.policy ?? {});
  const keepPrefix = Object.fromEntries(policy.customRules.filter((r) => r.keepPrefix > 0).map((r) => [r.entity, r.keepPrefix]));
  const replacer = new Replacer({ secret: anonymizer.options.detection.secret, phoneRegions: policy.phoneRegions, keepPrefix });
  const pages: DetectPdfResult['pages'] = [];
  for (const r of rendered) {
    const png = await sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const layer = textLayerPage(r);
    const found = await anonymizer.detect(png, {
      textLayer: layer && toSuppliedOcr(layer),
      policy,
      includeOriginal: options.includeOriginal,
      replacer,
      signal: options.signal,
      onUnfinishedWork: options.onUnfinishedWork,
    });
    pages.push({ ...found, page: r.page });
  }
  return { pages, dpi: rendered[0].dpi, timeMs: performance.now() - t0 };
}
