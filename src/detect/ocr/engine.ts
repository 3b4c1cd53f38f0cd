/** The OCR engine contract: an image in, words and lines with pixel boxes and confidences out. */
import type { OcrPage } from '../types';
import type { OrientationGuess } from './osd';

/** Decoded pixels (row-major, 8 bits per channel). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 2 | 3 | 4;
}

/** An image for OCR: encoded bytes (PNG, JPEG, TIFF, WebP, ...) or decoded pixels. */
export type OcrImage = Uint8Array | RawImage;

/** Per-call options. */
export interface RecognizeOptions {
  /** Abort the recognition (fails with ERR_ABORTED). */
  signal?: AbortSignal;
  /** Time limit for this call in milliseconds (fails with ERR_OCR_TIMEOUT). */
  timeoutMs?: number;
}

/**
 * An OCR engine. Implementations fail closed: a failure, a timeout, or no text on a page that has
 * ink is a DocAnonError (ERR_OCR, ERR_OCR_TIMEOUT, ERR_OCR_NO_TEXT), never an empty result.
 */
export interface OcrEngine {
  /** Reads one page. Boxes are in the image's pixel coordinates (no EXIF rotation applied). */
  recognize(image: OcrImage, options?: RecognizeOptions): Promise<OcrPage>;
  /**
   * Optional: how the page's text is turned (0, 90, 180, 270 clockwise) and how sure that is;
   * undefined when the engine cannot tell. Without it a page is read upright first and in the other
   * orientations when that reading is poor.
   */
  detectOrientation?(image: OcrImage, options?: RecognizeOptions): Promise<OrientationGuess | undefined>;
  /** Frees workers; the engine may not be used afterwards. */
  close(): Promise<void>;
}
