/** PDF input: render pages (pdf.js in a worker), anonymize them, write a PDF of images. */
export { rasterizePdf, isPdf } from './rasterize';
export type { RasterizeOptions, RasterPage } from './rasterize';
export { writeImagePdf, writeImagePdfAsync } from './write';
export type { PdfImagePage } from './write';
export { anonymizePdf } from './anonymize-pdf';
export type { AnonymizePdfOptions, AnonymizePdfResult, PdfPageResult } from './anonymize-pdf';
export { detectPdf } from './detect-pdf';
export type { DetectPdfOptions, DetectPdfResult } from './detect-pdf';
