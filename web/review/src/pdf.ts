/**
 * PDF pages to canvases in the browser, with the pdf.js build shipped beside the page (vendor/):
 * nothing is fetched from anywhere else. Each page is drawn at exactly the pixel size the regions
 * document gives it (the server rendered it at the document's dpi), so boxes land where they belong.
 */

interface PdfViewport {
  width: number;
  height: number;
}
interface PdfPage {
  getViewport(o: { scale: number }): PdfViewport;
  render(o: { canvasContext: CanvasRenderingContext2D; viewport: PdfViewport; canvas?: HTMLCanvasElement }): { promise: Promise<void> };
}
interface PdfDocument {
  numPages: number;
  getPage(n: number): Promise<PdfPage>;
  destroy(): Promise<void>;
}
interface PdfJs {
  GlobalWorkerOptions: { workerSrc: string };
  getDocument(o: { data: Uint8Array; isEvalSupported: boolean; disableFontFace?: boolean }): { promise: Promise<PdfDocument> };
}

let lib: Promise<PdfJs> | undefined;

/** pdf.js, loaded on first use (an image never needs it). */
function pdfjs(): Promise<PdfJs> {
  lib ??= (import(new URL('./vendor/pdf.min.mjs', import.meta.url).href) as Promise<PdfJs>).then((m) => {
    m.GlobalWorkerOptions.workerSrc = new URL('./vendor/pdf.worker.min.mjs', import.meta.url).href;
    return m;
  });
  return lib;
}

/** Renders every page of a PDF; `size(i)` is page i's pixel size (default: 150 dpi). */
export async function renderPdf(bytes: ArrayBuffer, size?: (index: number) => { width: number; height: number } | undefined): Promise<HTMLCanvasElement[]> {
  const m = await pdfjs();
  const doc = await m.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false }).promise;
  try {
    const out: HTMLCanvasElement[] = [];
    for (let i = 1; i <= doc.numPages; i++) {
      const page = await doc.getPage(i);
      const unit = page.getViewport({ scale: 1 });
      const want = size?.(i - 1);
      const scale = want ? want.width / unit.width : 150 / 72;
      const viewport = page.getViewport({ scale });
      const canvas = document.createElement('canvas');
      canvas.width = want?.width ?? Math.floor(viewport.width);
      canvas.height = want?.height ?? Math.floor(viewport.height);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      await page.render({ canvasContext: ctx, viewport, canvas }).promise;
      out.push(canvas);
    }
    return out;
  } finally {
    await doc.destroy();
  }
}
