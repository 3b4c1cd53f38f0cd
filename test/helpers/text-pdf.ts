/**
 * A minimal PDF with real text (Helvetica, a text layer a PDF reader can extract), and optionally a
 * picture on the page (raw RGB, as a scan inside a PDF), for PDF input tests.
 */

/** A picture placed on a page: raw RGB pixels drawn at (x, y) (points from the bottom left), w x h points. */
export interface PdfPicture {
  rgb: Uint8Array;
  pixelWidth: number;
  pixelHeight: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One page per entry; each page shows its lines at 14 pt on a `width` x `height` pt page, and its pictures. */
export function textPdf(pages: string[][], width = 400, height = 200, pictures: PdfPicture[][] = []): Buffer {
  const objects: string[] = [];
  const pageIds: number[] = [];
  // 1 catalog, 2 pages, 3 font, then per page: page, contents, pictures.
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  let id = 4;
  pages.forEach((lines, p) => {
    const esc = (s: string): string => s.replace(/[\\()]/g, (c) => `\\${c}`);
    const pics = pictures[p] ?? [];
    const picIds = pics.map((_, k) => id + 2 + k);
    const draw = pics.map((pic, k) => `q ${pic.w} 0 0 ${pic.h} ${pic.x} ${pic.y} cm /Im${k} Do Q`).join(' ');
    const text = lines.length > 0 ? `BT /F1 14 Tf 20 ${height - 40} Td ${lines.map((l, i) => `${i ? '0 -24 Td ' : ''}(${esc(l)}) Tj`).join(' ')} ET` : '';
    const body = `${draw} ${text}`;
    const xobjects = pics.length > 0 ? ` /XObject << ${picIds.map((pid, k) => `/Im${k} ${pid} 0 R`).join(' ')} >>` : '';
    objects[id] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${width} ${height}] /Resources << /Font << /F1 3 0 R >>${xobjects} >> /Contents ${id + 1} 0 R >>`;
    objects[id + 1] = `<< /Length ${body.length} >>\nstream\n${body}\nendstream`;
    pics.forEach((pic, k) => {
      const data = Buffer.from(pic.rgb).toString('latin1');
      objects[picIds[k]] = `<< /Type /XObject /Subtype /Image /Width ${pic.pixelWidth} /Height ${pic.pixelHeight} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${data.length} >>\nstream\n${data}\nendstream`;
    });
    pageIds.push(id);
    id += 2 + pics.length;
  });
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((p) => `${p} 0 R`).join(' ')}] /Count ${pages.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  for (let i = 1; i < objects.length; i++) {
    offsets[i] = out.length;
    out += `${i} 0 obj\n${objects[i]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n${offsets.slice(1).map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
