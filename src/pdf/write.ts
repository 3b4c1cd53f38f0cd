/**
 * Writes a PDF whose pages are images and nothing else: no text layer, no fonts, no annotations,
 * no metadata (no /Info, no XMP). Each page is one RGB image (Flate, lossless) scaled to the page,
 * whose size in points follows the image's dpi. Small enough to write by hand, and owning it means
 * no dependency can slip in a text layer or a producer string.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DocAnonError, ErrorCode } from '../core/errors';

/** One page to write: RGB pixels and the resolution they were rendered at. */
export interface PdfImagePage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 3: RGB. */
  channels: 3;
  dpi: number;
}

function checkPages(pages: readonly PdfImagePage[]): void {
  if (pages.length === 0) throw new DocAnonError(ErrorCode.ARGUMENT, 'a PDF needs at least one page');
  pages.forEach((p, i) => {
    if (p.channels !== 3 || p.data.length !== p.width * p.height * 3 || !(p.dpi > 0)) {
      throw new DocAnonError(ErrorCode.ARGUMENT, `page ${i + 1}: expected ${p.width}x${p.height} RGB pixels with a positive dpi`);
    }
  });
}

const DEFLATE = { level: 6 };
const deflate = promisify(zlib.deflate);

/** Builds the PDF (version 1.4) from page images. */
export function writeImagePdf(pages: readonly PdfImagePage[]): Buffer {
  checkPages(pages);
  return assemble(pages, pages.map((p) => zlib.deflateSync(p.data, DEFLATE)));
}

/**
 * {@link writeImagePdf} with the pages compressed on libuv's thread pool: a server's event loop
 * stays free (a scanned page takes a second or more to deflate).
 */
export async function writeImagePdfAsync(pages: readonly PdfImagePage[]): Promise<Buffer> {
  checkPages(pages);
  return assemble(pages, await Promise.all(pages.map((p) => deflate(p.data, DEFLATE))));
}

function assemble(pages: readonly PdfImagePage[], compressed: readonly Buffer[]): Buffer {
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (b: Buffer): void => {
    chunks.push(b);
    size += b.length;
  };
  const object = (id: number, body: Buffer | string, stream?: Buffer): void => {
    offsets[id] = size;
    push(Buffer.from(`${id} 0 obj\n`, 'latin1'));
    push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
    if (stream) {
      push(Buffer.from('\nstream\n', 'latin1'));
      push(stream);
      push(Buffer.from('\nendstream', 'latin1'));
    }
    push(Buffer.from('\nendobj\n', 'latin1'));
  };
  // Binary marker comment: tells transfer tools the file is binary.
  push(Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
  // Objects: 1 catalog, 2 page tree, then per page i: page 3+3i, content 4+3i, image 5+3i.
  const kids = pages.map((_, i) => `${3 + 3 * i} 0 R`).join(' ');
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, `<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  pages.forEach((p, i) => {
    const w = (p.width * 72) / p.dpi;
    const h = (p.height * 72) / p.dpi;
    const fmt = (v: number): string => v.toFixed(3).replace(/\.?0+$/, '');
    const content = Buffer.from(`q ${fmt(w)} 0 0 ${fmt(h)} 0 0 cm /Im0 Do Q`, 'latin1');
    const pixels = compressed[i];
    const [page, contents, image] = [3 + 3 * i, 4 + 3 * i, 5 + 3 * i];
    object(page, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${fmt(w)} ${fmt(h)}] /Resources << /XObject << /Im0 ${image} 0 R >> >> /Contents ${contents} 0 R >>`);
    object(contents, `<< /Length ${content.length} >>`, content);
    object(image, `<< /Type /XObject /Subtype /Image /Width ${p.width} /Height ${p.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length ${pixels.length} >>`, pixels);
  });
  const count = 3 + 3 * pages.length;
  const xref = size;
  let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let id = 1; id < count; id++) table += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  push(Buffer.from(`${table}trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks, size);
}
