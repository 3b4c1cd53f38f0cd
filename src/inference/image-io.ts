/**
 * Image input and output for anonymization: decode a Buffer or a file (PNG, JPEG, TIFF, WebP) to
 * raw 8-bit sRGB pixels, refusing decompression bombs, and encode the result back to the input's
 * format at exactly the decoded size.
 *
 * Choices (documented behaviour):
 * - EXIF orientation is applied on decode: pixels and region coordinates are in the *displayed*
 *   orientation (what a viewer shows and what an OCR engine reports). The output is written
 *   upright without an orientation tag, so it displays the same way and decodes to the same size.
 * - Colour: decoded to sRGB (ICC profiles, CMYK and greyscale converted), 8 bits per channel; 3
 *   channels (RGB), or 4 (RGBA) when the input has an alpha channel. 16-bit inputs are reduced to 8.
 * - Metadata: none is kept by default (these are private documents: EXIF, XMP, IPTC, GPS, ICC
 *   profile, comments are all dropped). Only the resolution (dpi) can be kept, on request
 *   (`keepDensity`), because it carries nothing personal and printing needs it.
 * - Encoding: PNG, TIFF (LZW) and lossless WebP stay lossless, so every pixel outside the edited
 *   areas decodes byte-identical. JPEG and lossy WebP are re-encoded lossily (quality 92 / 90 by
 *   default): their pixels are identical before encoding, not after.
 * - Multi-page TIFFs and animated images are refused (ERR_UNSUPPORTED): silently anonymizing one
 *   page of several would be a partial result.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DocAnonError, ErrorCode } from '../core/errors';
import { readRegularFile } from '../core/read-file';

/** Formats the anonymizer reads and writes. */
export type ImageFormat = 'png' | 'jpeg' | 'tiff' | 'webp';

/** Default pixel limit on decode (100 megapixels: an A4 page at 1200 dpi is 139 MP, at 600 dpi 35 MP). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** A decoded image: raw 8-bit sRGB pixels, interleaved (HWC), plus what is needed to write it back. */
export interface DecodedImage {
  /** width * height * channels bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
  /** The format it was decoded from (and is encoded to by default). */
  format: ImageFormat;
  /** True when the source was losslessly compressed (PNG, TIFF, lossless WebP). */
  lossless: boolean;
  /** The source's resolution in dpi, when it had one. */
  density?: number;
}

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Largest accepted width * height (default {@link DEFAULT_MAX_PIXELS}). */
  maxPixels?: number;
  /**
   * Composite transparency onto this background and return 3 channels (e.g. '#ffffff': a
   * transparent page reads as white paper, not black). Default: keep the alpha channel.
   */
  flatten?: string;
}

/** Options of {@link encodeImage}. */
export interface EncodeOptions {
  /** Output format (default: the decoded image's own). */
  format?: ImageFormat;
  /** JPEG / lossy WebP quality 1..100 (defaults 92 and 90). */
  quality?: number;
  /** PNG zlib level 0..9 (default 3: on scanned, noisy pages 5x faster than 6 for ~6% more bytes). */
  pngCompressionLevel?: number;
  /** Write the source's dpi into the output (default false: no metadata at all). */
  keepDensity?: boolean;
}

const FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'tiff', 'webp'];

function isWebpLossless(buf: Uint8Array): boolean {
  // RIFF....WEBP then the first chunk: VP8L (lossless) or VP8X (extended: look for a VP8L chunk,
  // also inside an animation frame, whose image sub-chunks follow a 16-byte frame header).
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 16) return false;
  const tag = b.toString('latin1', 12, 16);
  if (tag === 'VP8L') return true;
  if (tag !== 'VP8X') return false;
  const end = Math.min(b.length, 8 + b.readUInt32LE(4));
  let off = 30; // the RIFF header (12 bytes) and the VP8X chunk (8 + 10)
  while (off + 8 <= end) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4); // unsigned: `off` only moves forward
    if (id === 'VP8L') return true;
    if (id === 'VP8 ') return false;
    off += id === 'ANMF' ? 8 + 16 : 8 + size + (size & 1);
  }
  return false;
}

/** The most bytes an image file of `maxPixels` pixels can need (16-bit RGBA, uncompressed, plus metadata). */
function maxImageBytes(maxPixels: number): number {
  return Math.min(2 ** 31 - 1, maxPixels * 8 + 64 * 2 ** 20);
}

async function readInput(input: Buffer | Uint8Array | string, maxPixels: number): Promise<Buffer> {
  if (typeof input === 'string') {
    // Only regular files (a FIFO would block forever, /dev/zero never end), and no bigger than an
    // image within the pixel limit can be.
    return readRegularFile(input, { what: 'image', maxBytes: maxImageBytes(maxPixels), tooLargeCode: ErrorCode.IMAGE_TOO_LARGE });
  }
  if (input instanceof Uint8Array) return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new DocAnonError(ErrorCode.ARGUMENT, 'image must be a Buffer, a Uint8Array or a file path');
}

/**
 * Decodes an image (Buffer, Uint8Array or path). Errors: ERR_IO (unreadable file), ERR_IMAGE
 * (not an image, corrupt or truncated, unsupported format), ERR_IMAGE_TOO_LARGE (over the pixel
 * limit: checked from the header before any pixel is decoded), ERR_UNSUPPORTED (multi-page or
 * animated).
 */
export async function decodeImage(input: Buffer | Uint8Array | string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(Number.isInteger(maxPixels) && maxPixels > 0)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `maxPixels must be a positive integer, got ${maxPixels}`);
  }
  const buf = await readInput(input, maxPixels);
  const where = typeof input === 'string' ? ` ${input}` : '';
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (e) {
    throw new DocAnonError(ErrorCode.IMAGE, `cannot decode image${where}: ${(e as Error).message}; use a PNG, JPEG, TIFF or WebP file`, { cause: e });
  }
  const format = meta.format === ('jpg' as string) ? 'jpeg' : (meta.format as string);
  if (!FORMATS.includes(format as ImageFormat)) {
    throw new DocAnonError(ErrorCode.IMAGE, `unsupported image format "${meta.format}"${where}: use PNG, JPEG, TIFF or WebP`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw new DocAnonError(ErrorCode.IMAGE, `image${where} has no valid size in its header`);
  if (width * height > maxPixels) {
    throw new DocAnonError(
      ErrorCode.IMAGE_TOO_LARGE,
      `image${where} is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} ` +
        '(decompression-bomb guard): downscale it, or raise maxPixels if the document is legitimate',
    );
  }
  if ((meta.pages ?? 1) > 1) {
    throw new DocAnonError(ErrorCode.UNSUPPORTED, `image${where} has ${meta.pages} pages or frames: split it into single-page images first`);
  }
  const channels: 3 | 4 = meta.hasAlpha && options.flatten === undefined ? 4 : 3;
  let raw: { data: Buffer; info: OutputInfo };
  try {
    let p = sharp(buf, { limitInputPixels: maxPixels, failOn: 'error' }).autoOrient().toColourspace('srgb');
    if (options.flatten !== undefined && meta.hasAlpha) p = p.flatten({ background: options.flatten });
    p = channels === 4 ? p.ensureAlpha() : p.removeAlpha();
    raw = await p.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) {
      throw new DocAnonError(ErrorCode.IMAGE_TOO_LARGE, `image${where} exceeds the pixel limit of ${maxPixels}: ${msg}`, { cause: e });
    }
    throw new DocAnonError(ErrorCode.IMAGE, `cannot decode image${where}: ${msg}; the file may be truncated or corrupt`, { cause: e });
  }
  if (raw.info.channels !== channels || raw.data.length !== raw.info.width * raw.info.height * channels) {
    throw new DocAnonError(ErrorCode.INTERNAL, `decoder returned ${raw.info.channels} channels for ${channels} expected`);
  }
  return {
    data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
    width: raw.info.width,
    height: raw.info.height,
    channels,
    format: format as ImageFormat,
    lossless: format === 'png' || format === 'tiff' || (format === 'webp' && isWebpLossless(buf)),
    density: meta.density,
  };
}

/**
 * Encodes a decoded image to its own format (or `options.format`) at exactly its size, with no
 * metadata (see the module notes). ERR_ARGUMENT for inconsistent pixel buffers, ERR_IMAGE when the
 * encoder fails.
 */
export async function encodeImage(image: DecodedImage, options: EncodeOptions = {}): Promise<Buffer> {
  const { width, height, channels, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || (channels !== 3 && channels !== 4)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `cannot encode a ${width}x${height}x${channels} image`);
  }
  if (data.length !== width * height * channels) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `pixel buffer has ${data.length} bytes, expected ${width}*${height}*${channels}`);
  }
  const format = options.format ?? image.format;
  const q = options.quality;
  if (q !== undefined && !(Number.isInteger(q) && q >= 1 && q <= 100)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `quality must be an integer 1..100, got ${q}`);
  }
  let p = sharp(data, { raw: { width, height, channels } });
  if (options.keepDensity && image.density) p = p.withDensity(image.density);
  switch (format) {
    case 'png':
      p = p.png({ compressionLevel: options.pngCompressionLevel ?? 3, adaptiveFiltering: false });
      break;
    case 'jpeg':
      p = p.jpeg({ quality: q ?? 92, chromaSubsampling: '4:4:4' });
      break;
    case 'tiff':
      p = p.tiff({ compression: 'lzw', predictor: 'horizontal' });
      break;
    case 'webp':
      p = image.lossless && format === image.format && q === undefined ? p.webp({ lossless: true }) : p.webp({ quality: q ?? 90 });
      break;
    default:
      throw new DocAnonError(ErrorCode.ARGUMENT, `unknown output format "${String(format)}": use png, jpeg, tiff or webp`);
  }
  try {
    return await p.toBuffer();
  } catch (e) {
    throw new DocAnonError(ErrorCode.IMAGE, `cannot encode ${format}: ${(e as Error).message}`, { cause: e });
  }
}
