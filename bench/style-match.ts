/**
 * Style match and coherent fakes, measured: generated pages whose every field's face, weight, size
 * and ink are known (`test/helpers/style-pages.ts`: statement, invoice, letter; GB, DE, US; every
 * bundled family; clean and scanned) go through detection (on the page's known words, as a perfect
 * OCR would read them) and the classic engine. Per region: the right family and weight, the size
 * and colour error, and the pixel similarity between the engine's replacement and the replacement
 * drawn in the original's true style on the same page (1 - normalised L1 of ink coverage). Per page:
 * the coherence of the fakes and the engine's time. The baseline is the engine before the style
 * match (`matchStyle: false`: DejaVu Sans sized from the cap height) and, for the fakes, the
 * independent per-value fakes (`fakes.coherent: false`), in the same run.
 * Prints tables; it does not pass or fail. Run: node -r ./bench/register-ts.js bench/style-match.ts
 * Env: STYLE_SEEDS (default 4 per layout, country and look), STYLE_SAMPLE=dir (writes a before/after sample).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { detectPii, type DetectedRegion } from '../src/detect/detect';
import { Replacer } from '../src/detect/fakes/replacer';
import { ClassicEngine } from '../src/inference/engines/classic';
import { decodeImage, encodeImage, type DecodedImage } from '../src/inference/image-io';
import { validateRegions } from '../src/inference/regions';
import { faceSpec, type BundledFontName } from '../src/render/fonts';
import { itemAt, renderStylePage, type StyleItem, type StylePage, type StylePageSpec } from '../test/helpers/style-pages';
import { coherenceChecks, type CoherenceResult } from '../test/helpers/coherence';

interface RegionScore {
  familyWeight: boolean;
  slant: boolean;
  sizeError: number;
  colorError: number;
  similarity: number;
}

const luma = (d: Uint8Array, i: number): number => 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];

/** 1 - normalised L1 distance of the ink coverage of two pages inside a box. */
function similarity(a: DecodedImage, b: DecodedImage, box: readonly number[], paper: number, ink: number): number {
  let diff = 0;
  let tot = 0;
  const c = a.channels;
  for (let y = Math.max(0, box[1] - 2); y < Math.min(a.height, box[3] + 2); y++) {
    for (let x = Math.max(0, box[0] - 2); x < Math.min(a.width, box[2] + 2); x++) {
      const i = (y * a.width + x) * c;
      const ca = Math.min(1, Math.max(0, (paper - luma(a.data, i)) / (paper - ink)));
      const cb = Math.min(1, Math.max(0, (paper - luma(b.data, i)) / (paper - ink)));
      diff += Math.abs(ca - cb);
      tot += ca + cb;
    }
  }
  return tot > 0 ? 1 - diff / tot : 1;
}

/** The page drawn with every region's replacement in the original's true style. */
async function idealPage(page: StylePage, regions: DetectedRegion[], items: number[]): Promise<DecodedImage> {
  const texts = new Map<number, string>();
  regions.forEach((r, k) => {
    const i = items[k];
    if (i < 0 || r.original === undefined) return;
    const cur = texts.get(i) ?? page.items[i].text;
    texts.set(i, cur.replace(r.original, r.replacement));
  });
  return decodeImage((await renderStylePage(page.spec, texts)).png);
}

async function runPage(spec: StylePageSpec, coherent: boolean, engines: Record<string, ClassicEngine>) {
  const page = await renderStylePage(spec);
  const image = await decodeImage(page.png);
  const replacer = new Replacer({ secret: `style-bench-secret-${spec.seed}-xx`, fakes: { coherent } });
  const regions = detectPii(page.ocr, {}, { replacer, includeOriginal: true });
  const items = regions.map((r) => itemAt(page, r.box));
  const coherence = coherenceChecks(page, regions, items);
  const out: Record<string, { scores: RegionScore[]; ms: number; image: DecodedImage }> = {};
  if (!coherent) return { page, regions, coherence, out };
  const ideal = await idealPage(page, regions, items);
  const paper = 0.299 * page.paper[0] + 0.587 * page.paper[1] + 0.114 * page.paper[2];
  for (const [name, engine] of Object.entries(engines)) {
    const valid = validateRegions(regions.map((r) => ({ box: r.box, replacement: r.replacement, original: r.original })), image);
    await engine.anonymize(image, valid.slice(0, 2)); // warm: fonts loaded, JIT
    const t0 = performance.now();
    const res = await engine.anonymize(image, valid);
    const ms = performance.now() - t0;
    const scores: RegionScore[] = [];
    res.reports.forEach((rep, k) => {
      const i = items[k];
      if (i < 0) return;
      const truth: StyleItem = page.items[i];
      const d = rep.details as { font: BundledFontName; fontSize: number; textColor: number[]; style?: { font: BundledFontName; drawnSize: number; color: number[] } };
      const face = faceSpec(d.style?.font ?? d.font);
      const size = d.style && d.style.font ? d.style.drawnSize : d.fontSize;
      const color = d.textColor;
      const ink = 0.299 * truth.color[0] + 0.587 * truth.color[1] + 0.114 * truth.color[2];
      scores.push({
        familyWeight: face.family === truth.family && face.weight === truth.weight,
        slant: face.style === truth.slant,
        sizeError: Math.abs(size - truth.size) / truth.size,
        colorError: Math.hypot(color[0] - truth.color[0], color[1] - truth.color[1], color[2] - truth.color[2]),
        similarity: similarity(res.image, ideal, regions[k].box, paper, ink),
      });
    });
    out[name] = { scores, ms, image: res.image };
  }
  return { page, regions, coherence, out };
}

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const mean = (v: number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
const quant = (v: number[], q: number): number => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))] : 0);

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => '| ' + r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const seeds = Number(process.env.STYLE_SEEDS ?? 4);
  const specs: StylePageSpec[] = [];
  for (const layout of ['statement', 'invoice', 'letter'] as const) {
    for (const country of ['GB', 'DE', 'US'] as const) {
      for (const scanned of [false, true]) for (let s = 0; s < seeds; s++) specs.push({ seed: s + 10 * specs.length, layout, country, scanned });
    }
  }
  const engines = { 'before (style match off)': new ClassicEngine({ matchStyle: false, seed: 1 }), 'style match': new ClassicEngine({ seed: 1 }) };
  const acc: Record<string, { clean: RegionScore[]; scanned: RegionScore[]; ms: number[]; regions: number[] }> = {};
  const coh: Record<string, CoherenceResult[]> = { coherent: [], independent: [] };
  const families = new Map<string, number>();
  let sample: Awaited<ReturnType<typeof runPage>> | undefined;
  for (const spec of specs) {
    const r = await runPage(spec, true, engines);
    coh.coherent.push(r.coherence);
    coh.independent.push((await runPage(spec, false, engines)).coherence);
    for (const it of r.page.items) if (it.kind) families.set(`${it.family} ${it.weight}${it.slant === 'italic' ? ' italic' : ''}`, (families.get(`${it.family} ${it.weight}${it.slant === 'italic' ? ' italic' : ''}`) ?? 0) + 1);
    for (const [name, o] of Object.entries(r.out)) {
      acc[name] ??= { clean: [], scanned: [], ms: [], regions: [] };
      acc[name][spec.scanned ? 'scanned' : 'clean'].push(...o.scores);
      acc[name].ms.push(o.ms);
      acc[name].regions.push(r.regions.length);
    }
    if (!sample && spec.layout === 'statement' && spec.scanned && spec.country === 'DE') sample = r;
  }
  console.log(`style match: ${specs.length} pages (3 layouts x GB/DE/US x clean/scanned x ${seeds} seeds), A4 at 150 dpi, node ${process.version}, ${require('node:os').cpus().length} cpus\n`);
  const rows: string[][] = [];
  for (const [name, a] of Object.entries(acc)) {
    for (const look of ['clean', 'scanned'] as const) {
      const s = a[look];
      rows.push([
        `${name}, ${look}`,
        String(s.length),
        pct(mean(s.map((x) => (x.familyWeight ? 1 : 0)))),
        pct(mean(s.map((x) => (x.slant ? 1 : 0)))),
        pct(mean(s.map((x) => x.sizeError))),
        pct(mean(s.map((x) => (x.sizeError <= 0.05 ? 1 : 0)))),
        mean(s.map((x) => x.colorError)).toFixed(1),
        mean(s.map((x) => x.similarity)).toFixed(3),
      ]);
    }
  }
  table(['engine, page look', 'regions', 'family+weight right', 'slant right', 'mean size error', 'size within 5%', 'mean colour error (RGB)', 'pixel similarity to true style'], rows);
  console.log('');
  table(
    ['engine', 'median engine ms per page', 'p90 ms', 'regions per page (median)'],
    Object.entries(acc).map(([name, a]) => [name, quant(a.ms, 0.5).toFixed(0), quant(a.ms, 0.9).toFixed(0), String(quant(a.regions, 0.5))]),
  );
  console.log('');
  const checks = Object.keys(coh.coherent[0].checks);
  table(
    ['coherence rule (pages where it applies: holds)', ...Object.keys(coh)],
    checks.map((c) => [
      c,
      ...Object.values(coh).map((list) => {
        const applies = list.filter((x) => x.checks[c] !== undefined);
        return `${applies.filter((x) => x.checks[c]).length}/${applies.length}`;
      }),
    ]),
  );
  console.log('\nfaces printed in sensitive fields (field count): ' + [...families.entries()].sort().map(([k, v]) => `${k} ${v}`).join(', '));
  if (process.env.STYLE_SAMPLE && sample) {
    const dir = process.env.STYLE_SAMPLE;
    fs.mkdirSync(dir, { recursive: true });
    // The holder's block, the account fields and the first rows of the table (JPEG: the scan's grain does not compress in PNG).
    const crop = { left: 80, top: 190, width: 1060, height: 560 };
    await sharp(sample.page.png).extract(crop).jpeg({ quality: 85 }).toFile(path.join(dir, 'style-sample-original.jpg'));
    for (const [name, o] of Object.entries(sample.out)) {
      const file = name.startsWith('before') ? 'style-sample-before.jpg' : 'style-sample-after.jpg';
      await sharp(await encodeImage(o.image)).extract(crop).jpeg({ quality: 85 }).toFile(path.join(dir, file));
    }
    console.log(`sample (${sample.page.spec.layout}, ${sample.page.spec.country}, scanned, seed ${sample.page.spec.seed}) written to ${dir}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
