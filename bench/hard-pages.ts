/**
 * The hard-page suite as a benchmark: every case of test/helpers/hard-pages.ts (turned, skewed,
 * small print, faint, negative, noisy, blurred, photographed, two columns, coloured paper, table
 * grid, JPEG) over several seeds, through `Anonymizer.anonymize` (classic engine, automatic
 * detection, verification on). For each page: anonymized or refused (with its code), how many of
 * the six sensitive values an independent reading finds on the input and on the output
 * (tesseract.js with another model file and page segmentation, and Debian's `tesseract` command
 * when installed), and the time the reading and the verification took. A page anonymized with a
 * value still readable is a fail-open; the count must be 0. Then the cost of the new reading on an
 * upright A4 page at 200 dpi, against the plain OCR of the same page (the baseline), per stage.
 *
 * With `--languages eng,deu,fra` the pages are written (and read) in those languages, and a second
 * table gives, per language and entity type, the share of the six values that detection found.
 *
 *   node -r ./bench/register-ts.js bench/hard-pages.ts [--seeds N] [--cases name,name] [--languages eng,deu,fra] [--no-cli]
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { isDocAnonError } from '../src/core/errors';
import { detectPii } from '../src/detect/detect';
import { toGrey } from '../src/detect/ocr/image';
import { TesseractOcr } from '../src/detect/ocr/tesseract';
import { readPage } from '../src/detect/read/read-page';
import { Anonymizer } from '../src/inference/anonymizer';
import { HARD_PAGE_CASES, makeHardPage, type PageLanguage, squash } from '../test/helpers/hard-pages';
import { IndependentOcr, readableIn, tesseractCliAvailable } from '../test/helpers/independent-ocr';
import { generateDocument } from '../src/training/synthetic';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const seeds = Number(arg('seeds') ?? 2);
  const only = arg('cases')?.split(',');
  const languages = (arg('languages') ?? 'eng').split(',') as PageLanguage[];
  // Per language and value kind: values on pages that were read (not refused), and those detected.
  const recall = new Map<string, { found: number; total: number }>();
  const cli = !process.argv.includes('--no-cli') && tesseractCliAvailable();
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  console.log(`hard pages: ${seeds} seed(s) per case; cores: ${cores}; independent readers: tesseract.js sparse + block${cli ? ' + tesseract CLI (psm 3, 11)' : ''}`);
  let anonymized = 0;
  let refused = 0;
  let failOpen = 0;
  let total = 0;
  const readMs: number[] = [];
  const verifyMs: number[] = [];
  for (const language of languages) {
    const ocrLanguages = language === 'eng' ? ['eng'] : [language, 'eng'];
    const anonymizer = await Anonymizer.create({ engine: 'classic', detection: { ocr: { languages: ocrLanguages } } });
    const independent = await IndependentOcr.create(ocrLanguages);
    console.log(`\n== pages in ${language}`);
    console.log('case                         seed  outcome            input  output  read ms  verify ms  orient  scale');
    for (const [ci, c] of HARD_PAGE_CASES.entries()) {
      if (only && !only.includes(c.name)) continue;
      for (let s = 0; s < seeds; s++) {
        const seed = 1000 + ci * 17 + s * 101;
        const page = await makeHardPage(c, seed, language);
        const unturn = (360 - (c.degradation.turn ?? 0)) % 360;
        const values = Object.values(page.values);
        const before = await independent.read(page.image, unturn, cli);
        const readableBefore = values.filter((v) => before.some((r) => readableIn(r.text, v))).length;
        let outcome: string;
        let after = '-';
        let times = ['-', '-'];
        let orient = '-';
        let scale = '-';
        total++;
        try {
          const r = await anonymizer.anonymize(page.image, { includeOriginal: true });
          for (const [kind, value] of Object.entries(page.values)) {
            const key = `${language} ${kind}`;
            const cell = recall.get(key) ?? { found: 0, total: 0 };
            cell.total++;
            // Found: a detection's original holds the value (a name may be read as one region or two).
            if (r.detections!.some((d) => d.original !== undefined && squash(d.original).includes(squash(value)))) cell.found++;
            recall.set(key, cell);
          }
          const read = await independent.read(r.image, unturn, cli);
          const leaked = values.filter((v) => read.some((x) => readableIn(x.text, v)));
          after = String(leaked.length);
          if (!r.verified) throw new Error('a result without verification');
          if (leaked.length > 0) {
            failOpen++;
            outcome = `FAIL-OPEN (${leaked.length})`;
          } else {
            anonymized++;
            outcome = `anonymized (${r.reports.length})`;
          }
          const v = r.verification;
          times = [String(Math.round((r.stages.ocr ?? 0) + (r.stages.detect ?? 0))), String(Math.round(r.stages.verify ?? 0))];
          readMs.push((r.stages.ocr ?? 0) + (r.stages.detect ?? 0));
          verifyMs.push(r.stages.verify ?? 0);
          orient = String(r.reading?.orientation ?? '-');
          scale = String(r.reading?.scale ?? '-');
          if (v.status === 'verified' && v.rounds > 1) outcome += ` r${v.rounds}`;
        } catch (e) {
          if (!isDocAnonError(e)) throw e;
          refused++;
          outcome = `refused ${e.code}`;
        }
        const line = `${c.name.padEnd(28)} ${String(seed).padStart(5)}  ${outcome.padEnd(18)} ${`${readableBefore}/6`.padStart(5)}  ${after.padStart(6)}  ${times[0].padStart(7)}  ${times[1].padStart(9)}  ${orient.padStart(6)}  ${scale.padStart(5)}`;
        console.log(line);
      }
    }
    await independent.close();
    await anonymizer.close();
  }
  console.log(`\npages: ${total}; anonymized and verified: ${anonymized}; refused with a code: ${refused}; fail-open: ${failOpen}`);
  if (readMs.length > 0) console.log(`reading + detection per page: median ${median(readMs).toFixed(0)} ms; verification: median ${median(verifyMs).toFixed(0)} ms`);
  console.log('\ndetection on the pages read (not refused), per language and value: found / on the page');
  console.log(`kind      ${languages.map((l) => l.padStart(10)).join('')}`);
  for (const kind of ['name', 'iban', 'card', 'account', 'email', 'phone']) {
    const cells = languages.map((l) => recall.get(`${l} ${kind}`)).map((c) => (c ? `${c.found}/${c.total}` : '-').padStart(10));
    console.log(`${kind.padEnd(10)}${cells.join('')}`);
  }

  // The cost of the reading on an upright A4 page at 200 dpi: plain OCR (the baseline) vs readPage.
  const doc = await generateDocument({ seed: 7, kind: 'statement' });
  const ocr = new TesseractOcr();
  const grey = await toGrey(doc.png);
  const raw = { data: grey.data, width: grey.width, height: grey.height, channels: 1 as const };
  await ocr.recognize(raw);
  await ocr.detectOrientation(raw);
  const plain: number[] = [];
  const reading: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    detectPii(await ocr.recognize(raw));
    plain.push(performance.now() - t);
    t = performance.now();
    detectPii((await readPage(grey, {}, { ocr, timeoutMs: 60_000 })).upright);
    reading.push(performance.now() - t);
  }
  await ocr.close();
  console.log(`\nupright A4 at 200 dpi (${doc.width}x${doc.height}), OCR + detection, median of 3 (workers started):`);
  console.log(`  plain OCR (baseline, before this reading):  ${median(plain).toFixed(0)} ms`);
  console.log(`  reading (OSD, layout, cleanup, OCR):        ${median(reading).toFixed(0)} ms`);
  if (failOpen > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
