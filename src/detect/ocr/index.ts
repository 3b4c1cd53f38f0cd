/** OCR engines. */
export type { OcrEngine, OcrImage, RawImage, RecognizeOptions } from './engine';
export { TesseractOcr, defaultLangPath } from './tesseract';
export type { TesseractOcrOptions } from './tesseract';
export { SuppliedOcr, SuppliedOcrSchema, parseSuppliedOcr } from './supplied';
export type { SuppliedOcrInput } from './supplied';
export { inkStats, toGrey } from './image';
export type { GreyImage, InkStats } from './image';
